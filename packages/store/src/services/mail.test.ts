import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Db } from '../db/client.js';
import { seconds } from '../lib/clock.js';
import { storeContext } from '../lib/store-context.js';
import { paymentProviders } from '../payments/provider.js';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../testing/harness.js';
import {
  buy,
  checkoutRequest,
  context,
  eventsOf,
  keyPost,
  STORE_URL,
  subscribeToEvents,
} from '../testing/licensing.js';
import { textNeedles } from '../testing/needles.js';
import { runBillingCycle } from './billing.js';
import { markOrderFailed } from './checkout.js';
import type { DevMailServer, ReceivedMail } from './mail-dev-server.js';
import { queueMail } from './mail-outbox.js';
import { queueReceipt } from './mail-receipt.js';
import { openMailSecret } from './mail-sealing.js';
import { mailSettings } from './mail-settings.js';
import type { MailTransport } from './mail-transport.js';
import { MailWorker } from './mail-worker.js';

/**
 * E-mail end to end inside the store: mails queued with their change, sent by the worker
 * over SMTP to the development server running in the store's process, and parsed there
 * (text and HTML parts). Runs on PGlite and PostgreSQL.
 */

interface OutboxRow {
  id: string;
  kind: string;
  data: unknown;
  sealed: Uint8Array | null;
  attempts: number;
  next_attempt_at: Date;
  sent_at: Date | null;
  failed_at: Date | null;
  last_error: string | null;
}

async function outbox(db: Db, kind?: string): Promise<OutboxRow[]> {
  return db.query<OutboxRow>(
    `SELECT id, kind, data, sealed, attempts, next_attempt_at, sent_at, failed_at, last_error
       FROM mail_outbox ${kind ? 'WHERE kind = $1' : ''} ORDER BY created_at, id`,
    kind ? [kind] : [],
  );
}

/** Every mail the development server got for `email`, after the worker sent what is due. */
async function mailsTo(store: TestStore, email: string): Promise<ReceivedMail[]> {
  await store.app.mail.worker.flush();
  return inboxOf(store)
    .messages()
    .filter((mail) => mail.to === email);
}

function inboxOf(store: TestStore): DevMailServer {
  const inbox = store.app.mail.devInbox;
  if (!inbox) throw new Error('the test store has no development mail server');
  return inbox;
}

/** The rules every HTML part keeps: no image, nothing loaded, no script or style, links home. */
function expectPlainHtml(mail: ReceivedMail): void {
  const html = mail.html ?? '';
  expect(html).toMatch(/^<!doctype html>/);
  expect(html).not.toMatch(/<img|<link|<script|<style|<iframe|\ssrc=|\sstyle=|url\(/i);
  for (const match of html.matchAll(/href="([^"]*)"/g)) {
    expect(match[1]!.startsWith(`${STORE_URL}/`), match[1]).toBe(true);
  }
  expect(mail.headers.get('auto-submitted')).toMatch(/auto-generated/);
}

