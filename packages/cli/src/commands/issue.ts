import type { LicenseClaimsInput } from '@licensekit/core';
import { issue as signLicense } from '@licensekit/issuer';
import { certificateProblem, readCertificateFile } from '../lib/certificate-file.js';
import { DEFAULT_PLAN, DEFAULT_TRIAL_PLAN, DEFAULT_VENDOR } from '../lib/defaults.js';
import { EXIT, UsageError } from '../lib/errors.js';
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

export interface IssueFlags extends LicenseFlags {
  key: string;
  cert?: string;
  product: string;
  license: string;
  format?: string;
  now?: string;
  out?: string;
}

const DAY = 86_400;

/**
 * `licensekit issue --key issuer.json --product P --license L …`: signs a license and prints
 * only the token. Defaults: vendor from `--cert` (else "local"), plan "standard" ("trial"
 * with --trial), no --days/--exp = perpetual, format cwt, issue time = the clock.
 */
export async function issue(flags: IssueFlags, io: Io): Promise<number> {
  const settings = parseLicenseFlags(flags);
  const format = parseFormat(flags.format);
  const now =
    flags.now === undefined ? Math.floor(Date.now() / 1000) : parseTime(flags.now, '--now');
  const exp = settings.termDays !== undefined ? now + settings.termDays * DAY : settings.exp;
  if (settings.grace !== undefined && exp === undefined) {
    throw new UsageError(
      '--grace needs an end of term (--days or --exp): a perpetual license has no grace period',
    );
  }
  const certificate = flags.cert === undefined ? undefined : await readCertificateFile(flags.cert);
  const access = settings.access ?? 'full';
  const claims: LicenseClaimsInput = {
    iss: settings.vendor ?? certificate?.claims.iss ?? DEFAULT_VENDOR,
    sub: settings.license as string,
    aud: settings.product as string,
    plan: settings.plan ?? (access === 'trial' ? DEFAULT_TRIAL_PLAN : DEFAULT_PLAN),
    access,
    iat: now,
  };
  if (exp !== undefined) claims.exp = exp;
  if (settings.grace !== undefined) claims.grace = settings.grace;
  if (settings.refreshAfter !== undefined) claims.rfa = now + settings.refreshAfter;
  if (settings.quota !== undefined) claims.quota = settings.quota;
  if (settings.features !== undefined) claims.ent = settings.features;
  if (settings.bind !== undefined) claims.cnf = { jkt: settings.bind };
  const signer = await signerFromFile(flags.key, '--key');
  let token: string;
  try {
    token = await signLicense(claims, { signer, format, certificate: certificate?.text, now });
  } catch (error) {
    if (error instanceof Error && 'claim' in error && typeof error.claim === 'string') {
      throw claimProblem(error as Error & { claim: string });
    }
    throw certificateProblem(error, flags.cert);
  }
  await emitDocument(token, flags.out, io, `license ${claims.sub}`);
  return EXIT.ok;
}
