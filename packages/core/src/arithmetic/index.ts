/** Pure license arithmetic: status over time, quota periods and windows, proration. */

export type { Period, PeriodUnit } from './periods.js';
export { periodAt, periodStart } from './periods.js';
export type { ProrationInput } from './proration.js';
export { prorate } from './proration.js';
export type { Consumption, QuotaSpec, QuotaWindow } from './quota.js';
export { quotaRemaining, quotaWindow, tryConsume } from './quota.js';
export type { TimeClaims, TimeStatus } from './timeline.js';
export { graceEndsAt, timeStatus, timeStatusRank } from './timeline.js';
