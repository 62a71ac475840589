import type { SafeHtml } from './html.js';
import { html } from './html.js';
import { layout } from './layout.js';

/** Headings of the error pages, by status. */
const TITLES: Record<number, string> = {
  400: 'Something in the request is not right',
  401: 'Please sign in',
  402: 'Payment required',
  403: 'This action is not allowed',
  404: 'Page not found',
  409: 'That is not possible right now',
  413: 'The form was too large',
  415: 'The form could not be read',
  416: 'The requested range is not available',
  429: 'Too many attempts',
  500: 'Something went wrong',
  503: 'The store is not available right now',
};

export interface ErrorPageOptions {
  status: number;
  vendor: string;
  /** What happened, for the customer (never internals: 5xx pages pass none). */
  message?: string | undefined;
  /** A way on: subscribe (402), sign in (401), back to the portal … */
  link?: { href: string; text: string } | undefined;
  signedIn?: { csrfToken: string } | undefined;
  testMode?: boolean;
}

export function errorPage(options: ErrorPageOptions): SafeHtml {
  const title = TITLES[options.status] ?? (options.status >= 500 ? TITLES[500]! : TITLES[400]!);
  const message =
    options.status >= 500
      ? 'The store could not finish this request. Please try again in a moment.'
      : options.message;
  const link = options.link ?? { href: '/', text: 'Go to the products' };
  return layout({
    title,
    vendor: options.vendor,
    signedIn: options.signedIn,
    testMode: options.testMode ?? false,
    body: html`<h1>${title}</h1>
${message && html`<p class="lead">${message}</p>`}
${options.status === 429 && html`<p>Wait a minute, then try again.</p>`}
<p><a href="${link.href}">${link.text}</a></p>`,
  });
}
