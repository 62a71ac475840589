import type { LicenseRecord } from '../repositories/licenses.js';
import type { AdminOrder, LicenseDetail } from '../services/admin.js';
import type { AdminAction } from '../services/admin-actions.js';
import { activityTable } from './admin-activity.js';
import type { AdminFrame } from './admin-layout.js';
import { adminLayout, csrfField, nextPageLink, statusBadge } from './admin-layout.js';
import { formatMoney, time } from './format.js';
import type { SafeHtml } from './html.js';
import { attrs, html } from './html.js';
import type { FieldError } from './layout.js';
import { describedBy, errorSummary, fieldError, notice } from './layout.js';

/** The admin screen's license pages: search, one license, the revocation confirmation. */

type ListedLicense = LicenseRecord & { customerEmail: string };

export function licensesPage(
  frame: AdminFrame,
  page: {
    query: string;
    licenses: readonly ListedLicense[] | undefined;
    nextCursor: string | null;
    errors: readonly FieldError[];
  },
): SafeHtml {
  const { errors } = page;
  const body = html`<h1>Licenses</h1>
${errorSummary(errors)}
<form method="get" action="${frame.base}/licenses" class="filters" role="search" aria-label="Find licenses">
<div class="field">
<label for="q">License id or customer e-mail</label>
<span class="hint" id="q-hint">A license id starts with lic_. An e-mail address lists every license of that customer.</span>
${fieldError(errors, 'q')}
<input type="text" id="q" name="q" autocomplete="off" spellcheck="false" value="${page.query}"${attrs(describedBy(errors, 'q', 'q-hint'))}>
</div>
<div class="actions"><button type="submit">Find</button></div>
</form>
${page.licenses !== undefined && licenseTable(frame, page.licenses, page.query === '' ? 'Latest licenses' : `Licenses of ${page.query}`)}
${nextPageLink(`${frame.base}/licenses`, { q: page.query }, page.nextCursor)}`;
  return adminLayout(
    { ...frame, current: 'licenses' },
    { title: 'Licenses', body, hasErrors: errors.length > 0 },
  );
}

function licenseTable(
  frame: AdminFrame,
  licenses: readonly ListedLicense[],
  caption: string,
): SafeHtml {
  if (licenses.length === 0) return html`<p>No license found.</p>`;
  return html`<div class="table-scroll" role="region" aria-labelledby="licenses-caption" tabindex="0">
<table>
<caption id="licenses-caption">${caption}</caption>
<thead><tr><th scope="col">License</th><th scope="col">Customer</th><th scope="col">Product and plan</th><th scope="col">Status</th><th scope="col">Key ends in</th></tr></thead>
<tbody>
${licenses.map(
  (license) => html`<tr>
<td><a href="${frame.base}/licenses/${license.id}"><code>${license.id}</code></a></td>
<td>${license.customerEmail}</td>
<td>${license.productId} · ${license.planId}</td>
<td>${statusBadge(license.status)}</td>
<td><code>${license.keyHint}</code></td>
</tr>\n`,
)}</tbody>
</table>
</div>`;
}

