import type { AdminOrder } from '../services/admin.js';
import type { AdminAction } from '../services/admin-actions.js';
import { activityTable } from './admin-activity.js';
import type { AdminFrame } from './admin-layout.js';
import { adminLayout, csrfField, nextPageLink, statusBadge } from './admin-layout.js';
import { formatMoney, time } from './format.js';
import type { HtmlValue, SafeHtml } from './html.js';
import { attrs, html } from './html.js';
import type { FieldError } from './layout.js';
import { describedBy, errorSummary, fieldError, notice } from './layout.js';

/** The admin screen's order pages: the filtered list, one order, the refund confirmation. */

export const ORDER_STATUSES = ['pending', 'paid', 'failed', 'cancelled', 'refunded'] as const;

export interface OrderFilterValues {
  status?: string | undefined;
  email?: string | undefined;
  product?: string | undefined;
  license?: string | undefined;
}

const orderLink = (frame: AdminFrame, id: string) =>
  html`<a href="${frame.base}/orders/${id}"><code>${id}</code></a>`;

function amountOf(order: AdminOrder): string {
  return formatMoney(order.amount.amount, order.amount.currency);
}

export function ordersPage(
  frame: AdminFrame,
  page: {
    orders: readonly AdminOrder[];
    filters: OrderFilterValues;
    nextCursor: string | null;
    errors: readonly FieldError[];
    notice?: string | undefined;
  },
): SafeHtml {
  const { filters, errors } = page;
  const filtered = Object.values(filters).some(Boolean);
  const body = html`<h1>Orders</h1>
${notice(page.notice)}
${errorSummary(errors)}
<form method="get" action="${frame.base}/orders" class="filters" role="search" aria-label="Filter orders">
<div class="field">
<label for="status">Status</label>
${fieldError(errors, 'status')}
<select id="status" name="status"${attrs(describedBy(errors, 'status'))}>
<option value="">Any</option>
${ORDER_STATUSES.map((status) => html`<option value="${status}"${attrs({ selected: filters.status === status })}>${status}</option>\n`)}</select>
</div>
<div class="field">
<label for="email">Customer e-mail</label>
${fieldError(errors, 'email')}
<input type="email" id="email" name="email" autocomplete="off" value="${filters.email ?? ''}"${attrs(describedBy(errors, 'email'))}>
</div>
<div class="field">
<label for="product">Product id</label>
${fieldError(errors, 'product')}
<input type="text" id="product" name="product" autocomplete="off" value="${filters.product ?? ''}"${attrs(describedBy(errors, 'product'))}>
</div>
<div class="field">
<label for="license">License id</label>
${fieldError(errors, 'license')}
<input type="text" id="license" name="license" autocomplete="off" value="${filters.license ?? ''}"${attrs(describedBy(errors, 'license'))}>
</div>
<div class="actions">
<button type="submit">Filter</button>
${filtered && html`<a href="${frame.base}/orders">Clear</a>`}
</div>
</form>
${
  page.orders.length === 0
    ? html`<p>${filtered ? 'No order matches these filters.' : 'No orders yet.'}</p>`
    : html`<div class="table-scroll" role="region" aria-labelledby="orders-caption" tabindex="0">
<table>
<caption id="orders-caption">Orders, newest first${filtered ? ' (filtered)' : ''}</caption>
<thead><tr><th scope="col">Order</th><th scope="col">Customer</th><th scope="col">What</th><th scope="col">Amount</th><th scope="col">Status</th><th scope="col">Created</th></tr></thead>
<tbody>
${page.orders.map(
  (order) => html`<tr>
<td>${orderLink(frame, order.id)}</td>
<td>${order.customerEmail}</td>
<td>${order.productId} · ${order.planId} (${order.kind})</td>
<td>${amountOf(order)}${order.test ? ' (test)' : ''}</td>
<td>${statusBadge(order.status)}</td>
<td>${time(order.createdAt)}</td>
</tr>\n`,
)}</tbody>
</table>
</div>`
}
${nextPageLink(`${frame.base}/orders`, { ...filters }, page.nextCursor)}`;
  return adminLayout(
    { ...frame, current: 'orders' },
    { title: 'Orders', body, hasErrors: errors.length > 0 },
  );
}

/** Who returns the money of a refund, by provider: the store only records it. */
export function refundMoneyNote(order: AdminOrder): string {
  if (order.provider === 'test') return 'This is a test order: no money moved, none is returned.';
  if (order.provider === 'manual')
    return 'This order was paid by hand (invoice or transfer): return the money the same way; the store records the refund.';
  return `This order was paid through ${order.provider}: refund it in ${order.provider} as well; the store records the refund but does not move money.`;
}

export function refundable(order: AdminOrder): boolean {
  return order.status === 'paid' && order.amount.amount > 0;
}

