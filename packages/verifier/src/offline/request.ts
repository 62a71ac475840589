import type { JsonValue } from '@licensekit/core';
import { MalformedError } from '@licensekit/core';
import type { OfflineRequest } from '@licensekit/core/offline';
import { createOfflineRequest, licenseKeyHint } from '@licensekit/core/offline';
import type { Accepted } from '../acceptor.js';
import { rejection } from '../result.js';
import { getOwn } from '../state/state.js';
import type { Verifier } from '../types.js';
import { UnusableTokenError } from './errors.js';
import type { OfflineHost } from './host.js';
import { hostOf, signingDevice } from './host.js';
import { rememberRequest } from './pending.js';

export interface ActivationRequestOptions {
  /**
   * The license key as the customer typed it. Only its hint (the last four characters of
   * its normal form) goes into the request: the key itself never leaves the app.
   */
  licenseKey?: string;
  /** The hint itself, when the app kept it rather than the key. */
  keyHint?: string;
  /**
   * The token the app already holds for this license, if any (a new device key, a license
   * that ended): the request then names the license and the highest seq held.
   */
  token?: string | Uint8Array;
  /** Carry the usage report of `token` (the ledger the verifier kept offline). */
  usage?: boolean;
}

export interface RefreshRequestOptions {
  /** Carry the usage report of the token (the ledger the verifier kept offline). */
  usage?: boolean;
}

/** A hint a store can match: four characters of Crockford base32 (core's KEY_HINT). */
const KEY_HINT = /^[0-9A-Z]{4}$/;

function hintOf(options: ActivationRequestOptions): string {
  const { licenseKey, keyHint } = options;
  if ((licenseKey === undefined) === (keyHint === undefined)) {
    throw new MalformedError(
      'bad_structure',
      'an activation request needs the license key (licenseKey) or its hint (keyHint), one of them',
    );
  }
  const hint = licenseKey !== undefined ? licenseKeyHint(String(licenseKey)) : String(keyHint);
  if (!KEY_HINT.test(hint.toUpperCase())) {
    throw new MalformedError(
      'bad_structure',
      licenseKey !== undefined
        ? 'the license key is too short or holds characters a key cannot have; check what was typed'
        : 'the key hint is the last four characters of the license key',
    );
  }
  return hint.toUpperCase();
}

/**
 * The trusted license behind a token the app holds, for this product.
 * @throws UnusableTokenError
 */
async function heldLicense(host: OfflineHost, token: string | Uint8Array): Promise<Accepted> {
  const { now, checkedAt } = host.clock();
  const accepted = await host.accept(token, now, checkedAt);
  if ('valid' in accepted) throw new UnusableTokenError(accepted);
  if (accepted.claims.aud !== host.product) {
    throw new UnusableTokenError(
      rejection(
        'wrong_product',
        'audience_mismatch',
        'The license is for another product.',
        checkedAt,
      ),
    );
  }
  return accepted;
}

/** The highest seq held for a license: the token's, or a higher one the state accepted. */
function highestSeq(host: OfflineHost, accepted: Accepted): Promise<number> {
  return host.state.transact(host.product, (state) => ({
    changed: false,
    value: Math.max(accepted.claims.seq, getOwn(state.licenses, accepted.claims.sub)?.seq ?? -1),
  }));
}

/** The plain usage report of a held token, as `usageReport` builds it. */
async function usageOf(
  verifier: Verifier,
  token: string | Uint8Array,
): Promise<{ [key: string]: JsonValue } | undefined> {
  const { report } = await verifier.usageReport(token);
  return report as unknown as { [key: string]: JsonValue } | undefined;
}

/**
 * Writes the request, signed by the device key, and remembers it in the state; only a
 * response naming it (nonce and hash) will be installed.
 */
async function writeRequest(
  host: OfflineHost,
  kind: 'activate' | 'refresh',
  fields: {
    license?: string;
    keyHint?: string;
    seq?: number;
    usage?: { [key: string]: JsonValue } | undefined;
  },
): Promise<OfflineRequest> {
  const device = signingDevice(host);
  const { now } = host.clock();
  const request = await createOfflineRequest(device, {
    kind,
    product: host.product,
    iat: now,
    ...(fields.license === undefined ? {} : { license: fields.license }),
    ...(fields.keyHint === undefined ? {} : { keyHint: fields.keyHint }),
    ...(fields.seq === undefined ? {} : { seq: fields.seq }),
    ...(fields.usage === undefined ? {} : { usage: fields.usage }),
  });
  await host.state.transact(host.product, (state) => {
    rememberRequest(state, {
      nonce: request.nonce,
      hash: request.hash,
      kind,
      at: now,
      ...(request.license === undefined ? {} : { license: request.license }),
    });
    return { changed: true, value: undefined };
  });
  return request;
}

/**
 * An activation request for a machine that never goes online: the device key (and proof
 * that this device holds it), the product, the license key's hint — never the key —, a
 * fresh nonce and, with `token`, the license and seq held and optionally its usage. Carry
 * `request.text` (or a file, or `requestQrCodes(request)`) to the store's portal; import
 * the answer with `importOfflineResponse`.
 * @throws ConfigError (no signing device key, no state), MalformedError (no key and no
 *   hint, or a key too short to be one), UnusableTokenError (a `token` this verifier does
 *   not trust for this product)
 * @example
 * const request = await createActivationRequest(verifier, { licenseKey: typedKey });
 * await saveFile('activation-request.txt', request.text);
 */
export async function createActivationRequest(
  verifier: Verifier,
  options: ActivationRequestOptions,
): Promise<OfflineRequest> {
  const host = hostOf(verifier);
  signingDevice(host);
  options ??= {};
  const keyHint = hintOf(options);
  if (options.usage && options.token === undefined) {
    throw new MalformedError(
      'bad_structure',
      'a usage report is the ledger of a license: pass the token held (token) with usage',
    );
  }
  if (options.token === undefined) return writeRequest(host, 'activate', { keyHint });
  const held = await heldLicense(host, options.token);
  return writeRequest(host, 'activate', {
    keyHint,
    license: held.claims.sub,
    seq: await highestSeq(host, held),
    usage: options.usage ? await usageOf(verifier, options.token) : undefined,
  });
}

/**
 * A refresh request for the license of `token` (the next token of its lineage, for a
 * machine that never goes online): the license id, the highest seq held, a fresh nonce,
 * signed by the device key, with the usage report when `usage` is set. The token may be
 * expired or in grace — that is when one refreshes — but must be a license of this
 * product signed by a trusted key.
 * @throws ConfigError (no signing device key, no state), UnusableTokenError
 */
export async function createRefreshRequest(
  verifier: Verifier,
  token: string | Uint8Array,
  options: RefreshRequestOptions = {},
): Promise<OfflineRequest> {
  const host = hostOf(verifier);
  signingDevice(host);
  const held = await heldLicense(host, token);
  return writeRequest(host, 'refresh', {
    license: held.claims.sub,
    seq: await highestSeq(host, held),
    usage: options.usage ? await usageOf(verifier, token) : undefined,
  });
}
