/**
 * The attack catalogue of the verifier issue: one test per row, each with the exact
 * status (and reason), in both formats where the attack has a form in both. Hostile
 * tokens carry VALID signatures (by the trusted key, or by the attacker's key when the
 * attack is to smuggle that key in), so what rejects them is the check under test.
 */
import { createHmac, createPublicKey } from 'node:crypto';
import { licenseClaimsToJson, licenseToCwt, sigStructure } from '@licensekit/core';
import { encodeCbor } from '@licensekit/core/write';
import { describe, expect, it } from 'vitest';
import {
  array,
  bytes as cborBytes,
  concat,
  head,
  int,
  map,
  text,
} from '../../../test/support/cbor.js';
import {
  certificateClaims,
  coseHeader,
  DAY,
  generateTestKey,
  jwtHeader,
  licenseClaims,
  makePki,
  PRODUCT,
  randomTokenId,
  rawCwt,
  rawJwt,
  revocationClaims,
  signBytes,
  signCertificate,
  signLicense,
  signRevocationList,
  T0,
  type TestKey,
} from '../../../test/support/tokens.js';
import type { VerifyResult } from './index.js';
import { createVerifier } from './index.js';
import { issueLicense, renewLicense, testClock } from './testing/harness.js';

const issuer = generateTestKey();
const attacker = generateTestKey();

function verifier(clock = testClock()) {
  return createVerifier({ trust: { issuers: [issuer.jwk] }, product: PRODUCT, clock: clock.read });
}

async function verify(token: string | Uint8Array): Promise<VerifyResult> {
  return verifier().verify(token);
}

function expectRejected(
  result: VerifyResult,
  status: VerifyResult['status'],
  reason: string,
): void {
  expect({ valid: result.valid, status: result.status, reason: result.reason }).toEqual({
    valid: false,
    status,
    reason,
  });
  // Nothing of an untrusted token is handed to the app.
  if (status === 'malformed' || status === 'untrusted_key' || status === 'invalid_signature') {
    expect(result.claims).toBeUndefined();
    expect(result.entitlements).toEqual([]);
  }
}

const claims = licenseClaims();
const payloadJson = licenseClaimsToJson(claims);
const payloadCbor = () => encodeCbor(licenseToCwt(claims));

/** A COSE protected header: licensekit's, with labels set (a value) or removed (undefined). */
function protectedHeader(
  kid: string,
  changes: [number | string, unknown][] = [],
): Map<number | string, never> {
  const header = coseHeader('license', kid);
  for (const [label, value] of changes) {
    if (value === undefined) header.delete(label);
    else header.set(label, value as never);
  }
  return header as Map<number | string, never>;
}

/** A JWT whose header is licensekit's with `changes` merged in, signed by `key`. */
function jwtWith(
  key: TestKey,
  changes: Record<string, unknown>,
  payload: Record<string, unknown> | string = payloadJson,
): string {
  return rawJwt(key, { ...jwtHeader('license', key.kid), ...changes }, payload);
}

/** The public key of `issuer` in the three forms an HS256 "key confusion" attacker tries. */
const publicKeyForms: [string, Buffer][] = [
  ['raw 32 bytes', Buffer.from(issuer.raw)],
  [
    'PEM',
    Buffer.from(
      createPublicKey({ key: { ...issuer.jwk }, format: 'jwk' }).export({
        type: 'spki',
        format: 'pem',
      }) as string,
    ),
  ],
  ['JWK JSON', Buffer.from(JSON.stringify(issuer.jwk))],
];

/** A CWT signed over `protectedBytes` and `payloadBytes` as given (the caller controls every byte). */
function cwtOver(key: TestKey, protectedBytes: Uint8Array, payloadBytes: Uint8Array): string {
  return rawCwt(key, protectedBytes, payloadBytes);
}

const L = 2n ** 252n + 27742317777372353535851937790883648493n;

