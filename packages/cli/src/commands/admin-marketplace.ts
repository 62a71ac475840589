import { adminClient } from '../lib/admin-client.js';
import { EXIT, quote, UsageError } from '../lib/errors.js';
import type { Io } from '../lib/io.js';
import type { AdminFlags } from './admin.js';

/**
 * `licensekit admin vendors …` and `licensekit admin payouts …`: the marketplace part of a
 * running store's admin API (routes/admin/marketplace.ts in the store), over HTTP like the
 * other `admin` commands. Amounts are printed in minor units with their currency, as the
 * API gives them, so what the terminal shows adds up exactly.
 */

export interface VendorCreateFlags extends AdminFlags {
  name: string;
  id?: string;
  shareBps?: string;
  holdDays?: string;
}

export interface PayoutRunFlags extends AdminFlags {
  dryRun?: boolean;
  vendor?: string;
}

export interface PayoutConfirmFlags extends AdminFlags {
  reference?: string;
}

export interface PayoutShowFlags extends AdminFlags {
  format?: string;
}

interface Vendor {
  id: string;
  name: string;
  shareBps: number;
  holdDays: number;
  balances?: Balance[];
}

interface Balance {
  currency: string;
  test: boolean;
  available: number;
  onHold: number;
  inPayouts: number;
  paidOut: number;
  nextPayableAt: string | null;
}

interface Payout {
  id: string;
  vendorId: string;
  currency: string;
  amount: number;
  test: boolean;
  status: 'pending' | 'paid';
  cutoff: string;
  reference: string;
  paidAt: string | null;
}

interface StatementLine {
  orderId: string | null;
  kind: string;
  amount: number;
  bookedAt: string;
  invoiceNumber: string | null;
}

interface Carried {
  vendorId: string;
  currency: string;
  test: boolean;
  balance: number;
}

const VENDOR_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const PAYOUT_ID = /^po_[A-Za-z0-9_-]{1,64}$/;

/** A whole number flag within bounds, or a usage error naming the flag. */
function bounded(text: string | undefined, flag: string, max: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,6}$/.test(text) || Number(text) > max)
    throw new UsageError(`${flag} ${quote(text)} is not a whole number from 0 to ${max}`);
  return Number(text);
}

/**
 * A vendor id from its name when --id is not given: lowercase letters and digits, runs of
 * anything else as one hyphen ("Acme Tools, Inc." → "acme-tools-inc").
 */
export function vendorIdFrom(name: string): string {
  const id = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  if (!VENDOR_ID.test(id))
    throw new UsageError(`cannot make a vendor id from --name ${quote(name)}: pass --id`);
  return id;
}

function print(io: Io, flags: AdminFlags, value: unknown, summary: () => string): number {
  io.out(flags.json ? `${JSON.stringify(value, null, 2)}\n` : `${summary()}\n`);
  return EXIT.ok;
}

const money = (amount: number, currency: string, test: boolean) =>
  `${amount} ${currency}${test ? ' (test)' : ''}`;

const percent = (bps: number) => `${(bps / 100).toFixed(2)} %`;

function payoutLine(payout: Payout): string {
  return `${payout.id}  ${payout.vendorId}  ${money(payout.amount, payout.currency, payout.test)}  ${payout.status}${payout.reference ? `  ref ${payout.reference}` : ''}`;
}

function carriedLine(carried: Carried): string {
  return `carried forward: ${carried.vendorId} owes ${money(-carried.balance, carried.currency, carried.test)} (refunds after a payout; taken from its next payout)`;
}

export async function createVendor(flags: VendorCreateFlags, io: Io): Promise<number> {
  const name = flags.name.trim();
  if (name.length === 0 || name.length > 200)
    throw new UsageError('--name must be 1 to 200 characters');
  const id = flags.id ?? vendorIdFrom(name);
  if (!VENDOR_ID.test(id))
    throw new UsageError(
      `--id ${quote(id)} is not a vendor id (lowercase letters, digits and -, up to 63)`,
    );
  const shareBps = bounded(flags.shareBps, '--share-bps', 10_000);
  const holdDays = bounded(flags.holdDays, '--hold-days', 2610);
  const body = {
    id,
    name,
    ...(shareBps !== undefined && { shareBps }),
    ...(holdDays !== undefined && { holdDays }),
  };
  const vendor = (await (
    await adminClient(flags)
  ).request('POST', '/v1/admin/vendors', body)) as Vendor;
  return print(
    io,
    flags,
    vendor,
    () =>
      `vendor ${vendor.id} created: ${vendor.name}, share ${percent(vendor.shareBps)} (${vendor.shareBps} bps) to the vendor, payout hold ${vendor.holdDays} business days`,
  );
}

export async function listVendors(flags: AdminFlags, io: Io): Promise<number> {
  const reply = (await (await adminClient(flags)).request('GET', '/v1/admin/vendors')) as {
    vendors: Vendor[];
  };
  return print(io, flags, reply, () =>
    reply.vendors.length === 0
      ? 'no vendors'
      : reply.vendors
          .map(
            (vendor) =>
              `${vendor.id}  ${vendor.name}  share ${vendor.shareBps} bps  hold ${vendor.holdDays} business days`,
          )
          .join('\n'),
  );
}

