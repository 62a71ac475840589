/**
 * Off-session charges through Stripe: the card a customer saved at their first Stripe
 * Checkout pays their renewals and plan changes later. Only Stripe's ids are kept (the
 * Customer `cus_…` and PaymentMethod `pm_…`), never card data. One row per store
 * customer: the latest payment saved wins. Append only like every migration.
 */
export const stripePaymentMethods = `
CREATE TABLE stripe_payment_methods (
  customer_id text PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
  stripe_customer text NOT NULL,
  payment_method text NOT NULL,
  -- The Checkout order that saved it (which payment the customer agreed to reuse).
  order_id text NOT NULL,
  updated_at timestamptz NOT NULL
);
`;
