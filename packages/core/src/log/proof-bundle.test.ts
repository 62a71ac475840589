import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import {
  certificateClaims,
  generateTestKey,
  licenseClaims,
  revocationClaims,
  signCertificate,
  signLicense,
  signRevocationList,
} from '../../../../test/support/tokens.js';
import type { DocumentKind } from '../codec/kinds.js';
import { decodeDocument } from '../codec/read.js';
import { nodeBackend } from '../ed25519/node.js';
import { ConfigError, LogProofError, MalformedError } from '../errors.js';
import { base64Encode } from './base64.js';
import { type Checkpoint, openCheckpoint, signCheckpoint } from './checkpoint.js';
import { consistencyProof } from './consistency.js';
import { LOG_ENTRY_TAG, logEntry, logEntryHash, parseLogEntry } from './entry.js';
import { inclusionProof } from './inclusion.js';
import { MemoryTree } from './memory-tree.js';
import { formatVerifierKey, noteVerifierKey } from './note-keys.js';
import {
  createProofBundle,
  type LogProofBundle,
  parseProofBundle,
  verifyCheckpointConsistency,
  verifyLoggedEntry,
} from './proof-bundle.js';

const ORIGIN = 'store.example/licensekit/log';

/** Real documents of every kind in both formats, as an issuer emits them. */
function issuedDocuments(): { kind: DocumentKind; bytes: Uint8Array }[] {
  const issuer = generateTestKey();
  const root = generateTestKey();
  return (['jwt', 'cwt'] as const).flatMap((format) =>
    [
      signLicense(issuer, licenseClaims(), { format }),
      signCertificate(root, certificateClaims(issuer), { format }),
      signRevocationList(issuer, revocationClaims(), { format }),
    ].map((token) => {
      const document = decodeDocument(token);
      return { kind: document.kind, bytes: document.bytes };
    }),
  );
}

const documents = issuedDocuments();
const logPrivateKey = await nodeBackend.importPrivateKey(new Uint8Array(randomBytes(32)));
const logKey = { name: ORIGIN, privateKey: logPrivateKey };
const trusted = [await noteVerifierKey(ORIGIN, logPrivateKey.publicKey)];

/** A log holding filler entries around the documents, and a signed checkpoint of it. */
async function logOf(filler: number) {
  const tree = new MemoryTree();
  const indexes: number[] = [];
  for (const [i, document] of documents.entries()) {
    const fillers = Array.from({ length: filler + i }, (_, j) =>
      logEntryHash('revocations', Uint8Array.of(j, i)),
    );
    await tree.append(await Promise.all(fillers));
    indexes.push(tree.size);
    await tree.append([await logEntryHash(document.kind, document.bytes)]);
  }
  const head = { origin: ORIGIN, size: tree.size, rootHash: await tree.root() };
  const note = await signCheckpoint(head, logKey);
  const bundles = await Promise.all(
    indexes.map(async (index) =>
      createProofBundle(index, tree.size, await inclusionProof(tree, index, tree.size), note),
    ),
  );
  return { tree, bundles, note };
}

const { tree, bundles, note } = await logOf(5);

async function failure(run: Promise<unknown>): Promise<string> {
  try {
    await run;
  } catch (error) {
    if (error instanceof MalformedError || error instanceof LogProofError) return error.reason;
    throw error;
  }
  throw new Error('expected a failure');
}

// ---------------------------------------------------------------------------------------
// Entry encoding
// ---------------------------------------------------------------------------------------

