import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ERROR_CODES } from '../errors.js';
import type { TextRule } from '../lib/text-guard.js';
import {
  findForbiddenCharacter,
  findInvalidText,
  isAcceptableText,
  shownPointer,
} from '../lib/text-guard.js';
import { READ_HEADERS } from '../plugins/text-guard.js';
import { ADMIN } from '../testing/fixtures.js';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../testing/harness.js';
import { activate, buy, checkoutRequest, deviceKey, keyPost } from '../testing/licensing.js';
import { formFields, PageClient, textOf } from '../testing/pages.js';
import type { RouteEntry } from '../testing/routes.js';
import { listRoutes, sampleUrl } from '../testing/routes.js';

/**
 * Text with control characters is refused everywhere, before it reaches a handler or the
 * database: a NUL in a checkout e-mail was a 500 on both databases (PostgreSQL text cannot
 * hold it) and the request was lost. The rule (lib/text-guard.ts) as properties, then the
 * store: the reported cases, every place text comes from (JSON at any depth, forms, query,
 * path, headers), every string field of every POST route, and ordinary Unicode still taken.
 */

const NUL = '\u0000';
const RULES: TextRule[] = ['single-line', 'multi-line', 'header'];

/** Code points refused by every rule. */
const alwaysRefused = fc.oneof(
  fc.integer({ min: 0x00, max: 0x1f }).filter((cp) => cp !== 0x09 && cp !== 0x0a && cp !== 0x0d),
  fc.constant(0x7f),
  fc.integer({ min: 0x80, max: 0x9f }),
  fc.integer({ min: 0xd800, max: 0xdfff }), // alone: never paired in the strings below
);

/** Code points every rule accepts: printable ASCII, the rest of the BMP, astral planes. */
const text = fc.string({
  unit: fc
    .oneof(
      fc.integer({ min: 0x20, max: 0x7e }),
      fc.integer({ min: 0xa0, max: 0xd7ff }),
      fc.integer({ min: 0xe000, max: 0xffff }),
      fc.integer({ min: 0x10000, max: 0x10ffff }),
    )
    .map((cp) => String.fromCodePoint(cp)),
});

/** Any UTF-16 code units, lone surrogates and controls included. */
const anyUnits = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)),
});

/** The rule stated independently: by code point, as iteration splits a string. */
function acceptedByDefinition(value: string, rule: TextRule): boolean {
  const whitespace = rule === 'multi-line' ? [0x09, 0x0a, 0x0d] : rule === 'header' ? [0x09] : [];
  return [...value].every((character) => {
    const cp = character.codePointAt(0)!;
    if (whitespace.includes(cp)) return true;
    return !(cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0xd800 && cp <= 0xdfff));
  });
}

