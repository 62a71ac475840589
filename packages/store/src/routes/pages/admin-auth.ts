import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { safeEqual } from '../../lib/secrets.js';
import { storeContext } from '../../lib/store-context.js';
import { endAdminSession } from '../../services/admin-sessions.js';
import { signInPage } from '../../views/admin-catalogue.js';
import { adminErrorPage } from '../../views/admin-layout.js';
import type { FieldError } from '../../views/layout.js';
import type { AdminScope } from './admin.js';
import { adminFrame } from './admin.js';
import {
  adminSessionOf,
  clearAdminCookie,
  loadAdminSession,
  startAdminSession,
} from './admin-session.js';
import { noticeOf, seeOther } from './http.js';
import type { SignInForm } from './token-session.js';
import { sendSignInForm, signInWithToken } from './token-session.js';

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
  const open = { schema: { hide: true }, config: { adminOpen: true } };

  function render(
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    options: { errors?: FieldError[]; notice?: string | undefined } = {},
  ): FastifyReply {
    const page = (form: SignInForm) => signInPage(adminFrame(request, scope), form);
    return sendSignInForm(request, reply, status, { purpose: SIGN_IN_PURPOSE, page }, options);
  }

  fastify.get(scope.base, open, async (request, reply) => {
    if (await loadAdminSession(request)) return seeOther(reply, `${scope.base}/orders`);
    return render(request, reply, 200, {
      notice: noticeOf(request.query, { 'signed-out': 'You are signed out.' }),
    });
  });

  fastify.post(`${scope.base}/sign-in`, { ...open, bodyLimit: 4 * 1024 }, (request, reply) =>
    signInWithToken(request, reply, `${scope.base}/orders`, {
      who: 'admin',
      purpose: SIGN_IN_PURPOSE,
      signIn: scope.base,
      trim: false,
      authenticate: async (token) => (safeEqual(token, fastify.adminToken) ? true : undefined),
      messages: {
        empty: 'Enter the admin token.',
        wrong: 'This is not the admin token of this store.',
        tooMany: 'Too many wrong admin tokens from this address. Wait a minute, then try again.',
      },
      render: (status, errors) => render(request, reply, status, { errors }),
      errorPage: (request, error) => adminErrorPage(adminFrame(request, scope), error),
      open: async () => {
        // The gate skips open routes, so the previous session may not be loaded yet.
        const previous = adminSessionOf(request) ?? (await loadAdminSession(request));
        if (previous) await endAdminSession(storeContext(fastify), previous.id);
        await startAdminSession(request, reply);
      },
    }),
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
