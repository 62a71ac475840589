import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { StoreError } from '../../errors.js';
import { vendorScope } from '../../lib/auth.js';
import { invoicePdf } from '../../marketplace/invoice-pdf.js';
import { type Invoice, invoiceById, listInvoices } from '../../marketplace/invoices.js';
import {
  confirmPayout,
  listPayouts,
  type Payout,
  payoutById,
  payoutStatement,
  runPayouts,
  statementCsv,
  vendorBalances,
} from '../../marketplace/payouts.js';
import {
  assignProduct,
  createVendor,
  listVendors,
  updateVendor,
  type Vendor,
  vendorById,
} from '../../marketplace/vendors.js';
import {
  ADMIN_ROUTE,
  ADMIN_VALIDATED,
  ADMIN_WRITE,
  LimitQuery,
  OrderId,
  pageLimit,
} from '../../schemas/admin.js';
import { described, Identifier } from '../../schemas/common.js';
import { errorResponses } from '../../schemas/error-responses.js';
import {
  AdminInvoice,
  AdminPayout,
  AdminVendor,
  InvoiceId,
  PayoutId,
  StatementLine,
  VendorId,
  VendorTerms,
} from '../../schemas/marketplace.js';
import { assertVendorInScope, VENDOR_ACCESS } from './scope.js';

function vendorJson(vendor: Vendor) {
  return { ...vendor, createdAt: vendor.createdAt.toISOString() };
}

function payoutJson(payout: Payout) {
  return {
    ...payout,
    cutoff: payout.cutoff.toISOString(),
    createdAt: payout.createdAt.toISOString(),
    paidAt: payout.paidAt?.toISOString() ?? null,
  };
}

/** The PDF of a document as a download named by its number (admin API and portal). */
export async function sendInvoicePdf(reply: FastifyReply, invoice: Invoice): Promise<FastifyReply> {
  const pdf = await invoicePdf(invoice);
  reply.header('content-type', 'application/pdf');
  reply.header('content-disposition', `attachment; filename="${invoice.number}.pdf"`);
  return reply.send(pdf);
}

export function invoiceJson(invoice: Invoice) {
  return { ...invoice, issuedAt: invoice.issuedAt.toISOString() };
}

/**
 * The marketplace under /v1/admin: vendors, payout runs and statements, invoices. A vendor
 * token reads its own vendor record, payouts and invoices (another vendor's: not found);
 * everything that changes terms or moves money is the operator's.
 */