describe('log entries', () => {
  test('an entry is the kind tag, then the document bytes unchanged', () => {
    expect(LOG_ENTRY_TAG).toEqual({ license: 1, certificate: 2, revocations: 3 });
    for (const { kind, bytes } of documents) {
      const entry = logEntry(kind, bytes);
      expect(entry[0]).toBe(LOG_ENTRY_TAG[kind]);
      expect(Buffer.from(entry.subarray(1)).equals(Buffer.from(bytes))).toBe(true);
      const parsed = parseLogEntry(entry);
      expect(parsed.kind).toBe(kind);
      expect(Buffer.from(parsed.document).equals(Buffer.from(bytes))).toBe(true);
    }
  });

  test('a JWT is logged as its ASCII, a CWT as its COSE bytes (never base64url text)', () => {
    const [jwtLicense, , , cwtLicense] = documents;
    expect(new TextDecoder().decode(logEntry('license', jwtLicense!.bytes).subarray(1, 4))).toBe(
      'eyJ',
    );
    expect(logEntry('license', cwtLicense!.bytes)[1]).toBe(0xd2); // CBOR tag 18, COSE_Sign1
  });

  test('the same document under another kind is another leaf', async () => {
    const { bytes } = documents[0]!;
    const asLicense = Buffer.from(await logEntryHash('license', bytes)).toString('hex');
    const asCertificate = Buffer.from(await logEntryHash('certificate', bytes)).toString('hex');
    expect(asLicense).not.toBe(asCertificate);
  });

  test('entries that cannot be documents are refused', async () => {
    expect(() => logEntry('license', new Uint8Array(0))).toThrow(ConfigError);
    expect(() => logEntry('certificate', new Uint8Array(4 * 1024 + 1))).toThrow(ConfigError);
    expect(() => logEntry('other' as DocumentKind, Uint8Array.of(1))).toThrow(ConfigError);
    await expect(logEntryHash('license', new Uint8Array(0))).rejects.toBeInstanceOf(ConfigError);
    for (const entry of [
      Uint8Array.of(0, 1),
      Uint8Array.of(4, 1),
      Uint8Array.of(1),
      new Uint8Array(0),
    ]) {
      expect(() => parseLogEntry(entry)).toThrow(
        expect.objectContaining({ reason: 'bad_log_entry' }),
      );
    }
  });
});

// ---------------------------------------------------------------------------------------
// Proof bundles
// ---------------------------------------------------------------------------------------

