import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Writable } from 'node:stream';
import { base64urlDecode } from '@licensekit/core';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildStore, REDACTED_HEADERS } from '../build.js';
import type { Db } from '../db/client.js';
import { newLicenseKey } from '../lib/ids.js';
import { LiveClock, WebhookReceiver } from '../testing/fixtures.js';
import type { TestDatabase, TestStore } from '../testing/harness.js';
import { openTestDatabase, postgresUnavailable, testDatabaseKind } from '../testing/harness.js';
import { activate, deviceKey, keyPost, STORE_URL, storeVerifier } from '../testing/licensing.js';
import { binaryNeedles, licenseKeyBytes, textNeedles } from '../testing/needles.js';
import { formFields, LICENSE_KEY_PATTERN } from '../testing/pages.js';
import { listRoutes } from '../testing/routes.js';

/**
 * Issue 4, Security: "A test dumps the database and collects every log line and response
 * of a full purchase-activate-refresh run and finds no license key and no private key in
 * any of them." Here on a store that owns its data directory (PGlite files in dataDir/db,
 * or PostgreSQL), logging at trace: every response (headers and body), every log line,
 * every webhook delivered, every row of every table and every byte of every file of the
 * data directory are searched for the license key, the root and issuer private keys, the
 * store secret, the admin token, the webhook secret and the Idempotency-Key, each in the
 * encodings they could be stored in. The license key may appear only where it is shown
 * once (the checkout answer and its idempotent replay) and in the receipt mail, which is
 * where the store delivers it; a replaced key only in the answer of the replacement; a
 * sign-in link's token only in its mail and the page it opens; the webhook secret only in
 * the answer that creates the endpoint. Mail is searched as received by the store's
 * development SMTP server (both parts and the headers); the mail outbox is a table.
 */

interface Place {
  where: string;
  text: string;
}

/** Files that are the secrets themselves: checked for their mode, not searched. */
const SECRET_FILES = [
  'keys/root.json',
  'keys/issuer.json',
  'keys/log.json',
  'secret',
  'admin-token',
];