/** R ‖ (S + L): the same signature value mod L in a non-canonical (malleated) encoding. */
function malleate(signature: Uint8Array): Uint8Array {
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(signature[i]!);
  s += L;
  const out = Uint8Array.from(signature);
  for (let i = 32; i < 64; i++) {
    out[i] = Number(s & 0xffn);
    s >>= 8n;
  }
  expect(s).toBe(0n);
  return out;
}

function sameKeyTokens(format: 'jwt' | 'cwt'): { valid: string } {
  return { valid: signLicense(issuer, claims, { format }) };
}

describe('sanity: the unmodified tokens are valid', () => {
  it.each(['jwt', 'cwt'] as const)('%s', async (format) => {
    expect((await verify(sameKeyTokens(format).valid)).status).toBe('active');
    expect((await verify(jwtWith(issuer, {}))).status).toBe('active');
    expect(
      (await verify(cwtOver(issuer, encodeCbor(protectedHeader(issuer.kid)), payloadCbor())))
        .status,
    ).toBe('active');
  });
});

describe('alg none', () => {
  it.each(['none', 'None', 'NONE'])(
    'JWT alg "%s" with an empty signature is malformed/unsupported_alg',
    async (alg) => {
      const header = Buffer.from(
        JSON.stringify({ ...jwtHeader('license', issuer.kid), alg }),
      ).toString('base64url');
      const payload = Buffer.from(JSON.stringify(payloadJson)).toString('base64url');
      expectRejected(await verify(`${header}.${payload}.`), 'malformed', 'unsupported_alg');
    },
  );

  it.each(['none', 'None'])(
    'JWT alg "%s" with a valid signature appended is still malformed/unsupported_alg',
    async (alg) => {
      expectRejected(await verify(jwtWith(issuer, { alg })), 'malformed', 'unsupported_alg');
    },
  );

  it('JWT without alg is malformed/unsupported_alg', async () => {
    expectRejected(
      await verify(jwtWith(issuer, { alg: undefined })),
      'malformed',
      'unsupported_alg',
    );
  });

  it.each([
    ['absent', undefined],
    ['"none"', 'none'],
    ['"None"', 'None'],
    ['0 (reserved)', 0],
  ])('CWT alg %s in the protected header is malformed/unsupported_alg', async (_name, alg) => {
    const header = encodeCbor(protectedHeader(issuer.kid, [[1, alg]]));
    expectRejected(
      await verify(cwtOver(issuer, header, payloadCbor())),
      'malformed',
      'unsupported_alg',
    );
  });

  it('CWT alg only in the unprotected header is malformed/unsupported_alg', async () => {
    const token = rawCwt(issuer, protectedHeader(issuer.kid, [[1, undefined]]), payloadCbor(), {
      unprotected: new Map([[1, -8]]),
    });
    expectRejected(await verify(token), 'malformed', 'unsupported_alg');
  });
});

describe('HS256 keyed with the Ed25519 public key', () => {
  it.each(publicKeyForms)(
    'JWT HS256 with the key as %s is malformed/unsupported_alg',
    async (_form, secret) => {
      const header = Buffer.from(
        JSON.stringify({ ...jwtHeader('license', issuer.kid), alg: 'HS256' }),
      ).toString('base64url');
      const payload = Buffer.from(JSON.stringify(payloadJson)).toString('base64url');
      const mac = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
      expectRejected(await verify(`${header}.${payload}.${mac}`), 'malformed', 'unsupported_alg');
    },
  );

  it.each(publicKeyForms)(
    'CWT HMAC 256/256 (alg 5) with the key as %s is malformed/unsupported_alg',
    async (_form, secret) => {
      const protectedBytes = encodeCbor(protectedHeader(issuer.kid, [[1, 5]]));
      const payloadBytes = payloadCbor();
      const mac = new Uint8Array(
        createHmac('sha256', secret).update(sigStructure(protectedBytes, payloadBytes)).digest(),
      );
      const token = concat(
        head(6, 18),
        array([
          cborBytes(protectedBytes),
          Uint8Array.of(0xa0),
          cborBytes(payloadBytes),
          cborBytes(mac),
        ]),
      );
      expectRejected(
        await verify(Buffer.from(token).toString('base64url')),
        'malformed',
        'unsupported_alg',
      );
    },
  );
});

