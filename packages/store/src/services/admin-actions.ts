import type { Queryable } from '../db/client.js';
import { newId } from '../lib/ids.js';

/**
 * The audit trail of the admin screen (table admin_actions): who did what to which record,
 * written in the transaction of the change itself where there is one, so a rolled-back
 * change leaves no entry and a committed one always has its entry. `detail` holds ids,
 * amounts and reasons — never a key, a token or an address.
 */

export const ADMIN_ACTIONS = [
  'order.refunded',
  'order.charged_back',
  'order.late_payment',
  'license.revoked',
  'receipt.resent',
  'webhook.redelivered',
  'product.saved',
  'product.deactivated',
  'plan.saved',
  'plan.deactivated',
] as const;

export type AdminActionKind = (typeof ADMIN_ACTIONS)[number];

export interface AdminAction {
  id: string;
  /** Who: `operator` (the admin token); a vendor's id once vendor logins exist. */
  actor: string;
  action: AdminActionKind;
  /** The record acted on: an order, license, message, product or `product/plan` id. */
  target: string;
  detail: Record<string, unknown>;
  createdAt: Date;
}

export async function recordAdminAction(
  tx: Queryable,
  entry: Omit<AdminAction, 'id' | 'createdAt'>,
  at: Date,
): Promise<void> {
  await tx.query(
    `INSERT INTO admin_actions (id, actor, action, target, detail, created_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [newId('act'), entry.actor, entry.action, entry.target, JSON.stringify(entry.detail), at],
  );
}

/** The newest entries, optionally of one target only. */
export async function listAdminActions(
  db: Queryable,
  options: { limit: number; target?: string | undefined },
): Promise<AdminAction[]> {
  const rows = await db.query<{
    id: string;
    actor: string;
    action: AdminActionKind;
    target: string;
    detail: Record<string, unknown> | string;
    created_at: Date;
  }>(
    `SELECT id, actor, action, target, detail, created_at FROM admin_actions
      WHERE ($1::text IS NULL OR target = $1)
      ORDER BY created_at DESC, id DESC LIMIT $2`,
    [options.target ?? null, options.limit],
  );
  return rows.map((row) => ({
    id: row.id,
    actor: row.actor,
    action: row.action,
    target: row.target,
    detail: typeof row.detail === 'string' ? JSON.parse(row.detail) : row.detail,
    createdAt: new Date(row.created_at),
  }));
}
