import type { FastifyInstance } from 'fastify';
import { StoreError } from '../../errors.js';
import { storeContext } from '../../lib/store-context.js';
import { paymentProvider } from '../../payments/provider.js';
import { catalogueRepository } from '../../repositories/catalogue.js';
import { lockCurrentLicense } from '../../services/billing.js';
import type { OverduePayment } from '../../services/overdue-renewal.js';
import { overdueRenewal, payOverdueRenewal } from '../../services/overdue-renewal.js';
import { overduePage } from '../../views/portal-pay.js';
import { seeOther, sendPage } from './http.js';
import { sessionOf } from './session.js';

/** Notices of the pay page after a redirect, chosen by `?done=`. */
const NOTICES: Record<string, string> = {
  refused: 'The payment was refused again. Check your payment details and try again.',
};

/**
 * Paying a past-due license's renewal from the portal (services/overdue-renewal.ts). The
 * 402 answers of a past-due license and the failed-payment mail link to `GET /portal/pay`;
 * without a session it goes to the sign-in page. Registered inside the portal plugin
 * (routes/pages/portal.ts), whose gate checks the session and every POST's CSRF token.
 */
export default async function portalPayRoutes(fastify: FastifyInstance) {
  const ctx = storeContext(fastify);
  const { config } = fastify;
  const portal = { schema: { hide: true }, config: { portal: true } };

  fastify.get('/portal/pay', portal, async (request, reply) => {
    const session = sessionOf(request)!;
    // Brought up to date first, as every portal page is: a period that just ended renews.
    const license = await ctx.db.transaction((tx) =>
      lockCurrentLicense(tx, ctx, session.licenseId, ctx.clock.now()),
    );
    const overdue = await overdueRenewal(fastify.db, license, ctx.clock.now());
    if (overdue.state === 'none') return seeOther(reply, '/portal/license?done=nothing-due');
    const product = await catalogueRepository(fastify.db, config.publicUrl).getProduct(
      license.productId,
    );
    const done = (request.query as { done?: unknown }).done;
    return sendPage(
      reply,
      200,
      overduePage({
        vendor: config.vendor,
        csrfToken: session.csrfToken,
        productName: product?.name ?? license.productId,
        overdue,
        paymentPage: paymentProvider(config, overdue.order.provider)?.startCheckout !== undefined,
        test: license.test,
        notice:
          typeof done === 'string' && Object.hasOwn(NOTICES, done) ? NOTICES[done] : undefined,
      }),
    );
  });

  fastify.post('/portal/pay', { ...portal, bodyLimit: 4 * 1024 }, async (request, reply) => {
    const session = sessionOf(request)!;
    let payment: OverduePayment;
    try {
      payment = await payOverdueRenewal(ctx, session.licenseId, { returnPath: '/portal/pay' });
    } catch (error) {
      // Paid meanwhile (another tab, the processor's webhook) or never overdue.
      if (error instanceof StoreError && error.code === 'CONFLICT') {
        return seeOther(reply, '/portal/license?done=nothing-due');
      }
      throw error;
    }
    switch (payment.outcome) {
      case 'paid':
        return seeOther(reply, '/portal/license?done=renewal-paid');
      case 'payment_page':
        return seeOther(reply, payment.url);
      case 'failed':
        return seeOther(reply, '/portal/pay?done=refused');
      default:
        return seeOther(reply, '/portal/pay');
    }
  });
}