describe('keys carried in the header', () => {
  it("JWT jwk with the attacker's key, signed by it, is malformed/forbidden_header", async () => {
    expectRejected(
      await verify(jwtWith(attacker, { jwk: attacker.jwk })),
      'malformed',
      'forbidden_header',
    );
    // Even naming the trusted kid while carrying the attacker's key.
    expectRejected(
      await verify(jwtWith(attacker, { jwk: attacker.jwk, kid: issuer.kid })),
      'malformed',
      'forbidden_header',
    );
  });

  it('JWT jku is malformed/forbidden_header', async () => {
    expectRejected(
      await verify(jwtWith(attacker, { jku: 'https://attacker.example/jwks.json' })),
      'malformed',
      'forbidden_header',
    );
  });

  it('JWT x5c is malformed/forbidden_header', async () => {
    const fakeCertificate = Buffer.from(attacker.raw).toString('base64');
    expectRejected(
      await verify(jwtWith(attacker, { x5c: [fakeCertificate] })),
      'malformed',
      'forbidden_header',
    );
    expectRejected(
      await verify(jwtWith(attacker, { x5u: 'https://attacker.example/cert.pem' })),
      'malformed',
      'forbidden_header',
    );
  });

  /** An RFC 9052 COSE_Key (OKP, Ed25519) of the attacker, inside a CWT cnf claim (RFC 8747). */
  const attackerCoseKey = new Map<number, unknown>([
    [1, 1],
    [-1, 6],
    [-2, attacker.raw],
  ]);
  const claimsWithKey = new Map<number, unknown>([[8, new Map([[1, attackerCoseKey]])]]);

  it.each([
    ['kccs (14): a CWT claims set with the attacker key, like jwk', 14, claimsWithKey],
    ['x5u (35), like jku', 35, 'https://attacker.example/cert.pem'],
    ['x5chain (33), like x5c', 33, attacker.raw],
  ])('CWT %s is malformed/forbidden_header', async (_name, label, value) => {
    const inProtected = rawCwt(
      attacker,
      protectedHeader(attacker.kid, [[label, value]]),
      payloadCbor(),
    );
    expectRejected(await verify(inProtected), 'malformed', 'forbidden_header');
    const inUnprotected = rawCwt(attacker, protectedHeader(attacker.kid), payloadCbor(), {
      unprotected: new Map([[label, value as never]]),
    });
    expectRejected(await verify(inUnprotected), 'malformed', 'forbidden_header');
  });
});

