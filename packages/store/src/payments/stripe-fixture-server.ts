import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for api.stripe.com in tests (STRIPE_API_BASE points the SDK here), on
 * 127.0.0.1 and a random port. It answers the few calls the store makes with the JSON in
 * fixtures/stripe/ (see its README: written after Stripe's API reference, not captured),
 * with the request's own parameters written over the fixture where Stripe would echo
 * them, and keeps every request so a test can check what the SDK sent. Like Stripe, it
 * answers a repeated Idempotency-Key with the first answer, and refuses one sent again with
 * other parameters (400 `idempotency_error`). Refunds of a PaymentIntent it holds are kept
 * against what the PaymentIntent took: no amount refunds all that is left, and a payment
 * refunded in full refuses another (400 `charge_already_refunded`).
 */
export interface RecordedStripeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** The form-encoded body as Stripe's API takes it (`a[b][0]=…` keys). */
  form: URLSearchParams;
  headers: IncomingMessage['headers'];
}

export type RequestMatch = (request: RecordedStripeRequest) => boolean;

export interface StripeFixtureServer {
  /** `http://127.0.0.1:<port>`: the value of STRIPE_API_BASE. */
  base: string;
  requests: RecordedStripeRequest[];
  /**
   * The next `count` calls (those `match` accepts, if given) answer with this fixture and
   * status (e.g. 500 api_error).
   */
  failNext(status: number, fixture: string, count?: number, match?: RequestMatch): void;
  /**
   * The next call runs (and is kept for its Idempotency-Key, as Stripe keeps it) but its
   * answer is lost: the connection closes before a byte is sent.
   */
  dropNext(match?: RequestMatch): void;
  /** PaymentIntents by id: those the store created, and any a test adds. */
  paymentIntents: Map<string, Record<string, unknown>>;
  /** A refund made elsewhere (the dashboard), which `GET /v1/refunds` then lists. */
  addRefund(refund: Record<string, unknown>): void;
  close(): Promise<void>;
}

const FIXTURES = new URL('./fixtures/stripe/', import.meta.url);

/** The statuses in which Stripe cancels a PaymentIntent (besides, rarely, `processing`). */
const CANCELLABLE_INTENT = [
  'requires_payment_method',
  'requires_capture',
  'requires_confirmation',
  'requires_action',
];

/** A fixture file, parsed afresh (callers change their copy). */
export function stripeFixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES), 'utf8')) as T;
}

/**
 * `now`: the clock of the store under test. With it, a Checkout Session whose
 * `expires_at` is less than 30 minutes or more than 24 hours after `now` is refused, as
 * Stripe refuses it (400 `invalid_request_error` on `expires_at`).
 */
