import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ReceivedMail } from '../../services/mail-dev-server.js';
import { SIGN_IN_LIMITS } from '../../services/mail-sign-in.js';
import type { TestStore } from '../../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../../testing/harness.js';
import type { Purchase } from '../../testing/licensing.js';
import {
  activate,
  buy,
  deviceKey,
  eventsOf,
  keyGet,
  keyPost,
  STORE_URL,
  subscribeToEvents,
} from '../../testing/licensing.js';
import {
  accessibilityProblems,
  formFields,
  LICENSE_KEY_PATTERN,
  PageClient,
  textOf,
} from '../../testing/pages.js';

/**
 * The portal's e-mail pieces: "Sign in with an e-mail link" (same answer for known and
 * unknown addresses, rate limited, the link single use and short-lived), replacing a lost
 * key from a session opened by such a link, and the development mail page. On PGlite and
 * PostgreSQL; the mails really go over SMTP to the store's development server.
 */

/** The last four symbols of a key, as the store shows them. */
const hintOf = (key: string) => key.replace(/-/g, '').slice(-4);

describe.skipIf(postgresUnavailable)('e-mail sign-in and key replacement in the portal', () => {
  let store: TestStore;
  let clients = 0;
  const browser = () => new PageClient(store, { remoteAddress: `10.7.0.${++clients}` });

  beforeAll(async () => {
    store = await buildTestStore();
    await subscribeToEvents(store);
  });
  afterAll(async () => store?.close());

  const inbox = () => store.app.mail.devInbox!;

  /** The mails `email` received so far (after the worker sent what is due). */
  async function mailsTo(email: string): Promise<ReceivedMail[]> {
    await store.app.mail.worker.flush();
    return inbox()
      .messages()
      .filter((mail) => mail.to === email);
  }

  /** The sign-in link of the newest sign-in mail to `email`. */
  async function linkFor(email: string): Promise<string> {
    const mail = (await mailsTo(email)).filter((m) => m.subject.startsWith('Sign in')).at(-1);
    const link = mail && /http:\/\/store\.test(\/portal\/link\?token=[\w-]{43})/.exec(mail.text);
    if (!link) throw new Error(`no sign-in link for ${email}`);
    expect(mail!.html).toContain(`href="${STORE_URL}${link[1]}"`);
    return link[1]!;
  }

  async function askForLink(client: PageClient, email: string) {
    return client.submit('/portal/email', '/portal/email', { email });
  }

  /** A browser signed in through the e-mail link of `email`'s purchase. */
  async function signedInByLink(email: string, client = browser()): Promise<PageClient> {
    expect((await askForLink(client, email)).statusCode).toBe(200);
    const page = await client.get(await linkFor(email));
    expect(page.statusCode).toBe(200);
    const answer = await client.post('/portal/link', formFields(page.body, '/portal/link'));
    expect(answer.statusCode, answer.body).toBe(303);
    expect(answer.headers.location).toBe('/portal/license');
    return client;
  }

  async function purchaseFor(email: string): Promise<Purchase> {
    return buy(store, { email });
  }

  test('the key sign-in page points to e-mail sign-in; its form is accessible', async () => {
    const client = browser();
    const signIn = await client.get('/portal');
    expect(signIn.body).toContain('href="/portal/email"');
    const form = await client.get('/portal/email');
    expect(form.statusCode).toBe(200);
    expect(accessibilityProblems(form.body)).toEqual([]);
    expect(textOf(form.body)).toContain('Send me a sign-in link');
    const empty = await client.submit('/portal/email', '/portal/email', { email: '' });
    expect(empty.statusCode).toBe(400);
    expect(accessibilityProblems(empty.body)).toEqual([]);
    expect(textOf(empty.body)).toContain('Enter your e-mail address.');
    const bad = await client.submit('/portal/email', '/portal/email', { email: 'not-an-address' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('value="not-an-address"');
  });

  test('a customer gets a link; an unknown address gets the same page and no mail', async () => {
    const email = `kim-${randomUUID()}@example.com`;
    await purchaseFor(email);
    const stranger = `nobody-${randomUUID()}@example.com`;
    const linksBefore = (
      await store.db.query(`SELECT 1 FROM mail_outbox WHERE kind = 'sign_in_link'`)
    ).length;

    const known = await askForLink(browser(), email.toUpperCase());
    const unknown = await askForLink(browser(), stranger);
    expect(known.statusCode).toBe(200);
    expect(unknown.statusCode).toBe(200);
    expect(accessibilityProblems(known.body)).toEqual([]);
    // Word for word the same page, but for the address the visitor typed.
    expect(textOf(known.body).replace(email, 'ADDRESS')).toBe(
      textOf(unknown.body).replace(stranger, 'ADDRESS'),
    );
    expect(textOf(known.body)).toContain('a sign-in link is on its way');

    expect(await mailsTo(stranger)).toEqual([]);
    const links = (await mailsTo(email)).filter((mail) => mail.subject.startsWith('Sign in'));
    expect(links).toHaveLength(1);
    expect(links[0]!.text).toContain('within 15 minutes');
    expect(links[0]!.html).not.toMatch(/<img|\ssrc=/i);
    expect(
      (await store.db.query(`SELECT 1 FROM mail_outbox WHERE kind = 'sign_in_link'`)).length,
    ).toBe(linksBefore + 1);
    // The token is kept only as a keyed hash.
    const token = (await linkFor(email)).split('token=')[1]!;
    const stored = JSON.stringify(await store.db.query('SELECT * FROM sign_in_links'));
    expect(stored).not.toContain(token);
  });

  test('the link works once: the second use is refused', async () => {
    const email = `lee-${randomUUID()}@example.com`;
    const purchase = await purchaseFor(email);
    const client = browser();
    await askForLink(client, email);
    const link = await linkFor(email);

    const page = await client.get(link);
    expect(page.statusCode).toBe(200);
    expect(accessibilityProblems(page.body)).toEqual([]);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(textOf(page.body)).toContain(`key ending in ${hintOf(purchase.key)}`);
    const form = formFields(page.body, '/portal/link');
    expect(form.licenseId).toBe(purchase.licenseId);
    const first = await client.post('/portal/link', form);
    expect(first.statusCode).toBe(303);
    const license = await client.get('/portal/license');
    expect(license.statusCode).toBe(200);
    expect(textOf(license.body)).toContain('Your Photon license');
    expect(license.body).toContain('action="/portal/key"');

    const again = await browser().get(link);
    expect(again.statusCode).toBe(410);
    expect(accessibilityProblems(again.body)).toEqual([]);
    const replay = await client.post('/portal/link', form);
    expect(replay.statusCode).toBe(410);
    expect(textOf(replay.body)).toContain('This sign-in link no longer works');
  });

  test('an expired link is refused; so is a made-up one, and a form from another browser', async () => {
    const email = `max-${randomUUID()}@example.com`;
    await purchaseFor(email);
    const client = browser();
    await askForLink(client, email);
    const link = await linkFor(email);
    const page = await client.get(link);
    const form = formFields(page.body, '/portal/link');
    // Another browser cannot post this browser's form (the token is bound to its cookie).
    const elsewhere = browser();
    await elsewhere.get('/portal/email');
    expect((await elsewhere.post('/portal/link', form)).statusCode).toBe(403);
    expect((await browser().get('/portal/link?token=' + 'A'.repeat(43))).statusCode).toBe(410);
    expect((await browser().get('/portal/link')).statusCode).toBe(410);

    const start = store.clock.now().getTime();
    try {
      store.clock.advance(15 * 60_000 + 1);
      expect((await client.get(link)).statusCode).toBe(410);
      expect((await client.post('/portal/link', form)).statusCode).toBe(410);
      expect(client.cookies.has('lk_portal')).toBe(false);
    } finally {
      store.clock.set(start);
    }
  });

  test('asking for links is rate limited per address and per client, known or not', async () => {
    const email = `ray-${randomUUID()}@example.com`;
    await purchaseFor(email);
    const stranger = `ghost-${randomUUID()}@example.com`;
    for (const address of [email, stranger]) {
      for (let i = 0; i < SIGN_IN_LIMITS.perAddress.count; i++) {
        expect((await askForLink(browser(), address)).statusCode).toBe(200);
      }
      const limited = await askForLink(browser(), address);
      expect(limited.statusCode).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(800);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(900);
      expect(accessibilityProblems(limited.body)).toEqual([]);
    }
    expect((await mailsTo(email)).filter((m) => m.subject.startsWith('Sign in'))).toHaveLength(3);

    const client = new PageClient(store, { remoteAddress: '10.8.0.1' });
    for (let i = 0; i < SIGN_IN_LIMITS.perClient.count; i++) {
      expect((await askForLink(client, `c${i}-${randomUUID()}@example.com`)).statusCode).toBe(200);
    }
    expect((await askForLink(client, `late-${randomUUID()}@example.com`)).statusCode).toBe(429);
  });

  test('a session opened with the key cannot replace it: only an e-mail link proves the owner', async () => {
    const email = `ida-${randomUUID()}@example.com`;
    const purchase = await purchaseFor(email);
    const client = browser();
    await client.submit('/portal', '/portal/sign-in', { licenseKey: purchase.key });
    const page = await client.get('/portal/license');
    expect(page.body).not.toContain('action="/portal/key"');
    expect(textOf(page.body)).toContain('Sign in with an e-mail link to the address of your order');
    const csrf = formFields(page.body, '/portal/sign-out').csrf!;
    const refused = await client.post('/portal/key', { csrf });
    expect(refused.statusCode).toBe(403);
    expect((await keyGet(store, '/v1/licenses/status', purchase.key)).statusCode).toBe(200);
  });

  test('replacing the key: the old one is 404, the new one works, devices and tokens stay', async () => {
    const email = `joy-${randomUUID()}@example.com`;
    const purchase = await purchaseFor(email);
    const device = await deviceKey();
    const activated = await activate(store, purchase.key, device);
    expect(activated.statusCode).toBe(200);
    const bound: string = activated.json().token;
    // Someone who has the old key is signed in to the portal with it.
    const thief = browser();
    await thief.submit('/portal', '/portal/sign-in', { licenseKey: purchase.key });
    expect((await thief.get('/portal/license')).statusCode).toBe(200);

    const owner = await signedInByLink(email);
    const licensePage = await owner.get('/portal/license');
    expect(accessibilityProblems(licensePage.body)).toEqual([]);
    const replaced = await owner.post('/portal/key', formFields(licensePage.body, '/portal/key'));
    expect(replaced.statusCode).toBe(200);
    expect(accessibilityProblems(replaced.body)).toEqual([]);
    const newKey = LICENSE_KEY_PATTERN.exec(replaced.body)?.[0];
    expect(newKey).toBeDefined();
    expect(newKey).not.toBe(purchase.key);
    expect(textOf(replaced.body)).toContain('it will not be shown again');

    // The old key finds nothing; the new key is the license.
    expect((await keyGet(store, '/v1/licenses/status', purchase.key)).statusCode).toBe(404);
    const status = await keyGet(store, '/v1/licenses/status', newKey!);
    expect(status.statusCode).toBe(200);
    expect(status.json()).toMatchObject({
      license: purchase.licenseId,
      devicesInUse: 1,
      keyHint: hintOf(newKey!),
    });
    // The activated device keeps its seat and refreshes its bound token.
    const refreshed = await keyPost(
      store,
      '/v1/licenses/refresh',
      undefined,
      { token: bound },
      { device },
    );
    expect(refreshed.statusCode, refreshed.body).toBe(200);

    // The owner's browser has a new session; the thief's session has ended.
    expect((await owner.get('/portal/license')).statusCode).toBe(200);
    const after = await thief.get('/portal/license');
    expect(after.statusCode).toBe(303);
    expect(after.headers.location).toBe('/portal');
    // No later page shows the key.
    expect((await owner.get('/portal/license')).body).not.toContain(newKey);

    // Audited: the event (no key in it), a row, and a notice to the customer.
    const events = await eventsOf(store, purchase.licenseId);
    const event = events.find((candidate) => candidate.type === 'license.key_replaced');
    expect(event?.data).toMatchObject({
      licenseId: purchase.licenseId,
      keyHint: hintOf(newKey!),
    });
    expect(JSON.stringify(events)).not.toContain(newKey);
    const audit = await store.db.query<{ old_key_hint: string; new_key_hint: string }>(
      'SELECT old_key_hint, new_key_hint FROM license_key_replacements WHERE license_id = $1',
      [purchase.licenseId],
    );
    expect(audit).toEqual([{ old_key_hint: hintOf(purchase.key), new_key_hint: hintOf(newKey!) }]);
    const notices = (await mailsTo(email)).filter((mail) => /was replaced/.test(mail.subject));
    expect(notices).toHaveLength(1);
    expect(notices[0]!.text).toContain(`The new key ends in ${hintOf(newKey!)}`);
    expect(notices[0]!.text).not.toContain(newKey);
    expect(notices[0]!.html).not.toContain(newKey);
  });

  test('the development mail page lists mail and shows both parts, escaped, to this machine only', async () => {
    const email = `dev-${randomUUID()}@example.com`;
    const purchase = await purchaseFor(email);
    const [receipt] = await mailsTo(email);
    const local = new PageClient(store);
    const list = await local.get('/dev/mail');
    expect(list.statusCode).toBe(200);
    expect(accessibilityProblems(list.body)).toEqual([]);
    expect(list.body).toContain(`href="/dev/mail/${receipt!.id}"`);
    const page = await local.get(`/dev/mail/${receipt!.id}`);
    expect(page.statusCode).toBe(200);
    expect(accessibilityProblems(page.body)).toEqual([]);
    expect(page.headers['cache-control']).toBe('no-store');
    // The HTML part is shown as its source, never as markup of the page.
    expect(page.body).toContain('&lt;code&gt;');
    expect(page.body).not.toContain(`<code>${purchase.key}</code>`);
    expect(textOf(page.body)).toContain(purchase.key);
    expect(page.body).toContain(`<a href="${STORE_URL}/portal/email">`);

    expect((await local.get('/dev/mail/nope')).statusCode).toBe(404);
    const remote = new PageClient(store, { remoteAddress: '203.0.113.9' });
    expect((await remote.get('/dev/mail')).statusCode).toBe(404);
    expect((await remote.get(`/dev/mail/${receipt!.id}`)).statusCode).toBe(404);
  });
});
