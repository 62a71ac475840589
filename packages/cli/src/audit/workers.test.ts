import { hash } from 'node:crypto';
import {
  base64urlDecode,
  base64urlEncode,
  type DocumentKind,
  jwkThumbprint,
  tokenHash,
  utf8Encode,
} from '@licensekit/core';
import { logEntryHash } from '@licensekit/core/log';
import { createIssuerCertificate, createSigner, generateKeyPair, issue } from '@licensekit/issuer';
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { type EntryFacts, Examiner, leafHashOf } from './examine.js';
import { packFacts, unpackFacts } from './workers.js';

/**
 * The workers post a chunk's facts as JSON text beside one buffer of leaf hashes, each
 * embedded certificate once and the deferred signatures (packFacts). What the main thread
 * rebuilds (unpackFacts) must be what a structured clone of the facts would have given:
 * every kind of fact an audit meets is here, including the rare ones.
 */
const T0 = 1_767_225_600;
const lines: string[] = [];
let roots: { kid: string; x: string }[];

function line(index: number, kind: string, bytes: Uint8Array, extra: object = {}): string {
  return JSON.stringify({
    index,
    kind,
    document: base64urlEncode(bytes),
    loggedAt: new Date((T0 + index) * 1000).toISOString(),
    ...extra,
  });
}

beforeAll(async () => {
  const rootPair = await generateKeyPair();
  const issuerPair = await generateKeyPair();
  const strangerPair = await generateKeyPair();
  roots = [{ kid: await jwkThumbprint(rootPair.publicJwk), x: rootPair.publicJwk.x }];
  const options = {
    root: await createSigner(rootPair.privateJwk),
    issuerKey: issuerPair.publicJwk,
    vendor: 'acme',
    products: ['editor'],
    notBefore: T0 - 86_400,
    days: 365,
    now: T0 - 86_400,
  };
  const cwtCertificate = await createIssuerCertificate({ ...options, format: 'cwt' });
  const jwtCertificate = await createIssuerCertificate({ ...options, format: 'jwt' });
  const signer = await createSigner(issuerPair.privateJwk);
  const stranger = await createSigner(strangerPair.privateJwk);
  const claims = (seq: number) => ({
    iss: 'acme',
    sub: `lic_${seq}`,
    aud: 'editor',
    iat: T0 + seq,
    plan: 'pro',
    ent: ['export'],
    quota: { exports: { limit: 100, per: 'month' as const } },
    seq: 0,
    exp: T0 + 30 * 86_400,
  });
  lines.push(line(0, 'certificate', base64urlDecode(cwtCertificate)));
  lines.push(line(1, 'certificate', utf8Encode(jwtCertificate)));
  for (let seq = 0; seq < 4; seq++) {
    const token = await issue(claims(seq), { signer, certificate: cwtCertificate, now: T0 });
    lines.push(line(2 + seq, 'license', base64urlDecode(token)));
  }
  const jwt = await issue(claims(9), {
    signer,
    certificate: jwtCertificate,
    format: 'jwt',
    now: T0,
  });
  lines.push(line(6, 'license', utf8Encode(jwt), { documentHash: 'not-the-hash' }));
  // Signed by a key no one certified: its signature is deferred to the main thread.
  const unknown = await issue(claims(10), { signer: stranger, now: T0 });
  lines.push(line(7, 'license', base64urlDecode(unknown)));
  lines.push(line(8, 'license', utf8Encode('not a token at all')));
  lines.push('{"index":9,"kind":"license","document":"%%%"}');
  lines.push('{"kind":"license"}');
  lines.push('[1,2,3]');
});

describe('packFacts / unpackFacts', () => {
  test('give back what a structured clone of the facts gives', async () => {
    const examiner = await Examiner.create(roots);
    const facts: EntryFacts[] = [];
    for (const [at, text] of lines.entries()) facts.push(await examiner.examine(text, at + 1));
    const kinds = new Set(
      facts.map((fact) => fact.license?.signer ?? fact.unreadable ?? fact.kind),
    );
    // Every path is exercised: certified licenses, a deferred one, unreadable lines.
    expect(kinds).toContain('certificate');
    expect(kinds).toContain('none');
    expect(facts.some((fact) => fact.malformed !== undefined)).toBe(true);
    expect(facts.some((fact) => fact.declaredHash !== undefined)).toBe(true);
    expect(facts.filter((fact) => fact.unreadable !== undefined)).toHaveLength(3);

    const expected = structuredClone({ facts, lines: 12 });
    const posted = structuredClone(packFacts({ facts, lines: 12 }));
    const actual = unpackFacts(posted);
    expect(actual).toEqual(expected);
    // The certified licenses share one certificate object again, as they did before.
    const embedded = actual.facts.flatMap((fact) => fact.license?.embedded ?? []);
    expect(embedded.length).toBeGreaterThan(3);
    expect(new Set(embedded).size).toBe(2);
  });
});

describe('leafHashOf', () => {
  test("is core's logEntryHash, and node's base64url SHA-256 (examine's token hash) is core's tokenHash", async () => {
    const kinds: DocumentKind[] = ['license', 'certificate', 'revocations'];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...kinds),
        fc.uint8Array({ minLength: 1, maxLength: 600 }),
        async (kind, document) => {
          expect(new Uint8Array(leafHashOf(kind, document))).toEqual(
            await logEntryHash(kind, document),
          );
          expect(hash('sha256', document, 'base64url')).toBe(await tokenHash(document));
        },
      ),
      { numRuns: 200 },
    );
  });
});
