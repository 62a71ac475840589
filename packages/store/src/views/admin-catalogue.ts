import type { AdminProduct } from '../services/admin.js';
import type { AdminFrame } from './admin-layout.js';
import { adminLayout, csrfField } from './admin-layout.js';
import { planPrice } from './format.js';
import type { SafeHtml } from './html.js';
import { attrs, html } from './html.js';
import type { FieldError } from './layout.js';
import { describedBy, errorSummary, fieldError, notice } from './layout.js';

/**
 * The admin screen's catalogue: products with their plans, the product and plan forms
 * (create and edit: the admin API's upserts), and the confirmations that take a product or
 * plan off the storefront. Licenses on a deactivated plan keep working.
 */

type Frame = AdminFrame & { csrfToken: string };
type Fields = Record<string, string>;

export function cataloguePage(
  frame: Frame,
  page: { products: readonly AdminProduct[]; notice?: string | undefined },
): SafeHtml {
  const body = html`<h1>Catalogue</h1>
${notice(page.notice)}
<p><a class="button" href="${frame.base}/catalogue/new">Add a product</a></p>
${page.products.map(
  (product) => html`<section aria-labelledby="product-${product.id}">
<h2 id="product-${product.id}">${product.name} <code>${product.id}</code></h2>
${product.description && html`<p>${product.description}</p>`}
<p class="actions"><a href="${frame.base}/catalogue/products/${product.id}">Edit the product</a> <a href="${frame.base}/catalogue/products/${product.id}/new-plan">Add a plan</a></p>
${
  product.plans.length === 0
    ? html`<p>No plans.</p>`
    : html`<div class="table-scroll" role="region" aria-labelledby="plans-${product.id}" tabindex="0">
<table>
<caption id="plans-${product.id}">Plans of ${product.name}</caption>
<thead><tr><th scope="col">Plan</th><th scope="col">Price</th><th scope="col">On sale</th></tr></thead>
<tbody>
${product.plans.map(
  (plan) => html`<tr>
<td><a href="${frame.base}/catalogue/products/${product.id}/plans/${plan.id}">${plan.name}</a> <code>${plan.id}</code></td>
<td>${planPrice(plan)}</td>
<td>${plan.active ? 'yes' : 'no (inactive)'}</td>
</tr>\n`,
)}</tbody>
</table>
</div>`
}
</section>\n`,
)}`;
  return adminLayout({ ...frame, current: 'catalogue' }, { title: 'Catalogue', body });
}

function textField(
  errors: readonly FieldError[],
  values: Fields,
  name: string,
  label: string,
  options: { hint?: string; type?: string; inputmode?: string; maxlength?: number } = {},
): SafeHtml {
  const hintId = options.hint ? `${name}-hint` : undefined;
  return html`<div class="field">
<label for="${name}">${label}</label>
${options.hint && html`<span class="hint" id="${hintId}">${options.hint}</span>`}
${fieldError(errors, name)}
<input${attrs({ type: options.type ?? 'text', id: name, name, value: values[name] ?? '', inputmode: options.inputmode, maxlength: options.maxlength, autocomplete: 'off', ...describedBy(errors, name, hintId) })}>
</div>`;
}

function textArea(
  errors: readonly FieldError[],
  values: Fields,
  name: string,
  label: string,
  options: { hint?: string; code?: boolean } = {},
): SafeHtml {
  const hintId = options.hint ? `${name}-hint` : undefined;
  return html`<div class="field">
<label for="${name}">${label}</label>
${options.hint && html`<span class="hint" id="${hintId}">${options.hint}</span>`}
${fieldError(errors, name)}
<textarea${attrs({ id: name, name, class: options.code ? 'code' : undefined, spellcheck: options.code ? 'false' : undefined, ...describedBy(errors, name, hintId) })}>${values[name] ?? ''}</textarea>
</div>`;
}

export function productFormPage(
  frame: Frame,
  page: { productId: string | undefined; values: Fields; errors: readonly FieldError[] },
): SafeHtml {
  const editing = page.productId !== undefined;
  const title = editing ? `Edit product ${page.productId}` : 'Add a product';
  const action = editing
    ? `${frame.base}/catalogue/products/${page.productId}`
    : `${frame.base}/catalogue`;
  const { errors, values } = page;
  const body = html`<h1>${title}</h1>
${errorSummary(errors)}
<form method="post" action="${action}" novalidate>
${csrfField(frame.csrfToken)}
${!editing && textField(errors, values, 'id', 'Product id', { hint: 'Lower-case letters, digits and dashes; part of the product’s URL and of every license. It cannot change later.', maxlength: 63 })}
${textField(errors, values, 'name', 'Name', { maxlength: 100 })}
${textArea(errors, values, 'description', 'Description (optional)')}
<div class="actions">
<button type="submit">${editing ? 'Save the product' : 'Add the product'}</button>
<a href="${frame.base}/catalogue">Back to the catalogue</a>
</div>
</form>
${
  editing &&
  html`<section class="danger-zone" aria-labelledby="danger-title">
<h2 id="danger-title">Take off the storefront</h2>
<p>Deactivating the product deactivates all its plans: no new sales; licenses keep working.</p>
<p><a class="button" href="${frame.base}/catalogue/products/${page.productId}/deactivate">Deactivate this product…</a></p>
</section>`
}`;
  return adminLayout(
    { ...frame, current: 'catalogue' },
    { title, body, hasErrors: errors.length > 0 },
  );
}

const INTERVALS: readonly [string, string][] = [
  ['month', 'Monthly'],
  ['year', 'Yearly'],
  ['once', 'One payment'],
];

