import type { LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIPv6 } from 'node:net';

/**
 * POST to `url`, connecting only to `addresses` — the ones a check found public — instead
 * of resolving the host again when connecting: a second lookup could answer with a
 * private address (DNS rebinding). The URL keeps its host name, so the Host header and,
 * over https, SNI and the certificate check are still the name's.
 *
 * node:http rather than fetch: Node's fetch cannot be given a lookup of its own without
 * the undici package. A fresh connection each time (no agent): a pooled one could have
 * been opened for the same host:port without this check (an operator's endpoint).
 * Resolves with the status once the answer's head is in; its body is not read.
 */
export function postPinned(
  url: URL,
  addresses: readonly string[],
  init: { body: string; headers: Record<string, string>; signal: AbortSignal },
): Promise<number> {
  const lookup: LookupFunction = (_hostname, options, callback) => {
    const all: LookupAddress[] = addresses
      .map((address) => ({ address, family: isIPv6(address) ? 6 : 4 }))
      .filter((entry) => !options.family || entry.family === options.family);
    if (options.all) callback(null, all);
    else if (all[0]) callback(null, all[0].address, all[0].family);
    else callback(Object.assign(new Error('no address of this family'), { code: 'ENOTFOUND' }), '');
  };
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      url,
      {
        method: 'POST',
        headers: { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) },
        signal: init.signal,
        lookup,
        agent: false,
      },
      (response) => {
        resolve(response.statusCode ?? 0);
        response.destroy();
      },
    );
    request.on('error', reject);
    request.end(init.body);
  });
}
