import {
  base64urlEncode,
  decodeDocument,
  type LicenseClaimsInput,
  type PendingChange,
  readLicenseClaims,
} from '@licensekit/core';
import fc from 'fast-check';
import { beforeAll, expect, test } from 'vitest';
import { issue } from './issue.js';
import { generateKeyPair } from './key-files.js';
import { createSigner, type Signer } from './signer.js';

// Arbitraries for the whole valid claim space (DESIGN.md "Claims"), kept small enough that
// the JWT stays under the 8 KiB cap.
const identifier = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 }).filter((text) => {
  // Printable: no C0 control character and no DEL, as core's identifier check requires.
  const codePoints = [...text].map((character) => character.codePointAt(0)!);
  return codePoints.length <= 128 && codePoints.every((code) => code > 0x1f && code !== 0x7f);
});
const name = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,15}$/);
// NumericDates run from 1970 to the end of year 9999 (core's MAX_NUMERIC_DATE).
const numericDate = fc.integer({ min: 0, max: 253_402_300_799 - 1 });
const bytes = (minLength: number, maxLength: number) =>
  fc.uint8Array({ minLength, maxLength }).map(base64urlEncode);
const period = fc.constantFrom('day', 'week', 'month', 'year');

const quotaSpec = fc.oneof(
  fc.record({ limit: fc.nat() }),
  fc.record({ limit: fc.nat(), per: period }),
  fc.constant({ unlimited: true as const }),
);
const seatsSpec = fc.oneof(
  fc.record({ limit: fc.nat() }),
  fc.constant({ unlimited: true as const }),
);
const quota = fc
  .tuple(fc.dictionary(name, quotaSpec, { maxKeys: 5 }), fc.option(seatsSpec, { nil: undefined }))
  .map(([specs, seats]) => {
    const all: Record<string, unknown> = {};
    for (const [key, spec] of Object.entries(specs)) if (key !== 'seats') all[key] = spec;
    if (seats !== undefined) all.seats = seats;
    return all as NonNullable<LicenseClaimsInput['quota']>;
  });

const pendingChange: fc.Arbitrary<PendingChange> = fc.oneof(
  fc.record({ kind: fc.constant('downgrade' as const), at: numericDate, plan: identifier }),
  fc.record(
    {
      kind: fc.constant('cancel' as const),
      at: numericDate,
      plan: identifier,
      seats: fc.integer({ min: 1 }),
    },
    { requiredKeys: ['kind', 'at'] },
  ),
  fc.record(
    {
      kind: fc.constant('seats' as const),
      at: numericDate,
      seats: fc.integer({ min: 1 }),
      plan: identifier,
    },
    { requiredKeys: ['kind', 'at', 'seats'] },
  ),
);

const lineage = fc.oneof(
  fc.constant({ seq: 0 }),
  fc.record({ seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), prev: bytes(32, 32) }),
);

const licenseClaims: fc.Arbitrary<LicenseClaimsInput> = fc
  .tuple(
    fc.record(
      {
        iss: identifier,
        sub: identifier,
        aud: identifier,
        iat: numericDate,
        nbf: numericDate,
        jti: bytes(8, 64),
        plan: identifier,
        access: fc.constantFrom('full' as const, 'trial' as const),
        ent: fc.uniqueArray(name, { maxLength: 8 }),
        quota,
        anchor: numericDate,
        rfa: numericDate,
        grace: fc.integer({ min: 0, max: 10 * 366 * 86_400 }),
        cnf: bytes(32, 32).map((jkt) => ({ jkt })),
        chg: pendingChange,
      },
      { requiredKeys: ['iss', 'sub', 'aud', 'iat', 'nbf', 'jti', 'plan'] },
    ),
    fc.option(fc.integer({ min: 1, max: 10 * 365 * 86_400 }), { nil: undefined }),
    lineage,
  )
  .map(([claims, term, line]) => {
    const withTerm =
      term === undefined || claims.nbf + term > 253_402_300_799
        ? claims
        : { ...claims, exp: claims.nbf + term };
    return { ...withTerm, ...line };
  });

let signer: Signer;
beforeAll(async () => {
  signer = await createSigner((await generateKeyPair()).privateJwk);
});

test('jwt and cwt of the same claims decode to identical LicenseClaims', async () => {
  await fc.assert(
    fc.asyncProperty(licenseClaims, async (claims) => {
      const now = 1_763_700_000;
      const jwt = readLicenseClaims(
        decodeDocument(await issue(claims, { signer, format: 'jwt', now }), 'license'),
      );
      const cwt = readLicenseClaims(
        decodeDocument(await issue(claims, { signer, format: 'cwt', now }), 'license'),
      );
      expect(cwt).toEqual(jwt);
      expect(jwt).toEqual({ ent: [], quota: {}, access: 'full', ...claims });
    }),
    { numRuns: 300 },
  );
});
