/**
 * Issue 2, figure 5: `licensekit verify` of one token as a fresh process against a bare
 * node script that verifies one Ed25519 signature (the same token's signed bytes) with
 * node:crypto: the floor of any verifying process. The two are spawned in pairs, in
 * alternating order; the figure is the median of the per-pair time ratios.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeDocument } from '../packages/core/dist/index.js';
import { PRODUCT } from './lib/fixtures.mjs';
import { median, quantile } from './lib/interleave.mjs';

const COMMAND = 'pnpm bench cold-start';
const CLI = resolve(fileURLToPath(import.meta.url), '../../packages/cli/dist/licensekit.mjs');

const BARE_SCRIPT = `import { createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
const { x, sig, msg } = JSON.parse(readFileSync(new URL('./vector.json', import.meta.url), 'utf8'));
const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
const ok = verify(null, Buffer.from(msg, 'base64url'), key, Buffer.from(sig, 'base64url'));
process.stdout.write(ok ? 'valid\\n' : 'invalid\\n');
process.exitCode = ok ? 0 : 1;
`;

function writeFiles(dir, fixtures) {
  const token = fixtures.tokens.cwt.certified;
  const { signingInput, signature } = decodeDocument(token, 'license');
  writeFileSync(join(dir, 'root.pub.json'), JSON.stringify(fixtures.rootPair.publicJwk));
  writeFileSync(join(dir, 'license.cwt'), `${token}\n`);
  writeFileSync(
    join(dir, 'vector.json'),
    JSON.stringify({
      x: fixtures.issuerPair.publicJwk.x,
      sig: Buffer.from(signature).toString('base64url'),
      msg: Buffer.from(signingInput).toString('base64url'),
    }),
  );
  writeFileSync(join(dir, 'bare.mjs'), BARE_SCRIPT);
}

function spawnMs(args, cwd) {
  const started = process.hrtime.bigint();
  const run = spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (run.status !== 0) {
    throw new Error(`node ${args.join(' ')} exited ${run.status}: ${run.stderr || run.stdout}`);
  }
  return ms;
}

export async function benchColdStart(fixtures, { spawns = 25, warmup = 3 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'licensekit-bench-cold-'));
  try {
    writeFiles(dir, fixtures);
    const sides = {
      cli: [
        CLI,
        'verify',
        '--file',
        'license.cwt',
        '--trust',
        'root.pub.json',
        '--product',
        PRODUCT,
      ],
      bare: ['bare.mjs'],
    };
    const times = { cli: [], bare: [] };
    for (let round = 0; round < warmup + spawns; round++) {
      const order = round % 2 === 0 ? ['cli', 'bare'] : ['bare', 'cli'];
      const pair = {};
      for (const side of order) pair[side] = spawnMs(sides[side], dir);
      if (round < warmup) continue;
      times.cli.push(pair.cli);
      times.bare.push(pair.bare);
    }
    const ratios = times.cli.map((ms, i) => ms / times.bare[i]);
    return [
      {
        group: 'cold-start',
        issue: 2,
        name: `cold start, ${spawns} interleaved spawn pairs`,
        ours: {
          what: `licensekit verify --file license.cwt --trust root.pub.json --product ${PRODUCT}`,
          value: median(times.cli),
        },
        baseline: { what: 'node bare.mjs (one crypto.verify)', value: median(times.bare) },
        unit: 'ms',
        ratio: {
          median: median(ratios),
          low: quantile(ratios, 0.25),
          high: quantile(ratios, 0.75),
        },
        goal: { op: '<=', value: 1.5 },
        command: COMMAND,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
