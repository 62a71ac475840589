import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  type CustomerRecord,
  customerPaths,
  ensureStateDir,
  readCustomerRecord,
  writeCustomerRecord,
  writeCustomerToken,
} from './customer-state.js';
import { UsageError } from './errors.js';

const dir = mkdtempSync(join(tmpdir(), 'licensekit-customer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const record: CustomerRecord = {
  version: 1,
  store: 'http://127.0.0.1:8787',
  product: 'photon',
  license: 'lic_1',
  device: 'thumb',
  trust: [
    {
      kty: 'OKP',
      crv: 'Ed25519',
      x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
      kid: 'kid-1',
    },
  ],
  trustSource: 'store',
};

describe('what activate keeps beside --state', () => {
  test('the files are named after the state file, in its directory', () => {
    expect(customerPaths('app/license-state.json')).toEqual({
      state: 'app/license-state.json',
      deviceKey: 'app/license-state.device.json',
      token: 'app/license-state.token',
      record: 'app/license-state.license.json',
    });
    expect(customerPaths('state').token).toBe('state.token');
  });

  test('written 0600 in a 0700 directory, and read back', async () => {
    const paths = customerPaths(join(dir, 'nested', 'app', 'state.json'));
    await ensureStateDir(paths);
    await writeCustomerToken(paths, 'the-token');
    await writeCustomerRecord(paths, record);
    if (process.platform !== 'win32') {
      expect(statSync(join(dir, 'nested', 'app')).mode & 0o777).toBe(0o700);
      expect(statSync(paths.token).mode & 0o777).toBe(0o600);
      expect(statSync(paths.record).mode & 0o777).toBe(0o600);
    }
    const read = await readCustomerRecord(paths);
    expect(read.token).toBe('the-token');
    expect(read.record).toEqual(record);
  });

  test('refresh before activate: a usage error that says to activate', async () => {
    const paths = customerPaths(join(dir, 'never', 'state.json'));
    await expect(readCustomerRecord(paths)).rejects.toThrow(UsageError);
    await expect(readCustomerRecord(paths)).rejects.toThrow(/activate first/);
  });

  test('a damaged license file: a usage error that says to activate again', async () => {
    const paths = customerPaths(join(dir, 'damaged.json'));
    await writeCustomerToken(paths, 'the-token');
    for (const text of [
      'not json',
      '{}',
      JSON.stringify({ ...record, version: 2 }),
      JSON.stringify({ ...record, trust: [] }),
      JSON.stringify({ ...record, trust: [{ kty: 'RSA' }] }),
      JSON.stringify({ ...record, trustSource: 'somewhere' }),
    ]) {
      writeFileSync(paths.record, text);
      await expect(readCustomerRecord(paths), text).rejects.toThrow(/damaged; activate again/);
    }
    expect(readFileSync(paths.token, 'utf8')).toBe('the-token\n');
  });
});
