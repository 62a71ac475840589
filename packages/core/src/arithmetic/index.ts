/** Pure license arithmetic: status over time, quota periods and windows, proration. */

export {
  holidayDays,
  isBusinessDay,
  MAX_HOLD_BUSINESS_DAYS,
  payableAt,
} from './business-days.js';
export type { LedgerAccount, LedgerLine } from './ledger.js';
export { balances, paymentLines, payoutLines, refundLines } from './ledger.js';
export type { Period, PeriodUnit } from './periods.js';
export { periodAt, periodAtUnchecked, periodStart } from './periods.js';
export type { ProrationInput } from './proration.js';
export { prorate } from './proration.js';
export type { Consumption, QuotaSpec, QuotaWindow } from './quota.js';
export {
  quotaRemaining,
  quotaRemainingUnchecked,
  quotaWindow,
  quotaWindowUnchecked,
  tryConsume,
} from './quota.js';
export type { RefundSplitInput, RevenueSplit } from './revenue-share.js';
export {
  BASIS_POINTS,
  DEFAULT_VENDOR_SHARE_BPS,
  requireShareBps,
  splitRefund,
  splitRevenue,
} from './revenue-share.js';
export { splitIncludedTax } from './tax.js';
export type { TimeClaims, TimeStatus } from './timeline.js';
// The *Unchecked forms skip re-validating inputs a validated LicenseClaims and a
// range-checked clock already guarantee: the verifier's per-call path, and its bundle.
export {
  graceEndsAt,
  graceEndsAtUnchecked,
  timeStatus,
  timeStatusRank,
  timeStatusUnchecked,
} from './timeline.js';
