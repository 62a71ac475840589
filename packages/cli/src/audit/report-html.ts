/**
 * The `--html` report: one self-contained file an auditor can mail or archive. Inline CSS
 * and inline SVG only, no script, no font, no image and no link to fetch (a CSP meta tag
 * forbids any fetch), so it opens the same offline, in a mail client or in ten years.
 * Sections: the verdict and counts, issuance over time (a bar chart), findings grouped by
 * severity, and a timeline per license (licenses with findings first).
 */
import { isoTime } from '../lib/time.js';
import { FINDING_KINDS, type Finding, SEVERITIES, type Severity } from './findings.js';
import type { Bucket } from './histogram.js';
import type { TokenEvent } from './lineage.js';
import type { AuditResult } from './run.js';
import type { LicenseTimeline } from './timeline.js';

/** Escapes text for HTML text and quoted attribute values. */
export function escapeHtml(value: string | number): string {
  return String(value).replace(
    /[&<>"'`]/g,
    (char) =>
      ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' })[
        char
      ]!,
  );
}

const STYLE = `
:root { color-scheme: light; --error: #b3261e; --warning: #8a5a00; --info: #35609a; --ok: #1e6b35; --ink: #1b1f24; --muted: #59636e; --line: #d0d7de; --bar: #3b6fb6; --other: #a3b1c2; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #fff; }
main { max-width: 1100px; margin: 0 auto; padding: 24px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.25rem; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 1.05rem; margin: 20px 0 6px; }
.muted { color: var(--muted); }
.verdict { display: inline-block; padding: 4px 12px; border-radius: 4px; font-weight: 700; color: #fff; }
.verdict.clean { background: var(--ok); }
.verdict.findings { background: var(--error); }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 0.9rem; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid var(--line); }
th { background: #f3f5f7; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.85em; word-break: break-all; }
td.kind code, td.time { white-space: nowrap; word-break: normal; }
.sev { font-weight: 700; text-transform: uppercase; font-size: 0.8rem; }
.sev.error { color: var(--error); } .sev.warning { color: var(--warning); } .sev.info { color: var(--info); }
tr.flagged td { background: #fdecea; }
.counts { display: flex; flex-wrap: wrap; gap: 8px 24px; margin: 12px 0; padding: 0; list-style: none; }
.counts b { font-size: 1.2rem; }
svg text { font: 11px system-ui, sans-serif; fill: var(--muted); }
.license { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; margin: 12px 0; }
.license.flagged { border-color: var(--error); }
details > summary { cursor: pointer; }
`;

/** "2026-01-15 09:30:00Z": an ISO instant that fits a table cell. */
function shortTime(seconds: number): string {
  return isoTime(seconds).replace('T', ' ');
}

function severityTitle(severity: Severity): string {
  return { error: 'Errors', warning: 'Warnings', info: 'Notes' }[severity];
}

function chart(buckets: readonly Bucket[], width: number): string {
  if (buckets.length === 0) return '<p class="muted">No entries.</p>';
  const w = 960;
  const h = 220;
  const left = 48;
  const bottom = 36;
  const top = 12;
  const plotW = w - left - 12;
  const plotH = h - top - bottom;
  const max = Math.max(1, ...buckets.map((bucket) => bucket.tokens + bucket.other));
  const barW = plotW / buckets.length;
  const y = (value: number) => top + plotH - (value / max) * plotH;
  const bars = buckets
    .map((bucket, i) => {
      const x = left + i * barW;
      const bw = Math.max(1, barW - 1);
      const tokens = `<rect x="${x.toFixed(1)}" y="${y(bucket.tokens).toFixed(1)}" width="${bw.toFixed(1)}" height="${(top + plotH - y(bucket.tokens)).toFixed(1)}" fill="var(--bar)"><title>${escapeHtml(isoTime(bucket.start))}: ${bucket.tokens} tokens, ${bucket.other} other entries</title></rect>`;
      const other =
        bucket.other === 0
          ? ''
          : `<rect x="${x.toFixed(1)}" y="${y(bucket.tokens + bucket.other).toFixed(1)}" width="${bw.toFixed(1)}" height="${(y(bucket.tokens) - y(bucket.tokens + bucket.other)).toFixed(1)}" fill="var(--other)"/>`;
      return tokens + other;
    })
    .join('');
  const first = buckets[0]!;
  const last = buckets[buckets.length - 1]!;
  const label = (at: number) => escapeHtml(isoTime(at).replace('T', ' ').replace(':00Z', 'Z'));
  return `<svg role="img" aria-labelledby="chart-title chart-desc" viewBox="0 0 ${w} ${h}" width="100%" xmlns="http://www.w3.org/2000/svg">
<title id="chart-title">Issuance over time</title>
<desc id="chart-desc">Log entries per ${escapeHtml(widthText(width))}: license tokens in blue, certificates and revocation lists in grey. Highest bar: ${max}.</desc>
<line x1="${left}" y1="${top + plotH}" x2="${w - 12}" y2="${top + plotH}" stroke="#8c959f"/>
<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#8c959f"/>
<text x="${left - 6}" y="${top + 4}" text-anchor="end">${max}</text>
<text x="${left - 6}" y="${top + plotH}" text-anchor="end">0</text>
${bars}
<text x="${left}" y="${h - 14}">${label(first.start)}</text>
<text x="${w - 12}" y="${h - 14}" text-anchor="end">${label(last.start + width)}</text>
</svg>`;
}

