/**
 * Offline activation (`@licensekit/verifier/offline`): requests written with the
 * verifier's device key and state, answered by a simulated store (core's documents, a
 * token issued with @licensekit/issuer bound to the requesting device), imported with
 * every check of `verify`. Hostile responses are each refused with a typed reason and
 * leave the state exactly as it was. The state member that remembers requests works in
 * every adapter and across restarts.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, MalformedError } from '@licensekit/core';
import {
  createOfflineRequest,
  createOfflineResponse,
  licenseKeyHint,
  QR_MAX_BYTES_LEVEL_M,
  qrParts,
  readOfflineRequest,
} from '@licensekit/core/offline';
import fc from 'fast-check';
import jsqr from 'jsqr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRODUCT, T0 } from '../../../test/support/tokens.js';
import { createVerifier as createCompactVerifier } from './compact.js';
import type { StateData, WebStorageLike } from './index.js';
import { createVerifier, keyValueState, memoryState, webStorageState } from './index.js';
import {
  fileState,
  readResponseFile,
  writeRequestFile,
  writeRequestQrCodes,
} from './node/index.js';
import type { OfflineImport, QrMatrix } from './offline/index.js';
import {
  createActivationRequest,
  createRefreshRequest,
  importOfflineResponse,
  listPendingRequests,
  MAX_PENDING_REQUESTS,
  requestQrCodes,
  requestQrMatrices,
  UnusableTokenError,
} from './offline/index.js';
import { emptyState, parseState } from './state/state.js';
import { marks } from './testing/harness.js';
import { testLog } from './testing/log.js';
import { nodeDeviceKey, type OfflineWorld, offlineWorld } from './testing/offline.js';

const KEY = 'LK-7K3QD-M2XWA-9FHRT-C4NVB-Z8P1E';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'licensekit-offline-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** Activates `world`'s verifier through a request and its answer; returns the token. */
async function activate(world: OfflineWorld, format: 'jwt' | 'cwt' = 'cwt'): Promise<string> {
  const request = await createActivationRequest(world.verifier, { licenseKey: KEY });
  const answer = await world.answer(request, { format });
  const outcome = await importOfflineResponse(world.verifier, answer.text);
  if (!outcome.installed) throw new Error(`activation refused: ${outcome.reason}`);
  return outcome.token;
}

/** Expects a refusal with `reason`, and the state exactly as it was before the import. */
async function expectRefused(
  world: OfflineWorld,
  input: unknown,
  reason: string,
): Promise<Extract<OfflineImport, { installed: false }>> {
  const before = marks(world.state.data);
  const outcome = await importOfflineResponse(world.verifier, input as string);
  expect(outcome).toMatchObject({ installed: false, reason });
  expect(world.state.data).toEqual(before);
  return outcome as Extract<OfflineImport, { installed: false }>;
}

