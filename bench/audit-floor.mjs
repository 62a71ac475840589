#!/usr/bin/env node
/**
 * The floor of an audit's throughput on this machine (a probe for issue 7, not part of
 * `pnpm bench`): what a pipeline doing only the work no audit of this export format can
 * skip reaches against the goal's baseline (cores × the one-core rate of node:crypto's
 * one-shot Ed25519 verify, measured before and after in this process).
 *
 * The pipeline, the audit's shape with nothing else: the main thread reads entries.jsonl in
 * 128 KiB chunks cut at line feeds (as the audit) and transfers them to one worker thread
 * per core; a worker parses each line (JSON), decodes its base64url document, hashes it
 * into its RFC 9162 leaf and its token hash (node:crypto one-shot SHA-256), decodes it
 * under the strict profile and reads its claims (core), and verifies its signature
 * (node:crypto one-shot, a KeyObject per key, the embedded certificate's key); it sends
 * back the chunk's leaves in one transferred buffer; the main thread folds them into the
 * tree's frontier (RFC 9162 node hashes, node:crypto one-shot SHA-256, as the audit's tree). No lineage, no key-chain rules, no records, no
 * findings: whatever the real audit does beyond this is its own overhead, and this
 * pipeline's ratio is the ceiling of any audit reading this export format here.
 *
 * Usage (after `node scripts/build.mjs`): node bench/audit-floor.mjs <cache dir>
 * (FLOOR_WORKERS=N for another number of workers than one per core)
 * where <cache dir> is one the `audit` bench group made and keeps, e.g.
 * `BENCH_AUDIT_TOKENS=100000 node bench/run.mjs audit` → $TMPDIR/licensekit-bench-audit-g1-100000.
 */
