/**
 * Counts failed license-key lookups per client so that guessing keys is slow: after
 * `limit` failures within `windowMs`, every key-authenticated request of that client is
 * answered 429 until the window has passed. In memory, per instance (several instances
 * each apply the limit: an attacker gains at most a factor of the instance count).
 */
export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();

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
}
