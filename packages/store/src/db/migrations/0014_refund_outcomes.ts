/**
 * Partial refunds and chargebacks (issue 10): each refunds row keeps who asked for it and
 * what the payment processor did with it, so the operator sees a refund the processor
 * refused and a processor's own refund report is recognised as one the store already
 * booked. Append only like every migration.
 */
export const refundOutcomes = `
-- 'admin' (admin API or screen) or 'processor' (a processor's webhook reported it).
ALTER TABLE refunds ADD COLUMN source text NOT NULL DEFAULT 'admin'
  CHECK (source IN ('admin', 'processor'));
ALTER TABLE refunds ADD COLUMN actor text NOT NULL DEFAULT '';
-- What the processor did: 'sent' (it accepted the refund), 'failed' (the operator must
-- return the money by hand or retry there), 'none' (nothing to send: a test or manual
-- order, a chargeback, or a refund the processor itself reported); null while unknown.
ALTER TABLE refunds ADD COLUMN provider_status text
  CHECK (provider_status IN ('sent', 'failed', 'none'));
-- The processor's reference of the refund; one per order, so its report is booked once.
ALTER TABLE refunds ADD COLUMN provider_ref text;
-- Why the processor refused, as it said it (never a secret: the store's own words).
ALTER TABLE refunds ADD COLUMN provider_error text;
CREATE UNIQUE INDEX refunds_provider_ref ON refunds (order_id, provider_ref)
  WHERE provider_ref IS NOT NULL;
`;
