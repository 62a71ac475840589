/**
 * Issue 10's "Done when", end to end: two vendors on one store, a real `licensekit serve`
 * process (PGlite; PostgreSQL too in CI) and a real headless Chromium.
 *
 * The operator creates two vendors with the CLI and gives each a token; each vendor makes
 * its own product and plans with its token. A customer buys from both on the storefront
 * (test payment provider), upgrades vendor A's license in the portal (the page's prorated
 * amount is recomputed here with core's proration) and cancels vendor B's; the operator
 * refunds part of B's order (a credit note). Each vendor signs in to /vendor and sees only
 * its own orders and documents, and downloads a PDF whose text the test reads. The store's
 * invoice and credit-note numbers run without gaps. The store is then restarted with its
 * clock moved past the 22-business-day hold; `licensekit admin payouts run` pays each
 * vendor exactly its share of what was paid minus what was refunded (core's documented
 * rounding rule, computed here from the orders) and `payouts confirm` marks it paid. Last,
 * `licensekit export` and `licensekit audit store` attribute every token — both vendors',
 * the upgrade's too — to an order: the audit is clean.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { prorate, readLicenseClaims } from '../../packages/core/src/index.js';
import {
  createScratchDatabase,
  type ScratchDatabase,
} from '../../packages/store/src/db/scratch.js';
import { formatMoney } from '../../packages/store/src/views/format.js';
import { launchChromium, pageText, watchedPage } from './support/browser.js';
import { chromiumMissing } from './support/chromium.js';
import {
  type EntryLine,
  entryDocument,
  forgeWithVendorKey,
  licensekit,
  numbersBySeries,
  pdfText,
  vendorShareOf,
} from './support/marketplace.js';
import { type AdminOrder, StoreClient } from './support/store-client.js';
import {
  killStoreProcesses,
  postgresAdminUrl,
  type StoreProcess,
  startStoreProcess,
} from './support/store-process.js';

const missing = chromiumMissing('marketplace e2e test');
const ADMIN_TOKEN = 'e2e-marketplace-operator-token-3f9a';
const EMAIL = 'buys.from.aurora.and.borealis@example.com';
/** The default share (revenue-share.ts DEFAULT_VENDOR_SHARE_BPS): the CLI is not told one. */
const SHARE_BPS = 7_500;
/** Prices chosen so that rounding matters: 75 % of each is not a whole number of cents. */
const BASIC = 999;
const PRO = 2999;
const STANDARD = 1299;
/** A partial refund whose share rounds the other way from the payment's. */
const REFUND = 333;

const VENDORS = {
  aurora: { name: 'Aurora Tools', product: 'aurora-editor', productName: 'Aurora Editor' },
  borealis: { name: 'Borealis Sync Co', product: 'borealis-sync', productName: 'Borealis Sync' },
} as const;
type VendorId = keyof typeof VENDORS;
const OTHER: Record<VendorId, VendorId> = { aurora: 'borealis', borealis: 'aurora' };

interface Document {
  id: string;
  kind: 'invoice' | 'credit_note';
  number: string;
  orderId: string;
  vendorId: string;
  total: number;
  correctsNumber: string | null;
}

const backends: { name: string; postgres: boolean }[] = [{ name: 'PGlite', postgres: false }];
// PostgreSQL in CI (store-process.ts fails the file there without the variable).
if (process.env.CI && postgresAdminUrl) backends.push({ name: 'PostgreSQL', postgres: true });

