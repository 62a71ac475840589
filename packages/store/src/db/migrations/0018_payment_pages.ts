/**
 * The processor's payment page of each order, once opened (services/hosted-checkout.ts):
 * where the customer pays it, kept so that the store sends them back to that very page
 * rather than asking the processor for it again. Asking again replays the first request
 * under the order's idempotency key, and Stripe refuses a replay whose parameters differ
 * (the product renamed since, a card saved by another purchase the same day), which left
 * an order that could not be paid. Append only like every migration.
 */
export const paymentPages = `
CREATE TABLE payment_pages (
  order_id text PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
  url text NOT NULL,
  opened_at timestamptz NOT NULL
);
`;
