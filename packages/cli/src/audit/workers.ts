/**
 * Signature checks on worker threads. Decoding a document, hashing it and verifying its
 * Ed25519 signature is most of an audit's CPU time and each entry is independent, so the
 * main thread reads entries.jsonl in chunks of raw bytes cut at line feeds and transfers
 * them (no copy, no string) to a pool of workers (node:worker_threads, one per available
 * core), which split, parse and examine the lines, checking a chunk's token signatures as
 * one batch (batch-verify/batch.ts); the results come back in chunk order,
 * every leaf hash of a chunk in one transferred buffer, and the main thread does the
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
import { type EntryFacts, Examiner, type KnownKey } from './examine.js';
import { chunkLines } from './reader.js';

const ROLE = 'licensekit-audit-worker';
const LEAF_LENGTH = 32;
/**
 * A worker holds a few certificates and key handles, and its garbage is one chunk's, so a
 * small young generation keeps each thread's memory near its floor (the audit's memory
 * budget is for the main thread's per-license state). Not too small: with 2 MB a worker
 * spent 5 % of its time in scavenges, with 16 MB 2 % but 24 MB more RSS (`node --cpu-prof`,
 * 100,000 tokens); 8 MB is between, within the budget at a million tokens (BENCHMARKS.md).
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 128 };

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

type ChunkReply =
  | ({ readonly id: number } & ChunkFacts)
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
  // The chunk's license signatures are checked as one batch (batch-verify/batch.ts).
  examiner.openBatch();
  let invalid: Set<number>;
  try {
    for (const line of lines) {
      // Awaited only when the line needed a new certificate checked: a microtask per entry
      // is measurable at a million entries.
      const examined = examiner.examine(line.text, line.number);
      facts.push(examined instanceof Promise ? await examined : examined);
    }
  } finally {
    invalid = examiner.settleBatch();
  }
  if (invalid.size > 0) {
    for (const entry of facts) {
      if (invalid.has(entry.line)) (entry as { signature?: string }).signature = 'invalid';
    }
  }
  return { facts, lines: count };
}

/**
 * The leaf hashes of a chunk's facts moved into one buffer, each fact's leaf a view of it:
 * posting them then copies one buffer instead of allocating one per entry.
 */
function packLeaves(facts: EntryFacts[]): ArrayBuffer {
  const packed = new Uint8Array(facts.length * LEAF_LENGTH);
  facts.forEach((fact, at) => {
    if (fact.leaf === undefined) return;
    packed.set(fact.leaf, at * LEAF_LENGTH);
    (fact as { leaf?: Uint8Array }).leaf = packed.subarray(
      at * LEAF_LENGTH,
      (at + 1) * LEAF_LENGTH,
    );
  });
  return packed.buffer;
}

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
        else job.resolve({ facts: reply.facts, lines: reply.lines });
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
      const { facts, lines } = await examineChunk(await ready, request.chunk, request.issuers);
      const leaves = packLeaves(facts);
      port.postMessage({ id: request.id, facts, lines } satisfies ChunkReply, [leaves]);
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
