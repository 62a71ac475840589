import { isIPv6 } from 'node:net';

/** A client past the limit: every key-authenticated request is refused until the wait ends. */
export class Blocked {
  constructor(
    /** Until the client's window lets it in again, on the limiter's clock. */
    readonly retryAfterMs: number,
  ) {}

  /** The wait as `Retry-After` (whole seconds), rounded up: a client that obeys it gets in. */
  get retryAfterSeconds(): number {
    return Math.ceil(this.retryAfterMs / 1000);
  }
}

/**
 * Where the failures of every instance meet (the key_guesses table): the truth the
 * limiter works from, so the limit holds across instances and restarts.
 */
export interface FailureLedger {
  /**
   * Records a failure of `client` at `at`, atomically against every other instance, and
   * answers the client's failures within the window ending at `at`: oldest first, at most
   * the newest `keep`.
   */
  record(client: string, at: Date, windowMs: number, keep: number): Promise<readonly Date[]>;
  /** Forgets clients whose failures have all left the window by `now` (bounded growth). */
  purge(now: Date): Promise<void>;
}

/** What a lookup answers: its result, and the client's failures as the ledger had them. */
export interface LookupResult<T> {
  /** undefined: nothing matched — a failure. */
  found: T | undefined;
  failures: readonly Date[];
}

export interface FailureLimiterOptions {
  ledger: FailureLedger;
  /** Failures per window. Default 10. */
  limit?: number;
  /** The sliding window, in ms. Default 60 000. */
  windowMs?: number;
  /** The clock (ms), the store's: the window is as testable as trials and periods. */
  now?: () => number;
  /** Told when the ledger cannot record or purge; the failure is then counted in memory. */
  onLedgerError?: (error: unknown) => void;
}

/** Clients remembered in memory at most (each entry is at most `limit` numbers). */
const MAX_CLIENTS = 100_000;

/**
 * Counts failed license-key lookups per client so that guessing keys is slow: once a
 * client has `limit` failures within the last `windowMs` (a sliding window), every
 * key-authenticated request of that client is answered 429 until the oldest of them
 * leaves the window.
 *
 * The failures live in the ledger (the database), shared by every instance and kept
 * across restarts. Each instance keeps a copy of what it last learnt about a client: a
 * client it knows to be blocked is refused without a database round trip, and the lookup
 * itself brings the client's ledger entry along (one statement), so a client blocked by
 * another instance is refused even with a valid key, and the hot path gains no query.
 *
 * Lookups under way count against the limit too: otherwise a burst of concurrent guesses
 * would all pass the check before the first failure is recorded (10 000 at once cost
 * thousands of lookups). Beyond the free slots a lookup waits for one to end, so a
 * legitimate burst is queued, never refused, and a guessing burst costs `limit` lookups
 * per instance. An instance's own failures in the window plus its lookups in flight never
 * exceed `limit` (the ledger's answer includes its own failures), so with N instances at
 * most `limit × N` lookups of one client are ever in flight and at most `limit × N` guesses
 * are answered per window — the worst case, when every instance starts its `limit`
 * lookups before any failure is recorded; once the ledger holds `limit` failures, every
 * later lookup on any instance is 429.
 */
export class FailureLimiter {
  readonly limit: number;
  readonly windowMs: number;
  private readonly ledger: FailureLedger;
  private readonly now: () => number;
  private readonly onLedgerError: (error: unknown) => void;
  /** Per client: its failures within the window as last learnt, oldest first (ms). */
  private readonly known = new Map<string, number[]>();
  private readonly pending = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();
  private nextPurge = Number.NEGATIVE_INFINITY;

  constructor(options: FailureLimiterOptions) {
    this.ledger = options.ledger;
    this.limit = options.limit ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.onLedgerError = options.onLedgerError ?? (() => undefined);
  }

  private recent(client: string): number[] {
    const cutoff = this.now() - this.windowMs;
    const times = (this.known.get(client) ?? []).filter((t) => t > cutoff);
    if (times.length === 0) this.known.delete(client);
    else this.known.set(client, times);
    return times;
  }

  /**
   * Takes in what the ledger (or this instance, when the ledger failed) says the client's
   * failures are. The larger count wins: the ledger's answer includes this instance's own
   * recorded failures, and a smaller one is either an older snapshot (a lookup that ran
   * before a record) or misses failures only counted here — neither may lower the count.
   */
  private learn(client: string, failures: readonly number[]): void {
    const cutoff = this.now() - this.windowMs;
    const times = failures
      .filter((t) => t > cutoff)
      .sort((a, b) => a - b)
      .slice(-this.limit);
    if (times.length === 0 || times.length < this.recent(client).length) return;
    this.known.set(client, times);
    // Bound memory under a flood of distinct clients: forget the oldest entries (the
    // ledger still has them; the next lookup brings them back).
    if (this.known.size > MAX_CLIENTS) {
      const oldest = this.known.keys().next().value as string;
      this.known.delete(oldest);
    }
  }

  /** Whether the client is blocked as far as this instance knows (no database access). */
  blocked(client: string): Blocked | undefined {
    const times = this.recent(client);
    if (times.length < this.limit) return undefined;
    return new Blocked(times[times.length - this.limit]! + this.windowMs - this.now());
  }

  /**
   * Runs `lookup` for `client` unless the client is blocked. A lookup that finds nothing
   * is a failure, recorded in the ledger; one that throws (the database is down) is not.
   * A lookup whose ledger entry shows the client blocked answers Blocked, even on a hit.
   */
  async run<T>(
    client: string,
    lookup: () => Promise<LookupResult<T>>,
  ): Promise<T | undefined | Blocked> {
    for (;;) {
      const blocked = this.blocked(client);
      if (blocked) return blocked;
      if (this.recent(client).length + (this.pending.get(client) ?? 0) < this.limit) break;
      await new Promise<void>((resolve) => {
        const queue = this.waiting.get(client) ?? [];
        queue.push(resolve);
        this.waiting.set(client, queue);
      });
    }
    this.pending.set(client, (this.pending.get(client) ?? 0) + 1);
    try {
      const { found, failures } = await lookup();
      this.learn(
        client,
        failures.map((at) => at.getTime()),
      );
      const blocked = this.blocked(client);
      if (blocked) return blocked;
      // Recorded before the slot is freed, so the next lookup starts from the new count.
      if (found === undefined) await this.fail(client);
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

  /**
   * Records a failure. A ledger that cannot record (the lookup just worked, so this is a
   * passing fault) must not turn a 404 into a 500 or lock anyone out: the failure is then
   * counted in this instance's memory only, which still limits the client here.
   */
  private async fail(client: string): Promise<void> {
    const at = this.now();
    // Counted here first, so that it is not lost whatever the ledger answers; the ledger's
    // answer (which includes it) then replaces the count unless it is smaller.
    this.learn(client, [...this.recent(client), at]);
    try {
      const failures = await this.ledger.record(client, new Date(at), this.windowMs, this.limit);
      this.learn(
        client,
        failures.map((time) => time.getTime()),
      );
    } catch (error) {
      this.onLedgerError(error);
      return;
    }
    await this.purgeWhenDue(at);
  }

  /**
   * Rows are only created by failures, so purging (at most once a window per instance) on
   * a failure bounds the table by the clients that failed within about two windows.
   */
  private async purgeWhenDue(at: number): Promise<void> {
    if (at < this.nextPurge) return;
    this.nextPurge = at + this.windowMs;
    try {
      await this.ledger.purge(new Date(at));
    } catch (error) {
      this.onLedgerError(error);
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