describe('kid', () => {
  it('JWT kid with path traversal is malformed/bad_kid', async () => {
    expectRejected(
      await verify(jwtWith(issuer, { kid: '../../../../etc/passwd' })),
      'malformed',
      'bad_kid',
    );
    expectRejected(
      await verify(jwtWith(issuer, { kid: `${'.'.repeat(40)}/..` })),
      'malformed',
      'bad_kid',
    );
  });

  it('CWT kid with path traversal is malformed/bad_kid', async () => {
    const kid = new TextEncoder().encode('../../../../etc/passwd');
    expectRejected(
      await verify(rawCwt(issuer, protectedHeader(issuer.kid, [[4, kid]]), payloadCbor())),
      'malformed',
      'bad_kid',
    );
    // As text, even the right thumbprint is not a COSE kid.
    expectRejected(
      await verify(rawCwt(issuer, protectedHeader(issuer.kid, [[4, issuer.kid]]), payloadCbor())),
      'malformed',
      'bad_kid',
    );
  });

  it('a 10 KB kid is malformed/too_large (JWT and CWT)', async () => {
    expectRejected(
      await verify(jwtWith(issuer, { kid: 'A'.repeat(10 * 1024) })),
      'malformed',
      'too_large',
    );
    const kid = new Uint8Array(10 * 1024).fill(0x41);
    expectRejected(
      await verify(rawCwt(issuer, protectedHeader(issuer.kid, [[4, kid]]), payloadCbor())),
      'malformed',
      'too_large',
    );
  });

  it('a 2 KB kid (under the size cap) is malformed/bad_kid (JWT and CWT)', async () => {
    expectRejected(
      await verify(jwtWith(issuer, { kid: 'A'.repeat(2 * 1024) })),
      'malformed',
      'bad_kid',
    );
    const kid = new Uint8Array(2 * 1024).fill(0x41);
    expectRejected(
      await verify(rawCwt(issuer, protectedHeader(issuer.kid, [[4, kid]]), payloadCbor())),
      'malformed',
      'bad_kid',
    );
  });

  it("a well-formed kid of the attacker's own key is untrusted_key/unknown_kid", async () => {
    expectRejected(
      await verify(signLicense(attacker, claims, { format: 'jwt' })),
      'untrusted_key',
      'unknown_kid',
    );
    expectRejected(
      await verify(signLicense(attacker, claims, { format: 'cwt' })),
      'untrusted_key',
      'unknown_kid',
    );
  });

  it("the trusted kid on the attacker's signature is invalid_signature/signature_mismatch", async () => {
    expectRejected(
      await verify(signLicense(attacker, claims, { format: 'jwt', kid: issuer.kid })),
      'invalid_signature',
      'signature_mismatch',
    );
    expectRejected(
      await verify(signLicense(attacker, claims, { format: 'cwt', kid: issuer.kid })),
      'invalid_signature',
      'signature_mismatch',
    );
  });
});

describe('unknown crit', () => {
  it('JWT crit is malformed/unknown_crit', async () => {
    expectRejected(
      await verify(jwtWith(issuer, { crit: ['x-licensekit-future'], 'x-licensekit-future': true })),
      'malformed',
      'unknown_crit',
    );
    expectRejected(await verify(jwtWith(issuer, { crit: ['exp'] })), 'malformed', 'unknown_crit');
  });

  it('CWT crit (label 2) is malformed/unknown_crit', async () => {
    const header = protectedHeader(issuer.kid, [
      [2, [-70_000]],
      [-70_000, true],
    ]);
    expectRejected(
      await verify(rawCwt(issuer, header, payloadCbor())),
      'malformed',
      'unknown_crit',
    );
  });
});

describe('duplicate claims with conflicting values (validly signed)', () => {
  const json = JSON.stringify(payloadJson);
  it('JWT with two "aud" members is malformed/duplicate_key', async () => {
    const twoAud = `${json.slice(0, -1)},"aud":"another-product"}`;
    expectRejected(await verify(jwtWith(issuer, {}, twoAud)), 'malformed', 'duplicate_key');
  });

  it('JWT with two "exp" members is malformed/duplicate_key', async () => {
    const twoExp = `${json.slice(0, -1)},"exp":${T0 + 3650 * DAY}}`;
    expectRejected(await verify(jwtWith(issuer, {}, twoExp)), 'malformed', 'duplicate_key');
  });

  it('JWT header with two "alg" members is malformed/duplicate_key', async () => {
    const header = `{"alg":"EdDSA","typ":"lic+jwt","kid":"${issuer.kid}","alg":"none"}`;
    expectRejected(await verify(rawJwt(issuer, header, payloadJson)), 'malformed', 'duplicate_key');
  });

  /** The license payload map with one more entry whose key repeats an existing one. */
  function cborWithDuplicate(label: number, value: Uint8Array): Uint8Array {
    const entries = [...licenseToCwt(claims)].map(
      ([k, v]) => [encodeCbor(k), encodeCbor(v)] as const,
    );
    return map([...entries, [int(label), value]]);
  }

  it('CWT with a duplicate aud (3) key is malformed/duplicate_key', async () => {
    const payload = cborWithDuplicate(3, text('another-product'));
    expectRejected(
      await verify(cwtOver(issuer, encodeCbor(protectedHeader(issuer.kid)), payload)),
      'malformed',
      'duplicate_key',
    );
  });

  it('CWT with a duplicate exp (4) key is malformed/duplicate_key', async () => {
    const payload = cborWithDuplicate(4, int(T0 + 3650 * DAY));
    expectRejected(
      await verify(cwtOver(issuer, encodeCbor(protectedHeader(issuer.kid)), payload)),
      'malformed',
      'duplicate_key',
    );
  });

  it('CWT with a duplicate label in the protected header is malformed/duplicate_key', async () => {
    const header = map([
      [int(1), int(-8)],
      [int(4), cborBytes(Buffer.from(issuer.kid, 'base64url'))],
      [int(16), text('application/lic+cwt')],
      [int(1), int(-7)],
    ]);
    expectRejected(
      await verify(cwtOver(issuer, header, payloadCbor())),
      'malformed',
      'duplicate_key',
    );
  });
});