describe('verifyLoggedEntry', () => {
  test('every issued document verifies against its bundle, also after a JSON round trip', async () => {
    for (const [i, { kind, bytes }] of documents.entries()) {
      const bundle = bundles[i]!;
      expect(await verifyLoggedEntry(bytes, kind, bundle, trusted)).toBe(true);
      const carried: unknown = JSON.parse(JSON.stringify(bundle));
      expect(await verifyLoggedEntry(bytes, kind, carried, trusted)).toBe(true);
    }
  });

  test('trusted keys may be given as verifier key strings', async () => {
    const keyString = formatVerifierKey(trusted[0]!);
    const { kind, bytes } = documents[0]!;
    expect(await verifyLoggedEntry(bytes, kind, bundles[0], [keyString])).toBe(true);
  });

  test('another document, kind or index is not_included', async () => {
    const [first, second] = documents;
    const bundle = bundles[0]!;
    expect(await failure(verifyLoggedEntry(second!.bytes, first!.kind, bundle, trusted))).toBe(
      'not_included',
    );
    expect(await failure(verifyLoggedEntry(first!.bytes, 'certificate', bundle, trusted))).toBe(
      'not_included',
    );
    const tampered = first!.bytes.slice();
    tampered[10] = tampered[10]! ^ 1;
    expect(await failure(verifyLoggedEntry(tampered, first!.kind, bundle, trusted))).toBe(
      'not_included',
    );
    const shifted = { ...bundle, index: bundle.index + 1 };
    expect(await failure(verifyLoggedEntry(first!.bytes, first!.kind, shifted, trusted))).toBe(
      'not_included',
    );
    const otherPath = { ...bundle, inclusion: bundles[1]!.inclusion };
    expect(await failure(verifyLoggedEntry(first!.bytes, first!.kind, otherPath, trusted))).toBe(
      'not_included',
    );
  });

  test('the size comes from the signed checkpoint: a bundle that disagrees is bad_proof', async () => {
    const { kind, bytes } = documents[0]!;
    const resized = { ...bundles[0]!, treeSize: bundles[0]!.treeSize + 1 };
    expect(await failure(verifyLoggedEntry(bytes, kind, resized, trusted))).toBe('bad_proof');
  });

  test('a checkpoint by an untrusted or a wrong key fails before any proof is checked', async () => {
    const { kind, bytes } = documents[0]!;
    const stranger = await nodeBackend.importPrivateKey(new Uint8Array(randomBytes(32)));
    const strangerKeys = [await noteVerifierKey(ORIGIN, stranger.publicKey)];
    expect(await failure(verifyLoggedEntry(bytes, kind, bundles[0], strangerKeys))).toBe(
      'no_trusted_signature',
    );
    const forged = await signCheckpoint(
      { origin: ORIGIN, size: tree.size, rootHash: await tree.root() },
      { name: ORIGIN, privateKey: stranger },
    );
    const swapped = { ...bundles[0]!, checkpoint: forged };
    expect(await failure(verifyLoggedEntry(bytes, kind, swapped, trusted))).toBe(
      'no_trusted_signature',
    );
    const options = { origin: 'another.example/log' };
    expect(await failure(verifyLoggedEntry(bytes, kind, bundles[0], trusted, options))).toBe(
      'wrong_origin',
    );
  });

  const good = bundles[0]!;
  const hash = good.inclusion[0]!;
  test.each([
    ['not an object', 'bundle'],
    ['null', null],
    ['an array', [good]],
    ['an extra member', { ...good, extra: 1 }],
    ['a missing member', { index: good.index, treeSize: good.treeSize, inclusion: good.inclusion }],
    ['a string index', { ...good, index: String(good.index) }],
    ['a fractional index', { ...good, index: 0.5 }],
    ['index = treeSize', { ...good, index: good.treeSize }],
    ['a negative index', { ...good, index: -1 }],
    ['a base64url hash', { ...good, inclusion: [hash.replace(/=$/, '')] }],
    ['a 31-byte hash', { ...good, inclusion: [base64Encode(new Uint8Array(31))] }],
    ['a non-array inclusion', { ...good, inclusion: hash }],
    ['65 hashes', { ...good, inclusion: Array(65).fill(hash) }],
    ['a non-string checkpoint', { ...good, checkpoint: 1 }],
  ])('a bundle with %s is bad_proof', async (_, bundle) => {
    expect(() => parseProofBundle(bundle)).toThrow(MalformedError);
    const { kind, bytes } = documents[0]!;
    expect(await failure(verifyLoggedEntry(bytes, kind, bundle, trusted))).toBe('bad_proof');
  });

  test('createProofBundle refuses a leaf outside the tree or a proof of non-hashes', () => {
    expect(() => createProofBundle(3, 3, [], note)).toThrow(ConfigError);
    expect(() => createProofBundle(0, 2, [new Uint8Array(31)], note)).toThrow(ConfigError);
  });

  test('a bundle parses into exactly its four members', () => {
    const parsed: LogProofBundle = parseProofBundle(JSON.parse(JSON.stringify(good)));
    expect(parsed).toEqual(good);
  });
});

describe('verifyCheckpointConsistency', () => {
  test('a newer checkpoint of the same log extends an older one', async () => {
    const older = await openCheckpoint(note, trusted);
    const grown = new MemoryTree();
    const entries = Array.from({ length: tree.size + 17 }, (_, i) =>
      i < tree.size ? tree.nodeHash(0, i) : logEntryHash('license', Uint8Array.of(i)),
    );
    await grown.append(await Promise.all(entries));
    const newerNote = await signCheckpoint(
      { origin: ORIGIN, size: grown.size, rootHash: await grown.root() },
      logKey,
    );
    const newer = await openCheckpoint(newerNote, trusted);
    const proof = await consistencyProof(grown, older.size, newer.size);
    expect(await verifyCheckpointConsistency(older, newer, proof)).toBe(true);

    const forked: Checkpoint = {
      ...newer,
      rootHash: await logEntryHash('license', Uint8Array.of(1)),
    };
    expect(await failure(verifyCheckpointConsistency(older, forked, proof))).toBe('inconsistent');
    const elsewhere: Checkpoint = { ...newer, origin: 'another.example/log' };
    expect(await failure(verifyCheckpointConsistency(older, elsewhere, proof))).toBe(
      'wrong_origin',
    );
    expect(await failure(verifyCheckpointConsistency(newer, older, proof))).toBe('inconsistent');
  });
});
