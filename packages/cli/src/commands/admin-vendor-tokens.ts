import { adminClient } from '../lib/admin-client.js';
import { EXIT, quote, UsageError } from '../lib/errors.js';
import type { Io } from '../lib/io.js';
import type { AdminFlags } from './admin.js';

/**
 * `licensekit admin vendors tokens …`: a vendor's own admin tokens (the store's
 * routes/admin/vendor-tokens.ts, operator only). A vendor token works on the admin API
 * scoped to that vendor's products; the store shows it once and keeps only its keyed hash,
 * so `create` puts it alone on stdout (ready for `$(…)` or a secret store) and says so on
 * stderr.
 */

export interface VendorTokenCreateFlags extends AdminFlags {
  label?: string;
}

interface VendorToken {
  id: string;
  vendorId: string;
  label: string;
  createdAt: string;
  revokedAt: string | null;
}

// The same shapes the store's route schemas accept; checked here so a typo is a usage
// error before anything is sent.
const VENDOR_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const TOKEN_ID = /^vtk_[A-Za-z0-9_-]{1,64}$/;

function vendorId(id: string): string {
  if (!VENDOR_ID.test(id))
    throw new UsageError(
      `${quote(id)} is not a vendor id (lowercase letters, digits and -, up to 63)`,
    );
  return id;
}

function tokensPath(vendor: string): string {
  return `/v1/admin/vendors/${encodeURIComponent(vendorId(vendor))}/tokens`;
}

function tokenLine(token: VendorToken): string {
  const state = token.revokedAt === null ? 'active' : `revoked ${token.revokedAt}`;
  return `${token.id}  ${token.label === '' ? '-' : token.label}  created ${token.createdAt}  ${state}`;
}

export async function createVendorToken(
  vendor: string,
  flags: VendorTokenCreateFlags,
  io: Io,
): Promise<number> {
  const label = flags.label?.trim();
  if (label !== undefined && label.length > 200)
    throw new UsageError('--label must be at most 200 characters');
  const path = tokensPath(vendor);
  const created = (await (
    await adminClient(flags)
  ).request('POST', path, label === undefined ? {} : { label })) as VendorToken & {
    token: string;
  };
  io.err(
    `vendor token ${created.id} for ${created.vendorId}: shown this once, the store keeps only a hash of it\n`,
  );
  io.out(flags.json ? `${JSON.stringify(created, null, 2)}\n` : `${created.token}\n`);
  return EXIT.ok;
}

export async function listVendorTokens(vendor: string, flags: AdminFlags, io: Io): Promise<number> {
  const reply = (await (await adminClient(flags)).request('GET', tokensPath(vendor))) as {
    tokens: VendorToken[];
  };
  io.out(
    flags.json
      ? `${JSON.stringify(reply, null, 2)}\n`
      : `${reply.tokens.length === 0 ? `no tokens for ${vendor}` : reply.tokens.map(tokenLine).join('\n')}\n`,
  );
  return EXIT.ok;
}

export async function revokeVendorToken(
  vendor: string,
  tokenId: string,
  flags: AdminFlags,
  io: Io,
): Promise<number> {
  if (!TOKEN_ID.test(tokenId))
    throw new UsageError(`${quote(tokenId)} is not a vendor token id (vtk_…)`);
  const path = `${tokensPath(vendor)}/${encodeURIComponent(tokenId)}`;
  const revoked = (await (await adminClient(flags)).request('DELETE', path)) as VendorToken;
  io.out(
    flags.json
      ? `${JSON.stringify(revoked, null, 2)}\n`
      : `vendor token ${revoked.id} of ${revoked.vendorId} is revoked (since ${revoked.revokedAt}); the store refuses it from now on\n`,
  );
  return EXIT.ok;
}