describe.each(['cwt', 'jwt'] as const)('activation round trip (%s)', (format) => {
  it('request → store answer → import installs a token bound to this device', async () => {
    const world = await offlineWorld();
    const request = await createActivationRequest(world.verifier, { licenseKey: KEY });

    // What a store reads: the device key that signed it, the hint, never the key.
    const read = await readOfflineRequest(request.text);
    expect(read).toMatchObject({
      kind: 'activate',
      product: PRODUCT,
      keyHint: licenseKeyHint(KEY),
      seq: -1,
      thumbprint: world.device.thumbprint,
      iat: world.clock.seconds,
      nonce: request.nonce,
      hash: request.hash,
    });
    expect(read.license).toBeUndefined();
    expect(request.text).not.toContain(KEY.replace(/-/g, '').slice(2, 10));
    expect(await listPendingRequests(world.verifier)).toEqual([
      { nonce: request.nonce, hash: request.hash, kind: 'activate', at: world.clock.seconds },
    ]);

    const answer = await world.answer(request, { format });
    const outcome = await importOfflineResponse(world.verifier, answer.text);
    expect(outcome).toMatchObject({
      installed: true,
      token: answer.token,
      kind: 'activate',
      result: { valid: true, status: 'active', license: `lic_${licenseKeyHint(KEY)}` },
    });
    // Installed: the newest of its lineage, the request forgotten, and it verifies offline.
    expect(world.state.data.licenses[`lic_${licenseKeyHint(KEY)}`]?.seq).toBe(0);
    expect(world.state.data.pendingRequests).toBeUndefined();
    expect(await world.verifier.verify(answer.token)).toMatchObject({ status: 'active' });
    expect(await world.restart().verify(answer.token)).toMatchObject({ status: 'active' });
  });

  it('a refresh request carries the license, the seq held and the usage ledger', async () => {
    const world = await offlineWorld();
    const token = await activate(world, format);
    await world.verifier.consume(token, 'exports', 7);

    world.clock.advance(3600);
    const request = await createRefreshRequest(world.verifier, token, { usage: true });
    const read = await readOfflineRequest(request.text);
    expect(read).toMatchObject({ kind: 'refresh', license: `lic_${licenseKeyHint(KEY)}`, seq: 0 });
    // The report usageReport builds, authenticated by the request's device signature.
    const { report } = await world.verifier.usageReport(token);
    expect(read.usage).toEqual(JSON.parse(JSON.stringify(report)));
    expect(read.usage).toMatchObject({
      license: `lic_${licenseKeyHint(KEY)}`,
      quotas: { exports: { used: 7 } },
      device: world.device.thumbprint,
    });

    // The store keeps the periods' anchor across tokens, so the ledger's window goes on.
    const anchor = (await world.verifier.verify(token)).claims?.nbf;
    const answer = await world.answer(request, { format, claims: { anchor } });
    const outcome = await importOfflineResponse(world.verifier, answer.text);
    expect(outcome).toMatchObject({
      installed: true,
      kind: 'refresh',
      result: { status: 'active' },
    });
    // The lineage moved on: the old token is now rolled back, the ledger kept.
    expect(await world.verifier.verify(token)).toMatchObject({ status: 'rolled_back' });
    expect((await world.verifier.verify(answer.token)).quotas.exports).toMatchObject({ used: 7 });
  });
});

