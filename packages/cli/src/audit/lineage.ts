/**
 * Lineage checks, per license, in log order: `seq` 0, 1, 2, … with no gap, no repeat (two
 * tokens with one (sub, seq) is equivocation) and no reordering; `prev` the hash of the
 * previous token's bytes; `iat` and `nbf` never going back, and `iat` the time the store
 * logged the token (issuing and logging are one transaction); the license known to the
 * store and not revoked; and every raise of plan, seats, quota, entitlement or access
 * justified by a paid order or by the pending change the previous token announced, with
 * the order's amount recomputed.
 *
 * Per license the state is the previous token's terms and a gap tracker: small, and it
 * does not grow with the number of tokens of the license. With a state for every license
 * of the store held to the end, its size is the audit's memory: the terms share one copy of
 * each plan's entitlements and quotas (licenses on one plan have the same), strings are
 * interned, and orders mark themselves used (records.ts) instead of a set per license.
 */
import type { LicenseClaims, PendingChange, QuotaSpec } from '@licensekit/core';
import { isoTime } from '../lib/time.js';
import { changeCharge, purchaseCharge } from './charges.js';
import type { Findings } from './findings.js';
import { GapTracker, rangeText } from './gaps.js';
import {
  Interner,
  type LicenseRecord,
  type OrderRecord,
  type PlanTerms,
  planKey,
  type StoreRecords,
} from './records.js';

/** How far iat may be from the time the store logged the token, seconds. */
export const LOGGING_TOLERANCE = 300;
/** Order times and token times are both read from the store's clock; allow one second. */
const CLOCK_SLACK = 1;

/** The terms of a token that the next one is compared with. */
interface Terms {
  readonly seq: number;
  readonly hash: string;
  readonly index: number;
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number | undefined;
  readonly plan: string;
  readonly access: string;
  readonly ent: readonly string[];
  readonly quota: Readonly<Record<string, QuotaSpec>>;
  readonly anchor: number | undefined;
  readonly chg: PendingChange | undefined;
  /** The end of the certificate it was signed under: exp may have been capped there. */
  readonly certificateEnd: number | undefined;
}

const NO_NAMES: readonly string[] = Object.freeze([]);
const NO_QUOTA: Readonly<Record<string, QuotaSpec>> = Object.freeze({});

/**
 * A license's state: its seq tracker, and the terms of its newest token once it has one,
 * in one object (there is one per license for the whole audit).
 */
class LicenseState extends GapTracker implements Terms {
  readonly iss: string;
  readonly aud: string;
  reportedUnknown = false;
  seq = 0;
  hash = '';
  index = 0;
  iat = 0;
  nbf = 0;
  exp: number | undefined = undefined;
  plan = '';
  access = '';
  ent: readonly string[] = NO_NAMES;
  quota: Readonly<Record<string, QuotaSpec>> = NO_QUOTA;
  anchor: number | undefined = undefined;
  chg: PendingChange | undefined = undefined;
  certificateEnd: number | undefined = undefined;

  constructor(iss: string, aud: string) {
    super();
    this.iss = iss;
    this.aud = aud;
  }

  /** Whether the fields hold a token's terms (a token hash is never empty). */
  get hasTerms(): boolean {
    return this.hash !== '';
  }
}

/** What the timeline shows for a token. */
export interface TokenEvent {
  readonly license: string;
  readonly seq: number;
  readonly index: number;
  readonly iat: number;
  readonly exp: number | undefined;
  readonly plan: string;
  readonly seats: number | undefined;
  /** "purchase", "refresh", "upgrade (ord_…)", "downgrade due", … */
  readonly change: string;
}

export interface TokenInput {
  readonly index: number;
  readonly hash: string;
  readonly loggedAt: number | undefined;
  readonly claims: LicenseClaims;
  readonly certificateEnd: number | undefined;
  /** The revocation list in force lists the license. */
  readonly revokedByList: { readonly index: number; readonly seq: number } | undefined;
}

function seatsOf(quota: Readonly<Record<string, QuotaSpec>>): number | undefined {
  const seats = quota.seats;
  return seats !== undefined && 'limit' in seats ? seats.limit : undefined;
}

