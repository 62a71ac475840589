import { prorate } from '@licensekit/core';
import { seconds } from '../lib/clock.js';
import type { Plan, Product } from '../schemas/catalogue.js';
import type { QuotaState } from '../schemas/usage.js';
import type { DeviceDetails } from '../services/activation.js';
import type { Attachment } from '../services/attachments.js';
import { cycleOf, twinOf } from '../services/billing-cycles.js';
import type { LicenseView, PendingChangeView } from '../services/licensing.js';
import { planTotal } from '../services/licensing.js';
import type { OwedPayment } from '../services/owed-payment.js';
import type { CancelOutcome, PlanChangeOutcome } from '../services/plan-changes.js';
import { scheduledChangeToken } from '../services/scheduled-change.js';
import { cycleChoice, offeredPlans, offerOf, otherCycleText } from './billing-cycle-choice.js';
import { formatCount, formatMoney, planPrice, statusLabel, time } from './format.js';
import type { HtmlValue, SafeHtml } from './html.js';
import { attrs, html } from './html.js';
import type { FieldError } from './layout.js';
import { describedBy, errorSummary, fieldError, layout, notice } from './layout.js';
import { portalNav } from './portal-licenses.js';

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
  /** Where the sign-in goes on to: a name from the portal's fixed list, never a URL. */
  next?: string | undefined;
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
${options.next && html`<input type="hidden" name="next" value="${options.next}">`}
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
<p>Lost your key? <a href="/portal/email">Sign in with an e-mail link</a>, then replace the key.</p>
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
  /**
   * What an unpaid license owes (a past-due renewal, a pending purchase): payable now, a
   * payment under way, or nothing (services/owed-payment.ts).
   */
  owed?: OwedPayment['state'] | undefined;
  quotas: Record<string, QuotaState>;
  devices: DeviceDetails[];
  attachments: Attachment[];
  /** The free plan a cancellation falls back to. */
  freePlan: Plan | undefined;
  notice?: string | undefined;
  /**
   * Replacing the key: offered in a session opened by an e-mail link ('allowed'), else a
   * pointer to e-mail sign-in ('needs-link'); absent: the section is not shown.
   */
  keyReplacement?: 'allowed' | 'needs-link' | undefined;
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

/** The warning's link to the pay page: pay now, or see the payment under way. */
function payLink(what: string, owed: Exclude<OwedPayment['state'], 'none'>): SafeHtml {
  return owed === 'processing'
    ? html`A payment of ${what} is being processed. <a href="/portal/pay">See the payment</a>.`
    : html`<a href="/portal/pay">Pay ${what}</a>.`;
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
  // An offer billed both ways is one choice (views/billing-cycle-choice.ts); the customer's
  // own offer stays a choice when its other cycle can be switched to.
  const plans = data.product.plans;
  const ownOffer = offerOf(plans, data.plan.id).planId;
  const targets = offeredPlans(plans).filter(
    (plan) => plan.id !== ownOffer || plan.perSeat || twinOf(plan, plans) !== undefined,
  );
  if (targets.length === 0) return html`<p>There is no other plan to change to.</p>`;
  const perSeat = targets.some((plan) => plan.perSeat);
  return html`<form method="get" action="/portal/plan">
<fieldset>
<legend>New plan</legend>
${targets.map(
  (plan) => html`<div class="plan-option">
<input${attrs({
    type: 'radio',
    name: 'plan',
    id: `change-${plan.id}`,
    value: plan.id,
    required: true,
    // A single plan to change to is no choice: it is selected already.
    checked: targets.length === 1,
  })}>
<label for="change-${plan.id}">${plan.name}${plan.id === data.plan.id && plan.perSeat && ' (change the seats)'}${plan.id === ownOffer && !plan.perSeat && ' (your plan: change how it is billed)'} – ${planPrice(plan)}${otherCycleText(plan, plans)}</label>
</div>
`,
)}
</fieldset>
${cycleChoice({ plans, checked: cycleOf(data.plan) ?? undefined, errors: [] })}${
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
${portalNav('license')}
${notice(data.notice)}
${
  !data.paid &&
  license.status !== 'revoked' &&
  html`<div class="warning" role="note"><p><strong>${statusLabel(license.status)}.</strong> This license gets no new tokens until it is paid. ${
    data.owed === undefined || data.owed === 'none'
      ? html`<a href="${data.subscribeUrl}">Subscribe to ${product.name}</a>.`
      : payLink(license.status === 'past_due' ? 'the renewal' : 'the order', data.owed)
  }</p></div>`
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
    : html`<table class="table-scroll" tabindex="0">
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
    : html`<table class="table-scroll" tabindex="0">
<caption>Active devices (each takes one seat)</caption>
<thead><tr><th scope="col">Device</th><th scope="col">Key</th><th scope="col">Activated</th><th scope="col">Last seen</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
<tbody>
${data.devices.map((device) => deviceRow(device, data.csrfToken))}
</tbody>
</table>
<p class="hint">A deactivated device keeps the token it holds until that expires, but cannot refresh it.</p>`
}
<p>A computer that is never online? <a href="/portal/license/offline">Activate or refresh it offline</a> with the request its app shows.</p>
${keyReplacementSection(data)}
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