describe('requests', () => {
  it('the seq held is the highest the state accepted, even when an older token is passed', async () => {
    const world = await offlineWorld();
    const first = await activate(world);
    const second = await world.answer(await createRefreshRequest(world.verifier, first), {
      claims: { seq: 5 },
    });
    expect(await importOfflineResponse(world.verifier, second.text)).toMatchObject({
      installed: true,
    });
    const read = await readOfflineRequest((await createRefreshRequest(world.verifier, first)).text);
    expect(read.seq).toBe(5);
  });

  it('an activation may name the token held, with its usage', async () => {
    const world = await offlineWorld();
    const token = await activate(world);
    await world.verifier.consume(token, 'exports', 2);
    const request = await createActivationRequest(world.verifier, {
      keyHint: 'z8p1',
      token,
      usage: true,
    });
    expect(await readOfflineRequest(request.text)).toMatchObject({
      kind: 'activate',
      keyHint: 'Z8P1',
      license: `lic_${licenseKeyHint(KEY)}`,
      seq: 0,
      usage: { quotas: { exports: { used: 2 } } },
    });
  });

  it('misuse is a ConfigError or MalformedError, and writes nothing', async () => {
    const world = await offlineWorld();
    const before = marks(world.state.data);
    const compact = createCompactVerifier({
      trust: { issuers: [world.issuer.publicJwk] },
      product: PRODUCT,
    });
    await expect(
      createActivationRequest(compact as never, { licenseKey: KEY }),
    ).rejects.toBeInstanceOf(ConfigError);
    const noDevice = createVerifier({
      trust: { issuers: [world.issuer.publicJwk] },
      product: PRODUCT,
    });
    await expect(createActivationRequest(noDevice, { licenseKey: KEY })).rejects.toThrow(
      /signed by the device key/,
    );
    await expect(importOfflineResponse(noDevice, 'LK1-RES.x.y')).rejects.toBeInstanceOf(
      ConfigError,
    );
    const thumbprintOnly = createVerifier({
      trust: { issuers: [world.issuer.publicJwk] },
      product: PRODUCT,
      device: { thumbprint: world.device.thumbprint },
    });
    await expect(createActivationRequest(thumbprintOnly, { licenseKey: KEY })).rejects.toThrow(
      ConfigError,
    );
    const stateless = createVerifier({
      trust: { issuers: [world.issuer.publicJwk] },
      product: PRODUCT,
      device: world.device,
      state: false,
    });
    await expect(createActivationRequest(stateless, { licenseKey: KEY })).rejects.toThrow(
      /state: false/,
    );
    for (const options of [
      {},
      { licenseKey: KEY, keyHint: 'ABCD' },
      { licenseKey: 'LK-1' },
      { keyHint: 'AB!' },
    ]) {
      await expect(createActivationRequest(world.verifier, options)).rejects.toBeInstanceOf(
        MalformedError,
      );
    }
    await expect(
      createActivationRequest(world.verifier, { licenseKey: KEY, usage: true }),
    ).rejects.toThrow(/token/);
    expect(world.state.data).toEqual(before);
  });

  it('a refresh request for a token this verifier cannot vouch for is an UnusableTokenError', async () => {
    const world = await offlineWorld();
    const stranger = await world.answer(
      await createActivationRequest(world.verifier, { licenseKey: KEY }),
      { issuer: await (await import('./testing/offline.js')).testIssuer() },
    );
    const otherProduct = await world.answer(
      await createActivationRequest(world.verifier, { licenseKey: KEY }),
      { claims: { aud: 'other-product' } },
    );
    const before = marks(world.state.data);
    for (const [token, status] of [
      ['not a token', 'malformed'],
      [stranger.token, 'untrusted_key'],
      [otherProduct.token, 'wrong_product'],
    ] as const) {
      const error = await createRefreshRequest(world.verifier, token).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnusableTokenError);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as UnusableTokenError).result.status).toBe(status);
    }
    expect(world.state.data).toEqual(before);
  });

  it(`keeps the newest ${MAX_PENDING_REQUESTS} unanswered requests`, async () => {
    const world = await offlineWorld();
    const requests = [];
    for (let i = 0; i < MAX_PENDING_REQUESTS + 2; i++) {
      requests.push(await createActivationRequest(world.verifier, { licenseKey: KEY }));
    }
    const pending = await listPendingRequests(world.verifier);
    expect(pending.map((entry) => entry.nonce)).toEqual(requests.slice(2).map((r) => r.nonce));
    await expectRefused(world, (await world.answer(requests[0]!)).text, 'not_our_request');
    expect(
      await importOfflineResponse(world.verifier, (await world.answer(requests.at(-1)!)).text),
    ).toMatchObject({ installed: true });
    expect(await listPendingRequests(world.verifier)).toHaveLength(MAX_PENDING_REQUESTS - 1);
  });
});

