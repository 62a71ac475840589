import type { PaymentProvider } from './provider.js';

/**
 * The manual provider (invoices, bank transfers): a charge stays pending until an admin
 * marks the order paid (`markOrderPaid`, the admin API and `licensekit orders mark-paid`).
 * Until then the license answers 402 with a checkout link.
 */
export const manualProvider: PaymentProvider = {
  name: 'manual',
  test: false,
  async charge() {
    return { status: 'pending' };
  },
};
