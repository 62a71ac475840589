import type { Invoice } from '../marketplace/invoices.js';
import type { VendorBalance } from '../marketplace/payouts.js';
import type {
  DaySales,
  SalesSummary,
  SalesTotals,
  VendorOrder,
} from '../marketplace/vendor-sales.js';
import type { Vendor } from '../marketplace/vendors.js';
import { formatMoney, time } from './format.js';
import type { HtmlValue, SafeHtml } from './html.js';
import { attrs, html } from './html.js';
import { invoiceSection, invoiceTitle } from './invoice.js';
import type { FieldError } from './layout.js';
import { describedBy, errorSummary, fieldError, notice } from './layout.js';
import { pageShell, signOutForm } from './page-shell.js';
import { documentsTable } from './portal-invoices.js';
import { salesChart } from './vendor-chart.js';

/**
 * The vendor dashboard: its frame (the store's page skeleton with the vendor's sign-out),
 * the sign-in form that takes a vendor token, the dashboard (balance and next payout,
 * sales, the chart, recent orders, invoices), a document page and error pages.
 */

export interface VendorFrame {
  /** The store (config `vendor`): the brand. */
  store: string;
  /** Signed in: the vendor's name and the sign-out form's CSRF token. */
  signedIn?: { vendorName: string; csrfToken: string } | undefined;
}

export function vendorLayout(
  frame: VendorFrame,
  page: { title: string; body: SafeHtml; hasErrors?: boolean },
): SafeHtml {
  const title = `${page.hasErrors ? 'Error: ' : ''}${page.title} – ${frame.store} store vendor dashboard`;
  return pageShell({
    title,
    noindex: true,
    header: html`<a class="brand" href="/vendor">${frame.store} store · vendors</a>
${
  frame.signedIn &&
  html`<p class="signed-in-as">Signed in as ${frame.signedIn.vendorName}</p>
${signOutForm('/vendor/sign-out', frame.signedIn.csrfToken)}`
}`,
    body: page.body,
    footer: html`<p>Your sales through the ${frame.store} store. The same data, and more, through the <a href="/docs">admin API</a> with your vendor token.</p>`,
  });
}

export function vendorSignInPage(
  frame: VendorFrame,
  options: { csrfToken: string; errors: FieldError[]; notice?: string | undefined },
): SafeHtml {
  const { errors } = options;
  return vendorLayout(frame, {
    title: 'Vendor sign-in',
    hasErrors: errors.length > 0,
    body: html`<h1>Vendor sign-in</h1>
${notice(options.notice)}
<p>See your sales, balance, next payout, orders and invoices.</p>
${errorSummary(errors)}
<form method="post" action="/vendor/sign-in" novalidate>
<input type="hidden" name="csrf" value="${options.csrfToken}">
<div class="field">
<label for="token">Vendor token</label>
<span class="hint" id="token-hint">It starts with lkv_ and was shown once, when the store's operator made it for you.</span>
${fieldError(errors, 'token')}
<input${attrs({
      type: 'password',
      id: 'token',
      name: 'token',
      autocomplete: 'off',
      spellcheck: 'false',
      required: true,
      maxlength: 200,
      ...describedBy(errors, 'token', 'token-hint'),
    })}>
</div>
<div class="actions"><button type="submit">Sign in</button></div>
</form>`,
  });
}

export interface DashboardData {
  vendor: Vendor;
  now: Date;
  sales: SalesSummary[];
  balances: VendorBalance[];
  chart: { series: { currency: string; test: boolean }; days: DaySales[] } | undefined;
  orders: VendorOrder[];
  invoices: Invoice[];
}

const modeOf = (test: boolean) => (test ? ' (test mode)' : '');

function salesTable(summary: SalesSummary, index: number): SafeHtml {
  const money = (amount: number) => formatMoney(amount, summary.currency);
  const row = (label: string, pick: (totals: SalesTotals) => HtmlValue) =>
    html`<tr><th scope="row">${label}</th><td class="meter">${pick(summary.lastDays)}</td><td class="meter">${pick(summary.allTime)}</td></tr>\n`;
  return html`<div class="table-scroll" role="region" aria-labelledby="sales-caption-${index}" tabindex="0">
<table>
<caption id="sales-caption-${index}">Sales in ${summary.currency}${modeOf(summary.test)}</caption>
<thead><tr><th scope="col"><span class="visually-hidden">Figure</span></th><th scope="col">Last 30 days</th><th scope="col">All time</th></tr></thead>
<tbody>
${row('Paid orders', (t) => t.orders)}
${row('Gross sales', (t) => money(t.gross))}
${row('Your share', (t) => money(t.vendorShare))}
${row('Store fees', (t) => money(t.fees))}
${row('Refunds to customers', (t) => money(t.refunds))}
${row('Share returned by refunds', (t) => money(t.refundedShare))}
${row('Net to you', (t) => html`<strong>${money(t.net)}</strong>`)}
</tbody>
</table>
</div>`;
}

/** When the next payout can include money: due now, or when the earliest hold ends. */
function nextPayout(balance: VendorBalance): SafeHtml {
  if (balance.available > 0)
    return html`Due now: ${formatMoney(balance.available, balance.currency)} goes out with the store's next payout run`;
  if (balance.nextPayableAt)
    return html`${time(balance.nextPayableAt, { dateOnly: true })}, when the hold on ${formatMoney(balance.onHold, balance.currency)} starts to end`;
  return html`Nothing is waiting to be paid out`;
}

