/**
 * The keys and tokens every figure measures: a root key, an issuer key certified by it
 * (the store's set-up), and a typical license — 12 claims, 2 quotas, 3 entitlements —
 * issued in both formats, with the issuer certificate embedded and bare.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import {
  createIssuerCertificate,
  createSigner,
  generateKeyPair,
  issue,
} from '../../packages/issuer/dist/index.js';

export const PRODUCT = 'photo-editor';
export const VENDOR = 'acme';

/**
 * iss, sub, aud, iat, nbf, exp, jti, seq, access, plan, ent, quota: `issue` fills iat,
 * nbf, jti, seq and access.
 */
export function typicalClaims(now = Math.floor(Date.now() / 1000)) {
  return {
    iss: VENDOR,
    sub: 'lic_5mC0yBqPbXl3vYkR9nT2Qw',
    aud: PRODUCT,
    exp: now + 30 * 86_400,
    plan: 'pro-monthly',
    ent: ['export-pdf', 'batch-edit', 'cloud-sync'],
    quota: { seats: { limit: 3 }, exports: { limit: 1000, per: 'month' } },
  };
}

/** node:crypto KeyObjects of a JWK pair, made once: what the raw baselines use. */
function keyObjects(pair) {
  return {
    publicKey: createPublicKey({ key: pair.publicJwk, format: 'jwk' }),
    privateKey: createPrivateKey({ key: pair.privateJwk, format: 'jwk' }),
  };
}

export async function createFixtures() {
  const rootPair = await generateKeyPair();
  const issuerPair = await generateKeyPair();
  const root = await createSigner(rootPair.privateJwk);
  const signer = await createSigner(issuerPair.privateJwk);
  const certificates = {
    cwt: await createIssuerCertificate({
      root,
      issuerKey: issuerPair.publicJwk,
      vendor: VENDOR,
      products: [PRODUCT],
    }),
    jwt: await createIssuerCertificate({
      root,
      issuerKey: issuerPair.publicJwk,
      vendor: VENDOR,
      products: [PRODUCT],
      format: 'jwt',
    }),
  };
  // The store embeds a certificate of each token's own format (packages/store lib/keys.ts).
  const storeCertificate = certificates.cwt;
  const claims = typicalClaims();
  const tokens = {
    cwt: {
      certified: await issue(claims, { signer, certificate: storeCertificate, format: 'cwt' }),
      bare: await issue(claims, { signer, format: 'cwt' }),
    },
    jwt: {
      certified: await issue(claims, { signer, certificate: certificates.jwt, format: 'jwt' }),
      bare: await issue(claims, { signer, format: 'jwt' }),
    },
  };
  return {
    rootPair,
    issuerPair,
    root,
    signer,
    issuerKeys: keyObjects(issuerPair),
    certificates,
    storeCertificate,
    claims,
    tokens,
  };
}