export function orderPage(
  frame: AdminFrame & { csrfToken: string },
  page: { order: AdminOrder; activity: readonly AdminAction[]; notice?: string | undefined },
): SafeHtml {
  const { order } = page;
  const body = html`<h1>Order <code>${order.id}</code></h1>
${notice(page.notice)}
<dl class="summary">
<dt>Status</dt><dd>${statusBadge(order.status)}</dd>
<dt>Customer</dt><dd>${order.customerEmail}</dd>
<dt>Product and plan</dt><dd>${order.productId} · ${order.planId}</dd>
<dt>Kind</dt><dd>${order.kind}${order.seats > 1 ? `, ${order.seats} seats` : ''}</dd>
<dt>Amount</dt><dd>${amountOf(order)}${order.test ? ' (test payment, no money moved)' : ''}</dd>
<dt>Payment provider</dt><dd>${order.provider}${order.providerRef && html` (reference <code>${order.providerRef}</code>)`}</dd>
<dt>License</dt><dd>${order.licenseId ? html`<a href="${frame.base}/licenses/${order.licenseId}"><code>${order.licenseId}</code></a>` : 'none'}</dd>
<dt>Created</dt><dd>${time(order.createdAt)}</dd>
<dt>Paid</dt><dd>${order.paidAt ? time(order.paidAt) : 'not paid'}</dd>
</dl>
<h2>Actions</h2>
<div class="actions">
${
  refundable(order)
    ? html`<a class="button" href="${frame.base}/orders/${order.id}/refund">Refund this order…</a>`
    : html`<p>${order.status === 'refunded' ? 'This order is refunded.' : order.status === 'paid' ? 'Nothing was charged: there is nothing to refund.' : `A ${order.status} order cannot be refunded.`}</p>`
}
${
  order.licenseId &&
  html`<form method="post" action="${frame.base}/orders/${order.id}/resend-receipt" data-submit-once>
${csrfField(frame.csrfToken)}
<button type="submit" class="secondary" aria-describedby="resend-hint">Re-send the receipt</button>
</form>`
}
</div>
${
  order.licenseId &&
  html`<p class="hint" id="resend-hint">The copy cannot contain the license key: the store keeps only a hash of it. It says so, names the key’s last four characters, and tells the customer how to get a new key (sign in with an e-mail link, then replace the key).</p>`
}
<h2>Activity</h2>
${activityTable(frame, page.activity, 'order-activity', 'Admin actions on this order')}`;
  return adminLayout({ ...frame, current: 'orders' }, { title: `Order ${order.id}`, body });
}

export interface RefundFormValues {
  reason: string;
  revokeLicense: boolean;
  /** As typed, in the currency's major units ("12.50"); empty = everything left. */
  amount: string;
}

export function refundConfirmPage(
  frame: AdminFrame & { csrfToken: string },
  page: {
    order: AdminOrder;
    values: RefundFormValues;
    errors: readonly FieldError[];
    /** Minor units not refunded yet (partial refunds leave the order paid). */
    left: number;
    /** The order's provider returns the money itself (it has a refund call). */
    providerRefunds?: boolean;
  },
): SafeHtml {
  const { order, values, errors, left } = page;
  const leftText = formatMoney(left, order.amount.currency);
  const action = `${frame.base}/orders/${order.id}/refund`;
  const revokeHint: HtmlValue =
    order.licenseId &&
    html`<div class="field checkbox">
<input type="checkbox" id="revokeLicense" name="revokeLicense" value="yes"${attrs({ checked: values.revokeLicense, 'aria-describedby': 'revokeLicense-hint' })}>
<div><label for="revokeLicense">Also revoke license <code>${order.licenseId}</code></label>
<span class="hint" id="revokeLicense-hint">Its apps stop getting new tokens at once (refresh answers “revoked”), and the next revocation list names it, so apps that are offline learn it too. This cannot be undone.</span></div>
</div>`;
  const body = html`<h1>Refund order <code>${order.id}</code>?</h1>
${errorSummary(errors)}
<dl class="summary">
<dt>Customer</dt><dd>${order.customerEmail}</dd>
<dt>Paid</dt><dd>${amountOf(order)}</dd>
<dt>Left to refund</dt><dd>${leftText}</dd>
<dt>What</dt><dd>${order.productId} · ${order.planId} (${order.kind})</dd>
</dl>
<p class="warning">${page.providerRefunds ? `This order was paid through ${order.provider}: once the refund is booked the store asks ${order.provider} to return the money; if ${order.provider} refuses, the order's page says so and you return it there by hand.` : refundMoneyNote(order)}</p>
<form method="post" action="${action}" data-submit-once>
${csrfField(frame.csrfToken)}
<input type="hidden" name="confirm" value="refund">
<div class="field">
<label for="reason">Reason (optional, kept in the activity log)</label>
${fieldError(errors, 'reason')}
<input type="text" id="reason" name="reason" maxlength="500" autocomplete="off" value="${values.reason}"${attrs(describedBy(errors, 'reason'))}>
</div>
<div class="field">
<label for="amount">Amount to refund (optional)</label>
<span class="hint" id="amount-hint">In ${order.amount.currency}, like 12.50. Leave it empty to refund everything left (${leftText}); a smaller amount is a partial refund and the order stays paid.</span>
${fieldError(errors, 'amount')}
<input type="text" id="amount" name="amount" inputmode="decimal" maxlength="20" autocomplete="off" value="${values.amount}"${attrs(describedBy(errors, 'amount', 'amount-hint'))}>
</div>
${revokeHint}
<div class="actions">
<button type="submit" class="danger">Refund${values.amount === '' ? html` ${leftText}` : ''}</button>
<a href="${frame.base}/orders/${order.id}">Keep the order as it is</a>
</div>
</form>`;
  return adminLayout(
    { ...frame, current: 'orders' },
    { title: `Refund order ${order.id}?`, body, hasErrors: errors.length > 0 },
  );
}
