import type { OrderRecord } from '../repositories/orders.js';
import type { OwedPayment } from '../services/owed-payment.js';
import { formatMoney, time } from './format.js';
import type { SafeHtml } from './html.js';
import { html } from './html.js';
import { layout, notice } from './layout.js';
import { portalNav } from './portal-licenses.js';

type Owed = Exclude<OwedPayment, { state: 'none' }>;

/**
 * The portal's page for what a license owes (routes/pages/portal-pay.ts): an overdue
 * renewal or an unpaid purchase, how much and for which period, and a button that pays
 * it — or, while a payment is under way, what the customer is waiting for.
 */
export function owedPaymentPage(options: {
  vendor: string;
  csrfToken: string;
  productName: string;
  owed: Owed;
  /** The license's payments go through a processor's own payment page (Stripe Checkout). */
  paymentPage: boolean;
  test: boolean;
  notice?: string | undefined;
}): SafeHtml {
  const { owed } = options;
  const order = owed.order;
  const heading =
    order.kind === 'purchase'
      ? `Pay for your ${options.productName} license`
      : `Pay the renewal of your ${options.productName} license`;
  const body = html`<h1>${heading}</h1>
${portalNav('license')}
${notice(options.notice)}
<dl class="summary">
<dt>Amount</dt><dd id="owed-amount">${formatMoney(order.amount, order.currency)}${options.test && ' (test mode: no money moves)'}</dd>
${periodOf(order)}
<dt>Status</dt><dd>${stateText(owed)}</dd>
</dl>
${owed.state === 'processing' ? processingText(order) : payForm(options)}
<p><a href="/portal/license">Back to your license</a></p>`;
  return layout({
    title: heading,
    vendor: options.vendor,
    testMode: options.test,
    signedIn: { csrfToken: options.csrfToken },
    body,
  });
}

function stateText(owed: Owed): string {
  switch (owed.state) {
    case 'started':
      return 'Waiting for your payment';
    case 'processing':
      return 'Payment in progress';
    default:
      if (owed.order.status === 'failed') {
        return owed.order.kind === 'purchase'
          ? 'Not paid: the payment did not go through'
          : 'Not paid: the payment was refused';
      }
      return owed.order.details.paymentPage
        ? 'Not paid: the payment page expired'
        : 'Not paid: there is no saved card to charge';
  }
}

function periodOf(order: OrderRecord): SafeHtml | '' {
  const { periodStart, periodEnd } = order.details;
  if (!periodStart || !periodEnd) return '';
  return html`<dt>For the period</dt><dd>${time(periodStart)} to ${time(periodEnd)}</dd>`;
}

function payForm(options: { csrfToken: string; owed: Owed; paymentPage: boolean }): SafeHtml {
  const started = options.owed.state === 'started';
  const purchase = options.owed.order.kind === 'purchase';
  return html`${
    options.paymentPage
      ? html`<p>You pay on the payment processor’s secure page; you can use another card there. The card you pay with is kept for your next renewals.</p>`
      : html`<p>${purchase ? 'The order is' : 'The renewal is'} charged again through the payment method of your license.</p>`
  }
<p>Once it is paid, your license ${purchase ? 'is active, with the license key you have' : 'is active again'}, and your apps get a new token at their next refresh.</p>
<form method="post" action="/portal/pay" data-submit-once>
<input type="hidden" name="csrf" value="${options.csrfToken}">
<button type="submit">${started ? 'Continue to the payment page' : 'Pay now'}</button>
</form>`;
}

function processingText(order: OrderRecord): SafeHtml {
  const what = order.kind === 'purchase' ? 'This order' : 'This renewal';
  return html`<p>${
    order.provider === 'manual'
      ? `${what} is paid by invoice or bank transfer: your license is active as soon as the vendor records the payment.`
      : 'Your payment is being processed. Your license is active as soon as it is confirmed; reload this page to see.'
  }</p>`;
}
