import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from './errors.js';

/** How `licensekit admin …` reaches a running store. */
export interface AdminTarget {
  store?: string;
  token?: string;
  data?: string;
}

export interface AdminClient {
  readonly store: string;
  request(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown>;
}

/**
 * The admin API client: the store URL from --store, LICENSEKIT_STORE_URL or the local
 * default; the token from --token, LICENSEKIT_ADMIN_TOKEN or the store's data directory
 * (DIR/admin-token, where `licensekit serve` keeps it). Errors become one-line UsageErrors
 * carrying the store's own message.
 */
export async function adminClient(target: AdminTarget): Promise<AdminClient> {
  const store = (
    target.store ??
    process.env.LICENSEKIT_STORE_URL ??
    'http://127.0.0.1:8787'
  ).replace(/\/+$/, '');
  let token = target.token ?? process.env.LICENSEKIT_ADMIN_TOKEN;
  if (token === undefined) {
    const file = join(target.data ?? process.env.LICENSEKIT_DATA ?? '.licensekit', 'admin-token');
    try {
      token = (await readFile(file, 'utf8')).trim();
    } catch {
      throw new UsageError(
        `no admin token: pass --token, set LICENSEKIT_ADMIN_TOKEN, or --data DIR of the store (${file} not readable)`,
      );
    }
  }
  return {
    store,
    async request(method, path, body) {
      let response: Response;
      try {
        response = await fetch(`${store}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      } catch {
        throw new UsageError(
          `cannot reach the store at ${store}; is licensekit serve running? (--store URL)`,
        );
      }
      const text = await response.text();
      let reply: unknown;
      try {
        reply = text.length > 0 ? JSON.parse(text) : {};
      } catch {
        reply = { text };
      }
      if (!response.ok) {
        const error = (reply as { error?: { code?: string; message?: string } }).error;
        throw new UsageError(
          `the store answered ${response.status}${error?.code ? ` ${error.code}` : ''}: ${error?.message ?? 'no details'}`,
        );
      }
      return reply;
    },
  };
}
