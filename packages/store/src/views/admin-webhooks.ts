import type { WebhookEndpoint, WebhookMessage } from '../services/webhooks.js';
import type { AdminFrame } from './admin-layout.js';
import { adminLayout, csrfField, statusBadge } from './admin-layout.js';
import { time } from './format.js';
import type { SafeHtml } from './html.js';
import { html } from './html.js';
import { notice } from './layout.js';

/** The admin screen's webhook pages: endpoints, and one endpoint's deliveries. */

export function webhooksPage(frame: AdminFrame, endpoints: readonly WebhookEndpoint[]): SafeHtml {
  const body = html`<h1>Webhooks</h1>
<p class="lead">Endpoints are added and removed through the admin API (<code>POST /v1/admin/webhooks</code>), which shows each signing secret once.</p>
${
  endpoints.length === 0
    ? html`<p>No webhook endpoint yet.</p>`
    : html`<div class="table-scroll" role="region" aria-labelledby="endpoints-caption" tabindex="0">
<table>
<caption id="endpoints-caption">Webhook endpoints</caption>
<thead><tr><th scope="col">Endpoint</th><th scope="col">Events</th><th scope="col">Pending</th><th scope="col">Delivered</th><th scope="col">Failed</th></tr></thead>
<tbody>
${endpoints.map(
  (endpoint) => html`<tr>
<td><a href="${frame.base}/webhooks/${endpoint.id}">${endpoint.url}</a>${endpoint.active ? '' : ' (inactive)'}</td>
<td>${endpoint.events.length === 0 ? 'all' : endpoint.events.join(', ')}</td>
<td>${endpoint.pending}</td>
<td>${endpoint.delivered}</td>
<td>${endpoint.failed}</td>
</tr>\n`,
)}</tbody>
</table>
</div>`
}`;
  return adminLayout({ ...frame, current: 'webhooks' }, { title: 'Webhooks', body });
}

export function webhookEndpointPage(
  frame: AdminFrame & { csrfToken: string },
  page: {
    endpoint: WebhookEndpoint;
    messages: readonly WebhookMessage[];
    notice?: string | undefined;
  },
): SafeHtml {
  const { endpoint } = page;
  const body = html`<h1>Deliveries to ${endpoint.url}</h1>
${notice(page.notice)}
<dl class="summary">
<dt>Endpoint id</dt><dd><code>${endpoint.id}</code></dd>
<dt>Events</dt><dd>${endpoint.events.length === 0 ? 'all' : endpoint.events.join(', ')}</dd>
<dt>Pending, delivered, failed</dt><dd>${endpoint.pending}, ${endpoint.delivered}, ${endpoint.failed}</dd>
</dl>
<p>Redelivering sends the same message again (same <code>webhook-id</code>, so a receiver that already has it can drop it) with a fresh retry schedule.</p>
${
  page.messages.length === 0
    ? html`<p>No message yet.</p>`
    : html`<div class="table-scroll" role="region" aria-labelledby="messages-caption" tabindex="0">
<table>
<caption id="messages-caption">The latest 100 messages, newest first</caption>
<thead><tr><th scope="col">Message</th><th scope="col">Event</th><th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Last error</th><th scope="col">Action</th></tr></thead>
<tbody>
${page.messages.map(
  (message) => html`<tr>
<td><code>${message.id}</code><br>${time(message.createdAt)}</td>
<td>${message.type}</td>
<td>${statusBadge(message.status)}${message.deliveredAt && html`<br>${time(message.deliveredAt)}`}</td>
<td>${message.attempts}</td>
<td>${message.lastError ?? ''}</td>
<td><form method="post" action="${frame.base}/webhooks/${endpoint.id}/messages/${message.id}/redeliver" data-submit-once>
${csrfField(frame.csrfToken)}
<button type="submit" class="secondary">Redeliver<span class="visually-hidden"> ${message.id}</span></button>
</form></td>
</tr>\n`,
)}</tbody>
</table>
</div>`
}
<p><a href="${frame.base}/webhooks">All endpoints</a></p>`;
  return adminLayout(
    { ...frame, current: 'webhooks' },
    { title: `Deliveries to ${endpoint.url}`, body },
  );
}
