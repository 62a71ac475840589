import { STATUS_MESSAGES } from './messages.js';
import type { VerifyStatus } from './result.js';

/** A check that decided the outcome: a status, its stable reason and a sentence. */
export class Verdict {
  constructor(
    readonly status: VerifyStatus,
    readonly reason: string,
    readonly message: string = STATUS_MESSAGES[status],
  ) {}
}
