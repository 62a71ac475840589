import type { AdminAction } from '../services/admin-actions.js';
import type { AdminFrame } from './admin-layout.js';
import { adminLayout } from './admin-layout.js';
import { formatMoney, time } from './format.js';
import type { SafeHtml } from './html.js';
import { html } from './html.js';

/** The audit trail of the admin screen: the whole log, and each record's own entries. */

const ACTION_LABELS: Record<string, string> = {
  'order.refunded': 'Refunded order',
  'order.charged_back': 'Chargeback of order',
  'order.late_payment': 'Payment of a cancelled or failed order, to refund at the processor:',
  'license.revoked': 'Revoked license',
  'receipt.resent': 'Re-sent receipt of order',
  'webhook.redelivered': 'Redelivered webhook message',
  'product.saved': 'Saved product',
  'product.deactivated': 'Deactivated product',
  'plan.saved': 'Saved plan',
  'plan.deactivated': 'Deactivated plan',
};

/** The entry's detail in words: amount, reason, the license revoked with a refund. */
function detailOf(action: AdminAction): string {
  const detail = action.detail;
  const parts: string[] = [];
  if (typeof detail.amount === 'number' && typeof detail.currency === 'string')
    parts.push(formatMoney(detail.amount, detail.currency));
  if (detail.revokeLicense === true) parts.push('license revoked too');
  if (typeof detail.type === 'string') parts.push(detail.type);
  if (typeof detail.reason === 'string' && detail.reason !== '')
    parts.push(`reason: ${detail.reason}`);
  return parts.join('; ');
}

export function activityTable(
  frame: AdminFrame,
  actions: readonly AdminAction[],
  id: string,
  caption: string,
): SafeHtml {
  if (actions.length === 0) return html`<p>Nothing recorded yet.</p>`;
  return html`<div class="table-scroll" role="region" aria-labelledby="${id}" tabindex="0">
<table>
<caption id="${id}">${caption}, newest first</caption>
<thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Detail</th></tr></thead>
<tbody>
${actions.map(
  (action) => html`<tr>
<td>${time(action.createdAt)}</td>
<td>${action.actor}</td>
<td>${ACTION_LABELS[action.action] ?? action.action} ${targetLink(frame, action)}</td>
<td>${detailOf(action)}</td>
</tr>\n`,
)}</tbody>
</table>
</div>`;
}

function targetLink(frame: AdminFrame, action: AdminAction): SafeHtml {
  const target = action.target;
  if (target.startsWith('ord_'))
    return html`<a href="${frame.base}/orders/${target}"><code>${target}</code></a>`;
  if (target.startsWith('lic_'))
    return html`<a href="${frame.base}/licenses/${target}"><code>${target}</code></a>`;
  const endpoint = action.detail.endpointId;
  if (action.action === 'webhook.redelivered' && typeof endpoint === 'string')
    return html`<a href="${frame.base}/webhooks/${endpoint}"><code>${target}</code></a>`;
  return html`<code>${target}</code>`;
}

export function activityPage(frame: AdminFrame, actions: readonly AdminAction[]): SafeHtml {
  const body = html`<h1>Activity</h1>
<p class="lead">What was done on this admin screen: refunds, revocations, re-sent receipts, redeliveries and catalogue changes.</p>
${activityTable(frame, actions, 'activity-caption', 'The latest 200 actions')}`;
  return adminLayout({ ...frame, current: 'activity' }, { title: 'Activity', body });
}
