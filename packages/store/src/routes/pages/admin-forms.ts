import type { QuotaSpec } from '@licensekit/core';
import { Value } from 'typebox/value';
import { PlanInput, ProductInput } from '../../schemas/catalogue.js';
import type { AdminPlan } from '../../services/admin.js';
import type { FieldError } from '../../views/layout.js';

/**
 * The admin screen's catalogue forms, as pure functions: form fields → the admin API's own
 * input (schemas/catalogue.ts ProductInput / PlanInput), checked by the same schema, and a
 * plan back → the fields that prefill its form. A form's problems come back as field
 * errors the page shows next to each field; nothing is guessed (a price written with a
 * comma is refused, not read as thousands or decimals).
 */

export type Fields = Record<string, string>;
export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

/** Minor digits of a currency as Intl knows them (ISO 4217): USD 2, JPY 0, BHD 3. */
export function minorDigits(currency: string): number {
  try {
    return (
      new Intl.NumberFormat('en-US', { style: 'currency', currency }).resolvedOptions()
        .maximumFractionDigits ?? 2
    );
  } catch {
    return 2;
  }
}

/**
 * A price as typed ("15", "15.5", "15.00") → minor units in the currency's digits, exact
 * (decimal text, no float). undefined for anything else: a sign, a comma, more decimals
 * than the currency has, an amount past Number.MAX_SAFE_INTEGER.
 */
export function parseMoneyInput(text: string, currency: string): number | undefined {
  const digits = minorDigits(currency);
  const match = /^(\d{1,16})(?:\.(\d*))?$/.exec(text.trim());
  if (!match) return undefined;
  const fraction = match[2] ?? '';
  if (fraction.length > digits) return undefined;
  const minor =
    BigInt(match[1]!) * 10n ** BigInt(digits) + BigInt(fraction.padEnd(digits, '0') || '0');
  return minor <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(minor) : undefined;
}