describe('oversized token', () => {
  it('a JWT over 8 KiB is malformed/too_large', async () => {
    const token = jwtWith(issuer, {}, { ...payloadJson, pad: 'x'.repeat(7_000) });
    expect(token.length).toBeGreaterThan(8 * 1024);
    expectRejected(await verify(token), 'malformed', 'too_large');
  });

  it('a CWT over 8 KiB (text or bytes) is malformed/too_large', async () => {
    const payload = licenseToCwt(claims);
    payload.set(-70_001, 'x'.repeat(7_000));
    const token = cwtOver(issuer, encodeCbor(protectedHeader(issuer.kid)), encodeCbor(payload));
    expect(token.length).toBeGreaterThan(8 * 1024);
    expectRejected(await verify(token), 'malformed', 'too_large');
    const binary = new Uint8Array(Buffer.from(token, 'base64url'));
    expect(binary.length).toBeLessThan(8 * 1024);
    // As bytes it fits (the cap applies to what is given) and verifies.
    expect((await verify(binary)).status).toBe('active');
    const payloadBig = licenseToCwt(claims);
    payloadBig.set(-70_001, 'x'.repeat(9_000));
    const bigBinary = new Uint8Array(
      Buffer.from(
        cwtOver(issuer, encodeCbor(protectedHeader(issuer.kid)), encodeCbor(payloadBig)),
        'base64url',
      ),
    );
    expectRejected(await verify(bigBinary), 'malformed', 'too_large');
  });

  it('a JWT of exactly 8 KiB is accepted, one character more is too_large', async () => {
    const sized = new Map<number, string>();
    const header = JSON.stringify(jwtHeader('license', issuer.kid));
    const base = jwtWith(issuer, {}, { ...payloadJson, pad: '' }).length;
    const estimate = Math.floor(((8 * 1024 - base) * 3) / 4);
    // Whitespace after the header and payload JSON moves the length one character at a time.
    for (let n = estimate - 6; n < estimate + 6; n++) {
      for (let spaces = 0; spaces < 9; spaces++) {
        const payload = `${JSON.stringify({ ...payloadJson, pad: 'x'.repeat(n) })}${' '.repeat(spaces % 3)}`;
        const token = rawJwt(issuer, `${header}${' '.repeat(Math.floor(spaces / 3))}`, payload);
        if (!sized.has(token.length)) sized.set(token.length, token);
      }
    }
    const limit = sized.get(8 * 1024);
    const over = sized.get(8 * 1024 + 1);
    expect(limit).toBeDefined();
    expect(over).toBeDefined();
    expect((await verify(limit!)).status).toBe('active');
    expectRejected(await verify(over!), 'malformed', 'too_large');
  });
});