function widthText(seconds: number): string {
  if (seconds % 86_400 === 0) return seconds === 86_400 ? 'day' : `${seconds / 86_400} days`;
  if (seconds % 3600 === 0) return seconds === 3600 ? 'hour' : `${seconds / 3600} hours`;
  if (seconds % 60 === 0) return seconds === 60 ? 'minute' : `${seconds / 60} minutes`;
  return seconds === 1 ? 'second' : `${seconds} seconds`;
}

function findingRows(findings: readonly Finding[]): string {
  return findings
    .map(
      (finding) =>
        `<tr><td class="kind"><code>${escapeHtml(finding.kind)}</code></td><td>${
          finding.license === undefined ? '' : `<code>${escapeHtml(finding.license)}</code>`
        }</td><td class="num">${finding.index ?? ''}</td><td>${escapeHtml(finding.message)}</td></tr>`,
    )
    .join('\n');
}

function findingsSection(result: AuditResult): string {
  const listed = result.findings.list();
  const totals = result.findings.bySeverity();
  if (listed.length === 0) {
    return '<h2 id="findings">Findings</h2><p>None: every check passed.</p>';
  }
  const parts = ['<h2 id="findings">Findings</h2>'];
  for (const severity of SEVERITIES) {
    const ofSeverity = listed.filter((finding) => finding.severity === severity);
    if (ofSeverity.length === 0) continue;
    parts.push(
      `<section aria-labelledby="sev-${severity}"><h3 id="sev-${severity}"><span class="sev ${severity}">${severityTitle(severity)}</span> (${totals[severity]})</h3>
<table><caption class="muted">${escapeHtml(severityTitle(severity))}: kind, license, log index, what was found</caption>
<thead><tr><th scope="col">kind</th><th scope="col">license</th><th scope="col">index</th><th scope="col">finding</th></tr></thead>
<tbody>
${findingRows(ofSeverity)}
</tbody></table></section>`,
    );
  }
  const omitted = Object.entries(result.findings.omitted());
  if (omitted.length > 0) {
    parts.push(
      `<p class="muted">Not listed (over 1000 of one kind): ${omitted.map(([kind, n]) => `${escapeHtml(kind)} ${n}`).join(', ')}.</p>`,
    );
  }
  return parts.join('\n');
}

function strip(events: readonly TokenEvent[], flagged: ReadonlySet<number>): string {
  const w = 900;
  const h = 44;
  const from = Math.min(...events.map((event) => event.iat));
  const to = Math.max(...events.map((event) => event.iat));
  const span = Math.max(1, to - from);
  const x = (at: number) => 20 + ((at - from) / span) * (w - 40);
  const dots = events
    .map((event) => {
      const bad = flagged.has(event.index);
      return `<circle cx="${x(event.iat).toFixed(1)}" cy="18" r="${bad ? 6 : 4.5}" fill="${bad ? 'var(--error)' : 'var(--bar)'}"><title>seq ${event.seq} at ${escapeHtml(isoTime(event.iat))}: ${escapeHtml(event.change)}</title></circle>`;
    })
    .join('');
  return `<svg viewBox="0 0 ${w} ${h}" width="100%" role="img" aria-label="tokens of the license over time, from ${escapeHtml(isoTime(from))} to ${escapeHtml(isoTime(to))}" xmlns="http://www.w3.org/2000/svg">
<line x1="20" y1="18" x2="${w - 20}" y2="18" stroke="#8c959f"/>${dots}
<text x="20" y="40">${escapeHtml(isoTime(from))}</text><text x="${w - 20}" y="40" text-anchor="end">${escapeHtml(isoTime(to))}</text></svg>`;
}

function timelineSection(result: AuditResult): string {
  const timelines = result.timelines?.list() ?? [];
  const listed = result.findings.list();
  const byLicense = new Map<string, Finding[]>();
  for (const finding of listed) {
    if (finding.license === undefined) continue;
    const list = byLicense.get(finding.license) ?? [];
    list.push(finding);
    byLicense.set(finding.license, list);
  }
  const ordered = [...timelines].sort(
    (a, b) => Number(byLicense.has(b.license)) - Number(byLicense.has(a.license)),
  );
  const parts = ['<h2 id="licenses">Timeline per license</h2>'];
  const left = result.counts.licenses - timelines.length;
  if (left > 0) {
    parts.push(
      `<p class="muted">${left} more licenses are not drawn (the report keeps ${timelines.length}); their findings are listed above.</p>`,
    );
  }
  for (const timeline of ordered)
    parts.push(licenseTimeline(timeline, byLicense.get(timeline.license) ?? []));
  return parts.join('\n');
}

