import { randomUUID } from 'node:crypto';
import { createOfflineRequest } from '@licensekit/core/offline';
import type { DeviceKey } from '@licensekit/verifier';
import fc from 'fast-check';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ERROR_CODES } from '../errors.js';
import { seconds } from '../lib/clock.js';
import { signWebhook } from '../payments/webhook.js';
import { ADMIN } from '../testing/fixtures.js';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../testing/harness.js';
import type { Purchase } from '../testing/licensing.js';
import { activate, buy, deviceKey, proofFor } from '../testing/licensing.js';
import type { Hint, JsonSchema, OpenApiDocument, Operation } from '../testing/openapi.js';
import {
  listOperations,
  operationUrl,
  outOfBoundsValue,
  REMOVE,
  sampleValue,
  sampleVariants,
  slotsOf,
  unicodeText,
  validates,
  withValueAt,
  wrongTypedValue,
} from '../testing/openapi.js';

/**
 * The OpenAPI document against what the store really answers.
 *
 * - GET /docs renders Swagger UI for browsers (the plugin's own files, the store's CSP)
 *   and still answers the JSON document to tools; /docs/json is the document.
 * - Every response of every operation has a description (no "Default Response") and a
 *   schema; every 4xx and 5xx lists the registered codes of its status it can carry.
 * - Each documented non-2xx status is provoked where feasible (a list below names the
 *   ones that cannot be, and why), and fuzz-style probing of every operation (hostile
 *   bodies, parameters, headers, content types and sizes) is run too. Every answer of
 *   both must have a status the document lists for its operation, and a body that its
 *   schema for that status accepts — `error.code` among the documented codes included.
 */

const WEBHOOK_SECRET = `whsec_${Buffer.from('docs test payment processor').toString('base64')}`;
const PROVIDER = 'acmepay';
const MIB = 1024 * 1024;
const UPLOAD = '/v1/admin/attachments/upload';
/** Runs per fuzz case: enough to meet every kind of refusal, small enough for 2 cores. */
const RUNS = 3;

/**
 * Documented statuses no request of this test provokes, with the reason. Keeping the list
 * explicit means a status added to the document must be provoked here or explained here.
 */
const NOT_PROVOKED: Record<string, string> = {
  'GET /v1/keys 500': 'the keys are in memory: nothing a test can break answers it',
  'POST /v1/checkout 402':
    'the payment providers of a test store never fail a payment at once (a failing processor answers later, by webhook)',
  'GET /v1/revocations 404': 'a store with its root key signs a list at once (production only)',
  'POST /v1/checkout 502':
    'only a processor with a payment page (Stripe) answers it; payments/stripe.test.ts provokes it against its fixture server',
  'POST /v1/admin/products 409':
    'a database integrity refusal (class 23): no product that passes the schema meets one here',
  'POST /v1/admin/products/{productId}/plans 409':
    'a database integrity refusal (class 23): no plan that passes the schema meets one here',
};

/** Codes the document lists that no request here meets, with the reason. */
const CODES_NOT_MET: Record<string, string> = {
  REVOCATION_LIST_NOT_FOUND: 'a store with its root key signs a list at once (production only)',
  PAYMENT_PROVIDER_UNAVAILABLE:
    'only Stripe answers it (not configured here); payments/stripe.test.ts provokes it',
};

type Answer = { response: LightMyRequestResponse; what: string };