describe('hostile responses: a typed refusal, nothing installed', () => {
  let world: OfflineWorld;
  let request: Awaited<ReturnType<typeof createActivationRequest>>;
  let answer: Awaited<ReturnType<OfflineWorld['answer']>>;

  beforeAll(async () => {
    world = await offlineWorld();
    request = await createActivationRequest(world.verifier, { licenseKey: KEY });
    answer = await world.answer(request);
  });

  it('truncated: cut short, or its check cut off', async () => {
    const { text } = answer;
    const cut = await expectRefused(world, text.slice(0, -12), 'bad_checksum');
    expect(cut.message).toMatch(/mistyped|cut short/);
    expect(cut.detail).toBe('bad_checksum');
    await expectRefused(world, text.slice(0, text.lastIndexOf('.')), 'bad_checksum');
    await expectRefused(world, text.slice(0, 40), 'bad_checksum');
  });

  it('mistyped: one character changed anywhere', async () => {
    const { text } = answer;
    for (const at of [10, Math.floor(text.length / 2), text.length - 3]) {
      const swapped = text[at] === 'A' ? 'B' : 'A';
      await expectRefused(
        world,
        `${text.slice(0, at)}${swapped}${text.slice(at + 1)}`,
        'bad_checksum',
      );
    }
  });

  it('a response for another device (cnf) is wrong_device', async () => {
    const other = await nodeDeviceKey();
    const foreign = await world.answer(request, { claims: { cnf: { jkt: other.thumbprint } } });
    const refused = await expectRefused(world, foreign.text, 'wrong_device');
    expect(refused.result).toMatchObject({ status: 'wrong_device', reason: 'device_mismatch' });
  });

  it('a response for another product is wrong_product', async () => {
    const foreign = await world.answer(request, { claims: { aud: 'other-product' } });
    await expectRefused(world, foreign.text, 'wrong_product');
  });

  it('a token bound to no device is not_bound', async () => {
    const unbound = await world.answer(request, { claims: { cnf: undefined } });
    await expectRefused(world, unbound.text, 'not_bound');
  });

  it('a token signed by an untrusted key is untrusted_key', async () => {
    const { testIssuer } = await import('./testing/offline.js');
    const forged = await world.answer(request, { issuer: await testIssuer() });
    await expectRefused(world, forged.text, 'untrusted_key');
  });

  it('an expired token is expired', async () => {
    const old = await world.answer(request, {
      now: world.clock.seconds - 60 * 86_400,
      claims: { exp: world.clock.seconds - 40 * 86_400 },
    });
    await expectRefused(world, old.text, 'expired');
  });

  it('a response to a request this verifier never made is not_our_request', async () => {
    const stranger = await offlineWorld({ device: world.device });
    const theirs = await createActivationRequest(stranger.verifier, { licenseKey: KEY });
    await expectRefused(world, (await world.answer(theirs)).text, 'not_our_request');
    // The right nonce with another request's hash, and the right hash with another nonce.
    const base64 = 'A'.repeat(43);
    await expectRefused(
      world,
      (await world.answer(request, { hash: base64 })).text,
      'not_our_request',
    );
    await expectRefused(
      world,
      (await world.answer(request, { nonce: 'B'.repeat(22) })).text,
      'not_our_request',
    );
  });

  it('oversized text is too_large; a flood of QR parts too', async () => {
    await expectRefused(world, `LK1-RES.${'A'.repeat(40_000)}.abcdefgh`, 'too_large');
    await expectRefused(
      world,
      Array.from({ length: 50 }, () => 'x'.repeat(2000)),
      'too_large',
    );
  });

  it('a request pasted where the response belongs is wrong_type', async () => {
    await expectRefused(world, request.text, 'wrong_type');
  });

  it('anything else is malformed_response, never a throw', async () => {
    for (const junk of [
      '',
      'hello',
      42,
      null,
      { text: answer.text },
      [answer.text.slice(0, 100), answer.text.slice(100)],
      ['LK1/1/2/abc'],
    ]) {
      await expectRefused(world, junk, 'malformed_response');
    }
    // Well framed, with a valid check, but not a response's JSON.
    const { sealText } = await import('../../core/src/offline/envelope.js');
    await expectRefused(world, await sealText('LK1-RES', 'e30'), 'malformed_response');
  });

  it('a token that is not a license inside a well-framed response is malformed', async () => {
    const text = await createOfflineResponse({
      nonce: request.nonce,
      request: request.hash,
      token: 'not.a.token',
    });
    await expectRefused(world, text, 'malformed');
  });

  it('a refresh answered with a token of another license is wrong_license', async () => {
    const own = await offlineWorld();
    const token = await activate(own);
    const refresh = await createRefreshRequest(own.verifier, token);
    const other = await own.answer(refresh, { claims: { sub: 'lic_someone_else', seq: 0 } });
    await expectRefused(own, other.text, 'wrong_license');
  });

  it('the right answer still installs after all that (nothing was spent on failures)', async () => {
    expect(await importOfflineResponse(world.verifier, answer.text)).toMatchObject({
      installed: true,
    });
    // Answered once: the same response again is not for a pending request.
    await expectRefused(world, answer.text, 'not_our_request');
  });
});

