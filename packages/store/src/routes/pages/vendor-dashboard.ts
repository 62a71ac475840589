import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StoreError } from '../../errors.js';
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
import { seeOther, sendPage } from './http.js';
import { pageErrorOf } from './page-errors.js';
import { sendDocumentPdf } from './portal-invoices-pdf.js';
import type { ErrorPageOf, SignInForm } from './token-session.js';
import { refuseOutsideSession, sendSignInForm, signInWithToken } from './token-session.js';
import {
  clearVendorCookie,
  loadVendorSession,
  startVendorSession,
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
    const { status, message } = pageErrorOf(error, request, reply);
    return sendPage(reply, status, vendorErrorPage(frameOf(request), { status, message }));
  });
  const errorPage: ErrorPageOf = (request, error) => vendorErrorPage(frameOf(request), error);

  fastify.addHook('preHandler', async (request, reply) => {
    const session = await loadVendorSession(request);
    if (session) {
      const vendor = await vendorById(fastify.db, session.vendorId);
      if (vendor) vendors.set(request, vendor);
    }
    if (request.routeOptions.config.vendorOpen) return;
    // A session whose vendor is gone is no session.
    return refuseOutsideSession(request, reply, vendors.has(request) ? session : undefined, {
      signIn: '/vendor',
      who: 'vendor',
      csrfMessage:
        'This form is missing its security token or comes from an older session. Open the page again and repeat the action.',
      errorPage,
    });
  });

  function renderSignIn(
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    options: { errors?: FieldError[]; notice?: string | undefined } = {},
  ): FastifyReply {
    const page = (form: SignInForm) => vendorSignInPage(frameOf(request), form);
    return sendSignInForm(request, reply, status, { purpose: SIGN_IN_PURPOSE, page }, options);
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

  fastify.post('/vendor/sign-in', { ...open, bodyLimit: 4 * 1024 }, (request, reply) =>
    signInWithToken(request, reply, '/vendor', {
      who: 'vendor',
      purpose: SIGN_IN_PURPOSE,
      signIn: '/vendor',
      trim: true,
      authenticate: (token) => authenticateVendorToken(fastify.db, ctx, token),
      messages: {
        empty: 'Enter your vendor token.',
        wrong: 'This is not a vendor token of this store, or it was revoked.',
        tooMany: 'Too many wrong vendor tokens from this address. Wait a minute, then try again.',
      },
      render: (status, errors) => renderSignIn(request, reply, status, { errors }),
      errorPage,
      open: async (signedIn) => {
        const previous = vendorSessionOf(request);
        if (previous) await endVendorSession(ctx, previous.id);
        await startVendorSession(request, reply, signedIn);
      },
      logged: (signedIn) => ({ vendor: signedIn.vendorId }),
    }),
  );

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
