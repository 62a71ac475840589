import { SCRIPT, STYLESHEET } from '../static/assets.js';
import type { HtmlValue, SafeHtml } from './html.js';
import { html } from './html.js';

/**
 * The skeleton every HTML page of the store shares (storefront and portal, admin screen,
 * vendor dashboard): lang="en", same-origin stylesheet and script only (so the strict CSP,
 * no inline script or style, holds), a skip link, a <header>, one <main> (the page's single
 * <h1> is in its body), a <footer>. Each set of pages fills in its header, footer and title.
 */
export interface PageShell {
  /** The whole <title>. */
  title: string;
  /** Pages outside the shop (admin, vendors) ask search engines to stay away. */
  noindex?: boolean;
  /** Stylesheets after the store's own. */
  stylesheets?: readonly string[];
  bodyClass?: string;
  /** What the <header> holds (brand, navigation, sign-out). */
  header: HtmlValue;
  /** What stands between the header and <main> (a banner), each line ended. */
  beforeMain?: HtmlValue;
  body: SafeHtml;
  /** What the <footer> holds. */
  footer: HtmlValue;
}

export function pageShell(shell: PageShell): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
${shell.noindex && html`<meta name="robots" content="noindex">\n`}<link rel="icon" href="data:,">
<title>${shell.title}</title>
<link rel="stylesheet" href="${STYLESHEET.href}">
${(shell.stylesheets ?? []).map((href) => html`<link rel="stylesheet" href="${href}">\n`)}<script src="${SCRIPT.href}" defer></script>
</head>
<body${shell.bodyClass !== undefined && html` class="${shell.bodyClass}"`}>
<a class="skip-link" href="#main">Skip to main content</a>
<header class="site-header">
${shell.header}
</header>
${shell.beforeMain}<main id="main" tabindex="-1">
${shell.body}
</main>
<footer class="site-footer">
${shell.footer}
</footer>
</body>
</html>
`;
}

/** The sign-out button of a signed-in header: a POST form with the session's CSRF token. */
export function signOutForm(action: string, csrfToken: string): SafeHtml {
  return html`<form method="post" action="${action}">
<input type="hidden" name="csrf" value="${csrfToken}">
<button type="submit" class="secondary">Sign out</button>
</form>`;
}
