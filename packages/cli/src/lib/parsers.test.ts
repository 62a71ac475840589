import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';
import { UsageError } from './errors.js';
import { parseFormat, parseLicenseFlags } from './license-flags.js';
import { parseCount } from './numbers.js';
import { parseQuota, parseQuotas } from './quota.js';
import { isoTime, parseTime } from './time.js';

const RUNS = { numRuns: 1_000 };

/** Runs `parse`; anything thrown must be a UsageError with a one-line message. */
function onlyUsageErrors(parse: () => unknown): void {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).not.toMatch(/\n/);
  }
}

/** Arbitrary strings, plus strings built from the characters the parsers care about. */
const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({
    unit: fc.constantFrom(...'0123456789smhdwTZ:-+=/.,e x_unlimitedmonthyear'.split('')),
    maxLength: 30,
  }),
);

describe('parseDuration', () => {
  it.each([
    ['30s', 30],
    ['15m', 900],
    ['12h', 43_200],
    ['7d', 604_800],
    ['2w', 1_209_600],
    ['1d12h', 129_600],
    [' 7d ', 604_800],
    ['0', 0],
  ])('%s is %i seconds', (text, seconds) => {
    expect(parseDuration(text, '--grace')).toBe(seconds);
  });

  it.each(['7', '', 'd', '-1d', '1.5d', '7D', '7 d', '7days', '1d 12h', '9999999999d'])(
    'refuses %j',
    (text) => {
      expect(() => parseDuration(text, '--grace')).toThrow(UsageError);
    },
  );

  it('asks for a unit for a bare number, naming the flag', () => {
    expect(() => parseDuration('7', '--grace')).toThrow(
      /--grace "7" needs a unit: 7s, 7m, 7h, 7d or 7w/,
    );
  });

  it('reads every count of every unit exactly', () => {
    const units = { s: 1, m: 60, h: 3_600, d: 86_400, w: 604_800 } as const;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 999_999_999 }),
        fc.constantFrom(...(Object.keys(units) as (keyof typeof units)[])),
        (count, unit) => {
          expect(parseDuration(`${count}${unit}`, '--grace')).toBe(count * units[unit]);
        },
      ),
      RUNS,
    );
  });

  it('reads back what formatDuration writes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 12 }), (seconds) => {
        expect(parseDuration(formatDuration(seconds).replaceAll(' ', ''), '--grace')).toBe(seconds);
      }),
      RUNS,
    );
  });

  it('never throws anything but a UsageError, and returns whole seconds', () => {
    fc.assert(
      fc.property(hostile, (text) =>
        onlyUsageErrors(() => {
          const seconds = parseDuration(text, '--grace');
          expect(Number.isSafeInteger(seconds) && seconds >= 0).toBe(true);
        }),
      ),
      RUNS,
    );
  });
});

describe('parseTime', () => {
  it.each([
    ['2026-01-01', 1_767_225_600],
    ['2026-01-01T00:00:00Z', 1_767_225_600],
    ['2026-01-01T00:00Z', 1_767_225_600],
    ['2026-01-01T02:00:00+02:00', 1_767_225_600],
    ['2025-12-31T19:00:00-0500', 1_767_225_600],
    ['2026-01-01T00:00:00.999Z', 1_767_225_600],
    ['2026-01-01 12:00', 1_767_268_800],
    ['2026-01-01T12:00:00', 1_767_268_800],
    ['1767225600', 1_767_225_600],
    ['0', 0],
    ['2024-02-29', 1_709_164_800],
  ])('%s is %i', (text, seconds) => {
    expect(parseTime(text, '--now')).toBe(seconds);
  });

  it.each([
    'yesterday',
    '',
    '2026-02-30',
    '2025-02-29',
    '2026-13-01',
    '2026-00-10',
    '2026-01-01T24:00:00Z',
    '2026-01-01T12:60Z',
    '2026-01-01T12:00:00+24:00',
    '1969-12-31',
    '1767225600000',
    '-5',
    '2026-1-1',
  ])('refuses %j', (text) => {
    expect(() => parseTime(text, '--now')).toThrow(UsageError);
  });

  it('reads +DURATION as that long after the clock', () => {
    const clock = () => 1_767_225_600_500;
    expect(parseTime('+33d', '--now', clock)).toBe(1_767_225_600 + 33 * 86_400);
    expect(parseTime('+1d12h', '--now', clock)).toBe(1_767_225_600 + 129_600);
    expect(() => parseTime('+', '--now', clock)).toThrow(UsageError);
    expect(() => parseTime('+33', '--now', clock)).toThrow(UsageError);
  });

  it('says when a number looks like milliseconds', () => {
    expect(() => parseTime('1767225600000', '--now')).toThrow(/looks like milliseconds/);
  });

  it('reads back every ISO time and every epoch second it prints', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253_402_300_799 }), (seconds) => {
        expect(parseTime(isoTime(seconds), '--now')).toBe(seconds);
        // Unix seconds from 10^11 on (the year 5138) read as milliseconds by mistake.
        if (seconds < 100_000_000_000) expect(parseTime(String(seconds), '--now')).toBe(seconds);
      }),
      RUNS,
    );
  });

  it('never throws anything but a UsageError, and returns a NumericDate', () => {
    fc.assert(
      fc.property(hostile, (text) =>
        onlyUsageErrors(() => {
          const seconds = parseTime(text, '--now');
          expect(Number.isSafeInteger(seconds) && seconds >= 0).toBe(true);
        }),
      ),
      RUNS,
    );
  });
});

