/**
 * A mistake the user can fix: a missing file, a bad flag value, a key of the wrong kind.
 * The CLI prints its message as one line on stderr and exits with {@link USAGE_EXIT};
 * the message says what is wrong and what to do, and never quotes key material.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Exit codes shared by every command (verify: valid, not valid, usage error). */
export const EXIT = {
  ok: 0,
  /** The answer is "no": the license is not valid, a quota was refused, a chain is broken. */
  no: 1,
  usage: 2,
  /** A store could not be reached (or is down): nothing was decided, try again later. */
  unavailable: 3,
  /** A bug or an environment failure the user cannot fix by changing the command line. */
  internal: 70,
} as const;

export const USAGE_EXIT = EXIT.usage;

/** Quotes a value from the command line for an error message, shortened when long. */
export function quote(value: string): string {
  const shown = value.length > 40 ? `${value.slice(0, 37)}...` : value;
  return JSON.stringify(shown);
}
