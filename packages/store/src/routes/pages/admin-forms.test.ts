import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  formatMoneyInput,
  minorDigits,
  parseEntitlements,
  parseMoneyInput,
  parsePlanForm,
} from './admin-forms.js';

/** The admin screen's form parsing (admin-forms.ts): prices exact, nothing guessed. */

const CURRENCIES = ['USD', 'EUR', 'JPY', 'BHD', 'KWD', 'CLP'] as const;

describe('prices typed in the admin screen', () => {
  test('minor digits come from ISO 4217 as Intl knows it', () => {
    expect(CURRENCIES.map(minorDigits)).toEqual([2, 2, 0, 3, 3, 0]);
  });

  test('any amount survives format → parse exactly, in every currency', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.constantFrom(...CURRENCIES),
        (amount, currency) => {
          expect(parseMoneyInput(formatMoneyInput(amount, currency), currency)).toBe(amount);
        },
      ),
    );
  });

  test('fewer decimals are padded, more are refused, and so is anything but digits and a dot', () => {
    expect(parseMoneyInput('15', 'USD')).toBe(1500);
    expect(parseMoneyInput(' 15.5 ', 'USD')).toBe(1550);
    expect(parseMoneyInput('15.', 'USD')).toBe(1500);
    expect(parseMoneyInput('0', 'USD')).toBe(0);
    expect(parseMoneyInput('500', 'JPY')).toBe(500);
    expect(parseMoneyInput('1.234', 'BHD')).toBe(1234);
    for (const [text, currency] of [
      ['15.001', 'USD'],
      ['5.5', 'JPY'],
      ['15,00', 'USD'],
      ['1,500.00', 'USD'],
      ['-1', 'USD'],
      ['+1', 'USD'],
      ['1e3', 'USD'],
      ['', 'USD'],
      ['.5', 'USD'],
      ['0x10', 'USD'],
      ['9007199254740992', 'JPY'],
      ['90071992547409.92', 'USD'],
    ] as const) {
      expect(parseMoneyInput(text, currency), `${text} ${currency}`).toBeUndefined();
    }
  });

  test('parsing never throws and never returns more than MAX_SAFE_INTEGER', () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom(...CURRENCIES), (text, currency) => {
        const amount = parseMoneyInput(text, currency);
        if (amount !== undefined) {
          expect(Number.isSafeInteger(amount)).toBe(true);
          expect(amount).toBeGreaterThanOrEqual(0);
        }
      }),
    );
  });
});

describe('the plan form', () => {
  const valid = {
    name: 'Pro',
    price: '15.00',
    currency: 'usd',
    interval: 'month',
    quotas: '{"exports": {"limit": 100, "per": "month"}}',
    entitlements: 'export, batch;raw  sync',
  };

  test('becomes the API’s PlanInput', () => {
    const parsed = parsePlanForm(valid, 'pro-monthly');
    expect(parsed).toEqual({
      ok: true,
      value: {
        id: 'pro-monthly',
        name: 'Pro',
        description: '',
        price: { amount: 1500, currency: 'USD' },
        interval: 'month',
        perSeat: false,
        quotas: { exports: { limit: 100, per: 'month' } },
        entitlements: ['export', 'batch', 'raw', 'sync'],
      },
    });
    expect(parseEntitlements(' , ')).toEqual([]);
  });

  test('reports each bad field by name', () => {
    const parsed = parsePlanForm(
      { ...valid, price: 'ten', trialDays: '3.5', quotas: '[1]' },
      'pro-monthly',
    );
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors.map((error) => error.field)).toEqual(['price', 'trialDays', 'quotas']);
    const schema = parsePlanForm({ ...valid, interval: 'weekly', name: '' }, 'Bad Id');
    expect(schema.ok).toBe(false);
    if (schema.ok) return;
    expect(schema.errors.map((error) => error.field).sort()).toEqual(['id', 'interval', 'name']);
  });
});
