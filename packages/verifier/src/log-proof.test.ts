/**
 * requireLogProof: a license is accepted only with an inclusion proof under a checkpoint
 * signed by a trusted log key. Real logs (core's MemoryTree and signed checkpoints, see
 * testing/log.ts), real Ed25519 tokens in both formats, an injected clock. Every way a
 * proof can fail is `not_logged` with its reason, never a throw.
 */
import type { LicenseClaims, TokenFormat } from '@licensekit/core';
import { ConfigError } from '@licensekit/core';
import type { LogProofBundle } from '@licensekit/core/log';
import { afterAll, beforeAll, describe, expect, it, test } from 'vitest';
import {
  DAY,
  FORMATS,
  generateTestKey,
  licenseClaims,
  makePki,
  type Overrides,
  PRODUCT,
  revocationClaims,
  signLicense,
  signRevocationList,
  T0,
  type TestKey,
} from '../../../test/support/tokens.js';
import { createVerifier as createCompactVerifier } from './compact.js';
import { enableLogProofs } from './enable-log-proofs.js';
import type { RefreshOutcome, Verifier, VerifierOptions } from './index.js';
import { createVerifier, LOG_PROOF_PATH, STATUSES } from './index.js';
import { LOG_PROOF_MESSAGES } from './log-messages.js';
import {
  hashOf,
  inspectableState,
  issueLicense,
  marks,
  renewLicense,
  testClock,
} from './testing/harness.js';
import { type TestLog, testLog, testLogKey } from './testing/log.js';
import { type ScriptedStore, startStore } from './testing/store-server.js';

const NOW = T0 + DAY;

// The opt-in every app with requireLogProof makes (log-proof-opt-in.test.ts: without it).
enableLogProofs();

interface Setup {
  issuer: TestKey;
  log: TestLog;
  verifier: Verifier;
  state: ReturnType<typeof inspectableState>;
  clock: ReturnType<typeof testClock>;
  issue(overrides?: Overrides<LicenseClaims>): string;
  /** Issues a token, logs it, and returns it with its bundle. */
  logged(overrides?: Overrides<LicenseClaims>): Promise<{ token: string; proof: LogProofBundle }>;
}

async function setup(format: TokenFormat, options: Partial<VerifierOptions> = {}): Promise<Setup> {
  const issuer = generateTestKey();
  const log = await testLog();
  const clock = testClock(NOW);
  const state = inspectableState(PRODUCT);
  const verifier = createVerifier({
    trust: { issuers: [issuer.jwk], logKeys: [log.key.verifierKey] },
    requireLogProof: true,
    product: PRODUCT,
    clock: clock.read,
    state: state.store,
    ...options,
  });
  const issue = (overrides: Overrides<LicenseClaims> = {}) =>
    signLicense(issuer, licenseClaims(overrides), { format });
  return {
    issuer,
    log,
    verifier,
    state,
    clock,
    issue,
    async logged(overrides = {}) {
      const token = issue(overrides);
      await log.append(token);
      return { token, proof: await log.proof(token) };
    },
  };
}

const notLogged = (reason: keyof typeof LOG_PROOF_MESSAGES) => ({
  valid: false,
  status: 'not_logged',
  reason,
  message: LOG_PROOF_MESSAGES[reason],
});

/** Standard padded base64 of 32 bytes with one bit of the first byte flipped. */
function flipHash(hash: string): string {
  const bytes = Buffer.from(hash, 'base64');
  bytes[0] = (bytes[0] ?? 0) ^ 1;
  return bytes.toString('base64');
}