// ------------------------------------------------------------------ how the amount is computed

/** The period a quote prorates, and when the quote was made (the route reads both). */
export interface ChargeBasis {
  periodStart: Date;
  periodEnd: Date;
  /** The clock just before and just after the quote: its instant lies between them. */
  quotedBetween: readonly [Date, Date];
}

/** The sum behind a quoted amount, in words and with its numbers. */
export interface ChargeExplanation {
  /** "Charged now = (new price − current price) × time left … = ($120.00 − $15.00) × 20.5 days ÷ 31 days = $69.44" */
  formula: string;
  /** The prices and the exact times the formula uses, and the rounding. */
  detail: string;
}

const DAY_SECONDS = 86_400;

/** "31 days", "1 day", "20.25 days": a duration in days, to two decimals at most. */
function daysText(duration: number): string {
  const days = Math.round((duration / DAY_SECONDS) * 100) / 100;
  return `${formatCount(days)} ${days === 1 ? 'day' : 'days'}`;
}

function perPeriod(plan: Plan): string {
  return plan.interval === 'month' ? 'a month' : plan.interval === 'year' ? 'a year' : 'once';
}

/** "$600.00 a year (5 seats × $120.00)" or "$15.00 a month": what a plan costs in total. */
function totalText(plan: Plan, seats: number): string {
  const { currency } = plan.price;
  const total = `${formatMoney(planTotal(plan, seats), currency)} ${perPeriod(plan)}`;
  if (!plan.perSeat) return total;
  return `${total} (${seats} ${seats === 1 ? 'seat' : 'seats'} × ${formatMoney(plan.price.amount, currency)})`;
}

/** "Team, $600.00 a year (5 seats × $120.00)" */
function priceText(plan: Plan, seats: number): string {
  return `${plan.name}, ${totalText(plan, seats)}`;
}

/**
 * How the store computed the amount an immediate change charges, with the numbers —
 * recomputed here with core's `prorate`, exactly as services/plan-changes.ts does:
 *
 * - same interval: (new price − current price) × time left ÷ length of the period;
 * - a longer interval or a one-time plan: new price − the unused part of the current
 *   period (current price × time left ÷ length), never below zero; a new period starts.
 *
 * Prices are totals (price × seats on per-seat plans); times are seconds; the result is
 * rounded once, half away from zero. The instant of the quote is the second between
 * `quotedBetween` that gives the quoted amount; when none does (the license changed in
 * between), there is no explanation rather than a wrong one.
 */