import { createPublicKey, hash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { LOG_ENTRY_TAG } from '../packages/core/dist/log/index.js';
import { rawVerifyRounds, sampleSignatures } from './audit.mjs';
import { median } from './lib/interleave.mjs';

const [cacheDir] = process.argv.slice(2);
if (!cacheDir) {
  console.error('usage: node bench/audit-floor.mjs <cache dir>');
  process.exit(2);
}
const CHUNK_BYTES = 128 * 1024;
const NODE_PREFIX = Buffer.from([0x01]);
const RAW_ROUNDS = 7;
const ready = JSON.parse(readFileSync(join(cacheDir, 'ready.json'), 'utf8'));
const entriesPath = join(ready.dir, 'entries.jsonl');
const cores = Number(process.env.FLOOR_WORKERS ?? availableParallelism());

/** The worker: the mandatory per-entry work over each chunk it is given. */
const WORKER = `
const { parentPort } = require('node:worker_threads');
const { createPublicKey, hash, verify } = require('node:crypto');
const TAGS = ${JSON.stringify(LOG_ENTRY_TAG)};
let core;
let loaded;
const keys = new Map();
const decoder = new TextDecoder();
// By the token's kid: the embedded certificate's bytes are a new array in every token.
function keyOf(document) {
  let key = keys.get(document.kid);
  if (key === undefined) {
    const certificate = core.decodeDocument(document.certificate, 'certificate');
    const claims = core.readCertificateClaims(certificate);
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: claims.key }, format: 'jwk' });
    keys.set(document.kid, key);
  }
  return key;
}
parentPort.on('message', async ({ chunk, url }) => {
  if (url !== undefined) { loaded = import(url).then((module) => { core = module; }); return; }
  await loaded;
  const text = decoder.decode(chunk);
  const leaves = [];
  let verified = 0;
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('\\n', start);
    if (end === -1) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    if (line === '') continue;
    const entry = JSON.parse(line);
    const bytes = Buffer.from(entry.document, 'base64url');
    const tagged = Buffer.concat([Buffer.from([0, TAGS[entry.kind]]), bytes]);
    leaves.push(hash('sha256', tagged, 'buffer'));
    hash('sha256', bytes, 'base64url');
    if (entry.kind !== 'license') continue;
    const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
    const document = view[0] === 0xd2
      ? core.decodeDocument(view, 'license')
      : core.decodeDocument(core.utf8Decode(view), 'license');
    core.readLicenseClaims(document);
    if (verify(null, document.signingInput, keyOf(document), document.signature)) verified++;
  }
  const packed = new Uint8Array(leaves.length * 32);
  leaves.forEach((leaf, at) => packed.set(leaf, at * 32));
  parentPort.postMessage({ packed, count: leaves.length, verified }, [packed.buffer]);
});
`;

async function* chunks() {
  let carry = Buffer.alloc(0);
  for await (const read of createReadStream(entriesPath, { highWaterMark: CHUNK_BYTES })) {
    const joined = carry.length === 0 ? read : Buffer.concat([carry, read]);
    const cut = joined.lastIndexOf(0x0a) + 1;
    carry = Buffer.from(joined.subarray(cut));
    if (cut > 0) yield new Uint8Array(joined.subarray(0, cut));
  }
  if (carry.length > 0) yield new Uint8Array(carry);
}

/** The pipeline over the whole file: entries, verified signatures, seconds. */
async function floorRun() {
  const coreUrl = new URL('../packages/core/dist/index.js', import.meta.url).href;
  const workers = Array.from({ length: cores }, () => new Worker(WORKER, { eval: true }));
  for (const worker of workers) worker.postMessage({ url: coreUrl });
  const started = performance.now();
  const idle = [...workers];
  const waiting = [];
  const replies = new Map();
  let sent = 0;
  let folded = 0;
  // The frontier: the roots of the perfect subtrees so far, largest first, with sizes.
  const roots = [];
  const sizes = [];
  let entries = 0;
  let verified = 0;
  const fold = () => {
    while (replies.has(folded)) {
      const { packed, count, verified: ok } = replies.get(folded);
      replies.delete(folded);
      for (let at = 0; at < count; at++) {
        let node = packed.subarray(at * 32, (at + 1) * 32);
        let size = 1;
        while (sizes.length > 0 && sizes.at(-1) === size) {
          node = hash('sha256', Buffer.concat([NODE_PREFIX, roots.pop(), node]), 'buffer');
          size += sizes.pop();
        }
        roots.push(node);
        sizes.push(size);
      }
      entries += count;
      verified += ok;
      folded += 1;
    }
  };
  // One job per worker at a time: its reply settles the job's promise.
  const jobs = new Map();
  for (const worker of workers) {
    worker.on('message', (reply) => {
      const job = jobs.get(worker);
      jobs.delete(worker);
      replies.set(job.id, reply);
      idle.push(worker);
      waiting.shift()?.();
      job.resolve();
    });
    worker.on('error', (error) => jobs.get(worker)?.reject(error));
  }
  const send = (worker, id, chunk) =>
    new Promise((resolve, reject) => {
      jobs.set(worker, { id, resolve, reject });
      worker.postMessage({ chunk }, [chunk.buffer]);
    });
  const inFlight = [];
  for await (const chunk of chunks()) {
    while (idle.length === 0) await new Promise((resolve) => waiting.push(resolve));
    inFlight.push(send(idle.pop(), sent++, chunk).then(fold));
  }
  await Promise.all(inFlight);
  fold();
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(workers.map((worker) => worker.terminate()));
  if (folded !== sent) throw new Error('audit floor: a chunk was not folded');
  return { entries, verified, seconds };
}

const sample = await sampleSignatures(ready.dir);
const keys = JSON.parse(readFileSync(join(ready.dir, 'keys.json'), 'utf8'));
const key = createPublicKey({ key: keys.issuers[0].key, format: 'jwk' });
hash('sha256', new Uint8Array(1));

const before = rawVerifyRounds(sample, key, RAW_ROUNDS);
const run = await floorRun();
const after = rawVerifyRounds(sample, key, RAW_ROUNDS);
const raw = median([...before, ...after]);
if (run.verified !== ready.tokens) {
  throw new Error(`audit floor: ${run.verified} of ${ready.tokens} tokens verified`);
}
const throughput = ready.tokens / run.seconds;
console.log(
  `audit floor, ${ready.tokens.toLocaleString('en-US')} tokens (${run.entries.toLocaleString('en-US')} entries), ${cores} workers:`,
);
console.log(
  `  ${Math.round(throughput).toLocaleString('en-US')} tokens/s against ${cores} × ${Math.round(raw).toLocaleString('en-US')}/s raw verify = ${(throughput / (raw * cores)).toFixed(2)}×`,
);
