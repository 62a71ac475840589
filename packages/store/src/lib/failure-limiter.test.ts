import { describe, expect, test } from 'vitest';
import { BLOCKED, clientKey, FailureLimiter } from './failure-limiter.js';

describe('clientKey', () => {
  test('IPv4 addresses are their own key, also when IPv4-mapped', () => {
    expect(clientKey('203.0.113.9')).toBe('203.0.113.9');
    expect(clientKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(clientKey('::FFFF:203.0.113.9')).toBe('203.0.113.9');
  });

  test('IPv6 addresses are keyed by their /64, however they are written', () => {
    const key = '2001:db8:1:2::/64';
    for (const address of [
      '2001:db8:1:2::1',
      '2001:0db8:0001:0002:ffff:ffff:ffff:ffff',
      '2001:DB8:1:2:0:0:0:0',
      '2001:db8:1:2::1.2.3.4',
      '2001:db8:1:2::7%eth0',
    ]) {
      expect(clientKey(address), address).toBe(key);
    }
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('2001:db8:1:3::1')).not.toBe(key);
  });

  test('anything else is kept as it is', () => {
    expect(clientKey('')).toBe('');
    expect(clientKey('not-an-address')).toBe('not-an-address');
  });
});

describe('FailureLimiter.run', () => {
  test('a lookup that throws frees its slot and is not a failure', async () => {
    const limiter = new FailureLimiter(1, 60_000, () => 0);
    await expect(limiter.run('a', () => Promise.reject(new Error('db down')))).rejects.toThrow();
    expect(limiter.isBlocked('a')).toBe(false);
    expect(await limiter.run('a', async () => 'found')).toBe('found');
    expect(await limiter.run('a', async () => undefined)).toBeUndefined();
    expect(await limiter.run('a', async () => 'found')).toBe(BLOCKED);
  });
});
