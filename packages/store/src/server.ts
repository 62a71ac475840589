import type { BuildOptions } from './build.js';
import { buildStore, REDACTED_HEADERS } from './build.js';

export interface RunningStore {
  url: string;
  close(): Promise<void>;
}

/**
 * Starts the store: structured JSON logs (secrets redacted), listen, graceful close on
 * SIGINT/SIGTERM (in-flight requests finish, the database closes cleanly).
 */
export async function startStore(
  options: BuildOptions = {},
  handleSignals = true,
): Promise<RunningStore> {
  const fastify = await buildStore({
    ...options,
    logger: options.logger ?? {
      level: options.logLevel ?? process.env.LOG_LEVEL ?? 'info',
      redact: { paths: REDACTED_HEADERS, censor: '[redacted]' },
    },
  });
  await fastify.listen({ port: fastify.config.port, host: fastify.config.host });
  const address = fastify.server.address();
  const port = typeof address === 'object' && address ? address.port : fastify.config.port;
  const host = fastify.config.host.includes(':') ? `[${fastify.config.host}]` : fastify.config.host;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
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
  return { url, close };
}
