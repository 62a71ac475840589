import type { CustomerLicense } from '../services/portal-reach.js';
import { statusLabel, time } from './format.js';
import type { HtmlValue, SafeHtml } from './html.js';
import { html } from './html.js';
import { layout, notice } from './layout.js';

/**
 * The portal's pages beyond one license: the navigation between them, and the list of the
 * customer's licenses across vendors (services/portal-reach.ts decides which are listed).
 */

export type PortalSection = 'license' | 'licenses' | 'invoices';

const SECTIONS: readonly [PortalSection, string, string][] = [
  ['license', '/portal/license', 'This license'],
  ['licenses', '/portal/licenses', 'All your licenses'],
  ['invoices', '/portal/invoices', 'Invoices'],
];

/** The portal's own navigation (a second, labelled <nav> under the page's heading). */
export function portalNav(current: PortalSection): SafeHtml {
  return html`<nav class="portal-nav" aria-label="Your account">
<ul>
${SECTIONS.map(
  ([section, href, label]) =>
    html`<li><a href="${href}"${section === current ? html` aria-current="page"` : ''}>${label}</a></li>\n`,
)}</ul>
</nav>`;
}

/** Said where a key session sees less than the whole customer. */
export function provenHint(what: string): HtmlValue {
  return html`<p class="hint">You signed in with a license key, so only ${what} of this license ${what === 'the invoices' ? 'are' : 'is'} shown. To see ${what === 'the invoices' ? 'every invoice' : 'all your licenses'}, from every vendor of this store, <a href="/portal/email">sign in with an e-mail link</a>.</p>`;
}

export function licensesPage(options: {
  vendor: string;
  csrfToken: string;
  licenses: CustomerLicense[];
  currentId: string;
  customerProven: boolean;
  notice?: string | undefined;
}): SafeHtml {
  const { licenses, csrfToken } = options;
  return layout({
    title: 'Your licenses',
    vendor: options.vendor,
    signedIn: { csrfToken },
    testMode: licenses.some((license) => license.test),
    body: html`<h1>Your licenses</h1>
${portalNav('licenses')}
${notice(options.notice)}
${!options.customerProven && provenHint('this license')}
<div class="table-scroll" role="region" aria-labelledby="licenses-caption" tabindex="0">
<table>
<caption id="licenses-caption">Licenses of your e-mail address, newest first</caption>
<thead><tr><th scope="col">Product</th><th scope="col">Sold by</th><th scope="col">Plan</th><th scope="col">Status</th><th scope="col">Key ends in</th><th scope="col">Since</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
<tbody>
${licenses.map(
  (license) => html`<tr>
<th scope="row">${license.productName}${license.test && html` <span class="tag">test</span>`}</th>
<td>${license.vendorName}</td>
<td>${license.planName}</td>
<td>${statusLabel(license.status)}</td>
<td><code>${license.keyHint}</code></td>
<td>${time(license.createdAt, { dateOnly: true })}</td>
<td>${
    license.id === options.currentId
      ? html`<a href="/portal/license" aria-current="true">This license<span class="visually-hidden">: ${license.productName}, open now</span></a>`
      : html`<form method="post" action="/portal/licenses/open">
<input type="hidden" name="csrf" value="${csrfToken}">
<input type="hidden" name="licenseId" value="${license.id}">
<button type="submit" class="link">Open<span class="visually-hidden"> ${license.productName} (${license.planName})</span></button>
</form>`
  }</td>
</tr>
`,
)}</tbody>
</table>
</div>`,
  });
}
