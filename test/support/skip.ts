/**
 * Skipped tests say why, once, at the end of the run: a test file that skips (no Chromium,
 * no PostgreSQL, no Deno …) calls `skipping(what, reason)`, which writes one marked line;
 * test/support/skip-reporter.ts collects those lines (and the notes of `context.skip(note)`)
 * and prints them together after the summary. vitest.config.ts hides the marked lines where
 * they happen, so each reason shows up once, not once per worker in the middle of the run.
 */

/** The mark of a skip line (vitest.config.ts filters it, the reporter reads it). */
export const SKIP_MARK = '[licensekit:skip] ';

/**
 * Notes that `what` is skipped for `reason` (nothing when `reason` is undefined), and
 * returns whether it is skipped, for `describe.skipIf(skipping(…))`.
 */
export function skipping(what: string, reason: string | undefined): boolean {
  if (reason === undefined) return false;
  console.warn(`${SKIP_MARK}${what}: ${reason}`);
  return true;
}

/** The skip line's text without its mark, or undefined for any other console line. */
export function skipLine(content: string): string | undefined {
  return content.startsWith(SKIP_MARK) ? content.slice(SKIP_MARK.length).trim() : undefined;
}