describe('CBOR with huge declared lengths or deep nesting (validly signed)', () => {
  const protectedBytes = () => encodeCbor(protectedHeader(issuer.kid));

  it.each([
    [
      'a text string declaring 2^32 − 1 bytes',
      concat(head(5, 1), int(1), head(3, 0xffff_ffff), text('acme').subarray(1)),
    ],
    ['a byte string declaring 2^40 bytes', concat(head(5, 1), int(1), head(2, 2 ** 40))],
    ['an array declaring 2^32 items', concat(head(5, 1), int(1), head(4, 2 ** 32), int(1))],
    ['a map declaring 2^31 entries', concat(head(5, 2 ** 31), int(1), text('acme'))],
  ])('%s is malformed/too_long', async (_name, payload) => {
    expectRejected(
      await verify(cwtOver(issuer, protectedBytes(), payload)),
      'malformed',
      'too_long',
    );
  });

  it('a length beyond 2^53 is malformed/unsafe_integer', async () => {
    const payload = concat(head(5, 1), int(1), head(3, 2n ** 60n));
    expectRejected(
      await verify(cwtOver(issuer, protectedBytes(), payload)),
      'malformed',
      'unsafe_integer',
    );
  });

  it('a huge declared length in the outer COSE structure is malformed/too_long', async () => {
    const token = concat(head(6, 18), head(4, 4), head(2, 0xffff_ffff), protectedBytes());
    expectRejected(await verify(Buffer.from(token).toString('base64url')), 'malformed', 'too_long');
  });

  it('claims nested 64 deep are malformed/too_deep (CWT)', async () => {
    const nested = concat(...Array.from({ length: 64 }, () => head(4, 1)), int(0));
    const entries = [...licenseToCwt(claims)].map(
      ([k, v]) => [encodeCbor(k), encodeCbor(v)] as const,
    );
    const payload = map([...entries, [int(-70_002), nested]]);
    expectRejected(
      await verify(cwtOver(issuer, protectedBytes(), payload)),
      'malformed',
      'too_deep',
    );
  });

  it('a protected header nested 64 deep is malformed/too_deep (CWT)', async () => {
    const nested = concat(...Array.from({ length: 64 }, () => head(4, 1)), int(0));
    const header = map([
      [int(1), int(-8)],
      [int(4), cborBytes(Buffer.from(issuer.kid, 'base64url'))],
      [int(16), text('application/lic+cwt')],
      [int(-70_003), nested],
    ]);
    expectRejected(await verify(cwtOver(issuer, header, payloadCbor())), 'malformed', 'too_deep');
  });

  it('claims nested 64 deep are malformed/too_deep (JWT)', async () => {
    const deep = `${'['.repeat(64)}0${']'.repeat(64)}`;
    const payload = `${JSON.stringify(payloadJson).slice(0, -1)},"deep":${deep}}`;
    expectRejected(await verify(jwtWith(issuer, {}, payload)), 'malformed', 'too_deep');
  });
});

describe('another kind of document presented as a license', () => {
  it.each(['jwt', 'cwt'] as const)(
    'an issuer certificate (%s) is malformed/wrong_type',
    async (format) => {
      const pki = makePki(format);
      const certificate = signCertificate(issuer, certificateClaims(pki.issuer), { format });
      expectRejected(await verify(certificate), 'malformed', 'wrong_type');
    },
  );

  it.each(['jwt', 'cwt'] as const)(
    'a revocation list (%s) is malformed/wrong_type',
    async (format) => {
      const list = signRevocationList(issuer, revocationClaims(), { format });
      expectRejected(await verify(list), 'malformed', 'wrong_type');
    },
  );

  it('a JWT with the generic typ "JWT" is malformed/wrong_type', async () => {
    expectRejected(await verify(jwtWith(issuer, { typ: 'JWT' })), 'malformed', 'wrong_type');
    expectRejected(await verify(jwtWith(issuer, { typ: undefined })), 'malformed', 'wrong_type');
  });

  it('a CWT without typ is malformed/wrong_type', async () => {
    expectRejected(
      await verify(rawCwt(issuer, protectedHeader(issuer.kid, [[16, undefined]]), payloadCbor())),
      'malformed',
      'wrong_type',
    );
  });
});

