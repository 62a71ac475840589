import { StoreError } from '../errors.js';
import type { PlanInput } from '../schemas/catalogue.js';

/**
 * What a plan must satisfy beyond its schema (schemas/catalogue.ts PlanInput), for every
 * way of editing the catalogue — the admin API and the admin screen — so both refuse the
 * same plans with the same words.
 */

const INT32_MAX = 2_147_483_647;
// The claim model's rules for quota and entitlement names (core claims/checks.ts): a plan
// that breaks them could be sold but never issued. Tokens add the `seats` quota, so a
// plan has room for one quota less than a token (32).
const CLAIM_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const MAX_PLAN_QUOTAS = 31;

/** @throws StoreError BAD_REQUEST naming what is wrong */
export function checkPlanRules(plan: PlanInput): void {
  if (plan.position !== undefined && Math.abs(plan.position) > INT32_MAX)
    throw new StoreError('BAD_REQUEST', 'position is out of range.');
  if (plan.price.amount > Number.MAX_SAFE_INTEGER)
    throw new StoreError('BAD_REQUEST', 'price.amount is out of range.');
  const quotas = Object.keys(plan.quotas ?? {});
  const bad = quotas.find((name) => !CLAIM_NAME.test(name));
  if (bad !== undefined)
    throw new StoreError('BAD_REQUEST', `Quota name ${JSON.stringify(bad)} is not a valid name.`);
  if (quotas.length > MAX_PLAN_QUOTAS)
    throw new StoreError('BAD_REQUEST', `A plan has at most ${MAX_PLAN_QUOTAS} quotas.`);
  if (quotas.includes('seats'))
    throw new StoreError('BAD_REQUEST', 'The seats quota comes from the plan’s seats.');
  const entitlements = plan.entitlements ?? [];
  if (new Set(entitlements).size !== entitlements.length)
    throw new StoreError('BAD_REQUEST', 'Entitlements must not repeat.');
}
