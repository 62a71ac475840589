import { resolve } from 'node:path';
import { pretendNow } from './config-clock.js';
import type { LicensingConfig, LicensingInput } from './config-licensing.js';
import { licensingConfig } from './config-licensing.js';
import type { LogConfig, LogInput } from './config-log.js';
import { logConfig } from './config-log.js';
import type { MarketplaceConfig, MarketplaceInput } from './config-marketplace.js';
import { marketplaceConfig } from './config-marketplace.js';
import type { OperationsConfig, OperationsInput } from './config-operations.js';
import { operationsConfig } from './config-operations.js';

/**
 * Store configuration: flags (licensekit serve), then the environment, then defaults that
 * need no set-up (PGlite in ./.licensekit, dev keys generated on first start).
 */
export interface StoreConfig {
  /** Directory for the embedded database, keys, secrets and attachment files. */
  dataDir: string;
  /** The vendor id: `iss` of every token and certificate. */
  vendor: string;
  /** postgres://… to use PostgreSQL; absent = PGlite in dataDir/db. */
  databaseUrl: string | undefined;
  host: string;
  port: number;
  /** The URL customers reach the store at (links in responses, pages and webhooks). */
  publicUrl: string;
  /** Admin API token; absent = read from (or generated into) dataDir/admin-token. */
  adminToken: string | undefined;
  /** Seed the demo catalogue into an empty database. */
  seedDemo: boolean;
  logLevel: string;
  /** Origins allowed to call the JSON API from browsers ('*' allows any). */
  corsOrigins: string[];
  /**
   * A request's headers and body must arrive within this long, or it is answered 408 and
   * its connection closed (slow clients cannot hold connections). Default 30 s.
   */
  requestTimeoutMs: number;
  /** The payment provider of the storefront's checkout form (`test` shows TEST MODE). */
  storefrontProvider: string;
  /** Webhook delivery, periodic jobs, attachments, revocation lists (config-operations.ts). */
  operations: OperationsConfig;
  /** Payment webhook secrets and the billing cycle (config-licensing.ts). */
  licensing: LicensingConfig;
  /** The issuance log: checkpoint interval and origin (config-log.ts). */
  log: LogConfig;
  /**
   * The instant (ms) the store's clock starts at, then runs in real time: `serve --now`,
   * development and tests only (config-clock.ts). Undefined: the real clock.
   */
  now: number | undefined;
  /** Vendors' payouts, invoices and tax (config-marketplace.ts). */
  marketplace: MarketplaceConfig;
}

export interface ConfigInput {
  dataDir?: string | undefined;
  vendor?: string | undefined;
  databaseUrl?: string | undefined;
  host?: string | undefined;
  port?: number | undefined;
  publicUrl?: string | undefined;
  adminToken?: string | undefined;
  seedDemo?: boolean | undefined;
  logLevel?: string | undefined;
  corsOrigins?: string[] | undefined;
  requestTimeoutMs?: number | undefined;
  storefrontProvider?: string | undefined;
  operations?: OperationsInput | undefined;
  licensing?: LicensingInput | undefined;
  log?: LogInput | undefined;
  /** A pretend clock's start, ms (config-clock.ts); refused in production and off loopback. */
  now?: number | undefined;
  marketplace?: MarketplaceInput | undefined;
}

export class ConfigurationError extends Error {
  readonly code = 'ERR_STORE_CONFIG';
}

export function loadConfig(
  input: ConfigInput = {},
  env: NodeJS.ProcessEnv = process.env,
): StoreConfig {
  const port = input.port ?? (env.PORT !== undefined ? Number(env.PORT) : 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ConfigurationError(`port must be 0-65535 (got ${String(input.port ?? env.PORT)})`);
  }
  const host = input.host ?? env.HOST ?? '127.0.0.1';
  const databaseUrl = input.databaseUrl ?? (env.DATABASE_URL || undefined);
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigurationError('DATABASE_URL must be a postgres:// URL');
  }
  const displayHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  const licensing = licensingConfig(input.licensing, env);
  return {
    dataDir: resolve(input.dataDir ?? env.LICENSEKIT_DATA ?? '.licensekit'),
    vendor: input.vendor ?? env.LICENSEKIT_VENDOR ?? 'acme',
    databaseUrl,
    host,
    port,
    publicUrl: (
      input.publicUrl ??
      env.LICENSEKIT_PUBLIC_URL ??
      `http://${displayHost}:${port}`
    ).replace(/\/+$/, ''),
    adminToken: input.adminToken ?? (env.LICENSEKIT_ADMIN_TOKEN || undefined),
    seedDemo: input.seedDemo ?? env.LICENSEKIT_SEED_DEMO !== 'false',
    logLevel: input.logLevel ?? env.LOG_LEVEL ?? 'info',
    corsOrigins:
      input.corsOrigins ??
      (env.LICENSEKIT_CORS_ORIGINS ? env.LICENSEKIT_CORS_ORIGINS.split(',') : ['*']),
    requestTimeoutMs: positiveMs(
      'request timeout',
      input.requestTimeoutMs ??
        (env.LICENSEKIT_REQUEST_TIMEOUT_MS ? Number(env.LICENSEKIT_REQUEST_TIMEOUT_MS) : 30_000),
    ),
    storefrontProvider: storefrontProvider(
      input.storefrontProvider ?? (env.LICENSEKIT_STOREFRONT_PROVIDER || undefined),
      licensing,
    ),
    operations: operationsConfig(input.operations, env),
    licensing,
    log: logConfig(input.log, env),
    now: pretendNow({ now: input.now }, host, env),
    marketplace: marketplaceConfig(input.marketplace, env),
  };
}

/**
 * The provider the storefront sells through: as set, else `test` while test payments are
 * on, else Stripe when configured, else `manual` (orders wait for an admin). A storefront
 * set to `test` on a store whose test payments are off would hand out free licenses: refused.
 */
function storefrontProvider(name: string | undefined, licensing: LicensingConfig): string {
  const chosen = name ?? (licensing.testPayments ? 'test' : licensing.stripe ? 'stripe' : 'manual');
  if (chosen === 'test' && !licensing.testPayments) {
    throw new ConfigurationError(
      'the storefront sells through the test provider, but test payments are off (LICENSEKIT_TEST_PAYMENTS)',
    );
  }
  return chosen;
}

function positiveMs(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0)
    throw new ConfigurationError(`${name} must be a positive number of milliseconds`);
  return value;
}
