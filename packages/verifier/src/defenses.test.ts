/**
 * The defenses of DESIGN.md "Verifier state": rollback, clock and not-yet-valid checks.
 * Each defense is its own test with the exact status and reason; the marks are read
 * straight from the state the verifier was given.
 */
import { describe, expect, it } from 'vitest';
import {
  DAY,
  FORMATS,
  generateTestKey,
  licenseClaims,
  PRODUCT,
  randomTokenId,
  signLicense,
  T0,
} from '../../../test/support/tokens.js';
import { HIGH_WATER_STEP } from './evaluate.js';
import { createVerifier } from './index.js';
import {
  hashOf,
  inspectableState,
  issueLicense,
  marks,
  renewLicense,
  testClock,
} from './testing/harness.js';

function setup(options: { leeway?: number; clockTolerance?: number } = {}) {
  const issuer = generateTestKey();
  const clock = testClock();
  const state = inspectableState(PRODUCT);
  const verifier = createVerifier({
    trust: { issuers: [issuer.jwk] },
    product: PRODUCT,
    clock: clock.read,
    state: state.store,
    ...options,
  });
  return { issuer, clock, state, verifier };
}

describe.each(FORMATS)('defenses (%s)', (format) => {
  describe('rollback', () => {
    it('a lower seq than the one accepted is rolled_back/older_seq', async () => {
      const { issuer, verifier } = setup();
      const first = issueLicense(issuer, format);
      const second = renewLicense(issuer, format, first);
      expect((await verifier.verify(first.token)).status).toBe('active');
      expect((await verifier.verify(second.token)).status).toBe('active');
      const replayed = await verifier.verify(first.token);
      expect(replayed).toMatchObject({ valid: false, status: 'rolled_back', reason: 'older_seq' });
    });

    it('the same seq with different content is rolled_back/same_seq_different_token', async () => {
      const { issuer, verifier, state } = setup();
      const original = issueLicense(issuer, format);
      const twin = issueLicense(issuer, format, { jti: randomTokenId() });
      expect(twin.claims.seq).toBe(original.claims.seq);
      expect((await verifier.verify(original.token)).status).toBe('active');
      expect(await verifier.verify(twin.token)).toMatchObject({
        valid: false,
        status: 'rolled_back',
        reason: 'same_seq_different_token',
      });
      // The accepted token itself stays valid, and the mark names it.
      expect((await verifier.verify(original.token)).status).toBe('active');
      expect(state.data.licenses[original.claims.sub]).toEqual({
        seq: 0,
        hash: hashOf(original.token),
      });
    });

    it('another license of the same app has its own lineage', async () => {
      const { issuer, verifier } = setup();
      const a = renewLicense(issuer, format, issueLicense(issuer, format));
      const b = issueLicense(issuer, format, { sub: 'lic_other' });
      expect((await verifier.verify(a.token)).status).toBe('active');
      expect((await verifier.verify(b.token)).status).toBe('active');
    });

    it('a license id such as "__proto__" is an ordinary lineage', async () => {
      const { issuer, verifier, state } = setup();
      const first = issueLicense(issuer, format, { sub: '__proto__' });
      const second = renewLicense(issuer, format, first);
      expect((await verifier.verify(second.token)).status).toBe('active');
      expect(await verifier.verify(first.token)).toMatchObject({
        status: 'rolled_back',
        reason: 'older_seq',
      });
      expect(Object.getPrototypeOf(state.data.licenses)).toBe(Object.prototype);
      expect(Object.hasOwn(state.data.licenses, '__proto__')).toBe(true);
    });

    it('records the highest accepted seq and its token hash', async () => {
      const { issuer, verifier, state } = setup();
      const first = issueLicense(issuer, format);
      const second = renewLicense(issuer, format, first);
      await verifier.verify(second.token);
      expect(state.data.licenses[first.claims.sub]).toEqual({ seq: 1, hash: hashOf(second.token) });
    });

    it('a rejected token never moves any mark', async () => {
      const { issuer, verifier, state, clock } = setup();
      const first = issueLicense(issuer, format);
      expect((await verifier.verify(first.token)).status).toBe('active');
      const before = marks(state.data);

      // Validly signed, far ahead in the lineage, but each rejected for its own reason.
      const rejected = [
        // expired: its term ended before now
        signLicense(
          issuer,
          licenseClaims({
            seq: 5,
            prev: hashOf(first.token),
            iat: T0 - 40 * DAY,
            nbf: T0 - 40 * DAY,
            exp: T0 - 10 * DAY,
            rfa: undefined,
            grace: 0,
          }),
          { format },
        ),
        // wrong product
        signLicense(
          issuer,
          licenseClaims({ seq: 6, prev: hashOf(first.token), aud: 'another-product' }),
          { format },
        ),
        // not yet valid, with an iat far in the future that must not raise the high-water mark
        signLicense(
          issuer,
          licenseClaims({
            seq: 7,
            prev: hashOf(first.token),
            iat: T0 + 300 * DAY,
            nbf: T0 + 300 * DAY,
            exp: T0 + 400 * DAY,
            rfa: undefined,
          }),
          { format },
        ),
        // bound to a device this verifier does not have
        signLicense(
          issuer,
          licenseClaims({ seq: 8, prev: hashOf(first.token), cnf: { jkt: generateTestKey().kid } }),
          { format },
        ),
        // signed by a key nobody trusts
        signLicense(generateTestKey(), licenseClaims({ seq: 9, prev: hashOf(first.token) }), {
          format,
        }),
      ];
      const statuses = [];
      for (const token of rejected) statuses.push((await verifier.verify(token)).status);
      expect(statuses).toEqual([
        'expired',
        'wrong_product',
        'not_yet_valid',
        'wrong_device',
        'untrusted_key',
      ]);
      expect(state.data).toEqual(before);

      // Bad signature: a valid token of seq 10 with one signature bit flipped.
      const valid = signLicense(issuer, licenseClaims({ seq: 10, prev: hashOf(first.token) }), {
        format,
      });
      const broken = flipLastSignatureBit(valid, format);
      expect((await verifier.verify(broken)).status).toBe('invalid_signature');
      expect(state.data).toEqual(before);

      // A rejected check while the clock runs far ahead does not raise the high-water mark.
      clock.set(T0 + 200 * DAY);
      expect((await verifier.verify(first.token)).status).toBe('expired');
      clock.set(T0 + DAY);
      expect(state.data).toEqual(before);

      // And seq 1 is still accepted: none of the rejected seqs became the mark.
      const second = renewLicense(issuer, format, first);
      expect((await verifier.verify(second.token)).status).toBe('active');
      expect(state.data.licenses[first.claims.sub]?.seq).toBe(1);
    });

    it('a rolled-back token does not move the marks either', async () => {
      const { issuer, verifier, state, clock } = setup();
      const first = issueLicense(issuer, format);
      const second = renewLicense(issuer, format, first);
      await verifier.verify(second.token);
      const before = marks(state.data);
      clock.advance(2 * HIGH_WATER_STEP);
      expect((await verifier.verify(first.token)).status).toBe('rolled_back');
      expect(state.data).toEqual(before);
    });
  });

  describe('clock', () => {
    it('the high-water mark follows the clock and never decreases', async () => {
      const { issuer, verifier, state, clock } = setup();
      const { token } = issueLicense(issuer, format);
      await verifier.verify(token);
      expect(state.data.highWater).toBe(T0);
      clock.set(T0 + 3_600);
      await verifier.verify(token);
      expect(state.data.highWater).toBe(T0 + 3_600);
      clock.set(T0 + 1_800);
      expect((await verifier.verify(token)).status).toBe('active');
      expect(state.data.highWater).toBe(T0 + 3_600);
      clock.set(T0 + 2 * 3_600);
      await verifier.verify(token);
      expect(state.data.highWater).toBe(T0 + 2 * 3_600);
    });

    it('now earlier than the high-water mark minus the tolerance is clock_tampered', async () => {
      const { issuer, verifier, clock } = setup({ clockTolerance: 3_600 });
      const { token } = issueLicense(issuer, format);
      clock.set(T0 + DAY);
      await verifier.verify(token);
      clock.set(T0 + DAY - 3_600 - 1);
      expect(await verifier.verify(token)).toMatchObject({
        valid: false,
        status: 'clock_tampered',
        reason: 'clock_behind_high_water',
      });
    });

    it('a clock behind the high-water mark by at most the tolerance is still valid', async () => {
      const { issuer, verifier, clock } = setup({ clockTolerance: 3_600 });
      const { token } = issueLicense(issuer, format);
      clock.set(T0 + DAY);
      await verifier.verify(token);
      clock.set(T0 + DAY - 3_600);
      expect(await verifier.verify(token)).toMatchObject({ valid: true, status: 'active' });
      clock.set(T0 + DAY - 60);
      expect(await verifier.verify(token)).toMatchObject({ valid: true, status: 'active' });
    });

    it('the default tolerance allows a day', async () => {
      const { issuer, verifier, clock } = setup();
      const { token } = issueLicense(issuer, format);
      clock.set(T0 + 3 * DAY);
      await verifier.verify(token);
      clock.set(T0 + 2 * DAY);
      expect((await verifier.verify(token)).status).toBe('active');
      clock.set(T0 + 2 * DAY - 1);
      expect((await verifier.verify(token)).status).toBe('clock_tampered');
    });

    it('the clock set back two days is clock_tampered', async () => {
      const { issuer, verifier, clock } = setup();
      const { token } = issueLicense(issuer, format);
      clock.set(T0 + 5 * DAY);
      expect((await verifier.verify(token)).status).toBe('active');
      clock.set(T0 + 3 * DAY);
      expect(await verifier.verify(token)).toMatchObject({
        valid: false,
        status: 'clock_tampered',
        reason: 'clock_behind_high_water',
      });
      // Putting the clock right again restores the license.
      clock.set(T0 + 5 * DAY);
      expect((await verifier.verify(token)).status).toBe('active');
    });

    it('the clock set back is caught across verifier instances sharing the state', async () => {
      const { issuer, clock, state } = setup();
      const { token } = issueLicense(issuer, format);
      const make = () =>
        createVerifier({
          trust: { issuers: [issuer.jwk] },
          product: PRODUCT,
          clock: clock.read,
          state: state.store,
        });
      clock.set(T0 + 5 * DAY);
      await make().verify(token);
      clock.set(T0 + 3 * DAY);
      expect((await make().verify(token)).status).toBe('clock_tampered');
    });

    it("a token's iat counts as time already seen", async () => {
      const { issuer, verifier, state } = setup();
      // Issued 30 s ahead of this machine's clock (inside the leeway).
      const { token } = issueLicense(issuer, format, { iat: T0 + 30, nbf: T0 + 30 });
      expect((await verifier.verify(token)).status).toBe('active');
      expect(state.data.highWater).toBe(T0 + 30);
    });

    it('a stateless verifier keeps no marks and so cannot see a clock set back', async () => {
      const issuer = generateTestKey();
      const clock = testClock(T0 + 5 * DAY);
      const verifier = createVerifier({
        trust: { issuers: [issuer.jwk] },
        product: PRODUCT,
        clock: clock.read,
        state: false,
      });
      const first = issueLicense(issuer, format);
      const second = renewLicense(issuer, format, first);
      await verifier.verify(second.token);
      expect((await verifier.verify(first.token)).status).toBe('active');
      clock.set(T0 + DAY);
      expect((await verifier.verify(first.token)).status).toBe('active');
    });
  });

  describe('results', () => {
    // Regression: the result's claims used to be the object the acceptance cache keeps
    // for the token, so an app changing result.claims changed every later verdict.
    it("changing a result's claims never changes a later verdict", async () => {
      const { issuer, verifier, clock } = setup();
      const { token } = issueLicense(issuer, format);
      const first = await verifier.verify(token);
      try {
        Object.assign(first.claims as object, { exp: T0 + 3650 * DAY, grace: 0 });
      } catch {
        // Frozen claims are a fine answer too.
      }
      clock.set(T0 + 100 * DAY);
      expect((await verifier.verify(token)).status).toBe('expired');
    });
  });

  describe('not yet valid', () => {
    it('nbf in the future beyond the leeway is not_yet_valid', async () => {
      const { issuer, verifier } = setup();
      const { token } = issueLicense(issuer, format, { iat: T0 - DAY, nbf: T0 + 61 });
      expect(await verifier.verify(token)).toMatchObject({
        valid: false,
        status: 'not_yet_valid',
        reason: 'not_yet_valid',
      });
    });

    it('iat in the future beyond the leeway is not_yet_valid', async () => {
      const { issuer, verifier } = setup();
      const { token } = issueLicense(issuer, format, { iat: T0 + 3_600, nbf: T0 - DAY });
      expect(await verifier.verify(token)).toMatchObject({
        status: 'not_yet_valid',
        reason: 'not_yet_valid',
      });
    });

    it('iat and nbf within the leeway (60 s by default) are valid', async () => {
      const { issuer, verifier } = setup();
      const { token } = issueLicense(issuer, format, { iat: T0 + 60, nbf: T0 + 60 });
      expect(await verifier.verify(token)).toMatchObject({ valid: true, status: 'active' });
    });

    it('the leeway is an option', async () => {
      const { issuer, verifier } = setup({ leeway: 0 });
      const { token } = issueLicense(issuer, format, { iat: T0 + 1, nbf: T0 + 1 });
      expect((await verifier.verify(token)).status).toBe('not_yet_valid');
      const strict = issueLicense(issuer, format, { iat: T0, nbf: T0, sub: 'lic_now' });
      expect((await verifier.verify(strict.token)).status).toBe('active');
    });

    it('a license becomes valid once its nbf is reached', async () => {
      const { issuer, verifier, clock } = setup();
      const { token } = issueLicense(issuer, format, { iat: T0, nbf: T0 + DAY });
      expect((await verifier.verify(token)).status).toBe('not_yet_valid');
      clock.set(T0 + DAY);
      expect((await verifier.verify(token)).status).toBe('active');
    });
  });
});

/** Flips the lowest bit of the signature's first byte (the R half), keeping the encoding canonical. */
function flipLastSignatureBit(token: string, format: 'jwt' | 'cwt'): string {
  if (format === 'jwt') {
    const [h, p, s] = token.split('.') as [string, string, string];
    const signature = Buffer.from(s, 'base64url');
    signature[0]! ^= 1;
    return `${h}.${p}.${signature.toString('base64url')}`;
  }
  const bytes = Buffer.from(token, 'base64url');
  // The signature is the last 64 bytes of the COSE_Sign1.
  bytes[bytes.length - 64]! ^= 1;
  return bytes.toString('base64url');
}
