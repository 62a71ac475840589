import { ADMIN_STYLESHEET } from '../static/assets.js';
import type { HtmlValue, SafeHtml } from './html.js';
import { html } from './html.js';
import { pageShell, signOutForm } from './page-shell.js';

/**
 * The frame of every admin page: the same skeleton as the store's pages (lang, skip link,
 * header with navigation, one <main>, footer; same-origin stylesheet and script only), the
 * admin navigation instead of the shop's, and the sign-out form with the session's CSRF
 * token. `base` is where the screen is mounted (/admin for the operator), so the same
 * views can serve a vendor's screen mounted elsewhere.
 */

export type AdminSection = 'orders' | 'licenses' | 'webhooks' | 'catalogue' | 'activity';

export interface AdminFrame {
  vendor: string;
  /** The mount point: every link of the screen starts with it. */
  base: string;
  /** Signed in: the navigation and the sign-out form (with this CSRF token). */
  csrfToken?: string | undefined;
  current?: AdminSection | undefined;
}

const SECTIONS: readonly [AdminSection, string][] = [
  ['orders', 'Orders'],
  ['licenses', 'Licenses'],
  ['webhooks', 'Webhooks'],
  ['catalogue', 'Catalogue'],
  ['activity', 'Activity'],
];

export function adminLayout(
  frame: AdminFrame,
  page: { title: string; body: SafeHtml; hasErrors?: boolean },
): SafeHtml {
  const title = `${page.hasErrors ? 'Error: ' : ''}${page.title} – ${frame.vendor} store admin`;
  return pageShell({
    title,
    noindex: true,
    stylesheets: [ADMIN_STYLESHEET.href],
    bodyClass: 'admin',
    header: html`<a class="brand" href="${frame.base}">${frame.vendor} store admin</a>
${
  frame.csrfToken !== undefined &&
  html`<nav aria-label="Admin">
<ul>
${SECTIONS.map(
  ([section, label]) =>
    html`<li><a href="${frame.base}/${section}"${section === frame.current ? html` aria-current="page"` : ''}>${label}</a></li>\n`,
)}</ul>
</nav>
${signOutForm(`${frame.base}/sign-out`, frame.csrfToken)}`
}`,
    body: page.body,
    footer: html`<p>Store administration. Every change here is recorded in the <a href="${frame.base}/activity">activity log</a>. <a href="/docs">Admin API</a></p>`,
  });
}

/** Headings of the admin error pages, by status. */
const TITLES: Record<number, string> = {
  400: 'Something in the request is not right',
  401: 'Please sign in',
  403: 'This action is not allowed',
  404: 'Not found',
  409: 'That is not possible right now',
  413: 'The form was too large',
  415: 'The form could not be read',
  429: 'Too many attempts',
  500: 'Something went wrong',
  503: 'The store is not available right now',
};

export function adminErrorPage(
  frame: AdminFrame,
  error: { status: number; message?: string | undefined; link?: { href: string; text: string } },
): SafeHtml {
  const title = TITLES[error.status] ?? (error.status >= 500 ? TITLES[500]! : TITLES[400]!);
  const message =
    error.status >= 500
      ? 'The store could not finish this request. Nothing you can fix here: try again in a moment, and look at the store’s log if it stays.'
      : error.message;
  const link =
    error.link ??
    (frame.csrfToken !== undefined
      ? { href: `${frame.base}/orders`, text: 'Back to the orders' }
      : { href: frame.base, text: 'Sign in' });
  return adminLayout(frame, {
    title,
    body: html`<h1>${title}</h1>
${message && html`<p class="lead">${message}</p>`}
<p><a href="${link.href}">${link.text}</a></p>`,
  });
}

/** A status as a labelled badge (text, not colour alone, says the status). */
export function statusBadge(status: string): SafeHtml {
  const tone = BADGE_TONES[status] ?? 'neutral';
  return html`<span class="badge badge-${tone}">${status.replace(/_/g, ' ')}</span>`;
}

const BADGE_TONES: Record<string, string> = {
  paid: 'ok',
  active: 'ok',
  trialing: 'ok',
  delivered: 'ok',
  pending: 'wait',
  past_due: 'wait',
  refunded: 'bad',
  revoked: 'bad',
  failed: 'bad',
  cancelled: 'neutral',
  expired: 'neutral',
};

/** "Next page" when there is one: the same query with the cursor. */
export function nextPageLink(
  path: string,
  query: Record<string, string | undefined>,
  nextCursor: string | null,
): HtmlValue {
  if (!nextCursor) return '';
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value) params.set(name, value);
  params.set('cursor', nextCursor);
  return html`<p><a href="${path}?${params.toString()}" rel="next">Next page</a></p>`;
}

/** A hidden CSRF field. */
export function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="csrf" value="${token}">`;
}
