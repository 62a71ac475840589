/**
 * A synthetic store export of N license tokens for the audit benchmark (issue 7), laid out
 * exactly as `licensekit export` writes it (packages/cli/src/audit/layout.ts) and clean
 * under `licensekit audit store`. Nothing is committed: it is written under the system's
 * temporary directory and cached by N and GENERATOR_VERSION, so a second run reuses it.
 *
 * What a store would have logged, from the real code: a root key, an issuer key certified
 * by it (issuer createIssuerCertificate, one certificate per token format, both logged
 * first, as the store logs its certificates), then licenses of five tokens each signed
 * with issuer `issue` the way the store builds claims (packages/store services/tokens.ts:
 * seq 0..4, prev = hash of the previous token, rfa, grace, seats quota, anchor): a
 * purchase, a refresh, an upgrade (one license in eight, with its prorated order) or a
 * refresh, a renewal with its paid order and a new period, and a refresh. One token in
 * twenty is a JWT, as a client asking for `format: jwt` gets. Licenses run in blocks of
 * BLOCK_LICENSES at once, round-robin, so every lineage is interleaved with a thousand
 * others as in a real log. The log is hashed with core's RFC 9162 functions and signed
 * checkpoints (every CHECKPOINT_EVERY entries and the head) with a C2SP note key.
 *
 * Streaming: worker threads (one per core) sign blocks into per-block part files (entries,
 * leaf hashes, orders, licenses); the main thread concatenates them, hashing each file for
 * the manifest and folding leaf hashes into core's frontier: at most a block in memory.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import {
  base64urlDecode,
  base64urlEncode,
  defaultBackend,
  periodAt,
  prorate,
  tokenHash,
  utf8Encode,
} from '../../packages/core/dist/index.js';
import {
  appendLeaves,
  EMPTY_FRONTIER,
  formatVerifierKey,
  frontierRoot,
  logEntryHash,
  noteVerifierKey,
  signCheckpoint,
} from '../../packages/core/dist/log/index.js';
import {
  createIssuerCertificate,
  createSigner,
  generateKeyPair,
  issue,
} from '../../packages/issuer/dist/index.js';

/** Bump when the export's content changes: the cache key. */
export const GENERATOR_VERSION = 1;
const ROLE = 'licensekit-bench-audit-export';
export const TOKENS_PER_LICENSE = 5;
const BLOCK_LICENSES = 1000;
const CHECKPOINT_EVERY = 100_000;
/** 2026-01-01T00:00:00Z: entry i is logged at T0 + i seconds. */
const T0 = 1_767_225_600;
const VENDOR = 'acme';
const PRODUCT = 'photo-editor';
const ORIGIN = 'bench.licensekit.example/log';
/** The certificates are entries 0 and 1; tokens follow. */
const FIRST_TOKEN = 2;
const DAY = 86_400;

const PLANS = [
  {
    id: 'starter-monthly',
    name: 'Starter',
    price: { amount: 900, currency: 'EUR' },
    interval: 'month',
    perSeat: false,
    graceDays: 7,
    quotas: { exports: { limit: 100, per: 'month' } },
    entitlements: ['export-pdf'],
  },
  {
    id: 'pro-monthly',
    name: 'Pro',
    price: { amount: 2900, currency: 'EUR' },
    interval: 'month',
    perSeat: false,
    graceDays: 7,
    quotas: { exports: { limit: 1000, per: 'month' } },
    entitlements: ['export-pdf', 'batch-edit', 'cloud-sync'],
  },
  {
    id: 'team-monthly',
    name: 'Team',
    price: { amount: 1500, currency: 'EUR' },
    interval: 'month',
    perSeat: true,
    graceDays: 7,
    quotas: { exports: { limit: 5000, per: 'month' } },
    entitlements: ['export-pdf', 'batch-edit', 'cloud-sync', 'admin-console'],
  },
];
const planById = new Map(PLANS.map((plan) => [plan.id, plan]));

const iso = (seconds, ms = 0) => new Date(seconds * 1000 + ms).toISOString();

