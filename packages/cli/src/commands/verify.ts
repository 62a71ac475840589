import type { QuotaStatus, VerifyResult } from '@licensekit/verifier';
import { formatDuration } from '../lib/duration.js';
import { EXIT, UsageError } from '../lib/errors.js';
import { readTextFile } from '../lib/files.js';
import { json, table, when } from '../lib/format.js';
import type { Io } from '../lib/io.js';
import {
  malformedInput,
  type OpenedVerifier,
  openVerifier,
  type VerifierFlags,
} from '../lib/open-verifier.js';
import { readToken } from '../lib/token-input.js';

export interface VerifyFlags extends VerifierFlags {
  file?: string;
  json?: boolean;
  /** A proof bundle file (JSON), as `licensekit log proof` or GET /v1/log/proof give it. */
  logProof?: string;
}

/** A bundle is a few hashes and one signed note; a bigger file is the wrong file. */
const MAX_PROOF_FILE = 64 * 1024;

/**
 * `licensekit verify (TOKEN | --file F) --trust KEY …`: a readable summary, or with --json
 * the verify result itself. Exit 0 when the license is valid (active, trial, refresh_due,
 * grace), 1 when it is not (with --log-key, also when --log-proof is missing or does not
 * show the token in the log: not_logged).
 */
export async function verify(
  token: string | undefined,
  flags: VerifyFlags,
  io: Io,
): Promise<number> {
  const text = await readToken({ token, file: flags.file }, io);
  if (flags.logProof !== undefined && flags.logKey === undefined) {
    throw new UsageError(
      "--log-proof needs --log-key, the log's verifier key to check it against (log.key of the store's /v1/keys)",
    );
  }
  const opened = await openVerifier(flags, text);
  // The proof file is passed as it is: a damaged one is the license's problem (not_logged,
  // exit 1), like a damaged signature, not a mistake on the command line.
  const logProof =
    flags.logProof === undefined
      ? undefined
      : await readTextFile(flags.logProof, '--log-proof file', MAX_PROOF_FILE);
  const result = await opened.verifier.verify(text, { logProof });
  if (flags.json) io.out(json(result));
  // Not a license token at all: the input is wrong, not the license (exit 2, one line).
  if (result.status === 'malformed') throw malformedInput(result);
  if (!flags.json) {
    io.out(summary(result, opened));
    if (result.reason === 'log_proof_missing') {
      io.out(
        'get the proof with: licensekit log proof --store URL --file TOKEN --out proof.json, then pass --log-proof proof.json\n',
      );
    }
  }
  return result.valid ? EXIT.ok : EXIT.no;
}

/** One quota: "12 used of 1000 per month, 988 remaining, resets 2026-02-01T00:00:00Z (in 9d)". */
export function quotaLine(
  name: string,
  quota: QuotaStatus,
  result: VerifyResult,
  now: number,
): string {
  if (quota.unlimited) return `${quota.used} used, unlimited`;
  const spec = result.claims?.quota[name];
  const per =
    spec !== undefined && 'per' in spec && spec.per !== undefined ? ` per ${spec.per}` : '';
  const reset =
    quota.resetsAt === null ? 'for the whole term' : `resets ${when(quota.resetsAt, now)}`;
  return `${quota.used} used of ${quota.limit}${per}, ${quota.remaining} remaining, ${reset}`;
}

/** The human summary of a verify result. */
export function summary(
  result: VerifyResult,
  opened: Pick<OpenedVerifier, 'productChecked' | 'fixedNow' | 'logRequired'>,
): string {
  const { productChecked } = opened;
  const now = Math.floor(result.checkedAt.getTime() / 1000);
  const checkedAt = `${when(result.checkedAt, now).replace(/ \(now\)$/, '')}${opened.fixedNow === undefined ? '' : ' (set by --now)'}`;
  // The reason adds something only when it is more specific than the status.
  const reason = result.reason === result.status ? '' : ` (${result.reason})`;
  const headline = `${result.valid ? 'VALID' : 'NOT VALID'}: ${result.status}${reason}. ${result.message}\n`;
  const claims = result.claims;
  if (claims === undefined) return `${headline}${table([['checked at', checkedAt]])}`;
  const plan = `${claims.plan} (${claims.access === 'trial' ? 'trial' : 'full access'})`;
  const product = productChecked
    ? claims.aud
    : `${claims.aud} (not checked: pass --product to require it)`;
  const grace =
    claims.grace === undefined
      ? undefined
      : `${when(result.graceEndsAt, now)}, grace ${formatDuration(claims.grace)}`;
  const change = result.pendingChange;
  const rows: [string, string | undefined][] = [
    ['license', `${claims.sub} (seq ${claims.seq})`],
    ['product', product],
    ['vendor', claims.iss],
    ['plan', plan],
    ['issued', when(claims.iat, now)],
    ['expires', result.expiresAt === null ? 'never (perpetual)' : when(result.expiresAt, now)],
    ['grace ends', grace],
    ['refresh after', result.refreshAfter === null ? undefined : when(result.refreshAfter, now)],
    ['entitlements', result.entitlements.length > 0 ? result.entitlements.join(', ') : 'none'],
    [
      'pending change',
      change === undefined
        ? undefined
        : `${change.kind}${change.plan ? ` to ${change.plan}` : ''}${change.seats !== undefined ? ` to ${change.seats} seats` : ''} at ${when(change.at, now)}`,
    ],
    ['device', claims.cnf === undefined ? undefined : `bound to ${claims.cnf.jkt}`],
    [
      'issuance log',
      opened.logRequired
        ? result.status === 'not_logged'
          ? 'not shown to be logged'
          : 'logged: the proof checks against --log-key'
        : undefined,
    ],
    ['warnings', result.warnings.length > 0 ? result.warnings.join(', ') : undefined],
  ];
  const trailer: [string, string | undefined][] = [
    ['signed by', result.kid === undefined ? undefined : `key ${result.kid} (${result.format})`],
    ['checked at', checkedAt],
  ];
  const quotaNames = Object.keys(result.quotas);
  const quotas =
    quotaNames.length === 0
      ? 'quotas: none\n'
      : `quotas:\n${table(
          quotaNames.map(
            (name) =>
              [name, quotaLine(name, result.quotas[name] as QuotaStatus, result, now)] as const,
          ),
          '  ',
        )}`;
  return `${headline}${table(rows)}${quotas}${table(trailer)}`;
}
