import { createHash } from 'node:crypto';
import {
  ConfigError,
  decodeDocument,
  type LicenseClaims,
  type LicenseClaimsInput,
  MalformedError,
  readLicenseClaims,
} from '@licensekit/core';
import { beforeAll, describe, expect, test } from 'vitest';
import { createIssuerCertificate } from './certificate.js';
import { issue } from './issue.js';
import { generateKeyPair } from './key-files.js';
import { type LicenseChanges, renew } from './renew.js';
import { createSigner, type Signer } from './signer.js';

const NOW = 1_763_700_000;
const DAY = 86_400;

const claims: LicenseClaimsInput = {
  iss: 'acme',
  sub: 'lic_01JD3K8X7Q2M5N9P',
  aud: 'photon',
  exp: NOW + 30 * DAY,
  plan: 'pro-monthly',
  ent: ['export-4k'],
  quota: { seats: { limit: 3 } },
  grace: 7 * DAY,
  cnf: { jkt: 'q1sLrnHqpXyZJrm0V4mDk8ExKDDpRrVXVZQ0tk2vGgc' },
  chg: { kind: 'downgrade', at: NOW + 30 * DAY, plan: 'basic-monthly' },
};

let root: Signer;
let signer: Signer;
let rotated: Signer;

beforeAll(async () => {
  root = await createSigner((await generateKeyPair()).privateJwk);
  signer = await createSigner((await generateKeyPair()).privateJwk);
  rotated = await createSigner((await generateKeyPair()).privateJwk);
});

function read(token: string): LicenseClaims {
  return readLicenseClaims(decodeDocument(token, 'license'));
}

/** SHA-256 of the token's own bytes, computed here without core: JWT ASCII, CWT raw COSE. */
function independentHash(token: string): string {
  const bytes = token.includes('.') ? Buffer.from(token, 'ascii') : Buffer.from(token, 'base64url');
  return createHash('sha256').update(bytes).digest('base64url');
}

