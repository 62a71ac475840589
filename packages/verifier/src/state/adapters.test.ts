/**
 * The portable state adapters: memory, Web Storage (with and without Web Locks) and the
 * async key-value adapter for extension storage. Each is driven through the verifier too,
 * so the marks they keep are the ones the defenses rely on.
 */
import { describe, expect, it } from 'vitest';
import { generateTestKey, PRODUCT, T0 } from '../../../../test/support/tokens.js';
import type { StateData, StateStore, WebStorageLike } from '../index.js';
import { createVerifier, keyValueState, memoryState, webStorageState } from '../index.js';
import { issueLicense, renewLicense, testClock } from '../testing/harness.js';
import { emptyState, parseState } from './state.js';

/** localStorage as a Map, counting writes. */
class FakeStorage implements WebStorageLike {
  readonly items = new Map<string, string>();
  writes = 0;
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.writes++;
    this.items.set(key, value);
  }
}

/** navigator.locks as a recorder: exclusive per name, FIFO, and asynchronous like the real one. */
class FakeLocks {
  readonly requests: string[] = [];
  private readonly tails = new Map<string, Promise<unknown>>();
  request<T>(name: string, callback: () => Promise<T>): Promise<T> {
    this.requests.push(name);
    const previous = this.tails.get(name) ?? Promise.resolve();
    const run = previous
      .then(() => new Promise<void>((resolve) => setTimeout(resolve, 0)))
      .then(callback);
    this.tails.set(
      name,
      run.catch(() => undefined),
    );
    return run;
  }
}

/** chrome.storage.local-like: asynchronous, with a delay, storing JSON-able values. */
class FakeExtensionStorage {
  readonly area = new Map<string, unknown>();
  gets = 0;
  sets = 0;
  async get(key: string): Promise<unknown> {
    this.gets++;
    await new Promise((resolve) => setTimeout(resolve, 0));
    return structuredClone(this.area.get(key));
  }
  async set(key: string, value: string): Promise<void> {
    this.sets++;
    await new Promise((resolve) => setTimeout(resolve, 0));
    this.area.set(key, value);
  }
}

const change = (state: StateData) => {
  state.highWater += 1;
  return { changed: true, value: state.highWater };
};
const read = (state: StateData) => ({ changed: false, value: state.highWater });

/** Shared behaviour every adapter must have, driven through a verifier. */
function adapterContract(name: string, make: () => StateStore) {
  describe(`${name}: through the verifier`, () => {
    it('keeps rollback marks across verifier instances (an app restart)', async () => {
      const store = make();
      const issuer = generateTestKey();
      const clock = testClock();
      const verifier = () =>
        createVerifier({
          trust: { issuers: [issuer.jwk] },
          product: PRODUCT,
          clock: clock.read,
          state: store,
        });
      const first = issueLicense(issuer, 'cwt');
      const second = renewLicense(issuer, 'cwt', first);
      expect((await verifier().verify(second.token)).status).toBe('active');
      expect(await verifier().verify(first.token)).toMatchObject({
        status: 'rolled_back',
        reason: 'older_seq',
      });
    });

    it('keeps the high-water mark across instances: a clock set back two days is caught', async () => {
      const store = make();
      const issuer = generateTestKey();
      const clock = testClock(T0 + 5 * 86_400);
      const verifier = () =>
        createVerifier({
          trust: { issuers: [issuer.jwk] },
          product: PRODUCT,
          clock: clock.read,
          state: store,
        });
      const { token } = issueLicense(issuer, 'jwt');
      await verifier().verify(token);
      clock.set(T0 + 3 * 86_400);
      expect((await verifier().verify(token)).status).toBe('clock_tampered');
    });

    it('200 concurrent consumes never overspend', async () => {
      const store = make();
      const issuer = generateTestKey();
      const verifier = createVerifier({
        trust: { issuers: [issuer.jwk] },
        product: PRODUCT,
        clock: testClock().read,
        state: store,
      });
      const { token } = issueLicense(issuer, 'cwt', {
        quota: { exports: { limit: 37, per: 'month' } },
      });
      const results = await Promise.all(
        Array.from({ length: 200 }, () => verifier.consume(token, 'exports')),
      );
      expect(results.filter((r) => r.granted)).toHaveLength(37);
      expect((await verifier.verify(token)).quotas.exports).toMatchObject({
        used: 37,
        remaining: 0,
      });
    });
  });
}

describe('memoryState', () => {
  it('keeps the state between transactions and returns the step value', async () => {
    const store = memoryState();
    expect(await store.transact(PRODUCT, change)).toBe(1);
    expect(await store.transact(PRODUCT, change)).toBe(2);
    expect(await store.transact(PRODUCT, read)).toBe(2);
  });

  it('starts empty for another product', async () => {
    const store = memoryState();
    await store.transact(PRODUCT, change);
    expect(await store.transact('another-product', read)).toBe(0);
  });

  it('uses the initial state it is given', async () => {
    const initial = emptyState(PRODUCT);
    initial.highWater = 41;
    const store = memoryState(initial);
    expect(await store.transact(PRODUCT, change)).toBe(42);
    expect(initial.highWater).toBe(42);
  });

  it('is the default state of a verifier (marks kept within the process)', async () => {
    const issuer = generateTestKey();
    const verifier = createVerifier({
      trust: { issuers: [issuer.jwk] },
      product: PRODUCT,
      clock: testClock().read,
    });
    const first = issueLicense(issuer, 'jwt');
    await verifier.verify(renewLicense(issuer, 'jwt', first).token);
    expect((await verifier.verify(first.token)).status).toBe('rolled_back');
  });
});

