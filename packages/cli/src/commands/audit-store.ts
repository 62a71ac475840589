import { readLogKeys } from '../audit/log-keys.js';
import { progressBar, silentProgress } from '../audit/progress.js';
import { renderHtml } from '../audit/report-html.js';
import { renderJson } from '../audit/report-json.js';
import { renderText } from '../audit/report-text.js';
import { auditExport } from '../audit/run.js';
import { defaultThreads } from '../audit/workers.js';
import { readTextFile, writeOutputFile } from '../lib/files.js';
import type { Io } from '../lib/io.js';
import { parseCount } from '../lib/numbers.js';
import { readTrustKeys } from '../lib/trust.js';

export interface AuditStoreFlags {
  trust?: string[];
  logKey?: string[];
  json?: boolean;
  html?: string;
  workers?: string;
  checkpoint?: string[];
  token?: string[];
}

/** Exit codes of `audit store`: clean, findings, usage error. */
const CLEAN = 0;
const FINDINGS = 1;

/**
 * `licensekit audit store DIR --trust ROOT --log-key KEY [--json] [--html FILE]`: audits
 * an export made by `licensekit export`: key chain, every document's profile and
 * signature, every license's lineage against the store's orders, and the log against its
 * signed checkpoints. Exit 0 clean, 1 findings, 2 usage error.
 */
export async function auditStore(dir: string, flags: AuditStoreFlags, io: Io): Promise<number> {
  const roots = (await readTrustKeys(flags.trust ?? [])).map(({ kid, x }) => ({ kid, x }));
  const logKeys = await readLogKeys(flags.logKey ?? []);
  const threads =
    flags.workers === undefined ? defaultThreads() : parseCount(flags.workers, '--workers', 0);
  const knownCheckpoints = await Promise.all(
    (flags.checkpoint ?? []).map(async (file) => ({
      note: await readTextFile(file, '--checkpoint file', 64 * 1024),
      where: file,
    })),
  );
  const fieldTokens = await Promise.all(
    (flags.token ?? []).map(async (file) => ({
      text: (await readTextFile(file, '--token file', 64 * 1024)).trim(),
      where: file,
    })),
  );
  // Progress only for a person at a terminal; --json keeps both streams for machines.
  const progress = (total: number) =>
    flags.json || !process.stderr.isTTY
      ? silentProgress
      : progressBar(total, (text) => io.err(text));
  const result = await auditExport({
    dir,
    roots,
    logKeys,
    knownCheckpoints,
    fieldTokens,
    threads,
    timelines: flags.html !== undefined,
    progress,
  });
  if (flags.html !== undefined) {
    await writeOutputFile(flags.html, renderHtml(result));
    if (!flags.json) io.err(`wrote the HTML report to ${flags.html}\n`);
  }
  io.out(flags.json ? renderJson(result) : renderText(result));
  return result.findings.clean() ? CLEAN : FINDINGS;
}
