/**
 * Billing cycles (issue 10): a plan may be offered monthly and yearly. Plans stay
 * single-interval; a yearly plan names the monthly plan of the same product it is the
 * yearly price of (`yearly_of`), so the pair is one offer billed two ways. A license's
 * cycle is its plan's interval: every path that prices, renews or issues by plan works
 * unchanged. Append only like every migration.
 */
export const billingCycles = `
ALTER TABLE plans ADD COLUMN yearly_of text;
-- The monthly twin is a plan of the same product (checked again, with the interval, by
-- services/billing-cycles.ts checkYearlyLink before a write).
ALTER TABLE plans ADD CONSTRAINT plans_yearly_of_fk
  FOREIGN KEY (product_id, yearly_of) REFERENCES plans (product_id, id);
ALTER TABLE plans ADD CONSTRAINT plans_yearly_of_shape
  CHECK (yearly_of IS NULL OR (yearly_of <> id AND interval = 'year'));
-- One yearly price per monthly plan: a cycle switch has exactly one target.
CREATE UNIQUE INDEX plans_one_yearly_twin ON plans (product_id, yearly_of) WHERE yearly_of IS NOT NULL;
`;
