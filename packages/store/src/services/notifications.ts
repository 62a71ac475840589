import type { Db, Queryable } from '../db/client.js';
import { LICENSE_COLUMNS, toLicense } from '../repositories/licenses.js';
import type { EventType } from './events.js';
import { emitEvent } from './events.js';
import { licenseEventData } from './licensing.js';

/**
 * Events that go out once per license and period (expiring soon, quota low, quota
 * exhausted). The notifications row and the outbox rows are written in the same
 * transaction, and the row's primary key (license, kind, period) makes the second writer
 * a no-op: several instances, or a job that runs twice, never send one twice.
 */
export async function emitOnce(
  tx: Queryable,
  notice: { licenseId: string; kind: string; periodKey: string },
  type: EventType,
  data: Record<string, unknown>,
  at: Date,
): Promise<boolean> {
  const inserted = await tx.query(
    `INSERT INTO notifications (license_id, kind, period_key, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING RETURNING license_id`,
    [notice.licenseId, notice.kind, notice.periodKey, at],
  );
  if (inserted.length === 0) return false;
  await emitEvent(tx, type, data, at);
  return true;
}

/**
 * license.expiring_soon for every license in good standing whose period ends within
 * `days`, once per license and period end. Returns how many went out. Safe to run on
 * every instance at once (see emitOnce).
 */
export async function emitExpiringSoon(db: Db, now: Date, days: number): Promise<number> {
  const horizon = new Date(now.getTime() + days * 86_400_000);
  let sent = 0;
  for (;;) {
    const batch = await db.transaction(async (tx) => {
      const columns = LICENSE_COLUMNS.split(',')
        .map((column) => `l.${column.trim()}`)
        .join(', ');
      const due = (
        await tx.query<Parameters<typeof toLicense>[0]>(
          `SELECT ${columns} FROM licenses l
            WHERE l.status IN ('active', 'trialing', 'past_due')
              AND l.period_end > $1 AND l.period_end <= $2
              AND NOT EXISTS (SELECT 1 FROM notifications n
                               WHERE n.license_id = l.id AND n.kind = 'license.expiring_soon'
                                 AND n.period_key = (extract(epoch FROM l.period_end)::bigint)::text)
            ORDER BY l.period_end, l.id LIMIT 200`,
          [now, horizon],
        )
      ).map(toLicense);
      let emitted = 0;
      for (const license of due) {
        const periodEnd = license.periodEnd!;
        const sentNow = await emitOnce(
          tx,
          {
            licenseId: license.id,
            kind: 'license.expiring_soon',
            periodKey: String(Math.floor(periodEnd.getTime() / 1000)),
          },
          'license.expiring_soon',
          licenseEventData(license, {
            expiresAt: periodEnd.toISOString(),
            pendingChange: license.pendingChange,
          }),
          now,
        );
        if (sentNow) emitted++;
      }
      return { found: due.length, emitted };
    });
    sent += batch.emitted;
    if (batch.found < 200) return sent;
  }
}
