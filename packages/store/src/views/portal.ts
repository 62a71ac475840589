import type { Plan, Product } from '../schemas/catalogue.js';
import type { QuotaState } from '../schemas/usage.js';
import type { DeviceDetails } from '../services/activation.js';
import type { Attachment } from '../services/attachments.js';
import type { LicenseView, PendingChangeView } from '../services/licensing.js';
import type { CancelOutcome, PlanChangeOutcome } from '../services/plan-changes.js';
import { formatCount, formatMoney, planPrice, statusLabel, time } from './format.js';
import type { HtmlValue, SafeHtml } from './html.js';
import { attrs, html } from './html.js';
import type { FieldError } from './layout.js';
import { describedBy, errorSummary, fieldError, layout, notice } from './layout.js';

/**
 * The customer portal: sign-in with the license key, then the license (plan, status,
 * dates, pending change, usage, devices, downloads), plan changes with a preview of the
 * prorated amount, and cancellation with its effective date. Every form that changes
 * something posts the session's CSRF token.
 */

export function signInPage(options: {
  vendor: string;
  csrfToken: string;
  errors: FieldError[];
  notice?: string | undefined;
}): SafeHtml {
  const { errors } = options;
  return layout({
    title: 'Sign in to the customer portal',
    vendor: options.vendor,
    hasErrors: errors.length > 0,
    body: html`<h1>Sign in to the customer portal</h1>
${notice(options.notice)}
<p>See your license, its usage and devices, change or cancel your plan, and download your license token.</p>
${errorSummary(errors)}
<form method="post" action="/portal/sign-in" novalidate>
<input type="hidden" name="csrf" value="${options.csrfToken}">
<div class="field">
<label for="licenseKey">License key</label>
<span class="hint" id="licenseKey-hint">It starts with LK- and was shown once, on the confirmation page of your order.</span>
${fieldError(errors, 'licenseKey')}
<input${attrs({
      type: 'text',
      id: 'licenseKey',
      name: 'licenseKey',
      autocomplete: 'off',
      autocapitalize: 'characters',
      spellcheck: 'false',
      required: true,
      maxlength: 100,
      ...describedBy(errors, 'licenseKey', 'licenseKey-hint'),
    })}>
</div>
<div class="actions"><button type="submit">Sign in</button></div>
</form>
<p>No license yet? <a href="/">See the products</a>.</p>`,
  });
}

/** Everything the license page shows. */
export interface LicensePageData {
  vendor: string;
  csrfToken: string;
  product: Product;
  plan: Plan;
  license: LicenseView;
  /** Paid for now (active or trialing, not revoked). */
  paid: boolean;
  subscribeUrl: string;
  quotas: Record<string, QuotaState>;
  devices: DeviceDetails[];
  attachments: Attachment[];
  /** The free plan a cancellation falls back to. */
  freePlan: Plan | undefined;
  notice?: string | undefined;
}

function planName(product: Product, planId: string | undefined): string {
  return product.plans.find((plan) => plan.id === planId)?.name ?? planId ?? '';
}

function pendingChangeText(
  data: Pick<LicensePageData, 'product' | 'freePlan'>,
  change: PendingChangeView,
): SafeHtml {
  switch (change.kind) {
    case 'downgrade':
      return html`Changes to ${planName(data.product, change.plan)}${change.seats !== undefined && ` (${change.seats} seats)`} on ${time(change.at)}`;
    case 'seats':
      return html`Changes to ${change.seats} seats on ${time(change.at)}`;
    default:
      return html`Cancelled: the current plan ends on ${time(change.at)}${
        change.plan
          ? html`, then the license moves to the ${planName(data.product, change.plan)} plan (free)`
          : ', then the license ends'
      }`;
  }
}

