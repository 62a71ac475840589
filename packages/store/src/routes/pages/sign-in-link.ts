import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StoreError } from '../../errors.js';
import { checkFormToken, FORM_COOKIE, formToken } from '../../lib/form-tokens.js';
import { storeContext } from '../../lib/store-context.js';
import { catalogueRepository } from '../../repositories/catalogue.js';
import { normaliseEmail } from '../../services/customers.js';
import {
  consumeSignInLink,
  peekSignInLink,
  recordLinkSession,
  requestSignInLink,
  SIGN_IN_LINK_TTL_MS,
} from '../../services/mail-sign-in.js';
import { endPortalSession } from '../../services/portal-sessions.js';
import { errorPage } from '../../views/errors.js';
import type { FieldError } from '../../views/layout.js';
import {
  emailSignInPage,
  linkSentPage,
  linkUnusablePage,
  signInLinkPage,
  tooManyLinksPage,
} from '../../views/mail-sign-in.js';
import { cookieOf, formSecret, readForm, seeOther, sendPage } from './http.js';
import { loadSession, startSession } from './session.js';

const REQUEST_PURPOSE = 'portal-email';
const LINK_PURPOSE = 'portal-link';
const MINUTES = Math.round(SIGN_IN_LINK_TTL_MS / 60_000);

/**
 * Signing in to the portal with an e-mail link (services/mail-sign-in.ts): the form that
 * asks for a link, the page a link opens, and the POST that uses it and opens a session.
 * Both forms are CSRF-protected like the key sign-in (signed double-submit tokens; the
 * link page's token is bound to its link), so another site can neither make a browser ask
 * for links nor sign it in to someone else's portal.
 *
 * The link's token is in the URL (a mail can carry nothing else), so the link page's
 * requests are not logged (`logLevel: 'warn'`), the page answers `no-store` and
 * `Referrer-Policy: no-referrer` as every page, and the token is used only by the POST.
 */
export default async function signInLinkRoutes(fastify: FastifyInstance) {
  const ctx = storeContext(fastify);
  const { config } = fastify;
  const vendor = config.vendor;
  const available = fastify.mail.enabled;

  function renderRequestForm(
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    options: { errors?: FieldError[]; email?: string } = {},
  ): FastifyReply {
    const secret = formSecret(request, reply, config);
    return sendPage(
      reply,
      status,
      emailSignInPage({
        vendor,
        csrfToken: formToken(fastify.secrets, REQUEST_PURPOSE, secret),
        errors: options.errors ?? [],
        email: options.email,
        available,
        minutes: MINUTES,
      }),
    );
  }

  function expiredForm(reply: FastifyReply, link: { href: string; text: string }): FastifyReply {
    return sendPage(
      reply,
      403,
      errorPage({
        status: 403,
        vendor,
        message: 'This form has expired or was not sent from this store. Open it again.',
        link,
      }),
    );
  }

  fastify.get('/portal/email', { schema: { hide: true } }, async (request, reply) =>
    renderRequestForm(request, reply, 200),
  );

  fastify.post(
    '/portal/email',
    { bodyLimit: 4 * 1024, schema: { hide: true } },
    async (request, reply) => {
      const form = readForm(request.body);
      const secret = cookieOf(request, config, FORM_COOKIE);
      if (!checkFormToken(fastify.secrets, REQUEST_PURPOSE, secret, form.csrf)) {
        return expiredForm(reply, { href: '/portal/email', text: 'Ask for a sign-in link' });
      }
      if (!available) throw new StoreError('SERVICE_UNAVAILABLE', 'This store sends no e-mail.');
      const typed = (form.email ?? '').trim();
      let email: string;
      try {
        email = normaliseEmail(typed);
      } catch {
        return renderRequestForm(request, reply, 400, {
          email: typed.slice(0, 254),
          errors: [
            {
              field: 'email',
              message:
                typed === ''
                  ? 'Enter your e-mail address.'
                  : 'Enter an e-mail address like name@example.com.',
            },
          ],
        });
      }
      const outcome = await requestSignInLink(ctx, { email, client: request.ip });
      if (outcome.limited) {
        reply.header('retry-after', String(outcome.retryAfterSeconds));
        return sendPage(
          reply,
          429,
          tooManyLinksPage({ vendor, retryAfterSeconds: outcome.retryAfterSeconds }),
        );
      }
      const devMail = fastify.mail.devInbox !== undefined;
      return sendPage(reply, 200, linkSentPage({ vendor, email, minutes: MINUTES, devMail }));
    },
  );

  // The token is in the URL: this route's request lines stay out of the log.
  fastify.get<{ Querystring: { token?: unknown } }>(
    '/portal/link',
    { schema: { hide: true }, logLevel: 'warn' },
    async (request, reply) => {
      const token = typeof request.query.token === 'string' ? request.query.token : '';
      const link = await peekSignInLink(ctx, token);
      if (!link) return sendPage(reply, 410, linkUnusablePage({ vendor, minutes: MINUTES }));
      const catalogue = catalogueRepository(fastify.db, config.publicUrl);
      const licenses = [];
      for (const license of link.licenses) {
        const product = await catalogue.getProduct(license.productId);
        const plan = await catalogue.getPlan(license.productId, license.planId);
        licenses.push({
          id: license.id,
          productName: product?.name ?? license.productId,
          planName: plan?.name ?? license.planId,
          status: license.revokedAt !== null ? 'revoked' : license.status,
          keyHint: license.keyHint,
        });
      }
      const secret = formSecret(request, reply, config);
      return sendPage(
        reply,
        200,
        signInLinkPage({
          vendor,
          csrfToken: formToken(fastify.secrets, LINK_PURPOSE, secret, token),
          token,
          licenses,
        }),
      );
    },
  );

  fastify.post(
    '/portal/link',
    { bodyLimit: 4 * 1024, schema: { hide: true }, logLevel: 'warn' },
    async (request, reply) => {
      const form = readForm(request.body);
      const token = form.token ?? '';
      const secret = cookieOf(request, config, FORM_COOKIE);
      if (!checkFormToken(fastify.secrets, LINK_PURPOSE, secret, form.csrf, token)) {
        return expiredForm(reply, { href: '/portal/email', text: 'Ask for a new sign-in link' });
      }
      const licenseId = await consumeSignInLink(ctx, token, form.licenseId ?? '');
      if (!licenseId) return sendPage(reply, 410, linkUnusablePage({ vendor, minutes: MINUTES }));
      const previous = await loadSession(request);
      if (previous) await endPortalSession(ctx, previous.id);
      const session = await startSession(request, reply, licenseId);
      await recordLinkSession(ctx, session);
      return seeOther(reply, '/portal/license');
    },
  );
}
