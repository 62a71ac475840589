import { afterEach, describe, expect, test, vi } from 'vitest';

const setFlagsFromString = vi.fn();
vi.mock('node:v8', () => ({ setFlagsFromString }));

const { boundHeapGrowth } = await import('./heap-growth.js');

/**
 * The growing factor is a process-wide V8 flag: audits at once share it, and V8's own
 * sizing comes back only when the last one is done (a heap left on a fixed factor after an
 * audit would be every later command's).
 */
describe('boundHeapGrowth', () => {
  afterEach(() => {
    setFlagsFromString.mockClear();
    vi.unstubAllEnvs();
  });

  test('sets the factor once for overlapping audits and restores it after the last', () => {
    const first = boundHeapGrowth(20);
    const second = boundHeapGrowth(20);
    expect(setFlagsFromString.mock.calls).toEqual([['--heap-growing-percent=20']]);
    first();
    first();
    expect(setFlagsFromString).toHaveBeenCalledTimes(1);
    second();
    expect(setFlagsFromString.mock.calls.at(-1)).toEqual(['--heap-growing-percent=0']);
    expect(setFlagsFromString).toHaveBeenCalledTimes(2);
  });

  test("leaves the operator's own setting alone", () => {
    vi.stubEnv('NODE_OPTIONS', '--heap-growing-percent=50');
    boundHeapGrowth(20)();
    expect(setFlagsFromString).not.toHaveBeenCalled();
  });
});
