import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { Ed25519PrivateKey } from '../ed25519/backend.js';
import { nodeBackend } from '../ed25519/node.js';
import { ConfigError, KeyError, LogProofError, MalformedError } from '../errors.js';
import { base64Decode, base64Encode } from './base64.js';
import {
  type Checkpoint,
  formatCheckpoint,
  MAX_CHECKPOINT_LENGTH,
  openCheckpoint,
  parseCheckpoint,
  signCheckpoint,
} from './checkpoint.js';
import { MAX_NOTE_LENGTH, MAX_NOTE_SIGNATURES, openNote, signNote, verifyNote } from './note.js';
import {
  formatVerifierKey,
  type NoteVerifierKey,
  noteKeyHash,
  noteVerifierKey,
  parseVerifierKey,
} from './note-keys.js';

interface NoteVectors {
  signerKey: string;
  verifierKey: string;
  text: string;
  note: string;
  otherVerifierKey: string;
}

const go = JSON.parse(
  readFileSync(new URL('./testdata/signed-note.json', import.meta.url), 'utf8'),
) as NoteVectors;

/** The seed inside a Go signer key, PRIVATE+KEY+<name>+<id>+base64(0x01 ‖ seed). */
function seedOfSignerKey(signerKey: string): Uint8Array {
  const typed = base64Decode(signerKey.split('+').slice(4).join('+'))!;
  expect(typed[0]).toBe(1);
  return typed.subarray(1);
}

const ORIGIN = 'store.example/licensekit/log';
const rootHash = new Uint8Array(createHash('sha256').update('a root').digest());

interface TestSigner {
  name: string;
  privateKey: Ed25519PrivateKey;
  verifier: NoteVerifierKey;
}

async function testSigner(name = ORIGIN): Promise<TestSigner> {
  const privateKey = await nodeBackend.importPrivateKey(new Uint8Array(randomBytes(32)));
  return { name, privateKey, verifier: await noteVerifierKey(name, privateKey.publicKey) };
}

const logKey = await testSigner();
const otherKey = await testSigner('witness.example/w1');
const signed = await signNote('hello\n', logKey);
const signatureLine = signed.slice(signed.indexOf('\u2014'));
const signatureBase64 = signatureLine.slice(signatureLine.lastIndexOf(' ') + 1, -1);

async function reasonOf(run: Promise<unknown>): Promise<string> {
  try {
    await run;
  } catch (error) {
    if (error instanceof MalformedError || error instanceof LogProofError) return error.reason;
    throw error;
  }
  throw new Error('expected a failure');
}

// ---------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------

describe('note keys', () => {
  test('the key ID is SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[0:4], big-endian', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.stringMatching(/^[a-z0-9./-]{1,40}$/),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        async (name, publicKey) => {
          const digest = createHash('sha256')
            .update(name)
            .update(Uint8Array.of(0x0a, 0x01))
            .update(publicKey)
            .digest();
          expect(await noteKeyHash(name, publicKey)).toBe(digest.readUInt32BE(0));
        },
      ),
      { numRuns: 50 },
    );
  });

  test('golang.org/x/mod sumdb/note keys parse, and format back byte for byte', async () => {
    for (const text of [go.verifierKey, go.otherVerifierKey]) {
      const key = await parseVerifierKey(text);
      expect(formatVerifierKey(key)).toBe(text);
    }
    const peter = await parseVerifierKey(go.verifierKey);
    expect(peter.name).toBe('PeterNeumann');
    expect(peter.keyHash).toBe(0xc74f20a3);
    const seed = seedOfSignerKey(go.signerKey);
    const privateKey = await nodeBackend.importPrivateKey(seed);
    expect(Buffer.from(privateKey.publicKey).toString('hex')).toBe(
      Buffer.from(peter.publicKey).toString('hex'),
    );
  });

  test.each([
    ['a wrong key ID', go.verifierKey.replace('c74f20a3', 'c74f20a4')],
    ['an uppercase key ID', go.verifierKey.replace('c74f20a3', 'C74F20A3')],
    ['another name', go.verifierKey.replace('PeterNeumann', 'PeterNeumanm')],
    ['a name with a space', go.verifierKey.replace('PeterNeumann', 'Peter Neumann')],
    ['no name', go.verifierKey.replace('PeterNeumann', '')],
    ['no key ID', 'PeterNeumann+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'],
    ['a short key ID', go.verifierKey.replace('c74f20a3', 'c74f20a')],
    ['a truncated key', go.verifierKey.slice(0, -1)],
    ['type byte 2', go.verifierKey.replace('+ARpc2', '+AhpC2')],
    ['a 31-byte key', 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy'],
    ['nothing', ''],
  ])('a verifier key with %s is a KeyError', async (_, text) => {
    await expect(parseVerifierKey(text)).rejects.toBeInstanceOf(KeyError);
  });

  test('noteVerifierKey refuses bad names and keys', async () => {
    for (const name of ['', 'a b', 'a+b', 'a\nb', 'a\u00a0b', 'tab\t']) {
      await expect(noteVerifierKey(name, new Uint8Array(32))).rejects.toBeInstanceOf(KeyError);
    }
    await expect(noteVerifierKey('ok', new Uint8Array(33))).rejects.toBeInstanceOf(KeyError);
  });

  test('noteVerifierKey keeps a copy of a key given as a Node Buffer (its slice() is a view)', async () => {
    const bytes = randomBytes(32);
    const key = await noteVerifierKey('example.com/log', bytes);
    const before = Buffer.from(key.publicKey).toString('hex');
    expect(before).toBe(bytes.toString('hex'));
    bytes.fill(0);
    expect(Buffer.from(key.publicKey).toString('hex')).toBe(before);
  });
});