describe.each(FORMATS)('requireLogProof (%s)', (format) => {
  test('accepts a token with a valid bundle: as an object, as JSON text, with the store’s kind', async () => {
    const { verifier, logged } = await setup(format);
    const { token, proof } = await logged();
    expect(await verifier.verify(token, { logProof: proof })).toMatchObject({
      valid: true,
      status: 'active',
    });
    expect((await verifier.verify(token, { logProof: JSON.stringify(proof) })).status).toBe(
      'active',
    );
    // GET /v1/log/proof answers the bundle with the entry's kind.
    const fromStore = { ...proof, kind: 'license' };
    expect((await verifier.verify(token, { logProof: fromStore })).status).toBe('active');
    expect((await verifier.verify(token, { logProof: JSON.stringify(fromStore) })).status).toBe(
      'active',
    );
  });

  test('accepts a token whose issuer key is certified by a root', async () => {
    const { root, issuer, certificate } = makePki(format);
    const log = await testLog();
    const verifier = createVerifier({
      trust: { roots: [root.jwk], logKeys: [log.key.verifierKey] },
      requireLogProof: true,
      product: PRODUCT,
      clock: () => NOW * 1000,
    });
    const token = signLicense(issuer, licenseClaims(), { format, certificate });
    await log.append(token);
    expect(await verifier.verify(token, { logProof: await log.proof(token) })).toMatchObject({
      valid: true,
      status: 'active',
    });
  });

  test('log_proof_missing without a bundle; the claims are there, the marks do not move', async () => {
    const { verifier, logged, state } = await setup(format);
    const { token } = await logged();
    const before = marks(state.data);
    for (const options of [undefined, {}, { logProof: undefined }]) {
      const result = await verifier.verify(token, options);
      expect(result).toMatchObject(notLogged('log_proof_missing'));
      // Signed by a trusted key: the app may show whose license it is.
      expect(result.claims?.sub).toBe(licenseClaims().sub);
    }
    expect(state.data).toEqual(before);
  });

  test('not_included: the bundle of another token', async () => {
    const { verifier, logged } = await setup(format);
    const first = await logged();
    const second = await logged();
    expect(await verifier.verify(first.token, { logProof: second.proof })).toMatchObject(
      notLogged('not_included'),
    );
    expect((await verifier.verify(second.token, { logProof: second.proof })).valid).toBe(true);
  });

  test('not_included: a token that was never logged, shown with a logged neighbour’s proof', async () => {
    const { verifier, logged, issue } = await setup(format);
    const { proof } = await logged();
    expect(await verifier.verify(issue(), { logProof: proof })).toMatchObject(
      notLogged('not_included'),
    );
  });

  test('not_included: a tampered inclusion path, a wrong index', async () => {
    const { verifier, logged } = await setup(format);
    const { token, proof } = await logged();
    expect(proof.inclusion.length).toBeGreaterThan(1);
    for (let i = 0; i < proof.inclusion.length; i++) {
      const inclusion = proof.inclusion.map((hash, j) => (j === i ? flipHash(hash) : hash));
      expect(await verifier.verify(token, { logProof: { ...proof, inclusion } })).toMatchObject(
        notLogged('not_included'),
      );
    }
    const shorter = { ...proof, inclusion: proof.inclusion.slice(0, -1) };
    expect((await verifier.verify(token, { logProof: shorter })).reason).toBe('not_included');
    const moved = { ...proof, index: proof.index - 1 };
    expect((await verifier.verify(token, { logProof: moved })).reason).toBe('not_included');
  });

  test('log_key_untrusted: a checkpoint signed by a key the app does not trust', async () => {
    const { verifier, log, issue } = await setup(format);
    const token = issue();
    await log.append(token);
    // The same tree, the same origin, another key: a log run by someone else.
    const stranger = await testLogKey(log.key.name);
    const proof = await log.proof(token, { signer: stranger });
    expect(await verifier.verify(token, { logProof: proof })).toMatchObject(
      notLogged('log_key_untrusted'),
    );
  });

  test('log_key_untrusted: a trusted key signing a checkpoint of another origin', async () => {
    const { verifier, log, issue } = await setup(format);
    const token = issue();
    await log.append(token);
    const proof = await log.proof(token, { origin: 'other.example/log' });
    expect(await verifier.verify(token, { logProof: proof })).toMatchObject(
      notLogged('log_key_untrusted'),
    );
  });

  test('log_proof_invalid: an edited checkpoint (root hash or size), a treeSize it does not sign', async () => {
    const { verifier, logged } = await setup(format);
    const { token, proof } = await logged();
    const [origin, size, root, ...rest] = proof.checkpoint.split('\n');
    const edits = [
      [origin, size, flipHash(root ?? ''), ...rest].join('\n'),
      [origin, String(Number(size) + 1), root, ...rest].join('\n'),
    ];
    for (const checkpoint of edits) {
      expect(await verifier.verify(token, { logProof: { ...proof, checkpoint } })).toMatchObject(
        notLogged('log_proof_invalid'),
      );
    }
    const bigger = { ...proof, treeSize: proof.treeSize + 1 };
    expect((await verifier.verify(token, { logProof: bigger })).reason).toBe('log_proof_invalid');
  });

  test('log_proof_invalid, never a throw: truncated, garbage and mis-shaped bundles', async () => {
    const { verifier, logged } = await setup(format);
    const { token, proof } = await logged();
    const text = JSON.stringify(proof);
    const garbage: unknown[] = [
      text.slice(0, text.length / 2),
      text.slice(0, -1),
      `${text}x`,
      '',
      'null',
      '{}',
      '[]',
      'not json at all',
      `{"index":${proof.index},"index":${proof.index},${text.slice(1)}`,
      'x'.repeat(100_000),
      0,
      true,
      [],
      [proof],
      {},
      { ...proof, extra: 1 },
      { ...proof, kind: 'certificate' },
      { ...proof, index: -1 },
      { ...proof, index: proof.treeSize },
      { ...proof, index: 1.5 },
      { ...proof, treeSize: '7' },
      { ...proof, inclusion: 'AAAA' },
      { ...proof, inclusion: [...proof.inclusion.slice(1), 'AAAA'] },
      { ...proof, inclusion: Array.from({ length: 65 }, () => proof.inclusion[0]) },
      { ...proof, checkpoint: '' },
      { ...proof, checkpoint: proof.checkpoint.slice(0, 40) },
      { ...proof, checkpoint: 7 },
      { ...proof, checkpoint: 'x'.repeat(20_000) },
    ];
    for (const logProof of garbage) {
      const result = await verifier.verify(token, { logProof: logProof as string });
      expect(result, JSON.stringify(logProof)?.slice(0, 80)).toMatchObject(
        notLogged('log_proof_invalid'),
      );
    }
    // null counts as no proof at all.
    expect((await verifier.verify(token, { logProof: null as unknown as string })).reason).toBe(
      'log_proof_missing',
    );
  });

  test('order: a token both unlogged and expired (or for another product) is not_logged', async () => {
    const { verifier, issue, clock } = await setup(format);
    const token = issue();
    clock.set(T0 + 60 * DAY);
    expect(await verifier.verify(token)).toMatchObject(notLogged('log_proof_missing'));
    const other = issue({ aud: 'other-product' });
    expect((await verifier.verify(other)).status).toBe('not_logged');
    expect(STATUSES.indexOf('not_logged')).toBe(STATUSES.indexOf('invalid_signature') + 1);
    expect(STATUSES.indexOf('not_logged')).toBe(STATUSES.indexOf('revoked') - 1);
  });

  test('order: not_logged before revoked; with its proof the revoked token is revoked', async () => {
    const { verifier, logged, issuer } = await setup(format);
    const { token, proof } = await logged();
    const list = signRevocationList(issuer, revocationClaims({ licenses: [licenseClaims().sub] }), {
      format,
    });
    expect((await verifier.updateRevocations(list)).accepted).toBe(true);
    expect(await verifier.verify(token)).toMatchObject(notLogged('log_proof_missing'));
    expect(await verifier.verify(token, { logProof: proof })).toMatchObject({
      status: 'revoked',
      reason: 'license_revoked',
    });
  });

  test('order: with a proof, the later statuses apply as before (expired, wrong_product)', async () => {
    const { verifier, logged, clock } = await setup(format);
    const expired = await logged();
    const other = await logged({ aud: 'other-product' });
    clock.set(T0 + 60 * DAY);
    expect(await verifier.verify(expired.token, { logProof: expired.proof })).toMatchObject({
      status: 'expired',
    });
    expect((await verifier.verify(other.token, { logProof: other.proof })).status).toBe(
      'wrong_product',
    );
  });

  test('order: a bad signature is invalid_signature, an unknown key untrusted_key, even when logged', async () => {
    const { verifier, log, issuer } = await setup(format);
    const forged = signLicense(generateTestKey(), licenseClaims(), { format, kid: issuer.kid });
    await log.append(forged);
    const result = await verifier.verify(forged, { logProof: await log.proof(forged) });
    expect(result).toMatchObject({ status: 'invalid_signature', reason: 'signature_mismatch' });
    expect(result.claims).toBeUndefined();
    expect((await verifier.verify(forged)).status).toBe('invalid_signature');
    const stranger = signLicense(generateTestKey(), licenseClaims(), { format });
    expect((await verifier.verify(stranger)).status).toBe('untrusted_key');
    expect((await verifier.verify('not a token')).status).toBe('malformed');
  });

  test('off (the default): proofs are ignored entirely, even garbage', async () => {
    const issuer = generateTestKey();
    const verifier = createVerifier({
      trust: { issuers: [issuer.jwk] },
      product: PRODUCT,
      clock: () => NOW * 1000,
    });
    const token = signLicense(issuer, licenseClaims(), { format });
    for (const logProof of [undefined, 'garbage', { index: 1 }]) {
      expect((await verifier.verify(token, { logProof: logProof as string })).status).toBe(
        'active',
      );
    }
  });

  test('a re-check with the same proof, and a cached token with a bad proof', async () => {
    const { verifier, logged } = await setup(format);
    const { token, proof } = await logged();
    for (let i = 0; i < 3; i++) {
      expect((await verifier.verify(token, { logProof: proof })).status).toBe('active');
    }
    // The cache remembers the proof that verified, never the token's standing.
    expect((await verifier.verify(token)).reason).toBe('log_proof_missing');
    const tampered = {
      ...proof,
      inclusion: [flipHash(proof.inclusion[0] ?? ''), ...proof.inclusion.slice(1)],
    };
    expect((await verifier.verify(token, { logProof: tampered })).reason).toBe('not_included');
    expect((await verifier.verify(token, { logProof: proof })).status).toBe('active');
  });

  test('consume and usage take the proof too; without it nothing is spent', async () => {
    const { verifier, logged, state } = await setup(format);
    const { token, proof } = await logged();
    const refused = await verifier.consume(token, 'exports', 1);
    expect(refused).toMatchObject({ granted: false, reason: 'not_logged' });
    expect(refused.license.reason).toBe('log_proof_missing');
    expect(state.data.usage).toEqual({});
    const spent = await verifier.consume(token, 'exports', 2, { logProof: proof });
    expect(spent).toMatchObject({ granted: true, used: 2 });
    const unknown = await verifier.consume(token, 'nothing', 1, { logProof: proof });
    expect(unknown.reason).toBe('unknown_quota');
    expect((await verifier.usage(token, { logProof: proof })).usage.exports?.used).toBe(2);
    expect((await verifier.usage(token)).license.status).toBe('not_logged');
    expect((await verifier.usageReport(token, { logProof: proof })).license.valid).toBe(true);
  });
});

