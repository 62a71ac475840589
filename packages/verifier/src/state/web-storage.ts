import { Mutex } from './mutex.js';
import type { StateData, StateStore, Transition } from './state.js';
import { emptyState, parseState } from './state.js';

/** One state per product, so two licensekit apps on one origin never share marks. */
function defaultKey(product: string): string {
  return `licensekit:${product}`;
}

/** The part of the Web Storage API (localStorage, sessionStorage) the adapter uses. */
export interface WebStorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** The Web Locks API where present (navigator.locks), to exclude other tabs of the origin. */
interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/**
 * State in Web Storage (localStorage by default in browsers). Each transaction reads the
 * stored text, runs the step and writes back, inside a Web Lock named after the key where
 * the browser has `navigator.locks` (so two tabs never interleave), and always inside an
 * in-page mutex. Stored text that is not a valid state counts as empty.
 */
export function webStorageState(
  storage: WebStorageLike,
  key?: string,
  locks?: LockManagerLike,
): StateStore {
  const mutex = new Mutex();
  const lockManager =
    locks ?? (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
  return {
    transact<T>(product: string, step: (state: StateData) => Transition<T>): Promise<T> {
      const name = key ?? defaultKey(product);
      const section = async () => {
        const state = parseState(storage.getItem(name), product) ?? emptyState(product);
        const { changed, value } = step(state);
        if (changed) storage.setItem(name, JSON.stringify(state));
        return value;
      };
      return mutex.run(() => (lockManager ? lockManager.request(name, section) : section()));
    },
  };
}

/** An async key-value area such as chrome.storage.local (get/set of JSON-able values). */
export interface AsyncKeyValue {
  get(key: string): Promise<unknown>;
  set(key: string, value: string): Promise<void>;
}

/**
 * State in an asynchronous key-value store: extension storage (wrap chrome.storage.local
 * as `{ get: async k => (await chrome.storage.local.get(k))[k], set: (k, v) => chrome.storage.local.set({ [k]: v }) }`),
 * IndexedDB wrappers, Electron stores. Transactions are serialised within this instance;
 * such stores offer no compare-and-swap, so give each extension context that consumes
 * quota the same instance (e.g. do it in the service worker).
 */
export function keyValueState(area: AsyncKeyValue, key?: string): StateStore {
  const mutex = new Mutex();
  return {
    transact<T>(product: string, step: (state: StateData) => Transition<T>): Promise<T> {
      const name = key ?? defaultKey(product);
      return mutex.run(async () => {
        const stored = await area.get(name);
        const state =
          parseState(typeof stored === 'string' ? stored : undefined, product) ??
          emptyState(product);
        const { changed, value } = step(state);
        if (changed) await area.set(name, JSON.stringify(state));
        return value;
      });
    },
  };
}