function balanceList(balance: VendorBalance): SafeHtml {
  const money = (amount: number) => formatMoney(amount, balance.currency);
  return html`<h3>${balance.currency}${modeOf(balance.test)}</h3>
<dl class="summary">
<dt>Available</dt><dd>${money(balance.available)}${balance.available < 0 && ' (refunds after a payout: carried forward)'}</dd>
<dt>On hold</dt><dd>${money(balance.onHold)}</dd>
<dt>In payouts being sent</dt><dd>${money(balance.inPayouts)}</dd>
<dt>Paid out</dt><dd>${money(balance.paidOut)}</dd>
<dt>Next payout</dt><dd>${nextPayout(balance)}</dd>
</dl>`;
}

const ORDER_STATUS: Record<string, string> = {
  pending: 'Awaiting payment',
  paid: 'Paid',
  failed: 'Failed',
  cancelled: 'Cancelled',
  refunded: 'Refunded',
};
const ORDER_KIND: Record<string, string> = {
  purchase: 'Purchase',
  trial: 'Free trial',
  upgrade: 'Plan change',
  seats: 'Seat change',
  renewal: 'Renewal',
};

function ordersTable(orders: readonly VendorOrder[]): SafeHtml {
  return html`<div class="table-scroll" role="region" aria-labelledby="orders-caption" tabindex="0">
<table>
<caption id="orders-caption">Your newest orders</caption>
<thead><tr><th scope="col">Order</th><th scope="col">Date</th><th scope="col">Product</th><th scope="col">Kind</th><th scope="col">Status</th><th scope="col">Amount</th><th scope="col">Invoice</th></tr></thead>
<tbody>
${orders.map(
  (order) => html`<tr>
<th scope="row"><code>${order.id}</code>${order.test && html` <span class="tag">test</span>`}</th>
<td>${time(order.createdAt, { dateOnly: true })}</td>
<td>${order.productName} – ${order.planName}${order.seats > 1 && ` (${order.seats} seats)`}</td>
<td>${ORDER_KIND[order.kind] ?? order.kind}</td>
<td>${ORDER_STATUS[order.status] ?? order.status}</td>
<td class="meter">${formatMoney(order.amount, order.currency)}</td>
<td>${order.invoice ? html`<a href="/vendor/invoices/${order.invoice.id}">${order.invoice.number}</a>` : '—'}</td>
</tr>
`,
)}</tbody>
</table>
</div>`;
}

export function dashboardPage(frame: VendorFrame, data: DashboardData): SafeHtml {
  const { vendor } = data;
  return vendorLayout(frame, {
    title: `Dashboard of ${vendor.name}`,
    body: html`<h1>Dashboard of ${vendor.name}</h1>
<p>Your share of each payment: ${(vendor.shareBps / 100).toFixed(2)} %. It is paid out after a hold of ${vendor.holdDays} business days (weekends and the store's holidays skipped). Figures as of ${time(data.now)}.</p>
<h2 id="balance">Balance and next payout</h2>
${data.balances.length === 0 ? html`<p>Nothing booked yet: your balance is zero.</p>` : data.balances.map(balanceList)}
<h2 id="sales">Sales</h2>
${data.sales.length === 0 ? html`<p>No sales yet.</p>` : data.sales.map(salesTable)}
<h2 id="chart">Sales per day</h2>
${data.chart ? salesChart(data.chart.days, data.chart.series) : html`<p>No sales in the last 30 days.</p>`}
<h2 id="orders">Recent orders</h2>
${data.orders.length === 0 ? html`<p>No orders yet.</p>` : ordersTable(data.orders)}
<h2 id="invoices">Invoices and credit notes</h2>
${
  data.invoices.length === 0
    ? html`<p>No invoices yet: each paid order gets one, each refund a credit note.</p>`
    : documentsTable(data.invoices, {
        base: '/vendor/invoices',
        caption: 'Documents issued for your sales, newest first',
        id: 'vendor-documents-caption',
        party: 'buyer',
      })
}`,
  });
}

export function vendorInvoicePage(frame: VendorFrame, invoice: Invoice): SafeHtml {
  return vendorLayout(frame, {
    title: invoiceTitle(invoice),
    body: invoiceSection(invoice, { pdf: `/vendor/invoices/${invoice.id}/pdf`, back: '/vendor' }),
  });
}

const ERROR_TITLES: Record<number, string> = {
  400: 'Something in the request is not right',
  401: 'Please sign in',
  403: 'This action is not allowed',
  404: 'Page not found',
  429: 'Too many attempts',
};

export function vendorErrorPage(
  frame: VendorFrame,
  options: { status: number; message?: string | undefined; link?: { href: string; text: string } },
): SafeHtml {
  const title =
    ERROR_TITLES[options.status] ??
    (options.status >= 500 ? 'Something went wrong' : ERROR_TITLES[400]!);
  const message =
    options.status >= 500
      ? 'The store could not finish this request. Please try again in a moment.'
      : options.message;
  const link = options.link ?? { href: '/vendor', text: 'Back to the dashboard' };
  return vendorLayout(frame, {
    title,
    body: html`<h1>${title}</h1>
${message && html`<p class="lead">${message}</p>`}
<p><a href="${link.href}">${link.text}</a></p>`,
  });
}
