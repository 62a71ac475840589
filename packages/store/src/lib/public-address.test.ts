import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { Resolver } from './public-address.js';
import {
  isPrivateName,
  isPublicAddress,
  NON_PUBLIC_IPV4,
  publicAddressesOf,
} from './public-address.js';

describe('isPublicAddress', () => {
  test.each([
    '8.8.8.8',
    '93.184.215.14',
    '1.1.1.1',
    '2606:4700:4700::1111',
    '2a00:1450:4001::200e',
    '::ffff:8.8.8.8', // IPv4-mapped: reaches 8.8.8.8
    '64:ff9b::808:808', // NAT64 of 8.8.8.8
    '2002:808:808::1', // 6to4 of 8.8.8.8
  ])('%s is public', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  test.each([
    '127.0.0.1',
    '127.255.255.254',
    '0.0.0.0',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.0.1',
    '169.254.169.254', // cloud metadata
    '100.64.0.1',
    '192.0.2.10',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    'fe80::1%eth0',
    'ff02::1',
    '2001:db8::1',
    '2001::1', // Teredo
    '::127.0.0.1', // IPv4-compatible (deprecated)
    '::ffff:127.0.0.1',
    '::ffff:7f00:1', // the same, as the URL parser writes it
    '::ffff:a9fe:a9fe', // ::ffff:169.254.169.254
    '::ffff:10.0.0.1',
    '64:ff9b::a00:1', // NAT64 of 10.0.0.1
    '64:ff9b::7f00:1', // NAT64 of 127.0.0.1
    '2002:7f00:1::', // 6to4 of 127.0.0.1
    '2002:a9fe:a9fe::1', // 6to4 of 169.254.169.254
    'not an address',
    '',
  ])('%s is not public', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  test('every address in a non-public IPv4 range is refused, also IPv4-mapped, NAT64 and 6to4', () => {
    const inRange = fc.constantFrom(...NON_PUBLIC_IPV4).chain(([network, prefix]) =>
      fc.integer({ min: 0, max: 2 ** (32 - prefix) - 1 }).map((offset) => {
        const base = network.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
        return base + offset;
      }),
    );
    const dotted = (n: number) => [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.');
    const hex = (n: number) => `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
    fc.assert(
      fc.property(inRange, (n) => {
        for (const form of [
          dotted(n),
          `::ffff:${dotted(n)}`,
          `64:ff9b::${hex(n)}`,
          `2002:${hex(n)}::`,
        ])
          expect({ form, public: isPublicAddress(form) }).toEqual({ form, public: false });
      }),
    );
  });

  test('IPv6 private ranges (loopback, unique local, link-local) are refused throughout', () => {
    const group = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));
    const address = fc.oneof(
      // fc00::/7
      fc.tuple(
        fc.integer({ min: 0xfc00, max: 0xfdff }),
        fc.array(group, { minLength: 7, maxLength: 7 }),
      ),
      // fe80::/10
      fc.tuple(
        fc.integer({ min: 0xfe80, max: 0xfebf }),
        fc.array(group, { minLength: 7, maxLength: 7 }),
      ),
    );
    fc.assert(
      fc.property(address, ([first, rest]) => {
        expect(isPublicAddress([first.toString(16), ...rest].join(':'))).toBe(false);
      }),
    );
  });
});

describe('URL hosts', () => {
  // The WHATWG URL parser turns decimal, octal, hex and short IPv4 forms into dotted
  // quads, and IPv6 into its compressed form: the check sees what a connection would use.
  test.each([
    ['http://2130706433/', '127.0.0.1'],
    ['http://0x7f.1/', '127.0.0.1'],
    ['http://0177.0.0.1/', '127.0.0.1'],
    ['http://127.1/', '127.0.0.1'],
    ['http://%31%32%37.0.0.1/', '127.0.0.1'],
    ['http://0/', '0.0.0.0'],
    ['http://[::ffff:127.0.0.1]/', '[::ffff:7f00:1]'],
  ])('%s is parsed as %s and refused without any lookup', async (url, hostname) => {
    const parsed = new URL(url);
    expect(parsed.hostname).toBe(hostname);
    const resolve: Resolver = () => Promise.reject(new Error('no lookup of an IP literal'));
    expect(await publicAddressesOf(parsed, resolve)).toBeUndefined();
  });

  test('a public IP literal is its own address, without a lookup', async () => {
    const resolve: Resolver = () => Promise.reject(new Error('no lookup of an IP literal'));
    expect(await publicAddressesOf(new URL('https://[2606:4700::1111]/'), resolve)).toEqual([
      '2606:4700::1111',
    ]);
    expect(await publicAddressesOf(new URL('https://8.8.8.8/'), resolve)).toEqual(['8.8.8.8']);
  });

  test.each([
    'localhost',
    'localhost.',
    'LOCALHOST',
    'api.localhost',
    'metadata.google.internal',
    'printer.local',
    'intranet',
  ])('the name %s is private whatever it resolves to', (name) => {
    expect(isPrivateName(name)).toBe(true);
  });

  test.each(['hooks.example.com', 'example.com.', 'localhost.example.com', 'internal.example.org'])(
    'the name %s is judged by its addresses',
    (name) => {
      expect(isPrivateName(name)).toBe(false);
    },
  );

  test('a name is public only when every address it resolves to is', async () => {
    const answers: Record<string, string[]> = {
      'public.example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
      'mixed.example.com': ['93.184.215.14', '10.0.0.7'],
      'rebound.example.com': ['169.254.169.254'],
      'mapped.example.com': ['::ffff:127.0.0.1'],
    };
    const asked: string[] = [];
    const resolve: Resolver = async (name) => {
      asked.push(name);
      return answers[name] ?? [];
    };
    const of = (host: string) => publicAddressesOf(new URL(`https://${host}/hook`), resolve);
    expect(await of('public.example.com')).toEqual(answers['public.example.com']);
    expect(await of('mixed.example.com')).toBeUndefined();
    expect(await of('rebound.example.com')).toBeUndefined();
    expect(await of('mapped.example.com')).toBeUndefined();
    await expect(of('nothing.example.com')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    // Private names are refused before any lookup.
    expect(await of('metadata.google.internal')).toBeUndefined();
    expect(asked).not.toContain('metadata.google.internal');
  });
});
