import { execFile } from 'node:child_process';
import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  base64urlDecode,
  base64urlEncode,
  type DecodedDocument,
  decodeDocument,
  defaultBackend,
  type LicenseClaims,
  readLicenseClaims,
  readRevocationClaims,
  tokenHash,
  utf8Decode,
  utf8Encode,
} from '../../packages/core/src/index.js';
import {
  appendLeaves,
  EMPTY_FRONTIER,
  logEntryHash,
  signCheckpoint,
} from '../../packages/core/src/log/index.js';
import { prepareLicense } from '../../packages/core/src/write.js';
import { createRevocationList, createSigner } from '../../packages/issuer/src/index.js';
import type { RunningStore } from '../../packages/store/src/server.js';
import { startStore } from '../../packages/store/src/server.js';
import { repoRoot } from '../support/vectors.js';

/**
 * `licensekit export` and `licensekit audit store` end to end: a real store on 127.0.0.1
 * (PGlite in a temporary directory) sells, refreshes, upgrades and downgrades licenses;
 * the built CLI exports it and the audit is clean. Then each tampering, on a copy of the
 * export, must be caught with its own finding: entries deleted, inserted and reordered, a
 * backdated token and a raised quota re-signed with the (stolen) issuer key, a forked and
 * a shrunk log signed with the (stolen) log key, a missing upgrade order — and a revoked
 * issuer key used after its revocation.
 */

const run = promisify(execFile);
const ADMIN_TOKEN = 'audit-store-test-admin-token';

interface Finding {
  severity: string;
  kind: string;
  license?: string;
  index?: number;
  message: string;
}

interface AuditJson {
  schema: string;
  verdict: 'clean' | 'findings';
  counts: Record<string, number>;
  findings: Finding[];
}

interface EntryLine {
  index: number;
  kind: 'license' | 'certificate' | 'revocations';
  document: string;
  documentHash: string;
  loggedAt: string;
}

async function licensekit(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [join(repoRoot, 'packages/cli/bin/licensekit.mjs'), ...args],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    return { code: 0, out: stdout, err: stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, out: failed.stdout, err: failed.stderr };
  }
}

/** The bytes a log entry holds, back to a decoded document. */
function decodeEntry(entry: EntryLine): DecodedDocument {
  const bytes = base64urlDecode(entry.document);
  return bytes[0] === 0xd2
    ? decodeDocument(bytes, entry.kind)
    : decodeDocument(utf8Decode(bytes), entry.kind);
}

