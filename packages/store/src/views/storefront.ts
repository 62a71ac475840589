import type { Plan, Product } from '../schemas/catalogue.js';
import type { LicenseView, OrderView } from '../services/licensing.js';
import { cycleChoice, offeredPlans, offerOf, otherCycleText } from './billing-cycle-choice.js';
import { describeQuota, formatMoney, planPrice, statusLabel, time } from './format.js';
import type { SafeHtml } from './html.js';
import { attrs, html } from './html.js';
import type { FieldError } from './layout.js';
import { describedBy, errorSummary, fieldError, layout } from './layout.js';

/** The storefront: the product list, a product's plans with the checkout form, the confirmation. */

/** A product's card; `level` is its heading's (2 in a flat list, 3 under a vendor's heading). */
function productCard(product: Product, level: 2 | 3): SafeHtml {
  const paid = product.plans.filter((plan) => !plan.free);
  const cheapest = paid.reduce<Plan | undefined>(
    (best, plan) => (best === undefined || plan.price.amount < best.price.amount ? plan : best),
    undefined,
  );
  const link = html`<a href="/products/${product.id}">${product.name}</a>`;
  return html`<li class="card">
${level === 2 ? html`<h2>${link}</h2>` : html`<h3>${link}</h3>`}
<p>${product.description}</p>
<p>${offeredPlans(product.plans).length} ${offeredPlans(product.plans).length === 1 ? 'plan' : 'plans'}${product.plans.some((plan) => plan.free) ? ', including a free one' : ''}${cheapest && html`; paid plans from ${planPrice(cheapest)}`}.</p>
<p><a href="/products/${product.id}" aria-label="${`See the plans of ${product.name}`}">See the plans</a></p>
</li>
`;
}

/** The products of one vendor, in the storefront's grouping. */
export interface VendorShelf {
  vendorId: string;
  vendorName: string;
  products: Product[];
}

/**
 * The products, by vendor: one shelf (a store selling for itself alone) is the plain list
 * it always was; several get a heading each, named by the vendor, with the products under it.
 */
export function productsPage(options: { shelves: VendorShelf[]; vendor: string }): SafeHtml {
  const shelves = options.shelves.filter((shelf) => shelf.products.length > 0);
  const list = (products: Product[], level: 2 | 3) =>
    html`<ul class="cards">
${products.map((product) => productCard(product, level))}
</ul>`;
  return layout({
    title: 'Products',
    vendor: options.vendor,
    body: html`<h1>Products</h1>
${
  shelves.length === 0
    ? html`<p>There is nothing for sale yet.</p>`
    : shelves.length === 1
      ? list(shelves[0]!.products, 2)
      : shelves.map(
          (shelf) => html`<section class="shelf" aria-labelledby="vendor-${shelf.vendorId}">
<h2 id="vendor-${shelf.vendorId}">${shelf.vendorName}</h2>
${list(shelf.products, 3)}
</section>
`,
        )
}`,
  });
}

/** What the checkout form shows: the values sent back after an error, and its tokens. */
export interface CheckoutFormState {
  planId?: string | undefined;
  /** 'month' or 'year' for plans offered both ways (views/billing-cycle-choice.ts). */
  billingCycle?: string | undefined;
  email?: string | undefined;
  seats?: string | undefined;
  trial?: boolean | undefined;
  /** Generated when the form is rendered; the checkout's Idempotency-Key. */
  idempotencyKey: string;
  csrfToken: string;
  errors: FieldError[];
}

function planSeats(plan: Plan): string {
  if (plan.perSeat) return `${plan.seats} seats by default; choose the number of seats below`;
  return plan.seats === 1 ? '1 device' : `Up to ${plan.seats} devices`;
}

function planDetails(plan: Plan): SafeHtml {
  return html`<ul>
${plan.trialDays > 0 && html`<li>${plan.trialDays}-day free trial</li>`}
<li>${planSeats(plan)}</li>
${Object.entries(plan.quotas).map(([name, spec]) => html`<li>${describeQuota(name, spec)}</li>`)}
${plan.entitlements.length > 0 && html`<li>Features: ${plan.entitlements.join(', ')}</li>`}
</ul>`;
}

