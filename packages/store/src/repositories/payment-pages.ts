import type { Queryable } from '../db/client.js';

/**
 * The processor's payment page opened for each order (migration 0018). Whether a page can
 * still be paid is the order's business (services/owed-payment.ts): a row only says where
 * it is.
 */
export function paymentPagesRepository(db: Queryable) {
  return {
    /** Where the order's page is, if one was opened. */
    async urlOf(orderId: string): Promise<string | undefined> {
      const [row] = await db.query<{ url: string }>(
        'SELECT url FROM payment_pages WHERE order_id = $1',
        [orderId],
      );
      return row?.url;
    },

    /**
     * Keeps the page opened for an order; the first one kept wins (two requests opening it
     * at once got the same session from the processor's idempotency key).
     */
    async remember(orderId: string, url: string, at: Date): Promise<string> {
      const [row] = await db.query<{ url: string }>(
        `WITH added AS (
           INSERT INTO payment_pages (order_id, url, opened_at) VALUES ($1, $2, $3)
           ON CONFLICT (order_id) DO NOTHING RETURNING url)
         SELECT url FROM added
         UNION ALL SELECT url FROM payment_pages WHERE order_id = $1
         LIMIT 1`,
        [orderId, url, at],
      );
      return row?.url ?? url;
    },
  };
}