describe('licensekit export and audit store', () => {
  let store: RunningStore;
  const dir = mkdtempSync(join(tmpdir(), 'licensekit-audit-store-'));
  const dataDir = join(dir, 'store');
  const exported = join(dir, 'export');
  const rootFile = join(dir, 'root.pub.json');
  let logKey = '';
  let copies = 0;
  /** The license that was upgraded, and its upgrade order. */
  let upgraded = { licenseId: '', orderId: '' };
  let issuerKid = '';
  const timings = { export: 0, audit: 0 };

  const api = async (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${store.url}${path}`, init);
  const json = async <T>(response: Response): Promise<T> => {
    if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  const admin = (path: string, body?: unknown) =>
    api(path, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const checkpoint = () => admin('/v1/admin/log/checkpoint');

  async function buy(planId: string, extra: Record<string, unknown> = {}) {
    const reply = await json<{ license: { id: string; key: string } }>(
      await api('/v1/checkout', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
        body: JSON.stringify({
          productId: 'photon',
          planId,
          email: `buyer-${randomUUID()}@example.com`,
          ...extra,
        }),
      }),
    );
    return reply.license;
  }
  const keyPost = (key: string, path: string, body: unknown) =>
    api(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
    });
  const refresh = async (key: string, format?: 'jwt') =>
    json(await keyPost(key, '/v1/licenses/refresh', format ? { format } : {}));
  const changePlan = async (key: string, body: Record<string, unknown>) =>
    json<{ order?: { id: string }; token?: string }>(
      await keyPost(key, '/v1/licenses/plan', { confirm: true, ...body }),
    );

  async function audit(exportDir: string, ...extra: string[]) {
    return licensekit(
      'audit',
      'store',
      exportDir,
      '--trust',
      rootFile,
      '--log-key',
      logKey,
      '--json',
      ...extra,
    );
  }

  async function auditJson(
    exportDir: string,
    ...extra: string[]
  ): Promise<AuditJson & { code: number }> {
    const result = await audit(exportDir, ...extra);
    expect(result.err).toBe('');
    return { ...(JSON.parse(result.out) as AuditJson), code: result.code };
  }

  const kinds = (report: AuditJson) => new Set(report.findings.map((finding) => finding.kind));

  /** A fresh copy of the clean export to tamper with. */
  function copy(): string {
    const target = join(dir, `copy-${++copies}`);
    cpSync(exported, target, { recursive: true });
    return target;
  }
  const readEntries = (exportDir: string): EntryLine[] =>
    readFileSync(join(exportDir, 'entries.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as EntryLine);
  const writeEntries = (exportDir: string, entries: readonly EntryLine[]) =>
    writeFileSync(
      join(exportDir, 'entries.jsonl'),
      entries.map((entry) => JSON.stringify(entry)).join('\n') + '\n',
    );
  const tokensOf = (entries: readonly EntryLine[], licenseId: string) =>
    entries.filter(
      (entry) =>
        entry.kind === 'license' && readLicenseClaims(decodeEntry(entry)).sub === licenseId,
    );

  /** Re-signs a license token with changed claims, with the issuer key from the data dir. */
  async function resign(
    entry: EntryLine,
    change: (claims: LicenseClaims) => LicenseClaims,
  ): Promise<EntryLine> {
    const document = decodeEntry(entry);
    const claims = change(readLicenseClaims(document));
    const jwk = JSON.parse(readFileSync(join(dataDir, 'keys', 'issuer.json'), 'utf8'));
    const key = createPrivateKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d },
      format: 'jwk',
    });
    const prepared = prepareLicense(claims, {
      format: document.format,
      kid: document.kid,
      certificate: document.certificate,
    });
    const token = prepared.finish(new Uint8Array(sign(null, prepared.signingInput, key)));
    const bytes = document.format === 'jwt' ? utf8Encode(token) : base64urlDecode(token);
    return {
      ...entry,
      document: base64urlEncode(bytes),
      documentHash: await tokenHash(bytes),
    };
  }

  /** Signs a checkpoint with the log key from the data dir (what a thief of it could do). */
  async function signLogCheckpoint(size: number, rootHash: Uint8Array): Promise<string> {
    const jwk = JSON.parse(readFileSync(join(dataDir, 'keys', 'log.json'), 'utf8'));
    const origin = readFileSync(join(dataDir, 'keys', 'log.origin'), 'utf8').trim();
    const backend = await defaultBackend();
    const privateKey = await backend.importPrivateKey(base64urlDecode(jwk.d));
    return signCheckpoint({ origin, size, rootHash }, { name: origin, privateKey, backend });
  }

  async function rootOf(entries: readonly EntryLine[]): Promise<Uint8Array> {
    const leaves = await Promise.all(
      entries.map((entry) => logEntryHash(entry.kind, base64urlDecode(entry.document))),
    );
    const { root } = await appendLeaves(EMPTY_FRONTIER, leaves);
    return root;
  }

  beforeAll(async () => {
    store = await startStore(
      {
        port: 0,
        dataDir,
        seedDemo: true,
        adminToken: ADMIN_TOKEN,
        logger: false,
        licensing: { billing: { enabled: false } },
        operations: { webhooks: { enabled: false } },
        log: { checkpointIntervalMs: 0 },
      },
      false,
    );
    writeFileSync(rootFile, JSON.stringify(store.rootPublicJwk));
    const keys = await json<{ log: { key: string }; issuers: { key: { kid: string } }[] }>(
      await api('/v1/keys'),
    );
    logKey = keys.log.key;
    issuerKid = keys.issuers[0]!.key.kid;

    // A few dozen tokens: purchases, refreshes (one as JWT), an upgrade with a prorated
    // charge, a seat change, a downgrade and a cancellation announced in tokens; a
    // checkpoint after each phase, so the history has several sizes.
    const pro = await buy('pro-monthly');
    const free = await buy('free');
    const team = await buy('team-yearly', { seats: 3 });
    const lifetime = await buy('lifetime');
    await checkpoint();
    for (const license of [pro, free, team, lifetime]) await refresh(license.key);
    await refresh(pro.key, 'jwt');
    await checkpoint();
    const upgrade = await changePlan(free.key, { planId: 'pro-monthly' });
    upgraded = { licenseId: free.id, orderId: upgrade.order!.id };
    await changePlan(team.key, { planId: 'team-yearly', seats: 5 });
    await changePlan(pro.key, { planId: 'free' });
    await refresh(pro.key);
    await checkpoint();
    const other = await buy('pro-monthly');
    await json(await keyPost(other.key, '/v1/licenses/cancel', {}));
    for (let round = 0; round < 3; round++) {
      for (const license of [pro, free, team, other]) await refresh(license.key);
    }
    await checkpoint();

    const started = performance.now();
    const result = await licensekit(
      'export',
      '--store',
      store.url,
      '--token',
      ADMIN_TOKEN,
      '--out',
      exported,
    );
    timings.export = performance.now() - started;
    expect(result, result.err).toMatchObject({ code: 0 });
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
    console.log(
      `audit-store: export ${timings.export.toFixed(0)} ms, audit ${timings.audit.toFixed(0)} ms (CLI processes, test store)`,
    );
  });

  test('the export holds every entry, checkpoint, license and order; no e-mail, no key', () => {
    const manifest = JSON.parse(readFileSync(join(exported, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      format: 'licensekit-export',
      version: 1,
      checkpointHistory: true,
    });
    const entries = readEntries(exported);
    expect(entries).toHaveLength(manifest.treeSize);
    expect(entries.map((entry) => entry.index)).toEqual(entries.map((_, i) => i));
    expect(entries.filter((entry) => entry.kind === 'license').length).toBeGreaterThan(25);
    expect(manifest.files['checkpoints.jsonl'].records).toBeGreaterThanOrEqual(4);
    const text = ['orders.jsonl', 'licenses.jsonl']
      .map((file) => readFileSync(join(exported, file), 'utf8'))
      .join('');
    expect(text).not.toContain('@example.com');
    expect(text).not.toMatch(/LK-[0-9A-Z]/);
    expect(text).toContain(upgraded.orderId);
  });

  test('the clean export audits clean: exit 0, every token counted', async () => {
    const started = performance.now();
    const report = await auditJson(exported);
    timings.audit = performance.now() - started;
    expect(report.findings).toEqual([]);
    expect(report).toMatchObject({ code: 0, verdict: 'clean', schema: 'licensekit.audit-store/1' });
    expect(report.counts.licenses).toBe(5);
    expect(report.counts.tokens).toBeGreaterThan(25);
    // The same verdict without workers, and a readable table without --json.
    expect((await auditJson(exported, '--workers', '0')).findings).toEqual([]);
    const text = await licensekit(
      'audit',
      'store',
      exported,
      '--trust',
      rootFile,
      '--log-key',
      logKey,
    );
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/lineage \(seq, prev, time, raised terms vs orders\)\s+ok/);
    expect(text.out).toContain('CLEAN');
    expect(text.err).toBe('');
  });

  test('usage errors exit 2: no trust, no log key, not an export', async () => {
    expect((await licensekit('audit', 'store', exported, '--log-key', logKey)).code).toBe(2);
    expect((await licensekit('audit', 'store', exported, '--trust', rootFile)).code).toBe(2);
    const bad = await licensekit(
      'audit',
      'store',
      exported,
      '--trust',
      rootFile,
      '--log-key',
      'nope',
    );
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--log-key');
    expect(
      (await licensekit('audit', 'store', dir, '--trust', rootFile, '--log-key', logKey)).code,
    ).toBe(2);
    expect(
      (await licensekit('export', '--store', store.url, '--token', ADMIN_TOKEN, '--out', exported))
        .code,
    ).toBe(2);
  });

  test('a deleted token: index gap, seq gap, root mismatch', async () => {
    const target = copy();
    const entries = readEntries(target);
    const victim = tokensOf(entries, upgraded.licenseId)[1]!;
    writeEntries(
      target,
      entries.filter((entry) => entry !== victim),
    );
    const report = await auditJson(target);
    expect(report.code).toBe(1);
    expect([...kinds(report)]).toEqual(
      expect.arrayContaining(['log.index_gap', 'lineage.seq_gap', 'log.root_mismatch']),
    );
    expect(report.findings).toContainEqual(
      expect.objectContaining({ kind: 'log.index_gap', index: victim.index }),
    );
    expect(report.findings).toContainEqual(
      expect.objectContaining({ kind: 'lineage.seq_gap', license: upgraded.licenseId }),
    );
  });

  test('a token whose signature lost one bit: a bad signature on that entry, none elsewhere', async () => {
    // The audit checks a chunk's signatures as one batch (batch-verify/batch.ts): a batch
    // that fails is checked token by token, so the finding names the one entry.
    const target = copy();
    const entries = readEntries(target);
    const victim = tokensOf(entries, upgraded.licenseId)[1]!;
    const bytes = base64urlDecode(victim.document);
    expect(bytes[0]).toBe(0xd2); // a COSE_Sign1: the signature is its last 64 bytes
    bytes[bytes.length - 1]! ^= 0x01;
    const altered = {
      ...victim,
      document: base64urlEncode(bytes),
      documentHash: await tokenHash(bytes),
    };
    writeEntries(
      target,
      entries.map((entry) => (entry === victim ? altered : entry)),
    );
    const report = await auditJson(target);
    expect(report.code).toBe(1);
    expect(report.findings.filter((finding) => finding.kind === 'document.bad_signature')).toEqual([
      expect.objectContaining({ index: victim.index }),
    ]);
  });

  test('an inserted token (same seq, raised quota, indexes renumbered): equivocation', async () => {
    const target = copy();
    const entries = readEntries(target);
    const original = tokensOf(entries, upgraded.licenseId)[2]!;
    const forged = await resign(original, (claims) => ({
      ...claims,
      jti: base64urlEncode(crypto.getRandomValues(new Uint8Array(16))),
      quota: { ...claims.quota, exports: { limit: 1_000_000, per: 'month' } },
    }));
    const at = entries.indexOf(original) + 1;
    const tampered = [...entries.slice(0, at), forged, ...entries.slice(at)].map(
      (entry, index) => ({
        ...entry,
        index,
      }),
    );
    writeEntries(target, tampered);
    const report = await auditJson(target);
    expect(report.code).toBe(1);
    expect(report.findings).toContainEqual(
      expect.objectContaining({
        kind: 'lineage.equivocation',
        license: upgraded.licenseId,
        index: at,
      }),
    );
    expect(kinds(report).has('log.root_mismatch')).toBe(true);
  });

  test('reordered tokens: index out of order, lineage out of order', async () => {
    const target = copy();
    const entries = readEntries(target);
    const [first, second] = tokensOf(entries, upgraded.licenseId).slice(1, 3);
    const a = entries.indexOf(first!);
    const b = entries.indexOf(second!);
    [entries[a], entries[b]] = [entries[b]!, entries[a]!];
    writeEntries(target, entries);
    const report = await auditJson(target);
    expect(report.code).toBe(1);
    expect(report.findings).toContainEqual(
      expect.objectContaining({ kind: 'log.index_out_of_order', index: first!.index }),
    );
    expect(report.findings).toContainEqual(
      expect.objectContaining({ kind: 'lineage.out_of_order', license: upgraded.licenseId }),
    );
    expect(kinds(report).has('log.root_mismatch')).toBe(true);
  });

  test('a backdated iat, re-signed with the issuer key: backdated, time regressed', async () => {
    const target = copy();
    const entries = readEntries(target);
    const tokens = tokensOf(entries, upgraded.licenseId);
    const last = tokens[tokens.length - 1]!;
    const backdated = await resign(last, (claims) => ({
      ...claims,
      iat: claims.iat - 10 * 86_400,
      nbf: claims.nbf - 10 * 86_400,
    }));
    writeEntries(
      target,
      entries.map((entry) => (entry === last ? backdated : entry)),
    );
    const report = await auditJson(target);
    expect(report.code).toBe(1);
    expect(report.findings).toContainEqual(
      expect.objectContaining({ kind: 'lineage.backdated', index: last.index }),
    );
    expect(report.findings).toContainEqual(
      expect.objectContaining({ kind: 'lineage.time_regressed', index: last.index }),
    );
    expect(kinds(report).has('log.root_mismatch')).toBe(true);
  });

  test('a raised quota re-signed with the stolen issuer key, never logged', async () => {
    const entries = readEntries(exported);
    const tokens = tokensOf(entries, upgraded.licenseId);
    const last = tokens[tokens.length - 1]!;
    const lastClaims = readLicenseClaims(decodeEntry(last));
    const forged = await resign(last, (claims) => ({
      ...claims,
      seq: claims.seq + 1,
      prev: last.documentHash,
      jti: base64urlEncode(crypto.getRandomValues(new Uint8Array(16))),
      quota: { ...claims.quota, exports: { limit: 1_000_000, per: 'month' } },
    }));
    // Found in the field (a customer's machine): the audit says it is not in the log.
    const found = join(dir, 'found.lic');
    const bytes = base64urlDecode(forged.document);
    writeFileSync(found, bytes[0] === 0xd2 ? base64urlEncode(bytes) : utf8Decode(bytes));
    const field = await auditJson(exported, '--token', found);
    expect(field.code).toBe(1);
    expect(field.findings).toEqual([
      expect.objectContaining({ kind: 'log.not_included', severity: 'error' }),
    ]);
    expect(field.findings[0]!.message).toContain(`seq ${lastClaims.seq + 1}`);

    // Slipped into the export's entries: beyond the signed log, raised without an order.
    const target = copy();
    writeEntries(target, [...entries, { ...forged, index: entries.length }]);
    const report = await auditJson(target);
    expect(report.code).toBe(1);
    expect([...kinds(report)]).toEqual(
      expect.arrayContaining([
        'log.unsigned_entries',
        'lineage.unjustified_increase',
        'lineage.seq_beyond_store',
      ]),
    );
    expect(report.findings).toContainEqual(
      expect.objectContaining({
        kind: 'lineage.unjustified_increase',
        license: upgraded.licenseId,
        index: entries.length,
      }),
    );
  });

  test('a forked log: a second checkpoint of one size with another root', async () => {
    const target = copy();
    const history = readFileSync(join(target, 'checkpoints.jsonl'), 'utf8').trim().split('\n');
    const { size } = JSON.parse(history[1]!) as { size: number };
    const fake = await signLogCheckpoint(size, new Uint8Array(32).fill(7));
    writeFileSync(
      join(target, 'checkpoints.jsonl'),
      [
        ...history,
        JSON.stringify({ size, checkpoint: fake, createdAt: new Date().toISOString() }),
      ].join('\n') + '\n',
    );
    const report = await auditJson(target);
    expect(report.code).toBe(1);
    expect(report.findings).toContainEqual(expect.objectContaining({ kind: 'log.fork' }));
    expect(report.findings.find((finding) => finding.kind === 'log.fork')!.message).toContain(
      `size ${size}`,
    );
  });

  test('a shrunk log: entries cut and a smaller checkpoint signed after larger ones', async () => {
    const target = copy();
    const entries = readEntries(target);
    const kept = entries.slice(0, entries.length - 5);
    writeEntries(target, kept);
    writeFileSync(
      join(target, 'checkpoint.txt'),
      await signLogCheckpoint(kept.length, await rootOf(kept)),
    );
    const report = await auditJson(target);
    expect(report.code).toBe(1);
    expect(report.findings).toContainEqual(expect.objectContaining({ kind: 'log.shrunk' }));
    // The entries and the new head agree with each other: only the history shows the shrink.
    expect(kinds(report).has('log.root_mismatch')).toBe(false);
  });

  test('an upgrade token without its order: unjustified increase', async () => {
    const target = copy();
    const orders = readFileSync(join(target, 'orders.jsonl'), 'utf8').trim().split('\n');
    writeFileSync(
      join(target, 'orders.jsonl'),
      orders.filter((line) => !line.includes(upgraded.orderId)).join('\n') + '\n',
    );
    const report = await auditJson(target);
    expect(report.code).toBe(1);
    const finding = report.findings.find((f) => f.kind === 'lineage.unjustified_increase');
    expect(finding).toMatchObject({ license: upgraded.licenseId, severity: 'error' });
    expect(finding!.message).toContain('plan free → pro-monthly');
  });

  test('an upgrade charged one cent more than the proration: charge mismatch', async () => {
    const target = copy();
    const orders = readFileSync(join(target, 'orders.jsonl'), 'utf8').trim().split('\n');
    const charged = orders.map((line) => {
      const order = JSON.parse(line) as { id: string; amount: number };
      return order.id === upgraded.orderId
        ? JSON.stringify({ ...order, amount: order.amount + 1 })
        : line;
    });
    writeFileSync(join(target, 'orders.jsonl'), charged.join('\n') + '\n');
    const report = await auditJson(target);
    expect(report.code).toBe(1);
    const mismatch = report.findings.filter((finding) => finding.kind === 'charge.mismatch');
    expect(mismatch).toHaveLength(1);
    expect(mismatch[0]).toMatchObject({ license: upgraded.licenseId, severity: 'warning' });
    expect(mismatch[0]!.message).toContain(upgraded.orderId);
  });

  test('a known checkpoint the export does not extend (a rewritten history) is caught', async () => {
    const entries = readEntries(exported);
    const larger = await signLogCheckpoint(entries.length + 3, new Uint8Array(32).fill(9));
    const file = join(dir, 'witnessed.checkpoint');
    writeFileSync(file, larger);
    const report = await auditJson(exported, '--checkpoint', file);
    expect(report.code).toBe(1);
    expect(report.findings).toContainEqual(expect.objectContaining({ kind: 'log.shrunk' }));
  });

  test('a revoked issuer key used after its revocation (a thief of the key): revoked key used', async () => {
    // The store itself refuses to revoke the key it signs with (its tokens would all be
    // refused): rotate first, then revoke.
    const refused = await admin('/v1/admin/revocations', {
      kind: 'key',
      value: issuerKid,
      reason: 'stolen',
    });
    expect(refused.status).toBe(409);
    // The thief's story, on a copy: the operator revoked the key (a list signed with the
    // root key, logged), and a token signed with the stolen key appears after it.
    const target = copy();
    const entries = readEntries(target);
    const lists = entries.filter((entry) => entry.kind === 'revocations');
    const seq =
      lists.length === 0
        ? 1
        : Math.max(...lists.map((entry) => readRevocationClaims(decodeEntry(entry)).seq)) + 1;
    const root = await createSigner(
      JSON.parse(readFileSync(join(dataDir, 'keys', 'root.json'), 'utf8')),
    );
    const now = Math.floor(Date.now() / 1000);
    const list = await createRevocationList({
      signer: root,
      vendor: 'acme',
      seq,
      now,
      next: now + 86_400,
      keys: [issuerKid],
    });
    const listBytes = list.includes('.') ? utf8Encode(list) : base64urlDecode(list);
    const last = tokensOf(entries, upgraded.licenseId).at(-1)!;
    const stolen = await resign(last, (claims) => ({
      ...claims,
      seq: (claims.seq ?? 0) + 1,
      iat: now + 60,
      nbf: now + 60,
      jti: base64urlEncode(new Uint8Array(16).fill(7)),
      prev: last.documentHash,
    }));
    const appended = [
      {
        ...last,
        kind: 'revocations' as const,
        document: base64urlEncode(listBytes),
        documentHash: await tokenHash(listBytes),
      },
      stolen,
    ].map((entry, i) => ({ ...entry, index: entries.length + i }));
    const all = [...entries, ...appended];
    writeEntries(target, all);
    writeFileSync(
      join(target, 'checkpoint.txt'),
      await signLogCheckpoint(all.length, await rootOf(all)),
    );
    const report = await auditJson(target);
    expect(report.code).toBe(1);
    expect(report.findings).toContainEqual(
      expect.objectContaining({ kind: 'key.revoked_key_used', license: upgraded.licenseId }),
    );
  });

  test('export --data: the stopped store run in-process gives the same log', async () => {
    const online = join(dir, 'export-before-stop');
    const before = await licensekit(
      'export',
      '--store',
      store.url,
      '--token',
      ADMIN_TOKEN,
      '--out',
      online,
    );
    expect(before.code, before.err).toBe(0);
    await store.close();
    const local = join(dir, 'export-data');
    const result = await licensekit('export', '--data', dataDir, '--out', local);
    expect(result.code, result.err).toBe(0);
    expect(result.err).toContain(`from data:${dataDir}`);
    expect(readEntries(local)).toEqual(readEntries(online));
    const report = await auditJson(local);
    expect(report.code, JSON.stringify(report.findings)).toBe(0);
  });
});
