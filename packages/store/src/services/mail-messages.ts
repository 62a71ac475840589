import { StoreError } from '../errors.js';
import { catalogueRepository } from '../repositories/catalogue.js';
import { customersRepository } from '../repositories/customers.js';
import type { LicenseRecord } from '../repositories/licenses.js';
import { licensesRepository } from '../repositories/licenses.js';
import { ordersRepository } from '../repositories/orders.js';
import type { Plan } from '../schemas/catalogue.js';
import { formatMoney, planPrice, statusLabel } from '../views/format.js';
import type { MailContent, MailFrame } from '../views/mail.js';
import {
  expiringSoonMail,
  keyReplacedMail,
  paymentFailedMail,
  planChangeMail,
  quotaLowMail,
  receiptMail,
  signInLinkMail,
} from '../views/mail.js';
import type { StoreContext } from './context.js';
import { checkoutUrl, paidInPortal, planOf } from './licensing.js';
import type { ClaimedMail } from './mail-outbox.js';
import { openMailSecret } from './mail-sealing.js';
import { SIGN_IN_LINK_TTL_MS } from './mail-sign-in.js';

/**
 * Renders a queued mail when it is sent: the recipient is the customer's address now, the
 * words come from the mail's data and the records it names (product and plan names from
 * the catalogue). A mail that can never be rendered (its record or its secret is gone)
 * throws UndeliverableMail and is given up at once rather than retried.
 */

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export class UndeliverableMail extends Error {}

type MailContext = Pick<StoreContext, 'db' | 'config' | 'secrets'>;

export async function composeMail(ctx: MailContext, mail: ClaimedMail): Promise<OutgoingMail> {
  const customer = await customersRepository(ctx.db).byId(mail.customerId);
  if (!customer) throw new UndeliverableMail('the customer is gone');
  const content = await contentOf(ctx, mail);
  return {
    to: customer.email,
    subject: content.subject,
    text: content.text,
    html: content.html.value,
  };
}

async function contentOf(ctx: MailContext, mail: ClaimedMail): Promise<MailContent> {
  const frame: MailFrame = { vendor: ctx.config.vendor, publicUrl: ctx.config.publicUrl };
  const data = mail.data;
  switch (mail.kind) {
    case 'receipt':
      return receipt(ctx, frame, mail);
    case 'sign_in_link': {
      const token = secretOf(ctx, mail);
      return signInLinkMail(frame, {
        url: `${ctx.config.publicUrl}/portal/link?token=${encodeURIComponent(token)}`,
        expiresAt: mail.expiresAt ?? new Date(mail.createdAt.getTime() + SIGN_IN_LINK_TTL_MS),
        minutes: Math.round(SIGN_IN_LINK_TTL_MS / 60_000),
      });
    }
    case 'expiring_soon': {
      const { license, plan, productName } = await licenseOf(ctx, data);
      return expiringSoonMail(frame, {
        productName,
        planName: plan.name,
        endsAt: dateOf(data.expiresAt) ?? license.periodEnd ?? mail.createdAt,
        whatNext: await whatNext(ctx, data, license, plan),
      });
    }
    case 'quota_low': {
      const { productName } = await licenseOf(ctx, data);
      return quotaLowMail(frame, {
        productName,
        quota: String(data.quota),
        limit: numberOf(data.limit),
        used: numberOf(data.used),
        remaining: numberOf(data.remaining),
        resetsAt: dateOf(data.resetsAt),
      });
    }
    case 'payment_failed': {
      const { license, productName } = await licenseOf(ctx, data);
      return paymentFailedMail(frame, {
        productName,
        amount: formatMoney(numberOf(data.amount), String(data.currency)),
        what: ORDER_WORDS[String(data.orderKind)] ?? 'an order',
        statusLabel: statusLabel(license.status),
        payUrl: checkoutUrl(ctx.config, license),
        payInPortal: paidInPortal(license.status),
      });
    }
    case 'plan_change_scheduled':
    case 'plan_change_applied': {
      const { license, productName } = await licenseOf(ctx, data);
      const scheduled = mail.kind === 'plan_change_scheduled';
      const amount = typeof data.amount === 'number' ? data.amount : 0;
      return planChangeMail(frame, {
        productName,
        scheduled,
        summary: await changeSummary(ctx, data, license, productName, scheduled),
        effectiveAt: dateOf(data.effectiveAt) ?? mail.createdAt,
        charged: amount > 0 ? formatMoney(amount, String(data.currency)) : undefined,
      });
    }
    case 'key_replaced': {
      const { license, productName } = await licenseOf(ctx, data);
      return keyReplacedMail(frame, {
        productName,
        keyHint: typeof data.keyHint === 'string' ? data.keyHint : license.keyHint,
        replacedAt: dateOf(data.replacedAt) ?? mail.createdAt,
      });
    }
    default:
      throw new UndeliverableMail(`no template for ${String(mail.kind)}`);
  }
}

const ORDER_WORDS: Record<string, string> = {
  purchase: 'the order',
  renewal: 'the renewal',
  upgrade: 'the upgrade',
  seats: 'the seat change',
};

/** The secret sealed in the row (erased once sent: a resend has nothing to send). */
function secretOf(ctx: MailContext, mail: ClaimedMail): string {
  if (mail.sealed === null) throw new UndeliverableMail('its secret was erased');
  try {
    return openMailSecret(ctx.secrets, mail.id, mail.sealed);
  } catch {
    // Altered, moved from another row, or sealed under another store secret.
    throw new UndeliverableMail('its secret does not open');
  }
}

