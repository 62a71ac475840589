import type { QuotaSpec } from '@licensekit/core';
import { ConfigError } from '@licensekit/core';
import type { Engine } from './engine.js';
import type { Consumption } from './ledger.js';
import { consume } from './ledger.js';
import type { VerifyResult } from './result.js';
import type { CheckOptions, ConsumeResult } from './types.js';

/**
 * Offline quota: verify the token, then — in the same state transaction that moves the
 * marks — spend `amount` units if they fit. Never past the limit; a refusal says how
 * much is left and when it resets.
 */
export async function consumeQuota(
  engine: Engine,
  token: unknown,
  quota: string,
  amount: number,
  options: CheckOptions = {},
): Promise<ConsumeResult> {
  if (!Number.isSafeInteger(amount) || amount < 1)
    throw new ConfigError('amount must be a positive whole number');
  if (engine.stateless)
    throw new ConfigError('consume needs a state (the verifier was created with state: false)');
  const { now, checkedAt } = engine.clock();
  const accepted = await engine.accept(token, now, checkedAt);
  if ('valid' in accepted)
    return refusal(accepted, quota, amount, accepted.status, accepted.message);
  const spec: QuotaSpec | undefined = Object.hasOwn(accepted.claims.quota, quota)
    ? accepted.claims.quota[quota]
    : undefined;
  if (spec === undefined) {
    const { result } = await engine.decide(accepted, now, checkedAt, options);
    // The license's own status first: an ended license is "expired", not "no such quota".
    if (!result.valid) return refusal(result, quota, amount, result.status, result.message);
    return refusal(
      result,
      quota,
      amount,
      'unknown_quota',
      `The license has no quota named ${JSON.stringify(quota)}.`,
    );
  }
  const { result, actionValue } = await engine.decide<Consumption>(accepted, now, checkedAt, {
    action: (data) => {
      const spent = consume(data, accepted.claims, quota, spec, amount, now);
      return { changed: spent.granted, value: spent };
    },
    logProof: options.logProof,
  });
  if (!result.valid || actionValue === undefined)
    return refusal(result, quota, amount, result.status, result.message);
  const view = result.quotas[quota]!;
  return {
    granted: actionValue.granted,
    quota,
    amount,
    reason: actionValue.granted ? 'granted' : 'exhausted',
    message: actionValue.granted
      ? `Used ${amount} of ${quota}.`
      : `Not enough ${quota} left: ${view.remaining} remaining until ${view.resetsAt?.toISOString() ?? 'the end of the term'}.`,
    used: view.used,
    limit: view.limit,
    remaining: view.remaining,
    resetsAt: view.resetsAt,
    license: result,
  };
}

function refusal(
  license: VerifyResult,
  quota: string,
  amount: number,
  reason: string,
  message: string,
): ConsumeResult {
  const view = license.quotas[quota];
  return {
    granted: false,
    quota,
    amount,
    reason,
    message,
    used: view?.used ?? 0,
    limit: view?.limit ?? null,
    remaining: view?.remaining ?? null,
    resetsAt: view?.resetsAt ?? null,
    license,
  };
}
