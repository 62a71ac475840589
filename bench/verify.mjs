/**
 * Issue 2, figures 1 and 2: warm verification against the floor under it.
 * - CWT: `verify` with `cacheSize: 0` (every call decodes and checks the signature) and no
 *   state, against node:crypto's one-shot Ed25519 verify of the same signed bytes with a
 *   KeyObject made once. With the certificate embedded (trust = root, the store's way)
 *   and bare (the issuer key trusted directly).
 * - JWT: the same verifier against jose's `jwtVerify` of the same token, both trusting the
 *   issuer key directly.
 */
import { verify as cryptoVerify } from 'node:crypto';
import { importJWK, jwtVerify } from 'jose';
import { decodeDocument } from '../packages/core/dist/index.js';
import { createVerifier } from '../packages/verifier/dist/index.js';
import { PRODUCT } from './lib/fixtures.mjs';
import { interleave } from './lib/interleave.mjs';

const COMMAND = 'pnpm bench verify';
const CWT_PROFILE =
  '`node bench/profile.mjs cwt-verify` (and `cwt-verify-bare`): node:crypto verifyOneShot ' +
  '≈ 82% of samples (the floor itself; 77–79% before this round, 76–80% before issue 9); ' +
  'strict decoding ≈ 5.7% (base64url of the text ≈ 2.2%, the CBOR items ≈ 2.6%, ' +
  'Sig_structure ≈ 0.5%); validating the claims, read from the CBOR map claim by claim ' +
  '(no mapped JSON copy) ≈ 3.5–5.5%; the decision ≈ 2.8% (the result ≈ 1.2%, the usage ' +
  'snapshot ≈ 0.9% with the quota windows ≈ 0.6%, now integer calendar arithmetic without ' +
  'Date objects); GC ≈ 0.6–1%; freezing the claims ≈ 0.2%; a stateless verifier runs no ' +
  'state transaction. Measured in one process against the previous commit (HEAD bundled ' +
  'beside the tree, 41 interleaved rounds): 1.03× as fast, certified and bare. What is ' +
  'left is spread thin over the strict parse (no part above 3%): 0.88× needs about another ' +
  'third of it, e.g. a decoder that validates the claims while it reads the CBOR items ' +
  '(no Map per level) and a result built without the usage snapshot when no quota is read.';

/** A verifier that checks every call from the bytes up: no token cache, no state. */
function coldVerifier(trust) {
  return createVerifier({ trust, product: PRODUCT, cacheSize: 0, state: false });
}

async function expectValid(verifier, token) {
  const result = await verifier.verify(token);
  if (!result.valid) throw new Error(`bench token does not verify: ${result.status}`);
}

/** The raw floor: one Ed25519 verify of the token's signed bytes. */
function rawVerifyOf(token, publicKey) {
  const { signingInput, signature } = decodeDocument(token, 'license');
  if (!cryptoVerify(null, signingInput, publicKey, signature)) {
    throw new Error('raw baseline does not verify the bench token');
  }
  return (n) => {
    let valid = 0;
    for (let i = 0; i < n; i++) if (cryptoVerify(null, signingInput, publicKey, signature)) valid++;
    if (valid !== n) throw new Error('raw verify failed');
  };
}

function verifyBatch(verifier, token) {
  return async (n) => {
    for (let i = 0; i < n; i++) {
      if (!(await verifier.verify(token)).valid) throw new Error('verify failed');
    }
  };
}

async function cwtFigure(fixtures, variant, timing) {
  const { tokens, rootPair, issuerPair, issuerKeys } = fixtures;
  const token = tokens.cwt[variant];
  const trust =
    variant === 'certified' ? { roots: [rootPair.publicJwk] } : { issuers: [issuerPair.publicJwk] };
  const verifier = coldVerifier(trust);
  await expectValid(verifier, token);
  const run = await interleave(
    { ours: verifyBatch(verifier, token), raw: rawVerifyOf(token, issuerKeys.publicKey) },
    timing,
  );
  return {
    group: 'verify',
    issue: 9,
    name:
      variant === 'certified'
        ? 'CWT verify, issuer certificate embedded, trust = root'
        : 'CWT verify, bare (issuer key trusted directly)',
    ours: { what: 'verifier.verify(token), cacheSize 0, state false', value: run.rate('ours') },
    baseline: {
      what: 'crypto.verify(null, Sig_structure, KeyObject, signature)',
      value: run.rate('raw'),
    },
    unit: 'ops/s',
    ratio: run.ratio('ours', 'raw'),
    goal: { op: '>=', value: 0.88 },
    why:
      'every call does the strict work around the signature (base64url and CBOR decoding of the ' +
      'COSE_Sign1 and the claims, claim validation, status and quota windows, a frozen result): ' +
      'about a sixth of one Ed25519 verify, where the goal leaves room for an eighth.',
    profile: CWT_PROFILE,
    command: COMMAND,
  };
}

async function jwtFigure(fixtures, timing) {
  const { tokens, issuerPair } = fixtures;
  const token = tokens.jwt.bare;
  const verifier = coldVerifier({ issuers: [issuerPair.publicJwk] });
  await expectValid(verifier, token);
  const joseKey = await importJWK(issuerPair.publicJwk, 'EdDSA');
  const joseOptions = { algorithms: ['EdDSA'], typ: 'lic+jwt' };
  await jwtVerify(token, joseKey, joseOptions);
  const run = await interleave(
    {
      ours: verifyBatch(verifier, token),
      jose: async (n) => {
        for (let i = 0; i < n; i++) await jwtVerify(token, joseKey, joseOptions);
      },
    },
    timing,
  );
  return {
    group: 'verify',
    issue: 2,
    name: 'JWT verify, issuer key trusted directly',
    ours: { what: 'verifier.verify(token), cacheSize 0, state false', value: run.rate('ours') },
    baseline: {
      what: "jose jwtVerify(token, key, { algorithms: ['EdDSA'], typ: 'lic+jwt' })",
      value: run.rate('jose'),
    },
    unit: 'ops/s',
    ratio: run.ratio('ours', 'jose'),
    goal: { op: '>=', value: 0.95 },
    why:
      'jose verifies through WebCrypto, whose thread-pool round trip costs about what our strict ' +
      'decoding costs, so the two run close; on a loaded machine the thread hand-off varies most.',
    profile:
      '`node bench/profile.mjs jwt-verify`: node:crypto verifyOneShot ≈ 74%; core/src/codec/jws.ts ' +
      'decodeJws ≈ 11% (encoding/json.ts parseStrictJson ≈ 6.5%); decide ≈ 3.5%; tokenHash and ' +
      'readLicenseClaims ≈ 2.3% each. jose spends most of its wall time idle on the main thread, ' +
      'awaiting crypto.subtle.verify.',
    command: COMMAND,
  };
}

export async function benchVerify(fixtures, timing) {
  return [
    await cwtFigure(fixtures, 'certified', timing),
    await cwtFigure(fixtures, 'bare', timing),
    await jwtFigure(fixtures, timing),
  ];
}
