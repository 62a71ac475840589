/**
 * Findings: what an audit reports. Each is one precise statement about one place in the
 * export (a log index, a license), with a stable `kind` that scripts branch on. The
 * catalogue below is the documented list (README "audit store"); its order is the order of
 * the groups in the reports.
 */

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  readonly severity: Severity;
  readonly kind: FindingKind;
  /** The license (`sub`) the finding is about, when it is about one. */
  readonly license?: string;
  /** The log index of the entry the finding is about, when it is about one. */
  readonly index?: number;
  readonly message: string;
}

export type CheckGroup = 'keys' | 'documents' | 'lineage' | 'charges' | 'log' | 'export';

interface KindInfo {
  readonly group: CheckGroup;
  readonly severity: Severity;
  readonly what: string;
}

/** Every finding kind, its group, severity and meaning. */
export const FINDING_KINDS = {
  'key.untrusted_certificate': {
    group: 'keys',
    severity: 'error',
    what: 'an issuer certificate not signed by a trusted root',
  },
  'key.unknown_signer': {
    group: 'keys',
    severity: 'error',
    what: 'a token signed by a key that no certificate or trusted key vouches for',
  },
  'key.certificate_not_valid': {
    group: 'keys',
    severity: 'error',
    what: "a token whose iat lies outside its issuer certificate's validity",
  },
  'key.out_of_scope': {
    group: 'keys',
    severity: 'error',
    what: "a token for a product its issuer certificate does not cover, or another vendor's",
  },
  'key.revoked_key_used': {
    group: 'keys',
    severity: 'error',
    what: 'a document signed by a key after a revocation list in the log revoked it',
  },
  'key.certificate_not_logged': {
    group: 'keys',
    severity: 'warning',
    what: 'a token embeds an issuer certificate that is not in the log',
  },
  'document.malformed': {
    group: 'documents',
    severity: 'error',
    what: 'a logged document that fails the strict profile or the claim model',
  },
  'document.bad_signature': {
    group: 'documents',
    severity: 'error',
    what: 'a logged document whose signature does not verify',
  },
  'revocations.untrusted': {
    group: 'documents',
    severity: 'error',
    what: 'a revocation list not signed by a trusted root (ignored for revocations)',
  },
  'revocations.seq_regressed': {
    group: 'documents',
    severity: 'warning',
    what: 'a revocation list whose seq is not above the previous one',
  },
  'lineage.seq_gap': {
    group: 'lineage',
    severity: 'error',
    what: 'tokens of a license missing: seq does not go 0, 1, 2, …',
  },
  'lineage.equivocation': {
    group: 'lineage',
    severity: 'error',
    what: 'two different tokens with the same (sub, seq)',
  },
  'lineage.out_of_order': {
    group: 'lineage',
    severity: 'error',
    what: "a license's tokens are logged out of seq order",
  },
  'lineage.prev_mismatch': {
    group: 'lineage',
    severity: 'error',
    what: "prev is not the hash of the license's previous token",
  },
  'lineage.time_regressed': {
    group: 'lineage',
    severity: 'error',
    what: "iat or nbf earlier than the previous token's",
  },
  'lineage.backdated': {
    group: 'lineage',
    severity: 'error',
    what: 'iat far from the time the store logged the token (backdated or postdated)',
  },
  'lineage.unjustified_increase': {
    group: 'lineage',
    severity: 'error',
    what: 'plan, seats, quota, entitlement or access raised without a paid order or pending change',
  },
  'lineage.catalogue_change': {
    group: 'lineage',
    severity: 'warning',
    what: 'terms raised on the same plan, matching its current catalogue entry: an unrecorded plan edit',
  },
  'lineage.no_purchase': {
    group: 'lineage',
    severity: 'error',
    what: 'the first token of a license without a paid purchase or trial order',
  },
  'lineage.term_extended': {
    group: 'lineage',
    severity: 'warning',
    what: 'exp moved later without a paid order (renewal) on a paid plan',
  },
  'lineage.revoked_license': {
    group: 'lineage',
    severity: 'error',
    what: 'a token issued for a license after it was revoked',
  },
  'lineage.product_mismatch': {
    group: 'lineage',
    severity: 'error',
    what: "a token's aud or iss differs from its license's product or earlier tokens",
  },
  'lineage.unknown_license': {
    group: 'lineage',
    severity: 'error',
    what: "a token for a license the store's records do not have",
  },
  'lineage.seq_beyond_store': {
    group: 'lineage',
    severity: 'error',
    what: 'a token with a seq above the newest the store recorded for its license',
  },
  'charge.mismatch': {
    group: 'charges',
    severity: 'warning',
    what: 'an order amount that differs from the one recomputed from plans and proration',
  },
  'charge.unverified': {
    group: 'charges',
    severity: 'info',
    what: 'an order amount that could not be recomputed (plan not in the catalogue)',
  },
  'log.checkpoint_signature': {
    group: 'log',
    severity: 'error',
    what: 'a checkpoint not signed by the trusted log key for its origin',
  },
  'log.root_mismatch': {
    group: 'log',
    severity: 'error',
    what: "the root recomputed from the entries differs from a checkpoint's",
  },
  'log.fork': {
    group: 'log',
    severity: 'error',
    what: 'two signed checkpoints of one size with different roots',
  },
  'log.shrunk': {
    group: 'log',
    severity: 'error',
    what: 'a checkpoint smaller than an earlier one, or fewer entries than a signed size',
  },
  'log.index_gap': {
    group: 'log',
    severity: 'error',
    what: 'entries missing from the export: an index is skipped',
  },
  'log.index_out_of_order': {
    group: 'log',
    severity: 'error',
    what: 'an entry whose index is not the next one (reordered or repeated)',
  },
  'log.document_hash_mismatch': {
    group: 'log',
    severity: 'error',
    what: 'an entry whose documentHash is not the SHA-256 of its document',
  },
  'log.unreadable_entry': {
    group: 'log',
    severity: 'error',
    what: 'a line of entries.jsonl that is not a log entry',
  },
  'log.unsigned_entries': {
    group: 'log',
    severity: 'error',
    what: 'entries beyond the newest signed checkpoint: not in the signed log',
  },
  'log.not_included': {
    group: 'log',
    severity: 'error',
    what: 'a token given with --token that is not in the log',
  },
  'export.file': {
    group: 'export',
    severity: 'warning',
    what: 'an export file missing, unreadable or not matching the manifest',
  },
} as const satisfies Record<string, KindInfo>;