export function explainCharge(options: {
  from: Plan;
  fromSeats: number;
  to: Plan;
  quote: Pick<PlanChangeOutcome, 'amount' | 'currency' | 'seats'>;
  basis: ChargeBasis;
}): ChargeExplanation | undefined {
  const { from, to, quote, basis } = options;
  const periodStart = seconds(basis.periodStart);
  const periodEnd = seconds(basis.periodEnd);
  if (periodEnd <= periodStart) return undefined;
  const current = planTotal(from, options.fromSeats);
  const next = planTotal(to, quote.seats);
  const sameInterval = to.interval === from.interval && to.interval !== 'once';
  const unused = (now: number) =>
    -prorate({ oldPrice: current, newPrice: 0, periodStart, periodEnd, now });
  const charge = (now: number) =>
    sameInterval
      ? prorate({ oldPrice: current, newPrice: next, periodStart, periodEnd, now })
      : Math.max(0, next - unused(now));
  let at: number | undefined;
  for (let now = seconds(basis.quotedBetween[1]); now >= seconds(basis.quotedBetween[0]); now--) {
    if (charge(now) === quote.amount) {
      at = now;
      break;
    }
  }
  if (at === undefined) return undefined;
  const length = periodEnd - periodStart;
  const left = Math.min(Math.max(periodEnd - at, 0), length);
  const money = (amount: number) => formatMoney(amount, quote.currency);
  const times = `${daysText(left)} ÷ ${daysText(length)}`;
  const exact = `Time is counted to the second (${formatCount(left)} of the period’s ${formatCount(length)} seconds are left) and the result is rounded to the nearest ${money(1)}.`;
  if (sameInterval) {
    return {
      formula: `Charged now = (new price − current price) × time left in the period ÷ length of the period = (${money(next)} − ${money(current)}) × ${times} = ${money(quote.amount)}`,
      detail: `New price: ${priceText(to, quote.seats)}. Current price: ${priceText(from, options.fromSeats)}. ${exact}`,
    };
  }
  const credit = unused(at);
  const floor = next - credit < 0 ? ' (never less than zero: the rest is not paid out)' : '';
  const starts =
    to.interval === 'once'
      ? 'The one-time plan starts now.'
      : `A new period of ${to.name} starts now.`;
  return {
    formula: `Charged now = new price − unused part of the current period = ${money(next)} − (${money(current)} × ${times}) = ${money(next)} − ${money(credit)} = ${money(quote.amount)}${floor}`,
    detail: `New price: ${priceText(to, quote.seats)}. Current price: ${priceText(from, options.fromSeats)}. ${starts} ${exact}`,
  };
}

// ------------------------------------------------------------------ replacing a scheduled change

/** A scheduled change the confirmation would replace, for the page to say so. */
export interface ScheduledChange {
  change: PendingChangeView;
  product: Product;
  freePlan: Plan | undefined;
}

/**
 * What a confirmation page says when it would replace (or, for an immediate change,
 * withdraw) a scheduled change — never silently — and the form field that names the
 * change it replaces. Its button says so too.
 */
