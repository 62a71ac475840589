import { statusLabel } from './format.js';
import type { SafeHtml } from './html.js';
import { attrs, html } from './html.js';
import type { FieldError } from './layout.js';
import { describedBy, errorSummary, fieldError, layout } from './layout.js';

/**
 * The portal's e-mail sign-in: ask for a link, "check your inbox" (the same page whether
 * or not the address is a customer's), the page a link opens (choose the license, then
 * Sign in — a POST, so a mail scanner that fetches the link does not use it up), and the
 * page of a link that is used or expired.
 */

export function emailSignInPage(options: {
  vendor: string;
  csrfToken: string;
  errors: FieldError[];
  /** What was typed, written back after an error (an address is no secret). */
  email?: string | undefined;
  /** False when the store sends no mail (no SMTP_URL): the form is not offered. */
  available: boolean;
  minutes: number;
}): SafeHtml {
  const { errors } = options;
  const title = 'Sign in with an e-mail link';
  const body = options.available
    ? html`<h1>${title}</h1>
<p>Lost your license key? Enter the e-mail address you bought the license with. If it belongs to a customer of this store, we send a sign-in link to it. In the portal you can then replace your license key.</p>
${errorSummary(errors)}
<form method="post" action="/portal/email" novalidate data-submit-once>
<input type="hidden" name="csrf" value="${options.csrfToken}">
<div class="field">
<label for="email">E-mail address</label>
<span class="hint" id="email-hint">The address of your order. The link works once, for ${options.minutes} minutes.</span>
${fieldError(errors, 'email')}
<input${attrs({
        type: 'email',
        id: 'email',
        name: 'email',
        autocomplete: 'email',
        spellcheck: 'false',
        required: true,
        maxlength: 254,
        value: options.email,
        ...describedBy(errors, 'email', 'email-hint'),
      })}>
</div>
<div class="actions"><button type="submit">Send me a sign-in link</button></div>
</form>
<p>Have your key? <a href="/portal">Sign in with your license key</a>.</p>`
    : html`<h1>${title}</h1>
<p>This store does not send e-mail, so it cannot send sign-in links. Sign in with your license key, or ask the vendor for help.</p>
<p><a href="/portal">Sign in with your license key</a></p>`;
  return layout({ title, vendor: options.vendor, hasErrors: errors.length > 0, body });
}

/** The answer to every accepted request: it never says whether the address is known. */
export function linkSentPage(options: {
  vendor: string;
  email: string;
  minutes: number;
  /** The store's mail goes to its development server: say where to read it. */
  devMail: boolean;
}): SafeHtml {
  const title = 'Check your e-mail';
  return layout({
    title,
    vendor: options.vendor,
    body: html`<h1>${title}</h1>
<div class="notice" role="status"><p>If <strong>${options.email}</strong> is the address of a customer of this store, a sign-in link is on its way to it.</p></div>
<p>The link works once, within ${options.minutes} minutes. Nothing arrived? Check the spam folder, or make sure it is the address you bought the license with, then <a href="/portal/email">ask for a new link</a>.</p>
${options.devMail && html`<p class="hint">Development: this store's mail is on its <a href="/dev/mail">development mail page</a>.</p>`}`,
  });
}

export function tooManyLinksPage(options: { vendor: string; retryAfterSeconds: number }): SafeHtml {
  const title = 'Too many sign-in links';
  const minutes = Math.max(1, Math.ceil(options.retryAfterSeconds / 60));
  return layout({
    title,
    vendor: options.vendor,
    body: html`<h1>${title}</h1>
<p class="lead">Sign-in links were asked for too often for this address or from your network.</p>
<p>Try again in ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}; a link sent earlier still works until it expires.</p>
<p><a href="/portal">Sign in with your license key</a></p>`,
  });
}

export interface LinkLicense {
  id: string;
  productName: string;
  planName: string;
  status: string;
  keyHint: string;
}

/** The page a sign-in link opens: which license to open, and the button that uses the link. */
export function signInLinkPage(options: {
  vendor: string;
  csrfToken: string;
  token: string;
  licenses: LinkLicense[];
}): SafeHtml {
  const title = 'Sign in to the customer portal';
  const only = options.licenses.length === 1;
  return layout({
    title,
    vendor: options.vendor,
    body: html`<h1>${title}</h1>
<p>Your e-mail link is valid. ${only ? 'Sign in to open your license.' : 'Choose the license to open, then sign in.'} The link works once: to open another license later, ask for a new link.</p>
<form method="post" action="/portal/link" data-submit-once>
<input type="hidden" name="csrf" value="${options.csrfToken}">
<input type="hidden" name="token" value="${options.token}">
<fieldset>
<legend>Your licenses</legend>
${options.licenses.map(
  (license, index) => html`<div class="plan-option">
<input${attrs({
    type: 'radio',
    name: 'licenseId',
    id: `license-${license.id}`,
    value: license.id,
    required: true,
    checked: index === 0,
  })}>
<label for="license-${license.id}">${license.productName} – ${license.planName} (${statusLabel(license.status)}), key ending in ${license.keyHint}</label>
</div>
`,
)}
</fieldset>
<div class="actions"><button type="submit">Sign in</button></div>
</form>`,
  });
}

export function linkUnusablePage(options: { vendor: string; minutes: number }): SafeHtml {
  const title = 'This sign-in link no longer works';
  return layout({
    title,
    vendor: options.vendor,
    body: html`<h1>${title}</h1>
<p class="lead">A sign-in link works once, for ${options.minutes} minutes, and signing in with one ends the others. This one has been used or has expired.</p>
<p><a href="/portal/email">Ask for a new sign-in link</a></p>`,
  });
}