adapterContract('memoryState', () => memoryState());

describe('webStorageState', () => {
  it('stores the state as JSON under licensekit:<product>, only when it changed', async () => {
    const storage = new FakeStorage();
    const store = webStorageState(storage, undefined, new FakeLocks());
    await store.transact(PRODUCT, change);
    expect(storage.writes).toBe(1);
    const stored = storage.getItem(`licensekit:${PRODUCT}`);
    expect(parseState(stored, PRODUCT)).toMatchObject({
      version: 1,
      product: PRODUCT,
      highWater: 1,
    });
    await store.transact(PRODUCT, read);
    expect(storage.writes).toBe(1);
  });

  it('uses the key it is given', async () => {
    const storage = new FakeStorage();
    const store = webStorageState(storage, 'my-app-state', new FakeLocks());
    await store.transact(PRODUCT, change);
    expect([...storage.items.keys()]).toEqual(['my-app-state']);
  });

  it('takes a Web Lock named after the key for every transaction', async () => {
    const locks = new FakeLocks();
    const store = webStorageState(new FakeStorage(), undefined, locks);
    await store.transact(PRODUCT, change);
    await store.transact(PRODUCT, read);
    expect(locks.requests).toEqual([`licensekit:${PRODUCT}`, `licensekit:${PRODUCT}`]);

    const named = new FakeLocks();
    await webStorageState(new FakeStorage(), 'custom-key', named).transact(PRODUCT, read);
    expect(named.requests).toEqual(['custom-key']);
  });

  it('runs without Web Locks where the platform has none', async () => {
    const storage = new FakeStorage();
    const store = webStorageState(storage);
    expect(await store.transact(PRODUCT, change)).toBe(1);
    expect(await store.transact(PRODUCT, change)).toBe(2);
  });

  it('two tabs (two adapters on one storage) share the marks through the lock', async () => {
    const storage = new FakeStorage();
    const locks = new FakeLocks();
    const tabA = webStorageState(storage, undefined, locks);
    const tabB = webStorageState(storage, undefined, locks);
    const values = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 ? tabA : tabB).transact(PRODUCT, change)),
    );
    expect(new Set(values).size).toBe(50);
    expect(await tabA.transact(PRODUCT, read)).toBe(50);
  });

  it('treats stored text that is not a valid state as empty', async () => {
    for (const junk of [
      '{not json',
      '{"version":2}',
      JSON.stringify({ ...emptyState('other'), highWater: 5 }),
      '',
    ]) {
      const storage = new FakeStorage();
      storage.items.set(`licensekit:${PRODUCT}`, junk);
      expect(
        await webStorageState(storage, undefined, new FakeLocks()).transact(PRODUCT, read),
      ).toBe(0);
    }
  });

  it('reads a state written by another instance (a page reload)', async () => {
    const storage = new FakeStorage();
    await webStorageState(storage, undefined, new FakeLocks()).transact(PRODUCT, change);
    expect(await webStorageState(storage, undefined, new FakeLocks()).transact(PRODUCT, read)).toBe(
      1,
    );
  });
});

adapterContract('webStorageState', () =>
  webStorageState(new FakeStorage(), undefined, new FakeLocks()),
);

describe('keyValueState', () => {
  it('stores the state as a JSON string under licensekit:<product>, only when it changed', async () => {
    const area = new FakeExtensionStorage();
    const store = keyValueState(area);
    expect(await store.transact(PRODUCT, change)).toBe(1);
    expect(area.sets).toBe(1);
    const stored = area.area.get(`licensekit:${PRODUCT}`);
    expect(typeof stored).toBe('string');
    expect(parseState(stored as string, PRODUCT)?.highWater).toBe(1);
    await store.transact(PRODUCT, read);
    expect(area.sets).toBe(1);
  });

  it('uses the key it is given', async () => {
    const area = new FakeExtensionStorage();
    await keyValueState(area, 'ext-state').transact(PRODUCT, change);
    expect([...area.area.keys()]).toEqual(['ext-state']);
  });

  it('serialises concurrent transactions on one instance (no lost update)', async () => {
    const store = keyValueState(new FakeExtensionStorage());
    const values = await Promise.all(
      Array.from({ length: 100 }, () => store.transact(PRODUCT, change)),
    );
    expect([...values].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it('treats a missing, non-string or invalid value as an empty state', async () => {
    for (const value of [undefined, { highWater: 9 }, 42, 'garbage']) {
      const area = new FakeExtensionStorage();
      if (value !== undefined) area.area.set(`licensekit:${PRODUCT}`, value);
      expect(await keyValueState(area).transact(PRODUCT, read)).toBe(0);
    }
  });

  it('a failing step releases the next transaction', async () => {
    const store = keyValueState(new FakeExtensionStorage());
    const failing = store.transact(PRODUCT, () => {
      throw new Error('step failed');
    });
    const next = store.transact(PRODUCT, change);
    await expect(failing).rejects.toThrow('step failed');
    expect(await next).toBe(1);
  });
});

adapterContract('keyValueState', () => keyValueState(new FakeExtensionStorage()));