describe('renew', () => {
  test.each(['jwt', 'cwt'] as const)(
    '%s: seq + 1, prev = SHA-256 of the previous token bytes, new jti, iat = nbf = now',
    async (format) => {
      const first = await issue(claims, { signer, format, now: NOW });
      const second = await renew(first, {}, { signer, now: NOW + DAY });
      const before = read(first);
      const after = read(second);
      expect(after.seq).toBe(before.seq + 1);
      expect(after.prev).toBe(independentHash(first));
      expect(after.jti).not.toBe(before.jti);
      expect(after.iat).toBe(NOW + DAY);
      expect(after.nbf).toBe(NOW + DAY);
      const { iat: _a, nbf: _b, jti: _c, seq: _d, prev: _e, ...carried } = after;
      const { iat: _f, nbf: _g, jti: _h, seq: _i, ...original } = before;
      expect(carried).toEqual(original);
      expect(decodeDocument(second).format).toBe(format);
    },
  );

  test.each(['jwt', 'cwt'] as const)(
    '%s: a chain of 5 renewals links each token to the one before',
    async (format) => {
      const chain = [await issue(claims, { signer, format, now: NOW })];
      for (let i = 1; i <= 5; i++) {
        chain.push(
          await renew(chain[i - 1]!, { exp: NOW + (30 + i) * DAY }, { signer, now: NOW + i * DAY }),
        );
      }
      const decoded = chain.map(read);
      expect(decoded.map((c) => c.seq)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(decoded[0]!.prev).toBeUndefined();
      for (let i = 1; i < chain.length; i++) {
        expect(decoded[i]!.prev).toBe(independentHash(chain[i - 1]!));
        expect(decoded[i]!.sub).toBe(claims.sub);
        expect(decoded[i]!.exp).toBe(NOW + (30 + i) * DAY);
      }
      expect(new Set(decoded.map((c) => c.jti)).size).toBe(chain.length);
    },
  );

  test('changes override; everything else is carried over', async () => {
    const first = await issue(claims, { signer, now: NOW });
    const next = read(
      await renew(
        first,
        { plan: 'team-monthly', quota: { seats: { limit: 10 } }, access: 'trial' },
        { signer, now: NOW + DAY },
      ),
    );
    expect(next).toMatchObject({
      plan: 'team-monthly',
      quota: { seats: { limit: 10 } },
      access: 'trial',
      ent: claims.ent,
      cnf: claims.cnf,
      grace: claims.grace,
      exp: claims.exp,
      chg: claims.chg,
    });
  });

  test('undefined keeps, null removes an optional claim', async () => {
    const first = await issue(claims, { signer, now: NOW });
    const next = read(
      await renew(first, { chg: null, grace: undefined }, { signer, now: NOW + DAY }),
    );
    expect(next).not.toHaveProperty('chg');
    expect(next.grace).toBe(claims.grace);
    const perpetual = read(
      await renew(first, { exp: null, cnf: null }, { signer, now: NOW + DAY }),
    );
    expect(perpetual).not.toHaveProperty('exp');
    expect(perpetual).not.toHaveProperty('cnf');
  });

  test('null on a required claim is refused', async () => {
    const first = await issue(claims, { signer, now: NOW });
    const changes = { plan: null } as unknown as LicenseChanges;
    await expect(renew(first, changes, { signer, now: NOW + DAY })).rejects.toThrow(ConfigError);
  });

  test('changes can set iat and nbf', async () => {
    const first = await issue(claims, { signer, now: NOW });
    const next = read(await renew(first, { nbf: NOW + 2 * DAY }, { signer, now: NOW + DAY }));
    expect(next.iat).toBe(NOW + DAY);
    expect(next.nbf).toBe(NOW + 2 * DAY);
  });

  test('sub can never change', async () => {
    const first = await issue(claims, { signer, now: NOW });
    await expect(renew(first, { sub: 'lic_other' }, { signer, now: NOW + DAY })).rejects.toThrow(
      ConfigError,
    );
    await expect(renew(first, { sub: claims.sub }, { signer, now: NOW + DAY })).resolves.toBeTypeOf(
      'string',
    );
  });

  test('seq and prev belong to renew', async () => {
    const first = await issue(claims, { signer, now: NOW });
    for (const lineage of [{ seq: 7 }, { prev: 'q1sLrnHqpXyZJrm0V4mDk8ExKDDpRrVXVZQ0tk2vGgc' }]) {
      const changes = lineage as unknown as LicenseChanges;
      await expect(renew(first, changes, { signer, now: NOW + DAY })).rejects.toThrow(ConfigError);
    }
  });

  test('the format defaults to the previous one and can be changed', async () => {
    const jwt = await issue(claims, { signer, format: 'jwt', now: NOW });
    expect(decodeDocument(await renew(jwt, {}, { signer, now: NOW + 1 })).format).toBe('jwt');
    const cwt = await renew(jwt, {}, { signer, format: 'cwt', now: NOW + 1 });
    expect(decodeDocument(cwt).format).toBe('cwt');
    expect(read(cwt).prev).toBe(independentHash(jwt));
  });

  test('renewing needs only the current key, not the one that signed the previous token', async () => {
    const first = await issue(claims, { signer, now: NOW });
    const next = await renew(first, {}, { signer: rotated, now: NOW + DAY, kid: true });
    expect(decodeDocument(next).kid).toBe(rotated.kid);
    expect(read(next).prev).toBe(independentHash(first));
  });

  test('per-period quotas keep their anchor across renewals', async () => {
    const metered = { ...claims, quota: { exports: { limit: 100, per: 'month' as const } } };
    const first = await issue(metered, { signer, now: NOW });
    expect(read(first).anchor).toBeUndefined();
    const second = await renew(first, {}, { signer, now: NOW + 3 * DAY });
    expect(read(second).anchor).toBe(NOW);
    expect(read(await renew(second, {}, { signer, now: NOW + 4 * DAY })).anchor).toBe(NOW);
    expect(
      read(await renew(first, { anchor: null }, { signer, now: NOW + 3 * DAY })).anchor,
    ).toBeUndefined();
    // Without a per-period quota there is nothing to anchor.
    expect(
      read(await renew(await issue(claims, { signer, now: NOW }), {}, { signer, now: NOW + DAY }))
        .anchor,
    ).toBeUndefined();
  });

  test('a malformed previous token is an error, and so is a document of another kind', async () => {
    await expect(renew('not-a-token', {}, { signer, now: NOW })).rejects.toThrow(MalformedError);
    const first = await issue(claims, { signer, format: 'jwt', now: NOW });
    const tampered = `${first.slice(0, first.indexOf('.'))}.e30.${first.slice(first.lastIndexOf('.') + 1)}`;
    await expect(renew(tampered, {}, { signer, now: NOW })).rejects.toThrow(MalformedError);
    const certificate = await createIssuerCertificate({
      root,
      issuerKey: signer.publicJwk,
      products: ['*'],
      vendor: 'acme',
      now: NOW,
    });
    const error = await renew(certificate, {}, { signer, now: NOW }).catch(
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(MalformedError);
    expect((error as MalformedError).reason).toBe('wrong_type');
  });
});

describe('renew and certificates', () => {
  let certificate: string;
  let rotatedCertificate: string;
  beforeAll(async () => {
    const scope = { root, products: ['photon'], vendor: 'acme', now: NOW - DAY };
    certificate = await createIssuerCertificate({ ...scope, issuerKey: signer.publicJwk });
    rotatedCertificate = await createIssuerCertificate({ ...scope, issuerKey: rotated.publicJwk });
  });

  test('the previous certificate is carried over by default', async () => {
    const first = await issue(claims, { signer, certificate, now: NOW });
    const next = decodeDocument(await renew(first, {}, { signer, now: NOW + DAY }), 'license');
    expect(next.certificate).toEqual(decodeDocument(first, 'license').certificate);
  });

  test('after a key rotation the carried certificate is refused with the way out', async () => {
    const first = await issue(claims, { signer, certificate, now: NOW });
    await expect(renew(first, {}, { signer: rotated, now: NOW + DAY })).rejects.toThrow(
      /options.certificate/,
    );
    const next = await renew(
      first,
      {},
      { signer: rotated, certificate: rotatedCertificate, now: NOW + DAY },
    );
    expect(decodeDocument(next, 'license').certificate).toBeDefined();
    const bare = await renew(first, {}, { signer: rotated, certificate: null, now: NOW + DAY });
    expect(decodeDocument(bare, 'license').certificate).toBeUndefined();
  });

  test('a change of product outside the certificate scope is refused', async () => {
    const first = await issue(claims, { signer, certificate, now: NOW });
    await expect(renew(first, { aud: 'video-editor' }, { signer, now: NOW + DAY })).rejects.toThrow(
      ConfigError,
    );
  });
});