describe('requireLogProof configuration', () => {
  const issuer = generateTestKey();
  const base = { product: PRODUCT, clock: () => NOW * 1000 };

  test('requireLogProof needs trust.logKeys, and logKeys need requireLogProof (ConfigError at once)', async () => {
    const key = (await testLogKey()).verifierKey;
    const misconfigured: VerifierOptions[] = [
      { ...base, trust: { issuers: [issuer.jwk] }, requireLogProof: true },
      { ...base, trust: { issuers: [issuer.jwk], logKeys: [] }, requireLogProof: true },
      {
        ...base,
        trust: { issuers: [issuer.jwk], logKeys: [7 as unknown as string] },
        requireLogProof: true,
      },
      { ...base, trust: { issuers: [issuer.jwk], logKeys: [key] } },
      { ...base, trust: { issuers: [issuer.jwk], logKeys: [key] }, requireLogProof: false },
      {
        ...base,
        trust: { issuers: [issuer.jwk], logKeys: [key] },
        requireLogProof: 'yes' as unknown as boolean,
      },
    ];
    for (const options of misconfigured) {
      expect(() => createVerifier(options)).toThrow(ConfigError);
    }
  });

  test('a log key string that does not parse rejects the first check with ConfigError', async () => {
    const key = (await testLogKey()).verifierKey;
    const wrongId = key.replace(
      /\+([0-9a-f]{8})\+/,
      (_, id: string) => `+${id === '00000000' ? '00000001' : '00000000'}+`,
    );
    for (const bad of ['not a key', wrongId]) {
      const verifier = createVerifier({
        ...base,
        trust: { issuers: [issuer.jwk], logKeys: [key, bad] },
        requireLogProof: true,
      });
      const token = signLicense(issuer, licenseClaims(), { format: 'cwt' });
      await expect(verifier.verify(token)).rejects.toThrow(/trust\.logKeys\[1\]/);
      await expect(verifier.verify(token)).rejects.toBeInstanceOf(ConfigError);
    }
  });

  test('the compact entry has no log proofs and refuses the option', () => {
    expect(() =>
      createCompactVerifier({
        ...base,
        trust: { issuers: [issuer.jwk] },
        requireLogProof: true,
      } as Parameters<typeof createCompactVerifier>[0]),
    ).toThrow(ConfigError);
  });
});

