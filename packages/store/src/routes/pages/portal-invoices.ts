import type { FastifyInstance, FastifyRequest } from 'fastify';
import { StoreError } from '../../errors.js';
import { storeContext } from '../../lib/store-context.js';
import type { Invoice } from '../../marketplace/invoices.js';
import { documentInReach, documentsInReach, portalReach } from '../../services/portal-reach.js';
import { invoicePage, invoicesPage } from '../../views/portal-invoices.js';
import { sendPage } from './http.js';
import { sendDocumentPdf } from './portal-invoices-pdf.js';
import { sessionOf } from './session.js';

/**
 * The customer's invoices and credit notes: the list, each one as a printable page and as
 * a PDF. Registered inside the portal plugin (its gate checks the session). A document out
 * of the session's reach (services/portal-reach.ts) is a 404 like an unknown one, so its
 * id says nothing about whether it exists.
 */
export default async function portalInvoiceRoutes(fastify: FastifyInstance) {
  const ctx = storeContext(fastify);
  const { config } = fastify;
  const portal = { schema: { hide: true }, config: { portal: true } };

  async function documentOf(request: FastifyRequest<{ Params: { id: string } }>): Promise<Invoice> {
    const reach = await portalReach(ctx, sessionOf(request)!);
    const invoice = await documentInReach(fastify.db, reach, request.params.id);
    if (!invoice) throw new StoreError('INVOICE_NOT_FOUND');
    return invoice;
  }

  fastify.get('/portal/invoices', portal, async (request, reply) => {
    const session = sessionOf(request)!;
    const reach = await portalReach(ctx, session);
    return sendPage(
      reply,
      200,
      invoicesPage({
        vendor: config.vendor,
        csrfToken: session.csrfToken,
        documents: await documentsInReach(fastify.db, reach),
        customerProven: reach.customerProven,
      }),
    );
  });

  fastify.get<{ Params: { id: string } }>(
    '/portal/invoices/:id',
    portal,
    async (request, reply) => {
      const invoice = await documentOf(request);
      return sendPage(
        reply,
        200,
        invoicePage({
          vendor: config.vendor,
          signedIn: { csrfToken: sessionOf(request)!.csrfToken },
          invoice,
          links: { pdf: `/portal/invoices/${invoice.id}/pdf`, back: '/portal/invoices' },
        }),
      );
    },
  );

  fastify.get<{ Params: { id: string } }>(
    '/portal/invoices/:id/pdf',
    portal,
    async (request, reply) => sendDocumentPdf(reply, await documentOf(request)),
  );
}
