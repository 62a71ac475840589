/**
 * Issue 3, figures 6 and 7: what the verifier costs an app that checks its license often.
 * - re-verify: the default verifier (token cache, memory state) re-checking a token it has
 *   accepted — decoding and the signature are skipped, the status is still recomputed from
 *   the clock and the state — against the cold rate (cacheSize 0, the same state).
 * - consume(): one unit of a quota per call, memory state and file state, beside the raw
 *   node:crypto verify rate of the same token for scale.
 * Issue 9, item 3: the file state's cost per call does not grow with the licenses it holds.
 * - verify and consume of one license on a file state holding 1, 1,000 and 10,000
 *   licenses (each with a quota's usage), interleaved in one run; goal: 10,000 / 1 ≥ 0.8;
 * - filling a file state with 10,000 licenses (a first consume of each, one by one): the
 *   rate over the last thousands against the first; linear filling keeps it near 1.
 */
import { verify as cryptoVerify } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeDocument } from '../packages/core/dist/index.js';
import { issue } from '../packages/issuer/dist/index.js';
import { createVerifier, memoryState } from '../packages/verifier/dist/index.js';
import { fileState } from '../packages/verifier/dist/node/index.js';
import { PRODUCT } from './lib/fixtures.mjs';
import { interleave, median } from './lib/interleave.mjs';

const COMMAND = 'pnpm bench state';
/** Large enough that no run of the bench exhausts it: every timed consume is granted. */
const BENCH_QUOTA_LIMIT = 1_000_000_000_000;

function verifyBatch(verifier, token) {
  return async (n) => {
    for (let i = 0; i < n; i++) {
      if (!(await verifier.verify(token)).valid) throw new Error('verify failed');
    }
  };
}

function consumeBatch(verifier, token) {
  return async (n) => {
    for (let i = 0; i < n; i++) {
      const outcome = await verifier.consume(token, 'exports', 1);
      if (!outcome.granted) throw new Error(`consume refused: ${outcome.reason}`);
    }
  };
}

async function reverifyFigure(fixtures, timing) {
  const token = fixtures.tokens.cwt.certified;
  const trust = { roots: [fixtures.rootPair.publicJwk] };
  const warm = createVerifier({ trust, product: PRODUCT, state: memoryState() });
  const cold = createVerifier({ trust, product: PRODUCT, state: memoryState(), cacheSize: 0 });
  if (!(await warm.verify(token)).valid) throw new Error('bench token does not verify');
  const run = await interleave(
    { warm: verifyBatch(warm, token), cold: verifyBatch(cold, token) },
    timing,
  );
  return {
    group: 'state',
    issue: 3,
    name: 're-verify of an accepted CWT (certificate embedded, trust = root)',
    ours: { what: 'verify(token), default cache, memory state', value: run.rate('warm') },
    baseline: { what: 'verify(token), cacheSize 0, memory state', value: run.rate('cold') },
    unit: 'ops/s',
    ratio: run.ratio('warm', 'cold'),
    goal: { op: '>=', value: 20 },
    command: COMMAND,
  };
}

