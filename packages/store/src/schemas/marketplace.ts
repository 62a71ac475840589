import { Type } from 'typebox';

/** Schemas of the marketplace's admin API (routes/admin/marketplace.ts). */

const DateTime = Type.String({ format: 'date-time' });
const NullableDateTime = Type.Union([DateTime, Type.Null()]);

export const VendorId = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' });
export const PayoutId = Type.String({ pattern: '^po_[A-Za-z0-9_-]{1,64}$' });
export const InvoiceId = Type.String({ pattern: '^(?:inv|crn)_[A-Za-z0-9_-]{1,64}$' });

const ShortText = (maxLength: number) => Type.String({ maxLength });

export const InvoiceDetails = Type.Object(
  {
    legalName: Type.Optional(ShortText(200)),
    address: Type.Optional(ShortText(500)),
    taxId: Type.Optional(ShortText(64)),
    email: Type.Optional(ShortText(320)),
  },
  { additionalProperties: false },
);

export const VendorTerms = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  shareBps: Type.Integer({
    minimum: 0,
    maximum: 10_000,
    description: 'Basis points: 7500 = 75 %.',
  }),
  holdDays: Type.Integer({
    minimum: 0,
    maximum: 2610,
    description: 'Payout hold in business days.',
  }),
  invoiceDetails: InvoiceDetails,
};

export const VendorBalance = Type.Object({
  currency: Type.String(),
  test: Type.Boolean(),
  available: Type.Integer(),
  onHold: Type.Integer(),
  inPayouts: Type.Integer(),
  paidOut: Type.Integer(),
  nextPayableAt: NullableDateTime,
});

export const AdminVendor = Type.Object({
  id: Type.String(),
  name: Type.String(),
  shareBps: Type.Integer(),
  holdDays: Type.Integer(),
  invoiceDetails: InvoiceDetails,
  createdAt: DateTime,
  balances: Type.Optional(Type.Array(VendorBalance)),
});

export const AdminPayout = Type.Object({
  id: Type.String(),
  vendorId: Type.String(),
  currency: Type.String(),
  amount: Type.Integer(),
  test: Type.Boolean(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('paid')]),
  cutoff: DateTime,
  reference: Type.String(),
  createdAt: DateTime,
  paidAt: NullableDateTime,
});

export const StatementLine = Type.Object({
  orderId: Type.Union([Type.String(), Type.Null()]),
  kind: Type.String(),
  amount: Type.Integer(),
  bookedAt: DateTime,
  invoiceNumber: Type.Union([Type.String(), Type.Null()]),
});

const Party = Type.Object({
  name: Type.String(),
  address: Type.Optional(Type.String()),
  taxId: Type.Optional(Type.String()),
  email: Type.Optional(Type.String()),
  marketplace: Type.Optional(Type.String()),
});

export const AdminInvoice = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('invoice'), Type.Literal('credit_note')]),
  number: Type.String(),
  orderId: Type.String(),
  refundId: Type.Union([Type.String(), Type.Null()]),
  corrects: Type.Union([Type.String(), Type.Null()]),
  correctsNumber: Type.Union([Type.String(), Type.Null()]),
  vendorId: Type.String(),
  customerId: Type.String(),
  currency: Type.String(),
  net: Type.Integer(),
  taxRateBps: Type.Integer(),
  tax: Type.Integer(),
  total: Type.Integer(),
  seller: Party,
  buyer: Party,
  lines: Type.Array(
    Type.Object({ description: Type.String(), quantity: Type.Integer(), amount: Type.Integer() }),
  ),
  test: Type.Boolean(),
  issuedAt: DateTime,
});
