import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** The policy of a Manifest V3 extension page, tightened: nothing but same-origin scripts. */
export const CSP = "default-src 'self'; script-src 'self'";

export interface StaticSite {
  origin: string;
  /** Paths requested so far, in order (the test asserts what was and was not fetched). */
  readonly requested: string[];
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
};

/**
 * Serves the test page, its script, the browser bundle directory under /bundle/ and the
 * token fixture as /tokens.json on 127.0.0.1 (a free port), every response with the CSP.
 */
export async function serveSite(options: {
  fixturesDir: string;
  bundleDir: string;
  tokens: unknown;
}): Promise<StaticSite> {
  const requested: string[] = [];
  const routes = new Map<string, () => Buffer>([
    ['/', () => readFileSync(join(options.fixturesDir, 'page.html'))],
    ['/page.js', () => readFileSync(join(options.fixturesDir, 'page.js'))],
    ['/tokens.json', () => Buffer.from(JSON.stringify(options.tokens))],
  ]);
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    requested.push(path);
    const headers = { 'content-security-policy': CSP, 'cache-control': 'no-store' };
    let body: Buffer | undefined;
    let file = path;
    try {
      const bundled = /^\/bundle\/([\w.-]+\.js(?:\.map)?)$/.exec(path);
      if (bundled) body = readFileSync(join(options.bundleDir, bundled[1]!));
      else body = routes.get(path)?.();
      if (path === '/') file = '/page.html';
    } catch {
      body = undefined;
    }
    if (body === undefined) {
      response.writeHead(path === '/favicon.ico' ? 204 : 404, headers).end();
      return;
    }
    const type = TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream';
    response.writeHead(200, { ...headers, 'content-type': type }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requested,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
