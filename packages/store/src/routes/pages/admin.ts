import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { StoreError } from '../../errors.js';
import { listAdminActions } from '../../services/admin-actions.js';
import { activityPage } from '../../views/admin-activity.js';
import type { AdminFrame } from '../../views/admin-layout.js';
import { adminErrorPage } from '../../views/admin-layout.js';
import adminAuthRoutes from './admin-auth.js';
import adminCatalogueRoutes from './admin-catalogue.js';
import adminLicenseRoutes from './admin-licenses.js';
import adminOrderRoutes from './admin-orders.js';
import { adminSessionOf, loadAdminSession } from './admin-session.js';
import adminWebhookRoutes from './admin-webhooks.js';
import { sendPage } from './http.js';
import { pageErrorOf } from './page-errors.js';
import { refuseOutsideSession } from './token-session.js';

/**
 * The admin screen: orders, licenses, refunds, revocations, re-sent receipts, webhook
 * deliveries and the catalogue, as server-rendered pages over the services the admin API
 * uses. One encapsulated plugin mounted at `scope.base` (/admin for the operator), whose
 * preHandler is the gate of every route but sign-in: no session → a GET goes to the
 * sign-in page and a POST is refused (401); a POST without the session's CSRF token is
 * refused (403) before its handler runs, so nothing changes. A vendor's screen, once
 * vendors exist, mounts the same plugin at its own base with its own actor.
 */

export interface AdminScope {
  /** Where the screen is mounted: every link and form starts with it. */
  base: string;
  /** The audit trail's actor for what is done here. */
  actor: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Admin screen routes reachable without a session (sign-in). */
    adminOpen?: boolean;
  }
}

/** The frame of an admin page for this request (signed in: with the session's CSRF token). */
export function adminFrame(request: FastifyRequest, scope: AdminScope): AdminFrame {
  const session = adminSessionOf(request);
  return {
    vendor: request.server.config.vendor,
    base: scope.base,
    csrfToken: session?.csrfToken,
  };
}

/** The frame of a gated route: the gate has loaded the session. */
export function signedInFrame(
  request: FastifyRequest,
  scope: AdminScope,
): AdminFrame & { csrfToken: string } {
  const frame = adminFrame(request, scope);
  if (frame.csrfToken === undefined) throw new Error('admin route without a session');
  return { ...frame, csrfToken: frame.csrfToken };
}

export default async function adminPages(fastify: FastifyInstance, scope: AdminScope) {
  fastify.setErrorHandler((error: FastifyError | StoreError, request, reply) =>
    adminErrorHandler(error, request, reply, scope),
  );

  fastify.addHook('preHandler', async (request, reply) => {
    if (request.routeOptions.config.adminOpen) return;
    return refuseOutsideSession(request, reply, await loadAdminSession(request), {
      signIn: scope.base,
      who: 'admin',
      csrfMessage:
        'This form is missing its security token or comes from an older session, so nothing was changed. Open the page again and repeat the action.',
      errorPage: (request, error) => adminErrorPage(adminFrame(request, scope), error),
    });
  });

  await fastify.register(adminAuthRoutes, scope);
  await fastify.register(adminOrderRoutes, scope);
  await fastify.register(adminLicenseRoutes, scope);
  await fastify.register(adminWebhookRoutes, scope);
  await fastify.register(adminCatalogueRoutes, scope);

  fastify.get(`${scope.base}/activity`, { schema: { hide: true } }, async (request, reply) => {
    const actions = await listAdminActions(fastify.db, { limit: 200 });
    return sendPage(reply, 200, activityPage(signedInFrame(request, scope), actions));
  });
}

/**
 * Errors of the admin pages as admin pages: a StoreError with its status and message,
 * Fastify's client errors (413, 415, a form it cannot parse) with theirs, anything else
 * logged and shown as a 500 page that names nothing internal.
 */
function adminErrorHandler(
  error: FastifyError | StoreError,
  request: FastifyRequest,
  reply: FastifyReply,
  scope: AdminScope,
): FastifyReply {
  const { status, message } = pageErrorOf(error, request, reply, {
    tooLargeMessage: 'The form was larger than the store takes. Shorten it and try again.',
  });
  return sendPage(reply, status, adminErrorPage(adminFrame(request, scope), { status, message }));
}
