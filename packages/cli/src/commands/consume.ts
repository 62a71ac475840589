import { EXIT, quote, UsageError } from '../lib/errors.js';
import { json, when } from '../lib/format.js';
import type { Io } from '../lib/io.js';
import { parseCount } from '../lib/numbers.js';
import { malformedInput, openVerifier, type VerifierFlags } from '../lib/open-verifier.js';
import { isName } from '../lib/quota.js';
import { readToken } from '../lib/token-input.js';

export interface ConsumeFlags extends VerifierFlags {
  file?: string;
  product: string;
  quota: string;
  amount?: string;
  state: string;
  json?: boolean;
}

/**
 * `licensekit consume (TOKEN | --file F) --trust KEY --product P --quota NAME [--amount N]
 * --state FILE`: spends quota offline, atomically against the state file (several
 * processes may share it). Exit 0 when granted; 1 when refused, with what remains and
 * when it resets.
 */
export async function consume(
  token: string | undefined,
  flags: ConsumeFlags,
  io: Io,
): Promise<number> {
  if (!isName(flags.quota)) {
    throw new UsageError(
      `--quota ${quote(flags.quota)} is not a quota name; give the name alone, e.g. --quota exports`,
    );
  }
  const amount = flags.amount === undefined ? 1 : parseCount(flags.amount, '--amount');
  const text = await readToken({ token, file: flags.file }, io);
  const { verifier } = await openVerifier(flags, text);
  const outcome = await verifier.consume(text, flags.quota, amount);
  if (outcome.license.status === 'malformed') {
    if (flags.json) io.out(json(outcome));
    throw malformedInput(outcome.license);
  }
  if (flags.json) {
    io.out(json(outcome));
    return outcome.granted ? EXIT.ok : EXIT.no;
  }
  const license = outcome.license;
  const now = Math.floor(license.checkedAt.getTime() / 1000);
  const spec = license.claims?.quota[flags.quota];
  const per =
    spec !== undefined && 'per' in spec && spec.per !== undefined ? ` per ${spec.per}` : '';
  const reset =
    outcome.resetsAt === null ? 'for the whole term' : `resets ${when(outcome.resetsAt, now)}`;
  const left =
    outcome.limit === null && outcome.remaining === null && spec !== undefined
      ? `unlimited (${outcome.used} used)`
      : `${outcome.remaining} of ${outcome.limit}${per} remaining, ${reset}`;
  if (outcome.granted) {
    io.out(`GRANTED: ${amount} ${flags.quota}. ${left}\n`);
    return EXIT.ok;
  }
  if (outcome.reason === 'exhausted') {
    io.out(`REFUSED: not enough ${flags.quota} left for ${amount}: ${left}\n`);
  } else if (outcome.reason === 'unknown_quota') {
    const names = Object.keys(license.quotas);
    io.out(
      `REFUSED: ${outcome.message} Its quotas: ${names.length > 0 ? names.join(', ') : 'none'}.\n`,
    );
  } else {
    io.out(
      `REFUSED: the license is not valid: ${license.status} (${license.reason}). ${license.message}\n`,
    );
  }
  return EXIT.no;
}
