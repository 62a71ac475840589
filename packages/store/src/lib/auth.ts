import type { FastifyRequest } from 'fastify';
import { StoreError } from '../errors.js';
import { authenticateVendorToken, isVendorToken } from '../services/vendor-tokens.js';
import { safeEqual } from './secrets.js';

/**
 * Who calls the admin API: the store's operator (the admin token) or one vendor (one of
 * its `lkv_` tokens). A vendor sees and changes only what belongs to its products.
 */
export type AdminPrincipal =
  | { kind: 'operator' }
  | { kind: 'vendor'; vendorId: string; tokenId: string };

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by requireAdmin on every /v1/admin request that got through it. */
    admin: AdminPrincipal | null;
  }
  interface FastifyContextConfig {
    /**
     * An admin route a vendor token may call: the route scopes what it reads and writes to
     * that vendor's products itself. Absent = operator only (default deny).
     */
    vendorAccess?: boolean;
  }
}

/** The bearer credential of a request (`Authorization: Bearer …`), if any. */
export function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match?.[1];
}

/**
 * onRequest hook of the admin API: 401 unless the bearer is the admin token (compared in
 * constant time) or a live vendor token; 403 VENDOR_FORBIDDEN for a vendor token on a
 * route not marked `vendorAccess`. Sets `request.admin`.
 */
export async function requireAdmin(request: FastifyRequest): Promise<void> {
  const token = bearer(request);
  if (token === undefined) throw new StoreError('ADMIN_TOKEN_INVALID');
  if (isVendorToken(token)) {
    const found = await authenticateVendorToken(request.server.db, request.server, token);
    if (!found) throw new StoreError('ADMIN_TOKEN_INVALID');
    if (request.routeOptions.config?.vendorAccess !== true)
      throw new StoreError('VENDOR_FORBIDDEN');
    request.admin = { kind: 'vendor', vendorId: found.vendorId, tokenId: found.tokenId };
    return;
  }
  if (!safeEqual(token, request.server.adminToken)) throw new StoreError('ADMIN_TOKEN_INVALID');
  request.admin = { kind: 'operator' };
}

/** The principal of an admin request (requireAdmin ran: it is set). */
export function adminPrincipal(request: FastifyRequest): AdminPrincipal {
  if (!request.admin) throw new StoreError('ADMIN_TOKEN_INVALID');
  return request.admin;
}

/** The vendor an admin request is confined to; undefined for the operator (everything). */
export function vendorScope(request: FastifyRequest): string | undefined {
  const principal = adminPrincipal(request);
  return principal.kind === 'vendor' ? principal.vendorId : undefined;
}
