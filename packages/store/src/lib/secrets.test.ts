import { describe, expect, test } from 'vitest';
import { safeEqual } from './secrets.js';

describe('safeEqual', () => {
  test('equal strings only, whatever their lengths', () => {
    expect(safeEqual('admin-token-0123456789', 'admin-token-0123456789')).toBe(true);
    expect(safeEqual('admin-token-0123456789', 'admin-token-0123456788')).toBe(false);
    expect(safeEqual('admin-token-0123456789', 'admin-token')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
    expect(safeEqual('', 'x')).toBe(false);
    expect(safeEqual('é', 'e\u0301')).toBe(false);
  });
});