describe('rollback', () => {
  it('an older response replayed after a newer token is rolled_back', async () => {
    const world = await offlineWorld();
    const token = await activate(world);
    const first = await createRefreshRequest(world.verifier, token);
    const second = await createRefreshRequest(world.verifier, token);
    const older = await world.answer(first, { claims: { seq: 1 } });
    const newer = await world.answer(second, { claims: { seq: 2 } });
    expect(await importOfflineResponse(world.verifier, newer.text)).toMatchObject({
      installed: true,
    });
    const refused = await expectRefused(world, older.text, 'rolled_back');
    expect(refused.result).toMatchObject({ reason: 'older_seq' });
    expect(await world.verifier.verify(newer.token)).toMatchObject({ status: 'active' });
  });
});

describe('issuance log proofs (requireLogProof)', () => {
  it('installs only with the proof the response carries', async () => {
    const log = await testLog();
    const world = await offlineWorld({ logKeys: [log.key.verifierKey] });
    const request = await createActivationRequest(world.verifier, { licenseKey: KEY });
    const bare = await world.answer(request);
    await expectRefused(world, bare.text, 'not_logged');

    await log.append(bare.token);
    const proof = { kind: 'license', ...(await log.proof(bare.token)) };
    const logged = await createOfflineResponse({
      nonce: request.nonce,
      request: request.hash,
      token: bare.token,
      logProof: proof as never,
    });
    const outcome = await importOfflineResponse(world.verifier, logged);
    expect(outcome).toMatchObject({ installed: true, logProof: proof });
    expect(await world.verifier.verify(bare.token, { logProof: proof as never })).toMatchObject({
      status: 'active',
    });
  });

  it('a proof of another token is not_logged', async () => {
    const log = await testLog();
    const world = await offlineWorld({ logKeys: [log.key.verifierKey] });
    const request = await createActivationRequest(world.verifier, { licenseKey: KEY });
    const answer = await world.answer(request);
    const decoy = await world.answer(request, { claims: { plan: 'other' } });
    await log.append(decoy.token);
    const text = await createOfflineResponse({
      nonce: request.nonce,
      request: request.hash,
      token: answer.token,
      logProof: (await log.proof(decoy.token)) as never,
    });
    await expectRefused(world, text, 'not_logged');
  });
});

// A CommonJS module whose types describe an ES default export: take the function either way.
const jsQR = ((jsqr as unknown as { default?: unknown }).default ?? jsqr) as (
  data: Uint8ClampedArray,
  width: number,
  height: number,
) => { data: string } | null;

/** Decodes a QR module matrix with jsQR (an independent decoder), scaled and with margin. */
function decode(matrix: QrMatrix): string | undefined {
  const scale = 3;
  const margin = 4;
  const side = (matrix.size + 2 * margin) * scale;
  const pixels = new Uint8ClampedArray(side * side * 4).fill(255);
  for (let y = 0; y < matrix.size; y++) {
    for (let x = 0; x < matrix.size; x++) {
      if (!matrix.modules[y * matrix.size + x]) continue;
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const offset = (((y + margin) * scale + dy) * side + (x + margin) * scale + dx) * 4;
          pixels.fill(0, offset, offset + 3);
        }
      }
    }
  }
  return jsQR(pixels, side, side)?.data;
}

describe('QR codes', () => {
  it('a request without a usage report is one code at level M, even with the longest ids', async () => {
    const product = `p${'x'.repeat(127)}`;
    const world = await offlineWorld({ product });
    const request = await createActivationRequest(world.verifier, { licenseKey: KEY });
    const svgs = await requestQrCodes(request);
    expect(svgs).toHaveLength(1);
    expect(svgs[0]).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    const [matrix] = await requestQrMatrices(request);
    expect(matrix!.text).toBe(request.text);
    expect(decode(matrix!)).toBe(request.text);
  });

  it('a request with a large usage report is a numbered sequence that joins back', async () => {
    const world = await offlineWorld();
    const quota = Object.fromEntries(
      Array.from({ length: 32 }, (_, i) => [
        `quota_with_a_rather_long_name_number_${i}`,
        { limit: 100 },
      ]),
    );
    const request = await createActivationRequest(world.verifier, { licenseKey: KEY });
    const answer = await world.answer(request, { claims: { quota } });
    await importOfflineResponse(world.verifier, answer.text);
    const refresh = await createRefreshRequest(world.verifier, answer.token, { usage: true });
    expect(refresh.text.length).toBeGreaterThan(QR_MAX_BYTES_LEVEL_M);

    const matrices = await requestQrMatrices(refresh);
    expect(matrices.length).toBeGreaterThan(1);
    const scanned = matrices.map((matrix) => decode(matrix));
    expect(scanned).toEqual(qrParts(refresh.text));
    const { joinQrParts } = await import('@licensekit/core/offline');
    expect(joinQrParts([...(scanned as string[])].reverse())).toBe(refresh.text);
    expect(await requestQrCodes(refresh)).toHaveLength(matrices.length);
    // Smaller codes on request: more of them, each within the limit.
    const small = await requestQrMatrices(refresh, { maxLength: 600 });
    expect(small.every((matrix) => matrix.text.length <= 600)).toBe(true);
    expect(decode(small[1]!)).toBe(small[1]!.text);
  });
});

