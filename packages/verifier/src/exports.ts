/** The public surface of the full entry besides `createVerifier` (src/index.ts). */

export type { DeviceKey } from './device/device-key.js';
// Making a device key is in the entry `@licensekit/verifier/device` (src/device.ts).
export { deviceProof, signWithDevice } from './device/device-key.js';
export type { LedgerEntry } from './ledger.js';
export type { NotLoggedReason } from './log-messages.js';
export type { RefreshOptions, RefreshOutcome } from './refresh.js';
export { LOG_PROOF_PATH, REFRESH_PATH } from './refresh.js';
export type { PendingChangeView, QuotaStatus, VerifyResult, VerifyStatus } from './result.js';
export { isValidStatus, STATUSES } from './result.js';
export type { RevocationUpdate } from './revocation-registry.js';
export { memoryState } from './state/memory.js';
export type {
  AcceptedToken,
  QuotaUsage,
  StateData,
  StateStore,
  Transition,
} from './state/state.js';
export type { AsyncKeyValue, WebStorageLike } from './state/web-storage.js';
export { keyValueState, webStorageState } from './state/web-storage.js';
export type { TrustOptions } from './trust.js';
export type {
  CheckOptions,
  ConsumeResult,
  LogProof,
  UsageReport,
  UsageReportOutcome,
  Verifier,
  VerifierOptions,
} from './types.js';
export { USAGE_REPORT_TYPE } from './types.js';
