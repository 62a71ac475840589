/**
 * @licensekit/store: the reference store server. `startStore` runs it; `buildStore`
 * builds it without listening (tests, embedding).
 */

export type { BuildOptions } from './build.js';
export { buildStore, REDACTED_HEADERS } from './build.js';
export type { ConfigInput, StoreConfig } from './config.js';
export { ConfigurationError, loadConfig } from './config.js';
export type { Db, Queryable } from './db/client.js';
export { DatabaseOpenError, openPglite, openPostgres } from './db/client.js';
export type { DirectoryLock, LockOwner } from './db/directory-lock.js';
export { DirectoryLockedError, lockDirectory } from './db/directory-lock.js';
export type { ErrorCode } from './errors.js';
export { ERROR_CODES, StoreError } from './errors.js';
export type { Clock } from './lib/clock.js';
export { ManualClock, systemClock } from './lib/clock.js';
export { DEMO_CATALOGUE } from './seed.js';
export type { RunningStore } from './server.js';
export { startStore } from './server.js';
