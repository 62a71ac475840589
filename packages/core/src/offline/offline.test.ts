import { generateKeyPairSync, sign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { DeviceSigner } from '../device-proof.js';
import { MalformedError } from '../errors.js';
import { jwkThumbprint } from '../keys.js';
import {
  createOfflineRequest,
  createOfflineResponse,
  joinQrParts,
  licenseKeyHint,
  normaliseLicenseKey,
  QR_MAX_BYTES_LEVEL_M,
  qrParts,
  readOfflineRequest,
  readOfflineResponse,
} from './index.js';

function device(): DeviceSigner {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const { x } = publicKey.export({ format: 'jwk' }) as { x: string };
  return {
    publicJwk: { kty: 'OKP', crv: 'Ed25519', x },
    sign: async (data) => new Uint8Array(sign(null, data, privateKey)),
  };
}

async function reasonOf(run: Promise<unknown>): Promise<string> {
  try {
    await run;
  } catch (error) {
    if (error instanceof MalformedError) return error.reason;
    throw error;
  }
  throw new Error('expected a failure');
}

const USAGE = {
  license: 'lic_1',
  product: 'photon',
  seq: 3,
  generatedAt: 1_767_225_600,
  quotas: { exports: { window: 1_767_225_600, used: 41 } },
};

describe('offline requests', () => {
  test('round trip: what the device wrote is what the store reads, with its key', async () => {
    const signer = device();
    const request = await createOfflineRequest(signer, {
      kind: 'activate',
      product: 'photon',
      keyHint: 'm27z',
      iat: 1_767_225_600,
    });
    expect(request.text.startsWith('LK1-REQ.')).toBe(true);
    const read = await readOfflineRequest(request.text);
    expect(read).toMatchObject({
      kind: 'activate',
      product: 'photon',
      keyHint: 'M27Z',
      seq: -1,
      iat: 1_767_225_600,
      thumbprint: await jwkThumbprint(signer.publicJwk),
      hash: request.hash,
    });
    expect(read.license).toBeUndefined();
  });

  test('without usage it fits one QR code at level M; with a large usage it is split', async () => {
    const plain = await createOfflineRequest(device(), {
      kind: 'refresh',
      product: 'photon',
      license: 'lic_0123456789abcdefghijklmn',
      seq: 12,
    });
    expect(qrParts(plain.text)).toEqual([plain.text]);
    expect(plain.text.length).toBeLessThan(QR_MAX_BYTES_LEVEL_M);
    const quotas = Object.fromEntries(
      Array.from({ length: 80 }, (_, i) => [`quota-${i}`, { window: 1_767_225_600, used: i }]),
    );
    const heavy = await createOfflineRequest(device(), {
      kind: 'refresh',
      product: 'photon',
      license: 'lic_1',
      usage: { ...USAGE, quotas },
    });
    const parts = qrParts(heavy.text);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(QR_MAX_BYTES_LEVEL_M);
    // Scanned in any order, joined back, the request reads the same.
    const read = await readOfflineRequest(joinQrParts([...parts].reverse()));
    expect(read.hash).toBe(heavy.hash);
    expect(read.usage).toEqual({ ...USAGE, quotas });
  });

  test('mistyped, truncated, spliced or foreign texts are refused with what went wrong', async () => {
    const request = await createOfflineRequest(device(), {
      kind: 'activate',
      product: 'photon',
      keyHint: 'ABCD',
    });
    const text = request.text;
    const i = 40;
    const typo = `${text.slice(0, i)}${text[i] === 'A' ? 'B' : 'A'}${text.slice(i + 1)}`;
    expect(await reasonOf(readOfflineRequest(typo))).toBe('bad_checksum');
    expect(await reasonOf(readOfflineRequest(text.slice(0, -10)))).toBe('bad_checksum');
    expect(await reasonOf(readOfflineRequest(`${text}x`))).toBe('bad_checksum');
    expect(await reasonOf(readOfflineRequest(text.replace('LK1-REQ', 'LK1-RES')))).toBe(
      'wrong_type',
    );
    expect(await reasonOf(readOfflineRequest('hello'))).toBe('bad_structure');
    expect(await reasonOf(readOfflineRequest('x'.repeat(40_000)))).toBe('too_large');
    expect(await reasonOf(readOfflineRequest(42))).toBe('bad_structure');
    // Line breaks and blanks of a pasted copy are fine.
    const wrapped = text.replace(/(.{60})/g, '$1\n  ');
    expect((await readOfflineRequest(wrapped)).hash).toBe(request.hash);
  });

  test('a request signed by another key than the one it carries is refused', async () => {
    const claimed = device();
    const other = device();
    const forged = await createOfflineRequest(
      { publicJwk: claimed.publicJwk, sign: other.sign },
      { kind: 'activate', product: 'photon', keyHint: 'ABCD' },
    ).catch((error: unknown) => error);
    expect(forged).toBeInstanceOf(MalformedError);
    expect((forged as Error).message).toContain('not by the device key');
  });

  test('fields a store would refuse are refused when writing', async () => {
    const signer = device();
    for (const fields of [
      { kind: 'activate' as const, product: 'photon' },
      { kind: 'refresh' as const, product: 'photon', keyHint: 'ABCD' },
      { kind: 'activate' as const, product: 'bad product', keyHint: 'ABCD' },
      { kind: 'activate' as const, product: 'photon', keyHint: 'ABCDE' },
      { kind: 'activate' as const, product: 'photon', license: 'lic_1', seq: -2 },
    ]) {
      expect(await reasonOf(createOfflineRequest(signer, fields))).toBe('bad_offline_document');
    }
  });

  test('property: any valid request round-trips through text and QR parts', async () => {
    const signer = device();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('activate', 'refresh') as fc.Arbitrary<'activate' | 'refresh'>,
        fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
        fc.integer({ min: -1, max: 1_000_000 }),
        fc.dictionary(
          fc.stringMatching(/^[a-z]{1,12}$/),
          fc.record({ window: fc.nat(2_000_000_000), used: fc.nat(1_000_000_000) }),
          { maxKeys: 40 },
        ),
        fc.integer({ min: 200, max: 3000 }),
        async (kind, product, seq, quotas, maxLength) => {
          const request = await createOfflineRequest(signer, {
            kind,
            product,
            license: 'lic_abc',
            seq,
            usage: { ...USAGE, quotas },
          });
          const joined = joinQrParts(
            fc.sample(
              fc.shuffledSubarray(qrParts(request.text, maxLength), {
                minLength: qrParts(request.text, maxLength).length,
              }),
              1,
            )[0]!,
          );
          const read = await readOfflineRequest(joined);
          expect(read).toMatchObject({
            kind,
            product,
            seq,
            license: 'lic_abc',
            hash: request.hash,
          });
          expect(read.usage).toEqual({ ...USAGE, quotas });
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('offline responses', () => {
  const response = {
    nonce: 'AAAAAAAAAAAAAAAAAAAAAA',
    request: 'B'.repeat(43),
    token: 'eyJ0eXAiOiJsaWMrand0In0.e30.sig',
    logProof: { index: 3, treeSize: 9, inclusion: [], checkpoint: 'x\n' },
  };

  test('round trip, and hostile copies refused', async () => {
    const text = await createOfflineResponse(response);
    expect(await readOfflineResponse(text)).toEqual(response);
    expect(await reasonOf(readOfflineResponse(text.slice(0, 30)))).toBe('bad_checksum');
    const request = await createOfflineRequest(device(), {
      kind: 'activate',
      product: 'photon',
      keyHint: 'ABCD',
    });
    expect(await reasonOf(readOfflineResponse(request.text))).toBe('wrong_type');
    expect(
      await reasonOf(
        readOfflineResponse(await createOfflineResponse({ ...response, nonce: 'short' })),
      ),
    ).toBe('bad_offline_document');
  });
});

describe('QR parts', () => {
  test('missing, foreign or conflicting parts are refused', () => {
    const parts = qrParts('x'.repeat(5000), 1000);
    expect(parts).toHaveLength(6);
    expect(() => joinQrParts(parts.slice(1))).toThrow('parts missing: 1 of 6');
    expect(() => joinQrParts([...parts, 'hello'])).toThrow('not a licensekit part');
    const other = qrParts('y'.repeat(3000), 1000);
    expect(() => joinQrParts([...parts.slice(0, 2), other[2]!])).toThrow('different sequences');
    expect(() => joinQrParts([...parts, `${parts[0]!.slice(0, -1)}z`])).toThrow('twice');
    expect(joinQrParts([...parts, parts[0]!])).toBe('x'.repeat(5000));
  });
});

describe('license keys', () => {
  test('normal form and hint of what a customer typed', () => {
    expect(normaliseLicenseKey(' lk-abcde fghjk-o0il1 ')).toBe('LK-ABCDE-FGHJK-00111');
    expect(licenseKeyHint('LK-ABCDE-FGHJK-00111')).toBe('0111');
    expect(licenseKeyHint('lk abcde-fghjk-o0il')).toBe('0011');
  });
});
