/**
 * The terminal report: what was audited, one row per group of checks with its verdict,
 * then the findings (the first ones of each severity; `--json` lists them all).
 */
import { type CheckGroup, type Finding, GROUPS, SEVERITIES } from './findings.js';
import type { AuditResult } from './run.js';

const GROUP_TITLES: Record<CheckGroup, string> = {
  keys: 'key chain (roots, certificates, scope, revoked keys)',
  documents: 'documents (strict profile, signatures, revocation lists)',
  lineage: 'lineage (seq, prev, time, raised terms vs orders)',
  charges: 'charges (purchases and prorated changes recomputed)',
  log: 'log (tree root, checkpoints, forks, shrinks, indexes)',
  export: 'export files',
};

/** Findings listed per severity on a terminal. */
const SHOWN = 40;

function place(finding: Finding): string {
  const parts: string[] = [];
  if (finding.license !== undefined) parts.push(finding.license);
  if (finding.index !== undefined) parts.push(`#${finding.index}`);
  return parts.join(' ');
}

export function renderText(result: AuditResult): string {
  const { manifest, findings, counts } = result;
  const lines: string[] = [];
  lines.push(`audit of ${result.dir}`);
  lines.push(
    `  exported ${manifest.exportedAt} from ${manifest.source}, log ${manifest.origin}, ${manifest.treeSize} entries`,
  );
  lines.push(
    `  ${counts.tokens} tokens of ${counts.licenses} licenses, ${counts.certificates} certificates, ${counts.revocationLists} revocation lists, ${counts.orders} orders, ${counts.checkpoints} checkpoints`,
  );
  lines.push('');
  const byGroup = findings.byGroup();
  const width = Math.max(...Object.values(GROUP_TITLES).map((title) => title.length));
  lines.push(`${'check'.padEnd(width)}  result`);
  lines.push(`${'-'.repeat(width)}  ------`);
  for (const group of GROUPS) {
    const count = byGroup[group];
    lines.push(`${GROUP_TITLES[group].padEnd(width)}  ${count === 0 ? 'ok' : `FAIL (${count})`}`);
  }
  const totals = findings.bySeverity();
  const listed = findings.list();
  for (const severity of SEVERITIES) {
    const ofSeverity = listed.filter((finding) => finding.severity === severity);
    if (ofSeverity.length === 0) continue;
    lines.push('');
    lines.push(`${severity.toUpperCase()}S (${totals[severity]})`);
    const kindWidth = Math.max(...ofSeverity.slice(0, SHOWN).map((f) => f.kind.length));
    const placeWidth = Math.max(...ofSeverity.slice(0, SHOWN).map((f) => place(f).length));
    for (const finding of ofSeverity.slice(0, SHOWN)) {
      lines.push(
        `  ${finding.kind.padEnd(kindWidth)}  ${place(finding).padEnd(placeWidth)}  ${finding.message}`,
      );
    }
    if (totals[severity] > SHOWN) {
      lines.push(`  … ${totals[severity] - SHOWN} more (--json lists them)`);
    }
  }
  lines.push('');
  const seconds = (result.durationMs / 1000).toFixed(2);
  const threads =
    result.threads === 0
      ? 'in the main thread'
      : `with ${result.threads} worker thread${result.threads === 1 ? '' : 's'}`;
  lines.push(
    findings.clean()
      ? `CLEAN: no findings (${counts.entries} entries in ${seconds} s ${threads})`
      : `FINDINGS: ${totals.error} errors, ${totals.warning} warnings (${counts.entries} entries in ${seconds} s ${threads})`,
  );
  return `${lines.join('\n')}\n`;
}
