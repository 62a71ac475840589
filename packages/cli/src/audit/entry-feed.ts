/**
 * entries.jsonl read in chunks and handed to the examiner ahead of the ordered checks: a
 * few chunks always in flight so that no worker waits for the main thread, and, while the
 * main thread loads the store's records at the start, a larger batch so that the workers
 * verify signatures meanwhile instead of waiting for it (a few percent of an audit's time).
 */
import type { KnownKey } from './examine.js';
import { type ReadDigest, readChunks } from './reader.js';
import type { BatchExaminer, ChunkFacts } from './workers.js';

export class EntryFeed {
  readonly #examiner: BatchExaminer;
  readonly #chunks: AsyncIterator<Uint8Array>;
  readonly #issuers: () => readonly KnownKey[];
  readonly #inFlight: Promise<ChunkFacts>[] = [];
  #more = true;

  /**
   * @param issuers the issuer keys learned so far, sent with each chunk (tokens of a key
   *   not yet learned are checked later by the main thread, see KeyChain.checkDeferred)
   */
  constructor(
    examiner: BatchExaminer,
    path: string,
    chunkBytes: number,
    digest: ReadDigest,
    issuers: () => readonly KnownKey[],
  ) {
    this.#examiner = examiner;
    this.#chunks = readChunks(path, chunkBytes, digest)[Symbol.asyncIterator]();
    this.#issuers = issuers;
  }

  /** Reads and sends chunks until `count` are in flight or the file has no more. */
  async fill(count: number): Promise<void> {
    while (this.#more && this.#inFlight.length < count) {
      const next = await this.#chunks.next();
      if (next.done === true) this.#more = false;
      else this.#inFlight.push(this.#examiner.examine(next.value, this.#issuers()));
    }
  }

  /**
   * The facts of the next chunk in file order, with up to `ahead` chunks sent after it;
   * undefined after the last.
   */
  async next(ahead: number): Promise<ChunkFacts | undefined> {
    await this.fill(ahead + 1);
    return this.#inFlight.shift();
  }

  /** Stops reading (closes the file) when the audit ends before the last chunk. */
  async close(): Promise<void> {
    this.#more = false;
    await this.#chunks.return?.();
  }
}
