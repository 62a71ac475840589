import type { DeviceKey } from './device/device-key.js';
import type { Engine } from './engine.js';
import type { CheckOptions, UsageReport, UsageReportOutcome } from './types.js';
// Loaded with import(): only types and types.ts (free of runtime imports); the rest comes
// through engine.kit, so a one-file bundle wraps nothing of the main graph (lazy-kit.ts).
import { USAGE_REPORT_TYPE } from './types.js';

/**
 * The ledger of a license as a report for the store's usage endpoint (loaded on first
 * use). Signed by the device key, as a compact JWS of type lic-usage+jwt, when the license
 * is bound and the verifier holds a DeviceKey that can sign.
 */
export async function usageReport(
  engine: Engine,
  token: string | Uint8Array,
  options: CheckOptions = {},
): Promise<UsageReportOutcome> {
  const { result, usage, accepted } = await engine.check(token, options);
  if (accepted === undefined) return { license: result };
  const report: UsageReport = {
    license: accepted.claims.sub,
    product: engine.product,
    seq: accepted.claims.seq,
    generatedAt: Math.floor(result.checkedAt.getTime() / 1000),
    quotas: usage,
  };
  const device = engine.device;
  if (device !== undefined) report.device = device.thumbprint;
  if (accepted.claims.cnf !== undefined && device && 'sign' in device) {
    return {
      license: result,
      report,
      signed: await engine.kit.signWithDevice(device as DeviceKey, USAGE_REPORT_TYPE, report),
    };
  }
  return { license: result, report };
}
