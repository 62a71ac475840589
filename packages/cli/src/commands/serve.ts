import { UsageError } from '../lib/errors.js';
import type { Io } from '../lib/io.js';
import { isoTime, parseTime } from '../lib/time.js';

export interface ServeFlags {
  port?: string;
  host?: string;
  data?: string;
  publicUrl?: string;
  now?: string;
}

function portFlag(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text) || port > 65_535) {
    throw new UsageError(
      `--port ${JSON.stringify(text)} is not a port; give 0-65535 (0 picks a free one)`,
    );
  }
  return port;
}

/**
 * `licensekit serve [--port N] [--host H] [--data DIR] [--public-url URL] [--now TIME]`: the
 * reference store. Flags win over PORT, HOST, LICENSEKIT_DATA, LICENSEKIT_PUBLIC_URL and
 * LICENSEKIT_NOW (a pretend clock: development and tests only, the store refuses it in
 * production); DATABASE_URL switches from the embedded PGlite to PostgreSQL. Prints where
 * it listens, the storefront and the root public key apps embed, then logs until
 * SIGINT/SIGTERM.
 */
export async function serve(flags: ServeFlags, io: Io): Promise<number> {
  const port = portFlag(flags.port);
  // A pretend clock for walkthroughs and tests (the store refuses it in production).
  const nowText = flags.now ?? (process.env.LICENSEKIT_NOW || undefined);
  const now =
    nowText === undefined
      ? undefined
      : parseTime(nowText, flags.now === undefined ? 'LICENSEKIT_NOW' : '--now') * 1000;
  // The store and its dependencies load only for this command.
  const { startStore, ConfigurationError } = await import('@licensekit/store');
  let store: Awaited<ReturnType<typeof startStore>>;
  try {
    store = await startStore({
      port,
      host: flags.host,
      dataDir: flags.data,
      publicUrl: flags.publicUrl,
      now,
    });
  } catch (error) {
    if (error instanceof ConfigurationError) throw new UsageError(error.message);
    const code = (error as NodeJS.ErrnoException).code;
    // Another store holds the data directory, or PGlite cannot open it: the message names
    // the other process or the recovery path (packages/store README, "Data directory").
    if (code === 'DATA_DIRECTORY_LOCKED' || code === 'DATA_DIRECTORY_DAMAGED') {
      throw new UsageError((error as Error).message);
    }
    if (code === 'EADDRINUSE') {
      throw new UsageError(
        `port ${port ?? process.env.PORT ?? 8787} is in use; pick another with --port`,
      );
    }
    if (code === 'ECONNREFUSED') {
      throw new UsageError(
        'DATABASE_URL points at a PostgreSQL server that refuses connections; is it running?',
      );
    }
    throw error;
  }
  io.err(
    [
      `licensekit store listening on ${store.url} (${store.database === 'pglite' ? `PGlite in ${store.dataDir}` : 'PostgreSQL'})`,
      `  storefront  ${store.url}/`,
      `  portal      ${store.url}/portal`,
      `  API docs    ${store.url}/docs`,
      `  admin token in ${store.dataDir}/admin-token (or LICENSEKIT_ADMIN_TOKEN)`,
      ...(now === undefined
        ? []
        : [
            `  clock       PRETEND: started at ${isoTime(now / 1000)}, runs in real time (--now; development only)`,
          ]),
      '  root public key (embed it in your app to trust this store):',
      `  ${JSON.stringify(store.rootPublicJwk)}`,
      '',
    ].join('\n'),
  );
  // Runs until a signal; startStore closes the server and the database on SIGINT/SIGTERM.
  return new Promise<number>(() => {});
}
