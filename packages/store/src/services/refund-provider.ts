import type { StoreConfig } from '../config.js';
import type { Db } from '../db/client.js';
import { newId } from '../lib/ids.js';
import { paymentProvider } from '../payments/provider.js';
import type { StoreContext } from './context.js';

/**
 * Step 2 of a refund (services/order-refunds.ts): after the refund committed, the order's
 * payment provider returns the money, and what it did is kept on the refunds row. A
 * processor that refuses leaves the refund booked; its message is kept, logged and
 * answered with anything shaped like a credential masked.
 */

/** What became of the money at the processor. */
export type ProviderRefundStatus = 'sent' | 'failed' | 'none';

/** A booked refund as the provider needs it. */
export interface ProviderRefundJob {
  orderId: string;
  /** Null for an order paid before the ledger (nothing booked, nothing to note on). */
  refundId: string | null;
  kind: 'refund' | 'chargeback';
  amount: number;
  currency: string;
  provider: string;
  /** The processor's reference of the order's payment. */
  providerRef: string | null;
}

/**
 * True when the refund goes to the order's provider: a refund (not a chargeback: the
 * processor took the money already) that the processor did not report itself, through a
 * provider with a refund call (the test provider moved no money; manual is by hand).
 */
export function refundGoesToProvider(
  config: StoreConfig,
  provider: string,
  kind: 'refund' | 'chargeback',
  reportedByProcessor: boolean,
): boolean {
  if (kind !== 'refund' || reportedByProcessor) return false;
  return typeof paymentProvider(config, provider)?.refund === 'function';
}

/** Sends a booked refund to its provider; never throws for the provider's refusal. */
export async function sendProviderRefund(
  ctx: StoreContext,
  job: ProviderRefundJob,
  reason: string,
): Promise<{ status: ProviderRefundStatus; error?: string }> {
  const provider = paymentProvider(ctx.config, job.provider);
  if (!provider?.refund) return { status: 'none' };
  const refundId = job.refundId ?? newId('ref');
  try {
    const answer = await provider.refund({
      orderId: job.orderId,
      reference: job.providerRef,
      refundId,
      amount: job.amount,
      currency: job.currency,
      reason,
    });
    await saveProviderOutcome(ctx.db, job.refundId, 'sent', answer?.reference ?? null, null);
    return { status: 'sent' };
  } catch (error) {
    const message = redact(error instanceof Error ? error.message : String(error));
    // The refund stays booked: the operator returns the money at the processor by hand.
    ctx.log.warn(
      { order: job.orderId, refund: refundId, provider: job.provider, error: message },
      'the payment provider refused a refund; it stays booked, return the money by hand',
    );
    await saveProviderOutcome(ctx.db, job.refundId, 'failed', null, message);
    return { status: 'failed', error: message };
  }
}

async function saveProviderOutcome(
  db: Db,
  refundId: string | null,
  status: ProviderRefundStatus,
  reference: string | null,
  error: string | null,
): Promise<void> {
  if (refundId === null) return;
  try {
    await db.query(
      `UPDATE refunds SET provider_status = $2, provider_ref = COALESCE($3, provider_ref),
              provider_error = $4 WHERE id = $1`,
      [refundId, status, reference, error],
    );
  } catch {
    // A reference another refund of the order already has (refunds_provider_ref) changes
    // nothing worth failing for: the refund is booked and the answer says what was done.
  }
}

/**
 * A processor's message, shortened and with anything shaped like a credential masked
 * (API keys such as sk_live_…, webhook secrets, bearer tokens, license keys): it goes to
 * the log, the refunds row and the operator's answer.
 */
export function redact(message: string): string {
  return message
    .replace(/\b(?:sk|rk|pk|whsec)_[A-Za-z0-9_]+/g, '[redacted]')
    .replace(/\bBearer\s+\S+/gi, 'Bearer [redacted]')
    .replace(/\bLK-[0-9A-Z-]{8,}/g, '[redacted]')
    .slice(0, 300);
}
