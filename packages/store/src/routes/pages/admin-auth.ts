import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StoreError } from '../../errors.js';
import { Blocked, clientKey } from '../../lib/failure-limiter.js';
import { checkFormToken, FORM_COOKIE, formToken } from '../../lib/form-tokens.js';
import { safeEqual } from '../../lib/secrets.js';
import { storeContext } from '../../lib/store-context.js';
import { endAdminSession } from '../../services/admin-sessions.js';
import { signInPage } from '../../views/admin-catalogue.js';
import { adminErrorPage } from '../../views/admin-layout.js';
import type { FieldError } from '../../views/layout.js';
import type { AdminScope } from './admin.js';
import { adminFrame, noticeOf } from './admin.js';
import {
  adminSessionOf,
  clearAdminCookie,
  loadAdminSession,
  startAdminSession,
} from './admin-session.js';
import { cookieOf, formSecret, readForm, seeOther, sendPage } from './http.js';

const SIGN_IN_PURPOSE = 'admin-sign-in';

/**
 * Signing in to the admin screen with the admin token, and out. The token is posted in a
 * form (never in a URL), compared in constant time, and never stored: the session cookie
 * is what the browser keeps (services/admin-sessions.ts). Wrong tokens count in the same
 * failure limiter as guessed license keys (10 a minute per client, shared by every
 * instance), under a key of their own, so guessing the token is as slow as guessing keys.
 * The form has a signed double-submit CSRF token (lib/form-tokens.ts): another site
 * cannot sign a browser in to a session of its choosing.
 */
export default async function adminAuthRoutes(fastify: FastifyInstance, scope: AdminScope) {
  const { config } = fastify;
  const open = { schema: { hide: true }, config: { adminOpen: true } };

  function render(
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    options: { errors?: FieldError[]; notice?: string | undefined } = {},
  ): FastifyReply {
    const secret = formSecret(request, reply, config);
    return sendPage(
      reply,
      status,
      signInPage(adminFrame(request, scope), {
        csrfToken: formToken(fastify.secrets, SIGN_IN_PURPOSE, secret),
        errors: options.errors ?? [],
        notice: options.notice,
      }),
    );
  }

  fastify.get(scope.base, open, async (request, reply) => {
    if (await loadAdminSession(request)) return seeOther(reply, `${scope.base}/orders`);
    return render(request, reply, 200, {
      notice: noticeOf(request.query, { 'signed-out': 'You are signed out.' }),
    });
  });

  fastify.post(
    `${scope.base}/sign-in`,
    { ...open, bodyLimit: 4 * 1024 },
    async (request, reply) => {
      const form = readForm(request.body);
      const secret = cookieOf(request, config, FORM_COOKIE);
      if (!checkFormToken(fastify.secrets, SIGN_IN_PURPOSE, secret, form.csrf)) {
        return sendPage(
          reply,
          403,
          adminErrorPage(adminFrame(request, scope), {
            status: 403,
            message:
              'This sign-in form has expired or was not sent from this store. Open it again.',
            link: { href: scope.base, text: 'Sign in' },
          }),
        );
      }
      const token = form.token ?? '';
      if (token === '') {
        return render(request, reply, 400, {
          errors: [{ field: 'token', message: 'Enter the admin token.' }],
        });
      }
      const outcome = await fastify.failureLimiter.run(
        `admin:${clientKey(request.ip)}`,
        async () => ({
          found: safeEqual(token, fastify.adminToken) ? true : undefined,
          failures: [],
        }),
      );
      if (outcome instanceof Blocked) {
        const limited = new StoreError(
          'TOO_MANY_REQUESTS',
          'Too many wrong admin tokens from this address. Wait a minute, then try again.',
        );
        limited.retryAfterSeconds = outcome.retryAfterSeconds;
        throw limited;
      }
      if (outcome !== true) {
        request.log.warn({ client: clientKey(request.ip) }, 'admin sign-in refused');
        return render(request, reply, 401, {
          errors: [{ field: 'token', message: 'This is not the admin token of this store.' }],
        });
      }
      const previous = adminSessionOf(request) ?? (await loadAdminSession(request));
      if (previous) await endAdminSession(storeContext(fastify), previous.id);
      await startAdminSession(request, reply);
      request.log.info('admin signed in');
      return seeOther(reply, `${scope.base}/orders`);
    },
  );

  // Gated (session and CSRF token checked by the plugin's preHandler).
  fastify.post(
    `${scope.base}/sign-out`,
    { schema: { hide: true }, bodyLimit: 4 * 1024 },
    async (request, reply) => {
      const session = adminSessionOf(request);
      if (session) await endAdminSession(storeContext(fastify), session.id);
      clearAdminCookie(request, reply);
      return seeOther(reply, `${scope.base}?done=signed-out`);
    },
  );
}
