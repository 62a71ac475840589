import { ALL_PRODUCTS } from '@licensekit/core';
import { createIssuerCertificate } from '@licensekit/issuer';
import { DEFAULT_VENDOR } from '../lib/defaults.js';
import { EXIT, quote, UsageError } from '../lib/errors.js';
import type { Io } from '../lib/io.js';
import { publicKeyFromFile, signerFromFile } from '../lib/keys.js';
import { parseFormat } from '../lib/license-flags.js';
import { parseCount } from '../lib/numbers.js';
import { emitDocument } from '../lib/output.js';
import { splitList } from '../lib/quota.js';
import { parseTime } from '../lib/time.js';

export interface CertFlags {
  root: string;
  issuer: string;
  products: string;
  days?: string;
  vendor?: string;
  format?: string;
  now?: string;
  out?: string;
}

/**
 * `licensekit cert --root root.json --issuer issuer.pub.json --products p1,p2 --days 365`:
 * the root key certifies the issuer key for those products, from now for N days.
 */
export async function cert(flags: CertFlags, io: Io): Promise<number> {
  const products = splitList(flags.products);
  if (products.length === 0) {
    throw new UsageError(
      `--products ${quote(flags.products)} names no product; give product ids, comma-separated, or *`,
    );
  }
  if (products.length > 1 && products.includes(ALL_PRODUCTS)) {
    throw new UsageError(
      '--products: * already means every product; give * alone or a list of product ids',
    );
  }
  const days = flags.days === undefined ? undefined : parseCount(flags.days, '--days');
  const format = parseFormat(flags.format);
  const now = flags.now === undefined ? undefined : parseTime(flags.now, '--now');
  const [root, issuerKey] = await Promise.all([
    signerFromFile(flags.root, '--root'),
    publicKeyFromFile(flags.issuer, '--issuer'),
  ]);
  const certificate = await createIssuerCertificate({
    root,
    issuerKey,
    products,
    vendor: flags.vendor ?? DEFAULT_VENDOR,
    days,
    format,
    now,
  });
  await emitDocument(certificate, flags.out, io, `the certificate of issuer key ${issuerKey.kid}`);
  return EXIT.ok;
}
