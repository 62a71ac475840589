import { StoreError } from '../errors.js';
import type { PendingChangeRecord } from '../repositories/licenses.js';
import type { PendingChangeView } from './licensing.js';
import { pendingChangeView } from './licensing.js';

/**
 * The scheduled change as the customer saw it, sent back with the confirmation: the
 * portal refuses a confirmation whose value is not the change scheduled now, so a change
 * scheduled meanwhile (another tab, the billing cycle) is never replaced unseen.
 */
export function scheduledChangeToken(change: PendingChangeView): string {
  return [change.kind, change.at, change.plan ?? '', change.seats ?? ''].join('|');
}

/**
 * The change a confirmation would replace is no longer the one the customer was shown.
 * Thrown inside the change's transaction, after the license is locked, so nothing of the
 * change is kept; the portal catches it and shows the page again to be confirmed again.
 */
export class ScheduledChangeMoved extends StoreError {
  constructor() {
    super('CONFLICT', 'The scheduled change is not the one shown: check it and confirm again.');
  }
}

/**
 * Checks, on the locked license, that the change scheduled now is the one the customer
 * saw (`seen`: its token, '' when none was shown). `undefined` checks nothing: API
 * callers name no scheduled change. `ignoreCancel`: a cancellation does not replace a
 * scheduled cancellation, so one scheduled counts as none.
 * @throws ScheduledChangeMoved
 */
export function assertScheduledAsSeen(
  pending: PendingChangeRecord | null,
  seen: string | undefined,
  options: { ignoreCancel?: boolean } = {},
): void {
  if (seen === undefined) return;
  const view = pendingChangeView(pending);
  const scheduled = view && !(options.ignoreCancel && view.kind === 'cancel') ? view : null;
  if ((scheduled ? scheduledChangeToken(scheduled) : '') !== seen) throw new ScheduledChangeMoved();
}
