import { base64urlEncode, parseLicenseClaims } from '@licensekit/core';
import { describe, expect, test } from 'vitest';
import type { LicenseRecord } from '../repositories/licenses.js';
import type { Plan } from '../schemas/catalogue.js';
import { licenseClaims } from './tokens.js';

const NOW = new Date('2026-03-10T00:00:00Z');
const s = (iso: string) => Math.floor(Date.parse(iso) / 1000);

const plan: Plan = {
  id: 'pro',
  productId: 'app',
  name: 'Pro',
  description: '',
  price: { amount: 1500, currency: 'USD' },
  interval: 'month',
  termDays: null,
  trialDays: 14,
  perSeat: false,
  seats: 2,
  quotas: { exports: { limit: 100, per: 'month' }, projects: { limit: 5 } },
  entitlements: ['raw', 'batch'],
  graceDays: 7,
  free: false,
};

const license: LicenseRecord = {
  id: 'lic_1',
  customerId: 'cus_1',
  productId: 'app',
  planId: 'pro',
  keyHint: 'ABCD',
  status: 'active',
  seats: 2,
  anchor: new Date('2026-01-01T00:00:00Z'),
  periodStart: new Date('2026-03-01T00:00:00Z'),
  periodEnd: new Date('2026-04-01T00:00:00Z'),
  trialEnd: null,
  pendingChange: null,
  seq: -1,
  lastTokenHash: null,
  test: false,
  createdAt: new Date('2026-01-01T00:00:00Z'),
  updatedAt: new Date('2026-03-01T00:00:00Z'),
  cancelledAt: null,
  revokedAt: null,
};

const options = { vendor: 'acme', certificateExpiresAt: s('2027-01-01T00:00:00Z'), now: NOW };
// Every claim set the store builds must pass the verifier's strict parser.
const valid = (claims: object) => parseLicenseClaims(claims as Record<string, unknown>);

describe('token claims from the store records', () => {
  test('a paid monthly license: period end, grace, rfa, quotas with seats, anchor', () => {
    const claims = valid(licenseClaims(license, plan, options));
    expect(claims).toMatchObject({
      iss: 'acme',
      sub: 'lic_1',
      aud: 'app',
      plan: 'pro',
      access: 'full',
      ent: ['raw', 'batch'],
      exp: s('2026-04-01T00:00:00Z'),
      grace: 7 * 86_400,
      rfa: s('2026-03-11T00:00:00Z'),
      anchor: s('2026-01-01T00:00:00Z'),
      seq: 0,
      quota: {
        exports: { limit: 100, per: 'month' },
        projects: { limit: 5 },
        seats: { limit: 2 },
      },
    });
    expect(claims.prev).toBeUndefined();
    expect(claims.cnf).toBeUndefined();
    expect(claims.chg).toBeUndefined();
  });

  test('lineage: seq follows the license, prev is the last token hash', () => {
    const hash = base64urlEncode(new Uint8Array(32).fill(7));
    const claims = valid(licenseClaims({ ...license, seq: 4, lastTokenHash: hash }, plan, options));
    expect(claims).toMatchObject({ seq: 5, prev: hash });
  });

  test('a trial: access trial, exp at the trial end', () => {
    const trialEnd = new Date('2026-03-20T00:00:00Z');
    const claims = valid(
      licenseClaims(
        { ...license, status: 'trialing', trialEnd, periodEnd: trialEnd },
        plan,
        options,
      ),
    );
    expect(claims).toMatchObject({ access: 'trial', exp: s('2026-03-20T00:00:00Z') });
  });

  test('the period end is close: rfa is the expiry', () => {
    const periodEnd = new Date('2026-03-10T06:00:00Z');
    const claims = valid(licenseClaims({ ...license, periodEnd }, plan, options));
    expect(claims.rfa).toBe(claims.exp);
  });

  test('lifetime: no exp (so no grace), but an rfa', () => {
    const lifetime = { ...plan, interval: 'once' as const, quotas: {} };
    const claims = valid(licenseClaims({ ...license, periodEnd: null }, lifetime, options));
    expect(claims.exp).toBeUndefined();
    expect(claims.grace).toBeUndefined();
    expect(claims.anchor).toBeUndefined();
    expect(claims.rfa).toBe(s('2026-03-11T00:00:00Z'));
  });

  test('never past the issuer certificate', () => {
    const certificateExpiresAt = s('2026-03-25T00:00:00Z');
    const capped = valid(licenseClaims(license, plan, { ...options, certificateExpiresAt }));
    expect(capped.exp).toBe(certificateExpiresAt);
    const soon = s('2026-03-10T12:00:00Z');
    const lifetime = valid(
      licenseClaims({ ...license, periodEnd: null }, plan, {
        ...options,
        certificateExpiresAt: soon,
      }),
    );
    expect(lifetime.rfa).toBe(soon);
  });

  test('device binding and the pending change', () => {
    const thumbprint = base64urlEncode(new Uint8Array(32).fill(9));
    const claims = valid(
      licenseClaims(
        {
          ...license,
          pendingChange: { kind: 'downgrade', plan: 'basic', at: '2026-04-01T00:00:00.000Z' },
        },
        plan,
        { ...options, thumbprint },
      ),
    );
    expect(claims.cnf).toEqual({ jkt: thumbprint });
    expect(claims.chg).toEqual({ kind: 'downgrade', plan: 'basic', at: s('2026-04-01T00:00:00Z') });
    const cancel = valid(
      licenseClaims(
        { ...license, pendingChange: { kind: 'cancel', at: '2026-04-01T00:00:00.000Z' } },
        plan,
        options,
      ),
    );
    expect(cancel.chg).toEqual({ kind: 'cancel', at: s('2026-04-01T00:00:00Z') });
  });

  test('per-seat licenses carry their own seat count, over a seats quota of the plan', () => {
    const team = { ...plan, perSeat: true, quotas: { seats: { limit: 1 } } };
    const claims = valid(licenseClaims({ ...license, seats: 9 }, team, options));
    expect(claims.quota.seats).toEqual({ limit: 9 });
    expect(claims.anchor).toBeUndefined();
  });
});