describe.each(FORMATS)('refreshIfDue with requireLogProof (%s)', (format) => {
  let store: ScriptedStore;
  beforeAll(async () => {
    store = await startStore();
  });
  afterAll(async () => {
    await store.close();
  });

  const DUE = T0 + 21 * DAY;

  async function refreshSetup() {
    const context = await setup(format);
    context.clock.set(DUE);
    const current = issueLicense(context.issuer, format);
    await context.log.append(current.token);
    const currentProof = await context.log.proof(current.token);
    const next = renewLicense(context.issuer, format, current, {
      iat: DUE,
      exp: T0 + 60 * DAY,
      rfa: T0 + 50 * DAY,
    });
    store.requests.length = 0;
    return { ...context, current, currentProof, next };
  }

  const kindOf = <K extends RefreshOutcome['kind']>(outcome: RefreshOutcome, kind: K) => {
    expect(outcome.kind, JSON.stringify(outcome)).toBe(kind);
    return outcome as Extract<RefreshOutcome, { kind: K }>;
  };

  it('installs the new token with the proof from the store’s proof endpoint', async () => {
    const { verifier, log, current, currentProof, next, state } = await refreshSetup();
    await log.append(next.token);
    const nextProof = { ...(await log.proof(next.token)), kind: 'license' };
    store.answer((request) =>
      request.method === 'POST'
        ? { status: 200, body: { token: next.token } }
        : { status: 200, body: nextProof },
    );
    const outcome = kindOf(
      await verifier.refreshIfDue(current.token, { storeUrl: store.url, logProof: currentProof }),
      'refreshed',
    );
    expect(outcome.token).toBe(next.token);
    expect(outcome.logProof).toEqual(nextProof);
    expect(outcome.result).toMatchObject({ valid: true, status: 'active' });
    expect(store.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      'POST /v1/licenses/refresh',
      `GET ${LOG_PROOF_PATH}?hash=${hashOf(next.token)}`,
    ]);
    expect(state.data.licenses[current.claims.sub]?.seq).toBe(1);
    expect((await verifier.verify(next.token, { logProof: outcome.logProof })).valid).toBe(true);
  });

  it('installs the new token with the proof the refresh answer carries, asking nothing more', async () => {
    const { verifier, log, current, currentProof, next } = await refreshSetup();
    await log.append(next.token);
    const logProof = await log.proof(next.token);
    store.answer(() => ({ status: 200, body: { token: next.token, logProof } }));
    const outcome = kindOf(
      await verifier.refreshIfDue(current.token, { storeUrl: store.url, logProof: currentProof }),
      'refreshed',
    );
    expect(outcome.logProof).toEqual(logProof);
    expect(store.requests).toHaveLength(1);
  });

  it('refuses a new token whose proof cannot be had: not installed, the current one still works', async () => {
    const { verifier, current, currentProof, next, state } = await refreshSetup();
    // Not logged: the proof endpoint answers 404.
    store.answer((request) =>
      request.method === 'POST'
        ? { status: 200, body: { token: next.token } }
        : { status: 404, body: { error: { message: 'No log entry for this document.' } } },
    );
    const outcome = kindOf(
      await verifier.refreshIfDue(current.token, { storeUrl: store.url, logProof: currentProof }),
      'failed',
    );
    expect(outcome.error).toMatch(/log proof.*404/);
    expect(state.data.licenses[current.claims.sub]?.seq).toBe(0);
    expect((await verifier.verify(current.token, { logProof: currentProof })).status).toBe(
      'refresh_due',
    );
  });

  it('refuses a new token that comes with another token’s proof', async () => {
    const { verifier, log, current, currentProof, next, state } = await refreshSetup();
    await log.append(next.token);
    store.answer(() => ({ status: 200, body: { token: next.token, logProof: currentProof } }));
    const outcome = kindOf(
      await verifier.refreshIfDue(current.token, { storeUrl: store.url, logProof: currentProof }),
      'failed',
    );
    expect(outcome.error).toMatch(/without a valid log proof \(not_included\)/);
    expect(state.data.licenses[current.claims.sub]?.seq).toBe(0);
    expect((await verifier.verify(current.token, { logProof: currentProof })).status).toBe(
      'refresh_due',
    );
  });

  it('a current token without its proof is not_logged, so not due; force still asks', async () => {
    const { verifier, log, current, next } = await refreshSetup();
    const outcome = kindOf(
      await verifier.refreshIfDue(current.token, { storeUrl: store.url }),
      'not_due',
    );
    expect(outcome.result.status).toBe('not_logged');
    expect(store.requests).toHaveLength(0);

    await log.append(next.token);
    const logProof = await log.proof(next.token);
    store.answer(() => ({ status: 200, body: { token: next.token, logProof } }));
    const forced = kindOf(
      await verifier.refreshIfDue(current.token, { storeUrl: store.url, force: true }),
      'refreshed',
    );
    expect(forced.result.status).toBe('active');
  });
});
