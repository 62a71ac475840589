import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StoreError } from '../../errors.js';
import { errorPage } from '../../views/errors.js';
import adminPages from './admin.js';
import { crossSiteRequest, sendPage } from './http.js';
import devMailRoutes from './mail.js';
import offlinePages from './offline.js';
import { pageErrorOf } from './page-errors.js';
import portalRoutes from './portal.js';
import { sessionOf } from './session.js';
import signInLinkRoutes from './sign-in-link.js';
import staticRoutes from './static.js';
import storefrontRoutes from './storefront.js';
import vendorDashboardPages from './vendor-dashboard.js';

/**
 * The HTML side of the store: storefront, customer portal and their static files. One
 * encapsulated plugin, so its error handler answers with pages while the JSON API keeps
 * its JSON errors. Every state-changing request must come from the store's own pages
 * (Fetch Metadata / Origin, then a CSRF token checked by each route).
 */
export default async function pages(fastify: FastifyInstance) {
  fastify.setErrorHandler(pageErrorHandler);
  fastify.addHook('onRequest', async (request, reply) => {
    if (request.method === 'GET' || request.method === 'HEAD') return;
    if (crossSiteRequest(request)) {
      return sendPage(
        reply,
        403,
        errorPage({
          status: 403,
          vendor: fastify.config.vendor,
          message: 'This form was not sent from a page of this store.',
        }),
      );
    }
  });
  await fastify.register(staticRoutes);
  await fastify.register(storefrontRoutes);
  await fastify.register(portalRoutes);
  await fastify.register(offlinePages);
  await fastify.register(signInLinkRoutes);
  // The operator's admin screen (a vendor's would mount the same plugin at its own base).
  await fastify.register(adminPages, { base: '/admin', actor: 'operator' });
  // A vendor's dashboard (its sales, balance, orders, invoices), signed in with its token.
  await fastify.register(vendorDashboardPages);
  // Only while mail goes to the in-process development server (never in production).
  const inbox = fastify.mail.devInbox;
  if (inbox) await fastify.register(devMailRoutes, { inbox });
}

/**
 * Errors of the page routes as pages: a StoreError with its status and message (402 links
 * to the subscribe page, 429 says when to retry), Fastify's client errors with theirs, and
 * anything else logged and shown as a 500 page that names nothing internal.
 */
export function pageErrorHandler(
  error: FastifyError | StoreError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const vendor = request.server.config.vendor;
  const session = sessionOf(request);
  const signedIn = session && { csrfToken: session.csrfToken };
  const { status, message } = pageErrorOf(error, request, reply);
  let link: { href: string; text: string } | undefined;
  const pay = error instanceof StoreError && (error.extra.checkoutUrl ?? error.extra.subscribeUrl);
  if (status === 402 && typeof pay === 'string')
    link = { href: pay, text: 'Choose a plan and subscribe' };
  if (!link && signedIn && status < 500)
    link = { href: '/portal/license', text: 'Back to your license' };
  return sendPage(reply, status, errorPage({ status, vendor, message, link, signedIn }));
}
