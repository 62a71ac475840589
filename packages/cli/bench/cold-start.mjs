#!/usr/bin/env node
// Cold start of `licensekit verify` as a fresh process against a bare node script that
// verifies one Ed25519 signature with node:crypto (the floor). Runs the two interleaved,
// RUNS times each after a warm-up, and prints medians, minimums and their ratios.
// Usage: node scripts/build.mjs && node packages/cli/bench/cold-start.mjs [RUNS]
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 30);
const cli = resolve(fileURLToPath(import.meta.url), '../../dist/licensekit.mjs');
const dir = mkdtempSync(join(tmpdir(), 'licensekit-cold-'));
const licensekit = (...args) =>
  execFileSync(process.execPath, [cli, ...args], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });

licensekit('keygen', '--out', 'root.json');
licensekit('keygen', '--out', 'issuer.json');
licensekit(
  'cert',
  '--root',
  'root.json',
  '--issuer',
  'issuer.pub.json',
  '--products',
  'app',
  '--out',
  'issuer.cert',
);
licensekit(
  'issue',
  '--key',
  'issuer.json',
  '--cert',
  'issuer.cert',
  '--product',
  'app',
  '--license',
  'lic_1',
  '--days',
  '30',
  '--quota',
  'exports=1000/month',
  '--seats',
  '3',
  '--feature',
  'a,b,c',
  '--out',
  'license.cwt',
);

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const message = Buffer.from('one signed message');
writeFileSync(
  join(dir, 'vector.json'),
  JSON.stringify({
    x: publicKey.export({ format: 'jwk' }).x,
    sig: sign(null, message, privateKey).toString('base64url'),
    msg: message.toString('base64url'),
  }),
);
writeFileSync(
  join(dir, 'bare.mjs'),
  `import { createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
const { x, sig, msg } = JSON.parse(readFileSync(new URL('./vector.json', import.meta.url), 'utf8'));
const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
const ok = verify(null, Buffer.from(msg, 'base64url'), key, Buffer.from(sig, 'base64url'));
process.stdout.write(ok ? 'valid\\n' : 'invalid\\n');
process.exitCode = ok ? 0 : 1;
`,
);

const commands = {
  'licensekit verify': [
    cli,
    'verify',
    '--file',
    'license.cwt',
    '--trust',
    'root.pub.json',
    '--product',
    'app',
  ],
  'bare node:crypto verify': ['bare.mjs'],
};
const times = Object.fromEntries(Object.keys(commands).map((name) => [name, []]));
for (let round = 0; round < runs + 3; round++) {
  for (const [name, args] of Object.entries(commands)) {
    const started = process.hrtime.bigint();
    const run = spawnSync(process.execPath, args, { cwd: dir });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (run.status !== 0) throw new Error(`${name} exited ${run.status}: ${run.stderr}`);
    if (round >= 3) times[name].push(ms);
  }
}
rmSync(dir, { recursive: true, force: true });

const summary = (list) => {
  const sorted = [...list].sort((a, b) => a - b);
  return { median: sorted[sorted.length >> 1], min: sorted[0] };
};
const [cliTimes, bareTimes] = Object.values(times).map(summary);
for (const [name, list] of Object.entries(times)) {
  const { median, min } = summary(list);
  console.log(
    `${name.padEnd(24)} median ${median.toFixed(1)} ms  min ${min.toFixed(1)} ms  (${runs} runs)`,
  );
}
console.log(
  `ratio: ${(cliTimes.median / bareTimes.median).toFixed(2)}x by median, ${(cliTimes.min / bareTimes.min).toFixed(2)}x by minimum (goal ≤ 1.5x)`,
);
