import { StoreError } from '../errors.js';
import { newId, newLicenseKey, normaliseLicenseKey } from '../lib/ids.js';
import { LICENSE_KEY_DOMAIN } from '../lib/license-auth.js';
import type { LicenseRecord } from '../repositories/licenses.js';
import { licensesRepository } from '../repositories/licenses.js';
import type { StoreContext } from './context.js';
import { emitEvent } from './events.js';
import { isRevoked, licenseEventData } from './licensing.js';

/**
 * Replacing a lost (or leaked) license key. The license keeps everything but its key: the
 * keyed hash and hint are overwritten, so the old key finds nothing (404 everywhere, and
 * it counts as a failed lookup); devices stay activated and tokens already issued stay
 * valid and refresh, since neither depends on the key. Every portal session of the license
 * ends (one opened with the old key among them); the caller opens a new one for the
 * customer who asked. The new key is returned once and never stored; the change is
 * audited (license_key_replacements, a log line, `license.key_replaced`, which also mails
 * the customer a notice) — none of them holds a key.
 */

export interface ReplacedKey {
  /** Shown once, like the checkout's key. */
  key: string;
  license: LicenseRecord;
}

/** @throws StoreError LICENSE_NOT_FOUND, LICENSE_REVOKED */
export async function replaceLicenseKey(
  ctx: StoreContext,
  licenseId: string,
): Promise<ReplacedKey> {
  const now = ctx.clock.now();
  const replaced = await ctx.db.transaction(async (tx) => {
    const licenses = licensesRepository(tx);
    const license = await licenses.byId(licenseId, { forUpdate: true });
    if (!license) throw new StoreError('LICENSE_NOT_FOUND');
    if (isRevoked(license)) throw new StoreError('LICENSE_REVOKED');
    const key = newLicenseKey();
    const normalised = normaliseLicenseKey(key);
    const updated = await licenses.replaceKey(
      license.id,
      ctx.secrets.keyedHash(LICENSE_KEY_DOMAIN, normalised),
      normalised.replace(/-/g, '').slice(-4),
    );
    await tx.query(
      `INSERT INTO license_key_replacements
         (id, license_id, customer_id, old_key_hint, new_key_hint, replaced_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [newId('krp'), license.id, license.customerId, license.keyHint, updated.keyHint, now],
    );
    await tx.query('DELETE FROM portal_sessions WHERE license_id = $1', [license.id]);
    await tx.query('DELETE FROM portal_link_sessions WHERE license_id = $1', [license.id]);
    await emitEvent(
      tx,
      'license.key_replaced',
      licenseEventData(updated, { keyHint: updated.keyHint, replacedAt: now.toISOString() }),
      now,
    );
    return { key, license: updated, oldHint: license.keyHint };
  });
  ctx.log.info(
    {
      license: replaced.license.id,
      customer: replaced.license.customerId,
      oldKeyHint: replaced.oldHint,
      newKeyHint: replaced.license.keyHint,
    },
    'license key replaced',
  );
  return { key: replaced.key, license: replaced.license };
}
