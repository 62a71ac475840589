import type { Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import type { CustomerRecord } from '../repositories/customers.js';
import { customersRepository } from '../repositories/customers.js';

/** Customers are identified by their email address, compared case-insensitively. */
export function normaliseEmail(email: string): string {
  const normalised = email.trim().toLowerCase();
  if (normalised.length > 254 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(normalised)) {
    throw new StoreError('BAD_REQUEST', 'The email address is not valid.');
  }
  return normalised;
}

/**
 * The customer with this email, created on first purchase. Their row stays locked until
 * the transaction ends, so two checkouts of one customer run one after the other.
 */
export async function findOrCreateCustomer(
  tx: Queryable,
  email: string,
  now: Date,
): Promise<CustomerRecord> {
  return customersRepository(tx).upsertByEmail(normaliseEmail(email), now);
}
