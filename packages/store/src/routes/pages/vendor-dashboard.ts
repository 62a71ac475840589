import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StoreError } from '../../errors.js';
import { Blocked, clientKey } from '../../lib/failure-limiter.js';
import { checkFormToken, FORM_COOKIE, formToken } from '../../lib/form-tokens.js';
import { storeContext } from '../../lib/store-context.js';
import type { Invoice } from '../../marketplace/invoices.js';
import { invoiceById, listInvoices } from '../../marketplace/invoices.js';
import { vendorBalances } from '../../marketplace/payouts.js';
import { dailySales, recentOrders, salesSummary } from '../../marketplace/vendor-sales.js';
import type { Vendor } from '../../marketplace/vendors.js';
import { vendorById } from '../../marketplace/vendors.js';
import { endVendorSession } from '../../services/vendor-sessions.js';
import { authenticateVendorToken } from '../../services/vendor-tokens.js';
import type { FieldError } from '../../views/layout.js';
import type { VendorFrame } from '../../views/vendor-dashboard.js';
import {
  dashboardPage,
  vendorErrorPage,
  vendorInvoicePage,
  vendorSignInPage,
} from '../../views/vendor-dashboard.js';
import { cookieOf, formSecret, readForm, seeOther, sendPage } from './http.js';
import { sendDocumentPdf } from './portal-invoices-pdf.js';
import {
  clearVendorCookie,
  loadVendorSession,
  startVendorSession,
  vendorCsrfMatches,
  vendorSessionOf,
} from './vendor-session.js';

const SIGN_IN_PURPOSE = 'vendor-sign-in';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Vendor dashboard routes reachable without a session (the sign-in form and its post). */
    vendorOpen?: boolean;
  }
}

/**
 * The vendor dashboard at /vendor: a vendor signs in with one of its tokens
 * (services/vendor-tokens.ts) and sees its balance and next payout, its sales (30 days and
 * all time) with a chart per day, its recent orders and its invoices. One encapsulated
 * plugin whose preHandler gates every route but sign-in, as the admin screen's does: no
 * session → a GET goes to the sign-in form, a POST is refused (401); a POST without the
 * session's CSRF token is refused (403). Every query is scoped by the session's vendor id;
 * a document of another vendor is a 404, as an unknown one.
 *
 * The token is posted in a form (never in a URL), looked up by keyed hash, never stored by
 * the session; wrong tokens count in the failure limiter like guessed license keys.
 */
