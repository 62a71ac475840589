import { describe, expect, test } from 'vitest';
import type { FailureLedger, LookupResult } from './failure-limiter.js';
import { Blocked, clientKey, FailureLimiter } from './failure-limiter.js';

describe('clientKey', () => {
  test('IPv4 addresses are their own key, also when IPv4-mapped', () => {
    expect(clientKey('203.0.113.9')).toBe('203.0.113.9');
    expect(clientKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(clientKey('::FFFF:203.0.113.9')).toBe('203.0.113.9');
  });

  test('IPv6 addresses are keyed by their /64, however they are written', () => {
    const key = '2001:db8:1:2::/64';
    for (const address of [
      '2001:db8:1:2::1',
      '2001:0db8:0001:0002:ffff:ffff:ffff:ffff',
      '2001:DB8:1:2:0:0:0:0',
      '2001:db8:1:2::1.2.3.4',
      '2001:db8:1:2::7%eth0',
    ]) {
      expect(clientKey(address), address).toBe(key);
    }
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('2001:db8:1:3::1')).not.toBe(key);
  });

  test('anything else is kept as it is', () => {
    expect(clientKey('')).toBe('');
    expect(clientKey('not-an-address')).toBe('not-an-address');
  });
});

/**
 * The key_guesses table's semantics in memory (the SQL itself runs in
 * security/rate-limit.test.ts on both databases): a sliding log per client.
 */
class MemoryLedger implements FailureLedger {
  readonly rows = new Map<string, { failures: number[]; expiresAt: number }>();
  broken = false;
  purges = 0;

  async record(client: string, at: Date, windowMs: number, keep: number): Promise<Date[]> {
    if (this.broken) throw new Error('database down');
    const time = at.getTime();
    const row = this.rows.get(client);
    const failures = [...(row?.failures ?? []), time]
      .filter((t) => t > time - windowMs)
      .sort((a, b) => a - b)
      .slice(-keep);
    this.rows.set(client, {
      failures,
      expiresAt: Math.max(row?.expiresAt ?? 0, time + windowMs),
    });
    return this.entry(client);
  }

  async purge(now: Date): Promise<void> {
    if (this.broken) throw new Error('database down');
    this.purges++;
    for (const [client, row] of this.rows)
      if (row.expiresAt <= now.getTime()) this.rows.delete(client);
  }

  entry(client: string): Date[] {
    return (this.rows.get(client)?.failures ?? []).map((t) => new Date(t));
  }
}

const LIMIT = 10;
const WINDOW_MS = 60_000;

/** One store instance's limiter on a shared ledger and clock. */
function instance(ledger: MemoryLedger, clock: { now: number }, errors: unknown[] = []) {
  return new FailureLimiter({
    ledger,
    limit: LIMIT,
    windowMs: WINDOW_MS,
    now: () => clock.now,
    onLedgerError: (error) => errors.push(error),
  });
}

/** A lookup as license-auth makes it: the result plus the client's ledger entry. */
function lookup<T>(ledger: MemoryLedger, client: string, found: T | undefined) {
  return async (): Promise<LookupResult<T>> => ({ found, failures: ledger.entry(client) });
}

async function failTimes(limiter: FailureLimiter, ledger: MemoryLedger, client: string, n: number) {
  for (let i = 0; i < n; i++)
    expect(await limiter.run(client, lookup(ledger, client, undefined))).toBeUndefined();
}

