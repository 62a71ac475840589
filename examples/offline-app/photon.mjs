#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
// Photon: a pretend photo editor that shows the whole offline life of a licensekit
// license. See README.md for a walk through it.
//
//   photon activate --token FILE|TOKEN --trust root.pub.json
//   photon activate --key LK-… --store URL --trust root.pub.json   (binds this device)
//   photon status
//   photon export [--count N]
//   photon refresh --store URL [--force]
import { createDeviceProof } from '@licensekit/core';
import { clock, deviceKey, openVerifier, readToken, saveToken, saveTrust } from './license.mjs';

const [command = 'help', ...rest] = process.argv.slice(2);
const flags = parseFlags(rest);

function parseFlags(args) {
  const out = {};
  for (let i = 0; i < args.length; i++) {
    const name = args[i].replace(/^--/, '');
    const next = args[i + 1];
    if (next === undefined || next.startsWith('--')) out[name] = true;
    else out[name] = args[++i];
  }
  return out;
}

const when = (date) => (date ? date.toISOString().replace('.000Z', 'Z') : 'never');

function describe(result) {
  const lines = [`license ${result.valid ? 'OK' : 'NOT OK'}: ${result.status} — ${result.message}`];
  if (result.claims) {
    lines.push(`  plan ${result.plan}${result.trial ? ' (trial)' : ''}, license ${result.license}`);
    lines.push(`  expires ${when(result.expiresAt)}, grace until ${when(result.graceEndsAt)}`);
    for (const [name, q] of Object.entries(result.quotas)) {
      if (name === 'seats') continue;
      const left = q.unlimited ? 'unlimited' : `${q.remaining} of ${q.limit} left`;
      lines.push(`  ${name}: ${left}${q.resetsAt ? `, resets ${when(q.resetsAt)}` : ''}`);
    }
  }
  for (const warning of result.warnings) lines.push(`  warning: ${warning}`);
  if (result.status === 'grace')
    lines.push('  Photon keeps working; connect to refresh the license.');
  if (result.status === 'clock_tampered')
    lines.push('  Set the system clock right and start Photon again.');
  return lines.join('\n');
}

async function current(verifier) {
  const token = await readToken();
  if (!token) throw new Error('Photon is not activated: run photon activate');
  return { token, result: await verifier.verify(token) };
}

/** Online activation: the store binds the license to this device's key. */
async function activateOnline(store, key) {
  const device = await deviceKey();
  const url = new URL('v1/licenses/activate', store.replace(/\/*$/, '/')).toString();
  const body = JSON.stringify({ device: { publicJwk: device.publicJwk, name: 'photon example' } });
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${key}`,
      dpop: await createDeviceProof(device, {
        method: 'POST',
        url,
        body,
        iat: Math.floor(clock() / 1000),
      }),
    },
    body,
  });
  const reply = await response.json();
  if (response.status !== 200)
    throw new Error(`the store refused: ${reply.error?.message ?? response.status}`);
  return reply.token;
}

const commands = {
  async activate() {
    if (typeof flags.trust === 'string') await saveTrust(flags.trust);
    let token;
    if (typeof flags.key === 'string' && typeof flags.store === 'string') {
      token = await activateOnline(flags.store, flags.key);
    } else if (typeof flags.token === 'string') {
      // A file holding the token (as the purchase page offers it), or the token itself.
      token = await readFile(flags.token, 'utf8').then(
        (text) => text.trim(),
        () => flags.token,
      );
    } else {
      throw new Error('activate needs --token FILE|TOKEN, or --key LK-… with --store URL');
    }
    const result = await (await openVerifier()).verify(token);
    if (!result.valid) {
      console.log(describe(result));
      return 1;
    }
    await saveToken(token);
    console.log(`Photon is activated.\n${describe(result)}`);
    return 0;
  },

  async status() {
    const { result } = await current(await openVerifier());
    console.log(describe(result));
    return result.valid ? 0 : 1;
  },

  async export() {
    const verifier = await openVerifier();
    const { token } = await current(verifier);
    const count = Number(flags.count ?? 1);
    const spent = await verifier.consume(token, 'exports', count);
    if (spent.granted) {
      console.log(`exported ${count} photo(s); ${spent.remaining} exports left this period`);
      return 0;
    }
    console.log(`export refused (${spent.reason}): ${spent.message}`);
    return 1;
  },

  async refresh() {
    if (typeof flags.store !== 'string') throw new Error('refresh needs --store URL');
    const verifier = await openVerifier();
    const { token } = await current(verifier);
    const outcome = await verifier.refreshIfDue(token, {
      storeUrl: flags.store,
      force: flags.force === true,
    });
    switch (outcome.kind) {
      case 'refreshed':
        await saveToken(outcome.token);
        console.log(`refreshed.\n${describe(outcome.result)}`);
        // The store signs with its own clock: a new token that is due already means the
        // store's time is behind Photon's (PHOTON_NOW ahead of a store on the real clock).
        if (outcome.result.status === 'refresh_due') {
          console.log(
            "  The new token is due again already: the store's clock is behind this one (is PHOTON_NOW ahead of the store's time?).",
          );
        }
        return 0;
      case 'not_due':
        console.log(`no refresh needed yet.\n${describe(outcome.result)}`);
        return 0;
      case 'refused':
        console.log(
          `the store refused (${outcome.httpStatus}): ${outcome.message}${outcome.checkoutUrl ? `\n  renew at ${outcome.checkoutUrl}` : ''}`,
        );
        return 1;
      default:
        console.log(
          `could not refresh (${outcome.kind}): ${outcome.error ?? ''} — will try again after ${when(outcome.retryAt)}.\n${describe(outcome.result)}`,
        );
        return outcome.result.valid ? 0 : 1;
    }
  },

  async help() {
    console.log('photon activate | status | export [--count N] | refresh --store URL [--force]');
    return 0;
  },
};

const run = commands[command] ?? commands.help;
try {
  process.exitCode = await run();
} catch (error) {
  console.error(`photon: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
}
