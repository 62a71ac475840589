import type { Ed25519PublicJwk } from '@licensekit/core';
import { jwkThumbprint, parsePublicJwk } from '@licensekit/core';
import { normaliseLicenseKey } from '@licensekit/core/offline';
import type { DeviceKey } from '@licensekit/verifier';
import { deviceProof } from '@licensekit/verifier';
import { UsageError } from './errors.js';

/**
 * The license API of a store as a customer's app uses it (`licensekit activate` and
 * `refresh`): the license key goes in `Authorization: Bearer` and nowhere else — no URL,
 * no message, no file. Failures are typed: the store could not be reached (try again
 * later), or it answered no (with what to do about it).
 */

/** The store could not be reached, or is down (5xx): nothing was decided, try again later. */
export class StoreUnreachableError extends Error {
  override readonly name = 'StoreUnreachableError';
  readonly code = 'ERR_STORE_UNREACHABLE';
}

/** The store answered, and the answer is no: a bad key, unpaid, revoked, seats full … */
export class StoreRefusedError extends Error {
  override readonly name = 'StoreRefusedError';
  constructor(
    message: string,
    /** The HTTP status (401, 402, 403, 404, 409, 429 …). */
    readonly status: number,
    /** The store's error code (LICENSE_NOT_FOUND, SEATS_FULL …), when it sent one. */
    readonly code: string | undefined,
    /** Where to pay, for a 402. */
    readonly checkoutUrl?: string,
  ) {
    super(message);
  }
}

/** `LK-` and 32 Crockford base32 characters in groups of five, once normalised. */
const KEY_SHAPE = /^LK-(?:[0-9A-HJKMNP-TV-Z]{5}-){6}[0-9A-HJKMNP-TV-Z]{2}$/;

/**
 * The normal form of a license key as typed (case, spaces, look-alikes), or a UsageError
 * that never repeats what was given: a key must not end up in a terminal's scrollback.
 */
export function licenseKeyArgument(text: string, flag = '--key'): string {
  const key = normaliseLicenseKey(text.trim());
  if (!KEY_SHAPE.test(key)) {
    throw new UsageError(
      `${flag} is not a license key: one reads LK- then 32 letters and digits in groups of five; check that it was copied whole`,
    );
  }
  return key;
}

/** The store's base URL without a trailing slash. @throws UsageError */
export function storeUrlArgument(text: string, flag = '--store'): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(
      `${flag} ${JSON.stringify(text)} is not a URL; give e.g. http://127.0.0.1:8787`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${flag} must be an http:// or https:// URL`);
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new UsageError(`${flag} is the store's base URL: no credentials, query or fragment`);
  }
  return url.toString().replace(/\/+$/, '');
}

/** What each refusal means for the customer, and what to do. */
function refusalText(store: string, status: number, code: string | undefined): string {
  switch (code) {
    case 'LICENSE_NOT_FOUND':
      return `no license of ${store} has this key; check the key (the receipt mail has it) and --store`;
    case 'UNAUTHORIZED':
      return 'the store did not accept the license key as sent; check that it was copied whole';
    case 'PAYMENT_REQUIRED':
      return 'the license is not paid for this period';
    case 'LICENSE_REVOKED':
      return 'the license has been revoked; ask the vendor';
    case 'SEATS_FULL':
      return `every seat of this license is in use; deactivate a device in the portal (${store}/portal) first, or buy more seats`;
    case 'DEVICE_PROOF_INVALID':
      return "the store refused this device's proof; is this machine's clock right?";
    case 'DEVICE_NOT_FOUND':
      return 'this device is not activated on the license any more (deactivated in the portal?); activate it again';
    case 'TOKEN_INVALID':
      return 'the store did not accept the token held; activate again';
    case 'TOO_MANY_REQUESTS':
      return 'too many attempts with a wrong key from here; wait a minute and try again';
    default:
      return `the store answered ${status}${code === undefined ? '' : ` ${code}`}`;
  }
}

interface ErrorReply {
  error?: { code?: unknown };
  checkoutUrl?: unknown;
}

/**
 * Turns a non-200 answer into a typed error: 5xx is "unreachable" (nothing was decided),
 * everything else a refusal with the store's code.
 */