// ---------------------------------------------------------------------------------------
// Signed notes
// ---------------------------------------------------------------------------------------

describe('signed notes', () => {
  test('signing reproduces the sumdb/note example byte for byte, and it opens', async () => {
    const privateKey = await nodeBackend.importPrivateKey(seedOfSignerKey(go.signerKey));
    expect(await signNote(go.text, { name: 'PeterNeumann', privateKey })).toBe(go.note);
    const opened = await openNote(go.note, [await parseVerifierKey(go.verifierKey)]);
    expect(opened.text).toBe(go.text);
    expect(opened.verifiedBy.map((k) => k.name)).toEqual(['PeterNeumann']);
    expect(await verifyNote(new TextEncoder().encode(go.note), [opened.verifiedBy[0]!])).toBe(true);
  });

  test('a signature by an untrusted key is not enough', async () => {
    const note = await signNote('hello\n', otherKey);
    expect(await reasonOf(openNote(note, [logKey.verifier]))).toBe('no_trusted_signature');
    expect(await verifyNote(note, [logKey.verifier])).toBe(false);
    expect(await reasonOf(openNote(note, []))).toBe('no_trusted_signature');
  });

  test('unknown signatures are ignored: a witness may cosign, a key may rotate', async () => {
    const note = await signNote('hello\n', [otherKey, logKey]);
    const { verifiedBy } = await openNote(note, [logKey.verifier]);
    expect(verifiedBy).toEqual([logKey.verifier]);
    const both = await openNote(note, [logKey.verifier, otherKey.verifier]);
    expect(both.verifiedBy).toHaveLength(2);
  });

  test('a key matching only the name or only the key ID is another key, and ignored', async () => {
    const note = await signNote('hello\n', logKey);
    const sameName = { ...logKey.verifier, keyHash: (logKey.verifier.keyHash + 1) >>> 0 };
    const sameId = { ...logKey.verifier, name: 'someone.else' };
    expect(await reasonOf(openNote(note, [sameName, sameId]))).toBe('no_trusted_signature');
  });

  test('a trusted key whose signature fails rejects the note', async () => {
    const note = await signNote('hello\n', [logKey, otherKey]);
    const impostor = { ...logKey.verifier, publicKey: otherKey.verifier.publicKey };
    expect(await reasonOf(openNote(note, [impostor, otherKey.verifier]))).toBe('invalid_signature');
    const edited = note.replace('hello', 'hellO');
    expect(await reasonOf(openNote(edited, [logKey.verifier]))).toBe('invalid_signature');
  });

  test('a repeated signature line counts once', async () => {
    const note = await signNote('hello\n', logKey);
    const line = note.slice(note.indexOf('\u2014'));
    const { verifiedBy } = await openNote(note + line, [logKey.verifier]);
    expect(verifiedBy).toHaveLength(1);
  });

  test.each([
    ['no blank line before the signatures', `hello\n${signatureLine}`, 'bad_note'],
    ['no signature', 'hello\n\n', 'bad_note'],
    ['no final newline', signed.slice(0, -1), 'bad_note'],
    ['a hyphen for the em dash', signed.replace('\u2014', '-'), 'bad_note'],
    ['two spaces after the name', signed.replace(`${ORIGIN} `, `${ORIGIN}  `), 'bad_note'],
    ['unpadded base64', signed.replace('=\n', '\n'), 'bad_note'],
    [
      'a base64url character',
      signed.replace(signatureBase64, `-${signatureBase64.slice(1)}`),
      'bad_note',
    ],
    ['a short signature', `hello\n\n\u2014 ${ORIGIN} AAAA\n`, 'bad_note'],
    ['a name with "+"', signed.replaceAll(ORIGIN, `${ORIGIN}+x`), 'bad_note'],
    ['a CR', signed.replace('hello\n', 'hello\r\n'), 'bad_note'],
    ['a tab', signed.replace('hello', 'hel\tlo'), 'bad_note'],
    ['an unpaired surrogate', signed.replace('hello', 'hel\ud800lo'), 'bad_encoding'],
    ['too many signatures', signed + signatureLine.repeat(MAX_NOTE_SIGNATURES), 'bad_note'],
    ['too many bytes', `${'a'.repeat(MAX_NOTE_LENGTH)}\n\n${signatureLine}`, 'too_large'],
  ])('a note with %s is malformed', async (_, note, reason) => {
    expect(await reasonOf(openNote(note, [logKey.verifier]))).toBe(reason);
    expect(await verifyNote(note, [logKey.verifier])).toBe(false);
  });

  test('invalid UTF-8 bytes are bad_encoding; neither a string nor bytes is bad_note', async () => {
    const bytes = new TextEncoder().encode(signed);
    bytes[1] = 0xff;
    expect(await reasonOf(openNote(bytes, [logKey.verifier]))).toBe('bad_encoding');
    expect(await reasonOf(openNote(42 as unknown as string, [logKey.verifier]))).toBe('bad_note');
  });

  test('the text may hold blank lines and em dashes: the last blank line separates', async () => {
    const text = 'a\n\n\u2014 not a signature\n\n';
    const note = await signNote(text, logKey);
    expect((await openNote(note, [logKey.verifier])).text).toBe(text);
  });

  test('signing refuses what the format cannot carry', async () => {
    for (const text of ['no newline', '', 'cr\r\n', 'nul\u0000\n', 'lone \udc00\n']) {
      await expect(signNote(text, logKey)).rejects.toBeInstanceOf(ConfigError);
    }
    for (const name of ['', 'a b', 'a+b']) {
      await expect(signNote('x\n', { ...logKey, name })).rejects.toBeInstanceOf(ConfigError);
    }
    await expect(signNote('x\n', [])).rejects.toBeInstanceOf(ConfigError);
    await expect(signNote(`${'a'.repeat(MAX_NOTE_LENGTH)}\n`, logKey)).rejects.toBeInstanceOf(
      ConfigError,
    );
  });

  test('trusted keys that are not keys are a ConfigError, not a verdict', async () => {
    const bad = [{ name: 'x', keyHash: -1, publicKey: new Uint8Array(32) }];
    await expect(verifyNote(signed, bad)).rejects.toBeInstanceOf(ConfigError);
  });
});

