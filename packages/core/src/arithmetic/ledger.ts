/**
 * Double-entry lines of a marketplace's money movements. A line's amount is signed: a debit
 * is positive, a credit negative, so the lines of every movement sum to zero, and an
 * account's balance is the sum of its lines.
 *
 *   payment   processor_clearing +amount | vendor_payable −vendor | store_fees −fee
 *   refund    processor_clearing −refund | vendor_payable +vendor | store_fees +fee
 *   payout    vendor_payable +paid       | processor_clearing −paid
 *
 * `vendor_payable` is a liability: its credit balance (negated) is what the store owes the
 * vendor. A chargeback is booked as a refund the processor forced.
 */
import { type RefundSplitInput, splitRefund, splitRevenue } from './revenue-share.js';

export type LedgerAccount = 'processor_clearing' | 'vendor_payable' | 'store_fees';

export interface LedgerLine {
  account: LedgerAccount;
  /** Minor units; debit > 0, credit < 0. */
  amount: number;
}

/** Lines of a paid order or charge of `amountMinor`. */
export function paymentLines(amountMinor: number, vendorShareBps: number): LedgerLine[] {
  const { vendor, fee } = splitRevenue(amountMinor, vendorShareBps);
  return [
    { account: 'processor_clearing', amount: amountMinor },
    { account: 'vendor_payable', amount: -vendor },
    { account: 'store_fees', amount: -fee },
  ];
}

/** Lines of one refund (or chargeback) of an order; see splitRefund for the rule. */
export function refundLines(input: RefundSplitInput): LedgerLine[] {
  const { vendor, fee } = splitRefund(input);
  return [
    { account: 'processor_clearing', amount: -input.refund },
    { account: 'vendor_payable', amount: -vendor },
    { account: 'store_fees', amount: -fee },
  ];
}

/** Lines of a payout of `amountMinor` to a vendor (what leaves the store's account). */
export function payoutLines(amountMinor: number): LedgerLine[] {
  return [
    { account: 'vendor_payable', amount: amountMinor },
    { account: 'processor_clearing', amount: -amountMinor },
  ];
}

/** Sum of the lines per account; accounts without lines are absent. */
export function balances(lines: readonly LedgerLine[]): Partial<Record<LedgerAccount, number>> {
  const sums: Partial<Record<LedgerAccount, number>> = {};
  for (const line of lines) sums[line.account] = (sums[line.account] ?? 0) + line.amount;
  return sums;
}