/** Where the export for `tokens` tokens lives (the cache key). */
export function exportCacheDir(tokens) {
  return join(tmpdir(), `licensekit-bench-audit-g${GENERATOR_VERSION}-${tokens}`);
}

/** The shape of the whole log: how many licenses, where each block starts. */
function layoutOf(tokens) {
  const licenses = Math.ceil(tokens / TOKENS_PER_LICENSE);
  const blocks = Math.ceil(licenses / BLOCK_LICENSES);
  return { licenses, blocks, tokens: licenses * TOKENS_PER_LICENSE };
}

function blockLicenses(layout, block) {
  return Math.min(BLOCK_LICENSES, layout.licenses - block * BLOCK_LICENSES);
}

// ---------------------------------------------------------------------------------------
// One block, in a worker: BLOCK_LICENSES licenses, TOKENS_PER_LICENSE rounds each.

function licenseId(number) {
  return `lic_bench${number.toString(36).padStart(8, '0')}`;
}

/** Which plan a license starts on, its seats, and whether it upgrades at round 2. */
function profileOf(number) {
  const kind = number % 8;
  if (kind === 0) return { plan: 'starter-monthly', seats: 1, upgradeTo: 'pro-monthly' };
  if (kind === 1 || kind === 2) return { plan: 'team-monthly', seats: 3 };
  return { plan: 'pro-monthly', seats: 1 };
}

function planTotal(plan, seats) {
  return plan.price.amount * (plan.perSeat ? seats : 1);
}

/** The store's claims of a license token (services/tokens.ts licenseClaims). */
function claimsOf(state, seq, now, certificateEnd) {
  const plan = planById.get(state.plan);
  const exp = Math.min(state.periodEnd, certificateEnd);
  const claims = {
    iss: VENDOR,
    sub: state.id,
    aud: PRODUCT,
    iat: now,
    nbf: now,
    plan: state.plan,
    access: 'full',
    ent: [...plan.entitlements],
    quota: { ...plan.quotas, seats: { limit: state.seats } },
    rfa: Math.min(now + DAY, exp, certificateEnd),
    seq,
    exp,
    grace: plan.graceDays * DAY,
    anchor: state.anchor,
  };
  if (state.lastHash !== undefined) claims.prev = state.lastHash;
  return claims;
}

function lines(records) {
  return records.map((record) => `${JSON.stringify(record)}\n`).join('');
}

