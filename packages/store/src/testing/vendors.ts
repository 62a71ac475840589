import { expect } from 'vitest';
import { ADMIN } from './fixtures.js';
import type { TestStore } from './harness.js';

/**
 * What the marketplace page tests set up and read the same way: the two vendors of the
 * seeded catalogue (Lumen Labs sells photon, Preset Co the preset packs), made through
 * the admin API as an operator would, and the text of a PDF document.
 */

export const TWO_VENDORS = [
  { id: 'lumen', name: 'Lumen Labs', product: 'photon' },
  { id: 'presetco', name: 'Preset Co', product: 'photon-presets' },
] as const;

export type TwoVendorsId = (typeof TWO_VENDORS)[number]['id'];

/** Creates the two vendors and moves each one's product to it. */
export async function createTwoVendors(store: TestStore): Promise<void> {
  const admin = (method: 'POST' | 'PUT', url: string, payload: object) =>
    store.app.inject({ method, url, headers: ADMIN, payload });
  for (const { id, name, product } of TWO_VENDORS) {
    expect((await admin('POST', '/v1/admin/vendors', { id, name })).statusCode).toBe(201);
    expect(
      (await admin('PUT', `/v1/admin/products/${product}/vendor`, { vendorId: id })).statusCode,
    ).toBe(200);
  }
}

/** The text of a PDF's first page (pdfjs-dist), its pieces joined by spaces. */
export async function pdfText(bytes: Uint8Array): Promise<string> {
  const { getDocument } = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const document = await getDocument({ data: new Uint8Array(bytes), verbosity: 0 }).promise;
  const page = await document.getPage(1);
  return (await page.getTextContent()).items
    .map((item) => ('str' in item ? item.str : ''))
    .join(' ');
}
