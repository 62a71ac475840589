import type { Queryable } from '../db/client.js';
import { newId } from '../lib/ids.js';

export interface CustomerRecord {
  id: string;
  email: string;
  createdAt: Date;
}

interface CustomerRow {
  id: string;
  email: string;
  created_at: Date;
}

export function customersRepository(db: Queryable) {
  return {
    /**
     * The customer with this (already normalised) email, created if new. The row stays
     * locked until the caller's transaction ends, which serialises checkouts of one
     * customer (the trial rule reads their orders under that lock).
     */
    async upsertByEmail(email: string, at: Date): Promise<CustomerRecord> {
      const [row] = await db.query<CustomerRow>(
        `INSERT INTO customers (id, email, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email
         RETURNING id, email, created_at`,
        [newId('cus'), email, at],
      );
      return { id: row!.id, email: row!.email, createdAt: row!.created_at };
    },

    async byId(id: string): Promise<CustomerRecord | undefined> {
      const [row] = await db.query<CustomerRow>(
        'SELECT id, email, created_at FROM customers WHERE id = $1',
        [id],
      );
      return row ? { id: row.id, email: row.email, createdAt: row.created_at } : undefined;
    },
  };
}
