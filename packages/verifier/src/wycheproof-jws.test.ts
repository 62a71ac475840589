/**
 * Wycheproof json_web_signature_test.json (401 cases: alg none, HMAC/asymmetric
 * confusion, modified signatures, JSON serialization, …). A verifier pinned to Ed25519 and
 * to licensekit's document types must reject every one of them, whatever the vector calls
 * "valid" for its own algorithm and key.
 */
import { createPublicKey } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { generateTestKey, PRODUCT, T0 } from '../../../test/support/tokens.js';
import { readVector } from '../../../test/support/vectors.js';
import { createVerifier, STATUSES, type VerifyResult } from './index.js';

interface JwsCase {
  tcId: number;
  comment: string;
  jws: unknown;
  result: 'valid' | 'invalid' | 'acceptable';
}

interface JwsGroup {
  comment: string;
  public?: Record<string, unknown>;
  private?: Record<string, unknown>;
  tests: JwsCase[];
}

const vectors = readVector<{ numberOfTests: number; testGroups: JwsGroup[] }>(
  'wycheproof/json_web_signature_test.json',
);

/** The Ed25519 public JWK of a group, when it has one (kty OKP, crv Ed25519). */
function ed25519PublicKeyOf(
  group: JwsGroup,
): { kty: 'OKP'; crv: 'Ed25519'; x: string } | undefined {
  const jwk = group.public ?? group.private;
  if (jwk?.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') return undefined;
  // Normalise through node:crypto so only the public part is used.
  const { x } = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x },
    format: 'jwk',
  }).export({
    format: 'jwk',
  });
  return { kty: 'OKP', crv: 'Ed25519', x: x! };
}

describe('Wycheproof JSON Web Signature vectors', () => {
  test('every one of the 401 cases is rejected; none throws', async () => {
    const unrelated = generateTestKey();
    const cases = vectors.testGroups.flatMap((group) =>
      group.tests.map((testCase) => ({ group, testCase })),
    );
    expect(vectors.numberOfTests).toBe(401);
    expect(cases).toHaveLength(401);

    const distribution = new Map<string, number>();
    const byStatus = new Map<string, number>();
    const accepted: number[] = [];
    const threw: string[] = [];
    let withOwnEd25519Key = 0;
    for (const { group, testCase } of cases) {
      const own = ed25519PublicKeyOf(group);
      if (own) withOwnEd25519Key++;
      const verifier = createVerifier({
        trust: { issuers: [own ?? unrelated.jwk] },
        product: PRODUCT,
        clock: () => T0 * 1000,
      });
      let result: VerifyResult;
      try {
        result = await verifier.verify(testCase.jws as string);
      } catch (error) {
        threw.push(`tcId ${testCase.tcId}: ${String(error)}`);
        continue;
      }
      expect(STATUSES).toContain(result.status);
      if (result.valid) accepted.push(testCase.tcId);
      const key = `${result.status}/${result.reason}`;
      distribution.set(key, (distribution.get(key) ?? 0) + 1);
      byStatus.set(result.status, (byStatus.get(result.status) ?? 0) + 1);
    }

    const table = [...distribution].sort((a, b) => b[1] - a[1]);
    console.info(
      [
        `Wycheproof JWS: ${cases.length} cases, ${withOwnEd25519Key} with an Ed25519 key of their own`,
        ...[...byStatus].map(([status, n]) => `  ${status}: ${n}`),
        '  by status/reason:',
        ...table.map(([key, n]) => `    ${key}: ${n}`),
      ].join('\n'),
    );

    expect(threw).toEqual([]);
    expect(accepted).toEqual([]);
    expect([...distribution.values()].reduce((a, b) => a + b, 0)).toBe(401);
    // Nothing reaches the signature check: every case fails the strict profile (or, with a
    // well-formed EdDSA header, the key lookup) first.
    expect([...byStatus.keys()].every((s) => s === 'malformed' || s === 'untrusted_key')).toBe(
      true,
    );
  });
});
