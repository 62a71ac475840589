import { initial } from './0001_initial.js';
import { licensing } from './0002_licensing.js';
import { operations } from './0003_operations.js';
import { keyGuesses } from './0004_key_guesses.js';
import { issuanceLog } from './0005_issuance_log.js';
import { mail } from './0006_mail.js';
import { offlineRequests } from './0007_offline_requests.js';
import { logQueueByHash } from './0008_log_queue_by_hash.js';
import { adminScreen } from './0009_admin_screen.js';
import { marketplace } from './0010_marketplace.js';
import { vendorTenancy } from './0011_vendor_tenancy.js';
import { billingCycles } from './0012_billing_cycles.js';
import { refundOutcomes } from './0014_refund_outcomes.js';
import { vendorSessions } from './0015_vendor_sessions.js';
import { stripePaymentMethods } from './0016_stripe_payment_methods.js';
import { logEntriesByReference } from './0017_log_entries_by_reference.js';
import { paymentPages } from './0018_payment_pages.js';
import { logSequenceSkipsTokens } from './0019_log_sequence_skips_tokens.js';

/**
 * Migrations in order. Applied at start, each once, in a transaction, under an advisory
 * lock so several instances starting together never race. Append only: never edit one
 * that has shipped.
 */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  { version: 1, name: 'initial', sql: initial },
  { version: 2, name: 'licensing', sql: licensing },
  { version: 3, name: 'operations', sql: operations },
  { version: 4, name: 'key_guesses', sql: keyGuesses },
  { version: 5, name: 'issuance_log', sql: issuanceLog },
  { version: 6, name: 'mail', sql: mail },
  { version: 7, name: 'offline_requests', sql: offlineRequests },
  { version: 8, name: 'log_queue_by_hash', sql: logQueueByHash },
  { version: 9, name: 'admin_screen', sql: adminScreen },
  { version: 10, name: 'marketplace', sql: marketplace },
  { version: 11, name: 'vendor_tenancy', sql: vendorTenancy },
  { version: 12, name: 'billing_cycles', sql: billingCycles },
  { version: 14, name: 'refund_outcomes', sql: refundOutcomes },
  { version: 15, name: 'vendor_sessions', sql: vendorSessions },
  { version: 16, name: 'stripe_payment_methods', sql: stripePaymentMethods },
  { version: 17, name: 'log_entries_by_reference', sql: logEntriesByReference },
  { version: 18, name: 'payment_pages', sql: paymentPages },
  { version: 19, name: 'log_sequence_skips_tokens', sql: logSequenceSkipsTokens },
];
