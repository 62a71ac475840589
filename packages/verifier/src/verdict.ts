import type { FullOnlyStatus } from './messages.js';
import { STATUS_MESSAGES } from './messages.js';
import type { VerifyStatus } from './result.js';

/** A check that decided the outcome: a status, its stable reason and a sentence. */
export class Verdict {
  readonly message: string;
  /** The statuses that need the state or a log proof name their message (messages.ts). */
  constructor(status: Exclude<VerifyStatus, FullOnlyStatus>, reason: string, message?: string);
  constructor(status: FullOnlyStatus, reason: string, message: string);
  constructor(
    readonly status: VerifyStatus,
    readonly reason: string,
    message?: string,
  ) {
    this.message = message ?? STATUS_MESSAGES[status as Exclude<VerifyStatus, FullOnlyStatus>];
  }
}
