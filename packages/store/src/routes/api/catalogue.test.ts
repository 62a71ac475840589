import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ERROR_CODES } from '../../errors.js';
import type { TestStore } from '../../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../../testing/harness.js';

describe.skipIf(postgresUnavailable)('catalogue, keys, health and errors', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await buildTestStore();
  });
  afterAll(async () => store?.close());

  test('lists the seeded demo catalogue with every model', async () => {
    const response = await store.app.inject({ method: 'GET', url: '/v1/products' });
    expect(response.statusCode).toBe(200);
    const { products } = response.json();
    const photon = products.find((p: { id: string }) => p.id === 'photon');
    expect(photon.url).toBe('http://store.test/products/photon');
    const plans = Object.fromEntries(photon.plans.map((p: { id: string }) => [p.id, p]));
    expect(plans.free.free).toBe(true);
    expect(plans['pro-monthly']).toMatchObject({
      trialDays: 14,
      interval: 'month',
      price: { amount: 1500, currency: 'USD' },
    });
    expect(plans['pro-monthly'].quotas.exports).toEqual({ limit: 1000, per: 'month' });
    expect(plans['team-yearly']).toMatchObject({ perSeat: true, interval: 'year' });
    expect(plans.lifetime).toMatchObject({ interval: 'once', termDays: null });
    const pack = products.find((p: { id: string }) => p.id === 'photon-presets').plans[0];
    expect(pack.quotas.downloads).toEqual({ limit: 50 });
  });

  test('one product by id, 404 with a registered code otherwise', async () => {
    expect((await store.app.inject({ url: '/v1/products/photon' })).json().id).toBe('photon');
    const missing = await store.app.inject({ url: '/v1/products/nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({
      error: { code: 'PRODUCT_NOT_FOUND', message: ERROR_CODES.PRODUCT_NOT_FOUND.message },
    });
    const bad = await store.app.inject({ url: '/v1/products/..%2F..%2Fetc' });
    expect(bad.statusCode).toBe(400);
  });

  test('keys endpoint serves only public keys and the certificate', async () => {
    const body = (await store.app.inject({ url: '/v1/keys' })).json();
    expect(body.roots).toHaveLength(1);
    expect(JSON.stringify(body)).not.toMatch(/"d"/);
    expect(body.issuers[0].certificate.length).toBeGreaterThan(100);
  });

  test('health reports the database, docs serve OpenAPI, security headers are set', async () => {
    const health = await store.app.inject({ url: '/health' });
    expect(health.json()).toMatchObject({ status: 'ok' });
    const docs = await store.app.inject({ url: '/docs' });
    expect(docs.json().openapi).toBe('3.1.0');
    expect(docs.json().paths['/v1/products']).toBeDefined();
    expect(health.headers['x-content-type-options']).toBe('nosniff');
    expect(health.headers['content-security-policy']).toContain("script-src 'self'");
  });

  test('unknown routes and bad bodies get registered errors', async () => {
    expect((await store.app.inject({ url: '/nope' })).json().error.code).toBe('NOT_FOUND');
  });
});
