import { UnsupportedError } from '@licensekit/core';
import type { DeviceKey } from './device-key.js';
import { deviceKeyFromKeyPair, generateDeviceKey } from './device-key.js';

export interface IndexedDbDeviceKeyOptions {
  database?: string;
  indexedDB?: IDBFactory;
}

const STORE = 'keys';
const ENTRY = 'device';

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/**
 * The browser's device key, kept in IndexedDB as a non-extractable CryptoKeyPair (the
 * structured clone keeps it non-extractable): created on first use, the same key after a
 * reload. Works in pages, workers and extension service workers.
 */
export async function indexedDbDeviceKey(
  options: IndexedDbDeviceKeyOptions = {},
): Promise<DeviceKey> {
  const factory = options.indexedDB ?? globalThis.indexedDB;
  if (factory === undefined) throw new UnsupportedError('IndexedDB is not available here');
  const open = factory.open(options.database ?? 'licensekit-device', 1);
  open.onupgradeneeded = () => open.result.createObjectStore(STORE);
  const db = await request(open);
  try {
    const stored = (await request(db.transaction(STORE).objectStore(STORE).get(ENTRY))) as
      | CryptoKeyPair
      | undefined;
    if (stored?.privateKey && stored.publicKey) return await deviceKeyFromKeyPair(stored);
    const created = await generateDeviceKey();
    await request(
      db.transaction(STORE, 'readwrite').objectStore(STORE).put(created.keyPair, ENTRY),
    );
    return created;
  } finally {
    db.close();
  }
}
