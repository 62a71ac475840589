/**
 * Signature checks on worker threads. Decoding a document, hashing it and verifying its
 * Ed25519 signature is most of an audit's CPU time and each entry is independent, so the
 * main thread reads entries.jsonl and hands batches of raw lines to a pool of workers
 * (node:worker_threads, one per available core); the results come back in batch order
 * and the main thread does the ordered checks (lineage, tree, revocations).
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
import type { Line } from './reader.js';

const ROLE = 'licensekit-audit-worker';

interface WorkerInit {
  readonly role: typeof ROLE;
  readonly roots: readonly KnownKey[];
}

interface BatchRequest {
  readonly id: number;
  readonly lines: readonly Line[];
  readonly issuers: readonly KnownKey[];
}

type BatchReply =
  | { readonly id: number; readonly facts: EntryFacts[] }
  | { readonly id: number; readonly error: string };

/** Examines batches of entries.jsonl lines, in parallel where it can. */
export interface BatchExaminer {
  /** Worker threads in use (0: the main thread does the work). */
  readonly threads: number;
  /** Facts of each line, in the order given. */
  examine(lines: readonly Line[], issuers: readonly KnownKey[]): Promise<EntryFacts[]>;
  close(): Promise<void>;
}

async function examineAll(
  examiner: Examiner,
  lines: readonly Line[],
  issuers: readonly KnownKey[],
): Promise<EntryFacts[]> {
  examiner.learnIssuers(issuers);
  const facts: EntryFacts[] = [];
  for (const line of lines) facts.push(await examiner.examine(line.text, line.number));
  return facts;
}

/** The same work in the calling thread: `--workers 0`, and the fallback from sources. */
export async function inThreadExaminer(roots: readonly KnownKey[]): Promise<BatchExaminer> {
  const examiner = await Examiner.create(roots);
  return {
    threads: 0,
    examine: (lines, issuers) => examineAll(examiner, lines, issuers),
    close: async () => undefined,
  };
}

/** Worker threads by default: one per core the process may use. */
export function defaultThreads(): number {
  return availableParallelism();
}

interface Job {
  readonly request: BatchRequest;
  readonly resolve: (facts: EntryFacts[]) => void;
  readonly reject: (error: Error) => void;
}

/**
 * A pool of `threads` workers; each takes one batch at a time, the rest wait in a queue.
 * A worker that fails rejects its batch (the audit stops with an internal error rather
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
      worker.postMessage(job.request);
    }
  };
  const fail = (worker: Worker, error: Error) => {
    failure ??= error;
    busy.get(worker)?.reject(error);
    busy.delete(worker);
    for (const job of queue.splice(0)) job.reject(error);
  };
  const workers = Array.from({ length: threads }, () => {
    const worker = new Worker(script, { workerData: init });
    worker.on('message', (reply: BatchReply) => {
      const job = busy.get(worker);
      busy.delete(worker);
      idle.push(worker);
      if (job !== undefined) {
        if ('error' in reply) job.reject(new Error(`audit worker: ${reply.error}`));
        else job.resolve(reply.facts);
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
    examine(lines, issuers) {
      if (failure !== undefined) return Promise.reject(failure);
      return new Promise<EntryFacts[]>((resolve, reject) => {
        queue.push({ request: { id: nextId++, lines, issuers }, resolve, reject });
        dispatch();
      });
    },
    async close() {
      await Promise.all(workers.map((worker) => worker.terminate()));
    },
  };
}

/** The worker side: examine each batch posted and answer with its facts. */
function runWorker(init: WorkerInit): void {
  const port = parentPort!;
  const ready = Examiner.create(init.roots);
  port.on('message', async (request: BatchRequest) => {
    try {
      const facts = await examineAll(await ready, request.lines, request.issuers);
      port.postMessage({ id: request.id, facts } satisfies BatchReply);
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      port.postMessage({ id: request.id, error: text } satisfies BatchReply);
    }
  });
}

// The bootstrap: this module, loaded as a worker of the pool above, serves batches.
if (!isMainThread && (workerData as Partial<WorkerInit> | undefined)?.role === ROLE) {
  runWorker(workerData as WorkerInit);
}