interface DocumentResponse {
  description?: string;
  content?: Record<string, { schema?: JsonSchema }>;
}
interface DocumentOperation {
  parameters?: { name: string; in: string; required?: boolean }[];
  responses: Record<string, DocumentResponse>;
}
interface Document {
  paths: Record<string, Record<string, DocumentOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

describe.skipIf(postgresUnavailable)('the OpenAPI document says what the store answers', () => {
  let store: TestStore;
  let document: Document;
  let operations: Operation[];
  /** The license the generic checks and the fuzzing use: whatever they change, changes here. */
  let subject: Purchase;
  /** A license kept in a known state for the codes that depend on it (every seat taken). */
  let holder: Purchase;
  /** The license of the admin samples (one of them revokes it). */
  let adminSubject: Purchase;
  let pending: Purchase;
  let revoked: Purchase;
  let free: Purchase;
  let laptop: DeviceKey;
  let deviceId: string;
  let endpointId: string;
  let attachmentId: string;
  let lampAttachment: string;
  let lackingQuotaAttachment: string;
  let pendingOrder: string;
  let failedOrder: string;
  let paidOrder: string;
  let rootKid: string;
  let currentList: string;
  /** A token of a vendor that owns nothing (routes/admin/scope.ts). */
  let vendorToken: string;
  let addresses = 0;
  /** `METHOD /path status` of every answer checked, for the coverage test. */
  const provoked = new Set<string>();
  const codes = new Set<string>();

  /** A fresh client address per request: only the limiter's own cases meet it. */
  const nextAddress = () => {
    const n = ++addresses;
    return `10.77.${(n >> 8) & 255}.${n & 255}`;
  };

  beforeAll(async () => {
    store = await buildTestStore({
      licensing: {
        paymentWebhookSecrets: { [PROVIDER]: WEBHOOK_SECRET },
        billing: { enabled: false },
      },
      // Uploads over 1 MiB are 413, as the default 2 GiB would be, at a size a test can send.
      operations: {
        webhooks: { enabled: false },
        jobs: { intervalMs: 0 },
        attachments: { maxUploadBytes: MIB },
      },
    });
    document = (await store.app.inject({ url: '/docs/json' })).json() as Document;
    operations = listOperations(document as unknown as OpenApiDocument);
    subject = await buy(store);
    holder = await buy(store);
    adminSubject = await buy(store);
    revoked = await buy(store);
    free = await buy(store, { planId: 'free' });
    pending = await buy(store, { provider: 'manual' });
    laptop = await deviceKey();
    deviceId = (await activate(store, subject.key, laptop)).json().device.id;
    // Both of Pro's seats: every seat of the holder's license is taken.
    for (let i = 0; i < 2; i++)
      expect((await activate(store, holder.key, await deviceKey())).statusCode).toBe(200);
    await admin('POST', '/v1/admin/products', { id: 'docs-lamp', name: 'Lamp' });
    await admin('POST', '/v1/admin/products/docs-lamp/plans', {
      id: 'docs-lamp',
      name: 'Basic',
      price: { amount: 100, currency: 'USD' },
      interval: 'month',
    });
    await admin('POST', `/v1/admin/licenses/${revoked.licenseId}/revoke`, {});
    endpointId = (
      await admin('POST', '/v1/admin/webhooks', { url: 'https://hooks.example.com/in' })
    ).json().endpoint.id;
    attachmentId = await upload('photon', 'notes.txt');
    lampAttachment = await upload('docs-lamp', 'lamp.txt');
    // A quota the plan lacks is never read as unlimited: every download is refused.
    lackingQuotaAttachment = await upload('photon', 'locked.txt', 'no-such-quota');
    pendingOrder = (await buy(store, { provider: PROVIDER })).orderId;
    failedOrder = (await buy(store, { provider: PROVIDER })).orderId;
    expect((await paymentEvent('order.failed', failedOrder)).statusCode).toBe(200);
    paidOrder = (await buy(store, { provider: PROVIDER })).orderId;
    expect((await paymentEvent('order.paid', paidOrder)).statusCode).toBe(200);
    rootKid = (await store.app.inject({ url: '/v1/keys' })).json().roots[0].kid;
    currentList = (await store.app.inject({ url: '/v1/revocations' })).json().list;
    await admin('POST', '/v1/admin/vendors', { id: 'docs-vendor', name: 'Docs vendor' });
    vendorToken = (await admin('POST', '/v1/admin/vendors/docs-vendor/tokens', {})).json().token;
  });

  afterAll(async () => store?.close());

  // ------------------------------------------------------------------ requests

  function admin(method: 'POST' | 'GET' | 'DELETE', url: string, payload?: unknown) {
    return store.app.inject({
      method,
      url,
      headers: ADMIN,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  }

  async function upload(productId: string, name: string, quota?: string): Promise<string> {
    const query = new URLSearchParams({ productId, name, ...(quota ? { quota } : {}) });
    const answer = await store.app.inject({
      method: 'POST',
      url: `${UPLOAD}?${query}`,
      headers: { ...ADMIN, 'content-type': 'application/octet-stream' },
      payload: Buffer.from('hello'),
    });
    expect(answer.statusCode).toBe(201);
    return answer.json().id as string;
  }

  /** A payment processor's signed event. */
  function paymentEvent(type: string, providerRef?: string, provider = PROVIDER) {
    const body = JSON.stringify({ type, ...(providerRef ? { data: { providerRef } } : {}) });
    const id = `msg_${randomUUID()}`;
    const timestamp = seconds(store.clock.now());
    return store.app.inject({
      method: 'POST',
      url: `/v1/webhooks/payments/${provider}`,
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(WEBHOOK_SECRET, id, timestamp, body),
      },
      payload: body,
    });
  }

  const isAdmin = (op: Operation) => op.pattern.startsWith('/v1/admin/');
  const usesKey = (op: Operation) => /^\/v1\/(licenses|attachments)\b/.test(op.pattern);
  const find = (method: string, pattern: string) => {
    const op = operations.find((o) => o.method === method && o.pattern === pattern);
    if (!op) throw new Error(`${method} ${pattern} is not in the document`);
    return op;
  };

  /** Domain values by member or parameter name, so that samples reach the handlers. */
  function hintFor(op: Operation): Hint {
    const values: Record<string, unknown> = {
      productId: isAdmin(op) ? 'docs-lamp' : 'photon',
      // Team is priced per seat: samples with `seats` are valid for checkout and changes.
      planId: isAdmin(op) ? 'docs-lamp' : 'team-yearly',
      id: 'docs-lamp',
      email: 'docs@example.com',
      customerEmail: 'docs@example.com',
      seats: 5,
      confirm: false,
      trial: false,
      // team-yearly is offered yearly only; a sample plan is no yearly twin.
      billingCycle: 'year',
      yearlyOf: null,
      provider: op.pattern.includes(':provider') ? PROVIDER : 'test',
      format: 'jwt',
      publicJwk: laptop.publicJwk,
      name: 'notes.txt',
      deviceId,
      thumbprint: laptop.thumbprint,
      token: subject.token,
      license: subject.licenseId,
      product: 'photon',
      'quotas[]': 'exports',
      type: 'order.paid',
      providerRef: pendingOrder,
      licenseId: adminSubject.licenseId,
      orderId: pendingOrder,
      endpointId,
      attachmentId: isAdmin(op) ? lampAttachment : attachmentId,
      url: 'https://hooks.example.com/docs',
      path: 'notes.txt',
      contentType: 'text/plain',
      currency: 'USD',
      kind: 'license',
      value: 'lic_docs_unknown',
      // The store's own current list: it verifies, and is refused only as not newer.
      list: currentList,
      limit: '10',
      status: 'paid',
      test: 'true',
      start: '0',
      first: '0',
      second: '0',
      index: '0',
    };
    return (name) => values[name];
  }

  interface Sample {
    path: Record<string, string>;
    query: [string, string][];
    bodies: unknown[];
  }
  const samples = new Map<Operation, Sample>();
  function sampleOf(op: Operation): Sample {
    let sample = samples.get(op);
    if (!sample) {
      const hint = hintFor(op);
      const of = (where: string) => op.parameters.filter((p) => p.in === where);
      sample = {
        path: Object.fromEntries(
          of('path').map((p) => [p.name, String(sampleValue(p.schema, hint, p.name))]),
        ),
        // Required parameters, and optional ones with a domain value (no made-up cursor).
        query: of('query')
          .filter((p) => p.required || hint(p.name, p.schema) !== undefined)
          .map((p) => [p.name, String(sampleValue(p.schema, hint, p.name))]),
        bodies: op.body ? sampleVariants(op.body, hint) : [],
      };
      samples.set(op, sample);
    }
    return sample;
  }

  interface SendOptions {
    /** A value to send as JSON, or exact bytes. */
    body?: { value: unknown } | { raw: string | Buffer };
    url?: string;
    headers?: Record<string, string | undefined>;
    contentType?: string | null;
    key?: string | null;
    remoteAddress?: string;
  }

  /**
   * A request to an operation with the credentials it takes (admin token, license key,
   * Idempotency-Key, a device proof over the exact body, a webhook signature); `key: null`
   * and `headers` with undefined values leave credentials out.
   */
  async function send(op: Operation, options: SendOptions = {}): Promise<LightMyRequestResponse> {
    const sample = sampleOf(op);
    const url = options.url ?? operationUrl(op, sample.path, sample.query);
    const path = url.split('?')[0]!;
    const firstBody = sample.bodies[0];
    let body =
      options.body ??
      (op.pattern === UPLOAD ? { raw: Buffer.from('hello') } : undefined) ??
      (firstBody === undefined ? undefined : { value: firstBody });
    // Activation: a new device each time (seats fill up as they would), whose key the
    // proof is made with, when the body is the sample's device.
    const newDevice = op.pattern === '/v1/licenses/activate' ? await deviceKey() : undefined;
    const sampleDevice = (value: unknown) =>
      JSON.stringify((value as { device?: { publicJwk?: unknown } })?.device?.publicJwk) ===
      JSON.stringify(laptop.publicJwk);
    if (newDevice && body && 'value' in body && sampleDevice(body.value))
      body = { value: withValueAt(body.value, '/device/publicJwk', newDevice.publicJwk) };
    const payload =
      body === undefined ? undefined : 'raw' in body ? body.raw : JSON.stringify(body.value);
    const text = typeof payload === 'string' ? payload : '';
    const headers: Record<string, string> = {};
    if (payload !== undefined && options.contentType !== null)
      headers['content-type'] =
        options.contentType ??
        (op.pattern === UPLOAD ? 'application/octet-stream' : 'application/json');
    if (isAdmin(op)) Object.assign(headers, ADMIN);
    else if (usesKey(op) && options.key !== null)
      headers.authorization = `Bearer ${options.key ?? subject.key}`;
    if (op.pattern === '/v1/checkout') headers['idempotency-key'] = randomUUID();
    if (newDevice) headers.dpop = await proofFor(store, newDevice, path, text);
    if (op.pattern.startsWith('/v1/webhooks/payments/')) {
      const id = `msg_${randomUUID()}`;
      const timestamp = seconds(store.clock.now());
      headers['webhook-id'] = id;
      headers['webhook-timestamp'] = String(timestamp);
      headers['webhook-signature'] = signWebhook(WEBHOOK_SECRET, id, timestamp, text);
    }
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      if (value === undefined) delete headers[name];
      else headers[name] = value;
    }
    const request: InjectOptions = {
      method: op.method as NonNullable<InjectOptions['method']>,
      url,
      headers,
      remoteAddress: options.remoteAddress ?? nextAddress(),
    };
    if (payload !== undefined) request.payload = payload;
    return store.app.inject(request);
  }

  // ------------------------------------------------------------------ the oracle

  function resolve(schema: JsonSchema, depth = 0): JsonSchema {
    if (depth > 32) throw new Error('$ref nested deeper than 32');
    if (schema.$ref) {
      const name = /^#\/components\/schemas\/(.+)$/.exec(schema.$ref)?.[1];
      const target = name === undefined ? undefined : document.components?.schemas?.[name];
      if (!target) throw new Error(`unresolved $ref ${schema.$ref}`);
      return resolve(target, depth + 1);
    }
    const out: JsonSchema = { ...schema };
    const sub = (s: JsonSchema) => resolve(s, depth + 1);
    if (schema.properties)
      out.properties = Object.fromEntries(
        Object.entries(schema.properties).map(([n, s]) => [n, sub(s)]),
      );
    if (typeof schema.additionalProperties === 'object')
      out.additionalProperties = sub(schema.additionalProperties);
    if (schema.items) out.items = sub(schema.items);
    for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
      if (schema[key]) out[key] = schema[key]!.map(sub);
    }
    return out;
  }

  function responsesOf(op: Pick<Operation, 'method' | 'path'>): Record<string, DocumentResponse> {
    return document.paths[op.path]![op.method.toLowerCase()]!.responses;
  }

  /**
   * The answer's status is documented for the operation and its body is what the
   * document says for that status (JSON against the schema; other media by type).
   */
  function expectDocumented(op: Operation, { response, what }: Answer): void {
    const status = response.statusCode;
    const documented = responsesOf(op)[String(status)];
    const context = `${op.method} ${op.pattern}: ${what} → ${status} ${response.body.slice(0, 200)}`;
    expect(documented, `${context}: status not documented`).toBeDefined();
    provoked.add(`${op.method} ${op.path} ${status}`);
    if (op.method === 'HEAD' || status === 204 || status === 304) return;
    const type = String(response.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim();
    const content = documented!.content ?? {};
    const media = content[type] ?? content['*/*'];
    expect(media, `${context}: content type ${type} not documented`).toBeDefined();
    if (type !== 'application/json') return;
    const body = response.json() as { error?: { code?: string } };
    expect(
      validates(resolve(media!.schema ?? {}), body),
      `${context}: body not as documented`,
    ).toBe(true);
    if (status >= 400) {
      const code = body.error!.code as keyof typeof ERROR_CODES;
      expect(ERROR_CODES[code]?.status, context).toBe(status);
      codes.add(code);
    }
  }

  async function check(op: Operation, what: string, options: SendOptions = {}, status?: number) {
    const response = await send(op, options);
    expectDocumented(op, { response, what });
    if (status !== undefined)
      expect(
        response.statusCode,
        `${op.method} ${op.pattern} ${what}: ${response.body.slice(0, 200)}`,
      ).toBe(status);
    return response;
  }

  // ------------------------------------------------------------------ the reference

  test('GET /docs renders Swagger UI for browsers and answers JSON to tools; /docs/json is the document', async () => {
    const page = await store.app.inject({ url: '/docs', headers: { accept: 'text/html,*/*' } });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(String(page.headers.vary)).toMatch(/accept/i);
    // The store's own CSP: scripts and styles from this origin only, nothing inline.
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toMatch(/unsafe-|https?:|\*/);
    expect(page.body).toContain(
      '<meta name="viewport" content="width=device-width, initial-scale=1">',
    );
    expect(page.body).not.toMatch(
      /<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=|https?:\/\//i,
    );
    const assets = [...page.body.matchAll(/(?:src|href)="(\/docs\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(5);
    for (const asset of assets) {
      const answer = await store.app.inject({ url: asset });
      expect(answer.statusCode, asset).toBe(200);
    }
    // The initializer points the UI at the document, and at nothing outside the store.
    const initializer = (await store.app.inject({ url: '/docs/static/swagger-initializer.js' }))
      .body;
    expect(initializer).toContain("resolveUrl('./json')");
    expect(initializer).toContain('validatorUrl: null');

    for (const accept of [undefined, 'application/json', '*/*']) {
      const answer = await store.app.inject({ url: '/docs', headers: accept ? { accept } : {} });
      expect(answer.headers['content-type'], String(accept)).toMatch(/^application\/json/);
      expect(answer.json().openapi).toBe('3.1.0');
    }
    const json = await store.app.inject({ url: '/docs/json' });
    expect(json.json()).toEqual((await store.app.inject({ url: '/docs' })).json());
    const yaml = await store.app.inject({ url: '/docs/yaml' });
    expect(yaml.body).toMatch(/^openapi: 3\.1\.0/m);
  });

  // ------------------------------------------------------------------ the document itself

  test('every response is described and has a schema; error statuses list registered codes', () => {
    const problems: string[] = [];
    for (const op of operations) {
      const responses = responsesOf(op);
      const statuses = Object.keys(responses);
      if (!statuses.some((s) => s.startsWith('2')))
        problems.push(`${op.method} ${op.path}: no 2xx`);
      if (!statuses.some((s) => s.startsWith('4')))
        problems.push(`${op.method} ${op.path}: no 4xx`);
      for (const [status, response] of Object.entries(responses)) {
        const where = `${op.method} ${op.path} ${status}`;
        if (!response.description || response.description === 'Default Response')
          problems.push(`${where}: no description`);
        const media = Object.values(response.content ?? {});
        if (media.length === 0 || media.some((m) => m.schema === undefined))
          problems.push(`${where}: no schema`);
        if (Number(status) < 400) continue;
        const schema = resolve(response.content?.['application/json']?.schema ?? {});
        const listed = schema.properties?.error?.properties?.code?.enum as string[] | undefined;
        if (!listed?.length) {
          problems.push(`${where}: error codes not listed`);
          continue;
        }
        for (const code of listed) {
          const registered = ERROR_CODES[code as keyof typeof ERROR_CODES];
          if (registered?.status !== Number(status))
            problems.push(`${where}: ${code} is not registered for ${status}`);
          if (!response.description?.includes(`\`${code}\``))
            problems.push(`${where}: the description does not explain ${code}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  test('Idempotency-Key is required on checkout in the document, and missing it is IDEMPOTENCY_KEY_REQUIRED', async () => {
    const checkout = document.paths['/v1/checkout']!.post!;
    const header = checkout.parameters?.find(
      (p) => p.in === 'header' && p.name === 'idempotency-key',
    );
    expect(header?.required).toBe(true);
    const op = find('POST', '/v1/checkout');
    const missing = await check(
      op,
      'without Idempotency-Key',
      {
        headers: { 'idempotency-key': undefined },
      },
      400,
    );
    expect(missing.json().error.code).toBe('IDEMPOTENCY_KEY_REQUIRED');
    // An empty one is refused the same way; a body out of schema still says what is wrong.
    const empty = await check(op, 'with an empty key', { headers: { 'idempotency-key': '' } }, 400);
    expect(empty.json().error.code).toBe('IDEMPOTENCY_KEY_REQUIRED');
    const bad = await check(
      op,
      'bad body, no key',
      {
        body: { value: { productId: 'photon' } },
        headers: { 'idempotency-key': undefined },
      },
      400,
    );
    expect(bad.json().error).toMatchObject({ code: 'BAD_REQUEST' });
    expect(bad.json().error.message).toMatch(/^Invalid request: body must have required property/);
  });

  // ------------------------------------------------------------------ provoking each status

  test('what any operation can be refused for: text, schema, body, credentials, the limiter', async () => {
    for (const op of operations) {
      const sample = sampleOf(op);
      await check(op, 'the sample');
      // Text with a control character in the query, before any route looks at it.
      const query = [...sample.query, ['note', '\u0000'] as [string, string]];
      const text = await check(
        op,
        'a NUL in the query',
        { url: operationUrl(op, sample.path, query) },
        400,
      );
      expect(text.json().error.code).toBe('TEXT_INVALID');
      // A path parameter out of its pattern.
      for (const parameter of op.parameters.filter((p) => p.in === 'path')) {
        const url = operationUrl(
          op,
          { ...sample.path, [parameter.name]: 'Not Valid!' },
          sample.query,
        );
        await check(op, `path ${parameter.name} out of pattern`, { url }, 400);
      }
      // A query parameter out of its schema.
      for (const parameter of op.parameters.filter((p) => p.in === 'query')) {
        const others = sample.query.filter(([name]) => name !== parameter.name);
        // Longer than any string parameter may be, and out of every pattern and enum.
        const url = operationUrl(op, sample.path, [...others, [parameter.name, 'X'.repeat(400)]]);
        await check(op, `query ${parameter.name} out of schema`, { url }, 400);
      }
      for (const parameter of op.parameters.filter((p) => p.in === 'header')) {
        await check(
          op,
          `header ${parameter.name} too long`,
          { headers: { [parameter.name]: 'x'.repeat(5000) } },
          400,
        );
      }
      if (op.method === 'POST' || op.method === 'DELETE') {
        const asJson = { contentType: 'application/json' };
        await check(op, 'malformed JSON', { body: { raw: '{"a":' }, ...asJson }, 400);
        await check(op, 'a text body', { body: { raw: 'hello' }, contentType: 'text/plain' }, 415);
        // Over every JSON limit, and over this store's upload limit (1 MiB).
        await check(op, 'a 2 MiB body', { body: { raw: `{"x":"${'x'.repeat(2 * MIB)}"}` } }, 413);
      }
      if (isAdmin(op)) {
        const answer = await check(
          op,
          'no admin token',
          { headers: { authorization: undefined } },
          401,
        );
        expect(answer.json().error.code).toBe('ADMIN_TOKEN_INVALID');
        // A vendor's token: 403 on operator-only routes; the others scope to its products.
        const vendor = await check(op, 'a vendor token', {
          headers: { authorization: `Bearer ${vendorToken}` },
        });
        if (vendor.statusCode === 403) expect(vendor.json().error.code).toBe('VENDOR_FORBIDDEN');
      }
      if (
        usesKey(op) &&
        op.pattern !== '/v1/licenses/refresh' &&
        op.pattern !== '/v1/licenses/usage'
      ) {
        await check(op, 'no license key', { key: null }, 401);
        const unknown = await check(
          op,
          'an unknown key',
          { key: 'LK-00000-00000-00000-00000-00000-00000-00' },
          404,
        );
        expect(unknown.json().error.code).toBe('LICENSE_NOT_FOUND');
        // Ten failed lookups from one client, then even the right key is refused.
        const client = nextAddress();
        for (let i = 0; i < 10; i++)
          await send(op, { key: `LK-WRONG-${i}`, remoteAddress: client });
        const limited = await check(
          op,
          'past the failed-lookup limit',
          { remoteAddress: client },
          429,
        );
        expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      }
    }
  }, 120_000);

  test('licenses that are unpaid or revoked', async () => {
    // Samples a route refuses before it looks at the license (refresh by token, a usage
    // report, an offline request) meet these codes in their own cases below.
    for (const op of operations.filter(usesKey)) {
      const unpaid = await check(op, 'an unpaid license', { key: pending.key });
      if (unpaid.statusCode === 402) expect(unpaid.json().error.code).toBe('PAYMENT_REQUIRED');
      const gone = await check(op, 'a revoked license', { key: revoked.key });
      if (gone.statusCode === 403) expect(gone.json().error.code).toBe('LICENSE_REVOKED');
    }
  });

  /** A plain usage report of a license (the license key authenticates it). */
  function usageReport(purchase: Purchase): { value: unknown } {
    const now = seconds(store.clock.now());
    return {
      value: {
        license: purchase.licenseId,
        product: 'photon',
        seq: 1,
        generatedAt: now,
        quotas: { exports: { used: 1, window: now } },
      },
    };
  }

  test('the codes of each operation, provoked one by one', async () => {
    const op = find;
    const json = (value: unknown) => ({ body: { value } });
    const expectCode = async (
      operation: Operation,
      what: string,
      options: SendOptions,
      status: number,
      code: string,
    ) => {
      const answer = await check(operation, what, options, status);
      expect(answer.json().error.code, what).toBe(code);
    };
    // catalogue and log
    await expectCode(
      op('GET', '/v1/products/:productId'),
      'unknown product',
      { url: '/v1/products/no-such-product' },
      404,
      'PRODUCT_NOT_FOUND',
    );
    await expectCode(
      op('GET', '/v1/log/proof'),
      'an index past the log',
      { url: '/v1/log/proof?index=999999' },
      404,
      'NOT_FOUND',
    );
    await expectCode(
      op('GET', '/v1/log/proof'),
      'index and hash',
      { url: `/v1/log/proof?index=0&hash=${'A'.repeat(43)}` },
      400,
      'BAD_REQUEST',
    );
    await expectCode(
      op('GET', '/v1/log/consistency'),
      'second past the log',
      { url: '/v1/log/consistency?first=0&second=999999' },
      400,
      'BAD_REQUEST',
    );

    // checkout
    const checkout = op('POST', '/v1/checkout');
    await expectCode(
      checkout,
      'unknown product',
      json({ productId: 'nope', planId: 'pro-monthly', email: 'a@example.com' }),
      404,
      'PRODUCT_NOT_FOUND',
    );
    await expectCode(
      checkout,
      'unknown plan',
      json({ productId: 'photon', planId: 'nope', email: 'a@example.com' }),
      404,
      'PLAN_NOT_FOUND',
    );
    await expectCode(
      checkout,
      'a cycle the plan is not offered on',
      json({ productId: 'photon', planId: 'free', email: 'a@example.com', billingCycle: 'year' }),
      409,
      'BILLING_CYCLE_NOT_OFFERED',
    );
    const key = randomUUID();
    await check(
      checkout,
      'first use of a key',
      {
        ...json({ productId: 'photon', planId: 'free', email: 'k@example.com' }),
        headers: { 'idempotency-key': key },
      },
      201,
    );
    await expectCode(
      checkout,
      'the key with another request',
      {
        ...json({ productId: 'photon', planId: 'free', email: 'other@example.com' }),
        headers: { 'idempotency-key': key },
      },
      409,
      'IDEMPOTENCY_CONFLICT',
    );
    const trial = {
      productId: 'photon',
      planId: 'pro-monthly',
      email: 'trial@example.com',
      trial: true,
    };
    await check(checkout, 'a trial', json(trial), 201);
    await expectCode(checkout, 'a second trial', json(trial), 409, 'TRIAL_USED');

    // activation, deactivation, refresh
    const activateOp = op('POST', '/v1/licenses/activate');
    await expectCode(
      activateOp,
      'no device proof',
      { headers: { dpop: undefined } },
      401,
      'DEVICE_PROOF_INVALID',
    );
    await expectCode(activateOp, 'every seat taken', { key: holder.key }, 409, 'SEATS_FULL');
    await expectCode(
      op('POST', '/v1/licenses/deactivate'),
      'unknown device',
      json({ deviceId: 'dev_unknown' }),
      404,
      'DEVICE_NOT_FOUND',
    );
    const refresh = op('POST', '/v1/licenses/refresh');
    await expectCode(
      refresh,
      'a token this store never issued',
      { ...json({ token: 'not-a-token' }), key: null },
      401,
      'TOKEN_INVALID',
    );
    await expectCode(
      refresh,
      'the key and no token',
      { ...json({}), key: null },
      401,
      'UNAUTHORIZED',
    );
    const stranger = await deviceKey();
    const strangerBody = JSON.stringify({ thumbprint: stranger.thumbprint });
    await expectCode(
      refresh,
      'a device not on the license',
      {
        body: { raw: strangerBody },
        headers: { dpop: await proofFor(store, stranger, '/v1/licenses/refresh', strangerBody) },
      },
      404,
      'DEVICE_NOT_FOUND',
    );
    await expectCode(
      refresh,
      'a thumbprint without a proof',
      json({ thumbprint: stranger.thumbprint }),
      401,
      'DEVICE_PROOF_INVALID',
    );
    await expectCode(
      refresh,
      'a revoked license by key',
      { ...json({}), key: revoked.key },
      403,
      'LICENSE_REVOKED',
    );
    await expectCode(
      refresh,
      'an unpaid license by key',
      { ...json({}), key: pending.key },
      402,
      'PAYMENT_REQUIRED',
    );
    await expectCode(refresh, 'no key', { ...json({}), key: null }, 401, 'UNAUTHORIZED');
    await expectCode(
      refresh,
      'an unknown key',
      { ...json({}), key: 'LK-NOPE' },
      404,
      'LICENSE_NOT_FOUND',
    );
    const refreshClient = nextAddress();
    for (let i = 0; i < 10; i++)
      await send(refresh, { ...json({}), key: `LK-WRONG-${i}`, remoteAddress: refreshClient });
    await expectCode(
      refresh,
      'past the limiter',
      { ...json({}), remoteAddress: refreshClient },
      429,
      'TOO_MANY_REQUESTS',
    );

    // plan and seat changes, cancellation
    const plan = op('POST', '/v1/licenses/plan');
    await expectCode(
      plan,
      'unknown plan',
      json({ planId: 'no-such-plan', confirm: false }),
      404,
      'PLAN_NOT_FOUND',
    );
    await expectCode(
      plan,
      'the same plan',
      json({ planId: 'pro-monthly', confirm: false }),
      409,
      'PLAN_CHANGE_INVALID',
    );
    await expectCode(
      plan,
      'down to fewer seats than devices',
      { ...json({ planId: 'free', confirm: false }), key: holder.key },
      409,
      'SEATS_IN_USE',
    );
    await expectCode(
      plan,
      'seats on a fixed plan',
      json({ planId: 'free', seats: 3, confirm: false }),
      400,
      'BAD_REQUEST',
    );
    await expectCode(
      op('POST', '/v1/licenses/seats'),
      'seats of a fixed plan',
      json({ seats: 3, confirm: false }),
      409,
      'PLAN_CHANGE_INVALID',
    );
    await expectCode(
      op('POST', '/v1/licenses/cancel'),
      'a free plan',
      { ...json({}), key: free.key },
      409,
      'PLAN_CHANGE_INVALID',
    );
    await expectCode(
      op('POST', '/v1/licenses/cancel/undo'),
      'nothing pending',
      { ...json({}), key: free.key },
      409,
      'PLAN_CHANGE_INVALID',
    );

    // payment webhooks
    const webhook = op('POST', '/v1/webhooks/payments/:provider');
    await expectCode(
      webhook,
      'unknown provider',
      { url: '/v1/webhooks/payments/nobody' },
      404,
      'NOT_FOUND',
    );
    await expectCode(
      webhook,
      'no signature',
      { headers: { 'webhook-signature': undefined } },
      401,
      'WEBHOOK_SIGNATURE_INVALID',
    );
    await expectCode(webhook, 'no providerRef', json({ type: 'order.paid' }), 400, 'BAD_REQUEST');
    await expectCode(
      webhook,
      'an unknown order',
      json({ type: 'order.paid', data: { providerRef: 'ord_unknown' } }),
      404,
      'ORDER_NOT_FOUND',
    );
    await expectCode(
      webhook,
      // (A payment of a failed order is acknowledged and recorded: payment-webhooks.test.ts.)
      'failing a paid order',
      json({ type: 'order.failed', data: { providerRef: paidOrder } }),
      409,
      'CONFLICT',
    );

    // usage reports
    const usage = op('POST', '/v1/licenses/usage');
    await expectCode(
      usage,
      'a signed report that does not decode',
      { ...json({ signed: 'a.b.c' }), key: null },
      400,
      'USAGE_REPORT_INVALID',
    );
    const forged = `${Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'lic-usage+jwt', kid: stranger.thumbprint })).toString('base64url')}.${Buffer.from(JSON.stringify({ license: holder.licenseId, product: 'photon', seq: 1, generatedAt: seconds(store.clock.now()), quotas: {} })).toString('base64url')}.${'A'.repeat(86)}`;
    await expectCode(
      usage,
      'a report of an unknown device',
      { ...json({ signed: forged }), key: null },
      401,
      'USAGE_REPORT_UNTRUSTED',
    );
    await expectCode(
      usage,
      'a report for another license',
      { body: usageReport(revoked) },
      400,
      'USAGE_REPORT_INVALID',
    );
    await expectCode(
      usage,
      'a revoked license',
      { body: usageReport(revoked), key: revoked.key },
      403,
      'LICENSE_REVOKED',
    );
    await expectCode(
      usage,
      'a plain report without the key',
      { body: usageReport(subject), key: null },
      401,
      'UNAUTHORIZED',
    );
    await expectCode(
      usage,
      'an unknown key',
      { body: usageReport(subject), key: 'LK-NOPE' },
      404,
      'LICENSE_NOT_FOUND',
    );
    const usageClient = nextAddress();
    for (let i = 0; i < 10; i++)
      await send(usage, {
        body: usageReport(subject),
        key: `LK-WRONG-${i}`,
        remoteAddress: usageClient,
      });
    await expectCode(
      usage,
      'past the limiter',
      { body: usageReport(subject), remoteAddress: usageClient },
      429,
      'TOO_MANY_REQUESTS',
    );

    // downloads
    const download = op('GET', '/v1/attachments/:attachmentId');
    await expectCode(
      download,
      'an unknown file',
      { url: `/v1/attachments/att_${'x'.repeat(22)}` },
      404,
      'ATTACHMENT_NOT_FOUND',
    );
    await expectCode(
      download,
      'a quota the plan lacks',
      { url: `/v1/attachments/${lackingQuotaAttachment}` },
      403,
      'QUOTA_EXHAUSTED',
    );
    await expectCode(
      download,
      'a range past the end',
      { headers: { range: 'bytes=999999-' } },
      416,
      'RANGE_NOT_SATISFIABLE',
    );
    await check(download, 'a range', { headers: { range: 'bytes=0-1' } }, 206);

    // the admin API
    await expectCode(
      op('DELETE', '/v1/admin/products/:productId'),
      'unknown product',
      { url: '/v1/admin/products/no-such-product' },
      404,
      'PRODUCT_NOT_FOUND',
    );
    await expectCode(
      op('POST', '/v1/admin/products/:productId/plans'),
      'unknown product',
      { url: '/v1/admin/products/no-such-product/plans' },
      404,
      'PRODUCT_NOT_FOUND',
    );
    await expectCode(
      op('DELETE', '/v1/admin/products/:productId/plans/:planId'),
      'unknown plan',
      { url: '/v1/admin/products/photon/plans/no-such-plan' },
      404,
      'PLAN_NOT_FOUND',
    );
    await expectCode(
      op('GET', '/v1/admin/orders/:orderId'),
      'unknown order',
      { url: '/v1/admin/orders/ord_unknown' },
      404,
      'ORDER_NOT_FOUND',
    );
    await expectCode(
      op('POST', '/v1/admin/orders/:orderId/mark-paid'),
      'unknown order',
      { url: '/v1/admin/orders/ord_unknown/mark-paid' },
      404,
      'ORDER_NOT_FOUND',
    );
    await expectCode(
      op('POST', '/v1/admin/orders/:orderId/mark-paid'),
      'a failed order',
      { url: `/v1/admin/orders/${failedOrder}/mark-paid` },
      409,
      'CONFLICT',
    );
    for (const [method, suffix] of [
      ['POST', 'refunds'],
      ['POST', 'chargebacks'],
      ['GET', 'refunds'],
    ] as const) {
      await expectCode(
        op(method, `/v1/admin/orders/:orderId/${suffix}`),
        'unknown order',
        { url: `/v1/admin/orders/ord_unknown/${suffix}` },
        404,
        'ORDER_NOT_FOUND',
      );
    }
    const refundable = (await buy(store)).orderId;
    await expectCode(
      op('POST', '/v1/admin/orders/:orderId/refunds'),
      'more than was paid',
      { url: `/v1/admin/orders/${refundable}/refunds`, ...json({ amount: 10 ** 9, reason: '' }) },
      409,
      'REFUND_TOO_LARGE',
    );
    await expectCode(
      op('GET', '/v1/admin/orders'),
      'a forged cursor',
      { url: '/v1/admin/orders?cursor=forged' },
      400,
      'BAD_REQUEST',
    );
    await expectCode(
      op('GET', '/v1/admin/licenses/:licenseId'),
      'unknown license',
      { url: '/v1/admin/licenses/lic_unknown' },
      404,
      'NOT_FOUND',
    );
    await expectCode(
      op('POST', '/v1/admin/licenses/:licenseId/revoke'),
      'unknown license',
      { url: '/v1/admin/licenses/lic_unknown/revoke' },
      404,
      'NOT_FOUND',
    );
    for (const [method, suffix] of [
      ['GET', ''],
      ['GET', '/messages'],
      ['DELETE', ''],
    ] as const) {
      await expectCode(
        op(method, `/v1/admin/webhooks/:endpointId${suffix}`),
        'unknown endpoint',
        { url: `/v1/admin/webhooks/whe_${'x'.repeat(22)}${suffix}` },
        404,
        'WEBHOOK_ENDPOINT_NOT_FOUND',
      );
    }
    await expectCode(
      op('POST', '/v1/admin/webhooks'),
      'a URL with credentials',
      json({ url: 'https://user:pw@example.com/in' }),
      400,
      'BAD_REQUEST',
    );
    await expectCode(
      op('POST', '/v1/admin/webhooks'),
      "a vendor's endpoint on the cloud metadata address",
      {
        ...json({ url: 'http://169.254.169.254/' }),
        headers: { authorization: `Bearer ${vendorToken}` },
      },
      400,
      'WEBHOOK_URL_NOT_PUBLIC',
    );
    await expectCode(
      op('POST', UPLOAD),
      'an upload for an unknown product',
      { url: `${UPLOAD}?productId=no-such-product&name=x.txt` },
      404,
      'PRODUCT_NOT_FOUND',
    );
    const register = op('POST', '/v1/admin/attachments');
    await expectCode(
      register,
      'unknown product',
      json({ productId: 'no-such-product', name: 'x.txt', path: 'notes.txt' }),
      404,
      'PRODUCT_NOT_FOUND',
    );
    await expectCode(
      register,
      'a file outside the files directory',
      json({ productId: 'photon', name: 'x.txt', path: '../secret' }),
      404,
      'NOT_FOUND',
    );
    await expectCode(
      op('DELETE', '/v1/admin/attachments/:attachmentId'),
      'unknown attachment',
      { url: `/v1/admin/attachments/att_${'x'.repeat(22)}` },
      404,
      'ATTACHMENT_NOT_FOUND',
    );
    await expectCode(
      op('POST', '/v1/admin/revocations'),
      'the root key',
      json({ kind: 'key', value: rootKid }),
      409,
      'CONFLICT',
    );
    await expectCode(
      op('POST', '/v1/admin/revocation-lists'),
      'a list not signed by the root',
      json({ list: 'not-a-list' }),
      400,
      'REVOCATION_LIST_INVALID',
    );

    // offline requests, to the customer's route and to the support desk's
    const offlineText = async (
      purchase: Purchase,
      kind: 'activate' | 'refresh' = 'activate',
      nonce?: string,
    ) =>
      (
        await createOfflineRequest(await deviceKey(), {
          kind,
          product: 'photon',
          license: purchase.licenseId,
          iat: seconds(store.clock.now()),
          ...(nonce ? { nonce } : {}),
        })
      ).text;
    const offline = op('POST', '/v1/licenses/offline');
    const desk = op('POST', '/v1/admin/licenses/:licenseId/offline');
    const deskUrl = (purchase: Purchase | string) =>
      `/v1/admin/licenses/${typeof purchase === 'string' ? purchase : purchase.licenseId}/offline`;
    for (const [purchase, status, code] of [
      [pending, 402, 'PAYMENT_REQUIRED'],
      [revoked, 403, 'LICENSE_REVOKED'],
      [holder, 409, 'SEATS_FULL'],
    ] as const) {
      const body = { value: { request: await offlineText(purchase) } };
      await expectCode(offline, `a request of ${code}`, { body, key: purchase.key }, status, code);
      const deskBody = { value: { request: await offlineText(purchase) } };
      await expectCode(
        desk,
        `a request of ${code}`,
        { body: deskBody, url: deskUrl(purchase) },
        status,
        code,
      );
    }
    await expectCode(
      offline,
      'a request for another license',
      { body: { value: { request: await offlineText(holder) } } },
      409,
      'OFFLINE_REQUEST_MISMATCH',
    );
    const fresh = await buy(store);
    const nonce = Buffer.alloc(16, 7).toString('base64url');
    const first = { value: { request: await offlineText(fresh, 'activate', nonce) } };
    await check(offline, 'a request', { body: first, key: fresh.key }, 200);
    const again = { value: { request: await offlineText(fresh, 'activate', nonce) } };
    await expectCode(
      offline,
      'another request with its nonce',
      { body: again, key: fresh.key },
      409,
      'OFFLINE_NONCE_REUSED',
    );
    await expectCode(
      offline,
      'a request that is not one',
      json({ request: 'LK1-REQ.nope' }),
      400,
      'OFFLINE_REQUEST_INVALID',
    );
    await expectCode(
      offline,
      'a refresh of a device not on the license',
      { body: { value: { request: await offlineText(subject, 'refresh') } } },
      404,
      'DEVICE_NOT_FOUND',
    );
    await expectCode(
      desk,
      'unknown license',
      { body: { value: { request: await offlineText(subject) } }, url: deskUrl('lic_unknown') },
      404,
      'NOT_FOUND',
    );
  }, 120_000);

  test('a database that is unreachable is 503 DATABASE_UNAVAILABLE, a full disk 503 STORAGE_FULL, a broken one 500 INTERNAL', async () => {
    const db = store.app.db as unknown as Record<'query' | 'transaction' | 'exec', unknown>;
    const saved = { query: db.query, transaction: db.transaction, exec: db.exec };
    const fail = (error: () => Error) => {
      const thrower = async () => {
        throw error();
      };
      db.query = thrower;
      db.transaction = thrower;
      db.exec = thrower;
    };
    try {
      for (const [error, status, code] of [
        [
          () =>
            Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
              code: 'ECONNREFUSED',
            }),
          503,
          'DATABASE_UNAVAILABLE',
        ],
        [
          // What PGlite and PostgreSQL say when a table cannot grow (faults-disk.test.ts
          // fills a real disk under a store).
          () =>
            Object.assign(new Error('could not extend file "base/5/1": No space left on device'), {
              code: '53100',
            }),
          503,
          'STORAGE_FULL',
        ],
        [() => new TypeError('a bug in a statement'), 500, 'INTERNAL'],
      ] as const) {
        fail(error);
        for (const op of operations) {
          // Every body variant: one may be refused before the database is asked.
          const bodies = sampleOf(op).bodies.map((value) => ({ value }));
          for (const body of bodies.length > 0 ? bodies : [undefined]) {
            const answer = await check(op, `database: ${code}`, body ? { body } : {});
            if (answer.statusCode === status) expect(answer.json().error.code).toBe(code);
          }
        }
      }
    } finally {
      Object.assign(db, saved);
    }
    expect((await store.app.inject({ url: '/v1/products' })).statusCode).toBe(200);
  }, 60_000);

  test('an issuer certificate that has ended is 503 SERVICE_UNAVAILABLE wherever a token is signed', async () => {
    const keys = store.app.keys as { certificateExpiresAt: number };
    const saved = keys.certificateExpiresAt;
    const signing = operations.filter((op) =>
      Object.values(responsesOf(op)).some((response) =>
        JSON.stringify(response.content ?? {}).includes('"SERVICE_UNAVAILABLE"'),
      ),
    );
    expect(signing.length).toBeGreaterThanOrEqual(8);
    // A license of its own for each (one may activate, another cancel), bought while the
    // store can still sign.
    const licenses = new Map<Operation, Purchase>();
    for (const op of signing) licenses.set(op, await buy(store));
    keys.certificateExpiresAt = seconds(store.clock.now()) - 1;
    const ended: string[] = [];
    try {
      for (const op of signing) {
        const answer = await check(op, 'the certificate has ended', {
          key: licenses.get(op)!.key,
        });
        if (answer.statusCode === 503) {
          expect(answer.json().error.code).toBe('SERVICE_UNAVAILABLE');
          ended.push(op.pattern);
        }
      }
    } finally {
      keys.certificateExpiresAt = saved;
    }
    // At least the everyday ones: buying, activating, refreshing, the current token.
    expect(ended).toEqual(
      expect.arrayContaining(['/v1/checkout', '/v1/licenses/activate', '/v1/licenses/token']),
    );
  });

  // ------------------------------------------------------------------ fuzz-style probing

  function property<T>(name: string, arbitrary: fc.Arbitrary<T>, run: (value: T) => Promise<void>) {
    let seed = 0x2545f491;
    for (let i = 0; i < name.length; i++) seed = Math.imul(seed ^ name.charCodeAt(i), 0x01000193);
    return fc.assert(fc.asyncProperty(arbitrary, run), { seed: seed | 0, numRuns: RUNS });
  }

  test('fuzz-style probing: every answer is documented for its operation', async () => {
    const contentTypes = fc.constantFrom(
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      'application/octet-stream',
    );
    for (const op of operations) {
      const sample = sampleOf(op);
      const name = `${op.method} ${op.pattern}`;
      for (const body of sample.bodies) {
        for (const slot of slotsOf(op.body!, body)) {
          const hostile = fc.oneof(
            wrongTypedValue(slot.schema),
            outOfBoundsValue(slot.schema),
            unicodeText,
          );
          await property(`${name} ${slot.pointer}`, hostile, async (value) => {
            const mutated = withValueAt(body, slot.pointer, value);
            const response = await send(op, { body: { value: mutated } });
            expectDocumented(op, {
              response,
              what: `${slot.pointer} = ${JSON.stringify(value)?.slice(0, 60)}`,
            });
          });
          const without = withValueAt(body, slot.pointer, REMOVE);
          expectDocumented(op, {
            response: await send(op, { body: { value: without } }),
            what: `without ${slot.pointer}`,
          });
        }
        await property(`${name} root`, fc.jsonValue({ maxDepth: 2 }), async (value) => {
          expectDocumented(op, {
            response: await send(op, { body: { value } }),
            what: `body ${JSON.stringify(value)?.slice(0, 60)}`,
          });
        });
      }
      for (const parameter of op.parameters) {
        const values = fc.oneof(
          fc.string({ maxLength: 30 }),
          unicodeText,
          outOfBoundsValue(parameter.schema).map(String),
        );
        await property(`${name} ${parameter.in} ${parameter.name}`, values, async (value) => {
          const options: SendOptions =
            parameter.in === 'path'
              ? { url: operationUrl(op, { ...sample.path, [parameter.name]: value }, sample.query) }
              : parameter.in === 'query'
                ? {
                    url: operationUrl(op, sample.path, [
                      ...sample.query.filter(([n]) => n !== parameter.name),
                      [parameter.name, value],
                    ]),
                  }
                : { headers: { [parameter.name]: value.replace(/[^\x20-\x7e]/g, '?') } };
          const response = await send(op, options);
          expectDocumented(op, {
            response,
            what: `${parameter.in} ${parameter.name} = ${JSON.stringify(value).slice(0, 60)}`,
          });
        });
      }
      await property(`${name} content types`, contentTypes, async (type) => {
        const response = await send(op, { body: { raw: 'a=1' }, contentType: type });
        expectDocumented(op, { response, what: `a ${type} body` });
      });
      for (const [what, options] of [
        ['no content type', { body: { raw: '{}' }, contentType: null }],
        ['a 1 MiB body', { body: { raw: `{"x":"${'x'.repeat(MIB)}"}` } }],
        [
          '64 KiB of Authorization',
          { headers: { authorization: `Bearer ${'A'.repeat(64 * 1024)}` } },
        ],
        ['64 KiB of DPoP', { headers: { dpop: 'A'.repeat(64 * 1024) } }],
        ['a Range on anything', { headers: { range: 'bytes=0-0,5-9' } }],
        [
          'undeclared query parameters',
          {
            url: `${operationUrl(op, sample.path, sample.query)}${sample.query.length ? '&' : '?'}__proto__=x&a[b]=1`,
          },
        ],
        ['a JSON null', { body: { raw: 'null' } }],
      ] as [string, SendOptions][]) {
        expectDocumented(op, { response: await send(op, options), what });
      }
    }
  }, 180_000);

  // ------------------------------------------------------------------ coverage

  test('every documented error status was provoked, except the ones listed with a reason', () => {
    const missing: string[] = [];
    for (const op of operations) {
      for (const status of Object.keys(responsesOf(op))) {
        if (Number(status) < 400) continue;
        const id = `${op.method} ${op.path} ${status}`;
        if (!provoked.has(id) && !(id in NOT_PROVOKED)) missing.push(id);
      }
    }
    expect(missing).toEqual([]);
    // The list holds no status that was provoked after all.
    expect(Object.keys(NOT_PROVOKED).filter((id) => provoked.has(id))).toEqual([]);
    // And every code the document lists was met at least once, on some operation.
    const listed = new Set<string>();
    for (const op of operations) {
      for (const [status, response] of Object.entries(responsesOf(op))) {
        if (Number(status) < 400) continue;
        const schema = resolve(response.content?.['application/json']?.schema ?? {});
        for (const code of (schema.properties?.error?.properties?.code?.enum ?? []) as string[])
          listed.add(code);
      }
    }
    expect([...listed].filter((code) => !codes.has(code) && !(code in CODES_NOT_MET))).toEqual([]);
    expect(Object.keys(CODES_NOT_MET).filter((code) => codes.has(code))).toEqual([]);
  });
});
