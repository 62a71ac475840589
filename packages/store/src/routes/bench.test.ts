import { decodeDocument, readLicenseClaims } from '@licensekit/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { keyRefresher } from '../bench.js';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../testing/harness.js';
import { buy, storeVerifier } from '../testing/licensing.js';

const claimsOf = (token: string) => readLicenseClaims(decodeDocument(token, 'license'));
const readyToken = (store: TestStore) =>
  store.app.inject({ method: 'POST', url: '/v1/bench/ready-token', payload: {} });

describe.skipIf(postgresUnavailable)('the benchmark hooks (pnpm bench store)', () => {
  let plain: TestStore;
  let bench: TestStore;
  beforeAll(async () => {
    plain = await buildTestStore();
    bench = await buildTestStore({ benchRoutes: true });
  });
  afterAll(async () => Promise.all([plain?.close(), bench?.close()]));

  test('the ready-token route exists only with benchRoutes', async () => {
    expect((await readyToken(plain)).statusCode).toBe(404);
    const answer = await readyToken(bench);
    expect(answer.statusCode).toBe(200);
    const { token, test: testFlag } = answer.json();
    expect(testFlag).toBe(true);
    expect((await (await storeVerifier(bench)).verify(token)).valid).toBe(true);
  });

  test('keyRefresher issues the next token of the lineage, as the refresh route does', async () => {
    const purchase = await buy(bench);
    const refresh = keyRefresher(bench.app);
    const first = claimsOf((await refresh(purchase.key)).token);
    const second = await refresh(purchase.key);
    expect(second.test).toBe(true);
    expect(claimsOf(second.token).seq).toBe(first.seq + 1);
    expect(first.seq).toBe(claimsOf(purchase.token!).seq + 1);
  });
});
