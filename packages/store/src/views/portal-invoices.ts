import type { Invoice } from '../marketplace/invoices.js';
import { formatMoney, time } from './format.js';
import type { SafeHtml } from './html.js';
import { html } from './html.js';
import { invoiceSection, invoiceTitle } from './invoice.js';
import { layout } from './layout.js';
import { portalNav, provenHint } from './portal-licenses.js';

/** The customer's invoices and credit notes in the portal: the list, and one as a page. */

/** A table of documents with links to each one's page and PDF (portal and vendor dashboard). */
export function documentsTable(
  documents: readonly Invoice[],
  options: { base: string; caption: string; id: string; party: 'seller' | 'buyer' },
): SafeHtml {
  return html`<div class="table-scroll" role="region" aria-labelledby="${options.id}" tabindex="0">
<table>
<caption id="${options.id}">${options.caption}</caption>
<thead><tr><th scope="col">Document</th><th scope="col">Issued</th><th scope="col">${options.party === 'seller' ? 'Sold by' : 'Buyer'}</th><th scope="col">Total</th><th scope="col">PDF</th></tr></thead>
<tbody>
${documents.map(
  (document) => html`<tr>
<th scope="row"><a href="${options.base}/${document.id}">${invoiceTitle(document)}</a>${document.test && html` <span class="tag">test</span>`}</th>
<td>${time(document.issuedAt, { dateOnly: true })}</td>
<td>${options.party === 'seller' ? document.seller.name : document.buyer.name}</td>
<td class="meter">${formatMoney(document.total, document.currency)}</td>
<td><a href="${options.base}/${document.id}/pdf" download>PDF<span class="visually-hidden"> of ${invoiceTitle(document)}</span></a></td>
</tr>
`,
)}</tbody>
</table>
</div>`;
}

export function invoicesPage(options: {
  vendor: string;
  csrfToken: string;
  documents: Invoice[];
  customerProven: boolean;
}): SafeHtml {
  const { documents } = options;
  return layout({
    title: 'Your invoices',
    vendor: options.vendor,
    signedIn: { csrfToken: options.csrfToken },
    body: html`<h1>Your invoices</h1>
${portalNav('invoices')}
${!options.customerProven && provenHint('the invoices')}
${
  documents.length === 0
    ? html`<p>There are no invoices yet: a paid order gets one, a refund a credit note.</p>`
    : documentsTable(documents, {
        base: '/portal/invoices',
        caption: 'Invoices and credit notes, newest first',
        id: 'documents-caption',
        party: 'seller',
      })
}`,
  });
}

/** One document as a printable page (the print stylesheet hides the site's frame). */
export function invoicePage(options: {
  vendor: string;
  signedIn?: { csrfToken: string } | undefined;
  invoice: Invoice;
  links: { pdf: string; back: string };
}): SafeHtml {
  return layout({
    title: invoiceTitle(options.invoice),
    vendor: options.vendor,
    signedIn: options.signedIn,
    body: invoiceSection(options.invoice, options.links),
  });
}