function licenseTimeline(timeline: LicenseTimeline, findings: readonly Finding[]): string {
  const flagged = new Set(
    findings.flatMap((finding) => (finding.index === undefined ? [] : [finding.index])),
  );
  const general = findings.filter((finding) => finding.index === undefined);
  const rows = timeline.events
    .map((event) => {
      const own = findings.filter((finding) => finding.index === event.index);
      return `<tr${own.length > 0 ? ' class="flagged"' : ''}><td class="num">${event.seq}</td><td class="num">${event.index}</td><td class="time">${escapeHtml(shortTime(event.iat))}</td><td>${escapeHtml(event.plan)}</td><td class="num">${event.seats ?? ''}</td><td class="time">${event.exp === undefined ? 'perpetual' : escapeHtml(shortTime(event.exp))}</td><td>${escapeHtml(event.change)}</td><td>${own.map((finding) => `<span class="sev ${finding.severity}">${escapeHtml(finding.kind)}</span>`).join(' ')}</td></tr>`;
    })
    .join('\n');
  return `<section class="license${findings.length > 0 ? ' flagged' : ''}" aria-labelledby="lic-${escapeHtml(timeline.license)}">
<h3 id="lic-${escapeHtml(timeline.license)}"><code>${escapeHtml(timeline.license)}</code> <span class="muted">${timeline.events.length + timeline.dropped} tokens${findings.length > 0 ? `, ${findings.length} findings` : ''}</span></h3>
${strip(timeline.events, flagged)}
${general.length > 0 ? `<ul>${general.map((finding) => `<li><span class="sev ${finding.severity}">${escapeHtml(finding.kind)}</span> ${escapeHtml(finding.message)}</li>`).join('')}</ul>` : ''}
<table><caption class="muted">tokens in seq order${timeline.dropped > 0 ? `; ${timeline.dropped} refreshes in between not shown` : ''}</caption>
<thead><tr><th scope="col">seq</th><th scope="col">index</th><th scope="col">issued</th><th scope="col">plan</th><th scope="col">seats</th><th scope="col">term ends</th><th scope="col">change</th><th scope="col">findings</th></tr></thead>
<tbody>
${rows}
</tbody></table></section>`;
}

function kindsSection(): string {
  const rows = Object.entries(FINDING_KINDS)
    .map(
      ([kind, info]) =>
        `<tr><td><code>${escapeHtml(kind)}</code></td><td><span class="sev ${info.severity}">${info.severity}</span></td><td>${escapeHtml(info.what)}</td></tr>`,
    )
    .join('\n');
  return `<details><summary>What each kind of finding means</summary><table><thead><tr><th scope="col">kind</th><th scope="col">severity</th><th scope="col">meaning</th></tr></thead><tbody>${rows}</tbody></table></details>`;
}

export function renderHtml(result: AuditResult, generatedAt: Date = new Date()): string {
  const { manifest, counts, findings } = result;
  const clean = findings.clean();
  const totals = findings.bySeverity();
  const { width, buckets } = result.histogram.bars(60);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${clean ? 'Clean' : 'Findings'}: licensekit audit of ${escapeHtml(manifest.origin)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>licensekit store audit</h1>
<p class="muted">Log <code>${escapeHtml(manifest.origin)}</code>, exported ${escapeHtml(manifest.exportedAt)} from <code>${escapeHtml(manifest.source)}</code>; audited ${escapeHtml(generatedAt.toISOString())}.</p>
<p><span class="verdict ${clean ? 'clean' : 'findings'}">${clean ? 'CLEAN' : 'FINDINGS'}</span>
 ${clean ? 'No error and no warning.' : `${totals.error} errors, ${totals.warning} warnings.`} ${totals.info > 0 ? `${totals.info} notes.` : ''}</p>
<ul class="counts">
<li><b>${counts.entries}</b> log entries</li>
<li><b>${counts.tokens}</b> tokens</li>
<li><b>${counts.licenses}</b> licenses</li>
<li><b>${counts.certificates}</b> certificates</li>
<li><b>${counts.revocationLists}</b> revocation lists</li>
<li><b>${counts.orders}</b> orders</li>
<li><b>${counts.checkpoints}</b> checkpoints</li>
</ul>
<h2 id="issuance">Issuance over time</h2>
${chart(buckets, width)}
${findingsSection(result)}
${kindsSection()}
${timelineSection(result)}
</main>
</body>
</html>
`;
}
