/**
 * Signature checks on worker threads. Decoding a document, hashing it and verifying its
 * Ed25519 signature is most of an audit's CPU time and each entry is independent, so the
 * main thread reads entries.jsonl in chunks of raw bytes cut at line feeds and transfers
 * them (no copy, no string) to a pool of workers (node:worker_threads, one per available
 * core), which split, parse and examine the lines; the results come back in chunk order,
 * as JSON text with the leaf hashes in one transferred buffer (packFacts), and the main thread does the
 * ordered checks (lineage, tree, revocations).
 *
 * The worker runs this same file: `licensekit` bundles each command into one file
 * (scripts/build.mjs), so the worker entry is the command's own bundle, started with a
 * marker in workerData that the bootstrap at the bottom of this module looks for. From the
 * TypeScript sources (tests importing the module) Node 20 cannot start a .ts worker, so the
 * pool then falls back to examining in the main thread.
 */
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { type CertificateFacts, type EntryFacts, Examiner, type KnownKey } from './examine.js';
import { chunkLines } from './reader.js';

const ROLE = 'licensekit-audit-worker';
const LEAF_LENGTH = 32;
/**
 * A worker holds a few certificates and key handles, and its garbage is one chunk's: a
 * small young generation keeps each thread's memory near its floor (the audit's memory
 * budget is for the main thread's per-license state) at no measurable cost in speed.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 128 };

interface WorkerInit {
  readonly role: typeof ROLE;
  readonly roots: readonly KnownKey[];
}

interface ChunkRequest {
  readonly id: number;
  readonly chunk: Uint8Array;
  readonly issuers: readonly KnownKey[];
}

/** What a chunk of entries.jsonl holds, examined. */
export interface ChunkFacts {
  /** Facts of each non-blank line, in order; `line` counts from 1 within the chunk. */
  readonly facts: EntryFacts[];
  /** Lines of the chunk, blank ones included (to number the next chunk's lines). */
  readonly lines: number;
}

/**
 * A chunk's facts as posted back. The structured clone of ~150 facts, each with its claims
 * and certificate, cost about a tenth of an entry's time (cloning on the worker, rebuilding
 * on the main thread); JSON text of the same facts costs a fraction of it. What JSON cannot
 * carry goes beside it: the leaf hashes in one transferred buffer (slot `at` of fact `at`),
 * each embedded certificate once (the facts name it by its place), and the rare deferred
 * signature (bytes) with its fact's place.
 */
interface PackedFacts {
  readonly json: string;
  readonly leaves: ArrayBuffer;
  readonly certificates: readonly CertificateFacts[];
  readonly deferred: readonly { readonly at: number; readonly check: Deferred }[];
  readonly lines: number;
}

type Deferred = NonNullable<EntryFacts['deferred']>;

type ChunkReply =
  | ({ readonly id: number } & PackedFacts)
  | { readonly id: number; readonly error: string };

/** Examines chunks of entries.jsonl, in parallel where it can. */
export interface BatchExaminer {
  /** Worker threads in use (0: the main thread does the work). */
  readonly threads: number;
  /** The facts of a chunk that ends at a line break (readChunks). It is given away. */
  examine(chunk: Uint8Array, issuers: readonly KnownKey[]): Promise<ChunkFacts>;
  close(): Promise<void>;
}

const decoder = new TextDecoder();

async function examineChunk(
  examiner: Examiner,
  chunk: Uint8Array,
  issuers: readonly KnownKey[],
): Promise<ChunkFacts> {
  examiner.learnIssuers(issuers);
  const { lines, count } = chunkLines(decoder.decode(chunk));
  const facts: EntryFacts[] = [];
  for (const line of lines) facts.push(await examiner.examine(line.text, line.number));
  return { facts, lines: count };
}

/** A chunk's facts as one message (see PackedFacts). They are given away: changed in place. */
export function packFacts({ facts, lines }: ChunkFacts): PackedFacts {
  const packed = new Uint8Array(facts.length * LEAF_LENGTH);
  const certificates: CertificateFacts[] = [];
  const places = new Map<CertificateFacts, number>();
  const deferred: { at: number; check: Deferred }[] = [];
  facts.forEach((fact, at) => {
    const entry = fact as Mutable<EntryFacts>;
    if (entry.leaf !== undefined) packed.set(entry.leaf, at * LEAF_LENGTH);
    entry.leaf = undefined;
    if (entry.deferred !== undefined) {
      deferred.push({ at, check: entry.deferred });
      entry.deferred = undefined;
    }
    const embedded = entry.license?.embedded;
    if (embedded !== undefined) {
      let place = places.get(embedded);
      if (place === undefined) {
        place = certificates.push(embedded) - 1;
        places.set(embedded, place);
      }
      (entry.license as unknown as { embedded: number }).embedded = place;
    }
  });
  return { json: JSON.stringify(facts), leaves: packed.buffer, certificates, deferred, lines };
}

