import type { FastifyReply } from 'fastify';
import { invoicePdf } from '../../marketplace/invoice-pdf.js';
import type { Invoice } from '../../marketplace/invoices.js';

/**
 * A document's PDF as a download named by its number, for the portal and the vendor
 * dashboard. `no-store` like every page: it names a customer.
 */
export async function sendDocumentPdf(
  reply: FastifyReply,
  invoice: Invoice,
): Promise<FastifyReply> {
  const pdf = await invoicePdf(invoice);
  return reply
    .header('content-type', 'application/pdf')
    .header('cache-control', 'no-store')
    .header('content-disposition', `attachment; filename="${invoice.number}.pdf"`)
    .send(pdf);
}
