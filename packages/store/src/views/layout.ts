import type { HtmlValue, SafeHtml } from './html.js';
import { html } from './html.js';
import { pageShell, signOutForm } from './page-shell.js';

/**
 * The one layout of every page: lang="en", a skip link, <header> with the navigation,
 * one <main> (the page's single <h1> is in its body), <footer>. The stylesheet and the
 * script are same-origin files, so the strict CSP (no inline script or style) holds.
 */
export interface LayoutOptions {
  title: string;
  body: SafeHtml;
  /** The vendor id: the brand in the header. */
  vendor: string;
  /** Shows the TEST MODE banner (a page about test-provider orders or licenses). */
  testMode?: boolean;
  /** Signed in to the portal: a sign-out button (a POST form with the session's CSRF token). */
  signedIn?: { csrfToken: string } | undefined;
  /** The page reports errors: the title says so first (screen readers read it on load). */
  hasErrors?: boolean;
}

export function layout(options: LayoutOptions): SafeHtml {
  const title = `${options.hasErrors ? 'Error: ' : ''}${options.title} – ${options.vendor} store`;
  return pageShell({
    title,
    header: html`<a class="brand" href="/">${options.vendor} store</a>
<nav aria-label="Main">
<ul>
<li><a href="/">Products</a></li>
<li><a href="/portal">${options.signedIn ? 'Your license' : 'Customer portal'}</a></li>
</ul>
</nav>
${options.signedIn && signOutForm('/portal/sign-out', options.signedIn.csrfToken)}`,
    beforeMain: html`${
      options.testMode &&
      html`<p class="test-banner" role="note"><strong>TEST MODE</strong> – orders use the test payment provider: they are paid at once and no money moves.</p>`
    }\n`,
    body: options.body,
    footer: html`<p>Licenses from this store are signed tokens your app checks offline. <a href="/docs">API</a></p>`,
  });
}

/** A field's problem, linked from the error summary to the field's id. */
export interface FieldError {
  /** The id of the input (for a radio group: its first radio); absent for the whole form. */
  field?: string | undefined;
  message: string;
}

/** The error summary at the top of a form (GOV.UK pattern): each entry links to its field. */
export function errorSummary(errors: readonly FieldError[]): HtmlValue {
  if (errors.length === 0) return '';
  return html`<div class="error-summary" role="alert" tabindex="-1" aria-labelledby="error-summary-title">
<h2 id="error-summary-title">There is a problem</h2>
<ul>
${errors.map((error) =>
  error.field === undefined
    ? html`<li>${error.message}</li>\n`
    : html`<li><a href="#${error.field}">${error.message}</a></li>\n`,
)}
</ul>
</div>`;
}

/** The message of the error of `field`, shown above the input (referenced by aria-describedby). */
export function fieldError(errors: readonly FieldError[], field: string): HtmlValue {
  const error = errors.find((candidate) => candidate.field === field);
  return (
    error &&
    html`<p class="field-error" id="${field}-error"><span class="visually-hidden">Error: </span>${error.message}</p>`
  );
}

/** Attributes that tie an input to its hint and error. */
export function describedBy(
  errors: readonly FieldError[],
  field: string,
  hint?: string,
): { 'aria-describedby'?: string; 'aria-invalid'?: 'true' } {
  const invalid = errors.some((error) => error.field === field);
  const ids = [hint, invalid ? `${field}-error` : undefined].filter(Boolean).join(' ');
  return {
    ...(ids && { 'aria-describedby': ids }),
    ...(invalid && { 'aria-invalid': 'true' as const }),
  };
}

/** A status message after an action (role="status": announced without moving focus). */
export function notice(message: HtmlValue): HtmlValue {
  return message ? html`<div class="notice" role="status">${message}</div>` : '';
}