/** The facts packFacts packed, as examineChunk made them. */
export function unpackFacts(message: PackedFacts): ChunkFacts {
  const facts = JSON.parse(message.json) as Mutable<EntryFacts>[];
  const leaves = new Uint8Array(message.leaves);
  facts.forEach((fact, at) => {
    // examine sets the leaf and the document hash together.
    if (fact.documentHash !== undefined) {
      fact.leaf = leaves.subarray(at * LEAF_LENGTH, (at + 1) * LEAF_LENGTH);
    }
    const license = fact.license as { embedded?: CertificateFacts | number } | undefined;
    if (typeof license?.embedded === 'number') {
      license.embedded = message.certificates[license.embedded]!;
    }
  });
  for (const { at, check } of message.deferred) facts[at]!.deferred = check;
  return { facts: facts as EntryFacts[], lines: message.lines };
}

/** A fact being packed or unpacked: fields come and go. */
type Mutable<T> = { -readonly [K in keyof T]?: T[K] | undefined };

/** The same work in the calling thread: `--workers 0`, and the fallback from sources. */
export async function inThreadExaminer(roots: readonly KnownKey[]): Promise<BatchExaminer> {
  const examiner = await Examiner.create(roots);
  return {
    threads: 0,
    examine: (chunk, issuers) => examineChunk(examiner, chunk, issuers),
    close: async () => undefined,
  };
}

/** Worker threads by default: one per core the process may use. */
export function defaultThreads(): number {
  return availableParallelism();
}

interface Job {
  readonly request: ChunkRequest;
  readonly resolve: (facts: ChunkFacts) => void;
  readonly reject: (error: Error) => void;
}

/**
 * A pool of `threads` workers; each takes one chunk at a time, the rest wait in a queue.
 * A worker that fails rejects its chunk (the audit stops with an internal error rather
 * than report on entries it never checked).
 */
export async function workerExaminer(
  roots: readonly KnownKey[],
  threads: number,
): Promise<BatchExaminer> {
  const script = new URL(import.meta.url);
  if (threads <= 0 || script.pathname.endsWith('.ts')) return inThreadExaminer(roots);
  const init: WorkerInit = { role: ROLE, roots };
  const idle: Worker[] = [];
  const busy = new Map<Worker, Job>();
  const queue: Job[] = [];
  let nextId = 0;
  let failure: Error | undefined;

  const dispatch = () => {
    while (idle.length > 0 && queue.length > 0) {
      const worker = idle.pop()!;
      const job = queue.shift()!;
      busy.set(worker, job);
      worker.postMessage(job.request, [job.request.chunk.buffer as ArrayBuffer]);
    }
  };
  const fail = (worker: Worker, error: Error) => {
    failure ??= error;
    busy.get(worker)?.reject(error);
    busy.delete(worker);
    for (const job of queue.splice(0)) job.reject(error);
  };
  const workers = Array.from({ length: threads }, () => {
    const worker = new Worker(script, { workerData: init, resourceLimits: WORKER_LIMITS });
    worker.on('message', (reply: ChunkReply) => {
      const job = busy.get(worker);
      busy.delete(worker);
      idle.push(worker);
      if (job !== undefined) {
        if ('error' in reply) job.reject(new Error(`audit worker: ${reply.error}`));
        else job.resolve(unpackFacts(reply));
      }
      dispatch();
    });
    worker.on('error', (error) => fail(worker, error));
    worker.on('exit', (code) => {
      if (busy.has(worker)) fail(worker, new Error(`audit worker exited with code ${code}`));
    });
    idle.push(worker);
    return worker;
  });

  return {
    threads,
    examine(chunk, issuers) {
      if (failure !== undefined) return Promise.reject(failure);
      return new Promise<ChunkFacts>((resolve, reject) => {
        queue.push({ request: { id: nextId++, chunk, issuers }, resolve, reject });
        dispatch();
      });
    },
    async close() {
      await Promise.all(workers.map((worker) => worker.terminate()));
    },
  };
}

/** The worker side: examine each chunk posted and answer with its facts. */
function runWorker(init: WorkerInit): void {
  const port = parentPort!;
  const ready = Examiner.create(init.roots);
  port.on('message', async (request: ChunkRequest) => {
    try {
      const packed = packFacts(await examineChunk(await ready, request.chunk, request.issuers));
      port.postMessage({ id: request.id, ...packed } satisfies ChunkReply, [packed.leaves]);
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      port.postMessage({ id: request.id, error: text } satisfies ChunkReply);
    }
  });
}

// The bootstrap: this module, loaded as a worker of the pool above, serves chunks.
if (!isMainThread && (workerData as Partial<WorkerInit> | undefined)?.role === ROLE) {
  runWorker(workerData as WorkerInit);
}