// ---------------------------------------------------------------------------------------
// Checkpoints
// ---------------------------------------------------------------------------------------

describe('checkpoints', () => {
  const head: Checkpoint = { origin: ORIGIN, size: 1234, rootHash, extensions: [] };
  const rootBase64 = base64Encode(rootHash);

  test('format: origin, decimal size, padded base64 root, each line ending in a newline', () => {
    expect(formatCheckpoint(head)).toBe(`${ORIGIN}\n1234\n${rootBase64}\n`);
    expect(formatCheckpoint({ origin: ORIGIN, size: 0, rootHash, extensions: ['x y'] })).toBe(
      `${ORIGIN}\n0\n${rootBase64}\nx y\n`,
    );
  });

  test('sign and open round-trip, extensions included', async () => {
    const withExtension = { ...head, extensions: ['ext one', '— two'] };
    const note = await signCheckpoint(withExtension, logKey);
    expect(await openCheckpoint(note, [logKey.verifier])).toEqual(withExtension);
    expect(parseCheckpoint(formatCheckpoint(withExtension))).toEqual(withExtension);
  });

  test('round-trips any size and root (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        async (size, root) => {
          const checkpoint = { origin: ORIGIN, size, rootHash: root, extensions: [] };
          expect(parseCheckpoint(formatCheckpoint(checkpoint))).toEqual(checkpoint);
        },
      ),
      { numRuns: 100 },
    );
  });

  test('a checkpoint signed only by an untrusted key is refused', async () => {
    const note = await signCheckpoint(head, otherKey);
    expect(await reasonOf(openCheckpoint(note, [logKey.verifier]))).toBe('no_trusted_signature');
  });

  test.each([
    ['size', (note: string) => note.replace('\n1234\n', '\n1235\n')],
    ['root', (note: string) => note.replace(rootBase64, base64Encode(new Uint8Array(32)))],
    ['origin', (note: string) => note.replace(`${ORIGIN}\n`, 'store.example/other\n')],
  ])('a tampered %s fails the signature', async (_, tamper) => {
    const note = await signCheckpoint(head, logKey);
    expect(await reasonOf(openCheckpoint(tamper(note), [logKey.verifier]))).toBe(
      'invalid_signature',
    );
  });

  test('the origin must be the signing key name, or the origin asked for', async () => {
    const foreign = await testSigner('another.example/log');
    const note = await signCheckpoint(head, foreign);
    expect(await reasonOf(openCheckpoint(note, [foreign.verifier]))).toBe('wrong_origin');
    const options = { origin: ORIGIN };
    expect(await openCheckpoint(note, [foreign.verifier], options)).toEqual(head);
    const own = await signCheckpoint(head, logKey);
    const elsewhere = { origin: 'another.example/log' };
    expect(await reasonOf(openCheckpoint(own, [logKey.verifier], elsewhere))).toBe('wrong_origin');
  });

  test('a note signature that is fine but a checkpoint text that is not is bad_checkpoint', async () => {
    const note = await signNote(`${ORIGIN}\n01\n${rootBase64}\n`, logKey);
    expect(await reasonOf(openCheckpoint(note, [logKey.verifier]))).toBe('bad_checkpoint');
  });

  test('a checkpoint without the blank line before its signature is bad_note', async () => {
    const note = await signCheckpoint(head, logKey);
    expect(await reasonOf(openCheckpoint(note.replace('\n\n', '\n'), [logKey.verifier]))).toBe(
      'bad_note',
    );
  });

  const text = (lines: string[]): string => `${lines.join('\n')}\n`;
  test.each([
    ['a leading zero', text([ORIGIN, '01', rootBase64])],
    ['a zero size written 00', text([ORIGIN, '00', rootBase64])],
    ['a sign', text([ORIGIN, '+1', rootBase64])],
    ['a negative size', text([ORIGIN, '-1', rootBase64])],
    ['an exponent', text([ORIGIN, '1e3', rootBase64])],
    ['a fraction', text([ORIGIN, '1.0', rootBase64])],
    ['a size beyond 2^53 - 1', text([ORIGIN, '9007199254740992', rootBase64])],
    ['a space after the size', text([ORIGIN, '1234 ', rootBase64])],
    ['a space before the root', text([ORIGIN, '1234', ` ${rootBase64}`])],
    ['a space after the origin', text([`${ORIGIN} `, '1234', rootBase64])],
    ['a no-break space before the origin', text([`\u00a0${ORIGIN}`, '1234', rootBase64])],
    ['an empty origin', text(['', '1234', rootBase64])],
    ['a missing root', text([ORIGIN, '1234'])],
    ['an empty extension line', text([ORIGIN, '1234', rootBase64, ''])],
    ['a blank extension line', text([ORIGIN, '1234', rootBase64, ' '])],
    ['a 31-byte root', text([ORIGIN, '1234', base64Encode(new Uint8Array(31))])],
    ['a 33-byte root', text([ORIGIN, '1234', base64Encode(new Uint8Array(33))])],
    ['an unpadded root', text([ORIGIN, '1234', rootBase64.replace('=', '')])],
    [
      'a base64url root',
      text([ORIGIN, '1234', base64Encode(new Uint8Array(32).fill(0xfb))]).replace(/\+/g, '-'),
    ],
    ['a root with non-zero trailing bits', text([ORIGIN, '1234', `${rootBase64.slice(0, 42)}B=`])],
    ['CRLF line ends', text([ORIGIN, '1234', rootBase64]).replace(/\n/g, '\r\n')],
    ['a control character in the origin', text([`${ORIGIN}\u0007`, '1234', rootBase64])],
    ['no final newline', `${ORIGIN}\n1234\n${rootBase64}`],
  ])('parse refuses %s', (_, input) => {
    expect(() => parseCheckpoint(input)).toThrow(MalformedError);
    try {
      parseCheckpoint(input);
    } catch (error) {
      expect((error as MalformedError).reason).toBe('bad_checkpoint');
    }
  });

  test('parse refuses a checkpoint over its size cap as too_large', () => {
    const long = text([ORIGIN, '1', rootBase64, 'x'.repeat(MAX_CHECKPOINT_LENGTH)]);
    expect(() => parseCheckpoint(long)).toThrow(expect.objectContaining({ reason: 'too_large' }));
  });

  test('format refuses what parse would refuse', () => {
    const bad = [
      { ...head, origin: '' },
      { ...head, origin: ' x' },
      { ...head, origin: 'a\nb' },
      { ...head, size: -1 },
      { ...head, size: 1.5 },
      { ...head, size: 2 ** 53 },
      { ...head, rootHash: new Uint8Array(31) },
      { ...head, extensions: [''] },
      { ...head, extensions: ['a\nb'] },
      { ...head, extensions: ['x'.repeat(MAX_CHECKPOINT_LENGTH)] },
    ];
    for (const checkpoint of bad) {
      expect(() => formatCheckpoint(checkpoint), JSON.stringify(checkpoint.origin)).toThrow(
        ConfigError,
      );
    }
  });
});