/** Why the plan cannot change now, or undefined when it can. */
export function planChangeBlocked(
  data: Pick<LicensePageData, 'license' | 'plan'>,
): string | undefined {
  const { license, plan } = data;
  if (license.status === 'revoked') return 'This license has been revoked.';
  if (license.status === 'trialing')
    return 'You can change the plan once the free trial has ended (or cancel it below).';
  if (plan.interval === 'once') return 'A one-time purchase does not change plans.';
  if (license.status !== 'active') return 'Only an active license can change its plan.';
  return undefined;
}

export function cancelBlocked(data: Pick<LicensePageData, 'license' | 'plan'>): string | undefined {
  const { license, plan } = data;
  if (license.status === 'revoked') return 'This license has been revoked.';
  if (plan.free) return 'A free plan has nothing to cancel.';
  if (plan.interval === 'once') return 'A one-time purchase has nothing to cancel.';
  if (license.pendingChange?.kind === 'cancel') return 'The license is already cancelled.';
  if (!['active', 'trialing', 'past_due'].includes(license.status))
    return 'Only an active license can be cancelled.';
  return undefined;
}

/**
 * The use of a quota as the store recorded it. Past the limit it says by how much, in
 * words (not only a colour): only the apps' offline counts can go past it (the store
 * refuses its own downloads at the limit), and the customer should see what the vendor sees.
 */
function usedCell(state: QuotaState): SafeHtml {
  if (!state.overuse) return html`${formatCount(state.used)}`;
  return html`${formatCount(state.used)} — <strong>${formatCount(state.overuse)} over the limit</strong> (reported offline)`;
}

function quotaRow(name: string, state: QuotaState): SafeHtml {
  return html`<tr>
<th scope="row">${name}</th>
<td class="meter">${state.unlimited ? 'Unlimited' : formatCount(state.limit ?? 0)}</td>
<td class="meter">${usedCell(state)}</td>
<td class="meter">${state.unlimited ? 'Unlimited' : formatCount(state.remaining ?? 0)}</td>
<td>${state.resetsAt ? time(state.resetsAt) : 'At the end of the term'}</td>
</tr>
`;
}

function deviceRow(device: DeviceDetails, csrfToken: string): SafeHtml {
  const name = device.name || 'Unnamed device';
  return html`<tr>
<th scope="row">${name}</th>
<td><code title="${device.thumbprint}">${device.thumbprint.slice(0, 12)}…</code></td>
<td>${time(device.activatedAt)}</td>
<td>${device.lastSeenAt ? time(device.lastSeenAt) : 'Never'}</td>
<td><form method="post" action="/portal/devices/deactivate" data-submit-once>
<input type="hidden" name="csrf" value="${csrfToken}">
<input type="hidden" name="deviceId" value="${device.id}">
<button type="submit" class="secondary">Deactivate<span class="visually-hidden"> ${name}</span></button>
</form></td>
</tr>
`;
}

