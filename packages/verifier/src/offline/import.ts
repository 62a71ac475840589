import type { MalformedReason } from '@licensekit/core';
import { ConfigError, MalformedError } from '@licensekit/core';
import type { OfflineResponse } from '@licensekit/core/offline';
import {
  joinQrParts,
  MAX_OFFLINE_TEXT_LENGTH,
  readOfflineResponse,
} from '@licensekit/core/offline';
import type { VerifyResult, VerifyStatus } from '../result.js';
import type { PendingRequest } from '../state/state.js';
import type { LogProof, Verifier } from '../types.js';
import type { OfflineHost } from './host.js';
import { hostOf } from './host.js';
import { findRequest, forgetRequest } from './pending.js';

/**
 * Why a response was not installed. The first four are about the text itself, the next
 * three about what it answers and holds; otherwise it is the status `verify` gives the
 * token inside (`untrusted_key`, `wrong_device`, `wrong_product`, `rolled_back`,
 * `not_logged`, `expired` …).
 */
export type OfflineImportReason =
  /** Longer than any response can be (MAX_OFFLINE_TEXT_LENGTH). */
  | 'too_large'
  /** The text's check failed: mistyped, cut short, or parts joined wrongly. */
  | 'bad_checksum'
  /** Another licensekit document: a request pasted where the response belongs. */
  | 'wrong_type'
  /** Not a licensekit response at all, or QR parts missing or mixed. */
  | 'malformed_response'
  /** It answers no request this verifier wrote (or one answered already). */
  | 'not_our_request'
  /** A refresh was answered with a token of another license. */
  | 'wrong_license'
  /** The token is valid but bound to no device: an offline activation binds it to this one. */
  | 'not_bound'
  | Exclude<VerifyStatus, 'active' | 'trial' | 'refresh_due' | 'grace'>;

export type OfflineImport =
  | {
      installed: true;
      /** The new token: save it (the state already holds it as the newest of its lineage). */
      token: string;
      /** Its verification, as `verify` returns it. */
      result: VerifyResult;
      /** The token's issuance log proof when the response carried one: keep it beside it. */
      logProof?: LogProof;
      /** What the answered request asked for. */
      kind: 'activate' | 'refresh';
    }
  | {
      installed: false;
      reason: OfflineImportReason;
      /** One sentence for people; branch on `reason`. */
      message: string;
      /** For a text that could not be read: core's reason (`bad_checksum`, `bad_json` …). */
      detail?: MalformedReason;
      /** The check of the token inside, once the response was read and matched. */
      result?: VerifyResult;
    };

const TEXT_REASONS: Partial<Record<MalformedReason, OfflineImportReason>> = {
  too_large: 'too_large',
  bad_checksum: 'bad_checksum',
  wrong_type: 'wrong_type',
};

const MESSAGES = {
  not_our_request:
    'The response answers no request of this device: write a new request and bring back its answer.',
  wrong_license: 'The response holds a token of another license than the one asked for.',
  not_bound: 'The response holds a token that is not bound to this device.',
} as const;

function refused(
  reason: OfflineImportReason,
  message: string,
  extra: { detail?: MalformedReason; result?: VerifyResult } = {},
): OfflineImport {
  return { installed: false, reason, message, ...extra };
}

/**
 * The response text: as given, or joined from scanned QR parts. Bounded before joining,
 * so a flood of parts is refused without work.
 * @throws MalformedError
 */
function responseText(input: string | readonly string[]): string {
  if (typeof input === 'string') return input;
  if (!Array.isArray(input) || input.some((part) => typeof part !== 'string')) {
    throw new MalformedError('bad_structure', 'offline response: not text, nor QR code parts');
  }
  // Each part adds at most an `LK1/99/99/` header to its share of the text.
  if (input.reduce((sum, part) => sum + part.length, 0) > MAX_OFFLINE_TEXT_LENGTH + 99 * 12) {
    throw new MalformedError(
      'too_large',
      `offline response: longer than ${MAX_OFFLINE_TEXT_LENGTH} characters`,
    );
  }
  return joinQrParts(input);
}