describe.skipIf(missing).each(backends)('a marketplace of two vendors ($name)', (backend) => {
  let dir = '';
  let dataDir = '';
  let scratch: ScratchDatabase | undefined;
  let store: StoreProcess;
  let client: StoreClient;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];
  const vendorTokens = {} as Record<VendorId, string>;
  const keys = {} as Record<VendorId, string>;
  /** Every order booked before the clock moved, by vendor. */
  const ordersOf = {} as Record<VendorId, AdminOrder[]>;
  let upgradeCharge = 0;
  let documents: Document[] = [];

  const cli = (...args: string[]) =>
    licensekit(...args, '--store', store.url, '--token', ADMIN_TOKEN, '--json');

  async function start(now?: string): Promise<void> {
    store = await startStoreProcess({
      dataDir,
      adminToken: ADMIN_TOKEN,
      ...(scratch === undefined ? {} : { databaseUrl: scratch.url }),
      env: {
        LICENSEKIT_SEED_DEMO: 'false',
        ...(now === undefined ? {} : { LICENSEKIT_NOW: now }),
      },
    });
    client = new StoreClient(store.url, ADMIN_TOKEN);
  }

  /** The admin API with a vendor's token instead of the operator's. */
  const asVendor = (vendor: VendorId) => new StoreClient(store.url, vendorTokens[vendor]);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'licensekit-marketplace-'));
    dataDir = join(dir, 'store');
    // A database of its own, so the run starts from an empty store.
    if (backend.postgres) {
      scratch = await createScratchDatabase(postgresAdminUrl ?? '', 'lk_marketplace_e2e');
    }
    await start();
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await store?.stop();
    await killStoreProcesses();
    await scratch?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const newPage = async () =>
    (
      await watchedPage(
        browser,
        { contexts, problems },
        {
          context: { acceptDownloads: true },
          // The other vendor's invoice (404) is an answer the test asks for.
          expectedErrors: /^Failed to load resource: the server responded with a status of 404\b/,
        },
      )
    ).page;

  const text = pageText;

  async function downloadPdf(page: Page, name: string): Promise<string> {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name, exact: true }).click(),
    ]);
    const path = await download.path();
    expect(readFileSync(path).subarray(0, 5).toString()).toBe('%PDF-');
    // pdfjs splits runs of text at its own places: one space between words.
    return (await pdfText(path)).replace(/\s+/g, ' ');
  }

  async function listDocuments(): Promise<Document[]> {
    const answer = await client.admin('GET', '/v1/admin/invoices?limit=200');
    expect(answer?.status).toBe(200);
    return answer!.body.invoices as Document[];
  }

  test('the operator makes two vendors (CLI) and each vendor its own catalogue (its token)', async () => {
    for (const [id, vendor] of Object.entries(VENDORS) as [
      VendorId,
      (typeof VENDORS)[VendorId],
    ][]) {
      const created = await cli('admin', 'vendors', 'create', '--id', id, '--name', vendor.name);
      expect(created, created.err).toMatchObject({ code: 0 });
      expect(JSON.parse(created.out)).toMatchObject({ id, shareBps: SHARE_BPS, holdDays: 22 });
      const token = await client.admin('POST', `/v1/admin/vendors/${id}/tokens`, { label: 'e2e' });
      expect(token?.status).toBe(201);
      vendorTokens[id] = token!.body.token;
    }
    const aurora = asVendor('aurora');
    const borealis = asVendor('borealis');
    expect(
      (
        await aurora.admin('POST', '/v1/admin/products', {
          id: 'aurora-editor',
          name: 'Aurora Editor',
        })
      )?.status,
    ).toBe(201);
    for (const [id, name, amount] of [
      ['basic', 'Basic', BASIC],
      ['pro', 'Pro', PRO],
    ] as const) {
      const plan = await aurora.admin('POST', '/v1/admin/products/aurora-editor/plans', {
        id,
        name,
        price: { amount, currency: 'USD' },
        interval: 'month',
        entitlements: [id],
      });
      expect(plan?.status, JSON.stringify(plan?.body)).toBe(201);
    }
    expect(
      (
        await borealis.admin('POST', '/v1/admin/products', {
          id: 'borealis-sync',
          name: 'Borealis Sync',
        })
      )?.status,
    ).toBe(201);
    const standard = await borealis.admin('POST', '/v1/admin/products/borealis-sync/plans', {
      id: 'standard',
      name: 'Standard',
      price: { amount: STANDARD, currency: 'USD' },
      interval: 'month',
    });
    expect(standard?.status, JSON.stringify(standard?.body)).toBe(201);
    // A vendor token cannot touch the other vendor's product: the same 404 as a missing one.
    const foreign = await aurora.admin('POST', '/v1/admin/products/borealis-sync/plans', {
      id: 'hijack',
      name: 'Hijack',
      price: { amount: 1, currency: 'USD' },
      interval: 'month',
    });
    expect(foreign?.status).toBe(404);
  });

  test('in Chromium: the customer buys from both vendors, upgrades A (prorated), cancels B', async () => {
    const shop = await newPage();
    await shop.goto(`${store.url}/`);
    for (const vendor of Object.values(VENDORS)) {
      await shop.getByRole('heading', { level: 2, name: vendor.name }).waitFor();
    }
    for (const [vendor, plan] of [
      ['aurora', /^Basic – \$9\.99 per month/],
      ['borealis', /^Standard – \$12\.99 per month/],
    ] as const) {
      await shop.goto(`${store.url}/products/${VENDORS[vendor].product}`);
      await shop.getByLabel(plan).check();
      await shop.getByLabel('Email address').fill(EMAIL);
      await shop.getByRole('button', { name: 'Place test order' }).click();
      await shop
        .getByRole('heading', { level: 1, name: 'Thank you – your license is ready' })
        .waitFor();
      keys[vendor] = (await text(shop, '#license-key')).trim();
      expect(keys[vendor]).not.toBe('');
    }

    // Vendor A's license: the upgrade's preview, its sum recomputed with core's proration.
    const portal = await newPage();
    await portal.goto(`${store.url}/portal`);
    await portal.getByLabel('License key').fill(keys.aurora);
    await portal.getByRole('button', { name: 'Sign in' }).click();
    await portal.waitForURL(`${store.url}/portal/license`);
    await portal.goto(`${store.url}/portal/plan?plan=pro`);
    const charged = await text(portal, '#prorated-amount');
    const formula = await text(portal, '#charge-formula');
    const detail = await text(portal, '#charge-detail');
    const [, left, length] = /\(([\d,]+) of the period’s ([\d,]+) seconds are left\)/.exec(detail)!;
    const seconds = (digits: string) => Number(digits.replace(/,/g, ''));
    upgradeCharge = prorate({
      oldPrice: BASIC,
      newPrice: PRO,
      periodStart: 0,
      periodEnd: seconds(length!),
      now: seconds(length!) - seconds(left!),
    });
    expect(upgradeCharge).toBeGreaterThan(0);
    expect(charged).toBe(formatMoney(upgradeCharge, 'USD'));
    expect(formula).toContain('(new price − current price) × time left in the period');
    expect(formula.endsWith(`= ${charged}`)).toBe(true);
    await portal.getByRole('button', { name: `Confirm and pay ${charged}` }).click();
    await portal.getByRole('heading', { level: 1, name: 'Plan changed' }).waitFor();

    // Vendor B's license, in another browser: cancelled.
    const other = await newPage();
    await other.goto(`${store.url}/portal`);
    await other.getByLabel('License key').fill(keys.borealis);
    await other.getByRole('button', { name: 'Sign in' }).click();
    await other.waitForURL(`${store.url}/portal/license`);
    await other.goto(`${store.url}/portal/cancel`);
    await other.getByRole('button', { name: 'Cancel the Standard plan' }).click();
    await other.getByRole('heading', { level: 1, name: 'Your plan is cancelled' }).waitFor();

    // The store booked what the pages said: A a purchase and the upgrade's charge, B a purchase.
    for (const vendor of Object.keys(VENDORS) as VendorId[]) {
      ordersOf[vendor] = await client.adminOrders(`productId=${VENDORS[vendor].product}`);
      for (const order of ordersOf[vendor]) expect(order.status).toBe('paid');
    }
    expect(ordersOf.aurora.map((order) => [order.kind, order.amount.amount]).sort()).toEqual(
      [
        ['purchase', BASIC],
        ['upgrade', upgradeCharge],
      ].sort(),
    );
    expect(ordersOf.borealis.map((order) => [order.kind, order.amount.amount])).toEqual([
      ['purchase', STANDARD],
    ]);
    const license = await client.admin(
      'GET',
      `/v1/admin/licenses/${ordersOf.borealis[0]!.licenseId}`,
    );
    expect(license?.body.license.cancelledAt).not.toBeNull();
    expect(license?.body.license.pendingChange).toMatchObject({ kind: 'cancel' });
  });

  test('a partial refund of B’s order makes a credit note; numbers run without gaps', async () => {
    const order = ordersOf.borealis[0]!;
    const refund = await client.send('POST', `/v1/admin/orders/${order.id}/refunds`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'idempotency-key': `e2e-${order.id}` },
      body: { amount: REFUND, reason: 'goodwill after the cancellation' },
    });
    expect(refund?.status, JSON.stringify(refund?.body)).toBe(201);
    // A vendor token may not move money.
    const forbidden = await asVendor('borealis').admin(
      'POST',
      `/v1/admin/orders/${order.id}/refunds`,
      {
        amount: 1,
        reason: 'no',
      },
    );
    expect(forbidden?.status).toBe(403);

    documents = await listDocuments();
    const invoices = documents.filter((document) => document.kind === 'invoice');
    const notes = documents.filter((document) => document.kind === 'credit_note');
    // One invoice per paid order (both purchases and the upgrade), one credit note.
    const paid = [...ordersOf.aurora, ...ordersOf.borealis];
    expect(invoices.map((invoice) => invoice.orderId).sort()).toEqual(
      paid.map((order) => order.id).sort(),
    );
    for (const invoice of invoices) {
      expect(invoice.total).toBe(paid.find((order) => order.id === invoice.orderId)!.amount.amount);
    }
    expect(notes).toHaveLength(1);
    // A credit note's amounts are negative: it takes back part of the invoice.
    expect(notes[0]).toMatchObject({ orderId: order.id, vendorId: 'borealis', total: -REFUND });
    expect(notes[0]!.correctsNumber).toBe(
      invoices.find((invoice) => invoice.orderId === order.id)!.number,
    );
    // Store numbering: one series of invoices and one of credit notes, each 1…n.
    const series = numbersBySeries(documents.map((document) => document.number));
    expect([...series.keys()].sort()).toEqual(['TEST-CN', 'TEST-INV']);
    for (const numbers of series.values()) {
      expect(numbers).toEqual(numbers.map((_, index) => index + 1));
    }
    expect(series.get('TEST-INV')).toHaveLength(3);
  });

  test('each vendor signs in to /vendor, sees only its own sales, and reads its PDF', async () => {
    const of = (vendor: VendorId) => documents.filter((document) => document.vendorId === vendor);
    for (const vendor of Object.keys(VENDORS) as VendorId[]) {
      const other = OTHER[vendor];
      // The API with its token lists its own orders and documents only.
      const orders = await asVendor(vendor).adminOrders();
      expect(orders.map((order) => order.id).sort()).toEqual(
        ordersOf[vendor].map((order) => order.id).sort(),
      );
      const listed = (await asVendor(vendor).admin('GET', '/v1/admin/invoices'))!.body
        .invoices as Document[];
      expect(listed.map((document) => document.id).sort()).toEqual(
        of(vendor)
          .map((document) => document.id)
          .sort(),
      );

      const page = await newPage();
      await page.goto(`${store.url}/vendor`);
      await page.getByLabel('Vendor token').fill(vendorTokens[vendor]);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page
        .getByRole('heading', { level: 1, name: `Dashboard of ${VENDORS[vendor].name}` })
        .waitFor();
      const dashboard = await text(page);
      for (const order of ordersOf[vendor]) expect(dashboard).toContain(order.id);
      for (const order of ordersOf[other]) expect(dashboard).not.toContain(order.id);
      for (const document of of(vendor)) expect(dashboard).toContain(document.number);
      for (const document of of(other)) expect(dashboard).not.toContain(document.number);
      expect(dashboard).not.toContain(VENDORS[other].productName);
      expect(dashboard).not.toContain(VENDORS[other].name);
      // The other vendor's document is a 404, like an unknown id.
      const stolen = await page.request.get(`${store.url}/vendor/invoices/${of(other)[0]!.id}/pdf`);
      expect(stolen.status()).toBe(404);

      // A: the upgrade's invoice; B: the credit note. Number, parties and amount in the PDF.
      const document =
        vendor === 'aurora'
          ? of(vendor).find(
              (d) => d.orderId === ordersOf.aurora.find((o) => o.kind === 'upgrade')!.id,
            )!
          : of(vendor).find((d) => d.kind === 'credit_note')!;
      const title = `${document.kind === 'invoice' ? 'Invoice' : 'Credit note'} ${document.number}`;
      const pdf = await downloadPdf(page, `PDF of ${title}`);
      expect(pdf).toContain(document.number);
      expect(pdf).toContain(VENDORS[vendor].name);
      expect(pdf).toContain(EMAIL);
      const amount = formatMoney(Math.abs(document.total), 'USD');
      expect(pdf).toContain(
        document.total < 0 ? `Total (USD) -${amount}` : `Total (USD) ${amount}`,
      );
      if (document.correctsNumber) expect(pdf).toContain(document.correctsNumber);
      expect(pdf).not.toContain(VENDORS[other].name);
    }
  });

  test('after the hold, the payout run pays each vendor its share of paid minus refunded', async () => {
    // The day the last share becomes payable, as the store computes it (22 business days).
    const holdEnds: number[] = [];
    for (const vendor of Object.keys(VENDORS) as VendorId[]) {
      const answer = await client.admin('GET', `/v1/admin/vendors/${vendor}`);
      const [balance] = answer!.body.balances as {
        nextPayableAt: string;
        available: number;
        onHold: number;
      }[];
      // Payments wait for the hold; what a refund takes back is due at once (a debt).
      const payments = ordersOf[vendor].reduce(
        (sum, order) => sum + vendorShareOf(order.amount.amount, 0, SHARE_BPS),
        0,
      );
      expect(balance).toMatchObject({
        onHold: payments,
        available: vendor === 'borealis' ? vendorShareOf(0, REFUND, SHARE_BPS) : 0,
      });
      const at = Date.parse(balance!.nextPayableAt);
      // 22 business days are at least 30 calendar days after today.
      expect(at - Date.now()).toBeGreaterThan(29 * 86_400_000);
      holdEnds.push(at);
    }
    // Nothing is payable yet: a run now pays nobody.
    const early = await cli('admin', 'payouts', 'run');
    expect(early, early.err).toMatchObject({ code: 0 });
    expect(JSON.parse(early.out)).toMatchObject({
      payouts: [],
      carried: [{ vendorId: 'borealis', balance: -250 }],
    });

    await store.stop();
    const later = new Date(Math.max(...holdEnds) + 3_600_000).toISOString();
    await start(later);

    const run = await cli('admin', 'payouts', 'run');
    expect(run, run.err).toMatchObject({ code: 0 });
    const payouts = JSON.parse(run.out).payouts as {
      id: string;
      vendorId: string;
      amount: number;
      currency: string;
      status: string;
    }[];
    const refunded = (order: AdminOrder) =>
      documents
        .filter((document) => document.kind === 'credit_note' && document.orderId === order.id)
        .reduce((sum, document) => sum - document.total, 0);
    for (const vendor of Object.keys(VENDORS) as VendorId[]) {
      const expected = ordersOf[vendor].reduce(
        (sum, order) => sum + vendorShareOf(order.amount.amount, refunded(order), SHARE_BPS),
        0,
      );
      const mine = payouts.filter((payout) => payout.vendorId === vendor);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ amount: expected, currency: 'USD', status: 'pending' });
      // The statement holds this vendor's orders only.
      const statement = await cli('admin', 'payouts', 'show', mine[0]!.id);
      const lines = JSON.parse(statement.out).lines as { orderId: string | null }[];
      for (const line of lines) {
        expect(ordersOf[vendor].map((order) => order.id)).toContain(line.orderId);
      }
      const confirmed = await cli(
        'admin',
        'payouts',
        'confirm',
        mine[0]!.id,
        '--reference',
        `bank-${vendor}`,
      );
      expect(confirmed, confirmed.err).toMatchObject({ code: 0 });
      expect(JSON.parse(confirmed.out)).toMatchObject({ status: 'paid', amount: expected });
    }
    // The arithmetic the issue asks for, spelled out: A 75 % of 9.99 and of the upgrade,
    // B 75 % of 12.99 less 75 % of the 3.33 refunded (each rounded half away from zero).
    expect(payouts.find((payout) => payout.vendorId === 'borealis')!.amount).toBe(974 - 250);
    // Idempotent: a second run pays nothing more.
    const again = await cli('admin', 'payouts', 'run');
    expect(JSON.parse(again.out).payouts).toEqual([]);
  });

  test('licensekit export and audit store: every token of both vendors has its order', async () => {
    const keysAnswer = await client.send('GET', '/v1/keys');
    const published = keysAnswer!.body as {
      roots: unknown[];
      log: { key: string };
      issuers: { vendor: string }[];
    };
    expect(published.issuers.map((issuer) => issuer.vendor)).toEqual(
      expect.arrayContaining(['aurora', 'borealis']),
    );
    const rootFile = join(dir, 'root.pub.json');
    writeFileSync(rootFile, JSON.stringify(published.roots[0]));
    expect((await client.admin('POST', '/v1/admin/log/checkpoint'))?.status).toBe(200);
    const exported = join(dir, 'export');
    const exportRun = await licensekit(
      'export',
      '--store',
      store.url,
      '--token',
      ADMIN_TOKEN,
      '--out',
      exported,
    );
    expect(exportRun, exportRun.err).toMatchObject({ code: 0 });
    const audited = (exportDir: string) =>
      licensekit(
        'audit',
        'store',
        exportDir,
        '--trust',
        rootFile,
        '--log-key',
        published.log.key,
        '--json',
      );
    const audit = await audited(exported);
    const report = JSON.parse(audit.out) as {
      verdict: string;
      findings: unknown[];
      counts: Record<string, number>;
    };
    expect(report.findings).toEqual([]);
    expect(report.verdict).toBe('clean');
    expect(audit.code).toBe(0);

    // What was audited: every token of the log, signed for both vendors (iss = the vendor),
    // the upgrade's among them, each license with its orders.
    const entries = readFileSync(join(exported, 'entries.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as EntryLine);
    const tokens = entries.filter((entry) => entry.kind === 'license');
    const issuerOf = (entry: EntryLine) => readLicenseClaims(entryDocument(entry)).iss;
    const issuers = tokens.map(issuerOf);
    expect(new Set(issuers)).toEqual(new Set(['aurora', 'borealis']));
    expect(report.counts).toMatchObject({ tokens: tokens.length, licenses: 2, orders: 3 });

    // Not vacuous: without vendor A's upgrade order, its Pro token has no order to come from.
    const upgrade = ordersOf.aurora.find((order) => order.kind === 'upgrade')!;
    const tampered = join(dir, 'export-without-upgrade');
    cpSync(exported, tampered, { recursive: true });
    const orders = readFileSync(join(tampered, 'orders.jsonl'), 'utf8').trim().split('\n');
    writeFileSync(
      join(tampered, 'orders.jsonl'),
      `${orders.filter((line) => !line.includes(upgrade.id)).join('\n')}\n`,
    );
    const caught = await audited(tampered);
    expect(caught.code).toBe(1);
    expect(JSON.parse(caught.out).findings).toContainEqual(
      expect.objectContaining({
        kind: 'lineage.unjustified_increase',
        license: upgrade.licenseId,
      }),
    );

    // Vendors cannot sign for each other: B's token re-signed with A's issuer key (a thief
    // of A's key) is valid under A's certificate, which covers A's products only.
    const victim = tokens.find((entry) => issuerOf(entry) === 'borealis')!;
    const signer = tokens.find((entry) => issuerOf(entry) === 'aurora')!;
    const forged = await forgeWithVendorKey(
      victim,
      signer,
      join(dataDir, 'keys', 'vendors', 'aurora', 'issuer.json'),
    );
    const stolen = join(dir, 'export-cross-vendor');
    cpSync(exported, stolen, { recursive: true });
    writeFileSync(
      join(stolen, 'entries.jsonl'),
      `${entries.map((entry) => JSON.stringify(entry === victim ? forged : entry)).join('\n')}\n`,
    );
    const crossed = await audited(stolen);
    expect(crossed.code).toBe(1);
    expect(JSON.parse(crossed.out).findings).toContainEqual(
      expect.objectContaining({ kind: 'key.out_of_scope' }),
    );
    expect(problems).toEqual([]);
  });
});
