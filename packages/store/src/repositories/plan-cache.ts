import type { Queryable } from '../db/client.js';
import type { Plan } from '../schemas/catalogue.js';
import type { PlanRow } from './catalogue.js';
import { PLAN_COLUMNS, toPlan } from './catalogue.js';

/**
 * Plans kept in memory for token issuing, each with the version (PostgreSQL's xmin) of the
 * row it was read from. Issuing reads the plan row's current version together with the
 * license (one statement it makes anyway) and uses the cached plan only when the versions
 * match: any change of the plan — through this store's admin API, another instance on the
 * same PostgreSQL, or SQL by hand — gives the row a new version, so a stale plan is never
 * used and there is no expiry to tune.
 */

interface Cached {
  version: string;
  plan: Plan;
}

/** Plans per cache: a catalogue is small; past this the cache starts over. */
const MAX_PLANS = 1000;

export class PlanCache {
  private readonly plans = new Map<string, Cached>();

  /**
   * The plan at `version` (from the cache, no statement), or read now when the cache has
   * another version or none, or when the caller has no version (then always read).
   * undefined: no such plan.
   */
  async get(
    db: Queryable,
    productId: string,
    planId: string,
    version: string | undefined,
  ): Promise<Plan | undefined> {
    const key = `${productId}\u0000${planId}`;
    const cached = this.plans.get(key);
    if (version !== undefined && cached?.version === version) return cached.plan;
    const [row] = await db.query<PlanRow & { row_version: string }>(
      `SELECT ${PLAN_COLUMNS}, xmin::text AS row_version FROM plans WHERE product_id = $1 AND id = $2`,
      [productId, planId],
    );
    if (!row) {
      this.plans.delete(key);
      return undefined;
    }
    const plan = toPlan(row);
    if (this.plans.size >= MAX_PLANS) this.plans.clear();
    this.plans.set(key, { version: row.row_version, plan });
    return plan;
  }
}

const caches = new WeakMap<object, PlanCache>();

/** The plan cache of one store (keyed by its database handle). Its plans are shared: never mutate one. */
export function planCacheOf(store: object): PlanCache {
  let cache = caches.get(store);
  if (!cache) {
    cache = new PlanCache();
    caches.set(store, cache);
  }
  return cache;
}
