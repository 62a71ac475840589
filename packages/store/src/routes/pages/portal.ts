import type { TokenFormat } from '@licensekit/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StoreError } from '../../errors.js';
import { checkFormToken, FORM_COOKIE, formToken } from '../../lib/form-tokens.js';
import { licenseFromKey } from '../../lib/license-auth.js';
import { storeContext } from '../../lib/store-context.js';
import { catalogueRepository } from '../../repositories/catalogue.js';
import type { LicenseRecord } from '../../repositories/licenses.js';
import { licensesRepository } from '../../repositories/licenses.js';
import type { Plan, Product } from '../../schemas/catalogue.js';
import { deactivateDevice, listDevices } from '../../services/activation.js';
import { listAttachments, streamAttachment } from '../../services/attachments.js';
import { replaceLicenseKey } from '../../services/key-replacement.js';
import { licenseStatus } from '../../services/license-status.js';
import { pendingChangeView, planOf } from '../../services/licensing.js';
import { isLinkSession, recordLinkSession } from '../../services/mail-sign-in.js';
import { owedPayment } from '../../services/owed-payment.js';
import type { CancelOutcome, PlanChangeOutcome } from '../../services/plan-changes.js';
import { cancelLicense, changePlan, undoPendingChange } from '../../services/plan-changes.js';
import { endPortalSession } from '../../services/portal-sessions.js';
import { currentToken } from '../../services/refresh.js';
import { ScheduledChangeMoved, scheduledChangeToken } from '../../services/scheduled-change.js';
import { quotaStates } from '../../services/usage.js';
import { planForCycle, readCycle } from '../../views/billing-cycle-choice.js';
import { errorPage } from '../../views/errors.js';
import type { ScheduledChange } from '../../views/portal.js';
import {
  cancelBlocked,
  cancelConfirmPage,
  cancelledPage,
  explainCharge,
  keyReplacedPage,
  licensePage,
  planChangedPage,
  planPreviewPage,
  signInPage,
} from '../../views/portal.js';
import { cookieOf, formSecret, noticeOf, readForm, seeOther, sendPage } from './http.js';
import { sessionEndedPage, staleFormPage } from './portal-gate.js';
import portalInvoiceRoutes from './portal-invoices.js';
import portalLicenseRoutes from './portal-licenses.js';
import portalPayRoutes from './portal-pay.js';
import type { ActiveSession } from './session.js';
import {
  clearSessionCookie,
  csrfMatches,
  sessionOf as loadedSession,
  loadSession,
  startSession,
} from './session.js';

const SIGN_IN_PURPOSE = 'portal-sign-in';

/** Notices after a redirect (post/redirect/get): a fixed set, chosen by `?done=`. */
const NOTICES: Record<string, string> = {
  'signed-out': 'You are signed out.',
  'device-deactivated': 'The device was deactivated and its seat is free again.',
  kept: 'The pending change was withdrawn: you keep your current plan.',
  'renewal-paid': 'Thank you: the renewal is paid and your license is active again.',
  'purchase-paid': 'Thank you: your order is paid and your license is active.',
  'nothing-due': 'This license has no payment due.',
};

/**
 * Pages a signed-out visitor is sent on to after signing in, by name (`?next=`): a fixed
 * list, so the parameter can never redirect anywhere else. The 402 answers and the
 * failed-payment mail link to the pay page.
 */
const NEXT_PAGES: Record<string, string> = { pay: '/portal/pay' };

function nextOf(value: unknown): string | undefined {
  return typeof value === 'string' && Object.hasOwn(NEXT_PAGES, value) ? value : undefined;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Portal routes: without a session a GET goes to the sign-in page, a POST is refused. */
    portal?: boolean;
  }
}

/**
 * The customer portal. Signing in takes the license key through the same failed-lookup
 * limiter as the API (429 page past it) and opens a session (services/portal-sessions.ts);
 * every other route needs the session, and every POST its CSRF token (403 page without).
 */
