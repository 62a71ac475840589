/**
 * A value now, or a promise of it. The verify path returns these where its work is
 * usually synchronous (a known key, node:crypto's verify, a stateless verifier): each
 * async step costs a promise and a turn of the microtask queue per token, which was a
 * measurable part of a CWT verification (BENCHMARKS.md, issue 9).
 */
export type MaybePromise<T> = T | Promise<T>;

/** `next(value)` now when the value is there, after it settles otherwise. */
export function andThen<T, U>(
  value: MaybePromise<T>,
  next: (value: T) => MaybePromise<U>,
): MaybePromise<U> {
  return value instanceof Promise ? value.then(next) : next(value);
}
