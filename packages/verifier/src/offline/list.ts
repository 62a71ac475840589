import type { PendingRequest } from '../state/state.js';
import type { Verifier } from '../types.js';
import { hostOf } from './host.js';
import { pendingRequests } from './pending.js';

/**
 * The offline requests this verifier wrote and has not seen answered, oldest first: for an
 * app to show "waiting for the answer to the request of …".
 * @throws ConfigError (a compact or stateless verifier)
 */
export function listPendingRequests(verifier: Verifier): Promise<PendingRequest[]> {
  const host = hostOf(verifier);
  return host.state.transact(host.product, (state) => ({
    changed: false,
    value: pendingRequests(state).map((entry) => ({ ...entry })),
  }));
}