/**
 * What a run would pay now, without making payouts: the vendors' available balances (the
 * same lines a run gathers: hold passed, in no payout yet), positive ones paid, negative
 * ones carried forward.
 */
async function previewRun(flags: PayoutRunFlags): Promise<{
  dryRun: true;
  payouts: Omit<Payout, 'id' | 'status' | 'cutoff' | 'reference' | 'paidAt'>[];
  carried: Carried[];
}> {
  const client = await adminClient(flags);
  const { vendors } = (await client.request('GET', '/v1/admin/vendors')) as { vendors: Vendor[] };
  const payouts: { vendorId: string; currency: string; amount: number; test: boolean }[] = [];
  const carried: Carried[] = [];
  for (const vendor of vendors) {
    if (flags.vendor !== undefined && vendor.id !== flags.vendor) continue;
    const detail = (await client.request(
      'GET',
      `/v1/admin/vendors/${encodeURIComponent(vendor.id)}`,
    )) as Vendor;
    for (const balance of detail.balances ?? []) {
      const group = { vendorId: vendor.id, currency: balance.currency, test: balance.test };
      if (balance.available > 0) payouts.push({ ...group, amount: balance.available });
      else if (balance.available < 0) carried.push({ ...group, balance: balance.available });
    }
  }
  return { dryRun: true, payouts, carried };
}

export async function runPayouts(flags: PayoutRunFlags, io: Io): Promise<number> {
  if (flags.vendor !== undefined && !VENDOR_ID.test(flags.vendor))
    throw new UsageError(`--vendor ${quote(flags.vendor)} is not a vendor id`);
  if (flags.dryRun) {
    const preview = await previewRun(flags);
    return print(io, flags, preview, () =>
      [
        preview.payouts.length === 0
          ? 'dry run: no balance is due'
          : `dry run: a payout run now would pay\n${preview.payouts.map((p) => `  ${p.vendorId}  ${money(p.amount, p.currency, p.test)}`).join('\n')}`,
        ...preview.carried.map(carriedLine),
      ].join('\n'),
    );
  }
  const body = flags.vendor !== undefined ? { vendorId: flags.vendor } : {};
  const run = (await (await adminClient(flags)).request('POST', '/v1/admin/payouts/run', body)) as {
    cutoff: string;
    payouts: Payout[];
    carried: Carried[];
  };
  return print(io, flags, run, () =>
    [
      run.payouts.length === 0
        ? `no payout made (cut-off ${run.cutoff}): nothing due that is not in a payout already`
        : `${run.payouts.length} payout${run.payouts.length === 1 ? '' : 's'} pending (cut-off ${run.cutoff}); send the money, then confirm each:\n${run.payouts.map((payout) => `  ${payoutLine(payout)}`).join('\n')}`,
      ...run.carried.map(carriedLine),
    ].join('\n'),
  );
}

function payoutId(id: string): string {
  if (!PAYOUT_ID.test(id)) throw new UsageError(`${quote(id)} is not a payout id (po_…)`);
  return id;
}

export async function confirmPayout(
  id: string,
  flags: PayoutConfirmFlags,
  io: Io,
): Promise<number> {
  const reference = (flags.reference ?? 'confirmed with the licensekit CLI').trim();
  if (reference.length === 0 || reference.length > 200)
    throw new UsageError('--reference must be 1 to 200 characters');
  const payout = (await (
    await adminClient(flags)
  ).request('POST', `/v1/admin/payouts/${encodeURIComponent(payoutId(id))}/confirm`, {
    reference,
  })) as Payout;
  return print(
    io,
    flags,
    payout,
    () =>
      `payout ${payout.id} is paid: ${money(payout.amount, payout.currency, payout.test)} to ${payout.vendorId} (reference ${payout.reference})`,
  );
}

export async function showPayout(id: string, flags: PayoutShowFlags, io: Io): Promise<number> {
  const format = flags.format ?? (flags.json ? 'json' : 'text');
  if (!['text', 'json', 'csv'].includes(format))
    throw new UsageError(`--format ${quote(format)}: choose csv or json`);
  const client = await adminClient(flags);
  const path = `/v1/admin/payouts/${encodeURIComponent(payoutId(id))}`;
  if (format === 'csv') {
    // The store writes the CSV (RFC 4180); it is passed through as it came.
    const reply = (await client.request('GET', `${path}?format=csv`)) as { text?: string };
    if (typeof reply.text !== 'string') throw new UsageError('the store did not answer CSV');
    io.out(reply.text);
    return EXIT.ok;
  }
  const statement = (await client.request('GET', path)) as {
    payout: Payout;
    lines: StatementLine[];
  };
  return print(io, { ...flags, json: format === 'json' }, statement, () =>
    [
      payoutLine(statement.payout),
      ...statement.lines.map((line) =>
        `  ${line.bookedAt}  ${line.kind}  ${line.orderId ?? '-'}  ${line.amount}  ${line.invoiceNumber ?? ''}`.trimEnd(),
      ),
      `  total ${statement.lines.reduce((sum, line) => sum + line.amount, 0)} ${statement.payout.currency}`,
    ].join('\n'),
  );
}
