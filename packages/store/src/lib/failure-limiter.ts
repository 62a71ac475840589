import { isIPv6 } from 'node:net';

/** What {@link FailureLimiter.run} answers instead of a result when the client is blocked. */
export const BLOCKED = Symbol('blocked');

/**
 * Counts failed license-key lookups per client so that guessing keys is slow: after
 * `limit` failures within `windowMs`, every key-authenticated request of that client is
 * answered 429 until the window has passed. In memory, per instance (several instances
 * each apply the limit: an attacker gains at most a factor of the instance count).
 *
 * Lookups under way count against the limit too: otherwise a burst of concurrent guesses
 * would all pass the check before the first failure is recorded (10 000 at once cost
 * thousands of lookups). Beyond the free slots a lookup waits for one to end, so a
 * legitimate burst is queued, never refused, and a guessing burst costs `limit` lookups.
 */
export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly pending = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(
    private readonly limit = 10,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  private recent(client: string): number[] {
    const cutoff = this.now() - this.windowMs;
    const times = (this.failures.get(client) ?? []).filter((t) => t > cutoff);
    if (times.length === 0) this.failures.delete(client);
    else this.failures.set(client, times);
    return times;
  }

  isBlocked(client: string): boolean {
    return this.recent(client).length >= this.limit;
  }

  fail(client: string): void {
    const times = this.recent(client);
    times.push(this.now());
    this.failures.set(client, times);
    // Bound memory under a flood of distinct clients: forget the oldest entries.
    if (this.failures.size > 100_000) {
      const oldest = this.failures.keys().next().value as string;
      this.failures.delete(oldest);
    }
  }

  /**
   * Runs `lookup` for `client` unless the client is blocked. A lookup that finds nothing
   * (undefined) is a failure; one that throws (the database is down) is not.
   */
  async run<T>(
    client: string,
    lookup: () => Promise<T | undefined>,
  ): Promise<T | undefined | typeof BLOCKED> {
    for (;;) {
      const failures = this.recent(client).length;
      if (failures >= this.limit) return BLOCKED;
      if (failures + (this.pending.get(client) ?? 0) < this.limit) break;
      await new Promise<void>((resolve) => {
        const queue = this.waiting.get(client) ?? [];
        queue.push(resolve);
        this.waiting.set(client, queue);
      });
    }
    this.pending.set(client, (this.pending.get(client) ?? 0) + 1);
    try {
      const found = await lookup();
      if (found === undefined) this.fail(client);
      return found;
    } finally {
      const left = (this.pending.get(client) ?? 1) - 1;
      if (left === 0) this.pending.delete(client);
      else this.pending.set(client, left);
      const queue = this.waiting.get(client);
      this.waiting.delete(client);
      for (const wake of queue ?? []) wake();
    }
  }
}

/**
 * The unit a limit applies to: an IPv4 address (also when IPv4-mapped), or the /64 of an
 * IPv6 address — a single host is routinely given a whole /64 and may use any of its
 * 2^64 addresses, so limiting per address would not limit it at all.
 */
export function clientKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  const bare = address.split('%')[0]!;
  if (!isIPv6(bare)) return address;
  const [head = '', tail] = bare.toLowerCase().split('::');
  const groups = head === '' ? [] : head.split(':');
  if (tail !== undefined) {
    // An embedded IPv4 address (last 32 bits) takes the place of two groups.
    const tailGroups =
      tail === '' ? [] : tail.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g]));
    groups.push(...Array<string>(8 - groups.length - tailGroups.length).fill('0'), ...tailGroups);
  }
  return `${groups
    .slice(0, 4)
    .map((group) => Number.parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}
