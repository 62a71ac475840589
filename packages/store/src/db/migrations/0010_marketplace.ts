/**
 * The marketplace (issue 10): vendors, a double-entry ledger in integer minor units,
 * payouts, and invoices numbered without gaps. Append only like every migration.
 */
export const marketplace = `
-- A vendor sells its products through the store and is paid its share after a hold. The
-- store's own vendor (config "vendor") is created at start; products without a vendor_id
-- belong to it.
CREATE TABLE vendors (
  id text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
  name text NOT NULL,
  -- The vendor's part of each payment in basis points (7500 = 75 %).
  share_bps integer NOT NULL DEFAULT 7500 CHECK (share_bps BETWEEN 0 AND 10000),
  -- Payout hold in business days (weekends and the store's holidays skipped).
  hold_days integer NOT NULL DEFAULT 22 CHECK (hold_days BETWEEN 0 AND 2610),
  -- Seller details printed on invoices (name, address, tax id, e-mail).
  invoice_details jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE products ADD COLUMN vendor_id text REFERENCES vendors(id);

-- Double-entry lines: amount > 0 debit, < 0 credit; the lines of one entry sum to zero
-- (checked by the service and the ledger test). An order has at most one payment entry.
CREATE TABLE ledger_lines (
  id bigserial PRIMARY KEY,
  entry_id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('payment', 'refund', 'chargeback', 'payout')),
  vendor_id text NOT NULL REFERENCES vendors(id),
  order_id text REFERENCES orders(id),
  payout_id text,
  account text NOT NULL CHECK (account IN ('processor_clearing', 'vendor_payable', 'store_fees')),
  amount_minor bigint NOT NULL,
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  -- The vendor's share an order's payment was booked with (its refunds reverse by it).
  share_bps integer CHECK (share_bps BETWEEN 0 AND 10000),
  -- Test-mode money (the test provider, a processor's test mode): paid out apart.
  test boolean NOT NULL DEFAULT false,
  -- When the vendor_payable line may be paid out (the hold); equal to created_at otherwise.
  payable_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX ledger_payment_once ON ledger_lines (order_id, account) WHERE kind = 'payment';
CREATE INDEX ledger_lines_payable ON ledger_lines (vendor_id, test, currency, payable_at)
  WHERE account = 'vendor_payable' AND payout_id IS NULL;
CREATE INDEX ledger_lines_order ON ledger_lines (order_id);

-- What refunds returned per order, so partial refunds can never exceed what was paid.
CREATE TABLE refunds (
  id text PRIMARY KEY,
  order_id text NOT NULL REFERENCES orders(id),
  kind text NOT NULL CHECK (kind IN ('refund', 'chargeback')),
  amount_minor bigint NOT NULL CHECK (amount_minor > 0),
  currency text NOT NULL,
  reason text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL
);
CREATE INDEX refunds_order ON refunds (order_id);

-- A payout run's statement per vendor and currency: pending until confirmed paid.
CREATE TABLE payouts (
  id text PRIMARY KEY,
  vendor_id text NOT NULL REFERENCES vendors(id),
  currency text NOT NULL,
  amount_minor bigint NOT NULL CHECK (amount_minor > 0),
  test boolean NOT NULL DEFAULT false,
  status text NOT NULL CHECK (status IN ('pending', 'paid')),
  -- The run's cut-off: every line payable before it (and not yet paid out) is in here.
  cutoff timestamptz NOT NULL,
  reference text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL,
  paid_at timestamptz
);
CREATE INDEX payouts_vendor ON payouts (vendor_id, created_at);

-- Gap-free numbering: the next number of a series is taken with a row lock in the
-- transaction that issues the document, so a rollback gives the number back.
CREATE TABLE invoice_series (
  series text PRIMARY KEY,
  last_number bigint NOT NULL CHECK (last_number >= 0)
);

-- Issued documents never change (no UPDATE path exists); a refund issues a credit note.
CREATE TABLE invoices (
  id text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
  series text NOT NULL,
  seq bigint NOT NULL,
  number text NOT NULL UNIQUE,
  order_id text NOT NULL REFERENCES orders(id),
  refund_id text REFERENCES refunds(id),
  -- The invoice a credit note corrects.
  corrects text REFERENCES invoices(id),
  vendor_id text NOT NULL REFERENCES vendors(id),
  customer_id text NOT NULL REFERENCES customers(id),
  currency text NOT NULL,
  -- Amounts as issued: total = net + tax; negative on a credit note.
  net_minor bigint NOT NULL,
  tax_rate_bps integer NOT NULL CHECK (tax_rate_bps BETWEEN 0 AND 10000),
  tax_minor bigint NOT NULL,
  total_minor bigint NOT NULL,
  seller jsonb NOT NULL,
  buyer jsonb NOT NULL,
  lines jsonb NOT NULL,
  issued_at timestamptz NOT NULL,
  UNIQUE (series, seq)
);
CREATE UNIQUE INDEX invoices_order_once ON invoices (order_id) WHERE kind = 'invoice';
CREATE INDEX invoices_customer ON invoices (customer_id, issued_at);
CREATE INDEX invoices_vendor ON invoices (vendor_id, issued_at);
`;
