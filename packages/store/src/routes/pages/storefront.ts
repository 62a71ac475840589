import { randomBytes } from 'node:crypto';
import { base64urlEncode } from '@licensekit/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StoreError } from '../../errors.js';
import { checkFormToken, FORM_COOKIE, formToken } from '../../lib/form-tokens.js';
import { storeContext } from '../../lib/store-context.js';
import type { ProductSeller } from '../../marketplace/catalogue-vendors.js';
import { sellersOfProducts } from '../../marketplace/catalogue-vendors.js';
import { paymentProvider } from '../../payments/provider.js';
import { catalogueRepository } from '../../repositories/catalogue.js';
import type { Product } from '../../schemas/catalogue.js';
import type { CheckoutInput } from '../../services/checkout.js';
import { checkout } from '../../services/checkout.js';
import { normaliseEmail } from '../../services/customers.js';
import { licenseStatus } from '../../services/license-status.js';
import { CYCLE_FIELD, planForCycle, readCycle } from '../../views/billing-cycle-choice.js';
import { errorPage } from '../../views/errors.js';
import type { FieldError } from '../../views/layout.js';
import type { CheckoutFormState, VendorShelf } from '../../views/storefront.js';
import { confirmationPage, productPage, productsPage } from '../../views/storefront.js';
import { cookieOf, formSecret, readForm, rotateFormSecret, seeOther, sendPage } from './http.js';
import { startSession } from './session.js';

const PRODUCT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const CHECKOUT_PURPOSE = 'checkout';

/**
 * The storefront: products, a product's plans with the checkout form, and the checkout
 * itself. The form carries an idempotency key generated when it is rendered (the checkout
 * service's Idempotency-Key) and a CSRF token bound to that key and to the browser's form
 * cookie. The confirmation page is the one response that shows the license key; see the
 * README ("Pages") for why a replay to the same browser may show it again and nothing
 * later can.
 */
