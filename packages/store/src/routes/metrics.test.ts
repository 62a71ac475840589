import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REDACTED_HEADERS } from '../build.js';
import { eventLoopDelayWindows } from '../plugins/metrics.js';
import { emitEvent } from '../services/events.js';
import { ADMIN, bearer, createLicense } from '../testing/fixtures.js';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../testing/harness.js';
import { activate, buy, deviceKey } from '../testing/licensing.js';

// A line of the text exposition format 0.0.4: name{labels} value.
const SAMPLE =
  /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*")*\})? (-?[0-9.e+-]+|\+Inf|-Inf|NaN)$/;

describe.skipIf(postgresUnavailable)('metrics and logs', () => {
  let store: TestStore;
  const lines: string[] = [];
  /** Every license key handed out in this file: none may reach a log line. */
  const keys: string[] = [];

  beforeAll(async () => {
    store = await buildTestStore({
      operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
      licensing: { billing: { enabled: false } },
      // The production logger (server.ts) at its most verbose, written to memory.
      logger: {
        level: 'trace',
        redact: { paths: REDACTED_HEADERS, censor: '[redacted]' },
        stream: new Writable({
          write(chunk, _encoding, callback) {
            lines.push(...String(chunk).split('\n').filter(Boolean));
            callback();
          },
        }),
      },
    });
  });
  afterAll(async () => store?.close());

  test('GET /metrics speaks the Prometheus text format', async () => {
    const { app } = store;
    await app.inject({ url: '/v1/products' });
    await app.inject({ url: '/v1/products' });
    await app.inject({ url: '/v1/products/nope' });
    await app.inject({ url: '/no/such/route/12345' });
    await app.inject({
      method: 'POST',
      url: '/v1/admin/webhooks',
      headers: ADMIN,
      payload: { url: 'https://h.example.test/x' },
    });
    await app.db.transaction((tx) =>
      emitEvent(tx, 'license.created', { licenseId: 'lic_m' }, app.clock.now()),
    );

    const response = await app.inject({ url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = response.body;
    expect(text).toContain('http_requests_total{method="GET",route="/v1/products",status="200"} 2');
    expect(text).toContain(
      'http_requests_total{method="GET",route="/v1/products/:productId",status="404"} 1',
    );
    // Unmatched URLs share one label value: no unbounded label sets.
    expect(text).toContain('http_requests_total{method="GET",route="unmatched",status="404"} 1');
    expect(text).not.toContain('12345');
    expect(text).toContain(
      'http_request_duration_seconds_bucket{method="GET",route="/v1/products",le="+Inf"} 2',
    );
    expect(text).toContain(
      'http_request_duration_seconds_count{method="GET",route="/v1/products"} 2',
    );
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(text).toContain('# TYPE licensekit_tokens_issued_total counter');
    expect(text).toMatch(/^webhook_outbox_pending 1$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
    expect(text).toMatch(/^process_uptime_seconds \d+$/m);
    for (const quantile of ['p50', 'p99', 'max']) {
      expect(text).toContain(`# TYPE nodejs_eventloop_delay_${quantile}_seconds gauge`);
      expect(text).toMatch(
        new RegExp(`^nodejs_eventloop_delay_${quantile}_seconds [0-9.e-]+$`, 'm'),
      );
    }
    for (const line of text.trimEnd().split('\n')) {
      if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
      expect(line).toMatch(SAMPLE);
    }
    // Buckets are cumulative.
    const buckets = [
      ...text.matchAll(
        /http_request_duration_seconds_bucket\{method="GET",route="\/v1\/products",le="[^"]+"\} (\d+)/g,
      ),
    ].map((m) => Number(m[1]));
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
  });

  test('licensekit_tokens_issued_total counts tokens handed out by activate and refresh', async () => {
    const purchase = await buy(store);
    keys.push(purchase.key);
    expect((await activate(store, purchase.key, await deviceKey())).statusCode).toBe(200);
    const text = (await store.app.inject({ url: '/metrics' })).body;
    expect(text).toContain('licensekit_tokens_issued_total{route="/v1/licenses/activate"} 1');
  });

  test('logs never contain a license key, the admin token or a private key', async () => {
    const { app, dataDir } = store;
    const { key } = await createLicense(app);
    keys.push(key);
    await app.inject({ url: '/v1/licenses/quotas', headers: bearer(key) });
    await app.inject({ url: '/v1/attachments', headers: bearer(key.toLowerCase()) });
    await app.inject({
      method: 'POST',
      url: '/v1/licenses/usage',
      headers: bearer(key),
      payload: { licenseKey: key, note: `my key is ${key}` },
    });
    await app.inject({
      method: 'POST',
      url: '/v1/licenses/usage',
      headers: { ...bearer(key), 'content-type': 'application/json' },
      payload: `{"broken": "${key}`,
    });
    await app.inject({
      method: 'POST',
      url: '/v1/admin/revocations',
      headers: ADMIN,
      payload: { kind: 'token', value: key },
    });
    await app.inject({
      url: `/v1/licenses/quotas?key=${encodeURIComponent('not-logged-either')}`,
      headers: { authorization: `Bearer ${key}`, cookie: `session=${key}`, dpop: key },
    });

    expect(lines.length).toBeGreaterThan(10);
    expect(lines.some((line) => line.includes('"reqId"'))).toBe(true);
    for (const line of lines) JSON.parse(line); // structured: one JSON object per line
    const all = lines.join('\n');
    const compact = key.replace(/-/g, '');
    const rootKey = JSON.parse(readFileSync(join(dataDir, 'keys', 'root.json'), 'utf8')).d;
    const issuerKey = JSON.parse(readFileSync(join(dataDir, 'keys', 'issuer.json'), 'utf8')).d;
    for (const secret of [
      ...keys,
      key.toLowerCase(),
      compact,
      'test-admin-token',
      rootKey,
      issuerKey,
    ]) {
      expect(all).not.toContain(secret);
    }
  });
});

describe('event-loop delay windows', () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const block = (ms: number) => {
    const until = performance.now() + ms;
    while (performance.now() < until) {}
  };

  test('a stall shows in its window, then leaves with a later one', async () => {
    const windows = eventLoopDelayWindows({ windowMs: 200, resolutionMs: 10 });
    // Polled rather than read at fixed moments: on a loaded machine a sleep may overrun a
    // window, so the stall may land in either of two.
    const poll = async (until: (reading: ReturnType<typeof windows.read>) => boolean) => {
      for (let attempt = 0; attempt < 100; attempt++) {
        const reading = windows.read();
        if (until(reading)) return reading;
        await sleep(20);
      }
      throw new Error(`no such reading within 2 s: ${JSON.stringify(windows.read())}`);
    };
    try {
      await sleep(30);
      block(80);
      // Only lower bounds: a loaded machine can only add delay.
      const stalled = await poll((reading) => reading.max >= 0.06);
      expect(stalled.p99).toBeGreaterThanOrEqual(0.06);
      expect(stalled.p50).toBeLessThanOrEqual(stalled.p99);
      await poll((reading) => reading.max < 0.06);
    } finally {
      windows.close();
    }
  });

  test('reads the window so far before the first one closes, never a negative delay', async () => {
    const windows = eventLoopDelayWindows({ windowMs: 60_000 });
    try {
      expect(windows.read()).toEqual({ p50: 0, p99: 0, max: 0 });
      await sleep(100);
      const early = windows.read();
      expect(early.p50).toBeGreaterThanOrEqual(0);
      expect(early.max).toBeGreaterThanOrEqual(early.p99);
    } finally {
      windows.close();
    }
  });
});
