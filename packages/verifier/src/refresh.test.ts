/**
 * refreshIfDue against a real local HTTP server: when it asks, what it sends, what it
 * accepts (only a valid token that extends the lineage), how it backs off, and that the
 * app keeps working offline until grace ends.
 */
import { verifyDeviceProof } from '@licensekit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY, FORMATS, generateTestKey, PRODUCT, T0 } from '../../../test/support/tokens.js';
import { generateDeviceKey } from './device.js';
import type { DeviceKey, RefreshOutcome } from './index.js';
import { createVerifier, REFRESH_PATH } from './index.js';
import type { Issued } from './testing/harness.js';
import {
  hashOf,
  inspectableState,
  issueLicense,
  marks,
  renewLicense,
  testClock,
} from './testing/harness.js';
import { closedStoreUrl, type ScriptedStore, startStore } from './testing/store-server.js';

let store: ScriptedStore;
beforeAll(async () => {
  store = await startStore();
});
afterAll(async () => {
  await store.close();
});

/** The license's timeline (factory defaults): rfa T0 + 20 d, exp T0 + 30 d, grace 7 d. */
const DUE = T0 + 21 * DAY;

function setup(format: 'jwt' | 'cwt', options: { device?: DeviceKey; bind?: boolean } = {}) {
  const issuer = generateTestKey();
  const clock = testClock(DUE);
  const state = inspectableState(PRODUCT);
  const verifier = createVerifier({
    trust: { issuers: [issuer.jwk] },
    product: PRODUCT,
    clock: clock.read,
    state: state.store,
    ...(options.device === undefined ? {} : { device: options.device }),
  });
  const current = issueLicense(
    issuer,
    format,
    options.bind && options.device ? { cnf: { jkt: options.device.thumbprint } } : {},
  );
  store.requests.length = 0;
  return { issuer, clock, state, verifier, current };
}

/** The store's renewal: the next token of the lineage with a new term. */
function renewal(
  issuer: ReturnType<typeof generateTestKey>,
  format: 'jwt' | 'cwt',
  current: Issued,
): Issued {
  return renewLicense(issuer, format, current, {
    iat: DUE,
    exp: T0 + 60 * DAY,
    rfa: T0 + 50 * DAY,
  });
}

function expectKind<K extends RefreshOutcome['kind']>(
  outcome: RefreshOutcome,
  kind: K,
): Extract<RefreshOutcome, { kind: K }> {
  expect(outcome.kind).toBe(kind);
  return outcome as Extract<RefreshOutcome, { kind: K }>;
}

