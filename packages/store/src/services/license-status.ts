import { lockCurrentLicense } from './billing.js';
import type { StoreContext } from './context.js';
import type { LicenseView } from './licensing.js';
import { isRevoked, isUsable, licenseView, subscribeUrl } from './licensing.js';

export interface LicenseStatusResult {
  view: LicenseView;
  /** Whether the license is paid for now (active or trialing). */
  paid: boolean;
  /** Where to pay when it is not. */
  subscribeUrl: string;
}

/**
 * A license as it is now (after any period end the billing cycle owes it): the status
 * endpoint answers 200 with it when paid, 402 with `subscribeUrl` when not; the portal
 * shows it either way.
 * @throws StoreError LICENSE_NOT_FOUND
 */
export async function licenseStatus(
  ctx: StoreContext,
  licenseId: string,
): Promise<LicenseStatusResult> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const license = await lockCurrentLicense(tx, ctx, licenseId, now);
    return {
      view: await licenseView(tx, ctx.config, license),
      paid: !isRevoked(license) && isUsable(license.status),
      subscribeUrl: subscribeUrl(ctx.config, license.productId),
    };
  });
}
