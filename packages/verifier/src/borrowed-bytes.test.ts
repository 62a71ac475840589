/**
 * A token given as bytes is read in place: its embedded certificate is a view of the
 * caller's buffer. The trust store remembers certificates it has checked, and must
 * remember its own copy: a caller may reuse the buffer for the next token.
 */

import { base64urlDecode } from '@licensekit/core';
import { describe, expect, it } from 'vitest';
import {
  certificateClaims,
  DAY,
  generateTestKey,
  licenseClaims,
  makePki,
  PRODUCT,
  signCertificate,
  signLicense,
  T0,
  tokenBytes,
} from '../../../test/support/tokens.js';
import { createVerifier } from './index.js';

describe('a token verified from a buffer the caller reuses', () => {
  it.each([
    ['a Uint8Array', (bytes: Uint8Array) => bytes],
    // A Node Buffer's slice() is a view: a copy made with it would change with the buffer.
    ['a Node Buffer', (bytes: Uint8Array) => Buffer.from(bytes)],
  ])(
    'in %s is judged by the certificate it holds now, not by one checked before',
    async (_kind, wrap) => {
      const { root, issuer, certificate } = makePki('cwt');
      const verifier = createVerifier({
        trust: { roots: [root.jwk] },
        product: PRODUCT,
        clock: () => (T0 + DAY) * 1000,
        state: false,
      });
      const buffer = wrap(
        tokenBytes(signLicense(issuer, licenseClaims(), { format: 'cwt', certificate })),
      );
      expect((await verifier.verify(buffer)).valid).toBe(true);

      // The same issuer key, certified by a root this app does not trust, same length.
      const stranger = generateTestKey();
      const forged = base64urlDecode(
        signCertificate(stranger, certificateClaims(issuer), { format: 'cwt' }),
      );
      const genuine = base64urlDecode(certificate);
      expect(forged.length).toBe(genuine.length);
      buffer.set(forged, Buffer.from(buffer).indexOf(Buffer.from(genuine)));

      const result = await verifier.verify(buffer);
      expect(result.status).toBe('untrusted_key');
      expect(result.reason).toBe('certificate_signer_unknown');
    },
  );
});
