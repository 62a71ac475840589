import { access, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ed25519PublicJwk, IssuerCertificateClaims, TokenFormat } from '@licensekit/core';
import {
  ALL_PRODUCTS,
  decodeDocument,
  jwkThumbprint,
  readCertificateClaims,
} from '@licensekit/core';
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
import type { Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';

/**
 * Per-vendor issuer keys (issue 10, "Vendors as tenants"). Every vendor but the store's own
 * signs its tokens with an issuer key of its own, certified by the store's root for that
 * vendor only: the certificate's `iss` is the vendor id and its `products` are the
 * vendor's products, so a verifier trusting the store's root accepts a vendor's token for
 * that vendor's products and refuses it for any other (`certificate_out_of_scope`).
 *
 * Files, like the store's own keys (lib/keys.ts), never the database:
 *   dataDir/keys/vendors/<vendor>/issuer.json (0600), issuer.pub.json, issuer.cert,
 *   issuer.cert.jwt. The key is made on the vendor's first token; the certificate is made
 *   again when the vendor has a product it does not list, or 30 days before it ends —
 *   which needs the root's private key (dataDir/keys/root.json). A store whose root is
 *   offline gets the files from `licensekit cert` instead, as for its own issuer key.
 */

/** What signs a token: the store's own issuer or a vendor's. */
export interface IssuerKeys {
  vendor: string;
  issuer: Signer;
  certificates: Record<TokenFormat, string>;
  /** When the certificate ends (seconds): tokens must not outlive it. */
  certificateExpiresAt: number;
}

export interface VendorIssuer extends IssuerKeys {
  products: readonly string[];
}

const VENDOR_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const CERTIFICATE_DAYS = 365;
const CERTIFICATE_BACKDATE = 86_400;
const RENEW_BEFORE_SECONDS = 30 * 86_400;
// The most products a certificate lists (core's limit); beyond it the vendor's key is
// certified for "*", which the verifier still confines to the vendor's own `iss`.
const MAX_LISTED_PRODUCTS = 256;
const VENDOR_OF_TTL_MS = 60_000;
// A bound on the product → vendor memo (a catalogue larger than this just looks up more).
const VENDOR_OF_MAX = 10_000;

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function vendorDir(dataDir: string, vendor: string): string {
  // The vendor id names a directory: only ids of the registry's shape get that far.
  if (!VENDOR_ID.test(vendor)) throw new Error(`not a vendor id: ${JSON.stringify(vendor)}`);
  return join(dataDir, 'keys', 'vendors', vendor);
}

async function readCertificate(
  path: string,
  kid: string,
): Promise<{ text: string; claims: IssuerCertificateClaims } | undefined> {
  if (!(await exists(path))) return undefined;
  const text = (await readFile(path, 'utf8')).trim();
  try {
    const claims = readCertificateClaims(decodeDocument(text, 'certificate'));
    return (await jwkThumbprint({ x: claims.key })) === kid ? { text, claims } : undefined;
  } catch {
    return undefined;
  }
}

function covers(claims: IssuerCertificateClaims, vendor: string, products: readonly string[]) {
  return (
    claims.iss === vendor &&
    (claims.products.includes(ALL_PRODUCTS) || products.every((p) => claims.products.includes(p)))
  );
}

/**
 * The issuer of one vendor, certified for `products` (at least): made and certified when
 * needed. Never called for the store's own vendor (lib/keys.ts has its keys).
 * @throws StoreError SERVICE_UNAVAILABLE when a certificate is needed and the root key is
 *   not at hand
 */
export async function loadVendorIssuer(
  dataDir: string,
  vendor: string,
  products: readonly string[],
  now: number,
): Promise<{ issuer: VendorIssuer; certified: string[] }> {
  const dir = vendorDir(dataDir, vendor);
  const paths = {
    root: join(dataDir, 'keys', 'root.json'),
    issuer: join(dir, 'issuer.json'),
    certificate: join(dir, 'issuer.cert'),
    jwtCertificate: join(dir, 'issuer.cert.jwt'),
  };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!(await exists(paths.issuer))) {
    // 'wx' inside writeKeyPair: a key another instance made first is kept, not replaced.
    await writeKeyPair(paths.issuer, await generateKeyPair()).catch(async (error) => {
      if (!(await exists(paths.issuer))) throw error;
    });
  }
  const signer = await createSigner(await readPrivateKeyFile(paths.issuer));
  let cwt = await readCertificate(paths.certificate, signer.kid);
  let jwt = await readCertificate(paths.jwtCertificate, signer.kid);
  const certified: string[] = [];
  const usable = (c: typeof cwt) =>
    c !== undefined &&
    covers(c.claims, vendor, products) &&
    c.claims.exp - now >= RENEW_BEFORE_SECONDS;
  if (!usable(cwt) || !usable(jwt)) {
    if (!(await exists(paths.root))) {
      const stillValid = (c: typeof cwt) =>
        c !== undefined && covers(c.claims, vendor, products) && c.claims.exp > now;
      if (!stillValid(cwt)) {
        throw new StoreError(
          'SERVICE_UNAVAILABLE',
          'The store cannot sign tokens for this vendor at the moment.',
        );
      }
    } else {
      const root = await createSigner(await readPrivateKeyFile(paths.root));
      const listed = [...new Set(products)].sort();
      const scope = listed.length > MAX_LISTED_PRODUCTS ? [ALL_PRODUCTS] : listed;
      const certify = (format: TokenFormat) =>
        createIssuerCertificate({
          root,
          issuerKey: signer.publicJwk,
          products: scope,
          vendor,
          notBefore: now - CERTIFICATE_BACKDATE,
          notAfter: now + CERTIFICATE_DAYS * 86_400,
          format,
          now,
        });
      const cwtText = await certify('cwt');
      const jwtText = await certify('jwt');
      await writeAtomically(paths.jwtCertificate, `${jwtText}\n`);
      await writeAtomically(paths.certificate, `${cwtText}\n`);
      cwt = {
        text: cwtText,
        claims: readCertificateClaims(decodeDocument(cwtText, 'certificate')),
      };
      jwt = {
        text: jwtText,
        claims: readCertificateClaims(decodeDocument(jwtText, 'certificate')),
      };
      certified.push(cwtText, jwtText);
    }
  }
  const certificate = cwt!;
  const jwtUsable = jwt !== undefined && jwt.claims.exp === certificate.claims.exp;
  return {
    issuer: {
      vendor,
      issuer: signer,
      certificates: { cwt: certificate.text, jwt: jwtUsable ? jwt!.text : certificate.text },
      certificateExpiresAt: certificate.claims.exp,
      products: certificate.claims.products,
    },
    certified,
  };
}