describe.skipIf(postgresUnavailable)(
  `no secret at rest, in logs or in answers (${testDatabaseKind})`,
  () => {
    let root: string;
    let dataDir: string;
    let database: TestDatabase | undefined;
    let store: TestStore;
    let receiver: WebhookReceiver;
    const logLines: string[] = [];
    const responses: Place[] = [];
    const licenseKeys: string[] = [];
    const replacedKeys: string[] = [];
    const linkTokens: string[] = [];
    let mails: Place[] = [];
    let webhookSecret: string;
    const idempotencyKey = randomUUID();
    let tableDump: Place[] = [];
    let files: { path: string; bytes: Buffer }[] = [];

    async function record(label: string, request: InjectOptions): Promise<LightMyRequestResponse> {
      const answer = await store.app.inject(request);
      responses.push({
        where: `response to ${label} (${answer.statusCode})`,
        text: `${JSON.stringify(answer.headers)}\n${answer.body}`,
      });
      return answer;
    }

    beforeAll(async () => {
      root = mkdtempSync(join(tmpdir(), 'licensekit-secrets-'));
      // Not created yet: the store makes it (and must make it 0700).
      dataDir = join(root, 'data');
      database = testDatabaseKind === 'postgres' ? await openTestDatabase() : undefined;
      const clock = new LiveClock();
      const app = await buildStore({
        dataDir,
        // PGlite: the store opens dataDir/db itself, so its files are searched below.
        ...(database ? { db: database.db } : {}),
        publicUrl: STORE_URL,
        seedDemo: true,
        clock,
        licensing: { billing: { enabled: false } },
        operations: {
          webhooks: { pollIntervalMs: 25, retryScheduleMs: [100], retryJitter: 0 },
          jobs: { intervalMs: 0 },
        },
        // The production logger (server.ts) at its most verbose, written to memory.
        logger: {
          level: 'trace',
          redact: { paths: REDACTED_HEADERS, censor: '[redacted]' },
          stream: new Writable({
            write(chunk, _encoding, callback) {
              logLines.push(...String(chunk).split('\n').filter(Boolean));
              callback();
            },
          }),
        },
      });
      store = {
        app,
        db: app.db,
        clock,
        dataDir,
        close: async () => {
          await app.close();
        },
      };
      receiver = await WebhookReceiver.start(clock);
    }, 120_000);

    afterAll(async () => {
      await receiver?.close();
      await store?.app.close().catch(() => undefined);
      await database?.drop();
      rmSync(root, { recursive: true, force: true });
    });

    test('a full purchase, activate, refresh, usage, plan change and webhook run', async () => {
      const adminToken = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
      const admin = { authorization: `Bearer ${adminToken}` };

      // A webhook endpoint on a real local receiver (its secret is shown once).
      const endpoint = await record('create webhook endpoint', {
        method: 'POST',
        url: '/v1/admin/webhooks',
        headers: admin,
        payload: { url: receiver.url },
      });
      expect(endpoint.statusCode).toBe(201);
      webhookSecret = endpoint.json().secret;
      receiver.secret = webhookSecret;

      // Checkout with the test provider and an Idempotency-Key, then the same request again.
      const checkoutRequest: InjectOptions = {
        method: 'POST',
        url: '/v1/checkout',
        headers: { 'idempotency-key': idempotencyKey },
        payload: { productId: 'photon', planId: 'pro-monthly', email: 'ada@example.com' },
      };
      const bought = await record('checkout', checkoutRequest);
      expect(bought.statusCode).toBe(201);
      const replay = await record('checkout replay', checkoutRequest);
      expect(replay.statusCode).toBe(201);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body).toBe(bought.body);
      const key: string = bought.json().license.key;
      const licenseId: string = bought.json().license.id;
      licenseKeys.push(key);
      const byKey = { authorization: `Bearer ${key}` };

      expect(
        (await record('status', { url: '/v1/licenses/status', headers: byKey })).statusCode,
      ).toBe(200);

      // Activation with a device key and its proof; refresh by token (bound: with a proof).
      const device = await deviceKey();
      const activated = await activate(store, key, device);
      responses.push({
        where: 'response to activate',
        text: `${JSON.stringify(activated.headers)}\n${activated.body}`,
      });
      expect(activated.statusCode).toBe(200);
      const bound: string = activated.json().token;
      const byToken = await keyPost(
        store,
        '/v1/licenses/refresh',
        undefined,
        { token: bound },
        { device },
      );
      responses.push({
        where: 'response to refresh by token',
        text: `${JSON.stringify(byToken.headers)}\n${byToken.body}`,
      });
      expect(byToken.statusCode).toBe(200);
      const byKeyRefresh = await keyPost(store, '/v1/licenses/refresh', key, {});
      responses.push({
        where: 'response to refresh by key',
        text: `${JSON.stringify(byKeyRefresh.headers)}\n${byKeyRefresh.body}`,
      });
      expect(byKeyRefresh.statusCode).toBe(200);

      // Usage: a report signed by the device (the real verifier) and a plain one with the key.
      const verifier = await storeVerifier(store, { device });
      expect((await verifier.consume(byToken.json().token, 'exports', 3)).granted).toBe(true);
      const outcome = await verifier.usageReport(byToken.json().token);
      const signed = await record('signed usage report', {
        method: 'POST',
        url: '/v1/licenses/usage',
        payload: { signed: outcome.signed! },
      });
      expect(signed.statusCode).toBe(202);
      const plain = await record('plain usage report', {
        method: 'POST',
        url: '/v1/licenses/usage',
        headers: byKey,
        payload: { ...outcome.report!, device: 'desktop', seq: outcome.report!.seq + 1 },
      });
      expect(plain.statusCode).toBe(202);
      expect(
        (await record('quotas', { url: '/v1/licenses/quotas', headers: byKey })).statusCode,
      ).toBe(200);

      // Plan change: preview, then apply (an upgrade, charged through the test provider).
      for (const confirm of [false, true]) {
        const change = await record(`plan change (confirm ${confirm})`, {
          method: 'POST',
          url: '/v1/licenses/plan',
          headers: byKey,
          payload: { planId: 'team-yearly', confirm },
        });
        expect(change.statusCode, change.body).toBe(200);
      }
      expect(
        (await record('token download', { url: '/v1/licenses/token', headers: byKey })).statusCode,
      ).toBe(200);
      const attachments = await record('attachments', { url: '/v1/attachments', headers: byKey });
      for (const file of attachments.json().attachments as { id: string }[]) {
        await record('attachment download', { url: `/v1/attachments/${file.id}`, headers: byKey });
      }
      const deactivated = await record('deactivate', {
        method: 'POST',
        url: '/v1/licenses/deactivate',
        headers: byKey,
        payload: { thumbprint: device.thumbprint },
      });
      expect(deactivated.statusCode).toBe(200);

      // Mistyped keys (look-alikes, another case, one character off): refused, never echoed.
      const typo = `${key.slice(0, -1)}${key.endsWith('0') ? '1' : '0'}`;
      for (const attempt of [typo, key.toLowerCase().replace(/-/g, ' '), `${key}X`]) {
        await record('mistyped key', {
          url: '/v1/licenses/status',
          headers: { authorization: `Bearer ${attempt}` },
        });
      }
      // The key where it does not belong: in a JSON body, in a cookie, in a malformed body.
      await record('key in body', {
        method: 'POST',
        url: '/v1/licenses/refresh',
        headers: { 'content-type': 'application/json' },
        payload: { token: key },
      });
      await record('key in cookie', {
        url: '/v1/licenses/quotas',
        headers: { ...byKey, cookie: `k=${key}` },
      });
      await record('key in malformed body', {
        method: 'POST',
        url: '/v1/licenses/refresh',
        headers: { ...byKey, 'content-type': 'application/json' },
        payload: `{"thumbprint": "${key}`,
      });

      // The customer portal, when the pages are there: sign in with the key, see the license.
      if (listRoutes(store.app).some((route) => route.pattern === '/portal/sign-in')) {
        const form = await record('portal sign-in page', {
          url: '/portal',
          headers: { accept: 'text/html' },
        });
        const cookie = cookiesOf(form);
        const csrf = /name="csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
        const signIn = await record('portal sign-in', {
          method: 'POST',
          url: '/portal/sign-in',
          headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
          payload: new URLSearchParams({ csrf, licenseKey: key }).toString(),
        });
        expect(signIn.statusCode, signIn.body).toBe(303);
        const session = [cookie, cookiesOf(signIn)].filter(Boolean).join('; ');
        const page = await record('portal license page', {
          url: '/portal/license',
          headers: { cookie: session },
        });
        expect(page.statusCode).toBe(200);
      }

      // The key lost: sign in with an e-mail link, replace the key (the new one shown once).
      if (listRoutes(store.app).some((route) => route.pattern === '/portal/email')) {
        const post = (cookie: string, fields: Record<string, string>): InjectOptions => ({
          method: 'POST',
          headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
          payload: new URLSearchParams(fields).toString(),
        });
        const form = await record('e-mail sign-in page', {
          url: '/portal/email',
          headers: { accept: 'text/html' },
        });
        const cookie = cookiesOf(form);
        const asked = await record('e-mail sign-in request', {
          ...post(cookie, { ...formFields(form.body, '/portal/email'), email: 'ada@example.com' }),
          url: '/portal/email',
        });
        expect(asked.statusCode).toBe(200);
        await store.app.mail.worker.flush();
        const linkMail = await store.app.mail.devInbox!.waitFor((mail) =>
          mail.subject.startsWith('Sign in'),
        );
        const link = /https?:\/\/[^/\s]+(\/portal\/link\?token=([\w-]+))/.exec(linkMail.text)!;
        linkTokens.push(link[2]!);
        const linkPage = await record('sign-in link page', {
          url: link[1]!,
          headers: { accept: 'text/html', cookie },
        });
        const used = await record('sign-in link use', {
          ...post(cookie, formFields(linkPage.body, '/portal/link')),
          url: '/portal/link',
        });
        expect(used.statusCode, used.body).toBe(303);
        const session = [cookie, cookiesOf(used)].join('; ');
        const page = await record('portal license page (e-mail session)', {
          url: '/portal/license',
          headers: { cookie: session },
        });
        const replaced = await record('portal key replacement', {
          ...post(session, formFields(page.body, '/portal/key')),
          url: '/portal/key',
        });
        expect(replaced.statusCode).toBe(200);
        const newKey = LICENSE_KEY_PATTERN.exec(replaced.body)![0];
        replacedKeys.push(newKey);
        const status = await record('status with the new key', {
          url: '/v1/licenses/status',
          headers: { authorization: `Bearer ${newKey}` },
        });
        expect(status.statusCode).toBe(200);
      }

      // Admin views of the same license, order and webhook deliveries.
      for (const url of [
        `/v1/admin/licenses/${licenseId}`,
        '/v1/admin/licenses',
        '/v1/admin/orders',
        `/v1/admin/webhooks/${endpoint.json().endpoint.id}/messages`,
      ]) {
        expect((await record(`admin ${url}`, { url, headers: admin })).statusCode).toBe(200);
      }

      // Webhooks delivered to the receiver, signatures verified there.
      const delivered = await receiver.waitFor((received) =>
        ['license.created', 'license.plan_changed'].every((type) =>
          received.some((delivery) => delivery.verified && delivery.body.includes(`"${type}"`)),
        ),
      );
      for (const delivery of delivered) {
        responses.push({
          where: `webhook delivery ${delivery.id}`,
          text: `${JSON.stringify(delivery.headers)}\n${delivery.body}`,
        });
      }

      // Every mail the store sent, as the development SMTP server received it.
      await store.app.mail.worker.flush();
      const receipt = await store.app.mail.devInbox!.waitFor(
        (mail) => mail.subject === 'Your Photon license key',
      );
      expect(receipt.text).toContain(key);
      mails = store.app.mail.devInbox!.messages().map((mail) => ({
        where: `mail "${mail.subject}"`,
        text: `${[...mail.headers.values()].join('\n')}\n${mail.text}\n${mail.html ?? ''}`,
      }));

      // Every table, every row (bytea as hex and base64).
      tableDump = await dumpTables(store.db);
      expect(tableDump.map((place) => place.where)).toEqual(
        expect.arrayContaining([
          'table licenses',
          'table tokens',
          'table idempotency_keys',
          'table webhook_endpoints',
          'table mail_outbox',
          'table sign_in_links',
        ]),
      );
      expect(tableDump.find((place) => place.where === 'table licenses')?.text).toContain(
        licenseId,
      );

      // Close (PGlite writes everything out), then read every file of the data directory.
      await store.app.close();
      files = walk(dataDir)
        .filter((path) => !SECRET_FILES.includes(relative(dataDir, path)))
        .map((path) => ({ path: relative(dataDir, path), bytes: readFileSync(path) }));
      if (testDatabaseKind === 'pglite') {
        expect(files.filter((file) => file.path.startsWith('db/')).length).toBeGreaterThan(100);
        // The run is in there: the license id is readable in the raw table files.
        expect(files.some((file) => file.bytes.includes(licenseId))).toBe(true);
      }
    });

    test('no license key, private key, store secret, admin token or webhook secret anywhere', () => {
      expect(licenseKeys).toHaveLength(1);
      const key = licenseKeys[0]!;
      const privateKey = (name: string) =>
        JSON.parse(readFileSync(join(dataDir, 'keys', name), 'utf8')).d as string;
      const storeSecret = readFileSync(join(dataDir, 'secret'), 'utf8').trim();
      const adminToken = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
      const secrets: {
        name: string;
        text: string[];
        bytes: Buffer[];
        allowedIn: RegExp | undefined;
      }[] = [
        {
          name: 'license key',
          text: textNeedles(key, licenseKeyBytes(key)),
          bytes: binaryNeedles(licenseKeyBytes(key)),
          allowedIn: /^response to checkout( replay)? \(201\)$|^mail "Your Photon license key"$/,
        },
        ...replacedKeys.map((replaced) => ({
          name: 'replaced license key',
          text: textNeedles(replaced, licenseKeyBytes(replaced)),
          bytes: binaryNeedles(licenseKeyBytes(replaced)),
          allowedIn: /^response to portal key replacement \(200\)$/,
        })),
        ...linkTokens.map((token) => ({
          name: 'sign-in link token',
          text: textNeedles(token, Buffer.from(token, 'base64url')),
          bytes: binaryNeedles(Buffer.from(token, 'base64url')),
          allowedIn: /^mail "Sign in to the acme store"$|^response to sign-in link page \(200\)$/,
        })),
        ...['root.json', 'issuer.json', 'log.json'].map((file) => {
          const d = privateKey(file);
          return {
            name: `${file} private key`,
            text: textNeedles(d, base64urlDecode(d, 'd')),
            bytes: binaryNeedles(base64urlDecode(d, 'd')),
            allowedIn: undefined,
          };
        }),
        {
          name: 'store secret',
          text: textNeedles(storeSecret, base64urlDecode(storeSecret, 'secret')),
          bytes: binaryNeedles(base64urlDecode(storeSecret, 'secret')),
          allowedIn: undefined,
        },
        { name: 'admin token', text: textNeedles(adminToken), bytes: [], allowedIn: undefined },
        {
          name: 'webhook secret',
          text: textNeedles(
            webhookSecret,
            Buffer.from(webhookSecret.slice('whsec_'.length), 'base64'),
          ),
          bytes: binaryNeedles(Buffer.from(webhookSecret.slice('whsec_'.length), 'base64')),
          allowedIn: /^response to create webhook endpoint \(201\)$/,
        },
        {
          name: 'Idempotency-Key',
          text: textNeedles(idempotencyKey),
          bytes: [],
          allowedIn: undefined,
        },
      ];

      const places: Place[] = [
        ...responses,
        ...mails,
        ...logLines.map((line, index) => ({ where: `log line ${index + 1}`, text: line })),
        ...tableDump,
      ];
      expect(logLines.length).toBeGreaterThan(50);
      expect(store.app.log.level).toBe('trace'); // nothing filtered out by level
      expect(responses.length).toBeGreaterThan(25);
      expect(files.length).toBeGreaterThan(3);

      const hits: string[] = [];
      for (const secret of secrets) {
        for (const place of places) {
          const needle = secret.text.find((candidate) => place.text.includes(candidate));
          if (needle && !secret.allowedIn?.test(place.where)) {
            hits.push(`${secret.name} (as ${JSON.stringify(needle)}) in ${place.where}`);
          }
        }
        for (const file of files) {
          const needle = [...secret.text.map((text) => Buffer.from(text)), ...secret.bytes].find(
            (candidate) => file.bytes.includes(candidate),
          );
          if (needle) hits.push(`${secret.name} in file ${file.path}`);
        }
      }
      expect(hits).toEqual([]);
      // The allowed places really are where the key is shown: the search is not blind.
      expect(
        responses.filter((place) => place.text.includes(key)).map((place) => place.where),
      ).toEqual(['response to checkout (201)', 'response to checkout replay (201)']);
      expect(mails.filter((place) => place.text.includes(key)).map((place) => place.where)).toEqual(
        ['mail "Your Photon license key"'],
      );
      if (replacedKeys.length > 0) {
        expect(
          responses
            .filter((place) => place.text.includes(replacedKeys[0]!))
            .map((place) => place.where),
        ).toEqual(['response to portal key replacement (200)']);
        expect(
          mails.filter((place) => place.text.includes(linkTokens[0]!)).map((p) => p.where),
        ).toEqual(['mail "Sign in to the acme store"']);
      }
    });

    test('key files are 0600, the data and keys directories 0700', () => {
      const mode = (path: string) => statSync(join(dataDir, path)).mode & 0o777;
      expect(mode('.').toString(8)).toBe('700');
      expect(mode('keys').toString(8)).toBe('700');
      for (const file of SECRET_FILES) expect(mode(file).toString(8), file).toBe('600');
      if (testDatabaseKind === 'pglite') expect(mode('db').toString(8)).toBe('700');
    });
  },
);

