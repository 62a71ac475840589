import { randomBytes } from 'node:crypto';
import type { PaymentProvider } from './provider.js';

/**
 * The test provider: every charge is paid at once and no money moves. Orders and licenses
 * bought through it are marked `test: true` in the database, in every API response and
 * on the pages, so a test purchase is never mistaken for a sale.
 */
export const testProvider: PaymentProvider = {
  name: 'test',
  test: true,
  async charge() {
    return { status: 'paid', reference: `test_${randomBytes(12).toString('hex')}` };
  },
};
