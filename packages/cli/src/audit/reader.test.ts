import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { chunkLines, type Line, type ReadDigest, readChunks, readLines } from './reader.js';

/**
 * The audit's workers read entries.jsonl as chunks cut at line feeds (readChunks, then
 * chunkLines in the worker) where the rest of the audit reads files with readline
 * (readLines): both must see the same lines with the same numbers, whatever the line
 * breaks, blank lines, multi-byte characters and chunk size.
 */
const dir = mkdtempSync(join(tmpdir(), 'licensekit-reader-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function viaReadline(path: string): Promise<{ lines: Line[]; digest: ReadDigest }> {
  const digest: ReadDigest = { bytes: 0, records: 0, sha256: '' };
  const lines: Line[] = [];
  for await (const line of readLines(path, digest)) lines.push(line);
  return { lines, digest };
}

async function viaChunks(
  path: string,
  size: number,
): Promise<{ lines: Line[]; digest: ReadDigest }> {
  const digest: ReadDigest = { bytes: 0, records: 0, sha256: '' };
  const lines: Line[] = [];
  let base = 0;
  const decoder = new TextDecoder();
  for await (const chunk of readChunks(path, size, digest)) {
    const { lines: found, count } = chunkLines(decoder.decode(chunk));
    for (const line of found) lines.push({ number: base + line.number, text: line.text });
    base += count;
  }
  digest.records = lines.length;
  return { lines, digest };
}

const piece = fc.oneof(
  fc.constantFrom('\n', '\r\n', '\r', ' ', '', '{"index":1}', 'é', '€', '😀'),
  fc.string({ maxLength: 12 }),
);

describe('readChunks + chunkLines', () => {
  let files = 0;
  /** Any file made of `pieces`, read in chunks of any size, reads as readline reads it. */
  const readsAsReadline = (pieces: fc.Arbitrary<string>) =>
    fc.assert(
      fc.asyncProperty(
        fc.array(pieces, { maxLength: 40 }),
        fc.integer({ min: 1, max: 64 }),
        async (parts, size) => {
          const path = join(dir, `file-${++files}`);
          writeFileSync(path, parts.join(''));
          const expected = await viaReadline(path);
          const actual = await viaChunks(path, size);
          expect(actual.lines).toEqual(expected.lines);
          expect(actual.digest).toEqual(expected.digest);
        },
      ),
      { numRuns: 300 },
    );

  test('give the lines readline gives, numbered alike, and the same digest', () =>
    readsAsReadline(piece));

  test('the same with line feeds only (the fast path an export takes)', () =>
    readsAsReadline(
      fc.oneof(
        fc.constantFrom('\n', '\n\n', ' ', '', '{"index":1}', 'é', '😀'),
        fc.string({ maxLength: 12 }).filter((text) => !text.includes('\r')),
      ),
    ));

  test('every chunk but the last ends with a line feed', async () => {
    const path = join(dir, 'cut');
    writeFileSync(path, 'a\nbb\r\nccc\rdddd\n\neeeee');
    const chunks: string[] = [];
    for await (const chunk of readChunks(path, 3)) chunks.push(Buffer.from(chunk).toString());
    expect(chunks.join('')).toBe('a\nbb\r\nccc\rdddd\n\neeeee');
    expect(chunks.slice(0, -1).every((chunk) => chunk.endsWith('\n'))).toBe(true);
    expect(chunks.at(-1)).toBe('eeeee');
  });
});
