import { holidayDays, requireShareBps } from '@licensekit/core';
import { ConfigurationError } from './config.js';

/** The marketplace's settings (README "Marketplace"). */
export interface MarketplaceConfig {
  /** UTC dates (YYYY-MM-DD) that do not count as business days: LICENSEKIT_HOLIDAYS. */
  holidays: string[];
  /** The same holidays as day numbers, parsed once (every booking computes a hold end). */
  holidayDays: ReadonlySet<number>;
  /**
   * Invoice numbers run without gaps per store (`store`, the default: INV-000001 …) or per
   * vendor (`vendor`: INV-<vendor>-000001 …): LICENSEKIT_INVOICE_NUMBERING.
   */
  invoiceNumbering: 'store' | 'vendor';
  /** Tax included in every price, basis points (0 by default): LICENSEKIT_TAX_RATE_BPS. */
  taxRateBps: number;
  /** Name printed as the store on invoices: LICENSEKIT_STORE_NAME. */
  storeName: string;
}

export interface MarketplaceInput {
  holidays?: string[] | undefined;
  invoiceNumbering?: 'store' | 'vendor' | undefined;
  taxRateBps?: number | undefined;
  storeName?: string | undefined;
}

export function marketplaceConfig(
  input: MarketplaceInput = {},
  env: NodeJS.ProcessEnv = process.env,
): MarketplaceConfig {
  const holidays =
    input.holidays ??
    (env.LICENSEKIT_HOLIDAYS ?? '')
      .split(',')
      .map((date) => date.trim())
      .filter(Boolean);
  const numbering = input.invoiceNumbering ?? env.LICENSEKIT_INVOICE_NUMBERING ?? 'store';
  const taxRateBps =
    input.taxRateBps ?? (env.LICENSEKIT_TAX_RATE_BPS ? Number(env.LICENSEKIT_TAX_RATE_BPS) : 0);
  let days: ReadonlySet<number>;
  try {
    days = holidayDays(holidays);
    requireShareBps(taxRateBps, 'LICENSEKIT_TAX_RATE_BPS');
  } catch (error) {
    throw new ConfigurationError((error as Error).message);
  }
  if (numbering !== 'store' && numbering !== 'vendor') {
    throw new ConfigurationError('LICENSEKIT_INVOICE_NUMBERING is "store" or "vendor"');
  }
  return {
    holidays,
    holidayDays: days,
    invoiceNumbering: numbering,
    taxRateBps,
    storeName: input.storeName ?? env.LICENSEKIT_STORE_NAME ?? 'licensekit store',
  };
}
