import { createServer } from 'node:net';
import type { Ed25519PublicJwk } from '@licensekit/core';
import type { BuildOptions } from './build.js';
import { buildStore, REDACTED_HEADERS } from './build.js';
import { loadConfig } from './config.js';
import { readableLogStream } from './lib/log-lines.js';

export interface RunningStore {
  /** Where the store listens (and, unless configured otherwise, its public URL). */
  url: string;
  /** The root public key apps embed to trust this store's tokens. */
  rootPublicJwk: Ed25519PublicJwk & { kid: string };
  database: 'pglite' | 'postgres';
  dataDir: string;
  close(): Promise<void>;
}

/** A free TCP port on `host`, so that a store asked for port 0 knows its public URL up front. */
async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** LICENSEKIT_LOG_FORMAT=json|pretty decides; by default pretty on a terminal only. */
function readableLogs(): boolean {
  const format = process.env.LICENSEKIT_LOG_FORMAT;
  if (format === 'json') return false;
  if (format === 'pretty') return true;
  return process.stdout.isTTY === true;
}

/** `port` when it can be bound on `host` now; the bind error (EADDRINUSE, EACCES) otherwise. */
async function portAvailable(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(port, host, () => probe.close(() => resolve(port)));
  });
}

/**
 * Starts the store: structured JSON logs (secrets redacted), listen, graceful close on
 * SIGINT/SIGTERM (in-flight requests finish, the database closes cleanly).
 */
export async function startStore(
  options: BuildOptions = {},
  handleSignals = true,
): Promise<RunningStore> {
  const base = loadConfig(options);
  // The port first, the database after: a store that cannot listen must never have opened
  // (and locked, and possibly initialised) its data directory.
  const port =
    base.port === 0 ? await freePort(base.host) : await portAvailable(base.port, base.host);
  const fastify = await buildStore({
    ...options,
    port,
    logger: options.logger ?? {
      level: options.logLevel ?? process.env.LOG_LEVEL ?? 'info',
      redact: { paths: REDACTED_HEADERS, censor: '[redacted]' },
      // JSON lines for machines; readable lines for a person at a terminal.
      ...(readableLogs() ? { stream: readableLogStream(process.stdout) } : {}),
    },
  });
  try {
    await fastify.listen({ port, host: fastify.config.host });
  } catch (error) {
    // Taken in between the check and now: close the database rather than linger holding it.
    await fastify.close().catch(() => undefined);
    throw error;
  }
  const host = fastify.config.host.includes(':') ? `[${fastify.config.host}]` : fastify.config.host;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= fastify.close();
    return closing;
  };
  if (handleSignals) {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        fastify.log.info({ signal }, 'shutting down');
        void close().then(() => process.exit(0));
      });
    }
  }
  return {
    url,
    rootPublicJwk: fastify.keys.rootPublicJwk,
    database: fastify.db.kind,
    dataDir: fastify.config.dataDir,
    close,
  };
}
