import type { CatalogueRepository } from './repositories/catalogue.js';
import type { PlanInput, ProductInput } from './schemas/catalogue.js';

/**
 * The demo catalogue seeded into an empty store: one product of each model the store
 * supports — a free plan, a monthly plan with a 14-day trial, a monthly quota and
 * entitlements (also offered yearly), a yearly per-seat team plan, a lifetime plan, and a download pack
 * metered by count.
 */
export const DEMO_CATALOGUE: { product: ProductInput; plans: PlanInput[] }[] = [
  {
    product: {
      id: 'photon',
      name: 'Photon',
      description:
        'A photo editor that works offline. Its license is checked on your machine, with no network.',
    },
    plans: [
      {
        id: 'free',
        name: 'Free',
        description: 'Basic filters and 10 exports a month.',
        price: { amount: 0, currency: 'USD' },
        interval: 'month',
        quotas: { exports: { limit: 10, per: 'month' } },
        entitlements: ['basic-filters'],
        seats: 1,
        position: 0,
      },
      {
        id: 'pro-monthly',
        name: 'Pro',
        description:
          'RAW import, 4K export, batch processing and 1,000 exports a month. 14-day free trial.',
        price: { amount: 1500, currency: 'USD' },
        interval: 'month',
        trialDays: 14,
        quotas: { exports: { limit: 1000, per: 'month' } },
        entitlements: ['basic-filters', 'raw-import', 'export-4k', 'batch'],
        seats: 2,
        position: 1,
      },
      {
        // The Pro offer billed yearly: two months free. The storefront shows it as Pro's
        // yearly choice, and a Pro license may switch cycles (services/billing-cycles.ts).
        id: 'pro-yearly',
        name: 'Pro',
        description:
          'RAW import, 4K export, batch processing and 1,000 exports a month, billed yearly. 14-day free trial.',
        price: { amount: 15000, currency: 'USD' },
        interval: 'year',
        trialDays: 14,
        quotas: { exports: { limit: 1000, per: 'month' } },
        entitlements: ['basic-filters', 'raw-import', 'export-4k', 'batch'],
        seats: 2,
        position: 1,
        yearlyOf: 'pro-monthly',
      },
      {
        id: 'team-yearly',
        name: 'Team',
        description:
          'Everything in Pro plus shared presets, unlimited exports; priced per seat, billed yearly.',
        price: { amount: 12000, currency: 'USD' },
        interval: 'year',
        perSeat: true,
        seats: 5,
        quotas: { exports: { unlimited: true } },
        entitlements: ['basic-filters', 'raw-import', 'export-4k', 'batch', 'shared-presets'],
        position: 2,
      },
      {
        id: 'lifetime',
        name: 'Lifetime',
        description: 'Pro features forever, for one payment.',
        price: { amount: 24900, currency: 'USD' },
        interval: 'once',
        termDays: null,
        quotas: { exports: { limit: 1000, per: 'month' } },
        entitlements: ['basic-filters', 'raw-import', 'export-4k', 'batch'],
        seats: 2,
        position: 3,
      },
    ],
  },
  {
    product: {
      id: 'photon-presets',
      name: 'Photon Preset Packs',
      description:
        'Download preset packs for Photon. Each pack lets you download 50 presets within a year.',
    },
    plans: [
      {
        id: 'pack-50',
        name: '50 downloads',
        description: '50 preset downloads, valid for a year.',
        price: { amount: 1900, currency: 'USD' },
        interval: 'once',
        termDays: 365,
        quotas: { downloads: { limit: 50 } },
        entitlements: ['presets'],
        seats: 1,
        position: 0,
      },
    ],
  },
];

/** Seeds the demo catalogue when the store has no products yet. Returns whether it did. */
export async function seedDemoCatalogue(catalogue: CatalogueRepository): Promise<boolean> {
  if ((await catalogue.listProducts()).length > 0) return false;
  for (const { product, plans } of DEMO_CATALOGUE) {
    await catalogue.upsertProduct(product);
    for (const plan of plans) await catalogue.upsertPlan(product.id, plan);
  }
  return true;
}
