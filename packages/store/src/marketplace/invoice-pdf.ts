/**
 * An invoice or credit note as PDF (PDFKit, pure JavaScript, its built-in Helvetica: no
 * font file to ship). The text is real text, so it can be searched, copied and read by
 * tests; the layout follows the HTML page (views/invoice.ts).
 */
import PDFDocument from 'pdfkit';
import { formatMoney } from '../views/format.js';
import type { Invoice, Party } from './invoices.js';

/** Helvetica in PDFKit covers WinAnsi only: anything else prints as "?" rather than tofu. */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e\u00a0-\u00ff\u2013\u2014\u20ac]/g, '?');
}

function partyLines(party: Party): string[] {
  return [
    party.name,
    party.address,
    party.taxId && `Tax id ${party.taxId}`,
    party.email !== party.name && party.email,
  ]
    .filter((line): line is string => typeof line === 'string' && line.length > 0)
    .map(printable);
}

export function invoicePdf(invoice: Invoice): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: 50,
    info: { Title: `${invoice.kind === 'invoice' ? 'Invoice' : 'Credit note'} ${invoice.number}` },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const money = (amount: number) => printable(formatMoney(amount, invoice.currency));
  const title = invoice.kind === 'invoice' ? 'Invoice' : 'Credit note';

  doc.font('Helvetica-Bold').fontSize(20).text(`${title} ${invoice.number}`);
  if (invoice.test)
    doc
      .fontSize(10)
      .fillColor('#a00')
      .text('TEST MODE - no money moved for this document.')
      .fillColor('#000');
  doc.moveDown(0.5).font('Helvetica').fontSize(10);
  doc.text(`Issued: ${invoice.issuedAt.toISOString().slice(0, 10)}`);
  doc.text(`Order: ${invoice.orderId}`);
  if (invoice.correctsNumber) doc.text(`Corrects: ${invoice.correctsNumber}`);

  const top = doc.moveDown(1).y;
  doc.font('Helvetica-Bold').text('Seller', 50, top);
  doc
    .font('Helvetica')
    .text(
      [...partyLines(invoice.seller), `Sold through ${printable(invoice.seller.marketplace)}`].join(
        '\n',
      ),
      50,
      doc.y,
      { width: 230 },
    );
  const leftEnd = doc.y;
  doc.font('Helvetica-Bold').text('Buyer', 310, top);
  doc.font('Helvetica').text(partyLines(invoice.buyer).join('\n'), 310, doc.y, { width: 230 });
  doc.y = Math.max(leftEnd, doc.y) + 20;

  const row = (cells: [string, string, string], bold = false) => {
    const y = doc.y;
    doc.font(bold ? 'Helvetica-Bold' : 'Helvetica');
    doc.text(cells[0], 50, y, { width: 330 });
    const after = doc.y;
    doc.text(cells[1], 390, y, { width: 40, align: 'right' });
    doc.text(cells[2], 440, y, { width: 105, align: 'right' });
    doc.y = Math.max(after, doc.y) + 4;
  };
  row(['Description', 'Qty', 'Amount'], true);
  for (const line of invoice.lines)
    row([printable(line.description), String(line.quantity), money(line.amount)]);
  doc.moveDown(0.5);
  row(['Net', '', money(invoice.net)]);
  row([`Tax (${(invoice.taxRateBps / 100).toFixed(2)} %)`, '', money(invoice.tax)]);
  row([`Total (${invoice.currency})`, '', money(invoice.total)], true);
  doc.moveDown(1).font('Helvetica').fontSize(8).text('Amounts include tax.', 50);
  doc.end();
  return done;
}