describe.each(FORMATS)('refreshIfDue (%s)', (format) => {
  it('is not_due while the license is active, and asks nothing of the store', async () => {
    const { verifier, current, clock } = setup(format);
    clock.set(T0 + DAY);
    const outcome = await verifier.refreshIfDue(current.token, { storeUrl: store.url });
    expect(expectKind(outcome, 'not_due').result.status).toBe('active');
    expect(store.requests).toHaveLength(0);
  });

  it('when refresh_due, POSTs {token} as JSON to /v1/licenses/refresh and accepts the next token of the lineage', async () => {
    const { issuer, verifier, current, state } = setup(format);
    const next = renewal(issuer, format, current);
    store.answer(() => ({ status: 200, body: { token: next.token } }));
    expect((await verifier.verify(current.token)).status).toBe('refresh_due');

    const outcome = expectKind(
      await verifier.refreshIfDue(current.token, { storeUrl: store.url }),
      'refreshed',
    );
    expect(outcome.token).toBe(next.token);
    expect(outcome.result).toMatchObject({ valid: true, status: 'active' });
    expect(outcome.result.claims).toMatchObject({ seq: 1, prev: hashOf(current.token) });

    expect(store.requests).toHaveLength(1);
    const [request] = store.requests;
    expect(request).toMatchObject({ method: 'POST', path: REFRESH_PATH });
    expect(REFRESH_PATH).toBe('/v1/licenses/refresh');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request!.body)).toEqual({ token: current.token });
    // An unbound license sends no device proof.
    expect(request!.headers.dpop).toBeUndefined();

    // The new token is recorded: the old one is now a rollback.
    expect(state.data.licenses[current.claims.sub]).toEqual({ seq: 1, hash: hashOf(next.token) });
    expect(await verifier.verify(current.token)).toMatchObject({
      status: 'rolled_back',
      reason: 'older_seq',
    });
    expect((await verifier.verify(next.token)).status).toBe('active');
  });

  it('for a bound license sends a DPoP proof that core verifyDeviceProof accepts for that method, URL and body', async () => {
    const device = await generateDeviceKey();
    const { issuer, verifier, current, clock } = setup(format, { device, bind: true });
    // The proof is dated by the verifier's clock (the app's notion of now), not the wall clock.
    const proofTime = Math.floor(Number(clock.read()) / 1000);
    const next = renewal(issuer, format, current);
    let proven: string | undefined;
    store.answer(async (request) => {
      const proof = await verifyDeviceProof(String(request.headers.dpop), {
        method: 'POST',
        url: request.url,
        body: request.body,
        now: proofTime,
      });
      proven = proof.thumbprint;
      return { status: 200, body: { token: next.token } };
    });
    expect((await verifier.refreshIfDue(current.token, { storeUrl: store.url })).kind).toBe(
      'refreshed',
    );
    expect(proven).toBe(device.thumbprint);
    const [request] = store.requests;
    expect(request!.url).toBe(`${store.url}${REFRESH_PATH}`);
    // The proof is bound to this request: another body or URL does not verify.
    const now = proofTime;
    await expect(
      verifyDeviceProof(String(request!.headers.dpop), {
        method: 'POST',
        url: request!.url,
        body: '{"token":"x"}',
        now,
      }),
    ).rejects.toMatchObject({ reason: 'bad_claims' });
    await expect(
      verifyDeviceProof(String(request!.headers.dpop), {
        method: 'POST',
        url: `${store.url}/v1/other`,
        body: request!.body,
        now,
      }),
    ).rejects.toMatchObject({ reason: 'bad_claims' });
  });

  it('force refreshes a license that is not due', async () => {
    const { issuer, verifier, current, clock } = setup(format);
    clock.set(T0 + DAY);
    const next = renewLicense(issuer, format, current, { iat: T0 + DAY });
    store.answer(() => ({ status: 200, body: { token: next.token } }));
    expect(
      (await verifier.refreshIfDue(current.token, { storeUrl: store.url, force: true })).kind,
    ).toBe('refreshed');
    expect(store.requests).toHaveLength(1);
  });

  describe('refuses a token that does not extend the lineage, and records nothing', () => {
    async function refusedRenewal(
      make: (issuer: ReturnType<typeof generateTestKey>, current: Issued) => string,
    ) {
      const { issuer, verifier, current, state } = setup(format);
      await verifier.verify(current.token);
      const before = marks(state.data);
      store.answer(() => ({ status: 200, body: { token: make(issuer, current) } }));
      const outcome = expectKind(
        await verifier.refreshIfDue(current.token, { storeUrl: store.url }),
        'failed',
      );
      expect(outcome.retryAt.getTime()).toBeGreaterThan(DUE * 1000);
      expect(outcome.result.status).toBe('refresh_due');
      return { verifier, current, state, before };
    }

    // The store's token is examined without moving the marks; only a token that extends
    // the lineage is then recorded. (Regression: it used to be recorded before the lineage
    // check, so a refused token of another license stayed in the state.)
    it('a token of another license (another lineage)', async () => {
      const { state, before, verifier, current } = await refusedRenewal(
        (issuer, current) =>
          issueLicense(issuer, format, {
            sub: 'lic_someone_else',
            seq: 1,
            prev: hashOf(current.token),
          }).token,
      );
      expect((await verifier.verify(current.token)).status).toBe('refresh_due');
      expect(state.data).toEqual(before);
    });

    it('a token whose seq is not higher', async () => {
      const { state, before, verifier, current } = await refusedRenewal(
        (issuer) => issueLicense(issuer, format).token,
      );
      expect(state.data).toEqual(before);
      expect((await verifier.verify(current.token)).status).toBe('refresh_due');
    });

    // Regression: a refused seq + 1 with the wrong prev used to be recorded anyway, which
    // turned the app's only token into rolled_back/older_seq.
    it('a token with seq + 1 and the wrong prev', async () => {
      const { state, before, verifier, current } = await refusedRenewal(
        (issuer, current) =>
          renewLicense(issuer, format, current, {
            prev: hashOf(issueLicense(issuer, format).token),
          }).token,
      );
      expect((await verifier.verify(current.token)).status).toBe('refresh_due');
      expect(state.data).toEqual(before);
    });

    it('a token with a bad signature (an untrusted key)', async () => {
      const { state, before } = await refusedRenewal(
        (_issuer, current) => renewal(generateTestKey(), format, current).token,
      );
      expect(state.data).toEqual(before);
    });

    it('a token that is not valid (already expired)', async () => {
      const { state, before } = await refusedRenewal(
        (issuer, current) =>
          renewLicense(issuer, format, current, { iat: T0, exp: T0 + DAY, grace: 0 }).token,
      );
      expect(state.data).toEqual(before);
    });

    it('a 200 answer without a token', async () => {
      const { state, before } = await refusedRenewal(() => 'not json at all{');
      expect(state.data).toEqual(before);
    });
  });

  it('402 with { error: { message }, checkoutUrl } is refused with the checkout URL', async () => {
    const { verifier, current } = setup(format);
    store.answer(() => ({
      status: 402,
      body: {
        error: { code: 'payment_required', message: 'The subscription has ended.' },
        checkoutUrl: 'https://store.example/checkout/abc',
      },
    }));
    const outcome = expectKind(
      await verifier.refreshIfDue(current.token, { storeUrl: store.url }),
      'refused',
    );
    expect(outcome).toMatchObject({
      httpStatus: 402,
      message: 'The subscription has ended.',
      checkoutUrl: 'https://store.example/checkout/abc',
    });
    expect(outcome.result.status).toBe('refresh_due');
  });

  it('403 and 404 are refused without a checkout URL', async () => {
    for (const status of [403, 404]) {
      const { verifier, current } = setup(format);
      store.answer(() => ({ status, body: { error: { message: `answer ${status}` } } }));
      const outcome = expectKind(
        await verifier.refreshIfDue(current.token, { storeUrl: store.url }),
        'refused',
      );
      expect(outcome).toMatchObject({ httpStatus: status, message: `answer ${status}` });
      expect(outcome.checkoutUrl).toBeUndefined();
    }
  });

  it('a store that is down gives failed with retryAt, then backing_off until then', async () => {
    const { verifier, current, clock } = setup(format);
    const down = await closedStoreUrl();
    const failed = expectKind(
      await verifier.refreshIfDue(current.token, { storeUrl: down }),
      'failed',
    );
    // First backoff: one minute ± 20 %.
    const delay = failed.retryAt.getTime() - DUE * 1000;
    expect(delay).toBeGreaterThanOrEqual(48_000);
    expect(delay).toBeLessThanOrEqual(72_000);
    expect(failed.result).toMatchObject({ valid: true, status: 'refresh_due' });

    const again = expectKind(
      await verifier.refreshIfDue(current.token, { storeUrl: down }),
      'backing_off',
    );
    expect(again.retryAt).toEqual(failed.retryAt);
    expect(again.result.valid).toBe(true);

    // Past retryAt it tries again; the next wait doubles.
    clock.set(Math.ceil(failed.retryAt.getTime() / 1000));
    const second = expectKind(
      await verifier.refreshIfDue(current.token, { storeUrl: down }),
      'failed',
    );
    const secondDelay = second.retryAt.getTime() - clock.seconds * 1000;
    expect(secondDelay).toBeGreaterThanOrEqual(96_000);
    expect(secondDelay).toBeLessThanOrEqual(144_000);
  });

  it('a success after failures ends the backoff', async () => {
    const { issuer, verifier, current, clock } = setup(format);
    store.answer(() => ({ status: 503, body: { error: { message: 'maintenance' } } }));
    const failed = expectKind(
      await verifier.refreshIfDue(current.token, { storeUrl: store.url }),
      'failed',
    );
    clock.set(Math.ceil(failed.retryAt.getTime() / 1000));
    const next = renewal(issuer, format, current);
    store.answer(() => ({ status: 200, body: { token: next.token } }));
    expect((await verifier.refreshIfDue(current.token, { storeUrl: store.url })).kind).toBe(
      'refreshed',
    );
  });

  it('while offline the license stays valid through grace and is expired after it', async () => {
    const { verifier, current, clock } = setup(format);
    const down = await closedStoreUrl();
    clock.set(T0 + 30 * DAY);
    const inGrace = expectKind(
      await verifier.refreshIfDue(current.token, { storeUrl: down }),
      'failed',
    );
    expect(inGrace.result).toMatchObject({
      valid: true,
      status: 'grace',
      graceEndsAt: new Date((T0 + 37 * DAY) * 1000),
    });
    clock.set(T0 + 37 * DAY - 1);
    expect(await verifier.verify(current.token)).toMatchObject({ valid: true, status: 'grace' });
    expect((await verifier.refreshIfDue(current.token, { storeUrl: down })).result.status).toBe(
      'grace',
    );
    clock.set(T0 + 37 * DAY);
    expect(await verifier.verify(current.token)).toMatchObject({
      valid: false,
      status: 'expired',
      reason: 'expired',
    });
    const expired = await verifier.refreshIfDue(current.token, { storeUrl: down });
    expect(['failed', 'backing_off']).toContain(expired.kind);
    expect(expired.result.status).toBe('expired');
  });

  it('an expired license comes back when the store is reachable again', async () => {
    const { issuer, verifier, current, clock } = setup(format);
    clock.set(T0 + 40 * DAY);
    const next = renewLicense(issuer, format, current, {
      iat: T0 + 40 * DAY,
      exp: T0 + 70 * DAY,
      rfa: T0 + 60 * DAY,
    });
    store.answer(() => ({ status: 200, body: { token: next.token } }));
    expect((await verifier.verify(current.token)).status).toBe('expired');
    const outcome = expectKind(
      await verifier.refreshIfDue(current.token, { storeUrl: store.url }),
      'refreshed',
    );
    expect(outcome.result.status).toBe('active');
  });

  // BUG: refreshIfDue builds the URL as `new URL(REFRESH_PATH, storeUrl)` (refresh-run.ts)
  // and REFRESH_PATH is absolute ("/v1/…"), so any path in the store's base URL is
  // dropped: a store behind a reverse proxy at https://vendor.example/licensing is asked
  // at https://vendor.example/v1/licenses/refresh. Expected the request under the base
  // path, https://vendor.example/licensing/v1/licenses/refresh (with or without a
  // trailing slash on storeUrl); actual https://vendor.example/v1/licenses/refresh.
  it('keeps the path of a store base URL', async () => {
    const { issuer, verifier, current } = setup(format);
    const next = renewal(issuer, format, current);
    const calls: string[] = [];
    const fakeFetch: typeof fetch = async (input) => {
      calls.push(String(input));
      return new Response(JSON.stringify({ token: next.token }), { status: 200 });
    };
    await verifier.refreshIfDue(current.token, {
      storeUrl: 'https://vendor.example/licensing',
      fetch: fakeFetch,
    });
    expect(calls).toEqual(['https://vendor.example/licensing/v1/licenses/refresh']);
  });

  it('uses the fetch it is given', async () => {
    const { issuer, verifier, current } = setup(format);
    const next = renewal(issuer, format, current);
    const calls: string[] = [];
    const fakeFetch: typeof fetch = async (input) => {
      calls.push(String(input));
      return new Response(JSON.stringify({ token: next.token }), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    };
    expect(
      (
        await verifier.refreshIfDue(current.token, {
          storeUrl: 'https://store.example',
          fetch: fakeFetch,
        })
      ).kind,
    ).toBe('refreshed');
    expect(calls).toEqual(['https://store.example/v1/licenses/refresh']);
  });
});