export default async function storefrontRoutes(fastify: FastifyInstance) {
  const ctx = storeContext(fastify);
  const { config } = fastify;
  const vendor = config.vendor;
  const testMode = config.storefrontProvider === 'test';
  const paysElsewhere = !!paymentProvider(config, config.storefrontProvider)?.startCheckout;
  const catalogue = () => catalogueRepository(fastify.db, config.publicUrl);
  /**
   * The checkout's Idempotency-Key for a form's key: a keyed hash of it, so that nobody
   * who saw the form's hidden field can replay its answer (and the license key) through
   * POST /v1/checkout, past the form cookie this route checks.
   */
  const checkoutKey = (formKey: string) =>
    `storefront-${fastify.secrets.keyedHash('storefront-checkout', formKey)}`;

  fastify.get('/', { schema: { hide: true } }, async (_request, reply) => {
    const products = await catalogue().listProducts();
    const sellers = await sellersOfProducts(fastify.db, vendor);
    return sendPage(
      reply,
      200,
      productsPage({ shelves: shelvesOf(products, sellers, vendor), vendor }),
    );
  });

  async function findProduct(id: unknown): Promise<Product> {
    const product =
      typeof id === 'string' && PRODUCT_ID.test(id) ? await catalogue().getProduct(id) : undefined;
    if (!product) throw new StoreError('PRODUCT_NOT_FOUND');
    return product;
  }

  function renderForm(
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    product: Product,
    state: Omit<CheckoutFormState, 'csrfToken' | 'idempotencyKey'> & {
      idempotencyKey?: string | undefined;
    },
  ): FastifyReply {
    const idempotencyKey = state.idempotencyKey ?? base64urlEncode(randomBytes(16));
    const secret = formSecret(request, reply, config);
    const csrfToken = formToken(fastify.secrets, CHECKOUT_PURPOSE, secret, idempotencyKey);
    return sendPage(
      reply,
      status,
      productPage({
        product,
        vendor,
        testMode,
        paysElsewhere: paysElsewhere,
        form: { ...state, idempotencyKey, csrfToken },
      }),
    );
  }

  fastify.get<{ Params: { productId: string }; Querystring: { plan?: unknown } }>(
    '/products/:productId',
    { schema: { hide: true } },
    async (request, reply) => {
      const product = await findProduct(request.params.productId);
      const wanted = request.query.plan;
      const planId =
        typeof wanted === 'string' && product.plans.some((plan) => plan.id === wanted)
          ? wanted
          : undefined;
      return renderForm(request, reply, 200, product, { planId, errors: [] });
    },
  );

  fastify.post(
    '/checkout',
    { bodyLimit: 8 * 1024, schema: { hide: true } },
    async (request, reply) => {
      const form = readForm(request.body);
      const idempotencyKey = form.idempotencyKey ?? '';
      const product = await findProduct(form.productId);
      if (
        !/^[\w-]{16,64}$/.test(idempotencyKey) ||
        !checkFormToken(
          fastify.secrets,
          CHECKOUT_PURPOSE,
          cookieOf(request, config, FORM_COOKIE),
          form.csrf,
          idempotencyKey,
        )
      ) {
        return sendPage(
          reply,
          403,
          errorPage({
            status: 403,
            vendor,
            message:
              'This order form has expired or was not sent from this store. If you just placed an order, your license key was on its confirmation page. Otherwise open the product page again and resubmit.',
            link: { href: `/products/${product.id}`, text: `Back to ${product.name}` },
          }),
        );
      }

      const email = (form.email ?? '').trim();
      const seatsText = (form.seats ?? '').trim();
      const trial = form.trial === 'yes';
      const listed = product.plans.find((candidate) => candidate.id === form.planId);
      const cycle = readCycle(form.cycle);
      // The plan bought: the listed plan's twin when its other cycle is chosen.
      const plan = listed && planForCycle(listed, product.plans, cycle ?? undefined);
      const errors: FieldError[] = [];
      if (cycle === null) errors.push({ field: CYCLE_FIELD, message: 'Choose monthly or yearly.' });
      const planField = `plan-${product.plans[0]?.id ?? 'none'}`;
      if (!plan) errors.push({ field: planField, message: 'Choose a plan.' });
      if (email === '') errors.push({ field: 'email', message: 'Enter your email address.' });
      else {
        try {
          normaliseEmail(email);
        } catch {
          errors.push({
            field: 'email',
            message: 'Enter an email address like name@example.com.',
          });
        }
      }
      let seats: number | undefined;
      if (plan?.perSeat && seatsText !== '') {
        seats = /^\d{1,6}$/.test(seatsText) ? Number(seatsText) : Number.NaN;
        if (!(seats >= 1 && seats <= 100_000)) {
          errors.push({ field: 'seats', message: 'Enter a number of seats from 1 to 100,000.' });
        }
      }
      if (plan && trial && plan.trialDays === 0) {
        errors.push({
          field: 'trial',
          message: `The ${plan.name} plan has no free trial: untick “Start with the free trial” or choose a plan that has one.`,
        });
      }
      const state = {
        planId: form.planId,
        billingCycle: form.cycle,
        email,
        seats: seatsText,
        trial,
        idempotencyKey,
        errors,
      };
      if (errors.length > 0 || !plan) return renderForm(request, reply, 400, product, state);

      const input: CheckoutInput = {
        productId: product.id,
        planId: plan.id,
        email,
        provider: config.storefrontProvider,
        ...(seats !== undefined && { seats }),
        ...(trial && { trial: true }),
      };
      let result: Awaited<ReturnType<typeof checkout>>;
      try {
        result = await checkout(ctx, input, checkoutKey(idempotencyKey));
      } catch (error) {
        if (!(error instanceof StoreError)) throw error;
        switch (error.code) {
          case 'TRIAL_USED':
            return renderForm(request, reply, 409, product, {
              ...state,
              errors: [
                {
                  field: 'trial',
                  message: `You have already had a free trial of ${product.name}: untick “Start with the free trial” to buy it.`,
                },
              ],
            });
          case 'IDEMPOTENCY_CONFLICT':
            // This form was already sent with other details (back button, edit, resend): a
            // new form, so that the change is a new, deliberate order.
            return renderForm(request, reply, 409, product, {
              ...state,
              idempotencyKey: undefined,
              errors: [
                {
                  message:
                    'This form was already sent with different details. Check the details below and place the order again.',
                },
              ],
            });
          case 'PAYMENT_REQUIRED':
          case 'BAD_REQUEST':
            return renderForm(request, reply, error.status, product, {
              ...state,
              errors: [{ message: error.message }],
            });
          case 'PAYMENT_PROVIDER_UNAVAILABLE':
            // The order is kept (services/hosted-checkout.ts): the same form, sent again,
            // replays it and asks the processor for its payment page once more.
            return renderForm(request, reply, error.status, product, {
              ...state,
              errors: [
                {
                  message:
                    'The payment service could not be reached, so nothing was charged. Your order is kept: place it again to continue to payment.',
                },
              ],
            });
          default:
            throw error;
        }
      }

      const { body, replayed } = result;
      const { view } = await licenseStatus(ctx, body.license.id);
      const session = await startSession(request, reply, body.license.id);
      // The browser that gets this page gets a new form secret with it: from now on, a
      // resubmission of the form (reload, back button, another tab) fails the CSRF check and
      // cannot replay the key. Only requests sent before this answer arrived still can.
      rotateFormSecret(reply, config);
      if (replayed) reply.header('idempotent-replayed', 'true');
      // A processor with its own payment page (Stripe): the customer pays there, comes back
      // to the portal (signed in above), and the receipt mail carries the license key.
      if (body.checkoutUrl) return seeOther(reply, body.checkoutUrl);
      return sendPage(
        reply,
        200,
        confirmationPage({
          product,
          plan,
          key: body.license.key,
          license: view,
          order: body.order,
          replayed,
          vendor,
          signedIn: { csrfToken: session.csrfToken },
        }),
      );
    },
  );
}

/**
 * Products by seller: the store's own vendor first, then the others by name; within a
 * shelf the catalogue's order (by name) is kept.
 */
export function shelvesOf(
  products: readonly Product[],
  sellers: ReadonlyMap<string, ProductSeller>,
  storeVendor: string,
): VendorShelf[] {
  const shelves = new Map<string, VendorShelf>();
  for (const product of products) {
    const seller = sellers.get(product.id) ?? { vendorId: storeVendor, vendorName: storeVendor };
    let shelf = shelves.get(seller.vendorId);
    if (!shelf) {
      shelf = { vendorId: seller.vendorId, vendorName: seller.vendorName, products: [] };
      shelves.set(seller.vendorId, shelf);
    }
    shelf.products.push(product);
  }
  return [...shelves.values()].sort((a, b) =>
    a.vendorId === storeVendor
      ? -1
      : b.vendorId === storeVendor
        ? 1
        : a.vendorName.localeCompare(b.vendorName, 'en') || a.vendorId.localeCompare(b.vendorId),
  );
}
