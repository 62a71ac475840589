/**
 * Helpers of the offline-activation tests: a simulated store that answers an offline
 * request as the reference store does (read and check the request with core, issue a token
 * bound to the requesting device key with @licensekit/issuer, frame the response), and a
 * verifier world around it. Test-only.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import type { Ed25519PublicJwk, LicenseClaimsInput } from '@licensekit/core';
import { base64urlEncode, decodeDocument, jwkThumbprint, tokenHash } from '@licensekit/core';
import type { OfflineRequest } from '@licensekit/core/offline';
import { createOfflineResponse, readOfflineRequest } from '@licensekit/core/offline';
import { DAY, PRODUCT, T0 } from '../../../../test/support/tokens.js';
import type { Signer } from '../../../issuer/src/index.js';
import { createSigner, generateKeyPair, issue } from '../../../issuer/src/index.js';
import type { DeviceKey } from '../device/device-key.js';
import { enableLogProofs } from '../enable-log-proofs.js';
import { createVerifier } from '../index.js';
import type { StateStore } from '../state/state.js';
import type { Verifier, VerifierOptions } from '../types.js';
import type { TestClock } from './harness.js';
import { inspectableState, testClock } from './harness.js';

/** An Ed25519 device key in node:crypto, shaped as the verifier's DeviceKey. */
export async function nodeDeviceKey(): Promise<DeviceKey> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const { x } = publicKey.export({ format: 'jwk' }) as { x: string };
  const thumbprint = await jwkThumbprint({ x });
  return {
    thumbprint,
    publicJwk: { kty: 'OKP', crv: 'Ed25519', x, kid: thumbprint },
    async sign(data) {
      return new Uint8Array(sign(null, data, privateKey));
    },
  };
}

export interface TestIssuer {
  signer: Signer;
  publicJwk: Ed25519PublicJwk;
}

export async function testIssuer(): Promise<TestIssuer> {
  const pair = await generateKeyPair();
  return { signer: await createSigner(pair.privateJwk), publicJwk: pair.publicJwk };
}

export interface AnswerOptions {
  /** Claims to set on the token (after the store's own choice). */
  claims?: { [K in keyof LicenseClaimsInput]?: LicenseClaimsInput[K] | undefined };
  /** Sign with another issuer (one the app does not trust). */
  issuer?: TestIssuer;
  format?: 'jwt' | 'cwt';
  logProof?: { [key: string]: unknown };
  /** Answer with another nonce or request hash than the request's. */
  nonce?: string;
  hash?: string;
  /** Issue time; default the request's iat. */
  now?: number;
  /** The license's previous token, whose hash is `prev` (a token after seq 0 needs one). */
  previous?: string;
}

/** A store's offline answer: the response text and the token inside. */
export interface Answer {
  text: string;
  token: string;
  request: OfflineRequest;
}

/**
 * Answers a request as the store would: the token is for the request's product and
 * license (`lic_<hint>` for an activation by key hint), bound to the device key that
 * signed it (`cnf.jkt`), with seq one above the highest the app holds.
 */
export async function answerRequest(
  issuer: TestIssuer,
  request: OfflineRequest | string,
  options: AnswerOptions = {},
): Promise<Answer> {
  const read = await readOfflineRequest(typeof request === 'string' ? request : request.text);
  const now = options.now ?? read.iat;
  const claims: LicenseClaimsInput = {
    iss: 'acme',
    sub: read.license ?? `lic_${read.keyHint}`,
    aud: read.product,
    plan: 'pro',
    iat: now,
    nbf: now,
    exp: now + 30 * DAY,
    grace: 7 * DAY,
    quota: { exports: { limit: 1000, per: 'month' }, seats: { limit: 3 } },
    ent: ['export-4k'],
    seq: read.seq + 1,
    cnf: { jkt: read.thumbprint },
  };
  // An explicit undefined removes the claim (an unbound token, no anchor).
  for (const [name, value] of Object.entries(options.claims ?? {})) {
    if (value === undefined) delete (claims as unknown as Record<string, unknown>)[name];
    else (claims as unknown as Record<string, unknown>)[name] = value;
  }
  if ((claims.seq ?? 0) > 0 && claims.prev === undefined) {
    // The store links each token to the one before; a stand-in when the test has none.
    claims.prev =
      options.previous === undefined
        ? base64urlEncode(crypto.getRandomValues(new Uint8Array(32)))
        : await tokenHash(decodeDocument(options.previous, 'license').bytes);
  }
  const token = await issue(claims, {
    signer: (options.issuer ?? issuer).signer,
    format: options.format ?? 'cwt',
    now,
  });
  const text = await createOfflineResponse({
    nonce: options.nonce ?? read.nonce,
    request: options.hash ?? read.hash,
    token,
    ...(options.logProof === undefined
      ? {}
      : { logProof: options.logProof as { [key: string]: never } }),
  });
  return { text, token, request: read };
}

export interface OfflineWorld {
  issuer: TestIssuer;
  device: DeviceKey;
  clock: TestClock;
  state: ReturnType<typeof inspectableState>;
  verifier: Verifier;
  /** Another verifier on the same state and device (an app restart). */
  restart(store?: StateStore): Verifier;
  answer(request: OfflineRequest | string, options?: AnswerOptions): Promise<Answer>;
}

export async function offlineWorld(
  options: Partial<Pick<VerifierOptions, 'state'>> & {
    device?: DeviceKey;
    product?: string;
    /** Require issuance log proofs under these log keys. */
    logKeys?: string[];
  } = {},
): Promise<OfflineWorld> {
  const issuer = await testIssuer();
  const device = options.device ?? (await nodeDeviceKey());
  const clock = testClock(T0 + DAY);
  const state = inspectableState(options.product ?? PRODUCT);
  const issued = new Map<string, string>();
  if (options.logKeys !== undefined) enableLogProofs();
  const make = (store: StateStore | false = options.state ?? state.store) =>
    createVerifier({
      trust:
        options.logKeys === undefined
          ? { issuers: [issuer.publicJwk] }
          : { issuers: [issuer.publicJwk], logKeys: options.logKeys },
      product: options.product ?? PRODUCT,
      clock: clock.read,
      state: store,
      device,
      ...(options.logKeys === undefined ? {} : { requireLogProof: true }),
    });
  return {
    issuer,
    device,
    clock,
    state,
    verifier: make(),
    restart: (store) => make(store),
    async answer(request, answerOptions = {}) {
      // The store's record: the newest token of each license, for `prev`.
      const read = await readOfflineRequest(typeof request === 'string' ? request : request.text);
      const sub = answerOptions.claims?.sub ?? read.license ?? `lic_${read.keyHint}`;
      const previous = answerOptions.previous ?? issued.get(sub);
      const answer = await answerRequest(issuer, request, {
        ...answerOptions,
        ...(previous === undefined ? {} : { previous }),
      });
      issued.set(sub, answer.token);
      return answer;
    },
  };
}
