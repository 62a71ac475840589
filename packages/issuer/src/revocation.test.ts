import { createPublicKey, verify } from 'node:crypto';
import {
  ClaimError,
  ConfigError,
  decodeDocument,
  MalformedError,
  readRevocationClaims,
} from '@licensekit/core';
import { decodeProtectedHeader } from 'jose';
import { beforeAll, describe, expect, test } from 'vitest';
import { generateKeyPair } from './key-files.js';
import { createRevocationList } from './revocation.js';
import { createSigner, type Signer } from './signer.js';

const NOW = 1_763_700_000;
const DAY = 86_400;

let root: Signer;
let leaked: Signer;

beforeAll(async () => {
  root = await createSigner((await generateKeyPair()).privateJwk);
  leaked = await createSigner((await generateKeyPair()).privateJwk);
});

describe('createRevocationList', () => {
  test.each(['jwt', 'cwt'] as const)(
    '%s: decodes to the given claims, signed by the signer',
    async (format) => {
      const entries = {
        keys: [leaked.kid],
        licenses: ['lic_01JD3K8X7Q2M5N9P', 'lic_refunded'],
        tokens: ['AAECAwQFBgcICQoLDA0ODw'],
      };
      const token = await createRevocationList({
        signer: root,
        vendor: 'acme',
        seq: 7,
        next: NOW + 7 * DAY,
        ...entries,
        format,
        now: NOW,
      });
      const document = decodeDocument(token, 'revocations');
      expect(document.format).toBe(format);
      expect(document.kid).toBe(root.kid);
      expect(readRevocationClaims(document)).toEqual({
        iss: 'acme',
        iat: NOW,
        seq: 7,
        next: NOW + 7 * DAY,
        ...entries,
      });
      const rootKey = createPublicKey({ key: { ...root.publicJwk }, format: 'jwk' });
      expect(verify(null, document.signingInput, rootKey, document.signature)).toBe(true);
    },
  );

  test('an empty list has empty entries and no next', async () => {
    const token = await createRevocationList({ signer: root, vendor: 'acme', seq: 0, now: NOW });
    expect(readRevocationClaims(decodeDocument(token, 'revocations'))).toEqual({
      iss: 'acme',
      iat: NOW,
      seq: 0,
      keys: [],
      licenses: [],
      tokens: [],
    });
  });

  test('typ is the revocation-list type; the list is not a license', async () => {
    const jwt = await createRevocationList({
      signer: root,
      vendor: 'acme',
      seq: 1,
      format: 'jwt',
      now: NOW,
    });
    expect(decodeProtectedHeader(jwt).typ).toBe('lic-rl+jwt');
    const cwt = await createRevocationList({ signer: root, vendor: 'acme', seq: 1, now: NOW });
    for (const token of [jwt, cwt]) {
      expect(() => decodeDocument(token, 'license')).toThrow(MalformedError);
      expect(() => decodeDocument(token, 'certificate')).toThrow(/typ/);
    }
  });

  test('bad entries name the field', async () => {
    const base = { signer: root, vendor: 'acme', now: NOW };
    const cases: [string, Parameters<typeof createRevocationList>[0]][] = [
      ['seq', { ...base, seq: -1 }],
      ['keys[0]', { ...base, seq: 1, keys: ['not-a-kid'] }],
      ['tokens[0]', { ...base, seq: 1, tokens: ['short'] }],
      ['next', { ...base, seq: 1, next: NOW }],
    ];
    for (const [claim, options] of cases) {
      const error = await createRevocationList(options).catch((reason: unknown) => reason);
      expect(error).toBeInstanceOf(ClaimError);
      expect((error as ClaimError).claim).toBe(claim);
    }
  });

  test('a list that revokes its own signing key is refused', async () => {
    await expect(
      createRevocationList({ signer: root, vendor: 'acme', seq: 1, keys: [root.kid], now: NOW }),
    ).rejects.toThrow(ConfigError);
  });
});
