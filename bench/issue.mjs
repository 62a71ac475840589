/**
 * Issue 2, figure 3: `issue` (validate the claims, check the embedded certificate, encode,
 * sign) against node:crypto's one-shot Ed25519 sign of the same signing input with a
 * KeyObject made once. Both formats, the certificate embedded as the store issues them.
 */
import { sign as cryptoSign } from 'node:crypto';
import { decodeDocument } from '../packages/core/dist/index.js';
import { issue } from '../packages/issuer/dist/index.js';
import { interleave } from './lib/interleave.mjs';

const COMMAND = 'pnpm bench issue';

async function issueFigure(fixtures, format, timing) {
  const { signer, certificates, claims, issuerKeys } = fixtures;
  const options = { signer, certificate: certificates[format], format };
  const { signingInput } = decodeDocument(await issue(claims, options), 'license');
  const run = await interleave(
    {
      ours: async (n) => {
        for (let i = 0; i < n; i++) await issue(claims, options);
      },
      raw: (n) => {
        for (let i = 0; i < n; i++) cryptoSign(null, signingInput, issuerKeys.privateKey);
      },
    },
    timing,
  );
  return {
    group: 'issue',
    issue: 2,
    name: `issue, ${format.toUpperCase()}, issuer certificate embedded`,
    ours: {
      what: `issue(claims, { signer, certificate, format: '${format}' })`,
      value: run.rate('ours'),
    },
    baseline: {
      what: 'crypto.sign(null, signingInput, KeyObject)',
      value: run.rate('raw'),
    },
    unit: 'ops/s',
    ratio: run.ratio('ours', 'raw'),
    goal: { op: '>=', value: 0.9 },
    why:
      'issue verifies every signature it makes before returning the token ' +
      '(issuer/src/lib/sign-document.ts signDocument, the RFC 8032 §8.1 fault and wrong-KMS-key ' +
      'check), and an Ed25519 verify costs about three signs: that check alone caps issue near ' +
      '0.25× of a raw sign; claim validation, a fresh jti and re-reading the certificate take ' +
      'most of the rest.',
    profile:
      `\`node bench/profile.mjs issue-${format}\`: node:crypto verifyOneShot ≈ 48% (the check in ` +
      'signDocument), signOneShot ≈ 18%, issuer/src/issue.ts completeLicenseClaims ' +
      '(parseLicenseClaims, randomTokenId) 8.5–9%, core/src/codec/write.ts prepareLicense and its ' +
      'encoder 6–8.5%, issuer/src/lib/certificate-scope.ts checkCertificateUse (decodes the same ' +
      'certificate and hashes its key on every call) 6–7%, GC 6.5–7%.',
    command: COMMAND,
  };
}

export async function benchIssue(fixtures, timing) {
  return [await issueFigure(fixtures, 'cwt', timing), await issueFigure(fixtures, 'jwt', timing)];
}