async function readResponse(
  input: string | readonly string[],
): Promise<OfflineResponse | OfflineImport> {
  try {
    return await readOfflineResponse(responseText(input));
  } catch (error) {
    if (!(error instanceof MalformedError)) throw error;
    return refused(TEXT_REASONS[error.reason] ?? 'malformed_response', error.message, {
      detail: error.reason,
    });
  }
}

function pendingFor(host: OfflineHost, response: OfflineResponse) {
  return host.state.transact(host.product, (state) => ({
    changed: false,
    value: findRequest(state, response.nonce, response.request),
  }));
}

/**
 * Checks a response against the request it names and the token inside against every
 * check `verify` makes, without moving any mark. Returns the refusal, or undefined when
 * the token may be installed.
 */
async function examine(
  host: OfflineHost,
  response: OfflineResponse,
  pending: PendingRequest,
  now: number,
  checkedAt: Date,
): Promise<OfflineImport | undefined> {
  const accepted = await host.accept(response.token, now, checkedAt);
  if ('valid' in accepted) {
    return refused(accepted.status as OfflineImportReason, accepted.message, { result: accepted });
  }
  const { result } = await host.decide(accepted, now, checkedAt, {
    record: false,
    logProof: response.logProof,
  });
  if (!result.valid) {
    return refused(result.status as OfflineImportReason, result.message, { result });
  }
  // A valid unbound token would verify on any device; an offline activation binds the
  // token to the key that signed the request (and a token bound elsewhere is wrong_device).
  if (accepted.claims.cnf === undefined)
    return refused('not_bound', MESSAGES.not_bound, { result });
  if (
    pending.kind === 'refresh' &&
    pending.license !== undefined &&
    accepted.claims.sub !== pending.license
  ) {
    return refused('wrong_license', MESSAGES.wrong_license, { result });
  }
  return undefined;
}

/**
 * Installs the token of an offline response — text, or the parts of its QR codes in any
 * order — when, and only when: the text's check passes; it answers a request this
 * verifier wrote and has not seen answered (nonce and request hash); the token inside
 * passes every check of `verify` (trusted signature and chain, this product, bound to this
 * device, not older than the newest token of its lineage, a valid status, and with
 * `requireLogProof` the proof the response carries). Installing records the token as the
 * newest of its lineage and forgets the request, in one state transaction; on any failure
 * the state is left as it was.
 *
 * Never throws for a bad response: the outcome says why it was refused.
 * @throws ConfigError for misuse (a compact or stateless verifier, no device)
 */
export async function importOfflineResponse(
  verifier: Verifier,
  input: string | readonly string[],
): Promise<OfflineImport> {
  const host = hostOf(verifier);
  if (host.device === undefined) {
    // Without one every bound token is wrong_device: say what is missing instead.
    throw new ConfigError('importing an offline response needs the verifier option device');
  }
  const response = await readResponse(input);
  if ('installed' in response) return response;
  const pending = await pendingFor(host, response);
  if (pending === undefined) return refused('not_our_request', MESSAGES.not_our_request);

  const { now, checkedAt } = host.clock();
  const refusal = await examine(host, response, pending, now, checkedAt);
  if (refusal !== undefined) return refusal;

  // For real: the same checks in one transaction that records the token and forgets the
  // request. Should the state have moved since (another import), the verdict is the new one.
  const accepted = await host.accept(response.token, now, checkedAt);
  if ('valid' in accepted) return refused(accepted.status as OfflineImportReason, accepted.message);
  const { result } = await host.decide(accepted, now, checkedAt, {
    logProof: response.logProof,
    action: (state) => {
      const forgotten = forgetRequest(state, response.nonce);
      return { changed: forgotten, value: forgotten };
    },
  });
  if (!result.valid)
    return refused(result.status as OfflineImportReason, result.message, { result });
  const installed: OfflineImport = {
    installed: true,
    token: response.token,
    result,
    kind: pending.kind,
  };
  if (response.logProof !== undefined)
    installed.logProof = response.logProof as unknown as LogProof;
  return installed;
}
