import type { FastifyInstance } from 'fastify';
import { StoreError } from '../../errors.js';
import { storeContext } from '../../lib/store-context.js';
import { paymentProvider } from '../../payments/provider.js';
import { catalogueRepository } from '../../repositories/catalogue.js';
import { lockCurrentLicense } from '../../services/billing.js';
import type { OwedPaymentOutcome } from '../../services/owed-payment.js';
import { owedPayment, payOwed } from '../../services/owed-payment.js';
import { owedPaymentPage } from '../../views/portal-pay.js';
import { noticeOf, seeOther, sendPage } from './http.js';
import { sessionOf } from './session.js';

/** Notices of the pay page after a redirect, chosen by `?done=`. */
const NOTICES: Record<string, string> = {
  refused: 'The payment was refused again. Check your payment details and try again.',
  unavailable:
    'The payment service could not be reached, so nothing was charged. Try again in a moment.',
};

/**
 * Paying what a license owes from the portal (services/owed-payment.ts): a past-due
 * license's renewal, a pending license's purchase. The 402 answers of such a license and
 * the failed-payment mail link to `GET /portal/pay`; without a session it goes to the
 * sign-in page. Registered inside the portal plugin
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
    const owed = await owedPayment(fastify.db, license, ctx.clock.now());
    if (owed.state === 'none') return seeOther(reply, '/portal/license?done=nothing-due');
    const product = await catalogueRepository(fastify.db, config.publicUrl).getProduct(
      license.productId,
    );
    return sendPage(
      reply,
      200,
      owedPaymentPage({
        vendor: config.vendor,
        csrfToken: session.csrfToken,
        productName: product?.name ?? license.productId,
        owed,
        paymentPage: paymentProvider(config, owed.order.provider)?.startCheckout !== undefined,
        test: license.test,
        notice: noticeOf(request.query, NOTICES),
      }),
    );
  });

  fastify.post('/portal/pay', { ...portal, bodyLimit: 4 * 1024 }, async (request, reply) => {
    const session = sessionOf(request)!;
    let payment: OwedPaymentOutcome;
    try {
      payment = await payOwed(ctx, session.licenseId, { returnPath: '/portal/pay' });
    } catch (error) {
      // Paid meanwhile (another tab, the processor's webhook) or nothing was ever owed.
      if (error instanceof StoreError && error.code === 'CONFLICT') {
        return seeOther(reply, '/portal/license?done=nothing-due');
      }
      // The order is kept, waiting for its page (services/hosted-checkout.ts): the pay page
      // shows where the payment stands and the same button asks the processor again.
      if (error instanceof StoreError && error.code === 'PAYMENT_PROVIDER_UNAVAILABLE') {
        return seeOther(reply, '/portal/pay?done=unavailable');
      }
      throw error;
    }
    switch (payment.outcome) {
      case 'paid':
        return seeOther(
          reply,
          `/portal/license?done=${payment.order.kind === 'purchase' ? 'purchase-paid' : 'renewal-paid'}`,
        );
      case 'payment_page':
        return seeOther(reply, payment.url);
      case 'failed':
        return seeOther(reply, '/portal/pay?done=refused');
      default:
        return seeOther(reply, '/portal/pay');
    }
  });
}