export function licensePage(
  frame: AdminFrame & { csrfToken: string },
  page: {
    detail: LicenseDetail;
    orders: readonly AdminOrder[];
    activity: readonly AdminAction[];
    notice?: string | undefined;
  },
): SafeHtml {
  const { license, devices, tokens } = page.detail;
  const active = devices.filter((device) => device.deactivatedAt === null);
  const body = html`<h1>License <code>${license.id}</code></h1>
${notice(page.notice)}
<dl class="summary">
<dt>Status</dt><dd>${statusBadge(license.status)}${license.test ? ' (test)' : ''}</dd>
<dt>Customer</dt><dd><a href="${frame.base}/licenses?q=${encodeURIComponent(license.customerEmail)}">${license.customerEmail}</a></dd>
<dt>Product and plan</dt><dd>${license.productId} · ${license.planId}</dd>
<dt>Seats</dt><dd>${license.seats} (${active.length} in use)</dd>
<dt>Key ends in</dt><dd><code>${license.keyHint}</code></dd>
<dt>Current period</dt><dd>${time(license.periodStart)} – ${license.periodEnd ? time(license.periodEnd) : 'no end'}</dd>
<dt>Tokens issued</dt><dd>${tokens.issued}${tokens.lastIssuedAt && html`, the last on ${time(tokens.lastIssuedAt)}`}</dd>
${license.revokedAt && html`<dt>Revoked</dt><dd>${time(license.revokedAt)}</dd>`}
</dl>
<h2>Devices</h2>
${
  devices.length === 0
    ? html`<p>No device activated.</p>`
    : html`<div class="table-scroll" role="region" aria-labelledby="devices-caption" tabindex="0">
<table>
<caption id="devices-caption">Devices of this license</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Activated</th><th scope="col">Last seen</th><th scope="col">State</th></tr></thead>
<tbody>
${devices.map(
  (device) =>
    html`<tr><td>${device.name || 'unnamed'}</td><td>${time(device.activatedAt)}</td><td>${device.lastSeenAt ? time(device.lastSeenAt) : 'never'}</td><td>${device.deactivatedAt ? 'deactivated' : 'active'}</td></tr>\n`,
)}</tbody>
</table>
</div>`
}
<h2>Orders</h2>
${
  page.orders.length === 0
    ? html`<p>No orders.</p>`
    : html`<ul>
${page.orders.map(
  (order) =>
    html`<li><a href="${frame.base}/orders/${order.id}"><code>${order.id}</code></a> – ${order.kind}, ${formatMoney(order.amount.amount, order.amount.currency)}, ${statusBadge(order.status)}</li>\n`,
)}</ul>`
}
<h2>Activity</h2>
${activityTable(frame, page.activity, 'license-activity', 'Admin actions on this license')}
${
  license.status !== 'revoked' &&
  html`<section class="danger-zone" aria-labelledby="danger-title">
<h2 id="danger-title">Revoke</h2>
<p>Revoking ends the license for good: refresh answers “revoked” and the revocation list names it.</p>
<p><a class="button" href="${frame.base}/licenses/${license.id}/revoke">Revoke this license…</a></p>
</section>`
}`;
  return adminLayout({ ...frame, current: 'licenses' }, { title: `License ${license.id}`, body });
}

export function revokeConfirmPage(
  frame: AdminFrame & { csrfToken: string },
  page: { license: ListedLicense; reason: string; errors: readonly FieldError[] },
): SafeHtml {
  const { license, errors } = page;
  const body = html`<h1>Revoke license <code>${license.id}</code>?</h1>
${errorSummary(errors)}
<dl class="summary">
<dt>Customer</dt><dd>${license.customerEmail}</dd>
<dt>Product and plan</dt><dd>${license.productId} · ${license.planId}</dd>
<dt>Status</dt><dd>${statusBadge(license.status)}</dd>
</dl>
<p class="warning">The license stops working: its apps get no new tokens (refresh answers “revoked”), and apps offline refuse it once they have the next revocation list. This cannot be undone. Orders are not refunded by this: refund them on their order page.</p>
<form method="post" action="${frame.base}/licenses/${license.id}/revoke" data-submit-once>
${csrfField(frame.csrfToken)}
<input type="hidden" name="confirm" value="revoke">
<div class="field">
<label for="reason">Reason (optional, kept in the revocation and the activity log)</label>
${fieldError(errors, 'reason')}
<input type="text" id="reason" name="reason" maxlength="500" autocomplete="off" value="${page.reason}"${attrs(describedBy(errors, 'reason'))}>
</div>
<div class="actions">
<button type="submit" class="danger">Revoke the license</button>
<a href="${frame.base}/licenses/${license.id}">Keep the license</a>
</div>
</form>`;
  return adminLayout(
    { ...frame, current: 'licenses' },
    { title: `Revoke license ${license.id}?`, body, hasErrors: errors.length > 0 },
  );
}