async function consumeFigures(fixtures, timing) {
  const { signer, storeCertificate, claims, rootPair, issuerKeys } = fixtures;
  const token = await issue(
    {
      ...claims,
      quota: { ...claims.quota, exports: { limit: BENCH_QUOTA_LIMIT, per: 'month' } },
    },
    { signer, certificate: storeCertificate },
  );
  const { signingInput, signature } = decodeDocument(token, 'license');
  const trust = { roots: [rootPair.publicJwk] };
  const dir = mkdtempSync(join(tmpdir(), 'licensekit-bench-state-'));
  try {
    const inMemory = createVerifier({ trust, product: PRODUCT, state: memoryState() });
    const onFile = createVerifier({
      trust,
      product: PRODUCT,
      state: fileState(join(dir, 'state.json')),
    });
    const run = await interleave(
      {
        memory: consumeBatch(inMemory, token),
        file: consumeBatch(onFile, token),
        raw: (n) => {
          for (let i = 0; i < n; i++)
            cryptoVerify(null, signingInput, issuerKeys.publicKey, signature);
        },
      },
      timing,
    );
    const raw = {
      what: 'crypto.verify of the same token (for scale)',
      value: run.rate('raw'),
    };
    return [
      {
        group: 'state',
        issue: 3,
        name: 'consume(token, quota, 1), memory state',
        ours: { what: 'consume(), memory state', value: run.rate('memory') },
        baseline: raw,
        unit: 'ops/s',
        ratio: run.ratio('memory', 'raw'),
        goal: { op: '>=', value: 100_000, of: 'rate' },
        command: COMMAND,
      },
      {
        group: 'state',
        issue: 3,
        name: 'consume(token, quota, 1), file state (lock, one appended record fdatasynced per call)',
        ours: { what: 'consume(), fileState in a temp dir', value: run.rate('file') },
        baseline: raw,
        unit: 'ops/s',
        ratio: run.ratio('file', 'raw'),
        command: COMMAND,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const FILL = 10_000;
const BLOCK = 1_000;
/** Blocks at each end of the fill whose median rates are compared. */
const ENDS = 3;
const WARM_UP = 1_000;

/** A license token of its own `sub` per filler, with the quota the figures spend. */
async function fillerTokens(fixtures, count) {
  const { signer, storeCertificate, claims } = fixtures;
  const quota = { ...claims.quota, exports: { limit: BENCH_QUOTA_LIMIT, per: 'month' } };
  const tokens = [];
  for (let i = 0; i < count; i++) {
    tokens.push(
      await issue(
        { ...claims, sub: `lic_fill_${String(i).padStart(5, '0')}`, quota },
        { signer, certificate: storeCertificate },
      ),
    );
  }
  return tokens;
}

/** Per SLICE fill operations, REFERENCE consumes on a one-license file, in alternation. */
const SLICE = 20;
const REFERENCE = 8;

/**
 * Fills a file state with `tokens.length` licenses, a first consume() of each (its license
 * and its usage recorded), and copies the file when it holds `copy.at`. Every fsync waits
 * on a disk other processes share, so a block's fill rate alone swings several-fold with
 * their load: beside every SLICE fill operations REFERENCE consumes run on a file state
 * of one license, and each block's rate is also taken relative to those, measured in the
 * same moments (the median over the block's slices, as interleave() does for the other
 * figures over rounds).
 */
async function fill(filling, reference, referenceToken, tokens, copy) {
  const blocks = [];
  const timed = async (operations) => {
    const started = process.hrtime.bigint();
    await operations();
    return Number(process.hrtime.bigint() - started) / 1e9;
  };
  for (let block = 0; block < tokens.length / BLOCK; block++) {
    let fillSeconds = 0;
    const relative = [];
    for (let i = block * BLOCK; i < (block + 1) * BLOCK; i += SLICE) {
      const seconds = await timed(async () => {
        for (let j = i; j < i + SLICE; j++) {
          const outcome = await filling.consume(tokens[j], 'exports', 1);
          if (!outcome.granted) throw new Error(`fill consume refused: ${outcome.reason}`);
        }
      });
      const referenceSeconds = await timed(() =>
        consumeBatch(reference, referenceToken)(REFERENCE),
      );
      fillSeconds += seconds;
      relative.push(SLICE / seconds / (REFERENCE / referenceSeconds));
    }
    blocks.push({ rate: BLOCK / fillSeconds, relative: median(relative) });
    if ((block + 1) * BLOCK === copy.at) copyFileSync(copy.from, copy.to);
  }
  return blocks;
}

async function scalingFigures(fixtures, timing) {
  const { signer, storeCertificate, claims, rootPair } = fixtures;
  const trust = { roots: [rootPair.publicJwk] };
  const token = await issue(
    {
      ...claims,
      quota: { ...claims.quota, exports: { limit: BENCH_QUOTA_LIMIT, per: 'month' } },
    },
    { signer, certificate: storeCertificate },
  );
  const dir = mkdtempSync(join(tmpdir(), 'licensekit-bench-state-scale-'));
  const paths = {
    one: join(dir, 'one.json'),
    thousand: join(dir, 'thousand.json'),
    tenThousand: join(dir, 'ten-thousand.json'),
  };
  const make = (path) => createVerifier({ trust, product: PRODUCT, state: fileState(path) });
  try {
    const tokens = await fillerTokens(fixtures, FILL + WARM_UP);
    const one = make(paths.one);
    // Warm up (JIT, the first file reads) on a file of its own, so the first blocks of
    // the fill are not the slowest for reasons of their own.
    await fill(make(join(dir, 'warm-up.json')), one, token, tokens.slice(FILL), {});
    const blocks = await fill(make(paths.tenThousand), one, token, tokens.slice(0, FILL), {
      at: 1_000,
      from: paths.tenThousand,
      to: paths.thousand,
    });
    const verifiers = {
      one,
      thousand: make(paths.thousand),
      tenThousand: make(paths.tenThousand),
    };
    // Each state now also holds the measured license (so a state of "1" holds just it).
    for (const verifier of Object.values(verifiers)) {
      if (!(await verifier.consume(token, 'exports', 1)).granted)
        throw new Error('bench consume refused');
    }
    const bytes = Object.fromEntries(
      Object.entries(paths).map(([name, path]) => [name, statSync(path).size]),
    );
    const verifyRun = await interleave(
      Object.fromEntries(
        Object.entries(verifiers).map(([name, verifier]) => [name, verifyBatch(verifier, token)]),
      ),
      timing,
    );
    const consumeRun = await interleave(
      Object.fromEntries(
        Object.entries(verifiers).map(([name, verifier]) => [name, consumeBatch(verifier, token)]),
      ),
      timing,
    );
    const kb = (n) => `${Math.round(n / 1000)} kB`;
    const figure = (what, run, size, label, goal) => ({
      group: 'state',
      issue: 9,
      name: `file state: ${what} of one license with ${label} licenses in the file / with 1`,
      ours: {
        what: `${what}, fileState holding ${label} licenses (${kb(bytes[size])} file at the start)`,
        value: run.rate(size),
      },
      baseline: { what: `${what}, fileState holding 1 license`, value: run.rate('one') },
      unit: 'ops/s',
      ratio: run.ratio(size, 'one'),
      ...(goal ? { goal: { op: '>=', value: 0.8 } } : {}),
      command: COMMAND,
    });
    const middle = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
    const ends = (key) => ({
      first: middle(blocks.slice(0, ENDS).map((b) => b[key])),
      last: middle(blocks.slice(-ENDS).map((b) => b[key])),
    });
    const rates = ends('rate');
    const relative = ends('relative');
    const listed = blocks.map((b) => Math.round(b.rate)).join(', ');
    return [
      figure('verify(token)', verifyRun, 'thousand', '1,000', false),
      figure('verify(token)', verifyRun, 'tenThousand', '10,000', true),
      figure("consume(token, 'exports', 1)", consumeRun, 'thousand', '1,000', false),
      figure("consume(token, 'exports', 1)", consumeRun, 'tenThousand', '10,000', true),
      {
        group: 'state',
        issue: 9,
        name: `file state: filling ${FILL.toLocaleString('en-US')} licenses one consume() each, rate at the end / at the start, each relative to a one-license file measured alongside (linear = 1)`,
        ours: {
          what: `licenses ${(FILL - ENDS * BLOCK + 1).toLocaleString('en-US')}–${FILL.toLocaleString('en-US')} (median of ${ENDS} blocks of ${BLOCK.toLocaleString('en-US')}; every block: ${listed}/s)`,
          value: rates.last,
        },
        baseline: {
          what: `licenses 1–${(ENDS * BLOCK).toLocaleString('en-US')} (median of ${ENDS} blocks)`,
          value: rates.first,
        },
        unit: 'ops/s',
        ratio: { median: relative.last / relative.first },
        goal: { op: '>=', value: 0.8 },
        command: COMMAND,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchState(fixtures, timing) {
  return [
    await reverifyFigure(fixtures, timing),
    ...(await consumeFigures(fixtures, timing)),
    ...(await scalingFigures(fixtures, timing)),
  ];
}