describe('FailureLimiter.run', () => {
  test('a lookup that throws frees its slot and is not a failure', async () => {
    const ledger = new MemoryLedger();
    const limiter = new FailureLimiter({ ledger, limit: 1, now: () => 0 });
    await expect(limiter.run('a', () => Promise.reject(new Error('db down')))).rejects.toThrow();
    expect(limiter.blocked('a')).toBeUndefined();
    expect(ledger.rows.size).toBe(0);
    expect(await limiter.run('a', lookup(ledger, 'a', 'found'))).toBe('found');
    expect(await limiter.run('a', lookup(ledger, 'a', undefined))).toBeUndefined();
    expect(await limiter.run('a', lookup(ledger, 'a', 'found'))).toBeInstanceOf(Blocked);
  });

  test('the window slides: the wait ends when the oldest counted failure leaves it', async () => {
    const ledger = new MemoryLedger();
    const clock = { now: 1_000_000 };
    const limiter = instance(ledger, clock);
    await failTimes(limiter, ledger, 'a', 5);
    clock.now += 30_000;
    await failTimes(limiter, ledger, 'a', 5);
    expect(limiter.blocked('a')?.retryAfterMs).toBe(30_000);
    clock.now += 29_999;
    expect(limiter.blocked('a')?.retryAfterSeconds).toBe(1);
    clock.now += 1;
    // The first five have left the window: five more failures are allowed, not ten.
    expect(limiter.blocked('a')).toBeUndefined();
    await failTimes(limiter, ledger, 'a', 5);
    expect(limiter.blocked('a')?.retryAfterMs).toBe(30_000);
    expect(ledger.entry('a')).toHaveLength(LIMIT);
  });

  test('Retry-After seconds are rounded up', () => {
    expect(new Blocked(1).retryAfterSeconds).toBe(1);
    expect(new Blocked(59_001).retryAfterSeconds).toBe(60);
    expect(new Blocked(60_000).retryAfterSeconds).toBe(60);
  });

  test('failures on one instance block the client on another, even with a hit', async () => {
    const ledger = new MemoryLedger();
    const clock = { now: 0 };
    const one = instance(ledger, clock);
    const two = instance(ledger, clock);
    await failTimes(one, ledger, 'a', LIMIT - 1);
    // Nine failures elsewhere: the tenth on the other instance is still answered.
    await failTimes(two, ledger, 'a', 1);
    expect(one.blocked('a')).toBeUndefined();
    clock.now += 15_000;
    const answer = await one.run('a', lookup(ledger, 'a', 'valid license'));
    expect(answer).toBeInstanceOf(Blocked);
    expect((answer as Blocked).retryAfterSeconds).toBe(45);
    // Learnt: the next request is refused without a lookup.
    expect(one.blocked('a')?.retryAfterSeconds).toBe(45);
  });

  test('a new instance on the same ledger (a restart) knows nothing but is refused by it', async () => {
    const ledger = new MemoryLedger();
    const clock = { now: 0 };
    await failTimes(instance(ledger, clock), ledger, 'a', LIMIT);
    const restarted = instance(ledger, clock);
    expect(restarted.blocked('a')).toBeUndefined();
    expect(await restarted.run('a', lookup(ledger, 'a', 'valid license'))).toBeInstanceOf(Blocked);
    clock.now += WINDOW_MS;
    expect(await restarted.run('a', lookup(ledger, 'a', 'valid license'))).toBe('valid license');
  });

  test('a ledger that cannot record counts in memory: no error, no lockout beyond the limit', async () => {
    const ledger = new MemoryLedger();
    const errors: unknown[] = [];
    const limiter = instance(ledger, { now: 0 }, errors);
    ledger.broken = true;
    await failTimes(limiter, ledger, 'a', LIMIT - 1);
    expect(errors).toHaveLength(LIMIT - 1);
    expect(await limiter.run('b', lookup(ledger, 'b', 'found'))).toBe('found');
    expect(await limiter.run('a', lookup(ledger, 'a', 'found'))).toBe('found');
    // The ledger is back without those failures: its smaller count does not lower ours.
    ledger.broken = false;
    expect(await limiter.run('a', lookup(ledger, 'a', 'found'))).toBe('found');
    await failTimes(limiter, ledger, 'a', 1);
    expect(ledger.entry('a')).toHaveLength(1);
    expect(limiter.blocked('a')).toBeInstanceOf(Blocked);
    expect(await limiter.run('a', lookup(ledger, 'a', 'found'))).toBeInstanceOf(Blocked);
  });

  test('a concurrent burst costs at most limit lookups per instance', async () => {
    const ledger = new MemoryLedger();
    const clock = { now: 0 };
    const instances = [instance(ledger, clock), instance(ledger, clock), instance(ledger, clock)];
    const lookups = instances.map(() => 0);
    let inFlight = 0;
    let maxInFlight = 0;
    const answers = await Promise.all(
      Array.from({ length: 3_000 }, (_, i) =>
        instances[i % 3]!.run('a', async () => {
          lookups[i % 3]!++;
          maxInFlight = Math.max(maxInFlight, ++inFlight);
          const failures = ledger.entry('a');
          await new Promise((resolve) => setTimeout(resolve, 1));
          inFlight--;
          return { found: undefined, failures };
        }),
      ),
    );
    for (const count of lookups) expect(count).toBeLessThanOrEqual(LIMIT);
    expect(maxInFlight).toBeLessThanOrEqual(LIMIT * instances.length);
    const answered = answers.filter((answer) => answer === undefined).length;
    expect(answered).toBeGreaterThanOrEqual(LIMIT);
    expect(answered).toBeLessThanOrEqual(LIMIT * instances.length);
    for (const limiter of instances) expect(limiter.blocked('a')).toBeInstanceOf(Blocked);
  });

  test('expired clients are purged on a failure, at most once a window', async () => {
    const ledger = new MemoryLedger();
    const clock = { now: 0 };
    const limiter = instance(ledger, clock);
    await failTimes(limiter, ledger, 'old', 3);
    expect(ledger.purges).toBe(1);
    clock.now += WINDOW_MS;
    await failTimes(limiter, ledger, 'new', 2);
    expect(ledger.purges).toBe(2);
    expect([...ledger.rows.keys()]).toEqual(['new']);
  });
});
