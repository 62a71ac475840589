/**
 * Reading an export: its .jsonl files line by line, never whole (entries.jsonl grows with
 * every token the store ever issued), and its small JSON files whole. Each file is hashed
 * as it is read, to compare with the manifest.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { UsageError } from '../lib/errors.js';
import { EXPORT_FORMAT, EXPORT_VERSION, type ExportManifest, FILES } from './layout.js';

export interface Line {
  /** 1-based. */
  readonly number: number;
  readonly text: string;
}

export interface ReadDigest {
  bytes: number;
  records: number;
  sha256: string;
}

/**
 * The non-empty lines of a text file, streamed. `digest` is filled in when the file has
 * been read to its end.
 */
export async function* readLines(path: string, digest?: ReadDigest): AsyncGenerator<Line> {
  const stream = createReadStream(path);
  const hash: Hash = createHash('sha256');
  let bytes = 0;
  stream.on('data', (chunk) => {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  });
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let number = 0;
  let records = 0;
  try {
    for await (const text of lines) {
      number += 1;
      if (text.trim() === '') continue;
      records += 1;
      yield { number, text };
    }
  } finally {
    lines.close();
    stream.destroy();
  }
  if (digest !== undefined) {
    digest.bytes = bytes;
    digest.records = records;
    digest.sha256 = hash.digest('hex');
  }
}

/** Where readline breaks lines (crlfDelay ∞): CRLF, LF or a lone CR. */
const LINE_BREAK = /\r?\n|\r(?!\n)/;

/**
 * The lines of a chunk of a text file that ends at a line break (or at the end of the
 * file), as readLines numbers and skips them: `line` counts from 1 within the chunk, blank
 * lines count but are not returned. What the audit's workers run on the chunks of
 * readChunks.
 */
export function chunkLines(text: string): { lines: Line[]; count: number } {
  // An export's own lines end in LF only: cut them with indexOf, which is several times
  // faster than the regular expression, and keep the expression for text with a CR.
  if (text.includes('\r')) return numbered(text.split(LINE_BREAK));
  const lines: Line[] = [];
  let count = 0;
  for (let start = 0; start < text.length; ) {
    const end = text.indexOf('\n', start);
    const stop = end === -1 ? text.length : end;
    count += 1;
    const part = text.slice(start, stop);
    if (part.trim() !== '') lines.push({ number: count, text: part });
    start = stop + 1;
  }
  return { lines, count };
}

function numbered(parts: string[]): { lines: Line[]; count: number } {
  // A chunk ends with its last line's break: no line after it.
  if (parts.length > 0 && parts.at(-1) === '') parts.pop();
  const lines: Line[] = [];
  parts.forEach((part, at) => {
    if (part.trim() !== '') lines.push({ number: at + 1, text: part });
  });
  return { lines, count: parts.length };
}

/**
 * A file as chunks of about `size` bytes that each end just after a line feed (the last
 * one at the end of the file), hashed as read into `digest` (bytes and sha256; records are
 * the caller's to count). Each chunk is a copy the caller owns: it can be transferred to a
 * worker thread. A CR before the cut stays with its LF, so no line break is split.
 */
export async function* readChunks(
  path: string,
  size: number,
  digest?: ReadDigest,
): AsyncGenerator<Uint8Array> {
  const stream = createReadStream(path, { highWaterMark: size });
  const hash: Hash = createHash('sha256');
  let bytes = 0;
  let carry: Uint8Array = new Uint8Array(0);
  try {
    for await (const read of stream) {
      const chunk = read as Buffer;
      hash.update(chunk);
      bytes += chunk.length;
      const data = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
      const cut = data.lastIndexOf(10);
      if (cut === -1) {
        carry = new Uint8Array(data);
        continue;
      }
      carry = new Uint8Array(data.subarray(cut + 1));
      yield new Uint8Array(data.subarray(0, cut + 1));
    }
  } finally {
    stream.destroy();
  }
  if (carry.length > 0) yield carry;
  if (digest !== undefined) {
    digest.bytes = bytes;
    digest.sha256 = hash.digest('hex');
  }
}

/** Parsed JSON records of a .jsonl file; a bad line is reported, not thrown. */
export async function* readRecords(
  path: string,
  onBadLine: (line: number) => void,
  digest?: ReadDigest,
): AsyncGenerator<Record<string, unknown>> {
  for await (const line of readLines(path, digest)) {
    let value: unknown;
    try {
      value = JSON.parse(line.text);
    } catch {
      value = undefined;
    }
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      yield value as Record<string, unknown>;
    } else {
      onBadLine(line.number);
    }
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** A small JSON file of the export, or undefined when it is missing or not JSON. */
export async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The manifest, checked enough to know the directory is an export this version reads.
 * @throws UsageError when DIR is not an export
 */
export async function readManifest(dir: string): Promise<ExportManifest> {
  const path = join(dir, FILES.manifest);
  if (!(await exists(dir))) throw new UsageError(`export directory ${dir} does not exist`);
  const manifest = (await readJson(path)) as Partial<ExportManifest> | undefined;
  if (manifest === undefined || manifest.format !== EXPORT_FORMAT) {
    throw new UsageError(
      `${dir} is not a licensekit export (no ${FILES.manifest}); make one with licensekit export --store URL --out DIR`,
    );
  }
  if (manifest.version !== EXPORT_VERSION) {
    throw new UsageError(
      `${dir} is an export of version ${String(manifest.version)}; this licensekit reads version ${EXPORT_VERSION}`,
    );
  }
  if (!(await exists(join(dir, FILES.entries)))) {
    throw new UsageError(`${dir} has no ${FILES.entries}; the export is incomplete`);
  }
  return manifest as ExportManifest;
}
