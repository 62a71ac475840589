import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ConfigurationError, loadConfig } from './config.js';
import { shiftedClock } from './lib/clock.js';

const DEV = {};
const AT = Date.UTC(2026, 2, 1, 12);

describe('a pretend clock (serve --now): development and tests only', () => {
  test('absent: the real clock', () => {
    expect(loadConfig({}, DEV).now).toBeUndefined();
  });

  test('on loopback outside production: the instant the clock starts at', () => {
    expect(loadConfig({ now: AT }, DEV).now).toBe(AT);
    expect(loadConfig({ now: AT, host: '::1' }, DEV).now).toBe(AT);
  });

  test('refused in production, with the reason and what to do', () => {
    expect(() => loadConfig({ now: AT }, { NODE_ENV: 'production' })).toThrow(ConfigurationError);
    expect(() => loadConfig({ now: AT }, { NODE_ENV: 'production' })).toThrow(
      /development and tests only.*remove --now/,
    );
  });

  test('refused on a store others can reach', () => {
    expect(() => loadConfig({ now: AT, host: '0.0.0.0' }, DEV)).toThrow(
      /only for a store on loopback.*listens on 0\.0\.0\.0/,
    );
  });

  test('refused for an instant that is not whole milliseconds after 1970', () => {
    for (const now of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => loadConfig({ now }, DEV)).toThrow(ConfigurationError);
    }
  });

  test('the shifted clock starts at the instant and then runs in real time', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4e12 }),
        fc.integer({ min: 0, max: 4e12 }),
        fc.array(fc.integer({ min: 0, max: 1e9 }), { maxLength: 8 }),
        (start, real, steps) => {
          let realNow = real;
          const clock = shiftedClock(start, () => realNow);
          expect(clock.now().getTime()).toBe(start);
          for (const step of steps) {
            realNow += step;
            expect(clock.now().getTime()).toBe(start + (realNow - real));
          }
        },
      ),
    );
  });
});