describe('files (Node)', () => {
  it('writes the request and its QR codes, reads a response', async () => {
    const world = await offlineWorld();
    const request = await createActivationRequest(world.verifier, { licenseKey: KEY });
    const path = join(directory, 'request.txt');
    await writeRequestFile(path, request);
    expect((await readFile(path, 'utf8')).trim()).toBe(request.text);
    expect((await stat(path)).mode & 0o777).toBe(0o644);

    const [svg] = await writeRequestQrCodes(join(directory, 'request.svg'), request);
    expect(await readFile(svg!, 'utf8')).toMatch(/^<svg/);
    const [png] = await writeRequestQrCodes(join(directory, 'request.png'), request);
    expect((await readFile(png!)).subarray(0, 4)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    await expect(writeRequestQrCodes(join(directory, 'request.gif'), request)).rejects.toThrow(
      ConfigError,
    );
    const several = await writeRequestQrCodes(join(directory, 'parts.svg'), request, {
      maxLength: 200,
    });
    expect(several.length).toBeGreaterThan(1);
    expect(several[0]).toMatch(/parts-1\.svg$/);

    const responsePath = join(directory, 'response.txt');
    await writeFile(responsePath, `${(await world.answer(request)).text}\n`);
    expect(
      await importOfflineResponse(world.verifier, await readResponseFile(responsePath)),
    ).toMatchObject({ installed: true });
  });
});

/** localStorage as a Map. */
class FakeStorage implements WebStorageLike {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}

describe('the state member pendingRequests', () => {
  const stores = {
    memory: () => memoryState(),
    webStorage: () => {
      const storage = new FakeStorage();
      return () => webStorageState(storage);
    },
    keyValue: () => {
      const area = new Map<string, unknown>();
      return () =>
        keyValueState({
          get: async (key) => area.get(key),
          set: async (key, value) => {
            area.set(key, value);
          },
        });
    },
    file: () => {
      const path = join(directory, `state-${Math.random().toString(36).slice(2)}.json`);
      return () => fileState(path);
    },
  };

  it.each(['webStorage', 'keyValue', 'file'] as const)(
    '%s: a request survives a restart, and its answer installs in the new instance',
    async (name) => {
      const open = stores[name]();
      const world = await offlineWorld({ state: open() });
      const request = await createActivationRequest(world.verifier, { licenseKey: KEY });
      const restarted = world.restart(open());
      expect(await listPendingRequests(restarted)).toHaveLength(1);
      const outcome = await importOfflineResponse(restarted, (await world.answer(request)).text);
      expect(outcome).toMatchObject({ installed: true });
      expect(await listPendingRequests(world.restart(open()))).toEqual([]);
    },
  );

  it('a state written before it (no member) has none pending and keeps its marks', async () => {
    const old = {
      ...emptyState(PRODUCT),
      highWater: T0,
      licenses: { lic_a: { seq: 3, hash: 'h' } },
    };
    const text = JSON.stringify(old);
    expect(parseState(text, PRODUCT)).toEqual(old);
    const world = await offlineWorld({ state: memoryState(parseState(text, PRODUCT)) });
    expect(await listPendingRequests(world.verifier)).toEqual([]);
  });

  it('a damaged member counts as none pending, never as a corrupt state', async () => {
    for (const junk of [42, 'x', { a: 1 }, [null, { nonce: 'n' }, 7]]) {
      const data = { ...emptyState(PRODUCT), highWater: T0, pendingRequests: junk };
      const parsed = parseState(JSON.stringify(data), PRODUCT) as StateData;
      expect(parsed.highWater).toBe(T0);
      const world = await offlineWorld({ state: memoryState(parsed) });
      expect(await listPendingRequests(world.verifier)).toEqual([]);
      const request = await createActivationRequest(world.verifier, { licenseKey: KEY });
      expect(
        await importOfflineResponse(world.verifier, (await world.answer(request)).text),
      ).toMatchObject({ installed: true });
    }
  });
});

describe('property: request → response → import round-trips', () => {
  const quotaSpec = fc.oneof(
    fc.record({
      limit: fc.integer({ min: 1, max: 10_000 }),
      per: fc.constantFrom('day', 'week', 'month', 'year'),
    }),
    fc.record({ limit: fc.integer({ min: 1, max: 10_000 }) }),
    fc.constant({ unlimited: true as const }),
  );
  const license = fc.record({
    format: fc.constantFrom('cwt', 'jwt') as fc.Arbitrary<'cwt' | 'jwt'>,
    sub: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,40}$/),
    plan: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
    days: fc.integer({ min: 1, max: 400 }),
    quota: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/), quotaSpec, { maxKeys: 5 }),
    ent: fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/), { maxLength: 4 }),
    trial: fc.boolean(),
  });
  /** Units to spend per quota (by index into the license's quotas) before the refresh. */
  const ledger = fc.array(fc.nat({ max: 50 }), { maxLength: 5 });

  it('installs exactly the answered token, and the request carries the ledger spent', async () => {
    const world = await offlineWorld();
    await fc.assert(
      fc.asyncProperty(license, ledger, async (spec, spends) => {
        world.clock.advance(60);
        const claims = {
          sub: spec.sub,
          plan: spec.plan,
          exp: world.clock.seconds + spec.days * 86_400,
          quota: spec.quota,
          ent: spec.ent,
          ...(spec.trial ? { access: 'trial' as const } : {}),
        };
        // Activate with the key hint, then refresh with a usage report.
        const activation = await createActivationRequest(world.verifier, { licenseKey: KEY });
        const first = await world.answer(activation, {
          format: spec.format,
          claims: { ...claims, seq: (world.state.data.licenses[spec.sub]?.seq ?? -1) + 1 },
        });
        const installed = await importOfflineResponse(world.verifier, first.text);
        expect(installed).toMatchObject({ installed: true, token: first.token });

        const names = Object.keys(spec.quota);
        const spent: Record<string, number> = {};
        for (const [i, amount] of spends.entries()) {
          const name = names[i % Math.max(names.length, 1)];
          if (name === undefined || amount === 0) continue;
          const outcome = await world.verifier.consume(first.token, name, amount);
          if (outcome.granted) spent[name] = (spent[name] ?? 0) + amount;
        }
        const refresh = await createRefreshRequest(world.verifier, first.token, { usage: true });
        const read = await readOfflineRequest(refresh.text);
        const quotas = (read.usage as { quotas: Record<string, { used: number }> }).quotas;
        for (const name of names) expect(quotas[name]?.used).toBe(spent[name] ?? 0);

        const second = await world.answer(refresh, { format: spec.format, claims });
        const outcome = await importOfflineResponse(world.verifier, second.text);
        expect(outcome).toMatchObject({
          installed: true,
          token: second.token,
          result: { valid: true, license: spec.sub, plan: spec.plan, trial: spec.trial },
        });
        expect(world.state.data.licenses[spec.sub]?.seq).toBe(read.seq + 1);
        expect(await listPendingRequests(world.verifier)).toEqual([]);
      }),
      { numRuns: 25 },
    );
  });
});

describe('core documents made elsewhere', () => {
  it('a request signed by another device key is not pending here', async () => {
    const world = await offlineWorld();
    const other = await nodeDeviceKey();
    const request = await createOfflineRequest(other, {
      kind: 'activate',
      product: PRODUCT,
      keyHint: 'ABCD',
    });
    await expectRefused(world, (await world.answer(request)).text, 'not_our_request');
  });
});