test('the search finds a secret in every encoding it looks for', () => {
  const key = newLicenseKey();
  const bytes = licenseKeyBytes(key);
  const needles = textNeedles(key, bytes);
  for (const haystack of [
    JSON.stringify({ note: `my key is ${key}` }),
    `x${key.toLowerCase().replace(/-/g, '')}y`,
    Buffer.from(`{"k":"${key}"}`).toString('base64'),
    Buffer.from(`xx${key}`).toString('base64url'),
    Buffer.from(`{"k":"${key}"}`).toString('hex'),
    Buffer.concat([Buffer.from('a'), bytes, Buffer.from('zz')]).toString('base64'),
    `\\x${bytes.toString('hex')}`,
  ]) {
    expect(
      needles.some((needle) => haystack.includes(needle)),
      haystack,
    ).toBe(true);
  }
  expect(needles.some((needle) => newLicenseKey().includes(needle))).toBe(false);
});

function cookiesOf(answer: LightMyRequestResponse): string {
  const header = answer.headers['set-cookie'];
  const list = header === undefined ? [] : Array.isArray(header) ? header : [header];
  return list.map((cookie) => cookie.split(';')[0]).join('; ');
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return walk(path);
    return entry.isFile() ? [path] : [];
  });
}

/** Every row of every table of the public schema, as JSON; bytea as hex and base64. */
async function dumpTables(db: Db): Promise<Place[]> {
  const tables = await db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  const places: Place[] = [];
  for (const { table_name: table } of tables) {
    const rows = await db.query(`SELECT * FROM "${table}"`);
    places.push({
      where: `table ${table}`,
      text: JSON.stringify(rows, (_key, value: unknown) => {
        // A Buffer (pg) arrives here already through its toJSON; a Uint8Array (PGlite) as is.
        const buffer = value as { type?: unknown; data?: unknown } | null;
        if (
          value instanceof Uint8Array ||
          (buffer?.type === 'Buffer' && Array.isArray(buffer.data))
        ) {
          const bytes = Buffer.from(
            value instanceof Uint8Array ? value : (buffer!.data as number[]),
          );
          return { hex: bytes.toString('hex'), base64: bytes.toString('base64') };
        }
        if (typeof value === 'bigint') return value.toString();
        return value;
      }),
    });
  }
  return places;
}