function replaceScheduled(
  scheduled: ScheduledChange | undefined,
  outcome: 'replaces' | 'withdraws',
  replacement = 'this one',
): { notice: HtmlValue; field: HtmlValue } {
  if (!scheduled) return { notice: '', field: '' };
  const what = pendingChangeText(scheduled, scheduled.change);
  const notice = html`<div class="warning" role="note" id="replaces-scheduled"><p><strong>This ${outcome} a scheduled change.</strong> Scheduled now: ${what}. ${
    outcome === 'replaces'
      ? `Only one change can be scheduled: confirming schedules ${replacement} instead.`
      : 'This change takes effect at once; the scheduled one will then not happen.'
  }</p></div>`;
  const field = html`<input type="hidden" name="replaces" value="${scheduledChangeToken(scheduled.change)}">`;
  return { notice, field };
}

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
  /** How the amount was computed (immediate changes), when the route could tell. */
  explanation?: ChargeExplanation | undefined;
  /** The change scheduled now, which confirming replaces or withdraws. */
  scheduled?: ScheduledChange | undefined;
  notice?: string | undefined;
}): SafeHtml {
  const { quote, from, to } = options;
  const charged = formatMoney(quote.amount, quote.currency);
  const deferred = !options.immediate;
  const replace = replaceScheduled(options.scheduled, deferred ? 'replaces' : 'withdraws');
  const confirm =
    quote.amount > 0
      ? `Confirm and pay ${charged}`
      : options.scheduled && deferred
        ? `Replace the scheduled change with ${to.name}`
        : `Confirm the change to ${to.name}`;
  const explanation = options.explanation;
  const body = html`<h1>Review your plan change</h1>
${notice(options.notice)}
<dl class="summary">
<dt>Current plan</dt><dd>${from.name} (${planPrice(from)})${from.perSeat && `, ${options.fromSeats} seats`}</dd>
<dt>New plan</dt><dd>${to.name} (${planPrice(to)})${to.perSeat && `, ${quote.seats} seats`}</dd>
<dt>Kind</dt><dd>${KIND_TEXT[quote.kind] ?? quote.kind}</dd>
<dt>Charged now</dt><dd><strong id="prorated-amount">${charged}</strong>${quote.amount > 0 && ' (prorated for the rest of the period)'}</dd>
<dt>Takes effect</dt><dd>${time(quote.effectiveAt)}${deferred && ' (the end of your current period)'}</dd>
</dl>
${
  explanation &&
  html`<h2 id="charge-heading">How the amount is computed</h2>
<p id="charge-formula">${explanation.formula}</p>
<p class="hint" id="charge-detail">${explanation.detail}</p>`
}
<p>${
    quote.amount > 0
      ? `Confirming charges ${charged} now${options.test ? ' (test payment: no money moves)' : ''} and the new plan starts at once.`
      : deferred
        ? `Nothing is charged now. Until the change takes effect you keep your current plan; from then on the price is ${totalText(to, quote.seats)}.`
        : 'Nothing is charged; the new plan starts at once.'
  }</p>
${replace.notice}
<form method="post" action="/portal/plan" data-submit-once>
<input type="hidden" name="csrf" value="${options.csrfToken}">
<input type="hidden" name="plan" value="${to.id}">
<input type="hidden" name="seats" value="${quote.seats}">
<input type="hidden" name="expectedAmount" value="${quote.amount}">
${replace.field}
<div class="actions">
<button type="submit">${confirm}</button>
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
  /** A scheduled downgrade or seat change the cancellation replaces. */
  scheduled?: ScheduledChange | undefined;
  notice?: string | undefined;
}): SafeHtml {
  const { plan, freePlan } = options;
  const replace = replaceScheduled(options.scheduled, 'replaces', 'the cancellation');
  const body = html`<h1>Cancel the ${plan.name} plan?</h1>
${notice(options.notice)}
<dl class="summary">
<dt>Takes effect</dt><dd>${options.immediate ? html`At once (${time(options.effectiveAt)})` : time(options.effectiveAt)}</dd>
<dt>Afterwards</dt><dd>${freePlan ? `The license moves to the ${freePlan.name} plan (free).` : 'The license ends.'}</dd>
</dl>
${!options.immediate && html`<p>Until then everything keeps working, and you can change your mind here.</p>`}
${replace.notice}
<form method="post" action="/portal/cancel" data-submit-once>
<input type="hidden" name="csrf" value="${options.csrfToken}">
${replace.field}
<div class="actions">
<button type="submit" class="danger">${options.scheduled ? `Replace the scheduled change and cancel the ${plan.name} plan` : `Cancel the ${plan.name} plan`}</button>
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

// ------------------------------------------------------------------ replacing the key

/**
 * "Replace my license key" on the license page. Only a session opened by an e-mail link
 * may replace it: one opened with the key proves only that the key is known, and a thief
 * who has the key must not be able to take the license from its owner.
 */
function keyReplacementSection(data: LicensePageData): HtmlValue {
  if (data.keyReplacement === undefined) return '';
  const heading = html`<h2 id="replace-key">Replace your license key</h2>`;
  if (data.license.status === 'revoked')
    return html`${heading}\n<p>The key of a revoked license cannot be replaced.</p>`;
  if (data.keyReplacement === 'needs-link') {
    return html`${heading}
<p>Lost your key, or think someone else has it? <a href="/portal/email">Sign in with an e-mail link</a> to the address of your order; then you can replace the key here.</p>`;
  }
  return html`${heading}
<p>Lost your key, or think someone else has it? Replace it: you get a new key, shown once, and the old one stops working at once. Activated devices stay activated and their tokens keep refreshing; anything that still uses the old key needs the new one.</p>
<form method="post" action="/portal/key" data-submit-once>
<input type="hidden" name="csrf" value="${data.csrfToken}">
<button type="submit" class="secondary">Replace my license key</button>
</form>`;
}

/** The new key after a replacement: like the checkout's confirmation, shown once. */
export function keyReplacedPage(options: {
  vendor: string;
  csrfToken: string;
  productName: string;
  key: string;
  test: boolean;
}): SafeHtml {
  const title = 'Your new license key';
  return layout({
    title,
    vendor: options.vendor,
    testMode: options.test,
    signedIn: { csrfToken: options.csrfToken },
    body: html`<h1>${title}</h1>
<div class="warning" role="note">
<p><strong>Copy this key and keep it safe now: it will not be shown again.</strong> The old key of your ${options.productName} license no longer works; we sent you an e-mail about the change.</p>
</div>
<p><code class="license-key" id="license-key">${options.key}</code></p>
<p class="actions"><button type="button" class="secondary" data-copy="license-key" data-status="copy-status" hidden>Copy the key</button> <span id="copy-status" role="status"></span></p>
<p>Activated devices stay activated and keep refreshing their tokens. Give the new key to anything that still uses the old one.</p>
<p><a href="/portal/license">Back to your license</a></p>`,
  });
}
