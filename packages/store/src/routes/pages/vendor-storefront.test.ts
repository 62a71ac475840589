import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Product } from '../../schemas/catalogue.js';
import { ADMIN } from '../../testing/fixtures.js';
import type { TestStore } from '../../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../../testing/harness.js';
import { accessibilityProblems, PageClient, tags, textOf } from '../../testing/pages.js';
import { shelvesOf } from './storefront.js';

/** The storefront by vendor: one heading per vendor once there are several, none before. */

describe('shelvesOf: products grouped by seller', () => {
  const product = (id: string) => ({ id, name: id }) as Product;
  test("the store's own vendor first, then by name; the catalogue's order within a shelf", () => {
    const sellers = new Map([
      ['a', { vendorId: 'zed', vendorName: 'Zed' }],
      ['b', { vendorId: 'acme', vendorName: 'Acme' }],
      ['c', { vendorId: 'zed', vendorName: 'Zed' }],
      ['d', { vendorId: 'shop', vendorName: 'shop' }],
    ]);
    const shelves = shelvesOf(['a', 'b', 'c', 'd', 'e'].map(product), sellers, 'shop');
    expect(shelves.map((shelf) => [shelf.vendorId, shelf.products.map((p) => p.id)])).toEqual([
      // "e" has no seller row (a product added meanwhile): the store's own.
      ['shop', ['d', 'e']],
      ['acme', ['b']],
      ['zed', ['a', 'c']],
    ]);
  });
});

describe.skipIf(postgresUnavailable)('storefront by vendor', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await buildTestStore();
  });
  afterAll(async () => store?.close());

  test('a single-vendor store shows the plain list; two vendors get a heading each', async () => {
    const single = await new PageClient(store).get('/');
    expect(tags(single.body, 'h2').length).toBe(2);
    expect(single.body).not.toContain('class="shelf"');
    expect(tags(single.body, 'h3')).toHaveLength(0);

    const admin = (method: 'POST' | 'PUT', url: string, payload: object) =>
      store.app.inject({ method, url, headers: ADMIN, payload });
    expect(
      (await admin('POST', '/v1/admin/vendors', { id: 'presetco', name: 'Preset <Co>' }))
        .statusCode,
    ).toBe(201);
    expect(
      (await admin('PUT', '/v1/admin/products/photon-presets/vendor', { vendorId: 'presetco' }))
        .statusCode,
    ).toBe(200);

    const grouped = await new PageClient(store).get('/');
    expect(grouped.statusCode).toBe(200);
    expect(accessibilityProblems(grouped.body)).toEqual([]);
    // Vendor names are headings (escaped), the products under them one level down.
    const headings = [...grouped.body.matchAll(/<h([23])[^>]*>([\s\S]*?)<\/h\1>/g)].map(
      (match) => `${match[1]} ${textOf(match[2]!)}`,
    );
    expect(headings).toEqual(['2 acme', '3 Photon', '2 Preset <Co>', '3 Photon Preset Packs']);
    expect(grouped.body).toContain('Preset &lt;Co&gt;');
    expect(tags(grouped.body, 'section').map((section) => section['aria-labelledby'])).toEqual([
      'vendor-acme',
      'vendor-presetco',
    ]);
  });
});