/**
 * The issuers of a running store: the store's own for its products, each vendor's for
 * theirs, kept in memory once loaded. `onCertificate` hears of every certificate made
 * (the issuance log records it).
 */
export class VendorKeyring {
  readonly #dataDir: string;
  readonly #storeVendor: string;
  readonly #loaded = new Map<string, VendorIssuer>();
  readonly #loading = new Map<string, Promise<VendorIssuer>>();
  readonly #vendorOf = new Map<string, { vendor: string; at: number }>();

  constructor(dataDir: string, storeVendor: string) {
    this.#dataDir = dataDir;
    this.#storeVendor = storeVendor;
  }

  /**
   * The vendor selling a product (products.vendor_id, or the store's own vendor). Kept in
   * memory for a minute, so a refresh costs no extra statement: a product moved to another
   * vendor (forget() on this instance) is signed for by its new vendor within that minute
   * on the other instances.
   */
  async vendorOf(db: Queryable, productId: string): Promise<string> {
    const known = this.#vendorOf.get(productId);
    if (known && performance.now() - known.at < VENDOR_OF_TTL_MS) return known.vendor;
    const [row] = await db.query<{ vendor: string | null }>(
      'SELECT vendor_id AS vendor FROM products WHERE id = $1',
      [productId],
    );
    const vendor = row?.vendor ?? this.#storeVendor;
    if (row) {
      if (this.#vendorOf.size >= VENDOR_OF_MAX) this.#vendorOf.clear();
      this.#vendorOf.set(productId, { vendor, at: performance.now() });
    }
    return vendor;
  }

  /** Drops what is known of a product's vendor (after it moved to another vendor). */
  forget(productId: string): void {
    this.#vendorOf.delete(productId);
  }

  /**
   * The issuer for a token of `productId` of `vendor` (not the store's own vendor), made or
   * re-certified when its certificate does not list the product or ends within 30 days.
   */
  async issuerFor(
    db: Queryable,
    vendor: string,
    productId: string,
    now: number,
    onCertificate: (certificate: string) => Promise<void>,
  ): Promise<VendorIssuer> {
    const cached = this.#loaded.get(vendor);
    if (
      cached &&
      cached.certificateExpiresAt - now >= RENEW_BEFORE_SECONDS &&
      (cached.products.includes(productId) || cached.products.includes(ALL_PRODUCTS))
    )
      return cached;
    // One load per vendor at a time: concurrent first tokens share it.
    let loading = this.#loading.get(vendor);
    if (!loading) {
      loading = (async () => {
        const rows = await db.query<{ id: string }>(
          'SELECT id FROM products WHERE vendor_id = $1 ORDER BY id',
          [vendor],
        );
        const products = [...new Set([...rows.map((row) => row.id), productId])];
        const { issuer, certified } = await loadVendorIssuer(this.#dataDir, vendor, products, now);
        for (const certificate of certified) await onCertificate(certificate);
        this.#loaded.set(vendor, issuer);
        return issuer;
      })().finally(() => this.#loading.delete(vendor));
      this.#loading.set(vendor, loading);
    }
    return loading;
  }

  /** Every vendor issuer on disk with a certificate (the keys endpoint publishes them). */
  async published(): Promise<PublishedIssuer[]> {
    const base = join(this.#dataDir, 'keys', 'vendors');
    if (!(await exists(base))) return [];
    const out: PublishedIssuer[] = [];
    for (const vendor of (await readdir(base)).sort()) {
      if (!VENDOR_ID.test(vendor) || vendor === this.#storeVendor) continue;
      const dir = join(base, vendor);
      const publicPath = join(dir, 'issuer.pub.json');
      if (!(await exists(publicPath))) continue;
      const key = await readPublicKeyFile(publicPath);
      const certificate = await readCertificate(join(dir, 'issuer.cert'), key.kid);
      if (certificate)
        out.push({ vendor, key, certificate: certificate.text, expiresAt: certificate.claims.exp });
    }
    return out;
  }
}

/** A vendor's issuer as the keys endpoint shows it: public material only. */
export interface PublishedIssuer {
  vendor: string;
  key: Ed25519PublicJwk & { kid: string };
  certificate: string;
  expiresAt: number;
}