export type FindingKind = keyof typeof FINDING_KINDS;

export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'info'];

export const GROUPS: readonly CheckGroup[] = [
  'keys',
  'documents',
  'lineage',
  'charges',
  'log',
  'export',
];

export function groupOf(kind: FindingKind): CheckGroup {
  return FINDING_KINDS[kind].group;
}

export interface FindingPlace {
  license?: string | undefined;
  index?: number | undefined;
}

/**
 * Collects findings with a cap per kind: a wrong trust key makes every token a finding,
 * and the report must still fit in memory and on a screen. Counts stay exact.
 */
export class Findings {
  readonly #kept: Finding[] = [];
  readonly #counts = new Map<FindingKind, number>();
  readonly #perKind: number;

  constructor(perKind = 1000) {
    this.#perKind = perKind;
  }

  add(kind: FindingKind, message: string, place: FindingPlace = {}): void {
    const count = (this.#counts.get(kind) ?? 0) + 1;
    this.#counts.set(kind, count);
    if (count > this.#perKind) return;
    this.#kept.push({
      severity: FINDING_KINDS[kind].severity,
      kind,
      ...(place.license === undefined ? {} : { license: place.license }),
      ...(place.index === undefined ? {} : { index: place.index }),
      message,
    });
  }

  /** Kept findings: by severity, then in the order found (log order). */
  list(): Finding[] {
    const rank = (finding: Finding) => SEVERITIES.indexOf(finding.severity);
    return this.#kept
      .map((finding, order) => ({ finding, order }))
      .sort((a, b) => rank(a.finding) - rank(b.finding) || a.order - b.order)
      .map(({ finding }) => finding);
  }

  count(kind: FindingKind): number {
    return this.#counts.get(kind) ?? 0;
  }

  /** Findings of each severity, those past the cap included. */
  bySeverity(): Record<Severity, number> {
    const totals: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
    for (const [kind, count] of this.#counts) totals[FINDING_KINDS[kind].severity] += count;
    return totals;
  }

  byGroup(): Record<CheckGroup, number> {
    const totals = Object.fromEntries(GROUPS.map((group) => [group, 0])) as Record<
      CheckGroup,
      number
    >;
    for (const [kind, count] of this.#counts) {
      if (FINDING_KINDS[kind].severity !== 'info') totals[groupOf(kind)] += count;
    }
    return totals;
  }

  /** Kinds with findings past the cap, and how many were left out. */
  omitted(): Partial<Record<FindingKind, number>> {
    const omitted: Partial<Record<FindingKind, number>> = {};
    for (const [kind, count] of this.#counts) {
      if (count > this.#perKind) omitted[kind] = count - this.#perKind;
    }
    return omitted;
  }

  /** Clean: no error and no warning (info findings are notes). */
  clean(): boolean {
    const totals = this.bySeverity();
    return totals.error === 0 && totals.warning === 0;
  }
}
