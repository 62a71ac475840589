import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { PassThrough } from 'node:stream';
import { createOfflineRequest } from '@licensekit/core/offline';
import type { DeviceKey } from '@licensekit/verifier';
import fc from 'fast-check';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ERROR_CODES } from '../errors.js';
import { seconds } from '../lib/clock.js';
import { signWebhook } from '../payments/webhook.js';
import { clientErrorHandler } from '../plugins/errors.js';
import { ADMIN } from '../testing/fixtures.js';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable, testDatabaseKind } from '../testing/harness.js';
import type { Purchase } from '../testing/licensing.js';
import { activate, buy, deviceKey, proofFor } from '../testing/licensing.js';
import type { Hint, JsonSchema, Operation } from '../testing/openapi.js';
import {
  listOperations,
  objectPointers,
  openApiDocument,
  operationUrl,
  outOfBoundsValue,
  overlongText,
  REMOVE,
  sampleValue,
  sampleVariants,
  slotsOf,
  unicodeText,
  validates,
  withValueAt,
  wrongTypedValue,
} from '../testing/openapi.js';
import { listRoutes } from '../testing/routes.js';

/**
 * Hostile input on every operation of the store's OpenAPI document (GET /docs), generated
 * by fast-check with a fixed seed: malformed JSON, every member of every body wrong-typed,
 * missing, out of bounds and stuffed with Unicode edge cases, extra members, other content
 * types, 10 MB bodies and 64 KB headers (injected and over a real socket), path and query
 * parameters out of pattern, and random license keys at a high rate. The oracle is the
 * document itself: a request it refuses must be 400; whatever else happens, no answer is
 * a 5xx, every 4xx is `{ error: { code, message } }` with a registered code of its status
 * (pages may answer with HTML), nothing is logged as an error and the store keeps serving.
 *
 * LICENSEKIT_FUZZ_RUNS (default 8) scales the runs per case; LICENSEKIT_FUZZ_SEED picks
 * another seed. A long run: LICENSEKIT_FUZZ_RUNS=200 (see the README, Security).
 */

const DEFAULT_RUNS = 8;
const RUNS = Math.max(1, Number(process.env.LICENSEKIT_FUZZ_RUNS ?? DEFAULT_RUNS) || DEFAULT_RUNS);
const SEED = Number(process.env.LICENSEKIT_FUZZ_SEED ?? 20_260_115) | 0;
/** Per test: room for the default runs on a loaded 2-core machine, scaled with RUNS. */
const TEST_TIMEOUT = 60_000 * Math.max(1, RUNS / DEFAULT_RUNS);

const MB = 1024 * 1024;
const WEBHOOK_SECRET = `whsec_${Buffer.from('fuzzing payment processor secret').toString('base64')}`;
const WEBHOOK_PROVIDER = 'acmepay';
const UPLOAD = '/v1/admin/attachments/upload';
/** Codes a request the document refuses may get: the schema's, or the text rule's. */
const REFUSED = ['BAD_REQUEST', 'TEXT_INVALID'];

/** A seed per case, so that a case draws the same values whatever runs before it. */
function seedOf(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  return (hash ^ SEED) | 0;
}

function property<T>(name: string, arbitrary: fc.Arbitrary<T>, check: (value: T) => Promise<void>) {
  return fc.assert(fc.asyncProperty(arbitrary, check), { seed: seedOf(name), numRuns: RUNS });
}

/** How a request body is sent: a value (serialised here) or exact bytes. */
type Body = { value: unknown } | { raw: string | Buffer };

/** An answer and what was asked, for the failure message. */
interface Answer {
  response: LightMyRequestResponse;
  what: string;
}

