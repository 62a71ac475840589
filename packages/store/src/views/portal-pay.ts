import type { OrderRecord } from '../repositories/orders.js';
import type { OverdueRenewal } from '../services/overdue-renewal.js';
import { formatMoney, time } from './format.js';
import type { SafeHtml } from './html.js';
import { html } from './html.js';
import { layout, notice } from './layout.js';
import { portalNav } from './portal-licenses.js';

/**
 * The portal's page for an overdue renewal (routes/pages/portal-pay.ts): what is owed and
 * for which period, and a button that pays it — or, while a payment is under way, what
 * the customer is waiting for.
 */
export function overduePage(options: {
  vendor: string;
  csrfToken: string;
  productName: string;
  overdue: Exclude<OverdueRenewal, { state: 'none' }>;
  /** The license's payments go through a processor's own payment page (Stripe Checkout). */
  paymentPage: boolean;
  test: boolean;
  notice?: string | undefined;
}): SafeHtml {
  const { overdue } = options;
  const order = overdue.order;
  const heading = `Pay the renewal of your ${options.productName} license`;
  const body = html`<h1>${heading}</h1>
${portalNav('license')}
${notice(options.notice)}
<dl class="summary">
<dt>Amount</dt><dd id="overdue-amount">${formatMoney(order.amount, order.currency)}${options.test && ' (test mode: no money moves)'}</dd>
${periodOf(order)}
<dt>Status</dt><dd>${stateText(overdue)}</dd>
</dl>
${overdue.state === 'processing' ? processingText(order) : payForm(options)}
<p><a href="/portal/license">Back to your license</a></p>`;
  return layout({
    title: heading,
    vendor: options.vendor,
    testMode: options.test,
    signedIn: { csrfToken: options.csrfToken },
    body,
  });
}

function stateText(overdue: Exclude<OverdueRenewal, { state: 'none' }>): string {
  switch (overdue.state) {
    case 'started':
      return 'Waiting for your payment';
    case 'processing':
      return 'Payment in progress';
    default:
      if (overdue.order.status === 'failed') return 'Not paid: the payment was refused';
      return overdue.order.details.paymentPage
        ? 'Not paid: the payment page expired'
        : 'Not paid: there is no saved card to charge';
  }
}

function periodOf(order: OrderRecord): SafeHtml | '' {
  const { periodStart, periodEnd } = order.details;
  if (!periodStart || !periodEnd) return '';
  return html`<dt>For the period</dt><dd>${time(periodStart)} to ${time(periodEnd)}</dd>`;
}

function payForm(options: {
  csrfToken: string;
  overdue: Exclude<OverdueRenewal, { state: 'none' }>;
  paymentPage: boolean;
}): SafeHtml {
  const started = options.overdue.state === 'started';
  return html`${
    options.paymentPage
      ? html`<p>You pay on the payment processor’s secure page; you can use another card there. The card you pay with is kept for your next renewals.</p>`
      : html`<p>The renewal is charged again through the payment method of your license.</p>`
  }
<p>Once it is paid, your license is active again and your apps get a new token at their next refresh.</p>
<form method="post" action="/portal/pay" data-submit-once>
<input type="hidden" name="csrf" value="${options.csrfToken}">
<button type="submit">${started ? 'Continue to the payment page' : 'Pay now'}</button>
</form>`;
}

function processingText(order: OrderRecord): SafeHtml {
  return html`<p>${
    order.provider === 'manual'
      ? 'This renewal is paid by invoice or bank transfer: your license is active again as soon as the vendor records the payment.'
      : 'Your payment is being processed. Your license is active again as soon as it is confirmed; reload this page to see.'
  }</p>`;
}
