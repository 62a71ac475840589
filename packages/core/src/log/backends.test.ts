/**
 * The whole log path (leaf hashes, tree, signed checkpoint, proof bundle, verification) on
 * the platform module browsers, Deno and Bun get: `#ed25519-platform` is mocked to web.ts
 * for this file, so SHA-256 runs on crypto.subtle (or @noble/hashes without it) and
 * signatures on WebCrypto or noble, in every signer × verifier combination.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { generateTestKey, licenseClaims, signLicense } from '../../../../test/support/tokens.js';
import { decodeDocument } from '../codec/read.js';
import type { Ed25519Backend } from '../ed25519/backend.js';
import { enableNobleFallback } from '../ed25519/enable-noble.js';
import { nobleBackend } from '../ed25519/noble.js';
import * as web from '../ed25519/web.js';
import { webCryptoBackend } from '../ed25519/webcrypto-backend.js';
import { signCheckpoint } from './checkpoint.js';
import { logEntryHash } from './entry.js';
import { inclusionProof } from './inclusion.js';
import { MemoryTree } from './memory-tree.js';
import { noteVerifierKey } from './note-keys.js';
import { createProofBundle, verifyLoggedEntry } from './proof-bundle.js';

vi.mock('#ed25519-platform', () => import('../ed25519/web.js'));

const ORIGIN = 'store.example/licensekit/log';
const seed = new Uint8Array(randomBytes(32));
const issuer = generateTestKey();
const licenses = (['jwt', 'cwt'] as const).map(
  (format) => decodeDocument(signLicense(issuer, licenseClaims(), { format })).bytes,
);

/** Logs the licenses among fillers, signs the head with `signer`, returns bundles and root. */
async function logAndProve(signer: Ed25519Backend) {
  const tree = new MemoryTree();
  const fillers = Array.from({ length: 11 }, (_, i) => logEntryHash('license', Uint8Array.of(i)));
  await tree.append(await Promise.all(fillers));
  const indexes: number[] = [];
  for (const license of licenses) {
    indexes.push(tree.size);
    await tree.append([await logEntryHash('license', license), ...(await Promise.all(fillers))]);
  }
  const privateKey = await signer.importPrivateKey(seed);
  const rootHash = await tree.root();
  const note = await signCheckpoint(
    { origin: ORIGIN, size: tree.size, rootHash },
    { name: ORIGIN, privateKey, backend: signer },
  );
  const bundles = await Promise.all(
    indexes.map(async (index) =>
      createProofBundle(index, tree.size, await inclusionProof(tree, index, tree.size), note),
    ),
  );
  return { bundles, rootHash, publicKey: privateKey.publicKey };
}

// node.ts is the module the mock replaces, so its backend comes from the real module.
const { nodeBackend } =
  await vi.importActual<typeof import('../ed25519/node.js')>('../ed25519/node.js');
const webcrypto = webCryptoBackend(globalThis.crypto.subtle);
const backends = [webcrypto, nobleBackend, nodeBackend];

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('the log on the web platform module', () => {
  test('this file runs on web.ts: WebCrypto Ed25519, as in a browser', async () => {
    const platform = await import('#ed25519-platform');
    expect(platform.platformName).toBe('web');
    expect(platform.sha256).toBe(web.sha256);
    expect((await platform.defaultBackend()).name).toBe('webcrypto');
  });

  describe.each(backends)('a checkpoint signed on $name', (signer) => {
    test.each(backends)('verifies on $name', async (verifier) => {
      const { bundles, publicKey } = await logAndProve(signer);
      const trusted = [await noteVerifierKey(ORIGIN, publicKey)];
      for (const [i, license] of licenses.entries()) {
        const options = { backend: verifier };
        expect(await verifyLoggedEntry(license, 'license', bundles[i], trusted, options)).toBe(
          true,
        );
      }
    });
  });

  test('the default backend verifies without being told', async () => {
    const { bundles, publicKey } = await logAndProve(nobleBackend);
    const trusted = [await noteVerifierKey(ORIGIN, publicKey)];
    expect(await verifyLoggedEntry(licenses[0]!, 'license', bundles[0], trusted)).toBe(true);
  });

  test('without crypto.subtle (an insecure origin): @noble/hashes and noble (enabled), same tree', async () => {
    const withSubtle = await logAndProve(webcrypto);
    vi.stubGlobal('crypto', {});
    expect(globalThis.crypto.subtle).toBeUndefined();
    enableNobleFallback();
    const fallback = await web.selectBackend(globalThis.crypto.subtle);
    expect(fallback).toBe(nobleBackend);

    const withoutSubtle = await logAndProve(fallback);
    expect(Buffer.from(withoutSubtle.rootHash).toString('hex')).toBe(
      Buffer.from(withSubtle.rootHash).toString('hex'),
    );
    // Ed25519 is deterministic: the same key signs the same checkpoint alike everywhere.
    expect(withoutSubtle.bundles).toEqual(withSubtle.bundles);
    const trusted = [await noteVerifierKey(ORIGIN, withoutSubtle.publicKey)];
    const options = { backend: fallback };
    expect(
      await verifyLoggedEntry(licenses[1]!, 'license', withoutSubtle.bundles[1], trusted, options),
    ).toBe(true);
  });
});