async function receipt(
  ctx: MailContext,
  frame: MailFrame,
  mail: ClaimedMail,
): Promise<MailContent> {
  // A copy re-sent from the admin screen (services/mail-resend.ts) has no key to open.
  const key = mail.data.copy === true ? undefined : secretOf(ctx, mail);
  const { license, plan, productName } = await licenseOf(ctx, mail.data);
  const order = await ordersRepository(ctx.db).byId(String(mail.data.orderId));
  if (!order) throw new UndeliverableMail('the order is gone');
  return receiptMail(frame, {
    productName,
    planName: plan.name,
    planPrice: planPrice(plan),
    charged:
      order.kind === 'trial'
        ? 'Nothing today (free trial)'
        : formatMoney(order.amount, order.currency),
    orderId: order.id,
    statusLabel: statusLabel(license.status),
    key,
    keyHint: license.keyHint,
    test: order.test,
    seats: plan.perSeat ? license.seats : undefined,
    trialEndsAt: license.status === 'trialing' ? license.trialEnd : null,
    paidUntil: license.status === 'active' ? license.periodEnd : null,
    awaitingPayment: license.status === 'pending',
  });
}

async function licenseOf(ctx: MailContext, data: Record<string, unknown>) {
  const license = await licensesRepository(ctx.db).byId(String(data.licenseId));
  if (!license) throw new UndeliverableMail('the license is gone');
  let plan: Plan;
  try {
    plan = await planOf(ctx.db, ctx.config, license.productId, license.planId);
  } catch (error) {
    if (error instanceof StoreError) throw new UndeliverableMail('the plan is gone');
    throw error;
  }
  return { license, plan, productName: await productName(ctx, license.productId) };
}

async function productName(ctx: MailContext, productId: string): Promise<string> {
  const product = await catalogueRepository(ctx.db, ctx.config.publicUrl).getProduct(productId);
  return product?.name ?? productId;
}

async function planName(ctx: MailContext, productId: string, planId: unknown): Promise<string> {
  if (typeof planId !== 'string') return '';
  const plan = await catalogueRepository(ctx.db, ctx.config.publicUrl).getPlan(productId, planId);
  return plan?.name ?? planId;
}

/** What happens at the end of the period an expiring-soon notice is about. */
async function whatNext(
  ctx: MailContext,
  data: Record<string, unknown>,
  license: LicenseRecord,
  plan: Plan,
): Promise<string> {
  const pending = data.pendingChange as { kind?: string; plan?: string; seats?: number } | null;
  if (pending?.kind === 'cancel') {
    return pending.plan
      ? `You cancelled it: the license then moves to the ${await planName(ctx, license.productId, pending.plan)} plan (free).`
      : 'You cancelled it: the license ends then.';
  }
  if (pending?.kind === 'downgrade')
    return `Then it changes to the ${await planName(ctx, license.productId, pending.plan)} plan.`;
  if (pending?.kind === 'seats') return `Then it changes to ${pending.seats} seats.`;
  if (data.status === 'trialing')
    return `Your free trial ends then; from then on the ${plan.name} plan is charged (${planPrice(plan)}) unless you cancel before.`;
  if (data.status === 'past_due')
    return 'The renewal is not paid yet: pay it to keep your apps getting new tokens.';
  if (plan.interval === 'once') return 'The license expires then.';
  return `It renews then (${planPrice(plan)}); nothing to do if you want to keep it.`;
}

/** One sentence on a plan change, from its event's data. */
async function changeSummary(
  ctx: MailContext,
  data: Record<string, unknown>,
  license: LicenseRecord,
  product: string,
  scheduled: boolean,
): Promise<string> {
  const name = (planId: unknown) => planName(ctx, license.productId, planId);
  if (data.event === 'license.cancelled') {
    const fallback = data.fallbackPlan ? await name(data.fallbackPlan) : undefined;
    if (scheduled) {
      return `You cancelled the ${await name(data.fromPlan)} plan of your ${product} license. At the end of the current period ${fallback ? `the license moves to the ${fallback} plan (free)` : 'the license ends'}.`;
    }
    return `The ${await name(data.fromPlan)} plan of your ${product} license is cancelled${fallback ? `; the license is now on the ${fallback} plan (free)` : ' and the license has ended'}.`;
  }
  const seats = typeof data.toSeats === 'number' ? data.toSeats : undefined;
  switch (data.kind) {
    case 'cancel':
      return `Your cancellation took effect: your ${product} license is now on the ${await name(data.toPlan)} plan (free).`;
    case 'seats':
      return scheduled
        ? `Your ${product} license changes to ${seats} seats.`
        : `Your ${product} license now has ${seats} seats.`;
    default: {
      const target =
        typeof data.toPlan === 'string'
          ? await catalogueRepository(ctx.db, ctx.config.publicUrl).getPlan(
              license.productId,
              data.toPlan,
            )
          : undefined;
      // Seats are worth a word only where they are chosen (per-seat plans).
      const withSeats = target?.perSeat && seats !== undefined ? ` with ${seats} seats` : '';
      // A switch of billing cycle is between plans of one name: say how each is billed.
      const [fromName, toName] = [await name(data.fromPlan), await name(data.toPlan)];
      const cycles = fromName === toName && data.fromBillingCycle !== data.billingCycle;
      const from = `${fromName} plan${cycles ? billedText(data.fromBillingCycle) : ''}`;
      const to = `${toName} plan${cycles ? billedText(data.billingCycle) : ''}`;
      return scheduled
        ? `Your ${product} license changes from the ${from} to the ${to}${withSeats}.`
        : `Your ${product} license moved from the ${from} to the ${to}${withSeats}.`;
    }
  }
}

/** " (billed yearly)" for a webhook payload's cycle (services/billing-cycles.ts). */
function billedText(cycle: unknown): string {
  return cycle === 'year' ? ' (billed yearly)' : cycle === 'month' ? ' (billed monthly)' : '';
}

function dateOf(value: unknown): Date | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

function numberOf(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