export default async function marketplace(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['admin: marketplace'];
  const security = [{ bearer: [] }];
  const now = () => fastify.clock.now();

  fastify.get(
    '/v1/admin/vendors',
    {
      schema: {
        tags,
        summary: 'Vendors with their terms',
        security,
        response: {
          200: Type.Object({ vendors: Type.Array(AdminVendor) }, { description: 'Every vendor.' }),
          ...errorResponses(...ADMIN_ROUTE),
        },
      },
    },
    async () => ({ vendors: (await listVendors(fastify.db)).map(vendorJson) }),
  );

  fastify.post(
    '/v1/admin/vendors',
    {
      schema: {
        tags,
        summary: 'Create a vendor (share 7500 bps and a 22-business-day hold unless given)',
        security,
        body: Type.Object(
          {
            id: VendorId,
            name: VendorTerms.name,
            shareBps: Type.Optional(VendorTerms.shareBps),
            holdDays: Type.Optional(VendorTerms.holdDays),
            invoiceDetails: Type.Optional(VendorTerms.invoiceDetails),
          },
          { additionalProperties: false },
        ),
        response: {
          201: described(AdminVendor, 'The vendor.'),
          ...errorResponses(...ADMIN_WRITE, { 409: ['CONFLICT'] }),
        },
      },
    },
    async (request, reply) => {
      const vendor = await createVendor(fastify.db, request.body, now());
      reply.code(201);
      return vendorJson(vendor);
    },
  );

  fastify.get(
    '/v1/admin/vendors/:vendorId',
    {
      config: VENDOR_ACCESS,
      schema: {
        tags,
        summary: 'A vendor with its balances (available, on hold, in payouts, paid out)',
        security,
        params: Type.Object({ vendorId: VendorId }),
        response: {
          200: described(AdminVendor, 'The vendor and its balances per currency and mode.'),
          ...errorResponses(...ADMIN_VALIDATED, { 404: ['VENDOR_NOT_FOUND'] }),
        },
      },
    },
    async (request) => {
      assertVendorInScope(request, request.params.vendorId, 'VENDOR_NOT_FOUND');
      const vendor = await vendorById(fastify.db, request.params.vendorId);
      if (!vendor) throw new StoreError('VENDOR_NOT_FOUND');
      const balances = await vendorBalances(fastify.db, vendor.id, now());
      return {
        ...vendorJson(vendor),
        balances: balances.map((balance) => ({
          ...balance,
          nextPayableAt: balance.nextPayableAt?.toISOString() ?? null,
        })),
      };
    },
  );

  fastify.patch(
    '/v1/admin/vendors/:vendorId',
    {
      schema: {
        tags,
        summary: 'Change a vendor’s terms (new payments use them; booked ones keep theirs)',
        security,
        params: Type.Object({ vendorId: VendorId }),
        body: Type.Object(
          {
            name: Type.Optional(VendorTerms.name),
            shareBps: Type.Optional(VendorTerms.shareBps),
            holdDays: Type.Optional(VendorTerms.holdDays),
            invoiceDetails: Type.Optional(VendorTerms.invoiceDetails),
          },
          { additionalProperties: false },
        ),
        response: {
          200: described(AdminVendor, 'The vendor as changed.'),
          ...errorResponses(...ADMIN_WRITE, { 404: ['VENDOR_NOT_FOUND'] }),
        },
      },
    },
    async (request) =>
      vendorJson(await updateVendor(fastify.db, request.params.vendorId, request.body)),
  );

  fastify.put(
    '/v1/admin/products/:productId/vendor',
    {
      schema: {
        tags,
        summary: 'Move a product to a vendor',
        security,
        params: Type.Object({ productId: Identifier }),
        body: Type.Object({ vendorId: VendorId }, { additionalProperties: false }),
        response: {
          200: Type.Object(
            { productId: Type.String(), vendorId: Type.String() },
            { description: 'The product now sold by the vendor.' },
          ),
          ...errorResponses(...ADMIN_WRITE, { 404: ['PRODUCT_NOT_FOUND', 'VENDOR_NOT_FOUND'] }),
        },
      },
    },
    async (request) => {
      await assignProduct(fastify.db, request.params.productId, request.body.vendorId);
      // Its next token is signed by the new vendor's issuer, at once on this instance.
      fastify.keys.vendorKeys?.forget(request.params.productId);
      return { productId: request.params.productId, vendorId: request.body.vendorId };
    },
  );

  fastify.post(
    '/v1/admin/payouts/run',
    {
      schema: {
        tags,
        summary: 'Gather every balance whose hold has passed into pending payouts (idempotent)',
        security,
        body: Type.Optional(
          Type.Object({ vendorId: Type.Optional(VendorId) }, { additionalProperties: false }),
        ),
        response: {
          200: Type.Object(
            {
              cutoff: Type.String({ format: 'date-time' }),
              payouts: Type.Array(AdminPayout),
              carried: Type.Array(
                Type.Object({
                  vendorId: Type.String(),
                  currency: Type.String(),
                  test: Type.Boolean(),
                  balance: Type.Integer(),
                }),
              ),
            },
            { description: 'The payouts this run made, and negative balances carried forward.' },
          ),
          ...errorResponses(...ADMIN_WRITE),
        },
      },
    },
    async (request) => {
      const run = await runPayouts(fastify.db, { now: now(), vendorId: request.body?.vendorId });
      return {
        cutoff: run.cutoff.toISOString(),
        payouts: run.payouts.map(payoutJson),
        carried: run.carried,
      };
    },
  );

  fastify.get(
    '/v1/admin/payouts',
    {
      config: VENDOR_ACCESS,
      schema: {
        tags,
        summary: 'Payouts, newest first',
        security,
        querystring: Type.Object(
          { vendorId: Type.Optional(VendorId), limit: Type.Optional(LimitQuery) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ payouts: Type.Array(AdminPayout) }, { description: 'Payouts.' }),
          ...errorResponses(...ADMIN_VALIDATED),
        },
      },
    },
    async (request) => ({
      payouts: (
        await listPayouts(fastify.db, {
          // A vendor token lists its own payouts whatever vendorId it asks for.
          vendorId: vendorScope(request) ?? request.query.vendorId,
          limit: pageLimit(request.query.limit),
        })
      ).map(payoutJson),
    }),
  );

  fastify.get(
    '/v1/admin/payouts/:payoutId',
    {
      config: VENDOR_ACCESS,
      schema: {
        tags,
        summary: 'A payout and its statement (JSON; `?format=csv` for CSV)',
        security,
        params: Type.Object({ payoutId: PayoutId }),
        querystring: Type.Object(
          { format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])) },
          { additionalProperties: false },
        ),
        response: {
          200: {
            description: 'The payout and the ledger lines it pays.',
            content: {
              'application/json': {
                schema: Type.Object({ payout: AdminPayout, lines: Type.Array(StatementLine) }),
              },
              'text/csv': { schema: Type.String() },
            },
          },
          ...errorResponses(...ADMIN_VALIDATED, { 404: ['PAYOUT_NOT_FOUND'] }),
        },
      },
    },
    async (request, reply) => {
      const payout = await payoutById(fastify.db, request.params.payoutId);
      if (!payout) throw new StoreError('PAYOUT_NOT_FOUND');
      assertVendorInScope(request, payout.vendorId, 'PAYOUT_NOT_FOUND');
      const lines = await payoutStatement(fastify.db, payout.id);
      if (request.query.format === 'csv') {
        reply.header('content-type', 'text/csv; charset=utf-8');
        reply.header('content-disposition', `attachment; filename="${payout.id}.csv"`);
        return statementCsv(payout, lines);
      }
      return {
        payout: payoutJson(payout),
        lines: lines.map((line) => ({ ...line, bookedAt: line.bookedAt.toISOString() })),
      };
    },
  );

  fastify.post(
    '/v1/admin/payouts/:payoutId/confirm',
    {
      schema: {
        tags,
        summary: 'Mark a payout paid once the money was sent (books it; idempotent)',
        security,
        params: Type.Object({ payoutId: PayoutId }),
        body: Type.Object(
          { reference: Type.String({ minLength: 1, maxLength: 200 }) },
          { additionalProperties: false },
        ),
        response: {
          200: described(AdminPayout, 'The payout, paid.'),
          ...errorResponses(...ADMIN_WRITE, { 404: ['PAYOUT_NOT_FOUND'] }),
        },
      },
    },
    async (request) =>
      payoutJson(
        await confirmPayout(fastify.db, request.params.payoutId, {
          reference: request.body.reference,
          now: now(),
        }),
      ),
  );

  fastify.get(
    '/v1/admin/invoices',
    {
      config: VENDOR_ACCESS,
      schema: {
        tags,
        summary: 'Invoices and credit notes, newest first',
        security,
        querystring: Type.Object(
          {
            vendorId: Type.Optional(VendorId),
            orderId: Type.Optional(OrderId),
            limit: Type.Optional(LimitQuery),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ invoices: Type.Array(AdminInvoice) }, { description: 'Documents.' }),
          ...errorResponses(...ADMIN_VALIDATED),
        },
      },
    },
    async (request) => ({
      invoices: (
        await listInvoices(fastify.db, {
          vendorId: vendorScope(request) ?? request.query.vendorId,
          orderId: request.query.orderId,
          limit: pageLimit(request.query.limit),
        })
      ).map(invoiceJson),
    }),
  );

  fastify.get(
    '/v1/admin/invoices/:invoiceId',
    {
      config: VENDOR_ACCESS,
      schema: {
        tags,
        summary: 'One invoice or credit note (JSON; `?format=pdf` for the PDF)',
        security,
        params: Type.Object({ invoiceId: InvoiceId }),
        querystring: Type.Object(
          { format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('pdf')])) },
          { additionalProperties: false },
        ),
        response: {
          200: {
            description: 'The document as issued.',
            content: {
              'application/json': { schema: AdminInvoice },
              'application/pdf': { schema: { type: 'string', format: 'binary' } },
            },
          },
          ...errorResponses(...ADMIN_VALIDATED, { 404: ['INVOICE_NOT_FOUND'] }),
        },
      },
    },
    async (request, reply) => {
      const invoice = await invoiceById(fastify.db, request.params.invoiceId);
      if (!invoice) throw new StoreError('INVOICE_NOT_FOUND');
      assertVendorInScope(request, invoice.vendorId, 'INVOICE_NOT_FOUND');
      if (request.query.format === 'pdf') return sendInvoicePdf(reply, invoice);
      return invoiceJson(invoice);
    },
  );
}