describe.skipIf(postgresUnavailable)('e-mail from the store', () => {
  let store: TestStore;

  beforeAll(async () => {
    store = await buildTestStore();
    await subscribeToEvents(store);
  });
  afterAll(async () => store?.close());

  test('in tests and dev the mail goes to a real SMTP server in the process', () => {
    expect(store.app.mail.settings.mode).toBe('dev');
    expect(store.app.mail.enabled).toBe(true);
    expect(inboxOf(store).port).toBeGreaterThan(0);
  });

  test('the receipt: sent once at checkout, the key in the text and the HTML part', async () => {
    const email = `ada-${randomUUID()}@example.com`;
    const idempotencyKey = randomUUID();
    const body = { productId: 'photon', planId: 'pro-monthly', email };
    const bought = await checkoutRequest(store, body, idempotencyKey);
    expect(bought.statusCode).toBe(201);
    const key: string = bought.json().license.key;
    // The same request again is a replay: the same answer, no second receipt.
    const replay = await checkoutRequest(store, body, idempotencyKey);
    expect(replay.headers['idempotent-replayed']).toBe('true');

    const mails = await mailsTo(store, email);
    expect(mails.map((mail) => mail.subject)).toEqual(['Your Photon license key']);
    const [receipt] = mails;
    expect(receipt!.text).toContain(key);
    expect(receipt!.html).toContain(`<code>${key}</code>`);
    expect(receipt!.text).toContain('Pro ($15.00 per month)');
    expect(receipt!.text).toContain('(test payment, no money moved)');
    expect(receipt!.text).toContain(`${STORE_URL}/portal/email`);
    expect(receipt!.from).toBe('"acme store" <no-reply@store.test>');
    expect(receipt!.messageId).toMatch(/^<mail_[\w-]+@store\.test>$/);
    expectPlainHtml(receipt!);

    // Sent: the row keeps no secret, and never held the key in clear.
    const [row] = (await outbox(store.db, 'receipt')).filter(
      (candidate) =>
        (candidate.data as { licenseId?: string }).licenseId === bought.json().license.id,
    );
    expect(row).toMatchObject({ sealed: null, attempts: 1, failed_at: null });
    expect(row!.sent_at).not.toBeNull();
    const dump = JSON.stringify(await outbox(store.db));
    for (const needle of textNeedles(key)) expect(dump).not.toContain(needle);
  });

  test('the key waits in the outbox sealed to its row, readable only with the store secret', async () => {
    const purchase = await buy(store);
    await store.app.mail.worker.flush(); // its own receipt is out of the way
    const [customer] = await store.db.query<{ customer_id: string }>(
      'SELECT customer_id FROM licenses WHERE id = $1',
      [purchase.licenseId],
    );
    const key = 'LK-TESTK-EYTES-TKEYT-ESTKE-YTEST-KEYTE-ST';
    // Inside one transaction the worker cannot see (and send) the row before we read it.
    await expect(
      store.db.transaction(async (tx) => {
        await queueReceipt(
          tx,
          store.app.secrets,
          {
            customerId: customer!.customer_id,
            licenseId: purchase.licenseId,
            orderId: purchase.orderId,
            key,
          },
          store.clock.now(),
        );
        const [row] = await tx.query<{ id: string; sealed: Uint8Array; data: unknown }>(
          `SELECT id, sealed, data FROM mail_outbox WHERE kind = 'receipt' AND sent_at IS NULL`,
        );
        const sealed = Buffer.from(row!.sealed);
        for (const needle of textNeedles(key)) {
          expect(sealed.includes(needle)).toBe(false);
          expect(sealed.toString('base64')).not.toContain(needle);
        }
        expect(JSON.stringify(row!.data)).not.toContain('LK-');
        expect(openMailSecret(store.app.secrets, row!.id, row!.sealed)).toBe(key);
        expect(() => openMailSecret(store.app.secrets, 'mail_other', row!.sealed)).toThrow();
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
  });

  test('expiring soon: one mail per period end, with the webhook', async () => {
    const email = `eve-${randomUUID()}@example.com`;
    const purchase = await buy(store, { email });
    const start = store.clock.now().getTime();
    try {
      store.clock.set(Date.UTC(2026, 1, 12, 12)); // three days before the period ends
      await store.app.runOperationsJobs();
      await store.app.runOperationsJobs();
      const mails = (await mailsTo(store, email)).filter(
        (mail) => mail.subject !== 'Your Photon license key',
      );
      expect(mails.map((mail) => mail.subject)).toEqual([
        'Your Photon license: the current period ends on February 15, 2026 at 12:00 PM UTC',
      ]);
      expect(mails[0]!.text).toContain('It renews then ($15.00 per month)');
      expectPlainHtml(mails[0]!);
      const events = await eventsOf(store, purchase.licenseId);
      expect(events.filter((event) => event.type === 'license.expiring_soon')).toHaveLength(1);
    } finally {
      store.clock.set(start);
    }
  });

  test('quota low: a mail at 80 % of the window, once', async () => {
    const email = `quinn-${randomUUID()}@example.com`;
    const purchase = await buy(store, { email });
    const report = (used: number) =>
      keyPost(store, '/v1/licenses/usage', purchase.key, {
        license: purchase.licenseId,
        product: 'photon',
        seq: 0,
        generatedAt: seconds(store.clock.now()),
        device: 'laptop',
        quotas: { exports: { used, window: seconds(store.clock.now()) } },
      });
    expect((await report(850)).statusCode).toBe(202);
    expect((await report(870)).statusCode).toBe(202);
    const mails = (await mailsTo(store, email)).filter((mail) => /running low/.test(mail.subject));
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toBe('Your Photon license: exports is running low');
    expect(mails[0]!.text).toContain('has used 850 of its 1,000 exports; 150 are left');
    expectPlainHtml(mails[0]!);
  });

  test('payment failed: the processor refuses an order, the customer and the vendor hear of it', async () => {
    const email = `pat-${randomUUID()}@example.com`;
    const purchase = await buy(store, { email, provider: 'manual' });
    await markOrderFailed(context(store), purchase.orderId);
    const mails = (await mailsTo(store, email)).filter((mail) => /failed/.test(mail.subject));
    expect(mails.map((mail) => mail.subject)).toEqual(['A payment for your Photon license failed']);
    expect(mails[0]!.text).toContain('The payment of $15.00 for the order');
    // The link pays this same license (the key the app has) in the portal: no second one.
    expect(mails[0]!.text).toContain('sign in to your portal with your license key');
    expect(mails[0]!.text).toContain(`${STORE_URL}/portal/pay`);
    expect(mails[0]!.text).not.toContain('/products/');
    expectPlainHtml(mails[0]!);
    const events = await eventsOf(store, purchase.licenseId);
    expect(events.find((event) => event.type === 'license.payment_failed')?.data).toMatchObject({
      orderId: purchase.orderId,
      orderKind: 'purchase',
      amount: 1500,
      currency: 'USD',
    });
  });

  test('a renewal the provider refuses at the period end mails "payment failed"', async () => {
    const refusing = await buildTestStore({ licensing: { billing: { enabled: false } } });
    try {
      const email = `rene-${randomUUID()}@example.com`;
      const purchase = await buy(refusing, { email });
      // The license now charges through a provider that refuses every charge.
      await refusing.db.query(`UPDATE orders SET provider = 'refuse' WHERE license_id = $1`, [
        purchase.licenseId,
      ]);
      const ctx = context(refusing);
      const refuse = {
        name: 'refuse',
        test: true,
        charge: async () => ({ status: 'failed' as const, reason: 'card declined' }),
      };
      paymentProviders(ctx.config).set('refuse', refuse);
      refusing.clock.set(Date.UTC(2026, 1, 15, 12, 1));
      await runBillingCycle(ctx, refusing.clock.now());
      const mails = (await mailsTo(refusing, email)).filter((mail) => /failed/.test(mail.subject));
      expect(mails).toHaveLength(1);
      expect(mails[0]!.text).toContain('for the renewal of your Photon license');
      expect(mails[0]!.text).toContain('License status: Payment overdue');
      // The link pays this license's renewal in the portal, not a new purchase.
      expect(mails[0]!.text).toContain('sign in to your portal with your license key');
      expect(mails[0]!.text).toContain(`${STORE_URL}/portal/pay`);
      expect(mails[0]!.text).not.toContain('/products/');
    } finally {
      await refusing.close();
    }
  });

  test('plan changes: scheduled, then applied at the period end; an upgrade applied at once', async () => {
    const email = `dan-${randomUUID()}@example.com`;
    const purchase = await buy(store, { email });
    const start = store.clock.now().getTime();
    const changes = async () =>
      (await mailsTo(store, email)).filter((mail) => /changes|changed/.test(mail.subject));
    try {
      const down = await keyPost(store, '/v1/licenses/plan', purchase.key, {
        planId: 'free',
        confirm: true,
      });
      expect(down.statusCode, down.body).toBe(200);
      let mails = await changes();
      expect(mails.map((mail) => mail.subject)).toEqual([
        'Your Photon license changes on February 15, 2026 at 12:00 PM UTC',
      ]);
      expect(mails[0]!.text).toContain(
        'Your Photon license changes from the Pro plan to the Free plan.',
      );
      expectPlainHtml(mails[0]!);

      store.clock.set(Date.UTC(2026, 1, 15, 12, 1));
      await runBillingCycle(context(store), store.clock.now());
      mails = await changes();
      expect(mails.map((mail) => mail.subject)).toEqual([
        'Your Photon license changes on February 15, 2026 at 12:00 PM UTC',
        'Your Photon license has changed',
      ]);
      expect(mails[1]!.text).toContain(
        'Your Photon license moved from the Pro plan to the Free plan.',
      );
      const changed = (await eventsOf(store, purchase.licenseId)).filter(
        (event) => event.type === 'license.plan_changed',
      );
      // Scheduled, then applied: both name the period end as the time it takes effect.
      expect(changed.map((event) => [event.data.kind, event.data.effectiveAt])).toEqual([
        ['downgrade', '2026-02-15T12:00:00.000Z'],
        ['downgrade', '2026-02-15T12:00:00.000Z'],
      ]);

      const up = await keyPost(store, '/v1/licenses/plan', purchase.key, {
        planId: 'team-yearly',
        seats: 2,
        confirm: true,
      });
      expect(up.statusCode, up.body).toBe(200);
      mails = await changes();
      expect(mails).toHaveLength(3);
      expect(mails[2]!.text).toContain(
        'Your Photon license moved from the Free plan to the Team plan with 2 seats.',
      );
      expect(mails[2]!.text).toContain('Charged: $240.00');
    } finally {
      store.clock.set(start);
    }
  });

  test('a cancellation is mailed as a scheduled change', async () => {
    const email = `cy-${randomUUID()}@example.com`;
    const purchase = await buy(store, { email });
    const cancelled = await keyPost(store, '/v1/licenses/cancel', purchase.key, {});
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    const mails = (await mailsTo(store, email)).filter((mail) => /changes/.test(mail.subject));
    expect(mails).toHaveLength(1);
    expect(mails[0]!.text).toContain(
      'You cancelled the Pro plan of your Photon license. At the end of the current period the license moves to the Free plan (free).',
    );
  });
});

describe.skipIf(postgresUnavailable)('the mail worker: retries, expiry, mail off', () => {
  let store: TestStore;
  let customerId: string;

  beforeAll(async () => {
    store = await buildTestStore();
    // This test drives its own workers over the store's outbox.
    await store.app.mail.worker.stop();
    const purchase = await buy(store);
    customerId = (
      await store.db.query<{ customer_id: string }>(
        'SELECT customer_id FROM licenses WHERE id = $1',
        [purchase.licenseId],
      )
    )[0]!.customer_id;
    await store.db.query('DELETE FROM mail_outbox');
  });
  afterAll(async () => store?.close());

  /** A worker with a short schedule and a transport that fails `failures` times first. */
  function worker(failures: number, transport?: 'off') {
    const sent: string[] = [];
    let left = failures;
    const fake: MailTransport = {
      async send(mail) {
        if (left-- > 0)
          throw Object.assign(new Error('421 4.3.0 try again later'), { code: 'EENVELOPE' });
        sent.push(mail.subject);
      },
      close() {},
    };
    const settings = { ...store.app.mail.settings, retryScheduleMs: [1000, 2000] };
    return {
      sent,
      worker: new MailWorker({
        ctx: storeContext(store.app),
        settings: transport === 'off' ? { ...settings, offReason: 'testing' } : settings,
        transport: transport === 'off' ? undefined : fake,
      }),
    };
  }

  async function queueLink(expiresInMs = 15 * 60_000): Promise<string> {
    const now = store.clock.now();
    return store.db.transaction((tx) =>
      queueMail(
        tx,
        {
          kind: 'sign_in_link',
          customerId,
          data: {},
          secret: { value: 'a'.repeat(43), secrets: store.app.secrets },
          expiresAt: new Date(now.getTime() + expiresInMs),
        },
        now,
      ),
    );
  }

  const rowOf = async (id: string) => (await outbox(store.db)).find((row) => row.id === id)!;

  test('a failed send is retried on the schedule, keeping its secret until sent', async () => {
    const { worker: flaky, sent } = worker(1);
    const id = await queueLink();
    await flaky.flush();
    let row = await rowOf(id);
    expect(row).toMatchObject({ attempts: 1, sent_at: null, failed_at: null });
    expect(row.last_error).toContain('try again later');
    expect(row.sealed).not.toBeNull();
    const wait = new Date(row.next_attempt_at).getTime() - store.clock.now().getTime();
    expect(wait).toBeGreaterThanOrEqual(1000);
    expect(wait).toBeLessThanOrEqual(1100);
    await flaky.flush(); // not due yet
    expect((await rowOf(id)).attempts).toBe(1);
    store.clock.advance(1100);
    await flaky.flush();
    row = await rowOf(id);
    expect(row).toMatchObject({ attempts: 2, sealed: null, failed_at: null });
    expect(sent).toEqual(['Sign in to the acme store']);
  });

  test('after the last retry the mail is given up, and its secret erased', async () => {
    const { worker: broken } = worker(99);
    const id = await queueLink();
    for (let attempt = 0; attempt < 3; attempt++) {
      await broken.flush();
      store.clock.advance(2500);
    }
    expect(await rowOf(id)).toMatchObject({ attempts: 3, sealed: null, sent_at: null });
    expect((await rowOf(id)).failed_at).not.toBeNull();
  });

  test('a sign-in link past its expiry is not sent', async () => {
    const { worker: fine, sent } = worker(0);
    const id = await queueLink(1000);
    store.clock.advance(1001);
    await fine.flush();
    expect(await rowOf(id)).toMatchObject({
      sealed: null,
      last_error: 'expired before it could be sent',
    });
    expect(sent).toEqual([]);
  });

  test('with mail off, queued mail is given up at once', async () => {
    const { worker: off } = worker(0, 'off');
    const id = await queueLink();
    await off.flush();
    expect(await rowOf(id)).toMatchObject({ sealed: null, last_error: 'e-mail is off: testing' });
  });
});

describe('mail settings', () => {
  const config = { host: '127.0.0.1', vendor: 'acme', publicUrl: 'https://store.example.com' };

  test('SMTP_URL sends through it; LICENSEKIT_MAIL_FROM names the sender', () => {
    const settings = mailSettings(config, {
      SMTP_URL: 'smtps://user:pass@mail.example.com:465',
      LICENSEKIT_MAIL_FROM: 'Acme <billing@acme.example>',
      NODE_ENV: 'production',
    });
    expect(settings).toMatchObject({
      mode: 'smtp',
      smtpUrl: 'smtps://user:pass@mail.example.com:465',
      from: 'Acme <billing@acme.example>',
    });
  });

  test('without SMTP_URL: the development server on loopback, never in production or beyond', () => {
    expect(mailSettings(config, {})).toMatchObject({
      mode: 'dev',
      from: '"acme store" <no-reply@store.example.com>',
    });
    expect(mailSettings(config, { NODE_ENV: 'production' })).toMatchObject({ mode: 'off' });
    expect(mailSettings({ ...config, host: '0.0.0.0' }, {})).toMatchObject({ mode: 'off' });
    expect(mailSettings(config, { LICENSEKIT_MAIL: 'off', SMTP_URL: 'smtp://x' })).toMatchObject({
      mode: 'off',
    });
    expect(mailSettings({ ...config, publicUrl: 'http://127.0.0.1:8787' }, {}).from).toBe(
      '"acme store" <no-reply@localhost>',
    );
  });

  test('a SMTP_URL that is not smtp:// or smtps:// is refused', () => {
    expect(() => mailSettings(config, { SMTP_URL: 'http://mail.example.com' })).toThrow(/SMTP_URL/);
    expect(() => mailSettings(config, { LICENSEKIT_MAIL_POLL_MS: '0' })).toThrow(/POLL/);
  });
});