function quotaText(spec: QuotaSpec): string {
  if ('unlimited' in spec) return 'unlimited';
  return spec.per === undefined ? String(spec.limit) : `${spec.limit}/${spec.per}`;
}

/** What token `next` grants that `previous` did not: empty when nothing is raised. */
function raises(previous: Terms, next: LicenseClaims): string[] {
  const raised: string[] = [];
  if (next.plan !== previous.plan) raised.push(`plan ${previous.plan} → ${next.plan}`);
  if (previous.access === 'trial' && next.access === 'full') raised.push('access trial → full');
  const added = next.ent.filter((name) => !previous.ent.includes(name));
  if (added.length > 0) raised.push(`entitlements +${added.join(', +')}`);
  for (const [name, spec] of Object.entries(next.quota)) {
    const before = previous.quota[name];
    if (before === undefined) {
      raised.push(`quota ${name} added (${quotaText(spec)})`);
      continue;
    }
    if ('unlimited' in before) continue;
    const more = 'unlimited' in spec || spec.per !== before.per || spec.limit > before.limit;
    if (more) raised.push(`quota ${name} ${quotaText(before)} → ${quotaText(spec)}`);
  }
  return raised;
}

function sameTerms(plan: PlanTerms, claims: LicenseClaims): boolean {
  const entitlements = [...plan.entitlements].sort().join(',');
  const quotas = (quota: Readonly<Record<string, QuotaSpec>>) =>
    JSON.stringify(
      Object.entries(quota)
        .filter(([name]) => name !== 'seats')
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, spec]) => [name, quotaText(spec)]),
    );
  return (
    entitlements === [...claims.ent].sort().join(',') &&
    quotas(plan.quotas) === quotas(claims.quota)
  );
}

const BUYING: ReadonlySet<string> = new Set(['purchase', 'trial', 'upgrade', 'seats', 'renewal']);

export class Lineage {
  readonly #findings: Findings;
  readonly #records: StoreRecords;
  /** States of licenses the store's records lack (the others are on their records). */
  readonly #unknown = new Map<string, LicenseState>();
  #licenseCount = 0;
  readonly #onToken: ((event: TokenEvent) => void) | undefined;
  readonly #strings = new Interner();
  /** One copy of each distinct entitlement list and quota set, by content. */
  readonly #shared = new Map<string, readonly string[] | Readonly<Record<string, QuotaSpec>>>();
  #tokens = 0;

  constructor(findings: Findings, records: StoreRecords, onToken?: (event: TokenEvent) => void) {
    this.#findings = findings;
    this.#records = records;
    this.#onToken = onToken;
  }

  get licenseCount(): number {
    return this.#licenseCount;
  }

  get tokenCount(): number {
    return this.#tokens;
  }