describe('parseQuota', () => {
  it.each([
    ['exports=1000/month', 'exports', { limit: 1000, per: 'month' }],
    ['api.calls=50/day', 'api.calls', { limit: 50, per: 'day' }],
    ['storage=5000', 'storage', { limit: 5000 }],
    ['exports=unlimited', 'exports', { unlimited: true }],
    ['seats=3', 'seats', { limit: 3 }],
    ['exports=0/week', 'exports', { limit: 0, per: 'week' }],
  ])('%s', (text, name, spec) => {
    expect(parseQuota(text)).toEqual({ name, spec });
  });

  it.each([
    'exports',
    'exports=',
    '=5',
    'exports=lots',
    'exports=1000/fortnight',
    'exports=1000/',
    'exports=-1',
    'exports=1.5',
    'bad name=3',
    '_x=3',
    'seats=3/month',
    'exports=99999999999999999',
  ])('refuses %j', (text) => {
    expect(() => parseQuota(text)).toThrow(UsageError);
  });

  it('round-trips every valid quota', () => {
    const name = fc
      .stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,20}$/)
      .filter((n) => n !== 'seats');
    fc.assert(
      fc.property(
        name,
        fc.integer({ min: 0, max: 10 ** 12 }),
        fc.option(fc.constantFrom('day', 'week', 'month', 'year'), { nil: undefined }),
        (quota, limit, per) => {
          const text = per === undefined ? `${quota}=${limit}` : `${quota}=${limit}/${per}`;
          expect(parseQuota(text)).toEqual({
            name: quota,
            spec: per === undefined ? { limit } : { limit, per },
          });
        },
      ),
      RUNS,
    );
  });

  it('never throws anything but a UsageError', () => {
    fc.assert(
      fc.property(hostile, (text) => onlyUsageErrors(() => parseQuotas([text]))),
      RUNS,
    );
  });
});

describe('parseQuotas', () => {
  it('takes comma-separated lists and --seats', () => {
    expect(parseQuotas(['exports=1000/month,storage=5000', 'api=unlimited'], 3)).toEqual({
      exports: { limit: 1000, per: 'month' },
      storage: { limit: 5000 },
      api: { unlimited: true },
      seats: { limit: 3 },
    });
  });

  it('refuses a quota given twice', () => {
    expect(() => parseQuotas(['exports=1', 'exports=2'])).toThrow(/given twice/);
    expect(() => parseQuotas(['seats=2'], 3)).toThrow(/given twice/);
  });

  it('keeps names such as constructor as plain quotas', () => {
    const quotas = parseQuotas(['constructor=5']);
    expect(Object.keys(quotas)).toEqual(['constructor']);
    expect(quotas.constructor).toEqual({ limit: 5 });
  });
});

describe('parseCount and parseFormat', () => {
  it('reads whole numbers', () => {
    expect(parseCount(' 30 ', '--days')).toBe(30);
    expect(parseCount('0', '--seq', 0)).toBe(0);
  });

  it.each(['0', '-1', '1e3', '2.5', 'ten', ''])('refuses %j as --days', (text) => {
    expect(() => parseCount(text, '--days')).toThrow(UsageError);
  });

  it('never throws anything but a UsageError', () => {
    fc.assert(
      fc.property(hostile, (text) => onlyUsageErrors(() => parseCount(text, '--days'))),
      RUNS,
    );
  });

  it('knows the two formats', () => {
    expect(parseFormat('JWT')).toBe('jwt');
    expect(parseFormat('cwt')).toBe('cwt');
    expect(parseFormat(undefined)).toBeUndefined();
    expect(() => parseFormat('paseto')).toThrow(/cwt \(compact, the default\) or jwt/);
  });
});

describe('parseLicenseFlags', () => {
  it('types every flag it is given, and only those', () => {
    expect(
      parseLicenseFlags({
        product: 'photon',
        days: '14',
        grace: '7d',
        refreshAfter: '1d',
        quota: ['exports=1000/month'],
        seats: '3',
        feature: ['export-pdf,batch', 'batch'],
        trial: true,
        bind: 'x'.repeat(43).replace(/x$/, 'A'),
      }),
    ).toEqual({
      product: 'photon',
      termDays: 14,
      grace: 604_800,
      refreshAfter: 86_400,
      quota: { exports: { limit: 1000, per: 'month' }, seats: { limit: 3 } },
      features: ['export-pdf', 'batch'],
      access: 'trial',
      bind: `${'x'.repeat(42)}A`,
    });
    expect(parseLicenseFlags({})).toEqual({});
  });

  it('refuses --days with --exp, bad features and a bad thumbprint', () => {
    expect(() => parseLicenseFlags({ days: '3', exp: '2030-01-01' })).toThrow(/not both/);
    expect(() => parseLicenseFlags({ feature: ['no spaces'] })).toThrow(/--feature "no spaces"/);
    expect(() => parseLicenseFlags({ bind: 'abc' })).toThrow(
      /--bind "abc" is not a device key thumbprint/,
    );
    expect(() => parseLicenseFlags({ plan: '' })).toThrow(
      /--plan "" must be 1 to 128 printable characters/,
    );
  });
});