export function answerError(store: string, status: number, reply: unknown): Error {
  if (status >= 500) {
    return new StoreUnreachableError(
      `the store at ${store} is unavailable (${status}); try again later`,
    );
  }
  const body = (typeof reply === 'object' && reply !== null ? reply : {}) as ErrorReply;
  const code = typeof body.error?.code === 'string' ? body.error.code : undefined;
  const checkoutUrl = typeof body.checkoutUrl === 'string' ? body.checkoutUrl : undefined;
  return new StoreRefusedError(refusalText(store, status, code), status, code, checkoutUrl);
}

/** fetch, with a network failure or a timeout as a StoreUnreachableError. */
async function send(
  fetcher: typeof fetch,
  store: string,
  url: string,
  init: RequestInit,
  timeoutMs: number,
): Promise<{ status: number; reply: unknown }> {
  let response: Response;
  try {
    response = await fetcher(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const why =
      error instanceof Error && error.name === 'TimeoutError'
        ? `no answer within ${timeoutMs / 1000} s`
        : 'no connection';
    throw new StoreUnreachableError(
      `cannot reach the store at ${store} (${why}); is it running, and is --store right? Try again later`,
    );
  }
  const reply = await response.json().catch(() => undefined);
  return { status: response.status, reply };
}

export interface StoreCallOptions {
  fetch?: typeof fetch;
  /** Abort a request after this long. Default 15 s. */
  timeoutMs?: number;
}

/**
 * The root public keys the store publishes at /v1/keys: trusted on first use when the
 * customer gives no `--trust` file (then pinned in the state, as ssh pins a host key).
 */
export async function fetchStoreRoots(
  store: string,
  options: StoreCallOptions = {},
): Promise<(Ed25519PublicJwk & { kid: string })[]> {
  const { status, reply } = await send(
    options.fetch ?? fetch,
    store,
    `${store}/v1/keys`,
    { headers: { accept: 'application/json' } },
    options.timeoutMs ?? 15_000,
  );
  if (status !== 200) throw answerError(store, status, reply);
  const roots = (reply as { roots?: unknown } | undefined)?.roots;
  if (!Array.isArray(roots) || roots.length === 0) {
    throw new StoreRefusedError(
      `${store}/v1/keys lists no root key: is --store a licensekit store?`,
      status,
      undefined,
    );
  }
  return Promise.all(
    roots.map(async (value) => {
      let jwk: Ed25519PublicJwk;
      try {
        jwk = parsePublicJwk(value, 'a root key of the store');
      } catch {
        throw new StoreRefusedError(
          `${store}/v1/keys lists a root key that is not an Ed25519 public key: is --store a licensekit store?`,
          status,
          undefined,
        );
      }
      return { ...jwk, kid: await jwkThumbprint(jwk) };
    }),
  );
}

export interface Activation {
  device: { id: string; thumbprint: string; name: string };
  token: string;
  test: boolean;
}

/**
 * POST /v1/licenses/activate: binds `device` to the license of `key` (a seat) with a
 * proof made by the device key, and answers the first token bound to it.
 * @throws StoreUnreachableError, StoreRefusedError
 */
export async function activateOnStore(
  store: string,
  key: string,
  device: DeviceKey,
  name: string,
  options: StoreCallOptions = {},
): Promise<Activation> {
  const url = `${store}/v1/licenses/activate`;
  const body = JSON.stringify({ device: { publicJwk: device.publicJwk, name } });
  const { status, reply } = await send(
    options.fetch ?? fetch,
    store,
    url,
    {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        authorization: `Bearer ${key}`,
        dpop: await deviceProof(device, {
          method: 'POST',
          url,
          body,
          iat: Math.floor(Date.now() / 1000),
        }),
      },
      body,
    },
    options.timeoutMs ?? 15_000,
  );
  if (status !== 200) throw answerError(store, status, reply);
  const answer = reply as Partial<Activation> | undefined;
  if (typeof answer?.token !== 'string' || typeof answer.device?.id !== 'string') {
    throw new StoreRefusedError(
      `the store at ${store} answered 200 without a token: is --store a licensekit store?`,
      status,
      undefined,
    );
  }
  return answer as Activation;
}
