// Everything Photon knows about licensing, in one place: where the license lives, how it
// is verified (offline, with the app's own state), and the three things the app does with
// it: check it, spend quota, refresh it when a store is reachable.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createVerifier } from '@licensekit/verifier';
import { fileDeviceKey, fileState, writeAtomically } from '@licensekit/verifier/node';

export const PRODUCT = 'photon';

/** Where Photon keeps its files: PHOTON_HOME, else ./.photon. */
export function home() {
  return process.env.PHOTON_HOME ?? '.photon';
}

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * The clock. PHOTON_NOW pretends it is another time, to watch the license through its
 * life — or to play the customer who sets the clock back: an ISO 8601 time
 * (`2026-03-01T12:00:00Z`), or a distance from the real clock (`+2d`, `-12h`, `+1d12h`;
 * units s, m, h, d, w), the grammar of `licensekit … --now`.
 */
export function clock() {
  const pretend = process.env.PHOTON_NOW;
  if (pretend === undefined || pretend === '') return Date.now();
  const relative = /^([+-])((?:\d{1,9}[smhdw])+)$/.exec(pretend);
  if (relative) {
    let ms = 0;
    for (const [, count, unit] of relative[2].matchAll(/(\d+)([smhdw])/g)) {
      ms += Number(count) * UNIT_MS[unit];
    }
    return Date.now() + (relative[1] === '-' ? -ms : ms);
  }
  const ms = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(pretend)
    ? Date.parse(pretend)
    : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new Error(
      `PHOTON_NOW ${pretend} is not a time: give an ISO 8601 time (2026-03-01T12:00:00Z) or a distance from now (+2d, -12h)`,
    );
  }
  return ms;
}

const paths = () => ({
  token: join(home(), 'license.token'),
  trust: join(home(), 'root.pub.json'),
  state: join(home(), 'state.json'),
  device: join(home(), 'device.json'),
});

/** The vendor's root public key, which the app ships with (here: copied at activation). */
export async function readTrust() {
  try {
    return JSON.parse(await readFile(paths().trust, 'utf8'));
  } catch {
    throw new Error(`no vendor key at ${paths().trust}: activate with --trust FILE first`);
  }
}

export async function saveTrust(file) {
  await mkdir(home(), { recursive: true, mode: 0o700 });
  await writeFile(paths().trust, await readFile(file, 'utf8'));
}

export async function readToken() {
  try {
    return (await readFile(paths().token, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

export async function saveToken(token) {
  await mkdir(home(), { recursive: true, mode: 0o700 });
  await writeAtomically(paths().token, `${token}\n`);
}

/** This machine's device key (a 0600 file, created on first use). */
export function deviceKey() {
  return fileDeviceKey(paths().device);
}

/**
 * The verifier: the vendor's root key, this product, the app's state file (so a replayed
 * older token is rolled back and a clock set back is caught, across restarts), and the
 * device key for licenses bound to this machine.
 */
export async function openVerifier() {
  return createVerifier({
    trust: { roots: [await readTrust()] },
    product: PRODUCT,
    state: fileState(paths().state),
    device: await deviceKey(),
    clock,
  });
}
