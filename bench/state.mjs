/**
 * Issue 3, figures 6 and 7: what the verifier costs an app that checks its license often.
 * - re-verify: the default verifier (token cache, memory state) re-checking a token it has
 *   accepted — decoding and the signature are skipped, the status is still recomputed from
 *   the clock and the state — against the cold rate (cacheSize 0, the same state).
 * - consume(): one unit of a quota per call, memory state and file state, beside the raw
 *   node:crypto verify rate of the same token for scale.
 */
import { verify as cryptoVerify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeDocument } from '../packages/core/dist/index.js';
import { issue } from '../packages/issuer/dist/index.js';
import { createVerifier, memoryState } from '../packages/verifier/dist/index.js';
import { fileState } from '../packages/verifier/dist/node/index.js';
import { PRODUCT } from './lib/fixtures.mjs';
import { interleave } from './lib/interleave.mjs';

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
        name: 'consume(token, quota, 1), file state (lock, fsync, rename per call)',
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

export async function benchState(fixtures, timing) {
  return [await reverifyFigure(fixtures, timing), ...(await consumeFigures(fixtures, timing))];
}
