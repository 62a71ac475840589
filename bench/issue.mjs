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
      'the JavaScript around the signature costs about two thirds of one: issue validates the ' +
      'claims with the same strict parser the verifier runs (nothing unverifiable is ever ' +
      'signed), encodes them (CBOR or JSON) and writes base64url; an Ed25519 signature leaves ' +
      'little room for that. Already removed: the verify of every signature (now the first per ' +
      'signer; `verify: "always"` is opt-in), re-decoding the certificate and re-encoding the ' +
      'header on every call (both cached), one CSPRNG call per jti (pooled).',
    profile:
      `\`node bench/profile.mjs issue-${format}\`: node:crypto signOneShot (the floor) ≈ 53%; ` +
      'issuer/src/issue.ts completeLicenseClaims with core parseLicenseClaims ≈ 15%; the CBOR ' +
      'encoder (cbor-x, claims/license-cwt.ts licenseToCwt) ≈ 5%; base64url ≈ 3%; GC ≈ 4%.',
    command: COMMAND,
  };
}

export async function benchIssue(fixtures, timing) {
  return [await issueFigure(fixtures, 'cwt', timing), await issueFigure(fixtures, 'jwt', timing)];
}
