import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bookRefund } from '../../marketplace/bookkeeping.js';
import { ordersRepository } from '../../repositories/orders.js';
import type { TestStore } from '../../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../../testing/harness.js';
import type { Purchase } from '../../testing/licensing.js';
import { buy, context } from '../../testing/licensing.js';
import {
  accessibilityProblems,
  formFields,
  PageClient,
  tags,
  textOf,
} from '../../testing/pages.js';
import { createTwoVendors, pdfText } from '../../testing/vendors.js';

/**
 * The portal's licenses and invoices across vendors: a session opened with a key sees its
 * license and that license's documents only; a session opened by an e-mail link sees every
 * license and document of the customer; nobody sees another customer's (404, as unknown).
 */

interface DocumentRow {
  id: string;
  number: string;
  kind: string;
  order_id: string;
}

describe.skipIf(postgresUnavailable)('portal: licenses and invoices across vendors', () => {
  let store: TestStore;
  let clients = 0;
  const browser = () => new PageClient(store, { remoteAddress: `10.9.0.${++clients}` });
  const email = 'two-vendors@example.com';
  let photon: Purchase;
  let presets: Purchase;
  let stranger: Purchase;
  const documentsOf = (orderId: string) =>
    store.db.query<DocumentRow>(
      'SELECT id, number, kind, order_id FROM invoices WHERE order_id = $1 ORDER BY seq',
      [orderId],
    );

  beforeAll(async () => {
    store = await buildTestStore();
    await createTwoVendors(store);
    photon = await buy(store, { email });
    presets = await buy(store, { email, productId: 'photon-presets', planId: 'pack-50' });
    stranger = await buy(store, { email: 'someone-else@example.com' });
  });
  afterAll(async () => store?.close());

  async function signInByKey(key: string): Promise<PageClient> {
    const client = browser();
    const answer = await client.submit('/portal', '/portal/sign-in', { licenseKey: key });
    expect(answer.statusCode).toBe(303);
    return client;
  }

  async function signInByLink(licenseId: string): Promise<PageClient> {
    const client = browser();
    expect((await client.submit('/portal/email', '/portal/email', { email })).statusCode).toBe(200);
    await store.app.mail.worker.flush();
    const mail = store.app.mail
      .devInbox!.messages()
      .filter((m) => m.to === email && m.subject.startsWith('Sign in'))
      .at(-1);
    const link = /\/portal\/link\?token=[\w-]{43}/.exec(mail!.text)![0];
    const page = await client.get(link);
    const answer = await client.post('/portal/link', {
      ...formFields(page.body, '/portal/link'),
      licenseId,
    });
    expect(answer.statusCode).toBe(303);
    return client;
  }

  test('without a session the pages send the browser to sign in', async () => {
    const client = browser();
    for (const url of ['/portal/licenses', '/portal/invoices', '/portal/invoices/inv_x/pdf']) {
      const response = await client.get(url);
      expect(response.statusCode, url).toBe(303);
      expect(response.headers.location).toBe('/portal');
    }
    expect(
      (await client.post('/portal/licenses/open', { licenseId: photon.licenseId })).statusCode,
    ).toBe(401);
  });

  test('a key session sees its own license and documents, nothing else of the customer', async () => {
    const client = await signInByKey(photon.key);
    const licenses = await client.get('/portal/licenses');
    expect(licenses.statusCode).toBe(200);
    expect(accessibilityProblems(licenses.body)).toEqual([]);
    const text = textOf(licenses.body);
    expect(text).toContain('Photon');
    expect(text).toContain('Lumen Labs');
    expect(text).not.toContain('Photon Preset Packs');
    expect(text).not.toContain('Preset Co');
    expect(text).toContain('sign in with an e-mail link');
    expect(licenses.body).not.toContain(presets.licenseId);

    const [own] = await documentsOf(photon.orderId);
    const [other] = await documentsOf(presets.orderId);
    const [strangers] = await documentsOf(stranger.orderId);
    const invoices = await client.get('/portal/invoices');
    expect(accessibilityProblems(invoices.body)).toEqual([]);
    expect(invoices.body).toContain(own!.number);
    expect(invoices.body).not.toContain(other!.number);
    expect(tags(invoices.body, 'a').map((a) => a.href)).toEqual(
      expect.arrayContaining([`/portal/invoices/${own!.id}`, `/portal/invoices/${own!.id}/pdf`]),
    );
    expect((await client.get(`/portal/invoices/${own!.id}`)).statusCode).toBe(200);
    expect((await client.get(`/portal/invoices/${own!.id}/pdf`)).statusCode).toBe(200);
    // The customer's other license's documents and a stranger's: as unknown as a made-up id.
    for (const id of [other!.id, strangers!.id, 'inv_nothing', '..%2F..%2Fetc']) {
      for (const url of [`/portal/invoices/${id}`, `/portal/invoices/${id}/pdf`]) {
        const response = await client.get(url);
        expect(response.statusCode, url).toBe(404);
        expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      }
    }
    // Nor can it open the customer's other license.
    const open = await client.post('/portal/licenses/open', {
      ...formFields(licenses.body, '/portal/sign-out'),
      licenseId: presets.licenseId,
    });
    expect(open.statusCode).toBe(403);
  });

  test('an e-mail link session sees every license and document of the customer, across vendors', async () => {
    const client = await signInByLink(photon.licenseId);
    const licenses = await client.get('/portal/licenses');
    const text = textOf(licenses.body);
    for (const name of ['Photon', 'Lumen Labs', 'Photon Preset Packs', 'Preset Co']) {
      expect(text).toContain(name);
    }
    expect(text).not.toContain('sign in with an e-mail link');
    expect(licenses.body).not.toContain(stranger.licenseId);
    expect(accessibilityProblems(licenses.body)).toEqual([]);

    // A refund of the presets: its credit note is listed too.
    const order = (await ordersRepository(store.db).byId(presets.orderId))!;
    await store.db.transaction((tx) =>
      bookRefund(tx, context(store), order, { reason: 'duplicate', at: store.clock.now() }),
    );
    const documents = [
      ...(await documentsOf(photon.orderId)),
      ...(await documentsOf(presets.orderId)),
    ];
    expect(documents.map((d) => d.kind).sort()).toEqual(['credit_note', 'invoice', 'invoice']);
    const invoices = await client.get('/portal/invoices');
    expect(accessibilityProblems(invoices.body)).toEqual([]);
    for (const document of documents) {
      expect(invoices.body).toContain(document.number);
      const page = await client.get(`/portal/invoices/${document.id}`);
      expect(page.statusCode).toBe(200);
      expect(accessibilityProblems(page.body)).toEqual([]);
      expect(textOf(page.body)).toContain(document.number);
      const pdf = await client.get(`/portal/invoices/${document.id}/pdf`);
      expect(pdf.headers['content-type']).toBe('application/pdf');
      expect(pdf.headers['content-disposition']).toBe(
        `attachment; filename="${document.number}.pdf"`,
      );
      expect(await pdfText(pdf.rawPayload)).toContain(document.number);
    }
    const creditNote = documents.find((d) => d.kind === 'credit_note')!;
    expect(textOf((await client.get(`/portal/invoices/${creditNote.id}`)).body)).toContain(
      'Credit note',
    );
    // Still nobody else's.
    const [strangers] = await documentsOf(stranger.orderId);
    expect((await client.get(`/portal/invoices/${strangers!.id}`)).statusCode).toBe(404);
    expect((await client.get(`/portal/invoices/${strangers!.id}/pdf`)).statusCode).toBe(404);

    // Opening the other license moves the session to it, still proven by the link.
    const fields = formFields(licenses.body, '/portal/licenses/open');
    const stolen = await client.post('/portal/licenses/open', {
      ...fields,
      licenseId: stranger.licenseId,
    });
    expect(stolen.statusCode).toBe(404);
    const opened = await client.post('/portal/licenses/open', {
      ...fields,
      licenseId: presets.licenseId,
    });
    expect(opened.statusCode).toBe(303);
    expect(opened.headers.location).toBe('/portal/license');
    const page = await client.get('/portal/license');
    expect(textOf(page.body)).toContain('Your Photon Preset Packs license');
    expect(textOf((await client.get('/portal/licenses')).body)).toContain('Lumen Labs');
    // Without its CSRF token, nothing moves.
    const refused = await client.post('/portal/licenses/open', { licenseId: photon.licenseId });
    expect(refused.statusCode).toBe(403);
  });
});
