#!/usr/bin/env node
/**
 * The audit's batch verifier against node:crypto (a probe for issue 7, not part of
 * `pnpm bench`): per signature, a batch of N (BatchVerifier.verifyEach, nothing failing)
 * and node:crypto's one-shot verify of the same signatures, in interleaved rounds in this
 * process; and one field multiplication of the generated WebAssembly module.
 *
 * The module is TypeScript inside the CLI's bundle, so it is bundled here on the fly with
 * esbuild (as scripts/build.mjs does) into a temporary file.
 *
 * Usage: node bench/batch-verify.mjs [batch sizes, default 150,300,700] [rounds, default 5]
 */
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { median } from './lib/interleave.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const sizes = (process.argv[2] ?? '150,300,700').split(',').map(Number);
const rounds = Number(process.argv[3] ?? 5);
const MESSAGE_BYTES = 700;
const SIGNATURES_PER_ROUND = 3000;

const scratch = mkdtempSync(join(tmpdir(), 'licensekit-batch-verify-'));
try {
  const entry = join(scratch, 'entry.ts');
  const outfile = join(scratch, 'batch.mjs');
  await build({
    stdin: {
      contents: `export { BatchVerifier } from ${JSON.stringify(join(ROOT, 'packages/cli/src/audit/batch-verify/batch.ts'))};
export { fieldModuleBytes, FREE_ADDRESS } from ${JSON.stringify(join(ROOT, 'packages/cli/src/audit/batch-verify/field-module.ts'))};`,
      resolveDir: ROOT,
      sourcefile: entry,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile,
    logLevel: 'warning',
  });
  const { BatchVerifier, fieldModuleBytes, FREE_ADDRESS } = await import(
    pathToFileURL(outfile).href
  );

  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = new Uint8Array(Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url'));
  const verifier = new BatchVerifier();
  console.log(
    `Node ${process.version}, messages of ${MESSAGE_BYTES} bytes, one key, ${rounds} interleaved rounds; µs per signature, medians`,
  );
  for (const size of sizes) {
    const items = Array.from({ length: size }, () => {
      const message = crypto.getRandomValues(new Uint8Array(MESSAGE_BYTES));
      return {
        publicKey: raw,
        message,
        signature: new Uint8Array(sign(null, message, privateKey)),
      };
    });
    const repeats = Math.max(1, Math.round(SIGNATURES_PER_ROUND / size));
    const batch = [];
    const single = [];
    for (let round = 0; round < rounds; round++) {
      let started = performance.now();
      for (let r = 0; r < repeats; r++) {
        const verdicts = verifier.verifyEach(items, () => false);
        if (!verdicts.every(Boolean)) throw new Error('a good batch did not hold');
      }
      batch.push(((performance.now() - started) * 1000) / (repeats * size));
      started = performance.now();
      for (let r = 0; r < repeats; r++) {
        for (const item of items) {
          if (!verify(null, item.message, publicKey, item.signature)) throw new Error('bad');
        }
      }
      single.push(((performance.now() - started) * 1000) / (repeats * size));
    }
    const [b, s] = [median(batch), median(single)];
    console.log(
      `batch of ${size}: ${b.toFixed(1)} µs; node:crypto one-shot: ${s.toFixed(1)} µs; ratio ${(b / s).toFixed(2)}×`,
    );
  }

  // One field multiplication, called from JavaScript as the batch verifier calls it.
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(fieldModuleBytes(1)));
  const [a, b, c] = [FREE_ADDRESS, FREE_ADDRESS + 80, FREE_ADDRESS + 160];
  new BigInt64Array(exports.memory.buffer, a, 10).fill(12345678n);
  new BigInt64Array(exports.memory.buffer, b, 10).fill(8765432n);
  const multiplications = [];
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    for (let i = 0; i < 1_000_000; i++) exports.fe_mul(c, a, b);
    multiplications.push(performance.now() - started);
  }
  console.log(`field multiplication: ${median(multiplications).toFixed(1)} ns (median)`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
