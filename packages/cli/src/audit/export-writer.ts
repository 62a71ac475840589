/**
 * Writes an export's files: .jsonl files one record at a time through a stream that
 * waits when the disk is slower than the store (so an export of millions of entries never
 * holds more than a page), each file hashed and counted for the manifest as it is written.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileSummary } from './layout.js';

export class JsonlWriter {
  readonly #stream: WriteStream;
  readonly #hash = createHash('sha256');
  #records = 0;
  #bytes = 0;

  constructor(path: string) {
    this.#stream = createWriteStream(path, { mode: 0o644 });
  }

  async write(record: unknown): Promise<void> {
    const line = Buffer.from(`${JSON.stringify(record)}\n`);
    this.#hash.update(line);
    this.#records += 1;
    this.#bytes += line.length;
    if (!this.#stream.write(line)) await once(this.#stream, 'drain');
  }

  async close(): Promise<FileSummary> {
    this.#stream.end();
    await once(this.#stream, 'finish');
    return { records: this.#records, bytes: this.#bytes, sha256: this.#hash.digest('hex') };
  }
}

/** A small file of the export, written whole. */
export async function writeWhole(dir: string, name: string, text: string): Promise<FileSummary> {
  const bytes = Buffer.from(text);
  await writeFile(join(dir, name), bytes, { mode: 0o644 });
  return {
    records: 1,
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}