async function writeBlock(init, signer, block) {
  const { layout, dir, certificates, certificateEnd } = init;
  const count = blockLicenses(layout, block);
  const firstNumber = block * BLOCK_LICENSES;
  const firstIndex = FIRST_TOKEN + firstNumber * TOKENS_PER_LICENSE;
  const states = Array.from({ length: count }, (_, l) => {
    const number = firstNumber + l;
    return { number, id: licenseId(number), ...profileOf(number), orders: [] };
  });
  const entries = [];
  const leaves = Buffer.alloc(count * TOKENS_PER_LICENSE * 32);
  for (let round = 0; round < TOKENS_PER_LICENSE; round++) {
    for (let l = 0; l < count; l++) {
      const state = states[l];
      const index = firstIndex + round * count + l;
      const now = T0 + index;
      const order = (kind, plan, amount) => {
        state.orders.push({
          id: `ord_bench${state.number.toString(36)}_${round}`,
          customerId: `cus_bench${state.number.toString(36)}`,
          licenseId: state.id,
          productId: PRODUCT,
          planId: plan,
          kind,
          seats: state.seats,
          amount,
          currency: 'EUR',
          provider: 'test',
          status: 'paid',
          test: true,
          createdAt: iso(now - 1),
          paidAt: iso(now - 1),
          details: {},
        });
      };
      if (round === 0) {
        // Bought a second before its first token; the billing anchor is the purchase.
        state.anchor = now - 1;
        state.createdAt = now - 1;
        state.periodEnd = periodAt(state.anchor, 'month', now).end;
        order('purchase', state.plan, planTotal(planById.get(state.plan), state.seats));
      } else if (round === 2 && state.upgradeTo !== undefined) {
        const from = planById.get(state.plan);
        const to = planById.get(state.upgradeTo);
        const at = now - 1;
        const period = periodAt(state.anchor, 'month', at);
        const amount = prorate({
          oldPrice: planTotal(from, state.seats),
          newPrice: planTotal(to, state.seats),
          periodStart: period.start,
          periodEnd: period.end,
          now: at,
        });
        state.plan = to.id;
        order('upgrade', to.id, amount);
      } else if (round === 3) {
        // The renewal: paid, then a token for the next period.
        order('renewal', state.plan, planTotal(planById.get(state.plan), state.seats));
        state.periodEnd = periodAt(state.anchor, 'month', state.periodEnd).end;
      }
      const format = state.number % 20 === 7 && round > 0 ? 'jwt' : 'cwt';
      const token = await issue(claimsOf(state, round, now, certificateEnd), {
        signer,
        certificate: certificates[format],
        format,
        now,
      });
      const bytes = format === 'jwt' ? utf8Encode(token) : base64urlDecode(token);
      const hash = await tokenHash(bytes);
      state.lastHash = hash;
      leaves.set(await logEntryHash('license', bytes), (index - firstIndex) * 32);
      entries.push({
        index,
        kind: 'license',
        document: base64urlEncode(bytes),
        documentHash: hash,
        loggedAt: iso(now, 250),
      });
    }
  }
  const last = FIRST_TOKEN + (firstNumber + count) * TOKENS_PER_LICENSE - 1;
  const licenses = states.map((state) => ({
    id: state.id,
    customerId: `cus_bench${state.number.toString(36)}`,
    productId: PRODUCT,
    planId: state.plan,
    status: 'active',
    seats: state.seats,
    anchor: iso(state.anchor),
    periodStart: iso(periodAt(state.anchor, 'month', state.periodEnd - 1).start),
    periodEnd: iso(state.periodEnd),
    trialEnd: null,
    pendingChange: null,
    seq: TOKENS_PER_LICENSE - 1,
    test: true,
    createdAt: iso(state.createdAt),
    cancelledAt: null,
    revokedAt: null,
  }));
  // The store lists orders and licenses newest first: each block reversed here, the blocks
  // in reverse when the files are put together.
  const orders = states.flatMap((state) => state.orders).reverse();
  writeFileSync(join(dir, `part-${block}.entries`), lines(entries));
  writeFileSync(join(dir, `part-${block}.leaves`), leaves);
  writeFileSync(join(dir, `part-${block}.orders`), lines(orders));
  writeFileSync(join(dir, `part-${block}.licenses`), lines(licenses.reverse()));
  return last;
}

async function runWorker(init) {
  const signer = await createSigner(init.issuerPrivateJwk);
  parentPort.on('message', async (block) => {
    try {
      await writeBlock(init, signer, block);
      parentPort.postMessage({ block });
    } catch (error) {
      parentPort.postMessage({
        block,
        error: error instanceof Error ? error.stack : String(error),
      });
    }
  });
}

if (!isMainThread && workerData?.role === ROLE) runWorker(workerData);

// ---------------------------------------------------------------------------------------
// The main thread: keys, blocks on workers, then the files put together.

/** Runs every block on a pool of workers; resolves when all are written. */
async function writeBlocks(init, threads) {
  let next = 0;
  let done = 0;
  const pool = Array.from(
    { length: threads },
    () => new Worker(new URL(import.meta.url), { workerData: init }),
  );
  try {
    await new Promise((resolve, reject) => {
      const feed = (worker) => {
        if (next < init.layout.blocks) worker.postMessage(next++);
      };
      for (const worker of pool) {
        worker.on('message', (reply) => {
          if (reply.error !== undefined) {
            reject(new Error(`audit export block ${reply.block}: ${reply.error}`));
            return;
          }
          done += 1;
          if (done % 20 === 0) {
            console.error(`bench: audit export ${done}/${init.layout.blocks} blocks signed`);
          }
          if (done === init.layout.blocks) resolve();
          else feed(worker);
        });
        worker.on('error', reject);
        feed(worker);
      }
    });
  } finally {
    await Promise.all(pool.map((worker) => worker.terminate()));
  }
}