function formatBytes(size: number): string {
  if (size < 1024) return `${size} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = size / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

function changePlanForm(data: LicensePageData): HtmlValue {
  const blocked = planChangeBlocked(data);
  if (blocked) return html`<p>${blocked}</p>`;
  const targets = data.product.plans.filter((plan) => plan.id !== data.plan.id || plan.perSeat);
  if (targets.length === 0) return html`<p>There is no other plan to change to.</p>`;
  const perSeat = targets.some((plan) => plan.perSeat);
  return html`<form method="get" action="/portal/plan">
<fieldset>
<legend>New plan</legend>
${targets.map(
  (plan) => html`<div class="plan-option">
<input${attrs({ type: 'radio', name: 'plan', id: `change-${plan.id}`, value: plan.id, required: true })}>
<label for="change-${plan.id}">${plan.name}${plan.id === data.plan.id && ' (change the seats)'} – ${planPrice(plan)}</label>
</div>
`,
)}
</fieldset>
${
  perSeat &&
  html`<div class="field">
<label for="change-seats">Number of seats</label>
<span class="hint" id="change-seats-hint">For plans priced per seat; leave empty to keep ${data.plan.perSeat ? `your ${data.license.seats}` : 'the plan’s default'}.</span>
<input type="number" id="change-seats" name="seats" inputmode="numeric" min="1" max="100000" step="1" aria-describedby="change-seats-hint">
</div>`
}
<p class="hint">The next page shows what the change costs and when it takes effect; nothing changes until you confirm.</p>
<div class="actions"><button type="submit">Preview the change</button></div>
</form>`;
}

export function licensePage(data: LicensePageData): SafeHtml {
  const { license, product, plan } = data;
  const cancelReason = cancelBlocked(data);
  const body = html`<h1>Your ${product.name} license</h1>
${notice(data.notice)}
${
  !data.paid &&
  license.status !== 'revoked' &&
  html`<div class="warning" role="note"><p><strong>${statusLabel(license.status)}.</strong> This license gets no new tokens until it is paid. <a href="${data.subscribeUrl}">Subscribe to ${product.name}</a>.</p></div>`
}
<dl class="summary">
<dt>Plan</dt><dd>${plan.name} (${planPrice(plan)})</dd>
<dt>Status</dt><dd>${statusLabel(license.status)}</dd>
<dt>License key</dt><dd>ends in <code>${license.keyHint}</code></dd>
<dt>License id</dt><dd><code>${license.id}</code></dd>
<dt>Seats</dt><dd>${license.devicesInUse} of ${license.seats} in use</dd>
${license.trialEndsAt && html`<dt>Trial ends</dt><dd>${time(license.trialEndsAt)}</dd>`}
<dt>${license.status === 'trialing' ? 'Access until' : 'Paid until'}</dt><dd>${license.expiresAt ? time(license.expiresAt) : 'No expiry'}</dd>
${license.graceEndsAt && html`<dt>Grace period ends</dt><dd>${time(license.graceEndsAt)}</dd>`}
<dt>Pending change</dt><dd>${license.pendingChange ? pendingChangeText(data, license.pendingChange) : 'None'}</dd>
</dl>
${
  license.pendingChange &&
  data.paid &&
  html`<form method="post" action="/portal/cancel/undo" data-submit-once>
<input type="hidden" name="csrf" value="${data.csrfToken}">
<button type="submit" class="secondary">Keep my current plan</button>
</form>`
}
<h2 id="usage">Usage</h2>
${
  Object.keys(data.quotas).length === 0
    ? html`<p>This plan has no quotas.</p>`
    : html`<table>
<caption>Usage in the current period, as reported by your devices and downloads</caption>
<thead><tr><th scope="col">Quota</th><th scope="col">Limit</th><th scope="col">Used</th><th scope="col">Remaining</th><th scope="col">Resets</th></tr></thead>
<tbody>
${Object.entries(data.quotas).map(([name, state]) => quotaRow(name, state))}
</tbody>
</table>`
}
<h2 id="devices">Devices</h2>
${
  data.devices.length === 0
    ? html`<p>No device is activated. Your app activates one with your license key.</p>`
    : html`<table>
<caption>Active devices (each takes one seat)</caption>
<thead><tr><th scope="col">Device</th><th scope="col">Key</th><th scope="col">Activated</th><th scope="col">Last seen</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
<tbody>
${data.devices.map((device) => deviceRow(device, data.csrfToken))}
</tbody>
</table>
<p class="hint">A deactivated device keeps the token it holds until that expires, but cannot refresh it.</p>`
}
<h2 id="downloads">Downloads</h2>
<ul>
<li><a href="/portal/token" download>Download the current license token</a> (a <code>.lic</code> file your app can import)</li>
${data.attachments.map(
  (
    file,
  ) => html`<li><a href="/portal/attachments/${file.id}">${file.name}</a> (${formatBytes(file.size)})${
    file.quota &&
    html` – the first download uses one of your ${file.quota}${
      data.quotas[file.quota] && !data.quotas[file.quota]!.unlimited
        ? html` (${formatCount(data.quotas[file.quota]!.remaining ?? 0)} left)`
        : ''
    }`
  }</li>
`,
)}
</ul>
<h2 id="change-plan">Change plan</h2>
${changePlanForm(data)}
<h2 id="cancel">Cancel</h2>
${
  cancelReason
    ? html`<p>${cancelReason}</p>`
    : html`<p>Cancelling takes effect at the end of the ${license.status === 'trialing' ? 'trial' : 'paid period'}${data.freePlan && html`; then the license moves to the ${data.freePlan.name} plan`}.</p>
<p><a href="/portal/cancel">Cancel the ${plan.name} plan</a></p>`
}`;
  return layout({
    title: `Your ${product.name} license`,
    vendor: data.vendor,
    testMode: license.test,
    signedIn: { csrfToken: data.csrfToken },
    body,
  });
}

const KIND_TEXT: Record<string, string> = {
  upgrade: 'Upgrade',
  downgrade: 'Downgrade',
  switch: 'Change',
};

/** The preview of a plan change: the prorated amount and the effective date, then Confirm. */
export function planPreviewPage(options: {
  vendor: string;
  csrfToken: string;
  from: Plan;
  fromSeats: number;
  to: Plan;
  quote: PlanChangeOutcome;
  /** The change takes effect now (an upgrade or switch), not at the period end. */
  immediate: boolean;
  test: boolean;
  notice?: string | undefined;
}): SafeHtml {
  const { quote, from, to } = options;
  const charged = formatMoney(quote.amount, quote.currency);
  const deferred = !options.immediate;
  const body = html`<h1>Review your plan change</h1>
${notice(options.notice)}
<dl class="summary">
<dt>Current plan</dt><dd>${from.name} (${planPrice(from)})${from.perSeat && `, ${options.fromSeats} seats`}</dd>
<dt>New plan</dt><dd>${to.name} (${planPrice(to)})${to.perSeat && `, ${quote.seats} seats`}</dd>
<dt>Kind</dt><dd>${KIND_TEXT[quote.kind] ?? quote.kind}</dd>
<dt>Charged now</dt><dd><strong id="prorated-amount">${charged}</strong>${quote.amount > 0 && ' (prorated for the rest of the period)'}</dd>
<dt>Takes effect</dt><dd>${time(quote.effectiveAt)}${deferred && ' (the end of your current period)'}</dd>
</dl>
<p>${
    quote.amount > 0
      ? `Confirming charges ${charged} now${options.test ? ' (test payment: no money moves)' : ''} and the new plan starts at once.`
      : deferred
        ? 'Nothing is charged now. Until the change takes effect you keep your current plan.'
        : 'Nothing is charged; the new plan starts at once.'
  }</p>
<form method="post" action="/portal/plan" data-submit-once>
<input type="hidden" name="csrf" value="${options.csrfToken}">
<input type="hidden" name="plan" value="${to.id}">
<input type="hidden" name="seats" value="${quote.seats}">
<input type="hidden" name="expectedAmount" value="${quote.amount}">
<div class="actions">
<button type="submit">${quote.amount > 0 ? `Confirm and pay ${charged}` : `Confirm the change to ${to.name}`}</button>
<a href="/portal/license">Keep the current plan</a>
</div>
</form>`;
  return layout({
    title: 'Review your plan change',
    vendor: options.vendor,
    testMode: options.test,
    signedIn: { csrfToken: options.csrfToken },
    body,
  });
}

/** After a confirmed plan change: what was charged and when it takes effect. */
export function planChangedPage(options: {
  vendor: string;
  csrfToken: string;
  to: Plan;
  outcome: PlanChangeOutcome;
}): SafeHtml {
  const { outcome, to } = options;
  // Deferred changes (downgrades) place no order; immediate ones always do.
  const order = outcome.order;
  const heading =
    order === undefined
      ? 'Plan change scheduled'
      : order.status === 'paid'
        ? 'Plan changed'
        : 'Plan change awaiting payment';
  const body = html`<h1>${heading}</h1>
<div class="notice" role="status"><p>${
    order === undefined
      ? html`Your plan changes to ${to.name} on ${time(outcome.effectiveAt)}. Until then you keep your current plan.`
      : order.status === 'paid'
        ? html`You are now on the ${to.name} plan${to.perSeat && ` with ${outcome.seats} seats`}.`
        : html`The change to ${to.name} takes effect when the payment is confirmed.`
  }</p></div>
<dl class="summary">
<dt>Charged</dt><dd id="charged-amount">${formatMoney(outcome.amount, outcome.currency)}${outcome.test && outcome.amount > 0 && ' (test payment, no money moved)'}</dd>
${order && html`<dt>Order</dt><dd><code>${order.id}</code> (${order.status === 'paid' ? 'paid' : 'awaiting payment'})</dd>`}
<dt>Effective</dt><dd>${time(outcome.effectiveAt)}</dd>
</dl>
<p>Your apps pick up the new terms at their next refresh. <a href="/portal/license">Back to your license</a></p>`;
  return layout({
    title: heading,
    vendor: options.vendor,
    testMode: outcome.test,
    signedIn: { csrfToken: options.csrfToken },
    body,
  });
}

/** Asks before cancelling: when it takes effect and what the license falls back to. */
export function cancelConfirmPage(options: {
  vendor: string;
  csrfToken: string;
  plan: Plan;
  effectiveAt: Date;
  immediate: boolean;
  freePlan: Plan | undefined;
  test: boolean;
}): SafeHtml {
  const { plan, freePlan } = options;
  const body = html`<h1>Cancel the ${plan.name} plan?</h1>
<dl class="summary">
<dt>Takes effect</dt><dd>${options.immediate ? html`At once (${time(options.effectiveAt)})` : time(options.effectiveAt)}</dd>
<dt>Afterwards</dt><dd>${freePlan ? `The license moves to the ${freePlan.name} plan (free).` : 'The license ends.'}</dd>
</dl>
${!options.immediate && html`<p>Until then everything keeps working, and you can change your mind here.</p>`}
<form method="post" action="/portal/cancel" data-submit-once>
<input type="hidden" name="csrf" value="${options.csrfToken}">
<div class="actions">
<button type="submit" class="danger">Cancel the ${plan.name} plan</button>
<a href="/portal/license">Keep the ${plan.name} plan</a>
</div>
</form>`;
  return layout({
    title: `Cancel the ${plan.name} plan`,
    vendor: options.vendor,
    testMode: options.test,
    signedIn: { csrfToken: options.csrfToken },
    body,
  });
}

export function cancelledPage(options: {
  vendor: string;
  csrfToken: string;
  plan: Plan;
  outcome: CancelOutcome;
  fallbackPlan: Plan | undefined;
}): SafeHtml {
  const { outcome, fallbackPlan } = options;
  const body = html`<h1>Your plan is cancelled</h1>
<div class="notice" role="status"><p>The ${options.plan.name} plan ends on <strong id="cancel-effective">${time(outcome.effectiveAt)}</strong>.</p></div>
<dl class="summary">
<dt>Effective</dt><dd>${time(outcome.effectiveAt)}</dd>
<dt>Afterwards</dt><dd>${fallbackPlan ? `The license moves to the ${fallbackPlan.name} plan (free).` : 'The license ends.'}</dd>
</dl>
<p><a href="/portal/license">Back to your license</a></p>`;
  return layout({
    title: 'Your plan is cancelled',
    vendor: options.vendor,
    testMode: outcome.test,
    signedIn: { csrfToken: options.csrfToken },
    body,
  });
}
