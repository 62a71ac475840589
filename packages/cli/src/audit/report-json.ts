/**
 * The `--json` report: a stable, documented shape (packages/cli README, "audit store").
 * Fields are only ever added within one `schema` value; anything else changes it.
 * Timing is left out on purpose, so two audits of one export print the same bytes.
 */
import { json } from '../lib/format.js';
import type { CheckGroup, Finding, FindingKind, Severity } from './findings.js';
import type { AuditCounts, AuditResult } from './run.js';

export const AUDIT_SCHEMA = 'licensekit.audit-store/1';

export interface AuditJson {
  readonly schema: typeof AUDIT_SCHEMA;
  /** `clean`: no error and no warning (info findings are notes). */
  readonly verdict: 'clean' | 'findings';
  readonly export: {
    readonly dir: string;
    readonly source: string;
    readonly origin: string;
    readonly exportedAt: string;
    readonly treeSize: number;
  };
  readonly counts: AuditCounts;
  /** Findings of each severity, those left out of `findings` included. */
  readonly findingCounts: Record<Severity, number>;
  /** Error and warning findings per group of checks. */
  readonly groups: Record<CheckGroup, number>;
  /** By severity (error, warning, info), then in log order. */
  readonly findings: readonly Finding[];
  /** Kinds with more findings than listed (1000 a kind), and how many were left out. */
  readonly omitted: Partial<Record<FindingKind, number>>;
}

export function auditJson(result: AuditResult): AuditJson {
  const { manifest, findings } = result;
  return {
    schema: AUDIT_SCHEMA,
    verdict: findings.clean() ? 'clean' : 'findings',
    export: {
      dir: result.dir,
      source: manifest.source,
      origin: manifest.origin,
      exportedAt: manifest.exportedAt,
      treeSize: manifest.treeSize,
    },
    counts: result.counts,
    findingCounts: findings.bySeverity(),
    groups: findings.byGroup(),
    findings: findings.list(),
    omitted: findings.omitted(),
  };
}

export function renderJson(result: AuditResult): string {
  return json(auditJson(result));
}
