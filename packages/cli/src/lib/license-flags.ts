import { isBase64urlOfLength, type QuotaSpec, type TokenFormat } from '@licensekit/core';
import { parseDuration } from './duration.js';
import { quote, UsageError } from './errors.js';
import { parseCount } from './numbers.js';
import { isName, parseQuotas, splitList } from './quota.js';
import { parseTime } from './time.js';

/** The claim flags `issue` and `renew` share, as commander hands them over (raw text). */
export interface LicenseFlags {
  vendor?: string | undefined;
  product?: string | undefined;
  license?: string | undefined;
  plan?: string | undefined;
  days?: string | undefined;
  exp?: string | undefined;
  grace?: string | undefined;
  refreshAfter?: string | undefined;
  quota?: string[] | undefined;
  seats?: string | undefined;
  feature?: string[] | undefined;
  trial?: boolean | undefined;
  bind?: string | undefined;
}

/** The same flags, checked and typed; a field is present only when its flag was given. */
export interface LicenseSettings {
  vendor?: string;
  product?: string;
  license?: string;
  plan?: string;
  /** `--days N`: the term in days (from the issue time, or extending a renewed term). */
  termDays?: number;
  /** `--exp`: the absolute end of the term. */
  exp?: number;
  grace?: number;
  /** `--refresh-after`: seconds after the issue time. */
  refreshAfter?: number;
  /** Present when `--quota` or `--seats` was given. */
  quota?: Record<string, QuotaSpec>;
  /** Present when `--feature` was given. */
  features?: string[];
  access?: 'full' | 'trial';
  bind?: string;
}

/**
 * Checks the claim flags. Everything a user can get wrong is caught here, with the flag
 * named, before any key is read.
 * @throws UsageError
 */
export function parseLicenseFlags(flags: LicenseFlags): LicenseSettings {
  const settings: LicenseSettings = {};
  for (const [flag, value, key] of [
    ['--vendor', flags.vendor, 'vendor'],
    ['--product', flags.product, 'product'],
    ['--license', flags.license, 'license'],
    ['--plan', flags.plan, 'plan'],
  ] as const) {
    if (value !== undefined) settings[key] = identifier(value, flag);
  }
  if (flags.days !== undefined && flags.exp !== undefined) {
    throw new UsageError('give either --days N or --exp TIME for the end of the term, not both');
  }
  if (flags.days !== undefined) settings.termDays = parseCount(flags.days, '--days');
  if (flags.exp !== undefined) settings.exp = parseTime(flags.exp, '--exp');
  if (flags.grace !== undefined) settings.grace = parseDuration(flags.grace, '--grace');
  if (flags.refreshAfter !== undefined) {
    settings.refreshAfter = parseDuration(flags.refreshAfter, '--refresh-after');
  }
  const seats = flags.seats === undefined ? undefined : parseCount(flags.seats, '--seats');
  if ((flags.quota?.length ?? 0) > 0 || seats !== undefined) {
    settings.quota = parseQuotas(flags.quota ?? [], seats);
  }
  if ((flags.feature?.length ?? 0) > 0) {
    const features = (flags.feature ?? []).flatMap(splitList);
    for (const feature of features) {
      if (!isName(feature)) {
        throw new UsageError(
          `--feature ${quote(feature)}: a feature name is letters, digits and . _ : - (at most 64 characters)`,
        );
      }
    }
    settings.features = [...new Set(features)];
  }
  if (flags.trial !== undefined) settings.access = flags.trial ? 'trial' : 'full';
  if (flags.bind !== undefined) {
    const thumbprint = flags.bind.trim();
    if (!isBase64urlOfLength(thumbprint, 32)) {
      throw new UsageError(
        `--bind ${quote(flags.bind)} is not a device key thumbprint (43 base64url characters); licensekit keygen --out device.json prints one`,
      );
    }
    settings.bind = thumbprint;
  }
  return settings;
}

// Vendor, license, product and plan ids: printable, 1 to 128 characters (the claim model).
const IDENTIFIER = /^\P{Cc}{1,128}$/u;

function identifier(value: string, flag: string): string {
  if (!IDENTIFIER.test(value)) {
    throw new UsageError(`${flag} ${quote(value)} must be 1 to 128 printable characters`);
  }
  return value;
}

/** `--format`: `cwt` (default: compact) or `jwt`. */
export function parseFormat(value: string | undefined): TokenFormat | undefined {
  if (value === undefined) return undefined;
  const format = value.trim().toLowerCase();
  if (format !== 'cwt' && format !== 'jwt') {
    throw new UsageError(
      `--format ${quote(value)} is not a token format; use cwt (compact, the default) or jwt`,
    );
  }
  return format;
}

/** Which flag sets a claim, for messages about a claim the issuer refused. */
const FLAG_OF_CLAIM: Readonly<Record<string, string>> = {
  iss: '--vendor',
  sub: '--license',
  aud: '--product',
  plan: '--plan',
  exp: '--days or --exp',
  nbf: '--now',
  iat: '--now',
  grace: '--grace',
  rfa: '--refresh-after',
  quota: '--quota',
  ent: '--feature',
  cnf: '--bind',
};

/** A ClaimError from the issuer as a UsageError that names the flag to change. */
export function claimProblem(error: { claim: string; message: string }): UsageError {
  const root = error.claim.split(/[.[]/)[0] ?? error.claim;
  const flag = FLAG_OF_CLAIM[root];
  return new UsageError(flag ? `${error.message}; check ${flag}` : error.message);
}