export default async function portalRoutes(fastify: FastifyInstance) {
  const ctx = storeContext(fastify);
  const { config } = fastify;
  const vendor = config.vendor;

  fastify.addHook('preHandler', async (request, reply) => {
    if (!request.routeOptions.config.portal) return;
    const session = await loadSession(request);
    if (!session) {
      if (request.method === 'GET' || request.method === 'HEAD') {
        const next = Object.keys(NEXT_PAGES).find((name) => NEXT_PAGES[name] === request.url);
        return seeOther(reply, next ? `/portal?next=${next}` : '/portal');
      }
      return sessionEndedPage(reply, vendor);
    }
    if (request.method === 'POST' && !csrfMatches(session, readForm(request.body).csrf)) {
      return staleFormPage(reply, vendor, session);
    }
  });

  /** The session of a portal route (the preHandler has loaded and checked it). */
  const sessionOf = (request: FastifyRequest): ActiveSession => loadedSession(request)!;
  const portal = { schema: { hide: true }, config: { portal: true } };
  // Inside this plugin, so the gate above covers them.
  await fastify.register(portalLicenseRoutes);
  await fastify.register(portalInvoiceRoutes);
  await fastify.register(portalPayRoutes);
  const catalogue = () => catalogueRepository(fastify.db, config.publicUrl);

  async function productOf(productId: string): Promise<Product> {
    const product = await catalogue().getProduct(productId);
    if (!product) throw new StoreError('PRODUCT_NOT_FOUND');
    return product;
  }

  /** The session's license after what the billing cycle owes it (a period that just ended). */
  async function currentLicense(session: ActiveSession) {
    const status = await licenseStatus(ctx, session.licenseId);
    const record = (await licensesRepository(fastify.db).byId(session.licenseId))!;
    return { ...status, record };
  }

  function renderSignIn(
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    options: {
      errors?: { field: string; message: string }[];
      notice?: string | undefined;
      next?: string | undefined;
    } = {},
  ): FastifyReply {
    const secret = formSecret(request, reply, config);
    return sendPage(
      reply,
      status,
      signInPage({
        vendor,
        csrfToken: formToken(fastify.secrets, SIGN_IN_PURPOSE, secret),
        errors: options.errors ?? [],
        notice: options.notice,
        next: options.next,
      }),
    );
  }

  // ------------------------------------------------------------ sign in and out

  fastify.get('/portal', { schema: { hide: true } }, async (request, reply) => {
    const next = nextOf((request.query as { next?: unknown } | undefined)?.next);
    if (await loadSession(request))
      return seeOther(reply, next ? NEXT_PAGES[next]! : '/portal/license');
    return renderSignIn(request, reply, 200, { notice: noticeOf(request.query, NOTICES), next });
  });

  fastify.post(
    '/portal/sign-in',
    { bodyLimit: 4 * 1024, schema: { hide: true } },
    async (request, reply) => {
      const form = readForm(request.body);
      if (
        !checkFormToken(
          fastify.secrets,
          SIGN_IN_PURPOSE,
          cookieOf(request, config, FORM_COOKIE),
          form.csrf,
        )
      ) {
        return sendPage(
          reply,
          403,
          errorPage({
            status: 403,
            vendor,
            message:
              'This sign-in form has expired or was not sent from this store. Open it again.',
            link: { href: '/portal', text: 'Sign in' },
          }),
        );
      }
      // The key is never written back into the form: a failed attempt shows an empty field.
      const key = (form.licenseKey ?? '').trim();
      const next = nextOf(form.next);
      if (key === '') {
        return renderSignIn(request, reply, 400, {
          errors: [{ field: 'licenseKey', message: 'Enter your license key.' }],
          next,
        });
      }
      let license: LicenseRecord;
      try {
        license = await licenseFromKey(request, key);
      } catch (error) {
        if (error instanceof StoreError && error.code === 'LICENSE_NOT_FOUND') {
          return renderSignIn(request, reply, 401, {
            next,
            errors: [
              {
                field: 'licenseKey',
                message:
                  'No license matches this key. Check it (it starts with LK-) and try again.',
              },
            ],
          });
        }
        throw error;
      }
      const previous = await loadSession(request);
      if (previous) await endPortalSession(ctx, previous.id);
      await startSession(request, reply, license.id);
      return seeOther(reply, next ? NEXT_PAGES[next]! : '/portal/license');
    },
  );

  fastify.post('/portal/sign-out', { ...portal, bodyLimit: 4 * 1024 }, async (request, reply) => {
    await endPortalSession(ctx, sessionOf(request).id);
    clearSessionCookie(request, reply);
    return seeOther(reply, '/portal?done=signed-out');
  });

  // ------------------------------------------------------------ the license

  fastify.get('/portal/license', portal, async (request, reply) => {
    const session = sessionOf(request);
    const { view, paid, subscribeUrl, record } = await currentLicense(session);
    const product = await productOf(record.productId);
    const now = ctx.clock.now();
    return sendPage(
      reply,
      200,
      licensePage({
        vendor,
        csrfToken: session.csrfToken,
        product,
        plan: await planOf(fastify.db, config, record.productId, record.planId),
        license: view,
        paid,
        subscribeUrl,
        owed: (await owedPayment(fastify.db, record, now)).state,
        quotas: await quotaStates(fastify.db, record, now),
        devices: await listDevices(fastify.db, record.id),
        attachments: await listAttachments(fastify.db, record.productId),
        freePlan: await catalogue().freePlan(record.productId),
        notice: noticeOf(request.query, NOTICES),
        keyReplacement: (await isLinkSession(ctx, session)) ? 'allowed' : 'needs-link',
      }),
    );
  });

  // ------------------------------------------------------------ replacing the key

  // Only in a session opened by an e-mail link (services/mail-sign-in.ts): the key alone
  // must not be enough to take the license from its owner.
  fastify.post('/portal/key', { ...portal, bodyLimit: 4 * 1024 }, async (request, reply) => {
    const session = sessionOf(request);
    if (!(await isLinkSession(ctx, session))) {
      return sendPage(
        reply,
        403,
        errorPage({
          status: 403,
          vendor,
          message: 'To replace your license key, sign in with an e-mail link first.',
          link: { href: '/portal/email', text: 'Sign in with an e-mail link' },
          signedIn: { csrfToken: session.csrfToken },
        }),
      );
    }
    const { key, license } = await replaceLicenseKey(ctx, session.licenseId);
    // The replacement ended every session of the license; this browser gets a new one,
    // which counts as opened by its e-mail link (so a lost page can be replaced again).
    const fresh = await startSession(request, reply, license.id);
    await recordLinkSession(ctx, fresh);
    const product = await productOf(license.productId);
    return sendPage(
      reply,
      200,
      keyReplacedPage({
        vendor,
        csrfToken: fresh.csrfToken,
        productName: product.name,
        key,
        test: license.test,
      }),
    );
  });

  fastify.post(
    '/portal/devices/deactivate',
    { ...portal, bodyLimit: 4 * 1024 },
    async (request, reply) => {
      const deviceId = readForm(request.body).deviceId;
      if (!deviceId) throw new StoreError('DEVICE_NOT_FOUND');
      await deactivateDevice(ctx, sessionOf(request).licenseId, { deviceId });
      return seeOther(reply, '/portal/license?done=device-deactivated#devices');
    },
  );

  fastify.get<{ Querystring: { format?: unknown } }>(
    '/portal/token',
    portal,
    async (request, reply) => {
      const session = sessionOf(request);
      const wanted = request.query.format;
      const format: TokenFormat | undefined =
        wanted === 'jwt' || wanted === 'cwt' ? wanted : undefined;
      const license = (await licensesRepository(fastify.db).byId(session.licenseId))!;
      const issued = await currentToken(ctx, session.licenseId, { format });
      return reply
        .header('content-type', 'application/octet-stream')
        .header('cache-control', 'no-store')
        .header(
          'content-disposition',
          `attachment; filename="${license.productId}-${license.id}.lic"`,
        )
        .send(issued.token);
    },
  );

  fastify.get<{ Params: { attachmentId: string } }>(
    '/portal/attachments/:attachmentId',
    portal,
    async (request, reply) => {
      const license = (await licensesRepository(fastify.db).byId(sessionOf(request).licenseId))!;
      return streamAttachment(ctx, request, reply, {
        license,
        attachmentId: request.params.attachmentId,
      });
    },
  );

  // ------------------------------------------------------------ plan changes

  /** The plan and seats of a plan-change form; 400 when they are not a plan and a count. */
  function changeRequest(product: Product, fields: Record<string, unknown>) {
    const planId = fields.plan;
    const listed = product.plans.find((candidate) => candidate.id === planId);
    if (!listed) throw new StoreError('BAD_REQUEST', 'Choose one of the plans.');
    const cycle = readCycle(typeof fields.cycle === 'string' ? fields.cycle : undefined);
    if (cycle === null) throw new StoreError('BAD_REQUEST', 'Choose monthly or yearly billing.');
    // The plan of the chosen cycle (its twin), which the preview and confirmation name.
    const plan = planForCycle(listed, product.plans, cycle);
    const seatsText = typeof fields.seats === 'string' ? fields.seats.trim() : '';
    let seats: number | undefined;
    if (plan.perSeat && seatsText !== '') {
      seats = /^\d{1,6}$/.test(seatsText) ? Number(seatsText) : Number.NaN;
      if (!(seats >= 1 && seats <= 100_000)) {
        throw new StoreError('BAD_REQUEST', 'The number of seats must be from 1 to 100,000.');
      }
    }
    return { plan, seats };
  }

  /** The change scheduled on a license now, with what a page needs to name it. */
  async function scheduledOf(record: LicenseRecord): Promise<ScheduledChange | undefined> {
    const change = pendingChangeView(record.pendingChange);
    if (!change) return undefined;
    return {
      change,
      product: await productOf(record.productId),
      freePlan: await catalogue().freePlan(record.productId),
    };
  }

  /**
   * Why a confirmation may not replace (or withdraw) the change scheduled now: it does not
   * name that change — it was scheduled, or changed, after the page was shown (another
   * tab, the billing cycle). The page is shown again, saying so, to be confirmed again.
   */
  function replacementRefused(
    scheduled: ScheduledChange | undefined,
    form: Record<string, string>,
  ): { notice: string } | undefined {
    const seen = form.replaces ?? '';
    if (scheduled ? seen === scheduledChangeToken(scheduled.change) : seen === '') return undefined;
    return {
      notice: scheduled
        ? 'A change is scheduled that this page did not show. Check it below: confirming replaces it.'
        : 'The scheduled change this page showed is no longer scheduled. Check the change below and confirm again.',
    };
  }

  /**
   * The notice when the change scheduled moved between the check above and the change's
   * own transaction (which refused it): said as replacementRefused says it.
   */
  async function movedNotice(
    session: ActiveSession,
    form: Record<string, string>,
    scheduledNow: (record: LicenseRecord) => Promise<ScheduledChange | undefined>,
  ): Promise<string> {
    const record = (await licensesRepository(fastify.db).byId(session.licenseId))!;
    return (
      replacementRefused(await scheduledNow(record), form)?.notice ??
      'The scheduled change changed while you confirmed. Check the change below and confirm again.'
    );
  }

  async function renderPreview(
    reply: FastifyReply,
    status: number,
    session: ActiveSession,
    request: { to: Plan; seats?: number | undefined },
    notice?: string,
  ): Promise<FastifyReply> {
    // The clock around the quote: the preview explains the amount of that instant.
    const before = ctx.clock.now();
    const quote = await changePlan(ctx, session.licenseId, {
      planId: request.to.id,
      seats: request.seats,
      confirm: false,
    });
    const after = ctx.clock.now();
    // Read after the quote, so the billing step it ran (a period just ended) is in it.
    const record = (await licensesRepository(fastify.db).byId(session.licenseId))!;
    const from = await planOf(fastify.db, config, record.productId, record.planId);
    const immediate = Date.parse(quote.effectiveAt) <= after.getTime();
    return sendPage(
      reply,
      status,
      planPreviewPage({
        vendor,
        csrfToken: session.csrfToken,
        from,
        fromSeats: record.seats,
        to: request.to,
        quote,
        immediate,
        test: quote.test,
        explanation:
          immediate && record.periodEnd
            ? explainCharge({
                from,
                fromSeats: record.seats,
                to: request.to,
                quote,
                basis: {
                  periodStart: record.periodStart,
                  periodEnd: record.periodEnd,
                  quotedBetween: [before, after],
                },
              })
            : undefined,
        scheduled: await scheduledOf(record),
        notice,
      }),
    );
  }

  // A preview changes nothing: a GET form, so no CSRF token is needed and reloading is safe.
  fastify.get('/portal/plan', portal, async (request, reply) => {
    const session = sessionOf(request);
    const { record } = await currentLicense(session);
    const product = await productOf(record.productId);
    const { plan, seats } = changeRequest(product, request.query as Record<string, unknown>);
    return renderPreview(reply, 200, session, { to: plan, seats });
  });

  fastify.post('/portal/plan', { ...portal, bodyLimit: 4 * 1024 }, async (request, reply) => {
    const session = sessionOf(request);
    const form = readForm(request.body);
    const license = (await licensesRepository(fastify.db).byId(session.licenseId))!;
    const product = await productOf(license.productId);
    const { plan, seats } = changeRequest(product, form);
    const expected = form.expectedAmount ?? '';
    if (!/^\d{1,15}$/.test(expected)) {
      throw new StoreError('BAD_REQUEST', 'Open the preview again and confirm from there.');
    }
    const refused = replacementRefused(await scheduledOf(license), form);
    if (refused) return renderPreview(reply, 409, session, { to: plan, seats }, refused.notice);
    let outcome: PlanChangeOutcome;
    try {
      outcome = await changePlan(ctx, session.licenseId, {
        planId: plan.id,
        seats,
        confirm: true,
        expectedAmount: Number(expected),
        replaces: form.replaces ?? '',
      });
    } catch (error) {
      if (error instanceof ScheduledChangeMoved) {
        const moved = await movedNotice(session, form, scheduledOf);
        return renderPreview(reply, 409, session, { to: plan, seats }, moved);
      }
      if (!(error instanceof StoreError) || error.code !== 'QUOTE_CHANGED') throw error;
      return renderPreview(
        reply,
        409,
        session,
        { to: plan, seats },
        'The amount changed since your preview (time has passed or your plan changed). Check the new amount below and confirm again.',
      );
    }
    return sendPage(
      reply,
      200,
      planChangedPage({ vendor, csrfToken: session.csrfToken, to: plan, outcome }),
    );
  });

  // ------------------------------------------------------------ cancellation

  /** A cancellation replaces a scheduled downgrade or seat change; a cancellation, nothing. */
  async function replacedByCancel(record: LicenseRecord): Promise<ScheduledChange | undefined> {
    const scheduled = await scheduledOf(record);
    return scheduled?.change.kind === 'cancel' ? undefined : scheduled;
  }

  async function renderCancel(
    reply: FastifyReply,
    status: number,
    session: ActiveSession,
    notice?: string,
  ): Promise<FastifyReply> {
    const { view, record } = await currentLicense(session);
    const plan = await planOf(fastify.db, config, record.productId, record.planId);
    const blocked = cancelBlocked({ license: view, plan });
    if (blocked) throw new StoreError('PLAN_CHANGE_INVALID', blocked);
    const now = ctx.clock.now();
    const immediate = record.status === 'past_due';
    const effectiveAt = immediate
      ? now
      : record.status === 'trialing'
        ? (record.trialEnd ?? record.periodEnd ?? now)
        : (record.periodEnd ?? now);
    return sendPage(
      reply,
      status,
      cancelConfirmPage({
        vendor,
        csrfToken: session.csrfToken,
        plan,
        effectiveAt,
        immediate,
        freePlan: await catalogue().freePlan(record.productId),
        test: record.test,
        scheduled: await replacedByCancel(record),
        notice,
      }),
    );
  }

  fastify.get('/portal/cancel', portal, async (request, reply) =>
    renderCancel(reply, 200, sessionOf(request)),
  );

  fastify.post('/portal/cancel', { ...portal, bodyLimit: 4 * 1024 }, async (request, reply) => {
    const session = sessionOf(request);
    const before = (await licensesRepository(fastify.db).byId(session.licenseId))!;
    const form = readForm(request.body);
    const refused = replacementRefused(await replacedByCancel(before), form);
    if (refused) return renderCancel(reply, 409, session, refused.notice);
    const plan = await planOf(fastify.db, config, before.productId, before.planId);
    let outcome: CancelOutcome;
    try {
      outcome = await cancelLicense(ctx, session.licenseId, { replaces: form.replaces ?? '' });
    } catch (error) {
      if (!(error instanceof ScheduledChangeMoved)) throw error;
      return renderCancel(reply, 409, session, await movedNotice(session, form, replacedByCancel));
    }
    const product = await productOf(before.productId);
    // Scheduled: the pending change names the fallback; at once (past due): the new plan.
    const fallbackId =
      outcome.pendingChange?.plan ?? (outcome.plan !== before.planId ? outcome.plan : undefined);
    return sendPage(
      reply,
      200,
      cancelledPage({
        vendor,
        csrfToken: session.csrfToken,
        plan,
        outcome,
        fallbackPlan: product.plans.find((candidate) => candidate.id === fallbackId),
      }),
    );
  });

  fastify.post(
    '/portal/cancel/undo',
    { ...portal, bodyLimit: 4 * 1024 },
    async (request, reply) => {
      await undoPendingChange(ctx, sessionOf(request).licenseId);
      return seeOther(reply, '/portal/license?done=kept');
    },
  );
}
