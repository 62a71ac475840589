import type { Invoice } from '../marketplace/invoices.js';
import { formatMoney } from './format.js';
import type { SafeHtml } from './html.js';
import { html } from './html.js';

/**
 * An invoice or credit note as a page section: what the PDF shows, in the same order, so
 * the printed page and the download agree. Amounts are tax included (README "Marketplace").
 */
export function invoiceTitle(invoice: Invoice): string {
  return `${invoice.kind === 'invoice' ? 'Invoice' : 'Credit note'} ${invoice.number}`;
}

export function invoiceSection(invoice: Invoice, links: { pdf: string; back?: string }): SafeHtml {
  const money = (amount: number) => formatMoney(amount, invoice.currency);
  const party = (p: Invoice['buyer']) =>
    html`${p.name}${p.address && html`<br>${p.address}`}${
      p.taxId && html`<br>Tax id ${p.taxId}`
    }${p.email && p.email !== p.name && html`<br>${p.email}`}`;
  return html`<article class="invoice" aria-labelledby="invoice-title">
<h1 id="invoice-title">${invoiceTitle(invoice)}</h1>
${invoice.test && html`<p class="test-banner" role="note"><strong>TEST MODE</strong> – no money moved for this document.</p>`}
<dl class="invoice-meta">
<dt>Number</dt><dd>${invoice.number}</dd>
<dt>Issued</dt><dd>${invoice.issuedAt.toISOString().slice(0, 10)}</dd>
<dt>Order</dt><dd><code>${invoice.orderId}</code></dd>
${invoice.correctsNumber && html`<dt>Corrects</dt><dd>${invoice.correctsNumber}</dd>`}
</dl>
<div class="invoice-parties">
<section><h2>Seller</h2><p>${party(invoice.seller)}<br>Sold through ${invoice.seller.marketplace}</p></section>
<section><h2>Buyer</h2><p>${party(invoice.buyer)}</p></section>
</div>
<div class="table-scroll">
<table>
<caption>Lines, tax included</caption>
<thead><tr><th scope="col">Description</th><th scope="col">Qty</th><th scope="col">Amount</th></tr></thead>
<tbody>
${invoice.lines.map(
  (line) =>
    html`<tr><td>${line.description}</td><td>${line.quantity}</td><td>${money(line.amount)}</td></tr>`,
)}
</tbody>
<tfoot>
<tr><th scope="row" colspan="2">Net</th><td>${money(invoice.net)}</td></tr>
<tr><th scope="row" colspan="2">Tax (${(invoice.taxRateBps / 100).toFixed(2)} %)</th><td>${money(invoice.tax)}</td></tr>
<tr><th scope="row" colspan="2">Total (${invoice.currency})</th><td><strong>${money(invoice.total)}</strong></td></tr>
</tfoot>
</table>
</div>
<p><a href="${links.pdf}" download>Download PDF</a>${links.back && html` · <a href="${links.back}">Back</a>`}</p>
</article>`;
}