export default async function vendorDashboardPages(fastify: FastifyInstance) {
  const ctx = storeContext(fastify);
  const { config } = fastify;
  const open = { schema: { hide: true }, config: { vendorOpen: true } };
  const gated = { schema: { hide: true } };

  /** The frame of a page: signed in, it names the vendor (looked up once per request). */
  const vendors = new WeakMap<FastifyRequest, Vendor>();
  function frameOf(request: FastifyRequest): VendorFrame {
    const session = vendorSessionOf(request);
    const vendor = vendors.get(request);
    return {
      store: config.vendor,
      signedIn:
        session && vendor ? { vendorName: vendor.name, csrfToken: session.csrfToken } : undefined,
    };
  }

  fastify.setErrorHandler((error: FastifyError | StoreError, request, reply) => {
    let status = 500;
    let message: string | undefined;
    if (error instanceof StoreError) {
      status = error.status;
      message = error.message;
      if (status === 429) reply.header('retry-after', String(error.retryAfterSeconds ?? 60));
    } else if ((error as FastifyError).validation) {
      status = 400;
      message = 'The address or the form is not valid.';
    } else if (
      typeof error.statusCode === 'number' &&
      error.statusCode >= 400 &&
      error.statusCode < 500
    ) {
      status = error.statusCode;
    }
    if (status >= 500) {
      if (status === 500) request.log.error({ err: error }, 'request failed');
      message = undefined;
    }
    return sendPage(reply, status, vendorErrorPage(frameOf(request), { status, message }));
  });

  fastify.addHook('preHandler', async (request, reply) => {
    const session = await loadVendorSession(request);
    if (session) {
      const vendor = await vendorById(fastify.db, session.vendorId);
      if (vendor) vendors.set(request, vendor);
    }
    if (request.routeOptions.config.vendorOpen) return;
    if (!session || !vendors.has(request)) {
      if (request.method === 'GET' || request.method === 'HEAD') return seeOther(reply, '/vendor');
      return sendPage(
        reply,
        401,
        vendorErrorPage(frameOf(request), {
          status: 401,
          message: 'Your vendor session has ended, so nothing was changed. Sign in again.',
          link: { href: '/vendor', text: 'Sign in' },
        }),
      );
    }
    if (request.method === 'POST' && !vendorCsrfMatches(session, readForm(request.body).csrf)) {
      return sendPage(
        reply,
        403,
        vendorErrorPage(frameOf(request), {
          status: 403,
          message:
            'This form is missing its security token or comes from an older session. Open the page again and repeat the action.',
        }),
      );
    }
  });

  function renderSignIn(
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    options: { errors?: FieldError[]; notice?: string | undefined } = {},
  ): FastifyReply {
    const secret = formSecret(request, reply, config);
    return sendPage(
      reply,
      status,
      vendorSignInPage(frameOf(request), {
        csrfToken: formToken(fastify.secrets, SIGN_IN_PURPOSE, secret),
        errors: options.errors ?? [],
        notice: options.notice,
      }),
    );
  }

  /** The signed-in vendor of a gated route (the preHandler has loaded it). */
  function vendorOf(request: FastifyRequest): Vendor {
    const vendor = vendors.get(request);
    if (!vendor) throw new Error('vendor route without a session');
    return vendor;
  }

  // The dashboard when signed in, else the sign-in form.
  fastify.get('/vendor', open, async (request, reply) => {
    const vendor = vendors.get(request);
    if (!vendor) {
      const done = (request.query as { done?: unknown }).done;
      return renderSignIn(request, reply, 200, {
        notice: done === 'signed-out' ? 'You are signed out.' : undefined,
      });
    }
    const now = ctx.clock.now();
    const sales = await salesSummary(fastify.db, vendor.id, now);
    // The chart shows one series: live money before test money, the first with sales.
    const series = sales.find((summary) => summary.lastDays.gross > 0);
    return sendPage(
      reply,
      200,
      dashboardPage(frameOf(request), {
        vendor,
        now,
        sales,
        balances: await vendorBalances(fastify.db, vendor.id, now),
        chart: series && {
          series: { currency: series.currency, test: series.test },
          days: await dailySales(fastify.db, vendor.id, series, now),
        },
        orders: await recentOrders(fastify.db, vendor.id, config.vendor, 20),
        invoices: await listInvoices(fastify.db, { vendorId: vendor.id, limit: 50 }),
      }),
    );
  });

  fastify.post('/vendor/sign-in', { ...open, bodyLimit: 4 * 1024 }, async (request, reply) => {
    const form = readForm(request.body);
    const secret = cookieOf(request, config, FORM_COOKIE);
    if (!checkFormToken(fastify.secrets, SIGN_IN_PURPOSE, secret, form.csrf)) {
      return sendPage(
        reply,
        403,
        vendorErrorPage(frameOf(request), {
          status: 403,
          message: 'This sign-in form has expired or was not sent from this store. Open it again.',
          link: { href: '/vendor', text: 'Sign in' },
        }),
      );
    }
    const token = (form.token ?? '').trim();
    if (token === '') {
      return renderSignIn(request, reply, 400, {
        errors: [{ field: 'token', message: 'Enter your vendor token.' }],
      });
    }
    const outcome = await fastify.failureLimiter.run(
      `vendor:${clientKey(request.ip)}`,
      async () => ({
        found: await authenticateVendorToken(fastify.db, ctx, token),
        failures: [],
      }),
    );
    if (outcome instanceof Blocked) {
      const limited = new StoreError(
        'TOO_MANY_REQUESTS',
        'Too many wrong vendor tokens from this address. Wait a minute, then try again.',
      );
      limited.retryAfterSeconds = outcome.retryAfterSeconds;
      throw limited;
    }
    if (!outcome) {
      request.log.warn({ client: clientKey(request.ip) }, 'vendor sign-in refused');
      return renderSignIn(request, reply, 401, {
        errors: [
          {
            field: 'token',
            message: 'This is not a vendor token of this store, or it was revoked.',
          },
        ],
      });
    }
    const previous = vendorSessionOf(request);
    if (previous) await endVendorSession(ctx, previous.id);
    await startVendorSession(request, reply, outcome);
    request.log.info({ vendor: outcome.vendorId }, 'vendor signed in');
    return seeOther(reply, '/vendor');
  });

  fastify.post('/vendor/sign-out', { ...gated, bodyLimit: 4 * 1024 }, async (request, reply) => {
    const session = vendorSessionOf(request);
    if (session) await endVendorSession(ctx, session.id);
    clearVendorCookie(request, reply);
    return seeOther(reply, '/vendor?done=signed-out');
  });

  /** A document of the signed-in vendor; another vendor's is as unknown as a made-up id. */
  async function documentOf(request: FastifyRequest<{ Params: { id: string } }>): Promise<Invoice> {
    const vendor = vendorOf(request);
    const id = request.params.id;
    const invoice = /^[\w-]{1,64}$/.test(id) ? await invoiceById(fastify.db, id) : undefined;
    if (!invoice || invoice.vendorId !== vendor.id) throw new StoreError('INVOICE_NOT_FOUND');
    return invoice;
  }

  fastify.get<{ Params: { id: string } }>('/vendor/invoices/:id', gated, async (request, reply) =>
    sendPage(reply, 200, vendorInvoicePage(frameOf(request), await documentOf(request))),
  );

  fastify.get<{ Params: { id: string } }>(
    '/vendor/invoices/:id/pdf',
    gated,
    async (request, reply) => sendDocumentPdf(reply, await documentOf(request)),
  );
}
