import { decodeDocument, type LicenseClaims, readLicenseClaims } from '@licensekit/core';
import { type LicenseChanges, renew as renewLicense } from '@licensekit/issuer';
import { certificateProblem, readCertificateFile } from '../lib/certificate-file.js';
import { EXIT, quote, UsageError } from '../lib/errors.js';
import type { Io } from '../lib/io.js';
import { signerFromFile } from '../lib/keys.js';
import {
  claimProblem,
  type LicenseFlags,
  parseFormat,
  parseLicenseFlags,
} from '../lib/license-flags.js';
import { emitDocument } from '../lib/output.js';
import { parseTime } from '../lib/time.js';
import { readToken } from '../lib/token-input.js';

export interface RenewFlags extends LicenseFlags {
  file?: string;
  key: string;
  cert?: string;
  format?: string;
  now?: string;
  out?: string;
}

const DAY = 86_400;

/** The current token's claims, decoded without a signature check (your own issuance record). */
function previousClaims(text: string): LicenseClaims {
  try {
    return readLicenseClaims(decodeDocument(text, 'license'));
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new UsageError(
      `the token to renew is not a well-formed license (${why}); give a token made by licensekit issue or renew`,
    );
  }
}

/**
 * `licensekit renew --key issuer.json (TOKEN | --file F) [claim flags]`: the next token of
 * the license (seq + 1, prev = SHA-256 of TOKEN). Every claim is carried over unless a
 * flag overrides it:
 * - `--days N` extends the term by N days from its current end (from now once it has
 *   ended), so renewing early never loses paid days; `--exp` sets the end outright;
 * - `--quota`/`--seats` override the quotas they name and keep the others;
 * - `--feature` replaces the entitlement list;
 * - the refresh-after interval of the current token is kept (its `rfa` is absolute, so
 *   it is re-based on the renewal time) unless `--refresh-after` sets a new one;
 * - `--no-trial` turns a trial into a full license.
 */
export async function renew(token: string | undefined, flags: RenewFlags, io: Io): Promise<number> {
  const settings = parseLicenseFlags(flags);
  const format = parseFormat(flags.format);
  const now =
    flags.now === undefined ? Math.floor(Date.now() / 1000) : parseTime(flags.now, '--now');
  const text = await readToken({ token, file: flags.file }, io);
  const previous = previousClaims(text);
  if (settings.license !== undefined && settings.license !== previous.sub) {
    throw new UsageError(
      `--license ${quote(settings.license)} is not the license of the token (${quote(previous.sub)}); a renewal keeps the license id: issue a new license instead`,
    );
  }
  const changes: LicenseChanges = {};
  if (settings.vendor !== undefined) changes.iss = settings.vendor;
  if (settings.product !== undefined) changes.aud = settings.product;
  if (settings.plan !== undefined) changes.plan = settings.plan;
  if (settings.access !== undefined) changes.access = settings.access;
  if (settings.termDays !== undefined) {
    changes.exp = Math.max(previous.exp ?? now, now) + settings.termDays * DAY;
  } else if (settings.exp !== undefined) {
    changes.exp = settings.exp;
  }
  if (settings.grace !== undefined) {
    if ((changes.exp ?? previous.exp) === undefined) {
      throw new UsageError(
        '--grace needs an end of term (--days or --exp): the license is perpetual and has no grace period',
      );
    }
    changes.grace = settings.grace;
  }
  if (settings.refreshAfter !== undefined) {
    changes.rfa = now + settings.refreshAfter;
  } else if (previous.rfa !== undefined) {
    changes.rfa = now + Math.max(0, previous.rfa - previous.iat);
  }
  if (settings.quota !== undefined) changes.quota = { ...previous.quota, ...settings.quota };
  if (settings.features !== undefined) changes.ent = settings.features;
  if (settings.bind !== undefined) changes.cnf = { jkt: settings.bind };
  const certificate = flags.cert === undefined ? undefined : await readCertificateFile(flags.cert);
  const signer = await signerFromFile(flags.key, '--key');
  let next: string;
  try {
    next = await renewLicense(text, changes, {
      signer,
      format,
      certificate: certificate?.text,
      now,
    });
  } catch (error) {
    if (error instanceof Error && 'claim' in error && typeof error.claim === 'string') {
      throw claimProblem(error as Error & { claim: string });
    }
    if (error instanceof Error && /carried over/.test(error.message)) {
      throw new UsageError(
        `the token's embedded certificate does not fit this key or license (${error.message.replace(/ \(the certificate was carried.*$/, '')}); pass --cert with the current key's certificate`,
      );
    }
    throw certificateProblem(error, flags.cert);
  }
  await emitDocument(next, flags.out, io, `license ${previous.sub}, seq ${previous.seq + 1}`);
  return EXIT.ok;
}
