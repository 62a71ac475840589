import type { FastifyBaseLogger } from 'fastify';
import type { StoreConfig } from '../config.js';
import type { Db } from '../db/client.js';
import type { Clock } from '../lib/clock.js';
import type { StoreKeys } from '../lib/keys.js';
import type { Secrets } from '../lib/secrets.js';

/** What every service is built over: the store's external things, no HTTP. */
export interface StoreContext {
  config: StoreConfig;
  db: Db;
  clock: Clock;
  keys: StoreKeys;
  secrets: Secrets;
  log: FastifyBaseLogger;
}
