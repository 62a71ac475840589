/**
 * One audit of an export directory, start to end: the checkpoints first (they say what the
 * entries must reproduce), the store's records, then entries.jsonl streamed in batches
 * through the worker pool and checked in log order, then what only the end can tell
 * (missing seqs, missing indexes, sizes never reached). Memory is the pool's batches in
 * flight plus small per-license state, whatever the size of the log.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type DecodedDocument,
  decodeDocument,
  type LicenseClaims,
  readLicenseClaims,
  tokenHash,
} from '@licensekit/core';
import type { NoteVerifierKey } from '@licensekit/core/log';
import { UsageError } from '../lib/errors.js';
import { EntryFeed } from './entry-feed.js';
import type { CertificateFacts, EntryFacts, KnownKey } from './examine.js';
import { Findings } from './findings.js';
import { boundHeapGrowth } from './heap-growth.js';
import { Histogram } from './histogram.js';
import { KeyChain } from './key-chain.js';
import { type ExportManifest, FILES } from './layout.js';
import { Lineage } from './lineage.js';
import { LogAudit } from './log-check.js';
import type { Progress } from './progress.js';
import { exists, type ReadDigest, readManifest, readRecords } from './reader.js';
import { loadRecords, type StoreRecords } from './records.js';
import { Timelines } from './timeline.js';
import { type BatchExaminer, workerExaminer } from './workers.js';

/**
 * Bytes of entries.jsonl per chunk sent to a worker (about 150 entries of a store's CWTs):
 * large enough to amortise a message and make a chunk's signatures an efficient batch
 * (batch-verify/: with signed digits and Niels points, 150 signatures cost about what 600
 * do per signature), small enough to spread over the workers. 512 KiB chunks cost 14 MB
 * more peak RSS at a million tokens (BENCHMARKS.md, ninth session).
 */
const CHUNK_BYTES = 128 * 1024;
/**
 * Chunks sent to the workers while the records load (entry-feed.ts): 4 MiB, some 5,000
 * tokens, about what two cores verify while a store's records of that size load. Tokens
 * that do not embed their certificate and come before the main thread has learned their
 * key are verified later by the main thread (KeyChain.checkDeferred): a bound on that too.
 */
const EARLY_CHUNKS = 32;

export interface FieldToken {
  /** The token's text (JWT, or base64url of a CWT). */
  readonly text: string;
  /** Where it came from, for messages (a file name). */
  readonly where: string;
}

export interface AuditOptions {
  readonly dir: string;
  /** Trusted root (or directly trusted issuer) keys. */
  readonly roots: readonly KnownKey[];
  /** Log verifier keys trusted for the checkpoints. */
  readonly logKeys: readonly NoteVerifierKey[];
  /** Checkpoints seen elsewhere (a witness, an earlier audit, a proof bundle). */
  readonly knownCheckpoints?: readonly { readonly note: string; readonly where: string }[];
  /** Tokens found in the field that must be in the log. */
  readonly fieldTokens?: readonly FieldToken[];
  /** Worker threads for the signature checks; 0 checks in the main thread. */
  readonly threads: number;
  /** Keep per-license timelines (for the HTML report). */
  readonly timelines?: boolean;
  /** A progress display for this many entries. */
  readonly progress?: (total: number) => Progress;
}

export interface AuditCounts {
  entries: number;
  tokens: number;
  certificates: number;
  revocationLists: number;
  licenses: number;
  orders: number;
  checkpoints: number;
}

