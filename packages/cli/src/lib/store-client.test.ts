import { generateDeviceKey } from '@licensekit/verifier/device';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { UsageError } from './errors.js';
import {
  activateOnStore,
  answerError,
  fetchStoreRoots,
  licenseKeyArgument,
  StoreRefusedError,
  StoreUnreachableError,
  storeUrlArgument,
} from './store-client.js';

const KEY = 'LK-0123A-BCDEF-GHJKM-NPQRS-TVWXY-Z0123-45';
const STORE = 'http://127.0.0.1:8787';

/** A fetch that answers `status` with `body` and records what it was asked. */
function answering(status: number, body: unknown) {
  const calls: { url: string; init: RequestInit | undefined }[] = [];
  const fake: typeof fetch = async (input, init) => {
    calls.push({ url: String(input), init });
    return new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json' },
    });
  };
  return { fake, calls };
}

describe('license keys as typed', () => {
  test('normalised: case, spaces, look-alikes', () => {
    expect(licenseKeyArgument(` ${KEY.toLowerCase()} `)).toBe(KEY);
    expect(licenseKeyArgument(KEY.replace(/0/g, 'O'))).toBe(KEY);
  });

  test('a wrong shape is a usage error that never repeats the key', () => {
    fc.assert(
      // Key-like text (8+ characters of the key alphabet): never in the message.
      fc.property(fc.stringMatching(/^[0-9A-Z-]{8,60}$/), (text) => {
        let normal: string | undefined;
        try {
          normal = licenseKeyArgument(text);
        } catch (error) {
          expect(error).toBeInstanceOf(UsageError);
          expect((error as Error).message).not.toContain(text);
          return;
        }
        expect(normal).toMatch(/^LK-(?:[0-9A-HJKMNP-TV-Z]{5}-){6}[0-9A-HJKMNP-TV-Z]{2}$/);
      }),
    );
    const almost = KEY.slice(0, -1);
    expect(() => licenseKeyArgument(almost)).toThrow(/--key is not a license key/);
    try {
      licenseKeyArgument(almost);
    } catch (error) {
      expect((error as Error).message).not.toContain(almost.slice(3, 20));
    }
  });
});

describe('the store URL', () => {
  test('a base URL, without a trailing slash', () => {
    expect(storeUrlArgument('http://127.0.0.1:8787/')).toBe(STORE);
    expect(storeUrlArgument('https://store.example/licensing/')).toBe(
      'https://store.example/licensing',
    );
  });

  test('refused: not a URL, another scheme, credentials or a query', () => {
    for (const bad of ['127.0.0.1:8787', 'ftp://x', 'http://u:p@x', 'http://x/?a=1', 'nonsense']) {
      expect(() => storeUrlArgument(bad), bad).toThrow(UsageError);
    }
  });
});

describe('what the store answers, as typed errors', () => {
  test('each refusal says what it means and keeps the status and code', () => {
    const cases: [number, string, RegExp][] = [
      [404, 'LICENSE_NOT_FOUND', /no license .* has this key/],
      [401, 'UNAUTHORIZED', /did not accept the license key/],
      [402, 'PAYMENT_REQUIRED', /not paid/],
      [403, 'LICENSE_REVOKED', /revoked/],
      [409, 'SEATS_FULL', /every seat .* in use.*\/portal/],
      [429, 'TOO_MANY_REQUESTS', /wait a minute/],
    ];
    for (const [status, code, text] of cases) {
      const error = answerError(STORE, status, { error: { code, message: 'x' } });
      expect(error).toBeInstanceOf(StoreRefusedError);
      expect((error as StoreRefusedError).status).toBe(status);
      expect((error as StoreRefusedError).code).toBe(code);
      expect(error.message).toMatch(text);
    }
  });

  test('402 keeps where to pay', () => {
    const error = answerError(STORE, 402, {
      error: { code: 'PAYMENT_REQUIRED' },
      checkoutUrl: `${STORE}/checkout/x`,
    }) as StoreRefusedError;
    expect(error.checkoutUrl).toBe(`${STORE}/checkout/x`);
  });

  test('5xx means nothing was decided: unreachable, try later', () => {
    expect(answerError(STORE, 503, undefined)).toBeInstanceOf(StoreUnreachableError);
    expect(answerError(STORE, 500, 'not json')).toBeInstanceOf(StoreUnreachableError);
  });

  test('an unknown answer without a code is still a refusal naming the status', () => {
    const error = answerError(STORE, 418, 'teapot');
    expect(error.message).toBe('the store answered 418');
  });
});

describe('activation request', () => {
  test('the key travels only in Authorization, with a device proof of the body', async () => {
    const device = await generateDeviceKey();
    const { fake, calls } = answering(200, {
      device: { id: 'dev_1', thumbprint: device.thumbprint, name: 'n' },
      token: 'token',
      test: true,
    });
    const answer = await activateOnStore(STORE, KEY, device, 'n', { fetch: fake });
    expect(answer.token).toBe('token');
    const [call] = calls;
    expect(call?.url).toBe(`${STORE}/v1/licenses/activate`);
    const headers = call?.init?.headers as Record<string, string>;
    expect(headers.authorization).toBe(`Bearer ${KEY}`);
    expect(headers.dpop?.split('.')).toHaveLength(3);
    expect(String(call?.init?.body)).not.toContain(KEY);
    expect(call?.url).not.toContain(KEY);
  });

  test('a network failure is StoreUnreachableError, without the key in it', async () => {
    const device = await generateDeviceKey();
    const failing: typeof fetch = async () => {
      throw new TypeError('fetch failed');
    };
    const error = await activateOnStore(STORE, KEY, device, 'n', { fetch: failing }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreUnreachableError);
    expect((error as Error).message).toMatch(/cannot reach the store/);
    expect((error as Error).message).not.toContain(KEY);
  });

  test('409 SEATS_FULL is a typed refusal', async () => {
    const device = await generateDeviceKey();
    const { fake } = answering(409, { error: { code: 'SEATS_FULL', message: 'full' } });
    const error = await activateOnStore(STORE, KEY, device, 'n', { fetch: fake }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreRefusedError);
    expect((error as StoreRefusedError).code).toBe('SEATS_FULL');
  });

  test('a 200 without a token is not taken for an activation', async () => {
    const device = await generateDeviceKey();
    const { fake } = answering(200, { hello: 'world' });
    await expect(activateOnStore(STORE, KEY, device, 'n', { fetch: fake })).rejects.toThrow(
      /without a token/,
    );
  });
});

describe("the store's root keys", () => {
  test('an answer without a root key is refused', async () => {
    const { fake } = answering(200, { roots: [] });
    await expect(fetchStoreRoots(STORE, { fetch: fake })).rejects.toThrow(/lists no root key/);
  });

  test('a root that is not an Ed25519 JWK is refused', async () => {
    const { fake } = answering(200, { roots: [{ kty: 'RSA', n: 'x', e: 'AQAB' }] });
    await expect(fetchStoreRoots(STORE, { fetch: fake })).rejects.toThrow(/not an Ed25519/);
  });
});