  #ordersOf(license: string): readonly OrderRecord[] {
    return this.#records.ordersOf(license);
  }

  #plan(product: string, plan: string): PlanTerms | undefined {
    return this.#records.plans.get(planKey(product, plan));
  }

  /** Paid orders of a license settled within [from, to], seconds. */
  #paidBetween(license: string, from: number, to: number): OrderRecord[] {
    return this.#ordersOf(license).filter(
      (order) =>
        order.paidAt !== undefined &&
        order.paidAt >= from - CLOCK_SLACK &&
        order.paidAt <= to + CLOCK_SLACK,
    );
  }

  token(input: TokenInput): void {
    const { claims, index } = input;
    const license = claims.sub;
    const place = { license, index };
    this.#tokens += 1;
    const record = this.#records.licenses?.get(license);
    let state =
      record === undefined
        ? this.#unknown.get(license)
        : (record.lineage as LicenseState | undefined);
    if (state === undefined) {
      state = new LicenseState(this.#strings.of(claims.iss), this.#strings.of(claims.aud));
      if (record === undefined) this.#unknown.set(license, state);
      else record.lineage = state;
      this.#licenseCount += 1;
    }
    if (this.#records.licenses !== undefined && record === undefined && !state.reportedUnknown) {
      state.reportedUnknown = true;
      this.#findings.add(
        'lineage.unknown_license',
        `tokens of license ${license} are in the log, but the store has no such license`,
        place,
      );
    }
    if (claims.iss !== state.iss || claims.aud !== state.aud) {
      this.#findings.add(
        'lineage.product_mismatch',
        `seq ${claims.seq} is for ${claims.iss}/${claims.aud}, earlier tokens for ${state.iss}/${state.aud}`,
        place,
      );
    } else if (record !== undefined && record.productId !== claims.aud) {
      this.#findings.add(
        'lineage.product_mismatch',
        `seq ${claims.seq} is for product ${claims.aud}, the license is for ${record.productId}`,
        place,
      );
    }
    if (record !== undefined && claims.seq > record.seq) {
      this.#findings.add(
        'lineage.seq_beyond_store',
        `seq ${claims.seq} is above seq ${record.seq}, the newest token the store recorded for the license`,
        place,
      );
    }
    if (input.loggedAt !== undefined && Math.abs(claims.iat - input.loggedAt) > LOGGING_TOLERANCE) {
      const early = claims.iat < input.loggedAt;
      this.#findings.add(
        'lineage.backdated',
        `seq ${claims.seq} says it was issued ${isoTime(claims.iat)}, but the store logged it ${isoTime(input.loggedAt)}: ${early ? 'backdated' : 'postdated'} by ${Math.abs(claims.iat - input.loggedAt)} s`,
        place,
      );
    }
    this.#revoked(input, record?.revokedAt);

    const seen = state.observe(claims.seq);
    if (seen === 'repeat') {
      this.#findings.add(
        'lineage.equivocation',
        `a second token with seq ${claims.seq} (jti ${claims.jti}): two different tokens claim the same place in the lineage`,
        place,
      );
      this.#event(input, 'equivocation');
      return;
    }
    if (seen === 'filled') {
      this.#findings.add(
        'lineage.out_of_order',
        `seq ${claims.seq} is logged after seq ${state.highest}`,
        place,
      );
      this.#event(input, 'out of order');
      return;
    }
    const previous = state.hasTerms ? state : undefined;
    let change: string;
    if (previous === undefined) {
      change = this.#first(input, record);
    } else {
      if (seen === 'next' && claims.prev !== previous.hash) {
        this.#findings.add(
          'lineage.prev_mismatch',
          `seq ${claims.seq} has prev ${claims.prev ?? '(none)'}, but seq ${previous.seq} (index ${previous.index}) hashes to ${previous.hash}`,
          place,
        );
      }
      if (claims.iat < previous.iat || claims.nbf < previous.nbf) {
        const which = claims.iat < previous.iat ? 'iat' : 'nbf';
        this.#findings.add(
          'lineage.time_regressed',
          `seq ${claims.seq} has ${which} ${isoTime(claims[which])}, before seq ${previous.seq}'s ${isoTime(previous[which])}`,
          place,
        );
      }
      change = this.#compare(input, previous, record);
    }
    // The newest terms, in place (compared above with the ones they replace).
    state.seq = claims.seq;
    state.hash = input.hash;
    state.index = index;
    state.iat = claims.iat;
    state.nbf = claims.nbf;
    state.exp = claims.exp;
    state.plan = this.#strings.of(claims.plan);
    state.access = this.#strings.of(claims.access);
    state.ent = this.#share(JSON.stringify(claims.ent), claims.ent);
    state.quota = this.#share(JSON.stringify(claims.quota), claims.quota);
    state.anchor = claims.anchor;
    state.chg = claims.chg;
    state.certificateEnd = input.certificateEnd;
    if (record !== undefined) this.#dropUsedUp(record, claims.iat);
    this.#event(input, change);
  }

  /**
   * Forgets the orders of a license paid before `iat` (less the clock slack): the next
   * token looks for orders paid since this one's iat, and only a first token looks further
   * back. Orders are most of what an audit holds per license; once every token of a
   * license is checked, its orders are gone and memory is the lineage state alone.
   */
  #dropUsedUp(record: LicenseRecord, iat: number): void {
    const orders = record.orders;
    if (orders === undefined) return;
    const live = (order: OrderRecord) =>
      order.paidAt !== undefined && order.paidAt >= iat - CLOCK_SLACK;
    if (orders.every(live)) return;
    const kept = orders.filter(live);
    record.orders = kept.length === 0 ? undefined : kept;
  }

  /** The first value seen with this content (the key says what the content is). */
  #share<T extends readonly string[] | Readonly<Record<string, QuotaSpec>>>(
    key: string,
    value: T,
  ): T {
    const known = this.#shared.get(key);
    if (known !== undefined) return known as T;
    // Bounded: a store has a handful of plans; beyond the cap a value is kept as it is.
    if (this.#shared.size < 10_000) this.#shared.set(key, value);
    return value;
  }

  #event(input: TokenInput, change: string): void {
    const { claims } = input;
    this.#onToken?.({
      license: claims.sub,
      seq: claims.seq,
      index: input.index,
      iat: claims.iat,
      exp: claims.exp,
      plan: claims.plan,
      seats: seatsOf(claims.quota),
      change,
    });
  }

  #revoked(input: TokenInput, revokedAt: number | undefined): void {
    const { claims } = input;
    const place = { license: claims.sub, index: input.index };
    if (revokedAt !== undefined && claims.iat > revokedAt + CLOCK_SLACK) {
      this.#findings.add(
        'lineage.revoked_license',
        `seq ${claims.seq} was issued ${isoTime(claims.iat)}, after the license was revoked ${isoTime(revokedAt)}`,
        place,
      );
    } else if (input.revokedByList !== undefined) {
      this.#findings.add(
        'lineage.revoked_license',
        `seq ${claims.seq} is logged after the revocation list at index ${input.revokedByList.index} (seq ${input.revokedByList.seq}) revoked the license`,
        place,
      );
    }
  }

  /** The first token: a paid purchase (or trial) must come with it, at the right price. */
  #first(input: TokenInput, record: { productId: string } | undefined): string {
    const { claims } = input;
    const place = { license: claims.sub, index: input.index };
    if (!this.#records.hasOrders) return 'first token';
    const purchase = this.#ordersOf(claims.sub).find(
      (order) =>
        (order.kind === 'purchase' || order.kind === 'trial') &&
        order.paidAt !== undefined &&
        order.paidAt <= claims.iat + CLOCK_SLACK,
    );
    if (purchase === undefined) {
      this.#findings.add(
        'lineage.no_purchase',
        `seq ${claims.seq} (${claims.plan}) has no paid purchase or trial order before it`,
        place,
      );
      return 'issued without a purchase';
    }
    purchase.justified = true;
    const plan = this.#plan(record?.productId ?? claims.aud, purchase.planId);
    if (plan === undefined) {
      this.#unverified(purchase, claims.sub, input.index, purchase.planId);
    } else {
      this.#matchCharge(purchase, purchaseCharge(purchase, plan), claims.sub, input.index);
    }
    return `${purchase.kind} (${purchase.id})`;
  }

  #unverified(order: OrderRecord, license: string, index: number, plan: string): void {
    this.#findings.add(
      'charge.unverified',
      `order ${order.id} (${order.kind}, ${order.amount} ${order.currency}): plan ${plan} is not in the catalogue`,
      { license, index },
    );
  }

  #matchCharge(order: OrderRecord, expected: number, license: string, index: number): void {
    if (expected === order.amount) return;
    this.#findings.add(
      'charge.mismatch',
      `order ${order.id} (${order.kind}) charged ${order.amount} ${order.currency}; the plans give ${expected}`,
      { license, index },
    );
  }

  /** A token after the first: raised terms need a reason, a longer term a payment. */
  #compare(
    input: TokenInput,
    previous: Terms,
    record: { productId: string; anchor: number | undefined } | undefined,
  ): string {
    const { claims } = input;
    const license = claims.sub;
    const place = { license, index: input.index };
    const product = record?.productId ?? claims.aud;
    const orders = this.#paidBetween(license, previous.iat, claims.iat);
    const raised = raises(previous, claims);
    let change =
      claims.plan === previous.plan ? 'refresh' : `plan ${previous.plan} → ${claims.plan}`;
    if (raised.length > 0 && this.#records.hasOrders) {
      const seats = seatsOf(claims.quota);
      const order = orders.find(
        (candidate) =>
          !candidate.justified &&
          BUYING.has(candidate.kind) &&
          candidate.planId === claims.plan &&
          (seats === undefined || candidate.seats === seats),
      );
      const announced = previous.chg !== undefined && this.#announced(previous.chg, claims);
      if (order !== undefined) {
        order.justified = true;
        change = `${order.kind} (${order.id})`;
        this.#checkChangeCharge(order, previous, claims, product, record?.anchor, input.index);
      } else if (announced) {
        change = `${previous.chg!.kind} due`;
      } else {
        const plan = this.#plan(product, claims.plan);
        const edited =
          claims.plan === previous.plan && plan !== undefined && sameTerms(plan, claims);
        this.#findings.add(
          edited ? 'lineage.catalogue_change' : 'lineage.unjustified_increase',
          `seq ${claims.seq} raises ${raised.join('; ')} without ${edited ? 'an order (the plan in the catalogue grants it now: was it edited?)' : 'a paid order or a pending change announcing it'}`,
          place,
        );
        change = `raised: ${raised.join('; ')}`;
      }
    } else if (claims.chg !== undefined && previous.chg === undefined) {
      change = `${claims.chg.kind} scheduled for ${isoTime(claims.chg.at)}`;
    }
    this.#checkTerm(input, previous, orders, product);
    return change;
  }

  /** The previous token's pending change announces this token's plan or seats. */
  #announced(chg: PendingChange, claims: LicenseClaims): boolean {
    if (claims.iat + CLOCK_SLACK < chg.at) return false;
    if (chg.kind === 'seats') return seatsOf(claims.quota) === chg.seats;
    return chg.plan === claims.plan;
  }

  #checkChangeCharge(
    order: OrderRecord,
    previous: Terms,
    claims: LicenseClaims,
    product: string,
    licenseAnchor: number | undefined,
    index: number,
  ): void {
    if (order.kind !== 'upgrade' && order.kind !== 'seats') {
      const plan = this.#plan(product, order.planId);
      if (order.kind === 'renewal' && plan !== undefined) {
        this.#matchCharge(order, plan.price * (plan.perSeat ? order.seats : 1), claims.sub, index);
      }
      return;
    }
    const from = this.#plan(product, previous.plan);
    const to = this.#plan(product, order.planId);
    if (from === undefined || to === undefined) {
      this.#unverified(order, claims.sub, index, from === undefined ? previous.plan : order.planId);
      return;
    }
    const anchor = previous.anchor ?? licenseAnchor;
    if (anchor === undefined) return;
    const expected = changeCharge({
      from,
      fromSeats: seatsOf(previous.quota) ?? 1,
      to,
      toSeats: order.seats,
      anchor,
      at: order.createdAt,
    });
    if (expected !== undefined) this.#matchCharge(order, expected, claims.sub, index);
  }

  /** A later exp (a renewal) on a paid plan needs a paid order in between. */
  #checkTerm(input: TokenInput, previous: Terms, orders: OrderRecord[], product: string): void {
    const { claims } = input;
    if (previous.exp === undefined) return;
    const extended = claims.exp === undefined || claims.exp > previous.exp;
    if (!extended || orders.length > 0 || !this.#records.hasOrders) return;
    // Capped at the end of the previous certificate: a new certificate lifts the cap.
    if (previous.certificateEnd !== undefined && previous.exp >= previous.certificateEnd) return;
    const plan = this.#plan(product, claims.plan);
    if (plan !== undefined && plan.price === 0) return;
    this.#findings.add(
      'lineage.term_extended',
      `seq ${claims.seq} extends the term from ${isoTime(previous.exp)} to ${claims.exp === undefined ? 'perpetual' : isoTime(claims.exp)} without a paid order`,
      { license: claims.sub, index: input.index },
    );
  }

  /** After the last entry: the seqs still missing. */
  finish(): void {
    const gaps = (license: string, state: unknown) => {
      if (!(state instanceof LicenseState)) return;
      for (const range of state.gaps()) {
        this.#findings.add(
          'lineage.seq_gap',
          `no token with seq ${rangeText(range)} in the log (the newest is seq ${state.highest})`,
          { license },
        );
      }
    };
    for (const [license, record] of this.#records.licenses ?? []) gaps(license, record.lineage);
    for (const [license, state] of this.#unknown) gaps(license, state);
  }
}
