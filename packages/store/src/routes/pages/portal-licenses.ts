import type { FastifyInstance } from 'fastify';
import { StoreError } from '../../errors.js';
import { storeContext } from '../../lib/store-context.js';
import { recordLinkSession } from '../../services/mail-sign-in.js';
import { licensesInReach, portalReach } from '../../services/portal-reach.js';
import { endPortalSession } from '../../services/portal-sessions.js';
import { errorPage } from '../../views/errors.js';
import { licensesPage } from '../../views/portal-licenses.js';
import { readForm, seeOther, sendPage } from './http.js';
import { sessionOf, startSession } from './session.js';

/**
 * Every license of the signed-in customer, across vendors, and opening another one of
 * them. Registered inside the portal plugin (routes/pages/portal.ts), whose gate checks
 * the session and every POST's CSRF token. Who sees what: services/portal-reach.ts.
 */
export default async function portalLicenseRoutes(fastify: FastifyInstance) {
  const ctx = storeContext(fastify);
  const { config } = fastify;
  const portal = { schema: { hide: true }, config: { portal: true } };

  fastify.get('/portal/licenses', portal, async (request, reply) => {
    const session = sessionOf(request)!;
    const reach = await portalReach(ctx, session);
    return sendPage(
      reply,
      200,
      licensesPage({
        vendor: config.vendor,
        csrfToken: session.csrfToken,
        licenses: await licensesInReach(fastify.db, reach, config.vendor),
        currentId: session.licenseId,
        customerProven: reach.customerProven,
      }),
    );
  });

  // A session proven by an e-mail link moves to another license of the same customer: a
  // new session (as proven as the one it replaces), the old one ended.
  fastify.post(
    '/portal/licenses/open',
    { ...portal, bodyLimit: 4 * 1024 },
    async (request, reply) => {
      const session = sessionOf(request)!;
      const reach = await portalReach(ctx, session);
      if (!reach.customerProven) {
        return sendPage(
          reply,
          403,
          errorPage({
            status: 403,
            vendor: config.vendor,
            message: 'To open your other licenses, sign in with an e-mail link first.',
            link: { href: '/portal/email', text: 'Sign in with an e-mail link' },
            signedIn: { csrfToken: session.csrfToken },
          }),
        );
      }
      const wanted = readForm(request.body).licenseId ?? '';
      const licenses = await licensesInReach(fastify.db, reach, config.vendor);
      const license = licenses.find((candidate) => candidate.id === wanted);
      if (!license) throw new StoreError('LICENSE_NOT_FOUND');
      if (license.id !== session.licenseId) {
        await endPortalSession(ctx, session.id);
        const fresh = await startSession(request, reply, license.id);
        await recordLinkSession(ctx, fresh);
      }
      return seeOther(reply, '/portal/license');
    },
  );
}
