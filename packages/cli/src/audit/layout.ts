/**
 * The layout of a `licensekit export` directory, shared by the exporter and the auditor.
 * Everything in it is public or pseudonymous: signed documents as logged, signed
 * checkpoints, public keys, the catalogue, and orders and licenses by id and customer id
 * (no license key, no e-mail, no payment reference), so an export can be handed to an
 * outside auditor.
 */

/** Bump when a file changes meaning; the auditor refuses versions it does not know. */
export const EXPORT_VERSION = 1;
export const EXPORT_FORMAT = 'licensekit-export';

export const FILES = {
  manifest: 'manifest.json',
  /** The public keys: `GET /v1/keys` as served (roots, issuers, log). */
  keys: 'keys.json',
  /** The newest checkpoint, the one the export stops at (signed note, text). */
  checkpoint: 'checkpoint.txt',
  /** Every checkpoint the store signed up to that size, one `{ size, checkpoint, createdAt }` a line. */
  checkpoints: 'checkpoints.jsonl',
  /** Log entries in order, one `{ index, kind, document, documentHash, loggedAt }` a line. */
  entries: 'entries.jsonl',
  /** Products and plans (prices, intervals, quotas, entitlements): `GET /v1/admin/products`. */
  catalogue: 'catalogue.json',
  /** Orders, one a line, newest first (see ExportedOrder). */
  orders: 'orders.jsonl',
  /** Licenses, one a line, newest first (see ExportedLicense). */
  licenses: 'licenses.jsonl',
} as const;

export interface FileSummary {
  /** Lines of a .jsonl file, 1 for the others. */
  readonly records: number;
  readonly bytes: number;
  /** Lowercase hex SHA-256 of the file: catches accidental damage, not tampering (unsigned). */
  readonly sha256: string;
}

export interface ExportManifest {
  readonly format: typeof EXPORT_FORMAT;
  readonly version: number;
  /** The store's URL, or `data:<dir>` for an export of a local data directory. */
  readonly source: string;
  readonly exportedAt: string;
  /** The log origin (first line of every checkpoint). */
  readonly origin: string;
  /** Entries exported: exactly the size of checkpoint.txt. */
  readonly treeSize: number;
  /** Whether the store listed its checkpoint history (GET /v1/log/checkpoints). */
  readonly checkpointHistory: boolean;
  readonly files: Readonly<Record<string, FileSummary>>;
}

/** An order as exported: ids, terms and amounts; no e-mail, no processor reference. */
export interface ExportedOrder {
  readonly id: string;
  readonly customerId: string;
  readonly licenseId: string | null;
  readonly productId: string;
  readonly planId: string;
  /** purchase, trial, upgrade, seats or renewal. */
  readonly kind: string;
  readonly seats: number;
  /** Minor units. */
  readonly amount: number;
  readonly currency: string;
  readonly provider: string;
  readonly status: string;
  readonly test: boolean;
  readonly createdAt: string;
  readonly paidAt: string | null;
  /**
   * What the store priced the order from (plan changes: fromPlan, fromSeats, the new
   * period), as the admin API gives it; {} from stores that do not say.
   */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** A license as exported: ids, terms and state; no e-mail, no key hint. */
export interface ExportedLicense {
  readonly id: string;
  readonly customerId: string;
  readonly productId: string;
  readonly planId: string;
  readonly status: string;
  readonly seats: number;
  readonly anchor: string;
  readonly periodStart: string;
  readonly periodEnd: string | null;
  readonly trialEnd: string | null;
  readonly pendingChange: unknown;
  /** seq of the newest token the store recorded (-1 before the first). */
  readonly seq: number;
  readonly test: boolean;
  readonly createdAt: string;
  readonly cancelledAt: string | null;
  readonly revokedAt: string | null;
}