describe('padded or non-canonical base64url', () => {
  /** A token whose last base64url character carries trailing bits (its byte length is not a multiple of 3). */
  function cwtWithTrailingBits(): string {
    for (let n = 1; n < 10; n++) {
      const token = signLicense(issuer, licenseClaims({ plan: `pro-${'x'.repeat(n)}` }), {
        format: 'cwt',
      });
      if (token.length % 4 !== 0) return token;
    }
    throw new Error('no CWT length with trailing bits');
  }

  /** The last character changed to another that decodes to the same bytes but sets trailing bits. */
  function withTrailingBits(segment: string): string {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const value = alphabet.indexOf(segment.at(-1)!);
    const unusedBits = segment.length % 4 === 2 ? 0b1111 : 0b11;
    expect(value & unusedBits).toBe(0);
    const changed = `${segment.slice(0, -1)}${alphabet[value | 1]}`;
    expect(Buffer.from(changed, 'base64url')).toEqual(Buffer.from(segment, 'base64url'));
    return changed;
  }

  it("a JWT signature padded with '=' is malformed/bad_base64url", async () => {
    const { valid } = sameKeyTokens('jwt');
    expectRejected(await verify(`${valid}=`), 'malformed', 'bad_base64url');
    expectRejected(await verify(`${valid}==`), 'malformed', 'bad_base64url');
  });

  it("a JWT header padded with '=' is malformed/bad_base64url", async () => {
    const [h, p, s] = sameKeyTokens('jwt').valid.split('.') as [string, string, string];
    expectRejected(await verify(`${h}=.${p}.${s}`), 'malformed', 'bad_base64url');
  });

  it('a JWT signature whose last character sets trailing bits is malformed/not_canonical', async () => {
    const { valid } = sameKeyTokens('jwt');
    const dot = valid.lastIndexOf('.');
    const token = `${valid.slice(0, dot)}.${withTrailingBits(valid.slice(dot + 1))}`;
    expectRejected(await verify(token), 'malformed', 'not_canonical');
  });

  it('a JWT in standard base64 (+ and /) is malformed/bad_base64url', async () => {
    // A signature whose base64url has a '-' or '_', so its standard base64 differs.
    let token = sameKeyTokens('jwt').valid;
    while (!/[-_]/.test(token.slice(token.lastIndexOf('.') + 1)))
      token = jwtWith(issuer, {}, { ...payloadJson, jti: randomTokenId() });
    const [h, p, s] = token.split('.') as [string, string, string];
    const standard = Buffer.from(s, 'base64url').toString('base64').replace(/=+$/, '');
    expect(standard).not.toBe(s);
    expectRejected(await verify(`${h}.${p}.${standard}`), 'malformed', 'bad_base64url');
  });

  it("a CWT padded with '=' is malformed/bad_base64url", async () => {
    const token = cwtWithTrailingBits();
    const padding = '='.repeat((4 - (token.length % 4)) % 4);
    expect((await verify(token)).status).toBe('active');
    expectRejected(await verify(`${token}${padding}`), 'malformed', 'bad_base64url');
  });

  it('a CWT whose last character sets trailing bits is malformed/not_canonical', async () => {
    expectRejected(
      await verify(withTrailingBits(cwtWithTrailingBits())),
      'malformed',
      'not_canonical',
    );
  });
});

describe('signature with S ≥ L (S + L of a valid signature)', () => {
  it('JWT is invalid_signature/signature_mismatch', async () => {
    const valid = jwtWith(issuer, {});
    const dot = valid.lastIndexOf('.');
    const signature = new Uint8Array(Buffer.from(valid.slice(dot + 1), 'base64url'));
    const token = `${valid.slice(0, dot)}.${Buffer.from(malleate(signature)).toString('base64url')}`;
    expectRejected(await verify(token), 'invalid_signature', 'signature_mismatch');
  });

  it('CWT is invalid_signature/signature_mismatch', async () => {
    const protectedBytes = encodeCbor(protectedHeader(issuer.kid));
    const payloadBytes = payloadCbor();
    const signature = signBytes(issuer, sigStructure(protectedBytes, payloadBytes));
    const good = rawCwt(issuer, protectedBytes, payloadBytes, { signature });
    expect((await verify(good)).status).toBe('active');
    const token = rawCwt(issuer, protectedBytes, payloadBytes, { signature: malleate(signature) });
    expectRejected(await verify(token), 'invalid_signature', 'signature_mismatch');
  });
});