export async function startStripeFixtureServer(
  options: { now?: () => Date } = {},
): Promise<StripeFixtureServer> {
  const requests: RecordedStripeRequest[] = [];
  const failures: { status: number; fixture: string; match: RequestMatch }[] = [];
  const byIdempotencyKey = new Map<string, { status: number; body: unknown; parameters: string }>();
  const refunds: Record<string, unknown>[] = [];
  const paymentIntents = new Map<string, Record<string, unknown>>();
  let sequence = 0;
  const drops: RequestMatch[] = [];
  const anyRequest: RequestMatch = () => true;
  /** Takes the first queued entry that applies to this request. */
  function take<T extends { match: RequestMatch }>(queue: T[], request: RecordedStripeRequest) {
    const index = queue.findIndex((entry) => entry.match(request));
    return index < 0 ? undefined : queue.splice(index, 1)[0];
  }

  /** A PaymentIntent as Stripe answers `POST /v1/payment_intents` with these parameters. */
  function paymentIntentOf(form: URLSearchParams, base: Record<string, unknown>) {
    return Object.assign(base, {
      id: `pi_fixture${String(++sequence).padStart(6, '0')}`,
      amount: Number(form.get('amount')),
      currency: form.get('currency'),
      customer: form.get('customer'),
      payment_method: form.get('payment_method'),
      description: form.get('description'),
      metadata: { order_id: form.get('metadata[order_id]') },
      ...(base.status === 'succeeded' && { amount_received: Number(form.get('amount')) }),
    });
  }

  function answer(recorded: RecordedStripeRequest): { status: number; body: unknown } {
    const { method, path, form } = recorded;
    const failure = take(failures, recorded);
    if (failure) {
      const body = stripeFixture<{ error: { payment_intent?: Record<string, unknown> } }>(
        failure.fixture,
      );
      // A card refusal names the PaymentIntent it created (and failed) for this request.
      if (method === 'POST' && path === '/v1/payment_intents' && body.error.payment_intent) {
        const intent = paymentIntentOf(form, body.error.payment_intent);
        paymentIntents.set(intent.id as string, intent);
      }
      return { status: failure.status, body };
    }
    if (method === 'POST' && path === '/v1/payment_intents') {
      const intent = paymentIntentOf(form, stripeFixture('payment-intent'));
      paymentIntents.set(intent.id as string, intent);
      return { status: 200, body: intent };
    }
    const intentId = method === 'GET' && /^\/v1\/payment_intents\/([^/]+)$/.exec(path)?.[1];
    if (intentId) {
      const intent = paymentIntents.get(decodeURIComponent(intentId));
      return intent ? { status: 200, body: intent } : noSuchIntent(intentId);
    }
    const cancelId =
      method === 'POST' && /^\/v1\/payment_intents\/([^/]+)\/cancel$/.exec(path)?.[1];
    if (cancelId) {
      const intent = paymentIntents.get(decodeURIComponent(cancelId));
      return intent ? cancelIntent(intent, form) : noSuchIntent(cancelId);
    }
    if (method === 'POST' && path === '/v1/checkout/sessions') {
      const refused = expiryRefused(form.get('expires_at'));
      if (refused) return refused;
      const session = stripeFixture('checkout-session');
      const id = `cs_test_fixture${String(++sequence).padStart(6, '0')}`;
      Object.assign(session, {
        id,
        url: `https://checkout.stripe.com/c/pay/${id}`,
        client_reference_id: form.get('client_reference_id'),
        customer_email: form.get('customer_email'),
        metadata: { order_id: form.get('metadata[order_id]') },
        currency: form.get('line_items[0][price_data][currency]'),
        amount_subtotal: Number(form.get('line_items[0][price_data][unit_amount]')),
        amount_total: Number(form.get('line_items[0][price_data][unit_amount]')),
        success_url: form.get('success_url'),
        cancel_url: form.get('cancel_url'),
      });
      return { status: 200, body: session };
    }
    if (method === 'POST' && path === '/v1/refunds') {
      const intentId = form.get('payment_intent') ?? '';
      const intent = paymentIntents.get(intentId);
      const left = intent && refundableOf(intent);
      // Like Stripe: a payment refunded in full refuses another refund, and no amount means
      // all that is left (which needs the PaymentIntent; one a test did not add is refunded
      // only for an amount given, as before PaymentIntents were kept here).
      if (left !== undefined && left <= 0) return alreadyRefunded(intentId);
      if (!form.has('amount') && left === undefined) return noSuchIntent(intentId);
      const refund = stripeFixture('refund');
      Object.assign(refund, {
        id: `re_fixture${String(++sequence).padStart(6, '0')}`,
        amount: form.has('amount') ? Number(form.get('amount')) : left,
        ...(intent && { currency: intent.currency }),
        payment_intent: form.get('payment_intent'),
        // The fixture's convention: PaymentIntent pi_X was paid by charge ch_X.
        charge: `ch_${(form.get('payment_intent') ?? '').replace(/^pi_/, '')}`,
        reason: form.get('reason'),
        metadata: Object.fromEntries(
          [...form].flatMap(([name, value]) => {
            const key = /^metadata\[(.+)\]$/.exec(name)?.[1];
            return key ? [[key, value]] : [];
          }),
        ),
      });
      refunds.push(refund);
      return { status: 200, body: refund };
    }
    if (method === 'GET' && path === '/v1/refunds') {
      const list = stripeFixture('refund-list');
      const charge = recorded.query.get('charge');
      list.data = refunds.filter((refund) => refund.charge === charge);
      return { status: 200, body: list };
    }
    return {
      status: 404,
      body: {
        error: {
          type: 'invalid_request_error',
          message: `Unrecognized request URL (${method}: ${path}).`,
        },
      },
    };
  }

  /** What is left to refund of a PaymentIntent: what it took less its refunds. */
  function refundableOf(intent: Record<string, unknown>): number {
    const taken = Number(intent.amount_received ?? intent.amount ?? 0);
    const refunded = refunds
      .filter((refund) => refund.payment_intent === intent.id && refund.status !== 'failed')
      .reduce((sum, refund) => sum + Number(refund.amount), 0);
    return taken - refunded;
  }

  /** Stripe's refusal to refund a charge refunded in full. */
  function alreadyRefunded(intentId: string): { status: number; body: unknown } {
    return {
      status: 400,
      body: {
        error: {
          type: 'invalid_request_error',
          code: 'charge_already_refunded',
          message: `Charge ch_${intentId.replace(/^pi_/, '')} has already been refunded.`,
        },
      },
    };
  }

  function noSuchIntent(id: string): { status: number; body: unknown } {
    return {
      status: 404,
      body: {
        error: {
          type: 'invalid_request_error',
          code: 'resource_missing',
          message: `No such payment_intent: '${id}'`,
        },
      },
    };
  }

  /**
   * `POST /v1/payment_intents/:id/cancel`. Stripe cancels an intent only before it takes
   * money; any other (succeeded, canceled, and here processing, which Stripe cancels only
   * in rare cases) is refused with 400 `payment_intent_unexpected_state`, the error naming
   * the intent as it is.
   */
  function cancelIntent(
    intent: Record<string, unknown>,
    form: URLSearchParams,
  ): { status: number; body: unknown } {
    if (!CANCELLABLE_INTENT.includes(String(intent.status))) {
      return {
        status: 400,
        body: {
          error: {
            type: 'invalid_request_error',
            code: 'payment_intent_unexpected_state',
            message: `You cannot cancel this PaymentIntent because it has a status of ${intent.status}. Only a PaymentIntent with one of the following statuses may be canceled: ${CANCELLABLE_INTENT.join(', ')}, processing.`,
            payment_intent: intent,
          },
        },
      };
    }
    Object.assign(intent, {
      status: 'canceled',
      canceled_at: Math.floor((options.now?.() ?? new Date()).getTime() / 1000),
      cancellation_reason: form.get('cancellation_reason'),
    });
    return { status: 200, body: intent };
  }

  /** Stripe's bounds on a session's `expires_at`: 30 minutes to 24 hours from its creation. */
  function expiryRefused(expiresAt: string | null): { status: number; body: unknown } | undefined {
    if (expiresAt === null || options.now === undefined) return undefined;
    const left = Number(expiresAt) - Math.floor(options.now().getTime() / 1000);
    if (left >= 30 * 60 && left <= 24 * 3600) return undefined;
    return {
      status: 400,
      body: {
        error: {
          type: 'invalid_request_error',
          param: 'expires_at',
          message:
            'The `expires_at` timestamp must be at least 30 minutes and at most 24 hours from Checkout Session creation.',
        },
      },
    };
  }

  /** Stripe's answer to a used idempotency key sent with other parameters. */
  function mismatch(key: string): { status: number; body: unknown } {
    return {
      status: 400,
      body: {
        error: {
          type: 'idempotency_error',
          message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
        },
      },
    };
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const recorded: RecordedStripeRequest = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      form: new URLSearchParams(Buffer.concat(chunks).toString('utf8')),
      headers: request.headers,
    };
    requests.push(recorded);
    const key = request.headers['idempotency-key'];
    const parameters = recorded.form.toString();
    const kept =
      typeof key === 'string' ? byIdempotencyKey.get(`${recorded.path} ${key}`) : undefined;
    const replay = kept?.parameters === parameters ? kept : undefined;
    const result = replay ?? (kept ? mismatch(key as string) : answer(recorded));
    // Stripe keeps an idempotent answer only once the request ran (not a 5xx).
    if (typeof key === 'string' && !kept && result.status < 500)
      byIdempotencyKey.set(`${recorded.path} ${key}`, { ...result, parameters });
    const drop = drops.findIndex((match) => match(recorded));
    if (drop >= 0) {
      drops.splice(drop, 1);
      response.destroy();
      return;
    }
    response.writeHead(result.status, {
      'content-type': 'application/json',
      'request-id': `req_fixture${requests.length}`,
      ...(replay && { 'idempotent-replayed': 'true' }),
    });
    response.end(JSON.stringify(result.body));
  }

  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      response.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    requests,
    failNext(status, fixture, count = 1, match = anyRequest) {
      for (let i = 0; i < count; i++) failures.push({ status, fixture, match });
    },
    dropNext(match = anyRequest) {
      drops.push(match);
    },
    paymentIntents,
    addRefund(refund) {
      refunds.push(refund);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