/** A product's plans and the checkout form (one plan chosen by radio, ?plan= preselects). */
export function productPage(options: {
  product: Product;
  form: CheckoutFormState;
  vendor: string;
  testMode: boolean;
  /** The order is paid on the processor's own page (Stripe Checkout) after this form. */
  paysElsewhere?: boolean | undefined;
}): SafeHtml {
  const { product, form } = options;
  const errors = form.errors;
  const plans = product.plans;
  const planField = `plan-${plans[0]?.id ?? 'none'}`;
  const perSeat = plans.filter((plan) => plan.perSeat);
  const withTrial = plans.filter((plan) => plan.trialDays > 0);
  const body = html`<h1>${product.name}</h1>
<p class="lead">${product.description}</p>
${
  plans.length === 0
    ? html`<p>This product has no plans for sale right now.</p>`
    : html`${errorSummary(errors)}
<form method="post" action="/checkout" data-submit-once novalidate>
<input type="hidden" name="csrf" value="${form.csrfToken}">
<input type="hidden" name="idempotencyKey" value="${form.idempotencyKey}">
<input type="hidden" name="productId" value="${product.id}">
<fieldset${attrs({ 'aria-describedby': errors.some((e) => e.field === planField) ? `${planField}-error` : undefined })}>
<legend>Choose a plan</legend>
${fieldError(errors, planField)}
${offeredPlans(plans).map(
  (plan) => html`<div class="plan-option">
<input${attrs({
    type: 'radio',
    name: 'planId',
    id: `plan-${plan.id}`,
    value: plan.id,
    required: true,
    // ?plan= preselects; a product with a single plan has nothing to choose.
    checked: offerOf(plans, form.planId).planId === plan.id || offeredPlans(plans).length === 1,
    'aria-describedby': `plan-${plan.id}-details`,
  })}>
<label for="plan-${plan.id}">${plan.name} – ${planPrice(plan)}${otherCycleText(plan, plans)}</label>
<div class="details" id="plan-${plan.id}-details">
<p>${plan.description}</p>
${planDetails(plan)}
</div>
</div>
`,
)}
</fieldset>
${cycleChoice({
  plans,
  checked:
    form.billingCycle === 'year' || form.billingCycle === 'month'
      ? form.billingCycle
      : offerOf(plans, form.planId).cycle,
  errors,
})}<div class="field">
<label for="email">Email address</label>
<span class="hint" id="email-hint">${options.paysElsewhere ? 'For your receipt, which brings your license key. You pay on the next page.' : 'For your receipt. Your license key is shown on the next page, not emailed.'}</span>
${fieldError(errors, 'email')}
<input${attrs({
        type: 'email',
        id: 'email',
        name: 'email',
        autocomplete: 'email',
        spellcheck: 'false',
        required: true,
        maxlength: 254,
        value: form.email,
        ...describedBy(errors, 'email', 'email-hint'),
      })}>
</div>
${
  perSeat.length > 0 &&
  html`<div class="field">
<label for="seats">Number of seats</label>
<span class="hint" id="seats-hint">Only for plans priced per seat (${perSeat.map((plan) => plan.name).join(', ')}); leave empty for the default.</span>
${fieldError(errors, 'seats')}
<input${attrs({
    type: 'number',
    id: 'seats',
    name: 'seats',
    inputmode: 'numeric',
    min: 1,
    max: 100000,
    step: 1,
    value: form.seats,
    ...describedBy(errors, 'seats', 'seats-hint'),
  })}>
</div>`
}
${
  withTrial.length > 0 &&
  html`<div class="field">
${fieldError(errors, 'trial')}
<div class="checkbox">
<input${attrs({
    type: 'checkbox',
    id: 'trial',
    name: 'trial',
    value: 'yes',
    checked: form.trial === true,
    ...describedBy(errors, 'trial', 'trial-hint'),
  })}>
<label for="trial">Start with the free trial</label>
</div>
<span class="hint" id="trial-hint">Offered on ${withTrial.map((plan) => `${plan.name} (${plan.trialDays} days)`).join(', ')}. Nothing is charged until the trial ends; one trial per customer.</span>
</div>`
}
<div class="actions">
<button type="submit">${options.testMode ? 'Place test order' : 'Place order'}</button>
</div>
</form>`
}`;
  return layout({
    title: product.name,
    vendor: options.vendor,
    testMode: options.testMode,
    hasErrors: errors.length > 0,
    body,
  });
}

/** The confirmation of a checkout: the one page that ever shows the license key. */
export function confirmationPage(options: {
  product: Product;
  plan: Plan;
  key: string;
  license: LicenseView;
  order: OrderView;
  /** A repeat of a submission whose first answer the browser never showed (see README). */
  replayed: boolean;
  vendor: string;
  signedIn: { csrfToken: string };
}): SafeHtml {
  const { product, plan, license, order } = options;
  const usable = license.status === 'active' || license.status === 'trialing';
  const heading =
    license.status === 'trialing'
      ? 'Your free trial has started'
      : usable
        ? 'Thank you – your license is ready'
        : 'Order received';
  const body = html`<h1>${heading}</h1>
${
  options.replayed &&
  html`<p class="notice" role="status">This form was sent more than once; this is the confirmation of your one order. Nothing was ordered twice.</p>`
}
<h2>Your license key</h2>
<div class="warning" role="note">
<p><strong>Copy this key and keep it safe now: it will not be shown again.</strong> The store keeps only a hash of it, so nobody can look it up for you. You need it to activate your app and to sign in to the customer portal.</p>
</div>
<p><code class="license-key" id="license-key">${options.key}</code></p>
<p class="actions"><button type="button" class="secondary" data-copy="license-key" data-status="copy-status" hidden>Copy the key</button> <span id="copy-status" role="status"></span></p>
<h2>Your order</h2>
<dl class="summary">
<dt>Product</dt><dd>${product.name}</dd>
<dt>Plan</dt><dd>${plan.name} (${planPrice(plan)})</dd>
${plan.perSeat && html`<dt>Seats</dt><dd>${license.seats}</dd>`}
<dt>Charged</dt><dd>${
    order.kind === 'trial'
      ? 'Nothing today (free trial)'
      : formatMoney(order.amount, order.currency)
  }${order.test && ' (test payment, no money moved)'}</dd>
<dt>Order</dt><dd><code>${order.id}</code></dd>
<dt>License status</dt><dd>${statusLabel(license.status)}</dd>
${license.trialEndsAt && html`<dt>Trial ends</dt><dd>${time(license.trialEndsAt)}</dd>`}
${license.status === 'active' && html`<dt>Paid until</dt><dd>${license.expiresAt ? time(license.expiresAt) : 'No expiry'}</dd>`}
</dl>
${
  usable
    ? html`<h2>Next steps</h2>
<p class="actions"><a class="button" href="/portal/token">Download your license token</a> <a href="/portal/license">Go to your customer portal</a></p>
<p>You are signed in to the customer portal for the next hour. Later, sign in there with your license key.</p>`
    : html`<p>Your license starts when the payment is confirmed. <a href="/portal/license">See its status in the customer portal</a>.</p>`
}`;
  return layout({
    title: 'Order confirmation',
    vendor: options.vendor,
    testMode: license.test,
    signedIn: options.signedIn,
    body,
  });
}