export interface AuditResult {
  readonly dir: string;
  readonly manifest: ExportManifest;
  readonly findings: Findings;
  readonly counts: AuditCounts;
  readonly histogram: Histogram;
  readonly timelines: Timelines | undefined;
  readonly threads: number;
  readonly durationMs: number;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

async function fieldTokenHashes(
  tokens: readonly FieldToken[],
): Promise<Map<string, { where: string; about: string }>> {
  const hashes = new Map<string, { where: string; about: string }>();
  for (const token of tokens) {
    let document: DecodedDocument;
    let claims: LicenseClaims;
    try {
      document = decodeDocument(token.text, 'license');
      claims = readLicenseClaims(document);
    } catch (error) {
      throw new UsageError(
        `--token ${token.where} is not a license token: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    hashes.set(await tokenHash(document.bytes), {
      where: token.where,
      about: `license ${claims.sub} seq ${claims.seq} (${claims.plan}, key ${document.kid})`,
    });
  }
  return hashes;
}

export async function auditExport(options: AuditOptions): Promise<AuditResult> {
  // Held from the records' load (the live set's growth) to the end (heap-growth.ts).
  const releaseHeapGrowth = boundHeapGrowth();
  try {
    return await audit(options);
  } finally {
    releaseHeapGrowth();
  }
}

async function audit(options: AuditOptions): Promise<AuditResult> {
  const started = performance.now();
  const { dir } = options;
  const manifest = await readManifest(dir);
  const findings = new Findings();
  const digests = new Map<string, ReadDigest>();
  const field = await fieldTokenHashes(options.fieldTokens ?? []);

  // Checkpoints: the newest, the store's history, and any the auditor brings.
  const log = new LogAudit(findings, options.logKeys);
  const head = await readFile(join(dir, FILES.checkpoint), 'utf8').catch(() => undefined);
  if (head === undefined) findings.add('export.file', `${FILES.checkpoint} is missing`);
  else await log.addCheckpoint(head, 'head', FILES.checkpoint);
  const historyPath = join(dir, FILES.checkpoints);
  if (await exists(historyPath)) {
    const digest: ReadDigest = { bytes: 0, records: 0, sha256: '' };
    let line = 0;
    for await (const record of readRecords(
      historyPath,
      (bad) => findings.add('export.file', `${FILES.checkpoints} line ${bad} is not JSON`),
      digest,
    )) {
      line += 1;
      const note = text(record.checkpoint);
      const createdAt = Date.parse(text(record.createdAt) ?? '');
      if (note === undefined) continue;
      await log.addCheckpoint(
        note,
        'history',
        `${FILES.checkpoints} record ${line}`,
        Number.isNaN(createdAt) ? undefined : Math.floor(createdAt / 1000),
      );
    }
    digests.set(FILES.checkpoints, digest);
  }
  for (const known of options.knownCheckpoints ?? []) {
    await log.addCheckpoint(known.note, 'known', known.where);
  }
  log.checkCheckpoints();

  const keys = await KeyChain.create(findings);
  const progress = options.progress?.(manifest.treeSize);
  // No more workers than chunks: a small export is not worth starting threads for.
  const entriesPath = join(dir, FILES.entries);
  const entriesSize = (await stat(entriesPath)).size;
  const threads = Math.min(options.threads, Math.ceil(entriesSize / CHUNK_BYTES));
  const examiner: BatchExaminer = await workerExaminer(options.roots, threads);
  const entriesDigest: ReadDigest = { bytes: 0, records: 0, sha256: '' };
  const feed = new EntryFeed(examiner, entriesPath, CHUNK_BYTES, entriesDigest, () =>
    keys.issuers(),
  );
  try {
    // The workers start on the first entries while this thread loads the records.
    const [records] = await Promise.all([
      loadRecords(dir, findings, digests),
      feed.fill(EARLY_CHUNKS),
    ]);
    return await auditEntries(records);
  } finally {
    await feed.close();
    await examiner.close();
    progress?.finish();
  }

  /** The ordered checks of every entry, once the records that justify tokens are loaded. */
  async function auditEntries(records: StoreRecords): Promise<AuditResult> {
    const timelines = options.timelines ? new Timelines() : undefined;
    const lineage = new Lineage(findings, records, (event) => timelines?.add(event));
    const histogram = new Histogram();
    const counts: AuditCounts = {
      entries: 0,
      tokens: 0,
      certificates: 0,
      revocationLists: 0,
      licenses: 0,
      orders: records.orderCount,
      checkpoints: log.checkpointCount,
    };
    const found = new Set<string>();

    /** One entry's facts, `lineBase` the lines of entries.jsonl before its chunk. */
    const examineEntry = async (entry: EntryFacts, lineBase: number): Promise<void> => {
      const line = lineBase + entry.line;
      counts.entries += 1;
      if (entry.unreadable !== undefined || entry.index === undefined) {
        findings.add(
          'log.unreadable_entry',
          `${FILES.entries} line ${line}: ${entry.unreadable ?? 'no index'}`,
          entry.index === undefined ? {} : { index: entry.index },
        );
        return;
      }
      const index = entry.index;
      log.observeIndex(index, line);
      if (entry.declaredHash !== undefined && entry.declaredHash !== entry.documentHash) {
        findings.add(
          'log.document_hash_mismatch',
          `index ${index}: documentHash ${entry.declaredHash}, but the document hashes to ${entry.documentHash}`,
          { index },
        );
      }
      if (entry.documentHash !== undefined && field.has(entry.documentHash)) {
        found.add(entry.documentHash);
      }
      if (entry.loggedAt !== undefined) {
        histogram.add(entry.loggedAt, entry.kind === 'license' ? 'token' : 'other');
      }
      if (entry.malformed !== undefined) {
        findings.add(
          'document.malformed',
          `the ${entry.kind} at index ${index}: ${entry.malformed}`,
          {
            index,
          },
        );
        return;
      }
      let signature = entry.signature;
      if (signature === 'unknown_key' && entry.kind === 'license') {
        signature = await keys.checkDeferred(entry);
      }
      const license = entry.license?.claims.sub;
      if (signature === 'invalid') {
        findings.add(
          'document.bad_signature',
          `the signature of the ${entry.kind} at index ${index} does not verify with key ${entry.kid}`,
          { index, license },
        );
      }
      if (entry.certificate !== undefined) {
        counts.certificates += 1;
        keys.certificate(entry, entry.certificate);
      } else if (entry.revocations !== undefined) {
        counts.revocationLists += 1;
        keys.revocations(entry, entry.revocations);
      } else if (entry.license !== undefined) {
        counts.tokens += 1;
        const { claims } = entry.license;
        // A key found only after the batch was sent (checkDeferred) is a logged issuer's.
        const signer =
          entry.license.signer === 'none' && signature !== 'unknown_key'
            ? 'issuer'
            : entry.license.signer;
        const certificate: CertificateFacts | undefined = keys.license(entry, claims, signer);
        const revoked = keys.licenseRevoked(claims.sub);
        lineage.token({
          index,
          hash: entry.documentHash!,
          loggedAt: entry.loggedAt,
          claims,
          certificateEnd: certificate?.exp,
          revokedByList:
            revoked === undefined ? undefined : { index: revoked.index, seq: revoked.seq },
        });
      }
    };

    // Enough chunks queued that no worker waits for the main thread's ordered checks.
    const ahead = Math.max(2, examiner.threads * 3);
    let lineBase = 0;
    for (let chunk = await feed.next(ahead); chunk !== undefined; chunk = await feed.next(ahead)) {
      const { facts, lines } = chunk;
      const leaves: Uint8Array[] = [];
      for (const entry of facts) {
        await examineEntry(entry, lineBase);
        if (entry.leaf !== undefined) leaves.push(entry.leaf);
      }
      await log.appendLeaves(leaves);
      lineBase += lines;
      entriesDigest.records += facts.length;
      progress?.update(counts.entries);
    }
    digests.set(FILES.entries, entriesDigest);

    await log.finish();
    lineage.finish();
    keys.finish();
    for (const [hash, token] of field) {
      if (found.has(hash)) continue;
      findings.add(
        'log.not_included',
        `${token.where}: the token of ${token.about} is not in the log: it was issued outside the store's log`,
      );
    }
    for (const [file, digest] of digests) {
      const listed = manifest.files?.[file];
      if (
        listed !== undefined &&
        (listed.sha256 !== digest.sha256 || listed.records !== digest.records)
      ) {
        findings.add(
          'export.file',
          `${file} is not the file the export wrote (${digest.records} records, SHA-256 ${digest.sha256.slice(0, 16)}…; the manifest lists ${listed.records}, ${listed.sha256.slice(0, 16)}…)`,
        );
      }
    }
    counts.licenses = lineage.licenseCount;
    return {
      dir,
      manifest,
      findings,
      counts,
      histogram,
      timelines,
      threads: examiner.threads,
      durationMs: performance.now() - started,
    };
  }
}
