import { createRevocationList } from '@licensekit/issuer';
import { DEFAULT_VENDOR } from '../lib/defaults.js';
import { parseDuration } from '../lib/duration.js';
import { EXIT, UsageError } from '../lib/errors.js';
import type { Io } from '../lib/io.js';
import { signerFromFile } from '../lib/keys.js';
import { parseFormat } from '../lib/license-flags.js';
import { parseCount } from '../lib/numbers.js';
import { emitDocument } from '../lib/output.js';
import { splitList } from '../lib/quota.js';
import { parseTime } from '../lib/time.js';

export interface RevokeFlags {
  key: string;
  vendor?: string;
  seq?: string;
  next?: string;
  license?: string[];
  token?: string[];
  kid?: string[];
  format?: string;
  now?: string;
  out?: string;
}

const FLAG_OF_FIELD: Readonly<Record<string, string>> = {
  iss: '--vendor',
  seq: '--seq',
  next: '--next',
  keys: '--kid',
  licenses: '--license',
  tokens: '--token',
};

/**
 * `licensekit revoke --key K [--license L …] [--token JTI …] [--kid KID …]`: a signed
 * revocation list. A list is complete, not a delta: it replaces the previous one in every
 * app, so list every revocation still in force. The default `--seq` is the current Unix
 * time, so lists made one after another are always newer than the last.
 */
export async function revoke(flags: RevokeFlags, io: Io): Promise<number> {
  const now =
    flags.now === undefined ? Math.floor(Date.now() / 1000) : parseTime(flags.now, '--now');
  const seq = flags.seq === undefined ? now : parseCount(flags.seq, '--seq', 0);
  let next: number | undefined;
  if (flags.next !== undefined) {
    const wait = parseDuration(flags.next, '--next');
    if (wait === 0)
      throw new UsageError(
        '--next 0 would make the list stale at once; give when a fresher list comes, e.g. 7d',
      );
    next = now + wait;
  }
  const format = parseFormat(flags.format);
  const licenses = (flags.license ?? []).flatMap(splitList);
  const tokens = (flags.token ?? []).flatMap(splitList);
  const keys = (flags.kid ?? []).flatMap(splitList);
  const signer = await signerFromFile(flags.key, '--key');
  let list: string;
  try {
    list = await createRevocationList({
      signer,
      vendor: flags.vendor ?? DEFAULT_VENDOR,
      seq,
      next,
      licenses,
      tokens,
      keys,
      format,
      now,
    });
  } catch (error) {
    if (error instanceof Error && 'claim' in error && typeof error.claim === 'string') {
      const field = error.claim.split(/[.[]/)[0] ?? '';
      const flag = FLAG_OF_FIELD[field];
      throw new UsageError(flag ? `${error.message}; check ${flag}` : error.message);
    }
    throw error;
  }
  await emitDocument(
    list,
    flags.out,
    io,
    `revocation list seq ${seq} (${licenses.length} licenses, ${tokens.length} tokens, ${keys.length} keys)`,
  );
  return EXIT.ok;
}