export function planFormPage(
  frame: Frame,
  page: {
    productId: string;
    planId: string | undefined;
    active: boolean;
    values: Fields;
    errors: readonly FieldError[];
  },
): SafeHtml {
  const { productId, planId, errors, values } = page;
  const editing = planId !== undefined;
  const title = editing ? `Edit plan ${planId} of ${productId}` : `Add a plan to ${productId}`;
  const action = editing
    ? `${frame.base}/catalogue/products/${productId}/plans/${planId}`
    : `${frame.base}/catalogue/products/${productId}/plans`;
  const body = html`<h1>${title}</h1>
${errorSummary(errors)}
${editing && !page.active && html`<p class="warning">This plan is inactive. Saving it puts it back on sale.</p>`}
<form method="post" action="${action}" novalidate>
${csrfField(frame.csrfToken)}
${!editing && textField(errors, values, 'id', 'Plan id', { hint: 'Lower-case letters, digits and dashes, e.g. pro-monthly. It cannot change later.', maxlength: 63 })}
${textField(errors, values, 'name', 'Name', { maxlength: 100 })}
${textArea(errors, values, 'description', 'Description (optional)')}
${textField(errors, values, 'price', 'Price', { hint: 'In the currency’s units with a dot for decimals, e.g. 15.00; 0 makes the plan free. Per seat when priced per seat.', inputmode: 'decimal' })}
${textField(errors, values, 'currency', 'Currency', { hint: 'A three-letter code: USD, EUR, JPY …', maxlength: 3 })}
<div class="field">
<label for="interval">Billing</label>
${fieldError(errors, 'interval')}
<select id="interval" name="interval"${attrs(describedBy(errors, 'interval'))}>
${INTERVALS.map(([value, label]) => html`<option value="${value}"${attrs({ selected: values.interval === value })}>${label}</option>\n`)}</select>
</div>
${textField(errors, values, 'termDays', 'Term in days (one-payment plans only)', { hint: 'Empty: the license never expires.', inputmode: 'numeric' })}
${textField(errors, values, 'trialDays', 'Free trial days', { inputmode: 'numeric' })}
${textField(errors, values, 'seats', 'Seats', { hint: 'Devices per license; the default seats of a per-seat plan.', inputmode: 'numeric' })}
<div class="field checkbox">
<input${attrs({ type: 'checkbox', id: 'perSeat', name: 'perSeat', value: 'yes', checked: values.perSeat === 'yes' })}>
<label for="perSeat">Priced per seat</label>
</div>
${textArea(errors, values, 'quotas', 'Quotas (JSON)', { hint: 'E.g. {"exports": {"limit": 100, "per": "month"}, "batch": {"unlimited": true}}. Empty for none.', code: true })}
${textField(errors, values, 'entitlements', 'Entitlements', { hint: 'Feature names, separated by commas.' })}
${textField(errors, values, 'graceDays', 'Grace days after the end of a period', { inputmode: 'numeric' })}
${textField(errors, values, 'position', 'Position on the storefront', { hint: 'Lower comes first.', inputmode: 'numeric' })}
<div class="actions">
<button type="submit">${editing ? 'Save the plan' : 'Add the plan'}</button>
<a href="${frame.base}/catalogue">Back to the catalogue</a>
</div>
</form>
${
  editing &&
  page.active &&
  html`<section class="danger-zone" aria-labelledby="danger-title">
<h2 id="danger-title">Take off the storefront</h2>
<p>Deactivating the plan stops new sales of it; licenses on it keep working.</p>
<p><a class="button" href="${frame.base}/catalogue/products/${productId}/plans/${planId}/deactivate">Deactivate this plan…</a></p>
</section>`
}`;
  return adminLayout(
    { ...frame, current: 'catalogue' },
    { title, body, hasErrors: errors.length > 0 },
  );
}

export function deactivateConfirmPage(
  frame: Frame,
  page: { what: string; action: string; back: string; consequence: string },
): SafeHtml {
  const title = `Deactivate ${page.what}?`;
  const body = html`<h1>${title}</h1>
<p class="warning">${page.consequence}</p>
<form method="post" action="${page.action}" data-submit-once>
${csrfField(frame.csrfToken)}
<input type="hidden" name="confirm" value="deactivate">
<div class="actions">
<button type="submit" class="danger">Deactivate</button>
<a href="${page.back}">Keep it on sale</a>
</div>
</form>`;
  return adminLayout({ ...frame, current: 'catalogue' }, { title, body });
}

export function signInPage(
  frame: AdminFrame,
  page: { csrfToken: string; errors: readonly FieldError[]; notice?: string | undefined },
): SafeHtml {
  const { errors } = page;
  const body = html`<h1>Sign in to the store admin</h1>
${notice(page.notice)}
${errorSummary(errors)}
<form method="post" action="${frame.base}/sign-in" novalidate>
<input type="hidden" name="csrf" value="${page.csrfToken}">
<div class="field">
<label for="token">Admin token</label>
<span class="hint" id="token-hint">The store’s admin token (LICENSEKIT_ADMIN_TOKEN, or the file admin-token in its data directory). It is checked once and never stored in your browser: a session cookie is.</span>
${fieldError(errors, 'token')}
<input${attrs({ type: 'password', id: 'token', name: 'token', autocomplete: 'current-password', spellcheck: 'false', ...describedBy(errors, 'token', 'token-hint') })}>
</div>
<div class="actions"><button type="submit">Sign in</button></div>
</form>`;
  return adminLayout(frame, { title: 'Sign in', body, hasErrors: errors.length > 0 });
}
