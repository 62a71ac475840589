import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { base64urlDecode } from '@licensekit/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { newLicenseKey, normaliseLicenseKey } from '../lib/ids.js';
import type { TestStore } from '../testing/harness.js';
import { buildTestStore, postgresUnavailable } from '../testing/harness.js';
import { buy } from '../testing/licensing.js';
import { licenseKeyBytes } from '../testing/needles.js';

/**
 * License keys carry at least 128 bits of entropy and are stored only as a keyed hash:
 * HMAC-SHA-256 under the store secret, so a copy of the database cannot confirm a guess
 * without the secret (a plain SHA-256 could be checked offline against any guess).
 */

const SYMBOL = '[0-9A-HJKMNP-TV-Z]'; // Crockford base32: no I, L, O, U
const KEY_FORMAT = new RegExp(`^LK-${SYMBOL}{5}(-${SYMBOL}{5}){5}-${SYMBOL}{2}$`);
const SAMPLES = 10_000;

describe('license key generator', () => {
  const keys = Array.from({ length: SAMPLES }, () => newLicenseKey());

  test('LK- and 32 Crockford base32 symbols: 160 bits, at least 128', () => {
    for (const key of keys) expect(key).toMatch(KEY_FORMAT);
    const symbols = keys[0]!.replace(/^LK-/, '').replace(/-/g, '').length;
    expect(symbols).toBe(32);
    expect(symbols * Math.log2(32)).toBeGreaterThanOrEqual(128);
    // Typing it back in changes nothing: normalisation does not merge keys.
    for (const key of keys.slice(0, 100)) expect(normaliseLicenseKey(key)).toBe(key);
  });

  test('every symbol and every bit is uniformly random (no fixed or biased part)', () => {
    expect(new Set(keys).size).toBe(SAMPLES);
    const bodies = keys.map((key) => key.replace(/^LK-/, '').replace(/-/g, ''));
    for (let position = 0; position < 32; position++) {
      const seen = new Set(bodies.map((body) => body[position]));
      expect(seen.size, `symbol ${position}`).toBe(32);
    }
    const ones = new Array<number>(160).fill(0);
    for (const key of keys) {
      const bytes = licenseKeyBytes(key);
      expect(bytes).toHaveLength(20);
      for (let bit = 0; bit < 160; bit++) ones[bit]! += (bytes[bit >> 3]! >> (7 - (bit & 7))) & 1;
    }
    // A fair bit is 1 in 50 % of 10 000 keys, standard deviation 0.5 %: 45–55 % is ten of them.
    for (const [bit, count] of ones.entries()) {
      expect(count / SAMPLES, `bit ${bit}`).toBeGreaterThan(0.45);
      expect(count / SAMPLES, `bit ${bit}`).toBeLessThan(0.55);
    }
  });
});

describe.skipIf(postgresUnavailable)('license keys at rest', () => {
  let store: TestStore;
  let other: TestStore;

  beforeAll(async () => {
    const quiet = { operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } } };
    store = await buildTestStore(quiet);
    other = await buildTestStore(quiet);
  });
  afterAll(async () => {
    await store?.close();
    await other?.close();
  });

  async function keyHashOf(target: TestStore, licenseId: string): Promise<string> {
    const [row] = await target.db.query<{ key_hash: string }>(
      'SELECT key_hash FROM licenses WHERE id = $1',
      [licenseId],
    );
    return row!.key_hash;
  }

  test('checkout hands out keys of the same format', async () => {
    const { key } = await buy(store);
    expect(key).toMatch(KEY_FORMAT);
  });

  test('key_hash is HMAC-SHA-256 under the store secret, not any unkeyed hash of the key', async () => {
    const { key, licenseId } = await buy(store);
    const stored = await keyHashOf(store, licenseId);
    const secret = base64urlDecode(
      readFileSync(join(store.dataDir, 'secret'), 'utf8').trim(),
      'store secret',
    );
    const message = `license-key\u0000${normaliseLicenseKey(key)}`;
    expect(stored).toBe(createHmac('sha256', secret).update(message).digest('base64url'));

    const unkeyed = new Set<string>();
    for (const input of [
      key,
      key.toLowerCase(),
      key.replace(/-/g, ''),
      key.replace(/^LK-/, '').replace(/-/g, ''),
      message,
      `license-key${key}`,
    ]) {
      for (const algorithm of ['sha256', 'sha512', 'sha1', 'md5']) {
        const digest = createHash(algorithm).update(input).digest();
        for (const encoding of ['hex', 'base64', 'base64url'] as const) {
          unkeyed.add(digest.toString(encoding));
        }
      }
    }
    for (const digest of unkeyed) expect(stored).not.toBe(digest);
    expect(stored).not.toContain(key.slice(3, 8));
  });

  test('the same key under another store secret hashes differently', async () => {
    const { key, licenseId } = await buy(store);
    const mine = await keyHashOf(store, licenseId);
    expect(other.app.secrets.keyedHash('license-key', normaliseLicenseKey(key))).not.toBe(mine);
    expect(store.app.secrets.keyedHash('license-key', normaliseLicenseKey(key))).toBe(mine);
  });
});
