/**
 * A minimal client of the store's HTTP API for `licensekit export`: the admin token on
 * every request (public routes ignore it), answers read as JSON or text, and failures as
 * one-line UsageErrors that carry the store's own error code.
 */
import { UsageError } from '../lib/errors.js';

export interface StoreApi {
  readonly url: string;
  /** GET or POST a JSON route; `undefined` for a 404 when `optional` (an older store). */
  json<T>(
    path: string,
    options?: { method?: 'GET' | 'POST'; optional?: boolean },
  ): Promise<T | undefined>;
  text(path: string): Promise<string>;
}

export function storeApi(url: string, token: string): StoreApi {
  const base = url.replace(/\/+$/, '');
  const request = async (path: string, method: 'GET' | 'POST'): Promise<Response> => {
    try {
      return await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}` },
      });
    } catch {
      throw new UsageError(`cannot reach the store at ${base}; is it running? (--store URL)`);
    }
  };
  const failure = async (response: Response, path: string): Promise<UsageError> => {
    let detail = '';
    try {
      const body = (await response.json()) as { error?: { code?: string; message?: string } };
      detail = `${body.error?.code ?? ''}: ${body.error?.message ?? ''}`;
    } catch {
      detail = response.statusText;
    }
    return new UsageError(`the store answered ${response.status} ${detail} for ${path}`);
  };
  return {
    url: base,
    async json<T>(path: string, options: { method?: 'GET' | 'POST'; optional?: boolean } = {}) {
      const response = await request(path, options.method ?? 'GET');
      if (response.status === 404 && options.optional) return undefined;
      if (!response.ok) throw await failure(response, path);
      return (await response.json()) as T;
    },
    async text(path: string) {
      const response = await request(path, 'GET');
      if (!response.ok) throw await failure(response, path);
      return response.text();
    },
  };
}
