import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../testing/harness.js';

/**
 * Slow clients cannot hold connections: a request (headers and body) must arrive within
 * the request timeout (30 s by default, `LICENSEKIT_REQUEST_TIMEOUT_MS`), or the
 * connection is answered 408 and closed. Over a real socket, with a 1 s timeout.
 */

const TIMEOUT_MS = 1_000;

/** Opens a socket, writes `chunks`, and resolves with what the server sent and when it closed. */
function trickle(port: number, chunks: string[], giveUpMs: number) {
  return new Promise<{ closed: boolean; afterMs: number; received: string }>((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const giveUp = setTimeout(() => {
      socket.destroy();
      resolve({ closed: false, afterMs: Date.now() - started, received });
    }, giveUpMs);
    socket.on('data', (data) => {
      received += data.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(giveUp);
      resolve({ closed: true, afterMs: Date.now() - started, received });
    });
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
    });
  });
}

describe.skipIf(postgresUnavailable)('request timeouts', () => {
  let store: TestStore;
  let port: number;

  beforeAll(async () => {
    store = await buildTestStore({
      requestTimeoutMs: TIMEOUT_MS,
      operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
    });
    await store.app.listen({ port: 0, host: '127.0.0.1' });
    port = (store.app.server.address() as AddressInfo).port;
  });
  afterAll(async () => store?.close());

  test('a body that never finishes is cut off with 408 after the request timeout', async () => {
    const result = await trickle(
      port,
      [
        'POST /v1/licenses/refresh HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
          'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"token":"',
      ],
      10 * TIMEOUT_MS,
    );
    expect(result.closed).toBe(true);
    expect(result.afterMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
    expect(result.afterMs).toBeLessThan(5 * TIMEOUT_MS);
    expect(result.received).toMatch(/^HTTP\/1\.1 408 /);
  });

  test('headers that never finish are cut off too', async () => {
    const result = await trickle(
      port,
      ['GET /v1/products HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '],
      10 * TIMEOUT_MS,
    );
    expect(result.closed).toBe(true);
    expect(result.afterMs).toBeLessThan(5 * TIMEOUT_MS);
  });

  test('a prompt request on the same server is answered', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/v1/products`);
    expect(response.status).toBe(200);
  });

  test('the default request timeout is 30 seconds', async () => {
    const defaults = await buildTestStore({
      operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
    });
    try {
      expect(defaults.app.server.requestTimeout).toBe(30_000);
      expect(defaults.app.config.requestTimeoutMs).toBe(30_000);
    } finally {
      await defaults.close();
    }
  });
});