describe.each(['jwt', 'cwt'] as const)('state and claims attacks (%s)', (format) => {
  it("another product's token is wrong_product/audience_mismatch", async () => {
    const { token } = issueLicense(issuer, format, { aud: 'video-editor' });
    expect(await verify(token)).toMatchObject({
      valid: false,
      status: 'wrong_product',
      reason: 'audience_mismatch',
    });
  });

  it("another product's token, under a certificate valid for that product, is wrong_product/audience_mismatch", async () => {
    const { root, issuer: scoped, certificate } = makePki(format, { products: ['video-editor'] });
    const app = createVerifier({
      trust: { roots: [root.jwk] },
      product: PRODUCT,
      clock: testClock().read,
    });
    const token = signLicense(scoped, licenseClaims({ aud: 'video-editor' }), {
      format,
      certificate,
    });
    expect(await app.verify(token)).toMatchObject({
      status: 'wrong_product',
      reason: 'audience_mismatch',
    });
  });

  it('an older token replayed after a newer one is rolled_back/older_seq', async () => {
    const app = verifier();
    const first = issueLicense(issuer, format);
    const second = renewLicense(issuer, format, first, { exp: T0 + 60 * DAY });
    expect((await app.verify(second.token)).status).toBe('active');
    expect(await app.verify(first.token)).toMatchObject({
      valid: false,
      status: 'rolled_back',
      reason: 'older_seq',
    });
  });

  it('the clock set back two days is clock_tampered/clock_behind_high_water', async () => {
    const clock = testClock(T0 + 10 * DAY);
    const app = verifier(clock);
    const { token } = issueLicense(issuer, format);
    expect((await app.verify(token)).status).toBe('active');
    clock.set(T0 + 8 * DAY);
    expect(await app.verify(token)).toMatchObject({
      valid: false,
      status: 'clock_tampered',
      reason: 'clock_behind_high_water',
    });
  });
});

describe('structure', () => {
  it('a JWT with four parts is malformed/bad_structure', async () => {
    expectRejected(
      await verify(`${sameKeyTokens('jwt').valid}.AAAA`),
      'malformed',
      'bad_structure',
    );
  });

  it('a CWT with bytes after the COSE_Sign1 is malformed/trailing_bytes', async () => {
    const bytes = Buffer.concat([
      Buffer.from(sameKeyTokens('cwt').valid, 'base64url'),
      Buffer.of(0x00),
    ]);
    expectRejected(await verify(bytes.toString('base64url')), 'malformed', 'trailing_bytes');
  });

  it('an untagged COSE_Sign1 is malformed/bad_structure', async () => {
    const token = rawCwt(issuer, protectedHeader(issuer.kid), payloadCbor(), { tag: null });
    expectRejected(await verify(token), 'malformed', 'bad_structure');
  });

  it('a claim of the wrong type (a string exp), validly signed, is malformed/bad_claims', async () => {
    expectRejected(
      await verify(jwtWith(issuer, {}, { ...payloadJson, exp: String(T0 + DAY) })),
      'malformed',
      'bad_claims',
    );
    const cwtPayload = licenseToCwt(claims);
    cwtPayload.set(4, String(T0 + DAY));
    expectRejected(
      await verify(
        cwtOver(issuer, encodeCbor(protectedHeader(issuer.kid)), encodeCbor(cwtPayload)),
      ),
      'malformed',
      'bad_claims',
    );
  });

  it('a non-string, non-bytes token is malformed/bad_structure and never throws', async () => {
    for (const input of [null, undefined, 42, {}, ['a']]) {
      expectRejected(await verify(input as unknown as string), 'malformed', 'bad_structure');
    }
    expectRejected(await verify(''), 'malformed', 'bad_cbor');
  });
});
