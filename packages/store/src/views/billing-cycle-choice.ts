import type { Plan } from '../schemas/catalogue.js';
import type { BillingCycle } from '../services/billing-cycles.js';
import { cycleOf, twinOf } from '../services/billing-cycles.js';
import { formatMoney, planPrice } from './format.js';
import type { SafeHtml } from './html.js';
import { attrs, html } from './html.js';
import type { FieldError } from './layout.js';
import { fieldError } from './layout.js';

/**
 * The monthly / yearly choice of the storefront's checkout form and the portal's
 * change-plan form (services/billing-cycles.ts). An offer billed both ways is listed
 * once, under its monthly plan; a separate radio group picks the cycle. Plans offered one
 * way are listed as before and bill on their own cycle whatever is picked.
 */

/** The plans to list as choices: every plan but the yearly twins of listed monthly plans. */
export function offeredPlans(plans: readonly Plan[]): Plan[] {
  return plans.filter((plan) => !(plan.interval === 'year' && twinOf(plan, plans)));
}

/** The listed plan and cycle that stand for `planId` (a yearly twin → its monthly plan). */
export function offerOf(
  plans: readonly Plan[],
  planId: string | undefined,
): { planId: string | undefined; cycle: BillingCycle | undefined } {
  const plan = plans.find((candidate) => candidate.id === planId);
  if (plan?.interval === 'year') {
    const monthly = twinOf(plan, plans);
    if (monthly) return { planId: monthly.id, cycle: 'year' };
  }
  return { planId, cycle: undefined };
}

/**
 * The plan a form's plan and cycle buy: the twin on the chosen cycle, else the plan
 * itself (a cycle choice does not apply to a plan offered one way).
 */
export function planForCycle(
  plan: Plan,
  plans: readonly Plan[],
  cycle: BillingCycle | undefined,
): Plan {
  const twin = twinOf(plan, plans);
  return twin && cycle !== undefined && cycleOf(twin) === cycle ? twin : plan;
}

/** A form's cycle field: 'month', 'year', undefined when empty; null when it is neither. */
export function readCycle(value: string | undefined): BillingCycle | undefined | null {
  if (value === undefined || value === '') return undefined;
  return value === 'month' || value === 'year' ? value : null;
}

/** " or $150.00 per year" after the monthly price of an offer billed both ways. */
export function otherCycleText(plan: Plan, plans: readonly Plan[]): string {
  const twin = plan.interval === 'month' ? twinOf(plan, plans) : undefined;
  return twin ? ` or ${planPrice(twin)}` : '';
}

/** What a year costs less billed yearly than twelve months billed monthly (0 if nothing). */
export function yearlySaving(monthly: Plan, yearly: Plan): number {
  return Math.max(0, monthly.price.amount * 12 - yearly.price.amount);
}

export const CYCLE_FIELD = 'cycle-month';

/**
 * The radio group, or nothing when no listed plan is offered both ways. The yearly
 * choice names what it saves on each offer.
 */
export function cycleChoice(options: {
  plans: readonly Plan[];
  checked: BillingCycle | undefined;
  errors: readonly FieldError[];
  legend?: string;
}): SafeHtml | undefined {
  const pairs = offeredPlans(options.plans)
    .map((monthly) => ({ monthly, yearly: twinOf(monthly, options.plans) }))
    .filter((pair): pair is { monthly: Plan; yearly: Plan } => pair.yearly !== undefined);
  if (pairs.length === 0) return undefined;
  const savings = pairs
    .map(({ monthly, yearly }) => ({ name: monthly.name, saving: yearlySaving(monthly, yearly) }))
    .filter((entry) => entry.saving > 0)
    .map(
      ({ name, saving }) =>
        `${name}: save ${formatMoney(saving, pairs[0]!.yearly.price.currency)} a year`,
    );
  const names = pairs.map(({ monthly }) => monthly.name).join(', ');
  const checked = options.checked ?? 'month';
  const hasError = options.errors.some((error) => error.field === CYCLE_FIELD);
  return html`<fieldset${attrs({ 'aria-describedby': hasError ? `${CYCLE_FIELD}-error cycle-hint` : 'cycle-hint' })}>
<legend>${options.legend ?? 'Billing'}</legend>
<span class="hint" id="cycle-hint">For plans offered monthly and yearly (${names}); other plans bill on their own terms.</span>
${fieldError(options.errors, CYCLE_FIELD)}
<div class="plan-option">
<input${attrs({ type: 'radio', name: 'cycle', id: 'cycle-month', value: 'month', checked: checked === 'month' })}>
<label for="cycle-month">Monthly</label>
</div>
<div class="plan-option">
<input${attrs({ type: 'radio', name: 'cycle', id: 'cycle-year', value: 'year', checked: checked === 'year' })}>
<label for="cycle-year">Yearly${savings.length > 0 && ` – ${savings.join('; ')}`}</label>
</div>
</fieldset>
`;
}
