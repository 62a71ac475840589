import type { QuotaSpec } from '@licensekit/core';
import type { Queryable } from '../db/client.js';
import type { Plan, PlanInput, Product, ProductInput } from '../schemas/catalogue.js';

/** A row of `plans` as PLAN_COLUMNS selects it. */
export interface PlanRow {
  product_id: string;
  id: string;
  name: string;
  description: string;
  price_minor: number;
  currency: string;
  interval: 'month' | 'year' | 'once';
  term_days: number | null;
  trial_days: number;
  per_seat: boolean;
  seats: number;
  quotas: Record<string, QuotaSpec>;
  entitlements: string[];
  grace_days: number;
  /** A yearly plan's monthly twin (migration 0012): the same offer billed monthly. */
  yearly_of: string | null;
}

interface ProductRow {
  id: string;
  name: string;
  description: string;
}

export const PLAN_COLUMNS = `product_id, id, name, description, price_minor, currency, interval, term_days,
  trial_days, per_seat, seats, quotas, entitlements, grace_days, yearly_of`;

export function toPlan(row: PlanRow): Plan {
  return {
    id: row.id,
    productId: row.product_id,
    name: row.name,
    description: row.description,
    price: { amount: Number(row.price_minor), currency: row.currency },
    interval: row.interval,
    termDays: row.term_days,
    trialDays: row.trial_days,
    perSeat: row.per_seat,
    seats: row.seats,
    quotas: row.quotas as Plan['quotas'],
    entitlements: row.entitlements,
    graceDays: row.grace_days,
    free: Number(row.price_minor) === 0,
    ...(row.yearly_of !== null && { yearlyOf: row.yearly_of }),
  };
}

/** Products and plans. Plans are listed in their position order, then by price. */
export function catalogueRepository(db: Queryable, publicUrl: string) {
  const productUrl = (id: string) => `${publicUrl}/products/${id}`;

  async function plansOf(productIds: string[]): Promise<Map<string, Plan[]>> {
    const rows = await db.query<PlanRow>(
      `SELECT ${PLAN_COLUMNS} FROM plans WHERE active AND product_id = ANY($1::text[])
        ORDER BY position, price_minor, id`,
      [productIds],
    );
    const byProduct = new Map<string, Plan[]>();
    for (const row of rows) {
      const list = byProduct.get(row.product_id) ?? [];
      list.push(toPlan(row));
      byProduct.set(row.product_id, list);
    }
    return byProduct;
  }

  return {
    async listProducts(): Promise<Product[]> {
      const products = await db.query<ProductRow>(
        'SELECT id, name, description FROM products ORDER BY name, id',
      );
      const plans = await plansOf(products.map((p) => p.id));
      return products.map((p) => ({ ...p, url: productUrl(p.id), plans: plans.get(p.id) ?? [] }));
    },

    async getProduct(id: string): Promise<Product | undefined> {
      const [product] = await db.query<ProductRow>(
        'SELECT id, name, description FROM products WHERE id = $1',
        [id],
      );
      if (!product) return undefined;
      const plans = await plansOf([id]);
      return { ...product, url: productUrl(id), plans: plans.get(id) ?? [] };
    },

    async getPlan(productId: string, planId: string): Promise<Plan | undefined> {
      const [row] = await db.query<PlanRow>(
        `SELECT ${PLAN_COLUMNS} FROM plans WHERE product_id = $1 AND id = $2`,
        [productId, planId],
      );
      return row ? toPlan(row) : undefined;
    },

    /** The product's free plan (price 0), the fallback after a cancellation. */
    async freePlan(productId: string): Promise<Plan | undefined> {
      const [row] = await db.query<PlanRow>(
        `SELECT ${PLAN_COLUMNS} FROM plans WHERE product_id = $1 AND active AND price_minor = 0
          ORDER BY position, id LIMIT 1`,
        [productId],
      );
      return row ? toPlan(row) : undefined;
    },

    async upsertProduct(input: ProductInput): Promise<void> {
      await db.query(
        `INSERT INTO products (id, name, description) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description`,
        [input.id, input.name, input.description ?? ''],
      );
    },

    async upsertPlan(productId: string, input: PlanInput): Promise<void> {
      await db.query(
        `INSERT INTO plans (product_id, id, name, description, price_minor, currency, interval, term_days,
            trial_days, per_seat, seats, quotas, entitlements, grace_days, position, yearly_of)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
         ON CONFLICT (product_id, id) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description,
           price_minor = EXCLUDED.price_minor, currency = EXCLUDED.currency, interval = EXCLUDED.interval,
           term_days = EXCLUDED.term_days, trial_days = EXCLUDED.trial_days, per_seat = EXCLUDED.per_seat,
           seats = EXCLUDED.seats, quotas = EXCLUDED.quotas, entitlements = EXCLUDED.entitlements,
           grace_days = EXCLUDED.grace_days, position = EXCLUDED.position, active = true,
           -- yearlyOf absent keeps the link (forms that do not show it), null removes it.
           yearly_of = CASE WHEN $17 THEN EXCLUDED.yearly_of ELSE plans.yearly_of END`,
        [
          productId,
          input.id,
          input.name,
          input.description ?? '',
          input.price.amount,
          input.price.currency,
          input.interval,
          input.interval === 'once' ? (input.termDays ?? null) : null,
          input.trialDays ?? 0,
          input.perSeat ?? false,
          input.seats ?? 1,
          JSON.stringify(input.quotas ?? {}),
          JSON.stringify(input.entitlements ?? []),
          input.graceDays ?? 7,
          input.position ?? 0,
          input.yearlyOf ?? null,
          input.yearlyOf !== undefined,
        ],
      );
    },

    async deactivatePlan(productId: string, planId: string): Promise<boolean> {
      const rows = await db.query(
        'UPDATE plans SET active = false WHERE product_id = $1 AND id = $2 RETURNING id',
        [productId, planId],
      );
      return rows.length > 0;
    },
  };
}

export type CatalogueRepository = ReturnType<typeof catalogueRepository>;
