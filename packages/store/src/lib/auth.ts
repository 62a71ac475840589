import type { FastifyRequest } from 'fastify';
import { StoreError } from '../errors.js';
import { safeEqual } from './secrets.js';

/** The bearer credential of a request (`Authorization: Bearer …`), if any. */
export function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match?.[1];
}

/** preHandler for the admin API: 401 unless the admin token matches (constant time). */
export async function requireAdmin(request: FastifyRequest): Promise<void> {
  const token = bearer(request);
  if (token === undefined || !safeEqual(token, request.server.adminToken))
    throw new StoreError('ADMIN_TOKEN_INVALID');
}
