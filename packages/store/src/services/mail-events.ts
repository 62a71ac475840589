import type { Queryable } from '../db/client.js';
import type { MailKind } from './mail-outbox.js';
import { queueMail } from './mail-outbox.js';

/**
 * The customer's e-mail for a webhook event: called by emitEvent (services/events.ts) in the
 * same transaction, so every place that tells the vendor also tells the customer, once
 * (emitOnce's notifications row guards both), and a rolled-back change sends neither.
 * Events the customer has no mail for (license.created — the receipt covers it, renewals,
 * quota.exhausted and quota.overused, a withdrawn change) queue nothing.
 */
export async function queueEventMail(
  tx: Queryable,
  type: string,
  data: Record<string, unknown>,
  at: Date,
): Promise<void> {
  const kind = mailKindOf(type, data, at);
  const customerId = data.customerId;
  if (kind === undefined || typeof customerId !== 'string') return;
  await queueMail(tx, { kind, customerId, data: { ...data, event: type } }, at);
}

/** Which mail an event is, if any. A plan change is "scheduled" while its time is ahead. */
export function mailKindOf(
  type: string,
  data: Record<string, unknown>,
  at: Date,
): MailKind | undefined {
  switch (type) {
    case 'license.expiring_soon':
      return 'expiring_soon';
    case 'quota.low':
      return 'quota_low';
    case 'license.payment_failed':
      return 'payment_failed';
    case 'license.key_replaced':
      return 'key_replaced';
    case 'license.plan_changed':
    case 'license.cancelled': {
      if (data.kind === 'undo') return undefined;
      const effective = typeof data.effectiveAt === 'string' ? Date.parse(data.effectiveAt) : NaN;
      return effective > at.getTime() ? 'plan_change_scheduled' : 'plan_change_applied';
    }
    default:
      return undefined;
  }
}
