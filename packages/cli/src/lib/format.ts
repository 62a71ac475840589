import { formatDuration } from './duration.js';
import { isoTime } from './time.js';

/** A human distance between two instants: "in 13d 4h", "2h 5m ago", "now". */
export function relative(targetSeconds: number, nowSeconds: number): string {
  const delta = targetSeconds - nowSeconds;
  if (delta === 0) return 'now';
  // Two units are enough for a person reading a summary.
  const text = formatDuration(Math.abs(delta)).split(' ').slice(0, 2).join(' ');
  return delta > 0 ? `in ${text}` : `${text} ago`;
}

/** An instant with its distance from now: "2026-01-15T00:00:00Z (in 13d 4h)". */
export function when(at: Date | number | null | undefined, nowSeconds: number): string {
  if (at === null || at === undefined) return '-';
  const seconds = typeof at === 'number' ? at : Math.floor(at.getTime() / 1000);
  return `${isoTime(seconds)} (${relative(seconds, nowSeconds)})`;
}

/** Label/value rows with the values aligned; rows with an undefined value are left out. */
export function table(
  rows: readonly (readonly [string, string | undefined])[],
  indent = '',
): string {
  const shown = rows.filter((row): row is readonly [string, string] => row[1] !== undefined);
  const width = Math.max(0, ...shown.map(([label]) => label.length));
  return shown.map(([label, value]) => `${indent}${label.padEnd(width)}  ${value}\n`).join('');
}

/** JSON for output: Dates as ISO strings, two-space indent, newline-terminated. */
export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