/** A .jsonl file of the export, written through a hash and a line count (FileSummary). */
class Output {
  #stream;
  #hash = createHash('sha256');
  #records = 0;
  #bytes = 0;

  constructor(path) {
    this.#stream = createWriteStream(path);
  }

  async write(chunk) {
    this.#hash.update(chunk);
    this.#bytes += chunk.length;
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) this.#records++;
    if (!this.#stream.write(chunk)) await once(this.#stream, 'drain');
  }

  async close() {
    this.#stream.end();
    await once(this.#stream, 'finish');
    return { records: this.#records, bytes: this.#bytes, sha256: this.#hash.digest('hex') };
  }
}

async function append(output, path) {
  for await (const chunk of createReadStream(path)) await output.write(chunk);
  rmSync(path);
}

function whole(dir, name, text) {
  const bytes = Buffer.from(text);
  writeFileSync(join(dir, name), bytes);
  return {
    records: 1,
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

/** Leaf hashes of a byte buffer, 32 each. */
function leafList(buffer) {
  const list = [];
  for (let at = 0; at < buffer.length; at += 32)
    list.push(new Uint8Array(buffer.subarray(at, at + 32)));
  return list;
}

async function generate(tokens, cacheDir) {
  const layout = layoutOf(tokens);
  const out = join(cacheDir, 'export');
  rmSync(cacheDir, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });

  const rootPair = await generateKeyPair();
  const issuerPair = await generateKeyPair();
  const root = await createSigner(rootPair.privateJwk);
  const notBefore = T0 - DAY;
  const certificateOptions = {
    root,
    issuerKey: issuerPair.publicJwk,
    vendor: VENDOR,
    products: [PRODUCT],
    notBefore,
    days: 365,
    now: notBefore,
  };
  const certificates = {
    cwt: await createIssuerCertificate({ ...certificateOptions, format: 'cwt' }),
    jwt: await createIssuerCertificate({ ...certificateOptions, format: 'jwt' }),
  };
  const certificateEnd = notBefore + 365 * DAY;

  const logPair = generateKeyPairSync('ed25519');
  const logJwk = logPair.privateKey.export({ format: 'jwk' });
  const backend = await defaultBackend();
  const logSigner = {
    name: ORIGIN,
    privateKey: await backend.importPrivateKey(base64urlDecode(logJwk.d)),
    backend,
  };
  const logKey = formatVerifierKey(await noteVerifierKey(ORIGIN, base64urlDecode(logJwk.x)));

  const init = {
    role: ROLE,
    layout,
    dir: out,
    issuerPrivateJwk: issuerPair.privateJwk,
    certificates,
    certificateEnd,
  };
  await writeBlocks(init, availableParallelism());

  const files = {};
  // Entries: the two certificates, then the blocks in order; the tree folded alongside.
  const entries = new Output(join(out, 'entries.jsonl'));
  const history = [];
  let frontier = EMPTY_FRONTIER;
  const treeSize = FIRST_TOKEN + layout.tokens;
  const checkpointAt = async (size) => {
    const rootHash = await frontierRoot(frontier);
    const note = await signCheckpoint({ origin: ORIGIN, size, rootHash }, logSigner);
    history.push({ size, checkpoint: note, createdAt: iso(T0 + size, 500) });
    return note;
  };
  const certificateLeaves = [];
  for (const [index, format] of ['cwt', 'jwt'].entries()) {
    const bytes =
      format === 'jwt' ? utf8Encode(certificates[format]) : base64urlDecode(certificates[format]);
    certificateLeaves.push(await logEntryHash('certificate', bytes));
    const line = {
      index,
      kind: 'certificate',
      document: base64urlEncode(bytes),
      documentHash: await tokenHash(bytes),
      loggedAt: iso(T0 + index, 100),
    };
    await entries.write(Buffer.from(`${JSON.stringify(line)}\n`));
  }
  frontier = (await appendLeaves(frontier, certificateLeaves)).frontier;
  for (let block = 0; block < layout.blocks; block++) {
    await append(entries, join(out, `part-${block}.entries`));
    const leaves = leafList(readFileSync(join(out, `part-${block}.leaves`)));
    rmSync(join(out, `part-${block}.leaves`));
    // Checkpoints every CHECKPOINT_EVERY entries: split the block's leaves there.
    let rest = leaves;
    while (rest.length > 0) {
      const nextCheckpoint = (Math.floor(frontier.size / CHECKPOINT_EVERY) + 1) * CHECKPOINT_EVERY;
      const take = Math.min(rest.length, nextCheckpoint - frontier.size);
      frontier = (await appendLeaves(frontier, rest.slice(0, take))).frontier;
      rest = rest.slice(take);
      if (frontier.size === nextCheckpoint && frontier.size < treeSize)
        await checkpointAt(frontier.size);
    }
  }
  files['entries.jsonl'] = await entries.close();
  const head = await checkpointAt(treeSize);
  files['checkpoint.txt'] = whole(out, 'checkpoint.txt', head);
  files['checkpoints.jsonl'] = whole(out, 'checkpoints.jsonl', lines(history));
  files['checkpoints.jsonl'].records = history.length;

  for (const kind of ['orders', 'licenses']) {
    const output = new Output(join(out, `${kind}.jsonl`));
    for (let block = layout.blocks - 1; block >= 0; block--) {
      await append(output, join(out, `part-${block}.${kind}`));
    }
    files[`${kind}.jsonl`] = await output.close();
  }
  const issuerKey = { ...issuerPair.publicJwk, kid: issuerPair.kid };
  const keys = {
    vendor: VENDOR,
    roots: [{ ...rootPair.publicJwk, kid: rootPair.kid }],
    issuers: [
      {
        vendor: VENDOR,
        key: issuerKey,
        certificate: certificates.cwt,
        expiresAt: iso(certificateEnd),
      },
    ],
    log: { origin: ORIGIN, key: logKey },
  };
  files['keys.json'] = whole(out, 'keys.json', `${JSON.stringify(keys, null, 2)}\n`);
  const catalogue = {
    products: [{ id: PRODUCT, name: 'Photo Editor', vendor: VENDOR, plans: PLANS }],
  };
  files['catalogue.json'] = whole(out, 'catalogue.json', `${JSON.stringify(catalogue, null, 2)}\n`);
  const manifest = {
    format: 'licensekit-export',
    version: 1,
    source: 'bench:audit-export',
    exportedAt: iso(T0 + treeSize + 1),
    origin: ORIGIN,
    treeSize,
    checkpointHistory: true,
    files,
  };
  writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  const rootFile = join(cacheDir, 'root.pub.json');
  writeFileSync(rootFile, JSON.stringify(keys.roots[0]));
  const ready = {
    dir: out,
    rootFile,
    logKey,
    tokens: layout.tokens,
    licenses: layout.licenses,
    entries: treeSize,
    orders: files['orders.jsonl'].records,
  };
  // Written last: an interrupted generation is never taken for a finished one.
  writeFileSync(join(cacheDir, 'ready.json'), JSON.stringify(ready, null, 2));
  return ready;
}

/**
 * The export of about `tokens` tokens (rounded up to whole licenses), generated on the
 * first call and reused after.
 * @returns {Promise<{ dir: string, rootFile: string, logKey: string, tokens: number,
 *   licenses: number, entries: number, orders: number, generatedMs?: number }>}
 */
export async function auditBenchExport(tokens) {
  const cacheDir = exportCacheDir(tokens);
  const readyFile = join(cacheDir, 'ready.json');
  if (existsSync(readyFile)) return JSON.parse(readFileSync(readyFile, 'utf8'));
  const started = performance.now();
  const ready = await generate(tokens, cacheDir);
  return { ...ready, generatedMs: performance.now() - started };
}
