/**
 * The log-proof checker is an opt-in (`enableLogProofs()` from
 * `@licensekit/verifier/log-proofs`), so a bundle without it carries no log code. Its own
 * file: vitest runs each file in a fresh module graph, so here nothing has enabled it yet.
 */
import { ConfigError } from '@licensekit/core';
import { expect, test } from 'vitest';
import {
  DAY,
  generateTestKey,
  licenseClaims,
  PRODUCT,
  signLicense,
  T0,
} from '../../../test/support/tokens.js';
import { enableLogProofs } from './enable-log-proofs.js';
import { createVerifier } from './index.js';
import { testLog } from './testing/log.js';

test('requireLogProof without enableLogProofs() is a ConfigError naming the import; with it, proofs are checked', async () => {
  const issuer = generateTestKey();
  const log = await testLog();
  const options = {
    trust: { issuers: [issuer.jwk], logKeys: [log.key.verifierKey] },
    requireLogProof: true,
    product: PRODUCT,
    clock: () => (T0 + DAY) * 1000,
    state: false as const,
  };
  const token = signLicense(issuer, licenseClaims(), { format: 'cwt' });
  await log.append(token);
  const proof = await log.proof(token);

  expect(() => createVerifier(options)).toThrow(ConfigError);
  expect(() => createVerifier(options)).toThrow(
    /enableLogProofs\(\) of @licensekit\/verifier\/log-proofs/,
  );
  // Without requireLogProof nothing needs the checker: proofs are ignored, as before.
  const plain = createVerifier({
    ...options,
    trust: { issuers: [issuer.jwk] },
    requireLogProof: false,
  });
  expect((await plain.verify(token)).status).toBe('active');

  enableLogProofs();
  enableLogProofs(); // twice is harmless
  const verifier = createVerifier(options);
  expect((await verifier.verify(token)).status).toBe('not_logged');
  expect((await verifier.verify(token, { logProof: proof })).status).toBe('active');
});