describe.skipIf(postgresUnavailable)('fuzzing every operation of the OpenAPI document', () => {
  let store: TestStore;
  let operations: Operation[];
  let holder: Purchase;
  let target: Purchase;
  let device: DeviceKey;
  let deviceId: string;
  /** An offline activation request of the holder's license, from a device of its own. */
  let offlineRequest: string;
  let endpointId: string;
  let photonAttachment: string;
  let lampAttachment: string;
  let requests = 0;
  let addresses = 0;
  const started = Date.now();
  const errorLines: string[] = [];

  /** A fresh client address per request: only the key-guessing test meets the limiter. */
  const nextAddress = () => {
    const n = ++addresses;
    return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
  };

  beforeAll(async () => {
    store = await buildTestStore({
      logger: { level: 'error', stream: { write: (line: string) => errorLines.push(line) } },
      licensing: {
        paymentWebhookSecrets: { [WEBHOOK_PROVIDER]: WEBHOOK_SECRET },
        billing: { enabled: false },
      },
      operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
    });
    operations = listOperations(await openApiDocument(store.app));
    holder = await buy(store);
    target = await buy(store);
    device = await deviceKey();
    deviceId = (await activate(store, holder.key, device)).json().device.id;
    offlineRequest = (
      await createOfflineRequest(await deviceKey(), {
        kind: 'activate',
        product: 'photon',
        license: holder.licenseId,
        iat: seconds(store.clock.now()),
      })
    ).text;
    const admin = (method: 'POST', url: string, payload: unknown) =>
      store.app.inject({ method, url, headers: ADMIN, payload: payload as object });
    await admin('POST', '/v1/admin/products', { id: 'fuzz-lamp', name: 'Lamp' });
    await admin('POST', '/v1/admin/products/fuzz-lamp/plans', {
      id: 'fuzz-lamp',
      name: 'Basic',
      price: { amount: 100, currency: 'USD' },
      interval: 'month',
    });
    endpointId = (
      await admin('POST', '/v1/admin/webhooks', { url: 'https://hooks.example.com/in' })
    ).json().endpoint.id;
    const upload = async (productId: string) => {
      const answer = await store.app.inject({
        method: 'POST',
        url: `${UPLOAD}?productId=${productId}&name=notes.txt`,
        headers: { ...ADMIN, 'content-type': 'application/octet-stream' },
        payload: Buffer.from('hello'),
      });
      expect(answer.statusCode).toBe(201);
      return answer.json().id as string;
    };
    photonAttachment = await upload('photon');
    lampAttachment = await upload('fuzz-lamp');
  });

  afterAll(async () => {
    const ms = Date.now() - started;
    console.info(
      `fuzz-openapi on ${testDatabaseKind}: ${requests} requests in ${(ms / 1000).toFixed(1)} s (runs per case ${RUNS}, seed ${SEED})`,
    );
    await store?.close();
  });

  // ------------------------------------------------------------------ samples

  const isAdmin = (op: Operation) => op.pattern.startsWith('/v1/admin/');
  const usesKey = (op: Operation) => /^\/v1\/(licenses|attachments)\b/.test(op.pattern);

  /** Domain values by member or parameter name, so that samples reach the handlers. */
  function hintFor(op: Operation): Hint {
    const admin = isAdmin(op);
    const values: Record<string, unknown> = {
      productId: admin ? 'fuzz-lamp' : 'photon',
      planId: admin ? 'fuzz-lamp' : 'team-yearly',
      id: 'fuzz-lamp',
      email: 'fuzz@example.com',
      customerEmail: 'fuzz@example.com',
      seats: 1,
      confirm: false,
      trial: false,
      provider: op.pattern.includes(':provider') ? WEBHOOK_PROVIDER : 'test',
      format: 'jwt',
      publicJwk: device.publicJwk,
      x: device.publicJwk.x,
      name: 'laptop',
      deviceId,
      thumbprint: device.thumbprint,
      token: holder.token,
      license: holder.licenseId,
      product: 'photon',
      device: op.pattern === '/v1/licenses/usage' ? device.thumbprint : undefined,
      'quotas[]': 'exports',
      type: 'order.paid',
      providerRef: target.orderId,
      licenseId: target.licenseId,
      orderId: target.orderId,
      endpointId,
      attachmentId: admin ? lampAttachment : photonAttachment,
      url: 'https://hooks.example.com/in',
      path: 'notes.txt',
      contentType: 'text/plain',
      currency: 'USD',
      kind: 'license',
      value: 'lic_fuzz_revoked',
      limit: '10',
      status: 'paid',
      test: 'true',
      request: offlineRequest,
      parts: offlineRequest,
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
      const parameter = (where: string) => op.parameters.filter((p) => p.in === where);
      sample = {
        path: Object.fromEntries(
          parameter('path').map((p) => [p.name, String(sampleValue(p.schema, hint, p.name))]),
        ),
        query: parameter('query').map((p) => [p.name, String(sampleValue(p.schema, hint, p.name))]),
        bodies: op.body ? sampleVariants(op.body, hint) : [],
      };
      samples.set(op, sample);
    }
    return sample;
  }

  // ------------------------------------------------------------------ sending

  /**
   * Sends a request to an operation with the credentials it takes (admin token, license
   * key, Idempotency-Key, a device proof over the exact body, a webhook signature), so that
   * hostile input gets past authentication to the parsers, validators and handlers.
   */
  async function send(
    op: Operation,
    options: {
      body?: Body;
      url?: string;
      headers?: Record<string, string>;
      contentType?: string | null;
      remoteAddress?: string;
    } = {},
  ): Promise<LightMyRequestResponse> {
    const sample = sampleOf(op);
    const url = options.url ?? operationUrl(op, sample.path, sample.query);
    const path = url.split('?')[0]!;
    const payload =
      options.body === undefined
        ? undefined
        : 'raw' in options.body
          ? options.body.raw
          : JSON.stringify(options.body.value);
    const text = typeof payload === 'string' ? payload : undefined;
    const headers: Record<string, string> = {};
    if (payload !== undefined && options.contentType !== null)
      headers['content-type'] = options.contentType ?? 'application/json';
    if (isAdmin(op)) Object.assign(headers, ADMIN);
    else if (usesKey(op)) headers.authorization = `Bearer ${holder.key}`;
    if (op.pattern === '/v1/checkout') headers['idempotency-key'] = randomUUID();
    if (op.pattern === '/v1/licenses/activate' && text !== undefined)
      headers.dpop = await proofFor(store, device, path, text);
    if (op.pattern.startsWith('/v1/webhooks/payments/')) {
      const id = `msg_${randomUUID()}`;
      const timestamp = seconds(store.clock.now());
      headers['webhook-id'] = id;
      headers['webhook-timestamp'] = String(timestamp);
      headers['webhook-signature'] = signWebhook(WEBHOOK_SECRET, id, timestamp, text ?? '');
    }
    Object.assign(headers, options.headers);
    const request: InjectOptions = {
      method: op.method as NonNullable<InjectOptions['method']>,
      url,
      headers,
      remoteAddress: options.remoteAddress ?? nextAddress(),
    };
    if (payload !== undefined) request.payload = payload;
    requests++;
    return store.app.inject(request);
  }

  /** No 5xx; a 4xx is `{ error: { code, message } }` with a code registered for its status. */
  function expectWellFormed({ response, what }: Answer) {
    const status = response.statusCode;
    expect(status, `${what}: ${response.body.slice(0, 300)}`).toBeLessThan(500);
    if (status < 400 || response.raw.req.method === 'HEAD') return;
    expect(response.headers['content-type'], what).toMatch(/^application\/json/);
    const body = response.json() as { error?: { code?: string; message?: string } };
    expect(Object.keys(body.error ?? {}).sort(), `${what}: ${response.body}`).toEqual([
      'code',
      'message',
    ]);
    const code = body.error!.code as keyof typeof ERROR_CODES;
    expect(ERROR_CODES[code]?.status, `${what}: ${code} is not registered for ${status}`).toBe(
      status,
    );
    expect(typeof body.error!.message === 'string' && body.error!.message !== '', what).toBe(true);
  }

  /** A request the document refuses: 400 with the schema's or the text rule's code. */
  function expectRefused(sent: Answer, statuses = [400]) {
    expectWellFormed(sent);
    expect(statuses, `${sent.what}: ${sent.response.body.slice(0, 300)}`).toContain(
      sent.response.statusCode,
    );
    if (sent.response.statusCode === 400)
      expect(REFUSED).toContain(sent.response.json().error.code);
  }

  /** The document's verdict on a JSON body decides what the store must answer. */
  function expectVerdict(op: Operation, value: unknown, sent: Answer) {
    if (op.body && !accepts(op.body, value)) expectRefused(sent, [400, 413]);
    else expectWellFormed(sent);
  }

  /** Whether the document accepts a parsed body (a JSON `null` is not "no body"). */
  function accepts(schema: JsonSchema, value: unknown): boolean {
    return validates(schema, value);
  }

  const withBody = () => operations.filter((op) => op.body);
  const variantsOf = (op: Operation) =>
    sampleOf(op).bodies.map((body, index) => ({
      body,
      name: `${op.method} ${op.pattern} #${index}`,
    }));

  // ------------------------------------------------------------------ the document

  test(
    'the document lists every /v1 route, and every sample is valid and reaches its handler',
    async () => {
      const documented = new Set(operations.map((op) => `${op.method} ${op.pattern}`));
      const hidden = listRoutes(store.app)
        .filter(
          (route) =>
            route.pattern.startsWith('/v1/') && !['HEAD', 'OPTIONS'].includes(route.method),
        )
        .map((route) => `${route.method} ${route.pattern}`)
        .filter((route) => !documented.has(route));
      expect(hidden, 'API routes missing from the OpenAPI document escape the fuzzing').toEqual([]);
      expect(operations.length).toBeGreaterThanOrEqual(30);
      for (const op of operations) {
        const sample = sampleOf(op);
        for (const { body, name } of variantsOf(op)) {
          expect(validates(op.body!, body), `${name} sample ${JSON.stringify(body)}`).toBe(true);
        }
        for (const parameter of op.parameters.filter((p) => p.in === 'path')) {
          expect(validates(parameter.schema, sample.path[parameter.name]), parameter.name).toBe(
            true,
          );
        }
        const bodies = op.pattern === UPLOAD ? [undefined] : op.body ? sample.bodies : [undefined];
        for (const body of bodies) {
          const response =
            op.pattern === UPLOAD
              ? await send(op, {
                  body: { raw: Buffer.from('hello') },
                  contentType: 'application/octet-stream',
                })
              : await send(op, body === undefined ? {} : { body: { value: body } });
          const what = `${op.method} ${op.pattern} sample`;
          expectWellFormed({ response, what });
          // A sample the validator let through: no schema refusal, no text refusal.
          if (response.statusCode === 400) {
            const { code, message } = response.json().error;
            expect(
              code === 'TEXT_INVALID' || message.startsWith('Invalid request'),
              `${what}: ${message}`,
            ).toBe(false);
          }
        }
      }
    },
    TEST_TIMEOUT,
  );

  // ------------------------------------------------------------------ malformed JSON

  /** Text that is not JSON, or JSON that stresses the parser, built from a sample body. */
  function malformed(sampleText: string): fc.Arbitrary<string> {
    const deep = (open: string, close: string, inner = '0') =>
      fc.constant(open.repeat(10_000) + inner + close.repeat(10_000));
    return fc.oneof(
      // Truncated anywhere, the empty body included.
      fc.nat({ max: sampleText.length - 1 }).map((end) => sampleText.slice(0, end)),
      // Trailing garbage after a complete document.
      fc
        .string({ minLength: 1, maxLength: 20 })
        .map((tail) => sampleText + tail)
        .filter((text) => !parses(text)),
      // Deep nesting, 10 000 levels: arrays, objects, both, and inside a member.
      deep('[', ']'),
      deep('{"a":', '}'),
      deep('[{"a":', '}]'),
      fc.constant(
        `${sampleText.slice(0, -1)}${sampleText.length > 2 ? ',' : ''}"deep":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
      ),
      // Huge and odd numbers in place of the whole body or inside it.
      fc
        .constantFrom(
          '1e400',
          '-1e400',
          `1${'0'.repeat(400)}`,
          '123456789012345678901234567890',
          '1e-400',
          `0.${'0'.repeat(400)}1`,
          '-0',
          '9007199254740993',
          'NaN',
          'Infinity',
        )
        .map((number) =>
          sampleText.replace(/(:)(-?\d[\d.eE+-]*|true|false|null|"[^"]*")/, `$1${number}`),
        ),
      // Not JSON at all, or JSON's near relatives.
      fc.constantFrom(
        '',
        ' ',
        'null',
        '[]',
        '"string"',
        '0',
        'true',
        "{'single':'quotes'}",
        '{unquoted: 1}',
        '{"a":1,}',
        '{"a":1 /* comment */}',
        '{"a":"\\x41"}',
        '{"a":"\\ud800"}',
        '{"a":"\\u0000"}',
        '{"__proto__":{"admin":true}}',
        '{"constructor":{"prototype":{"admin":true}}}',
        '\ufeff{}',
        '{"a":"unterminated',
        '{"a":\u0000}',
      ),
    );
  }

  function parses(text: string): boolean {
    try {
      JSON.parse(text);
      return true;
    } catch {
      return false;
    }
  }

  test(
    'malformed JSON is 400 (or 413 when it is also too large) on every operation with a body',
    async () => {
      for (const op of withBody()) {
        for (const { body, name } of variantsOf(op)) {
          await property(`malformed ${name}`, malformed(JSON.stringify(body)), async (text) => {
            const response = await send(op, { body: { raw: text } });
            const what = `${name} ${JSON.stringify(text.slice(0, 80))}`;
            if (!parses(text) && !text.startsWith('\ufeff')) {
              expectRefused({ response, what }, [400, 413]);
            } else {
              // Parsed, as the server's parser may (it strips a BOM, refuses __proto__).
              let value: unknown;
              try {
                value = JSON.parse(text.replace(/^\ufeff/, ''));
              } catch {
                value = undefined;
              }
              if (value !== undefined && !accepts(op.body!, value)) {
                expectRefused({ response, what }, [400, 413]);
              } else expectWellFormed({ response, what });
            }
          });
        }
      }
    },
    TEST_TIMEOUT,
  );

  test(
    'duplicate members: the last one counts, and the document judges it',
    async () => {
      for (const op of withBody()) {
        for (const { body, name } of variantsOf(op)) {
          const slots = slotsOf(op.body!, body).filter(
            (slot) => !slot.pointer.slice(1).includes('/'),
          );
          for (const slot of slots) {
            const member = slot.pointer.slice(1).replace(/~1/g, '/').replace(/~0/g, '~');
            await property(
              `duplicate ${name} ${slot.pointer}`,
              fc.jsonValue({ maxDepth: 1 }),
              async (other) => {
                const text = JSON.stringify(body);
                // The member written twice: the sample's value first, the drawn one last.
                const duplicated = `{${JSON.stringify(member)}:${JSON.stringify(other)},${text.slice(1)}`;
                const last = `${text.slice(0, -1)},${JSON.stringify(member)}:${JSON.stringify(other)}}`;
                for (const [raw, value] of [
                  [duplicated, body],
                  [last, withValueAt(body, slot.pointer, other)],
                ] as const) {
                  const response = await send(op, { body: { raw } });
                  expectVerdict(op, value, { response, what: `${name} ${raw.slice(0, 120)}` });
                }
              },
            );
          }
        }
      }
    },
    TEST_TIMEOUT,
  );

  // ------------------------------------------------------------------ the schema

  test(
    'every member wrong-typed, out of bounds or missing is refused with 400',
    async () => {
      for (const op of withBody()) {
        for (const { body, name } of variantsOf(op)) {
          for (const slot of slotsOf(op.body!, body)) {
            const hostile = fc.oneof(wrongTypedValue(slot.schema), outOfBoundsValue(slot.schema));
            await property(`typed ${name} ${slot.pointer}`, hostile, async (value) => {
              const mutated = withValueAt(body, slot.pointer, value);
              const response = await send(op, { body: { value: mutated } });
              expectVerdict(op, mutated, {
                response,
                what: `${name} ${slot.pointer} = ${JSON.stringify(value)?.slice(0, 80)}`,
              });
            });
            const without = withValueAt(body, slot.pointer, REMOVE);
            const response = await send(op, { body: { value: without } });
            expectVerdict(op, without, { response, what: `${name} without ${slot.pointer}` });
          }
          // A body of the wrong type altogether.
          await property(`root ${name}`, wrongTypedValue(op.body!), async (value) => {
            const response = await send(op, { body: { value } });
            expectVerdict(op, value, { response, what: `${name} = ${JSON.stringify(value)}` });
          });
        }
      }
    },
    TEST_TIMEOUT,
  );

  test(
    'extra members anywhere are refused where the document closes the object',
    async () => {
      const names = fc.oneof(
        fc.string({ minLength: 1, maxLength: 12 }),
        fc.constantFrom(
          '__proto__',
          'constructor',
          'prototype',
          'toString',
          'hasOwnProperty',
          'admin',
        ),
      );
      for (const op of withBody()) {
        for (const { body, name } of variantsOf(op)) {
          for (const pointer of objectPointers(body)) {
            await property(
              `extra ${name} ${pointer}`,
              fc.tuple(names, fc.jsonValue({ maxDepth: 2 })),
              async ([member, value]) => {
                const at = `${pointer}/${member.replace(/~/g, '~0').replace(/\//g, '~1')}`;
                const mutated = withValueAt(body, at, value);
                const response = await send(op, { body: { value: mutated } });
                expectVerdict(op, mutated, {
                  response,
                  what: `${name} ${at} = ${JSON.stringify(value)?.slice(0, 60)}`,
                });
              },
            );
          }
        }
      }
    },
    TEST_TIMEOUT,
  );

  // ------------------------------------------------------------------ Unicode

  test(
    'Unicode edge cases in every string member are text or a registered refusal',
    async () => {
      for (const op of withBody()) {
        for (const { body, name } of variantsOf(op)) {
          const strings = slotsOf(op.body!, body).filter((slot) => isStringSlot(slot.schema));
          for (const slot of strings) {
            const original = String(pointerValue(body, slot.pointer));
            const hostile = fc.oneof(
              unicodeText,
              unicodeText.map((text) => original + text),
              unicodeText.map((text) => text + original),
            );
            await property(`unicode ${name} ${slot.pointer}`, hostile, async (text) => {
              const mutated = withValueAt(body, slot.pointer, text);
              const response = await send(op, { body: { value: mutated } });
              expectVerdict(op, mutated, {
                response,
                what: `${name} ${slot.pointer} = ${JSON.stringify(text)}`,
              });
            });
            // A megabyte of it: larger than every body limit.
            const huge = withValueAt(body, slot.pointer, overlongText(MB));
            const response = await send(op, { body: { value: huge } });
            expectRefused({ response, what: `${name} ${slot.pointer} = 1 MB of text` }, [413]);
            expect(response.json().error.code).toBe('PAYLOAD_TOO_LARGE');
          }
        }
      }
    },
    TEST_TIMEOUT,
  );

  // ------------------------------------------------------------------ content types

  test(
    'bodies that are not JSON are 415 on every operation; no operation fails on any',
    async () => {
      const types: [string | null, string][] = [
        ['text/plain', '{}'],
        ['application/x-www-form-urlencoded', 'a=1&b=2'],
        [
          'multipart/form-data; boundary=x',
          '--x\r\ncontent-disposition: form-data; name="a"\r\n\r\nb\r\n--x--\r\n',
        ],
        ['multipart/form-data', '--x--'],
        ['application/xml', '<a/>'],
        ['application/jsonx', '{}'],
        ['text/json', '{}'],
        ['application/x-json', '{}'],
        ['application/json-patch+json', '[]'],
        ['application/octet-stream', '{}'],
        ['', '{}'],
        [';', '{}'],
        ['application/json; charset=utf-16', '{}'],
        ['application/json; charset=latin1', '{}'],
        ['APPLICATION/JSON', '{}'],
        [null, '{}'],
      ];
      for (const op of operations) {
        const sampleText = op.body ? JSON.stringify(sampleOf(op).bodies[0]) : '{}';
        for (const [type, raw] of types) {
          const payload = raw === '{}' ? sampleText : raw;
          const response = await send(op, { body: { raw: payload }, contentType: type });
          const what = `${op.method} ${op.pattern} as ${type ?? 'no content type'}`;
          expectWellFormed({ response, what });
          const json = type !== null && /^application\/json\s*(;|$)/i.test(type);
          const uploadsIt = op.pattern === UPLOAD && type === 'application/octet-stream';
          if (
            op.body &&
            !json &&
            !uploadsIt &&
            type !== null &&
            type.trim() !== '' &&
            type !== ';'
          ) {
            expect(response.statusCode, what).toBe(415);
          }
        }
      }
    },
    TEST_TIMEOUT,
  );

  // ------------------------------------------------------------------ parameters

  test(
    'path and query parameters out of pattern are 400 (404 where no route matches)',
    async () => {
      const paramText = fc.oneof(
        fc.string({ maxLength: 30 }),
        unicodeText,
        fc.constantFrom(
          '..',
          '.',
          '%',
          '%00',
          '/',
          '../../admin',
          'x'.repeat(101),
          'x'.repeat(5000),
          ' ',
          'A',
        ),
      );
      for (const op of operations) {
        const sample = sampleOf(op);
        const body = sample.bodies[0];
        const sendWith = (url: string) =>
          send(op, body === undefined ? { url } : { url, body: { value: body } });
        for (const parameter of op.parameters.filter((p) => p.in === 'path')) {
          await property(
            `path ${op.method} ${op.pattern} ${parameter.name}`,
            paramText,
            async (value) => {
              const url = operationUrl(
                op,
                { ...sample.path, [parameter.name]: value },
                sample.query,
              );
              const response = await sendWith(url);
              const what = `${op.method} ${url.slice(0, 120)}`;
              if (!validates(parameter.schema, value))
                expectRefused({ response, what }, [400, 404]);
              else expectWellFormed({ response, what });
            },
          );
        }
        for (const parameter of op.parameters.filter((p) => p.in === 'query')) {
          const others = sample.query.filter(([name]) => name !== parameter.name);
          await property(
            `query ${op.method} ${op.pattern} ${parameter.name}`,
            fc.oneof(paramText, outOfBoundsValue(parameter.schema).map(String)),
            async (value) => {
              const url = operationUrl(op, sample.path, [...others, [parameter.name, value]]);
              const response = await sendWith(url);
              const what = `${op.method} ${url.slice(0, 120)}`;
              if (!validates(parameter.schema, value)) expectRefused({ response, what });
              else expectWellFormed({ response, what });
            },
          );
          // Twice: the parser makes an array of it, which no parameter's schema takes.
          const value = sample.query.find(([name]) => name === parameter.name)![1];
          const twice = operationUrl(op, sample.path, [...sample.query, [parameter.name, value]]);
          expectRefused({ response: await sendWith(twice), what: `${op.method} ${twice}` });
        }
        // Parameters nobody declared, prototype names and a megabyte of query.
        for (const query of [
          '__proto__=x',
          'constructor[prototype][admin]=1',
          'a[b][c][d][e]=1',
          `x=${'%F0%9F%98%80'.repeat(1000)}`,
          `x=${'y'.repeat(MB)}`,
          '&&&==&',
          '%',
        ]) {
          const url = `${operationUrl(op, sample.path, sample.query)}${sample.query.length ? '&' : '?'}${query}`;
          expectWellFormed({
            response: await sendWith(url),
            what: `${op.method} ${url.slice(0, 120)}`,
          });
        }
      }
    },
    TEST_TIMEOUT,
  );

  test(
    "the router's own refusals (bad escapes, parameters over 100 characters) are registered 400s",
    async () => {
      for (const op of operations.filter((o) => o.parameters.some((p) => p.in === 'path'))) {
        const sample = sampleOf(op);
        const body = sample.bodies[0];
        for (const broken of ['%E0%A4%A', '%', '%zz', 'x'.repeat(101), '%F0%9F%98%80'.repeat(30)]) {
          const url = op.path.replace(/\{([^}]+)\}/g, () => broken);
          const response = await send(
            op,
            body === undefined ? { url } : { url, body: { value: body } },
          );
          const what = `${op.method} ${url.slice(0, 80)}`;
          expectRefused({ response, what });
          expect(response.headers['x-content-type-options'], what).toBe('nosniff');
          // The refusal does not echo the address back.
          expect(response.body.includes(broken), what).toBe(false);
        }
      }
    },
    TEST_TIMEOUT,
  );

  test(
    'declared headers out of bounds are 400; 64 KB headers anywhere are no 5xx',
    async () => {
      const big = 'A'.repeat(64 * 1024);
      for (const op of operations) {
        const sample = sampleOf(op);
        const body = sample.bodies[0];
        const base = body === undefined ? {} : { body: { value: body } };
        for (const parameter of op.parameters.filter((p) => p.in === 'header')) {
          await property(
            `header ${op.method} ${op.pattern} ${parameter.name}`,
            outOfBoundsValue(parameter.schema)
              .map(String)
              .filter((v) => /^[\x20-\x7e]*$/.test(v)),
            async (value) => {
              const response = await send(op, { ...base, headers: { [parameter.name]: value } });
              const what = `${op.method} ${op.pattern} ${parameter.name}: ${value.slice(0, 40)}`;
              if (!validates(parameter.schema, value)) expectRefused({ response, what });
              else expectWellFormed({ response, what });
            },
          );
        }
        for (const headers of [
          { authorization: `Bearer ${big}` },
          { authorization: `Bearer LK-${big}` },
          { authorization: big },
          { dpop: big },
          { 'idempotency-key': big },
          { cookie: `lk_portal=${big}` },
          { range: `bytes=${'0-1,'.repeat(16 * 1024)}0-1` },
          { 'if-range': big },
          { accept: big },
          { 'webhook-signature': `v1,${big}` },
          { 'x-forwarded-for': big },
        ]) {
          const response = await send(op, { ...base, headers });
          expectWellFormed({
            response,
            what: `${op.method} ${op.pattern} ${Object.keys(headers)[0]}`,
          });
        }
      }
    },
    TEST_TIMEOUT,
  );

  test(
    'hostile Range and If-Range on file downloads: the file, a part of it, or 416',
    async () => {
      const downloads = operations.filter((op) => op.pattern === '/v1/attachments/:attachmentId');
      expect(downloads.length).toBe(1);
      const position = fc.oneof(
        fc.constantFrom(
          '',
          '0',
          '1',
          '4',
          '5',
          '-0',
          '00000000000000000000001',
          `9${'9'.repeat(25)}`,
        ),
        fc.bigInt({ min: 0n, max: 2n ** 70n }).map(String),
      );
      const range = fc.oneof(
        fc.tuple(position, position).map(([first, last]) => `bytes=${first}-${last}`),
        fc
          .array(
            fc.tuple(position, position).map(([f, l]) => `${f}-${l}`),
            { minLength: 2, maxLength: 40 },
          )
          .map((ranges) => `bytes=${ranges.join(',')}`),
        fc.constantFrom(
          'bytes=',
          'bytes=-',
          'items=0-1',
          'bytes = 0 - 1',
          'BYTES=0-1',
          'bytes=1-0',
          'bytes=0-1;x',
        ),
        fc.string({ maxLength: 40 }).map((tail) => `bytes=${tail}`),
      );
      const ifRange = fc.option(
        fc.constantFrom('"x"', 'W/"x"', 'Thu, 01 Jan 1970 00:00:00 GMT', 'garbage', ''),
        { nil: undefined },
      );
      for (const op of downloads) {
        await property('range', fc.tuple(range, ifRange), async ([value, condition]) => {
          const headers: Record<string, string> = { range: value };
          if (condition !== undefined) headers['if-range'] = condition;
          const response = await send(op, { headers });
          const what = `Range: ${value} If-Range: ${condition}`;
          expectWellFormed({ response, what });
          expect([200, 206, 400, 416], what).toContain(response.statusCode);
        });
      }
    },
    TEST_TIMEOUT,
  );

  // ------------------------------------------------------------------ 10 MB

  test(
    'a 10 MB body is 413 on every operation that takes a body, injected',
    async () => {
      const tenMb = `{"padding":"${'x'.repeat(10 * MB)}"}`;
      for (const op of operations) {
        const type = op.pattern === UPLOAD ? 'application/json' : 'application/json';
        const response = await send(op, { body: { raw: tenMb }, contentType: type });
        const what = `${op.method} ${op.pattern} 10 MB`;
        expectWellFormed({ response, what });
        if (op.body) {
          expect(response.statusCode, what).toBe(413);
          expect(response.json().error.code).toBe('PAYLOAD_TOO_LARGE');
        }
      }
    },
    TEST_TIMEOUT,
  );

  // ------------------------------------------------------------------ random keys

  test(
    'random license keys at a high rate meet 429 per IPv4 address and per IPv6 /64',
    async () => {
      const keyRoutes = operations.filter(usesKey);
      const symbol = fc.constantFrom(...'0123456789ABCDEFGHJKMNPQRSTVWXYZ');
      const randomKey = fc.oneof(
        fc
          .array(
            fc.array(symbol, { minLength: 5, maxLength: 5 }).map((s) => s.join('')),
            {
              minLength: 7,
              maxLength: 7,
            },
          )
          .map((groups) => `LK-${groups.join('-')}`.slice(0, 41)),
        fc.string({ minLength: 1, maxLength: 60 }).filter((s) => /^[\x21-\x7e]+$/.test(s)),
      );
      const burst = fc.record({
        keys: fc.array(fc.tuple(randomKey, fc.nat({ max: keyRoutes.length - 1 })), {
          minLength: 25,
          maxLength: 40,
        }),
        ipv6: fc.boolean(),
        prefix: fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 3, maxLength: 3 }),
        hosts: fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), {
          minLength: 40,
          maxLength: 40,
        }),
      });
      let clients = 0;
      await property('key guessing', burst, async ({ keys, ipv6, prefix, hosts }) => {
        clients++;
        // One client per run: an IPv4 address, or an IPv6 /64 whose every request comes from
        // another address in it.
        const v6 = (host: bigint) => {
          const groups = [0x2001, ...prefix.slice(0, 2), clients & 0xffff];
          for (let shift = 48n; shift >= 0n; shift -= 16n)
            groups.push(Number((host >> shift) & 0xffffn));
          return groups.map((g) => g.toString(16)).join(':');
        };
        const address = (i: number) =>
          ipv6 ? v6(hosts[i % hosts.length]!) : `172.16.${clients >> 8}.${clients & 255}`;
        const answers = await Promise.all(
          keys.map(([key, route], i) => {
            const op = keyRoutes[route]!;
            // The last variant: refresh's first one is authenticated by its token, not a key.
            const body = sampleOf(op).bodies.at(-1);
            return send(op, {
              ...(body === undefined ? {} : { body: { value: body } }),
              headers: { authorization: `Bearer ${key}` },
              remoteAddress: address(i),
            }).then((response) => ({ response, what: `${op.method} ${op.pattern} ${key}` }));
          }),
        );
        for (const answer of answers) expectWellFormed(answer);
        const tooMany = answers.filter((a) => a.response.statusCode === 429);
        const looked = answers.filter((a) => a.response.statusCode !== 429);
        // Lookups beyond the limit never run: at most 10 answers say anything about a key,
        // and what they say is that no license has it.
        expect(looked.length, looked.map((a) => a.what).join('\n')).toBeLessThanOrEqual(10);
        for (const { response, what } of looked) {
          expect(response.json().error.code, what).toBe('LICENSE_NOT_FOUND');
        }
        for (const { response } of tooMany) {
          expect(response.json().error.code).toBe('TOO_MANY_REQUESTS');
          expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
        }
        // The real key is refused to this client too, and works from anywhere else.
        const status = operations.find((op) => op.pattern === '/v1/licenses/status')!;
        const blocked = await send(status, { remoteAddress: address(keys.length) });
        expect(blocked.statusCode).toBe(429);
        expect((await send(status)).statusCode).toBe(200);
      });
    },
    TEST_TIMEOUT,
  );

  // ------------------------------------------------------------------ pages

  test(
    'the pages (outside the document) answer hostile forms and queries without a 5xx',
    async () => {
      const documented = new Set(operations.map((op) => op.pattern));
      const pages = listRoutes(store.app).filter(
        (route) => !route.pattern.startsWith('/v1/') && !documented.has(route.pattern),
      );
      const form = fc.dictionary(
        fc.constantFrom(
          'csrf',
          'licenseKey',
          'email',
          'productId',
          'planId',
          'seats',
          'deviceId',
          'expectedAmount',
          'plan',
          'trial',
          'idempotencyKey',
          '__proto__',
        ),
        fc.oneof(unicodeText, fc.string({ maxLength: 20 }), fc.constant('x'.repeat(3000))),
        { maxKeys: 6 },
      );
      const hostile = fc.record({
        query: fc.array(
          fc.tuple(fc.constantFrom('plan', 'seats', 'format', 'done', 'x'), unicodeText),
          { maxLength: 3 },
        ),
        form,
        accept: fc.constantFrom('text/html', 'application/json', '*/*', ''),
        param: fc.oneof(unicodeText, fc.constantFrom('att_x', '..', 'photon')),
      });
      for (const route of pages) {
        if (route.pattern === '*') continue;
        await property(
          `page ${route.method} ${route.pattern}`,
          hostile,
          async ({ query, form, accept, param }) => {
            const path = route.pattern.replace(/:[A-Za-z]+/g, () => encodeURIComponent(param));
            const search = new URLSearchParams(query).toString();
            const url = search ? `${path}?${search}` : path;
            const request: InjectOptions = {
              method: route.method as NonNullable<InjectOptions['method']>,
              url,
              headers: { accept, cookie: `lk_portal=${randomUUID()}; lk_form=${'a'.repeat(43)}` },
              remoteAddress: nextAddress(),
            };
            if (route.method === 'POST') {
              request.payload = new URLSearchParams(form).toString();
              (request.headers as Record<string, string>)['content-type'] =
                'application/x-www-form-urlencoded';
            }
            requests++;
            const response = await store.app.inject(request);
            const what = `${route.method} ${url.slice(0, 100)}`;
            if (String(response.headers['content-type'] ?? '').startsWith('text/html')) {
              expect(response.statusCode, what).toBeLessThan(500);
            } else expectWellFormed({ response, what });
          },
        );
      }
    },
    TEST_TIMEOUT,
  );

  test('the store kept serving and logged no error', async () => {
    const health = await store.app.inject({ url: '/health' });
    expect(health.statusCode).toBe(200);
    expect(errorLines, 'errors logged while fuzzing').toEqual([]);
  });

  // ------------------------------------------------------------------ a real socket

  describe('over a real socket', () => {
    let port: number;
    beforeAll(async () => {
      await store.app.listen({ port: 0, host: '127.0.0.1' });
      port = (store.app.server.address() as AddressInfo).port;
    });

    test(
      'a 10 MB body is 413 with a registered error, with and without Content-Length',
      async () => {
        const tenMb = Buffer.alloc(10 * MB, 'x');
        for (const op of withBody()) {
          for (const chunked of [false, true]) {
            const answer = await socketRequest(port, op, tenMb, {
              chunked,
              headers: credentialsOf(op),
            });
            const what = `${op.method} ${op.pattern} 10 MB ${chunked ? 'chunked' : 'with length'}`;
            expect(answer.status, what).toBe(413);
            expect(JSON.parse(answer.body), what).toEqual({
              error: { code: 'PAYLOAD_TOO_LARGE', message: ERROR_CODES.PAYLOAD_TOO_LARGE.message },
            });
          }
        }
      },
      TEST_TIMEOUT,
    );

    test(
      'oversized headers are 431 HEADERS_TOO_LARGE from the HTTP parser; the store keeps serving',
      async () => {
        const big = (size: number) => `Authorization: Bearer ${'A'.repeat(size)}\r\n`;
        const many = Array.from({ length: 3000 }, (_, i) => `X-H${i}: v\r\n`).join('');
        for (const op of operations) {
          const start = `${op.method} ${operationUrl(op, sampleOf(op).path)} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
          for (const [headers, status] of [
            [big(20 * 1024), 431],
            [big(64 * 1024), 431],
            [many, 431],
            // Under Node's 16 KiB the request reaches the store, which refuses the key itself.
            [big(12 * 1024), undefined],
          ] as const) {
            requests++;
            const raw = await rawExchange(port, `${start}${headers}Connection: close\r\n\r\n`);
            const what = `${op.method} ${op.pattern} with ${headers.length} bytes of headers`;
            const answer = parseHttp(raw);
            expect(answer.status, what).toBeLessThan(500);
            if (answer.status >= 400) expectRegistered(answer, what);
            if (status !== undefined) {
              expect(answer.status, what).toBe(status);
              expect(JSON.parse(answer.body).error.code, what).toBe('HEADERS_TOO_LARGE');
            }
          }
        }
        const health = await fetch(`http://127.0.0.1:${port}/health`);
        expect(health.status).toBe(200);
      },
      TEST_TIMEOUT,
    );

    test(
      'a request the HTTP parser cannot read is a registered 400',
      async () => {
        for (const raw of [
          'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
          'GET /\u0000 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
          'POST /v1/checkout HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
          'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n',
          'GET / HTTP/1.1\r\nBad Header\r\n\r\n',
          'NOT A REQUEST\r\n\r\n',
        ]) {
          requests++;
          const answer = parseHttp(await rawExchange(port, raw));
          expectRegistered(answer, JSON.stringify(raw));
          expect(answer.status, JSON.stringify(raw)).toBe(400);
        }
      },
      TEST_TIMEOUT,
    );
  });

  test('a request slower than the request timeout is a registered 408', () => {
    // What Node hands the handler when the timeout (timeouts.test.ts) strikes.
    const socket = new PassThrough();
    let written = '';
    socket.on('data', (chunk: Buffer) => {
      written += chunk.toString('latin1');
    });
    socket.on('error', () => undefined);
    const timeout = Object.assign(new Error('Request timeout'), {
      code: 'ERR_HTTP_REQUEST_TIMEOUT',
    });
    clientErrorHandler.call(store.app, timeout, socket);
    const answer = parseHttp(written);
    expectRegistered(answer, 'timeout');
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body).error.code).toBe('REQUEST_TIMEOUT');
    expect(socket.destroyed).toBe(true);
  });

  /** A raw answer: 4xx with the store's error shape, a registered code, and nosniff. */
  function expectRegistered(
    answer: { status: number; headers: IncomingHttpHeaders; body: string },
    what: string,
  ) {
    expect(answer.status, `${what}: ${answer.body.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
    expect(answer.status, what).toBeLessThan(500);
    const body = JSON.parse(answer.body) as { error: { code: keyof typeof ERROR_CODES } };
    expect(Object.keys(body.error).sort(), `${what}: ${answer.body}`).toEqual(['code', 'message']);
    expect(ERROR_CODES[body.error.code]?.status, `${what}: ${answer.body}`).toBe(answer.status);
    expect(answer.headers['x-content-type-options'], what).toBe('nosniff');
  }

  function credentialsOf(op: Operation): Record<string, string> {
    if (isAdmin(op)) return ADMIN;
    if (usesKey(op)) return { authorization: `Bearer ${holder.key}` };
    if (op.pattern === '/v1/checkout') return { 'idempotency-key': randomUUID() };
    return {};
  }

  /** A request over HTTP/1.1 with a body (10 MB): the status and body the server sent. */
  function socketRequest(
    port: number,
    op: Operation,
    body: Buffer,
    options: { chunked: boolean; headers: Record<string, string> },
  ): Promise<{ status: number; body: string }> {
    requests++;
    return new Promise((resolve, reject) => {
      const request = httpRequest({
        host: '127.0.0.1',
        port,
        method: op.method,
        path: operationUrl(op, sampleOf(op).path),
        agent: false,
        headers: {
          'content-type': 'application/json',
          ...options.headers,
          ...(options.chunked ? {} : { 'content-length': String(body.length) }),
        },
      });
      let answered = false;
      request.on('response', (response) => {
        answered = true;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        );
        response.on('error', reject);
      });
      // The server may answer and close before it has read the body: a broken pipe then is
      // the client's problem, not a failure of the store.
      request.on('error', (error) => {
        if (!answered) reject(error);
      });
      for (let offset = 0; offset < body.length; offset += 64 * 1024) {
        request.write(body.subarray(offset, offset + 64 * 1024));
      }
      request.end();
    });
  }
});

function isStringSlot(schema: JsonSchema): boolean {
  const branches = schema.anyOf ?? [schema];
  return branches.some((branch) => branch.type === 'string' && !branch.enum);
}

function pointerValue(root: unknown, pointer: string): unknown {
  let value = root;
  for (const segment of pointer.split('/').slice(1)) {
    value = (value as Record<string, unknown>)[segment.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return value;
}

/** Writes raw bytes to the server and collects everything it sends until it closes. */
function rawExchange(port: number, raw: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const giveUp = setTimeout(() => socket.destroy(), 10_000);
    socket.on('data', (data) => {
      received += data.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(giveUp);
      resolve(received);
    });
    socket.on('connect', () => socket.end(raw, 'latin1'));
  });
}

/** The status, headers and body of the first HTTP response in `raw`. */
function parseHttp(raw: string): { status: number; headers: IncomingHttpHeaders; body: string } {
  const end = raw.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = raw.slice(0, end).split('\r\n');
  const headers: IncomingHttpHeaders = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? Number.NaN);
  const rest = raw.slice(end + 4);
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0),
    headers,
    body: Number.isNaN(length) ? rest : rest.slice(0, length),
  };
}
