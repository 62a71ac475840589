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
