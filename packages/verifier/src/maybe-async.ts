/**
 * A value now, or a promise of it. The engine returns these where its own steps need not
 * wait (the backend and trust anchors once set up, a stateless verifier's decision): each
 * async step costs a promise and a turn of the microtask queue per token, ≈ 2 % of a CWT
 * verification (BENCHMARKS.md, issue 9).
 */
export type MaybePromise<T> = T | Promise<T>;

/** `next(value)` now when the value is there, after it settles otherwise. */
export function andThen<T, U>(
  value: MaybePromise<T>,
  next: (value: T) => MaybePromise<U>,
): MaybePromise<U> {
  return value instanceof Promise ? value.then(next) : next(value);
}
