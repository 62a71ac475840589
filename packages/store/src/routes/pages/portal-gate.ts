import type { FastifyReply } from 'fastify';
import { errorPage } from '../../views/errors.js';
import { sendPage } from './http.js';
import type { ActiveSession } from './session.js';

/**
 * The two refusals of every portal page's gate (portal.ts, offline.ts): a post without a
 * session, and a form whose CSRF token is missing or stale. One wording, one place.
 */

/** 401: a form posted after the portal session ended. */
export function sessionEndedPage(reply: FastifyReply, vendor: string): FastifyReply {
  return sendPage(
    reply,
    401,
    errorPage({
      status: 401,
      vendor,
      message: 'Your portal session has ended. Sign in again with your license key.',
      link: { href: '/portal', text: 'Sign in' },
    }),
  );
}

/** 403: a form without its security token, or with one of an older page. */
export function staleFormPage(
  reply: FastifyReply,
  vendor: string,
  session: ActiveSession,
): FastifyReply {
  return sendPage(
    reply,
    403,
    errorPage({
      status: 403,
      vendor,
      message:
        'This form is missing its security token or has expired. Go back to your license page and try again.',
      link: { href: '/portal/license', text: 'Back to your license' },
      signedIn: { csrfToken: session.csrfToken },
    }),
  );
}