describe('the text rule', () => {
  test('a string holding a refused code point is refused by every rule, at its index', () => {
    fc.assert(
      fc.property(text, alwaysRefused, text, (before, cp, after) => {
        const value = before + String.fromCharCode(cp) + after;
        for (const rule of RULES) {
          expect(findForbiddenCharacter(value, rule)).toEqual({
            index: before.length,
            codePoint: cp,
            kind: cp >= 0xd800 ? 'surrogate' : 'control',
          });
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('a string of text is accepted by every rule', () => {
    fc.assert(
      fc.property(text, (value) => RULES.every((rule) => isAcceptableText(value, rule))),
      { numRuns: 2000 },
    );
  });

  test('on any UTF-16 at all, the guard agrees with the rule as written', () => {
    fc.assert(
      fc.property(anyUnits, fc.constantFrom(...RULES), (value, rule) => {
        expect(isAcceptableText(value, rule)).toBe(acceptedByDefinition(value, rule));
      }),
      { numRuns: 5000 },
    );
  });

  test('TAB, LF and CR only where the rule allows them', () => {
    for (const [whitespace, rules] of [
      ['\t', ['multi-line', 'header']],
      ['\n', ['multi-line']],
      ['\r\n', ['multi-line']],
    ] as const) {
      for (const rule of RULES) {
        expect(isAcceptableText(`a${whitespace}b`, rule), `${whitespace} ${rule}`).toBe(
          (rules as readonly string[]).includes(rule),
        );
      }
    }
  });

  test('surrogate pairs are text; halves are not, in any order', () => {
    expect(isAcceptableText('😀')).toBe(true);
    expect(isAcceptableText('\ud83d\ude00\ud83d\ude00')).toBe(true);
    expect(findForbiddenCharacter('a\ud83d')).toMatchObject({ index: 1, kind: 'surrogate' });
    expect(findForbiddenCharacter('\ude00\ud83d')).toMatchObject({ index: 0, codePoint: 0xde00 });
    expect(findForbiddenCharacter('\ud83d\ud83d\ude00')).toMatchObject({ index: 0 });
  });

  test('ordinary Unicode is text: emoji, CJK, accents, right-to-left, joiners', () => {
    for (const value of [
      'Zoë Ångström-Nuñez',
      '東京のノートPC',
      'שלום עולם',
      'مرحبا',
      '👩‍💻 laptop',
      'naïve café',
      'a\u00a0b',
    ]) {
      expect(isAcceptableText(value), value).toBe(true);
    }
  });

  test('findInvalidText walks values and member names in document order, at any depth', () => {
    expect(findInvalidText({ a: 'ok', b: [{ c: 'ok' }, { d: `x${NUL}` }] })).toEqual({
      pointer: '/b/1/d',
      memberName: false,
      character: { index: 1, codePoint: 0, kind: 'control' },
    });
    expect(findInvalidText({ first: `${NUL}`, second: `${NUL}` })?.pointer).toBe('/first');
    expect(findInvalidText({ a: { [`k${NUL}`]: 1 } })).toMatchObject({
      pointer: '/a',
      memberName: true,
    });
    expect(findInvalidText({ 'a/b~c': [1, true, null, '\u007f'] })?.pointer).toBe('/a~1b~0c/3');
    expect(findInvalidText(`${NUL}`)?.pointer).toBe('');
    expect(findInvalidText(Buffer.from([0, 1, 2]))).toBeUndefined();
    expect(findInvalidText({ file: new Uint8Array([0]), n: 0 })).toBeUndefined();
    const deep = JSON.parse(`${'['.repeat(5000)}"${'\\u0000'}"${']'.repeat(5000)}`);
    expect(findInvalidText(deep)?.pointer).toBe('/0'.repeat(5000));
  });

  test('the rule per value comes from its pointer; member names are always single-line', () => {
    const rule = (pointer: string): TextRule =>
      pointer === '/description' ? 'multi-line' : 'single-line';
    expect(findInvalidText({ description: 'a\nb', name: 'n' }, rule)).toBeUndefined();
    expect(findInvalidText({ description: 'a\nb', name: 'n\n' }, rule)?.pointer).toBe('/name');
    expect(findInvalidText({ description: `a${NUL}` }, rule)?.pointer).toBe('/description');
    expect(findInvalidText({ 'x\ny': 'a' }, () => 'multi-line')?.memberName).toBe(true);
  });

  test('pointers shown in messages cut long member names by code point', () => {
    expect(shownPointer('/a/1')).toBe('/a/1');
    expect(shownPointer(`/${'😀'.repeat(100)}`)).toBe(`/${'😀'.repeat(64)}…`);
  });
});

interface Sample {
  body?: unknown;
  /** A query string, for the upload (its body is the file). */
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** Credentials: the admin token (default under /v1/admin) or the license key. */
  auth?: 'admin' | 'key' | 'none';
}

/**
 * A body each POST route accepts, with a string in every field it reads. The list is
 * checked complete against the route tree, so a new route must add itself here.
 */
const SAMPLES: Record<string, Sample> = {
  '/v1/checkout': {
    body: { productId: 'photon', planId: 'pro-monthly', email: 'buyer@example.com' },
    auth: 'none',
  },
  '/v1/licenses/activate': {
    body: {
      device: {
        publicJwk: { kty: 'OKP', crv: 'Ed25519', x: 'A'.repeat(43), kid: 'k1' },
        name: 'laptop',
      },
    },
  },
  '/v1/licenses/deactivate': { body: { deviceId: 'dev_nope' } },
  '/v1/licenses/offline': { body: { request: 'LK1-REQ.x.y', format: 'jwt' } },
  '/v1/licenses/refresh': { body: { token: 'not-a-token', format: 'jwt' } },
  '/v1/licenses/usage': {
    body: { license: 'lic_x', product: 'photon', seq: 1, generatedAt: 1, quotas: {} },
  },
  '/v1/licenses/plan': { body: { planId: 'pro-yearly', confirm: false, format: 'jwt' } },
  '/v1/licenses/seats': { body: { seats: 2, confirm: false, format: 'jwt' } },
  '/v1/licenses/cancel': { body: { format: 'jwt' } },
  '/v1/licenses/cancel/undo': { body: { format: 'jwt' } },
  '/v1/webhooks/payments/:provider': {
    body: {
      type: 'payment.succeeded',
      data: { providerRef: 'ref_1', refundRef: 're_1', reason: 'asked' },
    },
    auth: 'none',
  },
  '/v1/admin/products': { body: { id: 'lamp', name: 'Lamp', description: 'A lamp.' } },
  '/v1/admin/products/:productId/plans': {
    body: {
      id: 'basic',
      name: 'Basic',
      description: 'The basics.',
      price: { amount: 100, currency: 'USD' },
      interval: 'month',
      entitlements: ['export'],
    },
  },
  '/v1/admin/licenses/:licenseId/revoke': { body: { reason: 'chargeback' } },
  '/v1/admin/licenses/:licenseId/offline': { body: { request: 'LK1-REQ.x.y', format: 'jwt' } },
  '/v1/admin/orders/:orderId/mark-paid': { body: { note: 'paid by transfer' } },
  '/v1/admin/orders/:orderId/refunds': { body: { amount: 100, reason: 'asked' } },
  '/v1/admin/orders/:orderId/chargebacks': { body: { amount: 100, reason: 'disputed' } },
  '/v1/admin/revocations': { body: { kind: 'license', value: 'lic_x', reason: 'fraud' } },
  '/v1/admin/revocation-lists': { body: { list: 'eyJhbGciOiJFZERTQSJ9.e30.sig' } },
  // No body and no parameters: nothing that could carry text.
  '/v1/admin/log/checkpoint': {},
  '/v1/admin/vendors': {
    body: {
      id: 'sample-vendor',
      name: 'Sample',
      invoiceDetails: { legalName: 'S', address: 'A', taxId: 'T', email: 'e@example.com' },
    },
  },
  '/v1/admin/payouts/run': { body: { vendorId: 'acme' } },
  '/v1/admin/vendors/:vendorId/tokens': { body: { label: 'support desk' } },
  '/v1/admin/payouts/:payoutId/confirm': { body: { reference: 'wire 1' } },
  '/v1/admin/webhooks': {
    body: { url: 'https://hooks.example.com/in', events: ['license.created'] },
  },
  '/v1/admin/attachments': {
    body: { productId: 'photon', name: 'notes.txt', path: 'notes.txt', contentType: 'text/plain' },
  },
  '/v1/admin/attachments/upload': {
    query: { productId: 'photon', name: 'notes.txt', contentType: 'text/plain' },
    headers: { 'content-type': 'application/octet-stream' },
    body: Buffer.from('hello'),
  },
};

/** The pages' forms, with every field each one reads (values need not be valid). */
const FORMS: Record<string, Record<string, string>> = {
  '/portal/email': { email: 'someone@example.com', csrf: 'token' },
  '/portal/link': { token: 'A'.repeat(43), licenseId: 'lic_x', csrf: 'token' },
  '/portal/key': { csrf: 'token' },
  '/checkout': {
    productId: 'photon',
    planId: 'pro-monthly',
    email: 'buyer@example.com',
    seats: '1',
    trial: 'yes',
    idempotencyKey: 'A'.repeat(22),
    csrf: 'token',
  },
  '/portal/sign-in': { licenseKey: 'LK-00000-00000', csrf: 'token' },
  '/portal/sign-out': { csrf: 'token' },
  '/portal/devices/deactivate': { deviceId: 'dev_x', csrf: 'token' },
  '/portal/plan': { planId: 'pro-yearly', seats: '2', quote: '100', csrf: 'token' },
  '/portal/cancel': { csrf: 'token' },
  '/portal/cancel/undo': { csrf: 'token' },
  '/portal/pay': { csrf: 'token' },
  '/portal/license/offline': { request: 'LK1-REQ.x.y', csrf: 'token' },
  '/portal/license/offline/confirm': { request: 'LK1-REQ.x.y', csrf: 'token' },
  '/admin/sign-in': { token: 'not-the-token', csrf: 'token' },
  '/admin/sign-out': { csrf: 'token' },
  '/admin/catalogue': { id: 'sample', name: 'Sample', description: 'A sample', csrf: 'token' },
  '/admin/catalogue/products/:productId': {
    name: 'Sample',
    description: 'A sample',
    csrf: 'token',
  },
  '/admin/catalogue/products/:productId/deactivate': { csrf: 'token' },
  '/admin/catalogue/products/:productId/plans': { id: 'basic', name: 'Basic', csrf: 'token' },
  '/admin/catalogue/products/:productId/plans/:planId': { name: 'Basic', csrf: 'token' },
  '/admin/catalogue/products/:productId/plans/:planId/deactivate': { csrf: 'token' },
  '/admin/licenses/:licenseId/revoke': { reason: 'abuse', confirm: 'yes', csrf: 'token' },
  '/admin/orders/:orderId/refund': {
    reason: 'asked',
    amount: '1.00',
    confirm: 'yes',
    csrf: 'token',
  },
  '/admin/orders/:orderId/resend-receipt': { csrf: 'token' },
  '/admin/webhooks/:endpointId/messages/:messageId/redeliver': { csrf: 'token' },
  '/portal/licenses/open': { licenseId: 'lic_x', csrf: 'token' },
  '/vendor/sign-in': { token: 'lkv_x', csrf: 'token' },
  '/vendor/sign-out': { csrf: 'token' },
};

/** Every string in a value, by JSON Pointer. */
function stringLeaves(value: unknown, pointer = ''): string[] {
  if (typeof value === 'string') return [pointer];
  if (Array.isArray(value))
    return value.flatMap((item, i) => stringLeaves(item, `${pointer}/${i}`));
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value))
    return Object.entries(value).flatMap(([name, member]) =>
      stringLeaves(member, `${pointer}/${name}`),
    );
  return [];
}

/** A copy of `value` with `insert` put into the middle of the string at `pointer`. */
function withInserted(value: unknown, pointer: string, insert: string): unknown {
  const copy = structuredClone(value);
  const segments = pointer.split('/').slice(1);
  const last = segments.pop()!;
  let parent = copy as Record<string, unknown>;
  for (const segment of segments) parent = parent[segment] as Record<string, unknown>;
  const old = parent[last] as string;
  parent[last] = old.slice(0, 1) + insert + old.slice(1);
  return copy;
}

describe.skipIf(postgresUnavailable)('the store refuses control characters in text', () => {
  let store: TestStore;
  let key: string;
  let routes: RouteEntry[];
  let clients = 0;
  const browser = () => new PageClient(store, { remoteAddress: `10.9.0.${++clients}` });

  beforeAll(async () => {
    store = await buildTestStore({
      operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
    });
    key = (await buy(store)).key;
    routes = listRoutes(store.app);
  });
  afterAll(async () => store?.close());

  async function count(table: string): Promise<number> {
    const [row] = await store.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
    return row!.n;
  }

  /** 400 TEXT_INVALID, naming `where` and never echoing the refused character. */
  function expectRefused(answer: LightMyRequestResponse, where: string, what = where) {
    expect(answer.statusCode, what).toBe(400);
    const { error } = answer.json() as { error: { code: string; message: string } };
    expect(error.code, what).toBe('TEXT_INVALID');
    expect(error.message, what).toContain(where);
    expect(isAcceptableText(answer.body), `${what}: the answer echoes the text`).toBe(true);
  }

  function expectRefusedPage(answer: LightMyRequestResponse, field: string, what = field) {
    expect(answer.statusCode, what).toBe(400);
    expect(answer.headers['content-type'], what).toMatch(/^text\/html/);
    const page = textOf(answer.body);
    expect(page, what).toContain('Something in the request is not right');
    expect(page, what).toContain(`The form field “${field}” holds`);
    expect(isAcceptableText(answer.body, 'multi-line'), `${what}: the page echoes the text`).toBe(
      true,
    );
  }

  test('the reported case: a NUL in the checkout e-mail is 400, and nothing is written', async () => {
    const orders = await count('orders');
    const customers = await count('customers');
    const keys = await count('idempotency_keys');
    const answer = await checkoutRequest(store, {
      productId: 'photon',
      planId: 'pro-monthly',
      email: `buyer${NUL}@example.com`,
    });
    expectRefused(answer, '/email');
    expect(answer.json().error.message).toBe(
      'The body member /email holds U+0000 (a control character), which the store does not accept in text.',
    );
    expect(await count('orders')).toBe(orders);
    expect(await count('customers')).toBe(customers);
    expect(await count('idempotency_keys')).toBe(keys);
  });

  test('the reported case: a NUL in a device name at activation is 400, no device added', async () => {
    const purchase = await buy(store);
    const devices = await count('devices');
    const device = await deviceKey();
    const answer = await activate(store, purchase.key, device, {
      device: { publicJwk: device.publicJwk, name: `laptop${NUL}` },
    });
    expectRefused(answer, '/device/name');
    expect(await count('devices')).toBe(devices);
    // The same activation without the NUL goes through.
    expect((await activate(store, purchase.key, device)).statusCode).toBe(200);
  });

  test('other controls, DEL, C1 and a lone surrogate sent as a JSON escape are refused', async () => {
    const orders = await count('orders');
    for (const [jsonEscape, code] of [
      ['\\u0001', 'U+0001'],
      ['\\u001b', 'U+001B'],
      ['\\u007f', 'U+007F'],
      ['\\u0085', 'U+0085'],
      ['\\u009f', 'U+009F'],
      ['\\ud800', 'U+D800'],
      ['\\udfff', 'U+DFFF'],
      ['\\n', 'U+000A'],
      ['\\t', 'U+0009'],
    ]) {
      // Sent as the client wrote it: the escape is in the JSON text, not a raw character.
      const answer = await store.app.inject({
        method: 'POST',
        url: '/v1/checkout',
        headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
        payload: `{"productId":"photon","planId":"pro-monthly","email":"a${jsonEscape}b@example.com"}`,
      });
      expectRefused(answer, '/email', jsonEscape);
      expect(answer.json().error.message, jsonEscape).toContain(code);
    }
    expect(await count('orders')).toBe(orders);
  });

  test('in nested members, arrays and member names of JSON bodies', async () => {
    const activation = await keyPost(store, '/v1/licenses/activate', key, {
      device: { publicJwk: { kty: 'OKP', crv: 'Ed25519', x: 'A'.repeat(43), kid: `k${NUL}` } },
    });
    expectRefused(activation, '/device/publicJwk/kid');
    const plan = await store.app.inject({
      method: 'POST',
      url: '/v1/admin/products/photon/plans',
      headers: ADMIN,
      payload: {
        ...(SAMPLES['/v1/admin/products/:productId/plans']!.body as object),
        entitlements: ['export', `x\u0085`],
      },
    });
    expectRefused(plan, '/entitlements/1');
    const name = await store.app.inject({
      method: 'POST',
      url: '/v1/admin/products/photon/plans',
      headers: ADMIN,
      payload: { id: 'basic', quotas: { [`seats${NUL}`]: { limit: 1 } } },
    });
    expectRefused(name, 'A member name in the body at /quotas');
  });

  test('in query parameters and path parameters', async () => {
    expectRefused(
      await store.app.inject({ url: '/v1/admin/orders?cursor=%00', headers: ADMIN }),
      'The query parameter “cursor”',
    );
    expectRefused(
      await store.app.inject({
        url: '/v1/licenses/token?format=jwt%7F',
        headers: { authorization: `Bearer ${key}` },
      }),
      'The query parameter “format”',
    );
    expectRefused(
      await store.app.inject({ url: '/v1/products/photon%00' }),
      'The path parameter “productId”',
    );
    expectRefused(
      await store.app.inject({
        method: 'DELETE',
        url: '/v1/admin/products/%C2%85',
        headers: ADMIN,
      }),
      'The path parameter “productId”',
    );
    // A surrogate percent-encoded as UTF-8 (CESU-8) cannot decode: the query keeps it as
    // the literal text, the router refuses the path. Never a 5xx.
    for (const url of ['/v1/products?x=%ED%A0%80', '/v1/products/%ED%A0%80']) {
      const answer = await store.app.inject({ url });
      expect(answer.statusCode, url).toBeLessThan(500);
    }
    // An unknown path: refused for its text before it is looked up.
    expectRefused(await store.app.inject({ url: '/nowhere%00' }), 'The URL path');
  });

  test('in the headers the store reads: Idempotency-Key, Authorization, DPoP, webhooks', async () => {
    const orders = await count('orders');
    const body = SAMPLES['/v1/checkout']!.body as Record<string, unknown>;
    for (const idempotencyKey of [`key${NUL}1`, 'key\u00851', 'key\u007f', 'key\ud800']) {
      const answer = await checkoutRequest(store, body, idempotencyKey);
      expectRefused(answer, 'The idempotency-key header', JSON.stringify(idempotencyKey));
    }
    expect(await count('orders')).toBe(orders);
    expectRefused(
      await store.app.inject({
        url: '/v1/licenses/status',
        headers: { authorization: `Bearer ${key}\u0085` },
      }),
      'The authorization header',
    );
    expectRefused(
      await keyPost(store, '/v1/licenses/refresh', key, {}, { proof: `a${NUL}b` }),
      'The dpop header',
    );
    expectRefused(
      await store.app.inject({
        method: 'POST',
        url: '/v1/webhooks/payments/test',
        headers: { 'content-type': 'application/json', 'webhook-id': `msg${NUL}` },
        payload: { type: 'payment.succeeded' },
      }),
      'The webhook-id header',
    );
    for (const name of READ_HEADERS) {
      const answer = await store.app.inject({
        url: '/v1/licenses/status',
        headers: { authorization: `Bearer ${key}`, [name]: 'value\u0085' },
      });
      expectRefused(answer, `The ${name} header`);
    }
    // Headers the store does not read keep whatever a client sends (UTF-8 read as Latin-1
    // holds C1 bytes), and HTTP's TAB is allowed.
    const foreign = await store.app.inject({
      url: '/v1/licenses/status',
      headers: {
        authorization: `Bearer\t${key}`,
        'user-agent': 'Caf\u00c3\u00a9 \u00e2\u0082\u00ac',
        cookie: 'theme=\u00e2\u0082\u00ac',
      },
    });
    expect(foreign.statusCode).not.toBe(400);
  });

  test('in the storefront form: a 400 page, and no order', async () => {
    const orders = await count('orders');
    const client = browser();
    const answer = await client.submit('/products/photon?plan=pro-monthly', '/checkout', {
      email: `buyer${NUL}@example.com`,
    });
    expectRefusedPage(answer, 'email');
    expect(await count('orders')).toBe(orders);
    // The same form, corrected, places the order.
    const placed = await client.submit('/products/photon?plan=pro-monthly', '/checkout', {
      email: 'buyer@example.com',
    });
    expect(placed.statusCode).toBe(200);
    expect(await count('orders')).toBe(orders + 1);
  });

  test('in the portal sign-in and a signed-in portal form: 400 pages', async () => {
    const purchase = await buy(store);
    const client = browser();
    expectRefusedPage(
      await client.submit('/portal', '/portal/sign-in', { licenseKey: `${purchase.key}${NUL}` }),
      'licenseKey',
    );
    const signedIn = await client.submit('/portal', '/portal/sign-in', {
      licenseKey: purchase.key,
    });
    expect(signedIn.statusCode).toBe(303);
    const page = (await client.get('/portal/license')).body;
    const answer = await client.post('/portal/cancel', {
      ...formFields(page, '/portal/sign-out'),
      csrf: `${formFields(page, '/portal/sign-out').csrf}\u0001`,
    });
    expectRefusedPage(answer, 'csrf');
    // A query string on a page: the same page.
    const query = await client.get('/products/photon?plan=pro%00');
    expect(query.statusCode).toBe(400);
    expect(textOf(query.body)).toContain('The query parameter “plan” holds U+0000');
  });

  test('line breaks: refused in single-line fields, kept in descriptions', async () => {
    expectRefused(
      await store.app.inject({
        method: 'POST',
        url: '/v1/admin/products',
        headers: ADMIN,
        payload: { id: 'lines', name: 'Two\nlines', description: 'ok' },
      }),
      '/name',
    );
    const created = await store.app.inject({
      method: 'POST',
      url: '/v1/admin/products',
      headers: ADMIN,
      payload: { id: 'lines', name: 'Lines', description: 'First line.\r\nSecond\tline.' },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json().description).toBe('First line.\r\nSecond\tline.');
    const plan = await store.app.inject({
      method: 'POST',
      url: '/v1/admin/products/lines/plans',
      headers: ADMIN,
      payload: {
        ...(SAMPLES['/v1/admin/products/:productId/plans']!.body as object),
        description: 'One.\nTwo.',
      },
    });
    expect(plan.statusCode).toBe(201);
    // The other controls stay refused in descriptions.
    expectRefused(
      await store.app.inject({
        method: 'POST',
        url: '/v1/admin/products',
        headers: ADMIN,
        payload: { id: 'lines', name: 'Lines', description: `a\n${NUL}` },
      }),
      '/description',
    );
  });

  test('ordinary Unicode is still accepted and stored as sent', async () => {
    const name = 'Zoë’s 👩‍💻 ノートPC — שלום مرحبا';
    const purchase = await buy(store);
    const device = await deviceKey();
    const activation = await activate(store, purchase.key, device, {
      device: { publicJwk: device.publicJwk, name },
    });
    expect(activation.statusCode).toBe(200);
    const [row] = await store.db.query<{ name: string }>(
      'SELECT name FROM devices WHERE thumbprint = $1',
      [device.thumbprint],
    );
    expect(row?.name).toBe(name);
    const product = await store.app.inject({
      method: 'POST',
      url: '/v1/admin/products',
      headers: ADMIN,
      payload: { id: 'unicode', name: '東京 Ångström ✨', description: 'Für alle — 😀 עברית' },
    });
    expect(product.statusCode).toBe(201);
    expect((await store.app.inject({ url: '/v1/products/unicode' })).json()).toMatchObject({
      name: '東京 Ångström ✨',
      description: 'Für alle — 😀 עברית',
    });
    const checkout = await checkoutRequest(store, {
      productId: 'photon',
      planId: 'pro-monthly',
      email: `zoë-${randomUUID()}@exämple.com`,
    });
    expect(checkout.json().error?.code).not.toBe('TEXT_INVALID');
    expect(checkout.statusCode).toBeLessThan(500);
  });

  describe('every route', () => {
    function request(route: RouteEntry, sample: Sample, body: unknown): InjectOptions {
      const auth =
        (sample.auth ?? (route.pattern.startsWith('/v1/admin') ? 'admin' : 'key')) === 'admin'
          ? ADMIN
          : sample.auth === 'none'
            ? {}
            : { authorization: `Bearer ${key}` };
      const query = sample.query ? `?${new URLSearchParams(sample.query)}` : '';
      const options: InjectOptions = {
        method: 'POST',
        url: sampleUrl(route.pattern) + query,
        headers: {
          'content-type': 'application/json',
          'idempotency-key': randomUUID(),
          ...auth,
          ...sample.headers,
        },
      };
      if (body !== undefined) options.payload = Buffer.isBuffer(body) ? body : JSON.stringify(body);
      return options;
    }

    test('every POST route of the API has a sample', () => {
      const posts = routes.filter((r) => r.method === 'POST' && r.pattern.startsWith('/v1/'));
      expect(posts.map((r) => r.pattern).sort()).toEqual(Object.keys(SAMPLES).sort());
      const forms = routes.filter((r) => r.method === 'POST' && !r.pattern.startsWith('/v1/'));
      expect(forms.map((r) => r.pattern).sort()).toEqual(Object.keys(FORMS).sort());
    });

    test('a NUL in any string field of any POST body is 400 TEXT_INVALID naming it', async () => {
      let checked = 0;
      for (const route of routes.filter((r) => r.method === 'POST' && r.pattern in SAMPLES)) {
        const sample = SAMPLES[route.pattern]!;
        for (const pointer of stringLeaves(sample.body)) {
          const answer = await store.app.inject(
            request(route, sample, withInserted(sample.body, pointer, NUL)),
          );
          expectRefused(answer, pointer, `${route.pattern} ${pointer}`);
          checked++;
        }
        if (sample.query) {
          for (const name of Object.keys(sample.query)) {
            const query = { ...sample.query, [name]: `${sample.query[name]}${NUL}` };
            const answer = await store.app.inject(
              request(route, { ...sample, query }, sample.body),
            );
            expectRefused(answer, `“${name}”`, `${route.pattern} ?${name}`);
            checked++;
          }
        } else {
          // A member name of its own, at the top: refused too.
          const answer = await store.app.inject(
            request(route, sample, { ...(sample.body as object), [`x${NUL}`]: 'y' }),
          );
          expectRefused(answer, 'A member name in the body', `${route.pattern} member name`);
        }
        // The sample as it is: whatever the route answers, it is not about text, and no 5xx.
        const plain = await store.app.inject(request(route, sample, sample.body));
        expect(plain.statusCode, route.pattern).toBeLessThan(500);
        if (plain.statusCode === 400)
          expect(plain.json().error.code, route.pattern).not.toBe('TEXT_INVALID');
      }
      expect(checked).toBeGreaterThan(25);
    });

    test('a NUL in any field of any form is a 400 page', async () => {
      for (const [action, fields] of Object.entries(FORMS)) {
        for (const name of Object.keys(fields)) {
          const answer = await browser().post(action, { ...fields, [name]: `a${NUL}b` });
          expectRefusedPage(answer, name, `${action} ${name}`);
        }
      }
    });

    test('a NUL in any path parameter or query of any route is refused, never a 5xx', async () => {
      const methods = new Set(['GET', 'POST', 'DELETE']);
      let checked = 0;
      for (const route of routes.filter((r) => methods.has(r.method))) {
        const urls = [`${sampleUrl(route.pattern)}?probe=%00`];
        if (route.pattern.includes(':')) urls.push(sampleUrl(route.pattern, 'a%00b'));
        for (const url of urls) {
          const answer = await store.app.inject({
            method: route.method as 'GET',
            url,
            headers: { ...ADMIN, accept: 'text/html' },
          });
          const what = `${route.method} ${url}`;
          expect(answer.statusCode, what).toBe(400);
          if (answer.headers['content-type']?.toString().startsWith('application/json'))
            expect(answer.json().error.code, what).toBe('TEXT_INVALID');
          else expect(textOf(answer.body), what).toContain('holds U+0000');
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(40);
    });
  });

  test('TEXT_INVALID is registered and every registered code is in the README tables', () => {
    expect(ERROR_CODES.TEXT_INVALID.status).toBe(400);
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const tableRows = readme.split('\n').filter((line) => line.startsWith('|'));
    const missing = Object.keys(ERROR_CODES).filter(
      (code) => !tableRows.some((row) => row.includes(`\`${code}\``)),
    );
    expect(missing).toEqual([]);
  });
});
