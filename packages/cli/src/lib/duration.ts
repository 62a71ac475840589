import { quote, UsageError } from './errors.js';

/** Seconds per unit of a duration flag: 30s, 15m, 12h, 7d, 2w (and sums such as 1d12h). */
const UNIT_SECONDS: Readonly<Record<string, number>> = {
  s: 1,
  m: 60,
  h: 3_600,
  d: 86_400,
  w: 604_800,
};

const DURATION = /^(?:\d{1,9}[smhdw])+$/;
const PART = /(\d{1,9})([smhdw])/g;

/**
 * Parses a duration flag (`--grace 7d`, `--refresh-after 12h`, `--next 1w`, `1d12h`) into
 * whole seconds. A bare number is refused rather than guessed: `--grace 7` could mean
 * seconds or days, and a wrong guess would ship in a signed license. `0` alone is allowed.
 *
 * @example parseDuration('7d', '--grace') // 604800
 * @throws UsageError naming the flag and the accepted forms
 */
export function parseDuration(text: string, flag: string): number {
  const value = text.trim();
  if (value === '0') return 0;
  if (!DURATION.test(value)) {
    const hint = /^\d+$/.test(value)
      ? ` needs a unit: ${value}s, ${value}m, ${value}h, ${value}d or ${value}w`
      : ' is not a duration';
    throw new UsageError(`${flag} ${quote(text)}${hint}; write e.g. 30s, 15m, 12h, 7d or 2w`);
  }
  let seconds = 0;
  for (const [, count, unit] of value.matchAll(PART)) {
    seconds += Number(count) * (UNIT_SECONDS[unit as string] as number);
  }
  if (!Number.isSafeInteger(seconds)) {
    throw new UsageError(`${flag} ${quote(text)} is too long; give at most a few centuries`);
  }
  return seconds;
}

/** Formats seconds as the largest exact units, e.g. 90000 → "1d 1h"; 0 → "0s". */
export function formatDuration(totalSeconds: number): string {
  if (totalSeconds === 0) return '0s';
  const parts: string[] = [];
  let rest = Math.abs(totalSeconds);
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${count}${unit}`);
    rest -= count * size;
  }
  return `${totalSeconds < 0 ? '-' : ''}${parts.join(' ')}`;
}
