import { mkdir, readdir, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { EXIT, UsageError } from '../lib/errors.js';
import { fileExists, writeOutputFile } from '../lib/files.js';
import { capturingIo, type Io } from '../lib/io.js';
import { isoTime } from '../lib/time.js';

export interface DemoFlags {
  dir: string;
}

/** Runs one licensekit command line in-process and returns its exit code. */
export type RunCommand = (argv: readonly string[], io: Io) => Promise<number>;

const MARKER = '.licensekit-demo';
const FILES = [
  'root.json',
  'root.pub.json',
  'issuer.json',
  'issuer.pub.json',
  'issuer.cert',
  'license.cwt',
  'state.json',
];
const DAY = 86_400;

interface Step {
  title: string;
  argv: string[];
  /** The exit code this step must end with for the tour to go on. */
  expect: number;
}

function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Leaves the directory ready: earlier demo files removed, foreign files never touched. */
async function prepare(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (await fileExists(resolve(dir, MARKER))) {
    await Promise.all(FILES.map((file) => rm(resolve(dir, file), { force: true })));
    return;
  }
  const present = (await readdir(dir)).filter((file) => FILES.includes(file));
  if (present.length > 0) {
    throw new UsageError(
      `${dir} already holds ${present.join(', ')} that the demo did not make; pass --dir with another directory`,
    );
  }
  await writeOutputFile(
    resolve(dir, MARKER),
    'Files made by licensekit demo; it may replace them.\n',
  );
}

/**
 * `licensekit demo [--dir DIR]`: the guided tour. It runs the real commands (parsing
 * included) in DIR and prints each command line with its output, so the user can repeat
 * every step: keys, an issuer certificate, a Pro license (14-day term, 7-day grace,
 * refresh after 1 day, quotas, 3 features), verification now, in grace and after it, and
 * offline quota with a state file.
 */
export async function demo(flags: DemoFlags, io: Io, run: RunCommand): Promise<number> {
  const dir = resolve(flags.dir);
  await prepare(dir);
  const start = Math.floor(Date.now() / 1000);
  const inGrace = isoTime(start + 16 * DAY);
  const afterGrace = isoTime(start + 22 * DAY);
  const trust = ['--trust', 'root.pub.json', '--product', 'photon'];
  const steps: Step[] = [
    {
      title: 'Generate the offline root key; apps embed root.pub.json',
      argv: ['keygen', '--out', 'root.json'],
      expect: EXIT.ok,
    },
    {
      title: 'Generate the online issuer key that signs licenses',
      argv: ['keygen', '--out', 'issuer.json'],
      expect: EXIT.ok,
    },
    {
      title: 'The root certifies the issuer key for one product, for a year',
      argv: [
        'cert',
        '--root',
        'root.json',
        '--issuer',
        'issuer.pub.json',
        '--vendor',
        'acme',
        '--products',
        'photon',
        '--days',
        '365',
        '--out',
        'issuer.cert',
      ],
      expect: EXIT.ok,
    },
    {
      title:
        'Sign a Pro license: 14-day term, 7 days of grace, refresh after a day, quotas and features',
      argv: [
        'issue',
        '--key',
        'issuer.json',
        '--cert',
        'issuer.cert',
        '--product',
        'photon',
        '--license',
        'lic_demo_001',
        '--plan',
        'pro',
        '--days',
        '14',
        '--grace',
        '7d',
        '--refresh-after',
        '1d',
        '--quota',
        'exports=1000/month',
        '--seats',
        '3',
        '--feature',
        'export-pdf',
        '--feature',
        'batch',
        '--feature',
        'cloud-sync',
        '--out',
        'license.cwt',
      ],
      expect: EXIT.ok,
    },
    {
      title: 'Verify it offline, now: active (exit 0)',
      argv: ['verify', '--file', 'license.cwt', ...trust],
      expect: EXIT.ok,
    },
    {
      title: 'Verify 16 days later: the term has ended, the grace period keeps it working (exit 0)',
      argv: ['verify', '--file', 'license.cwt', ...trust, '--now', inGrace],
      expect: EXIT.ok,
    },
    {
      title: 'Verify 22 days later: grace is over, the license has expired (exit 1)',
      argv: ['verify', '--file', 'license.cwt', ...trust, '--now', afterGrace],
      expect: EXIT.no,
    },
    {
      title: 'Spend 5 exports offline; the state file remembers them across runs',
      argv: [
        'consume',
        '--file',
        'license.cwt',
        ...trust,
        '--quota',
        'exports',
        '--amount',
        '5',
        '--state',
        'state.json',
      ],
      expect: EXIT.ok,
    },
    {
      title: 'Ask for 1000 more: refused, only 995 are left this month (exit 1)',
      argv: [
        'consume',
        '--file',
        'license.cwt',
        ...trust,
        '--quota',
        'exports',
        '--amount',
        '1000',
        '--state',
        'state.json',
      ],
      expect: EXIT.no,
    },
  ];
  io.out(
    `licensekit demo: a guided tour in ${dir}\nEach step runs the real command; repeat any of them from that directory (in the repository: npx licensekit …).\n`,
  );
  const home = process.cwd();
  process.chdir(dir);
  try {
    for (const [index, step] of steps.entries()) {
      const captured = capturingIo();
      const code = await run(step.argv, captured);
      const output = captured
        .text()
        .trimEnd()
        .split('\n')
        .map((line) => `    ${line}`)
        .join('\n');
      io.out(
        `\n${index + 1}. ${step.title}\n  $ licensekit ${step.argv.map(shellWord).join(' ')}\n${output}\n`,
      );
      if (code !== EXIT.ok) io.out(`    (exit ${code})\n`);
      if (code !== step.expect) {
        io.err(
          `licensekit demo: step ${index + 1} ended with exit ${code}, expected ${step.expect}; the tour stops here\n`,
        );
        return code === EXIT.ok ? EXIT.no : code;
      }
    }
  } finally {
    process.chdir(home);
  }
  io.out(
    [
      '',
      'Done. The license went from active to grace to expired as time moved on, all offline.',
      'Try next, in the same directory:',
      '  licensekit inspect --file license.cwt                       # what the token carries (UNVERIFIED)',
      '  licensekit verify --file license.cwt --trust root.pub.json --json',
      '  licensekit renew --key issuer.json --file license.cwt --days 30 --out license2.cwt',
      '  licensekit audit chain --trust root.pub.json license.cwt license2.cwt',
      '  licensekit revoke --key root.json --vendor acme --license lic_demo_001 --out revoked.cwt',
      '  licensekit verify --file license.cwt --trust root.pub.json --revocations revoked.cwt',
      '',
    ].join('\n'),
  );
  return EXIT.ok;
}
