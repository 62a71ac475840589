#!/usr/bin/env node
import { verify as cryptoVerify } from 'node:crypto';
/**
 * `node bench/verify-ab.mjs <other checkout>` (both built with `node scripts/build.mjs`):
 * the CWT verify path of this tree against another checkout's, in one process. Both
 * verifiers and the raw floor (node:crypto's one-shot verify of the same signed bytes) run
 * in alternating rounds (bench/lib/interleave.mjs), so load on a shared machine lands on
 * every side alike; differences of a few per cent, which two separate `pnpm bench verify`
 * runs cannot tell from noise, show here. The other checkout is typically the previous
 * commit: `git worktree add /tmp/base HEAD~1 && (cd /tmp/base && pnpm install && node
 * scripts/build.mjs)`.
 *
 * Prints, for the certified and the bare token: each side's rate, this tree / other, and
 * each verifier / raw (the figure `pnpm bench verify` reports), medians over rounds with
 * their interquartile range.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { decodeDocument } from '../packages/core/dist/index.js';
import { createVerifier } from '../packages/verifier/dist/index.js';
import { createFixtures, PRODUCT } from './lib/fixtures.mjs';
import { interleave } from './lib/interleave.mjs';

const other = process.argv[2];
if (other === undefined) {
  console.error('usage: node bench/verify-ab.mjs <other built checkout>');
  process.exit(2);
}
const otherVerifier = await import(
  pathToFileURL(resolve(other, 'packages/verifier/dist/index.js')).href
);

const fixtures = await createFixtures();
const rounds = Number(process.env.AB_ROUNDS ?? 31);

function batch(verifier, token) {
  return async (n) => {
    for (let i = 0; i < n; i++) {
      if (!(await verifier.verify(token)).valid) throw new Error('verify failed');
    }
  };
}

function raw(token) {
  const { signingInput, signature } = decodeDocument(token, 'license');
  const key = fixtures.issuerKeys.publicKey;
  return (n) => {
    for (let i = 0; i < n; i++) {
      if (!cryptoVerify(null, signingInput, key, signature)) throw new Error('raw verify failed');
    }
  };
}

const format = ({ median, low, high }) =>
  `${median.toFixed(3)}× (${low.toFixed(3)}–${high.toFixed(3)})`;

for (const variant of ['certified', 'bare']) {
  const token = fixtures.tokens.cwt[variant];
  const trust =
    variant === 'certified'
      ? { roots: [fixtures.rootPair.publicJwk] }
      : { issuers: [fixtures.issuerPair.publicJwk] };
  const options = { trust, product: PRODUCT, cacheSize: 0, state: false };
  const run = await interleave(
    {
      here: batch(createVerifier(options), token),
      other: batch(otherVerifier.createVerifier(options), token),
      raw: raw(token),
    },
    { rounds },
  );
  console.log(
    `${variant}: here ${Math.round(run.rate('here'))}/s, other ${Math.round(run.rate('other'))}/s, ` +
      `raw ${Math.round(run.rate('raw'))}/s over ${rounds} rounds`,
  );
  console.log(`  here / other ${format(run.ratio('here', 'other'))}`);
  console.log(`  here / raw   ${format(run.ratio('here', 'raw'))}`);
  console.log(`  other / raw  ${format(run.ratio('other', 'raw'))}`);
}