/** Minor units → the text the price field shows ("15.00", "500"). */
export function formatMoneyInput(amount: number, currency: string): string {
  const digits = minorDigits(currency);
  if (digits === 0) return String(amount);
  const text = String(amount).padStart(digits + 1, '0');
  return `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/** A whole number field: '' → undefined (the API's default), otherwise digits only. */
function integerField(
  fields: Fields,
  name: string,
  label: string,
  errors: FieldError[],
): number | undefined {
  const text = (fields[name] ?? '').trim();
  if (text === '') return undefined;
  if (!/^-?\d{1,15}$/.test(text)) {
    errors.push({ field: name, message: `${label} must be a whole number.` });
    return undefined;
  }
  return Number(text);
}

/** "export, batch; raw" → ["export", "batch", "raw"] (commas, semicolons or spaces). */
export function parseEntitlements(text: string): string[] {
  return text.split(/[\s,;]+/).filter((part) => part !== '');
}

/** The quotas field: JSON as the API takes it, or empty for none. */
function quotasField(fields: Fields, errors: FieldError[]): Record<string, QuotaSpec> | undefined {
  const text = (fields.quotas ?? '').trim();
  if (text === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value))
      return value as Record<string, QuotaSpec>;
  } catch {
    // reported below
  }
  errors.push({
    field: 'quotas',
    message:
      'Quotas must be a JSON object, e.g. {"exports": {"limit": 100, "per": "month"}}, or empty.',
  });
  return undefined;
}

/** Schema errors of an input as field errors (the first per field, by its JSON pointer). */
function schemaErrors(
  schema: typeof PlanInput | typeof ProductInput,
  input: unknown,
): FieldError[] {
  const errors: FieldError[] = [];
  for (const error of Value.Errors(schema, input)) {
    const pointer = (error as { instancePath?: string; path?: string }).instancePath ?? '';
    const field = pointer.split('/')[1] || undefined;
    const name = field === 'price' ? 'price' : field;
    if (errors.some((known) => known.field === name)) continue;
    errors.push({ field: name, message: fieldMessage(name) });
  }
  return errors;
}

const FIELD_MESSAGES: Record<string, string> = {
  id: 'The id must be lower-case letters, digits and dashes (up to 63), starting with a letter or digit.',
  name: 'Enter a name (up to 100 characters).',
  description: 'The description can be up to 2,000 characters.',
  price: 'Enter the price and a three-letter currency code (USD, EUR …).',
  interval: 'Choose how the plan is billed.',
  termDays: 'The term is 1 to 36,500 days, or empty for no expiry.',
  trialDays: 'Trial days are 0 to 365.',
  seats: 'Seats are 1 to 100,000.',
  quotas:
    'Each quota needs a valid name and {"limit": n} (with "per": day, week, month or year) or {"unlimited": true}; at most 31.',
  entitlements: 'Entitlements are names of letters, digits and . _ : - (up to 64), each once.',
  graceDays: 'Grace days are 0 to 365.',
  position: 'The position is a whole number.',
};

function fieldMessage(field: string | undefined): string {
  return (field && FIELD_MESSAGES[field]) || 'This form has a value the store cannot take.';
}

/** Product form → ProductInput. `id` comes from the URL when editing. */
export function parseProductForm(fields: Fields, id: string): Parsed<ProductInput> {
  const input = {
    id,
    name: (fields.name ?? '').trim(),
    description: (fields.description ?? '').trim(),
  };
  const errors = schemaErrors(ProductInput, input);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: input };
}

/** Plan form → PlanInput. `id` comes from the URL when editing. */
export function parsePlanForm(fields: Fields, id: string): Parsed<PlanInput> {
  const errors: FieldError[] = [];
  const currency = (fields.currency ?? '').trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(currency))
    errors.push({
      field: 'currency',
      message: 'The currency is a three-letter code (USD, EUR …).',
    });
  const amount = parseMoneyInput(fields.price ?? '', currency || 'USD');
  if (amount === undefined)
    errors.push({
      field: 'price',
      message: `Enter the price as a number with at most ${minorDigits(currency || 'USD')} decimals after a dot, e.g. 15.00 (0 for a free plan).`,
    });
  const termDays = integerField(fields, 'termDays', 'The term', errors);
  const trialDays = integerField(fields, 'trialDays', 'Trial days', errors);
  const seats = integerField(fields, 'seats', 'Seats', errors);
  const graceDays = integerField(fields, 'graceDays', 'Grace days', errors);
  const position = integerField(fields, 'position', 'The position', errors);
  const quotas = quotasField(fields, errors);
  if (errors.length > 0) return { ok: false, errors };
  const interval = fields.interval ?? '';
  const input = {
    id,
    name: (fields.name ?? '').trim(),
    description: (fields.description ?? '').trim(),
    price: { amount: amount!, currency },
    interval,
    // Only one-time plans have a term; null (no expiry) when left empty.
    ...(interval === 'once' && { termDays: termDays ?? null }),
    ...(trialDays !== undefined && { trialDays }),
    perSeat: fields.perSeat === 'yes',
    ...(seats !== undefined && { seats }),
    quotas: quotas ?? {},
    entitlements: parseEntitlements(fields.entitlements ?? ''),
    ...(graceDays !== undefined && { graceDays }),
    ...(position !== undefined && { position }),
  };
  const invalid = schemaErrors(PlanInput, input);
  return invalid.length > 0
    ? { ok: false, errors: invalid }
    : { ok: true, value: input as PlanInput };
}

/** A plan → the fields of its edit form. */
export function planFields(plan: AdminPlan): Fields {
  return {
    name: plan.name,
    description: plan.description,
    price: formatMoneyInput(plan.price.amount, plan.price.currency),
    currency: plan.price.currency,
    interval: plan.interval,
    termDays: plan.termDays === null ? '' : String(plan.termDays),
    trialDays: String(plan.trialDays),
    perSeat: plan.perSeat ? 'yes' : '',
    seats: String(plan.seats),
    quotas: Object.keys(plan.quotas).length === 0 ? '' : JSON.stringify(plan.quotas, null, 2),
    entitlements: plan.entitlements.join(', '),
    graceDays: String(plan.graceDays),
    position: String(plan.position),
  };
}
