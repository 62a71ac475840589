import { consumeQuota } from './consume.js';
import type { Decode } from './decode.js';
import { Engine } from './engine.js';
import { ENGINE_LINK } from './engine-link.js';
import { Backoff } from './refresh.js';
import type { Verifier, VerifierOptions } from './types.js';

/**
 * Builds a verifier around a decoder (both formats, or CWT only). Verification and
 * offline quota are always loaded; revocation lists, log proofs, refresh and usage reports
 * are imported on first use so that apps that never call them never load them.
 */
export function createVerifierWith(decode: Decode, options: VerifierOptions): Verifier {
  const engine = new Engine(decode, options);
  const backoff = new Backoff();
  const verifier: Verifier = {
    product: engine.product,
    device: engine.device,
    verify: async (token, options) => (await engine.check(token, options)).result,
    consume: (token, quota, amount = 1, options = {}) =>
      consumeQuota(engine, token, quota, amount, options),
    async usage(token, options) {
      const { result, usage } = await engine.check(token, options);
      return { license: result, usage };
    },
    async updateRevocations(listToken) {
      const registry =
        engine.revocations ?? (await engine.loadRevocations(await engine.getReady()));
      return registry.update(listToken);
    },
    async refreshIfDue(token, refresh) {
      const { refreshIfDue } = await import('./refresh-run.js');
      return refreshIfDue(engine, backoff, token, refresh);
    },
    async usageReport(token, options) {
      const { usageReport } = await import('./usage-report.js');
      return usageReport(engine, token, options);
    },
  };
  // Not enumerable: the engine stays out of logs and JSON of the verifier.
  return Object.defineProperty(verifier, ENGINE_LINK, { value: engine });
}
