import type { QuotaSpec } from '@licensekit/core';
import type { Plan } from '../schemas/catalogue.js';
import type { SafeHtml } from './html.js';
import { html } from './html.js';

/**
 * Display formats of the pages: money from minor units with its currency, dates in UTC,
 * intervals, quotas. English (the layout says lang="en"); one locale, so a test can pin
 * the exact text.
 */

const LOCALE = 'en-US';
const moneyFormats = new Map<string, Intl.NumberFormat>();

function moneyFormat(currency: string): Intl.NumberFormat {
  let format = moneyFormats.get(currency);
  if (!format) {
    format = new Intl.NumberFormat(LOCALE, { style: 'currency', currency });
    moneyFormats.set(currency, format);
  }
  return format;
}

/**
 * An amount in minor units as money: 1500 USD → "$15.00", 500 JPY → "¥500". The number of
 * minor digits is the currency's own (ISO 4217, as Intl knows it), and the division is
 * exact decimal text, never a float rounding.
 */
export function formatMoney(amountMinor: number, currency: string): string {
  const format = moneyFormat(currency);
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  const negative = amountMinor < 0;
  const text = String(Math.abs(amountMinor)).padStart(digits + 1, '0');
  const decimal =
    digits === 0 ? text : `${text.slice(0, text.length - digits)}.${text.slice(-digits)}`;
  // Intl formats a decimal string exactly (ES2023 "Intl.NumberFormat v3"); Node 20 has it.
  const formatted = format.format(decimal as unknown as number);
  return negative ? `-${formatted}` : formatted;
}

const dateTimeFormat = new Intl.DateTimeFormat(LOCALE, {
  dateStyle: 'long',
  timeStyle: 'short',
  timeZone: 'UTC',
});
const dateFormat = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'long', timeZone: 'UTC' });

/** "January 15, 2026 at 12:00 PM UTC" */
export function formatDateTime(at: Date | string): string {
  return `${dateTimeFormat.format(new Date(at))} UTC`;
}

/** A date in a <time> element: machine-readable ISO, human-readable UTC text. */
export function time(at: Date | string, options: { dateOnly?: boolean } = {}): SafeHtml {
  const date = new Date(at);
  const text = options.dateOnly ? dateFormat.format(date) : formatDateTime(date);
  return html`<time datetime="${date.toISOString()}">${text}</time>`;
}

/** "per month", "per seat per year", "one payment", "one payment, valid 365 days" */
export function billingTerms(plan: Plan): string {
  const seat = plan.perSeat ? 'per seat ' : '';
  switch (plan.interval) {
    case 'month':
      return `${seat}per month`;
    case 'year':
      return `${seat}per year`;
    default:
      return plan.termDays === null
        ? `${seat}one payment, no expiry`
        : `${seat}one payment, valid ${plan.termDays} days`;
  }
}

/** "$15.00 per month", "no charge" */
export function planPrice(plan: Plan): string {
  if (plan.free) return 'no charge';
  return `${formatMoney(plan.price.amount, plan.price.currency)} ${billingTerms(plan)}`;
}

const PER: Record<string, string> = {
  day: 'a day',
  week: 'a week',
  month: 'a month',
  year: 'a year',
};

/** "1,000 exports a month", "Unlimited exports", "50 downloads" */
export function describeQuota(name: string, spec: QuotaSpec): string {
  if (!('limit' in spec)) return `Unlimited ${name}`;
  const count = new Intl.NumberFormat(LOCALE).format(spec.limit);
  const per = spec.per === undefined ? '' : ` ${PER[spec.per] ?? `per ${spec.per}`}`;
  return `${count} ${name}${per}`;
}

export function formatCount(value: number): string {
  return new Intl.NumberFormat(LOCALE).format(value);
}

const STATUS_LABELS: Record<string, string> = {
  pending: 'Awaiting payment',
  trialing: 'Free trial',
  active: 'Active',
  past_due: 'Payment overdue',
  cancelled: 'Cancelled',
  expired: 'Expired',
  revoked: 'Revoked',
};

export function statusLabel(status: string): string {
  return STATUS_LABELS[status] ?? status;
}
