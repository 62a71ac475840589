import { access, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ed25519PublicJwk, TokenFormat } from '@licensekit/core';
import { decodeDocument, jwkThumbprint, readCertificateClaims } from '@licensekit/core';
import type { Signer } from '@licensekit/issuer';
import {
  createIssuerCertificate,
  createSigner,
  generateKeyPair,
  readPrivateKeyFile,
  readPublicKeyFile,
  writeKeyPair,
} from '@licensekit/issuer';
import { writeAtomically } from '@licensekit/verifier/node';
import type { VendorKeyring } from './vendor-keys.js';

/**
 * The store's signing keys, as files beside the database (never in it): the root key
 * (dataDir/keys/root.json) certifies the issuer key (issuer.json) with issuer.cert, and
 * the issuer signs every token with that certificate embedded. On first start all three
 * are generated (dev keys, 0600). In production keep the root offline: provide only
 * root.pub.json, issuer.json and a certificate made with `licensekit cert`; the store then
 * never touches the root's private key.
 */
export interface StoreKeys {
  vendor: string;
  rootPublicJwk: Ed25519PublicJwk & { kid: string };
  issuer: Signer;
  certificate: string;
  /** The certificate to embed per token format (the JWT form for JWT tokens when present). */
  certificates: Record<TokenFormat, string>;
  /** When the certificate ends (seconds); tokens must not outlive it. */
  certificateExpiresAt: number;
  /**
   * The other vendors' issuers (lib/vendor-keys.ts); absent = every token is signed with
   * the store's own issuer (a store built without the keys plugin, e.g. some tests).
   */
  vendorKeys?: VendorKeyring | undefined;
}

const CERTIFICATE_DAYS = 365;
const CERTIFICATE_BACKDATE = 86_400;
// Re-certify (when the root key is at hand) once less than this is left.
const RENEW_BEFORE_SECONDS = 30 * 86_400;

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

export async function loadStoreKeys(
  dataDir: string,
  vendor: string,
  now: number,
): Promise<{ keys: StoreKeys; generated: boolean }> {
  const dir = join(dataDir, 'keys');
  const paths = {
    root: join(dir, 'root.json'),
    rootPublic: join(dir, 'root.pub.json'),
    issuer: join(dir, 'issuer.json'),
    certificate: join(dir, 'issuer.cert'),
    jwtCertificate: join(dir, 'issuer.cert.jwt'),
  };
  let generated = false;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!(await exists(paths.rootPublic))) {
    await writeKeyPair(paths.root, await generateKeyPair());
    generated = true;
  }
  if (!(await exists(paths.issuer))) {
    await writeKeyPair(paths.issuer, await generateKeyPair());
    generated = true;
  }
  const rootPublicJwk = await readPublicKeyFile(paths.rootPublic);
  const issuer = await createSigner(await readPrivateKeyFile(paths.issuer));

  let certificate = (await exists(paths.certificate))
    ? (await readFile(paths.certificate, 'utf8')).trim()
    : undefined;
  let certificateExpiresAt = certificate
    ? await certificateEnd(certificate, issuer.kid)
    : undefined;
  if (certificateExpiresAt === undefined || certificateExpiresAt - now < RENEW_BEFORE_SECONDS) {
    if (!(await exists(paths.root))) {
      if (certificateExpiresAt === undefined || certificateExpiresAt <= now) {
        throw new Error(
          `no valid issuer certificate in ${dir} and no root key to make one: run licensekit cert`,
        );
      }
    } else {
      const root = await createSigner(await readPrivateKeyFile(paths.root));
      const certify = (format: TokenFormat) =>
        createIssuerCertificate({
          root,
          issuerKey: issuer.publicJwk,
          products: ['*'],
          vendor,
          // Valid from a day back: an app whose clock is a little behind the store's must
          // not see a brand-new certificate as not yet valid.
          notBefore: now - CERTIFICATE_BACKDATE,
          notAfter: now + CERTIFICATE_DAYS * 86_400,
          format,
          now,
        });
      certificate = await certify('cwt');
      // The same certificate as a JWT, for JWT tokens: a CWT inside a JWT header would be
      // base64url twice over.
      await writeAtomically(paths.jwtCertificate, `${await certify('jwt')}\n`);
      await writeAtomically(paths.certificate, `${certificate}\n`);
      certificateExpiresAt = now + CERTIFICATE_DAYS * 86_400;
      generated = true;
    }
  }
  const jwtCertificate = (await exists(paths.jwtCertificate))
    ? (await readFile(paths.jwtCertificate, 'utf8')).trim()
    : undefined;
  const jwtUsable =
    jwtCertificate !== undefined &&
    (await certificateEnd(jwtCertificate, issuer.kid)) !== undefined;
  return {
    keys: {
      vendor,
      rootPublicJwk,
      issuer,
      certificate: certificate!,
      certificates: { cwt: certificate!, jwt: jwtUsable ? jwtCertificate : certificate! },
      certificateExpiresAt: certificateExpiresAt!,
    },
    generated,
  };
}

/** The end of a certificate's window, or undefined when it does not certify this issuer key. */
async function certificateEnd(certificate: string, issuerKid: string): Promise<number | undefined> {
  try {
    const claims = readCertificateClaims(decodeDocument(certificate, 'certificate'));
    return (await jwkThumbprint({ x: claims.key })) === issuerKid ? claims.exp : undefined;
  } catch {
    return undefined;
  }
}
