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
    issue: 9,
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
    goal: { op: '>=', value: 0.75 },
    why:
      "what is left around the signature: validating the caller's claims once (the " +
      "verifier's parser), encoding them (CBOR or JSON) and writing the token's base64url " +
      'text. Removed in issue 9: re-checking signer and certificate on every call (now found ' +
      'without an await), an object spread per call, cbor-x (an encoder of our own), the ' +
      'header cache keyed by the certificate text (now compared with ===).',
    profile:
      `\`node bench/profile.mjs issue-${format}\`: node:crypto signOneShot (the floor) ≈ 71–75%; ` +
      'base64url of the token text ≈ 4%; the CBOR encoder ≈ 3%; licenseToCwt ≈ 2%; claim ' +
      'validation ≈ 2%; GC ≈ 2%.',
    command: COMMAND,
  };
}

export async function benchIssue(fixtures, timing) {
  return [await issueFigure(fixtures, 'cwt', timing), await issueFigure(fixtures, 'jwt', timing)];
}
