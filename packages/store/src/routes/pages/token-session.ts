import type { FastifyReply, FastifyRequest } from 'fastify';
import { StoreError } from '../../errors.js';
import { serializeCookie } from '../../lib/cookies.js';
import { Blocked, clientKey } from '../../lib/failure-limiter.js';
import { checkFormToken, FORM_COOKIE, formToken } from '../../lib/form-tokens.js';
import { safeEqual } from '../../lib/secrets.js';
import type { SafeHtml } from '../../views/html.js';
import type { FieldError } from '../../views/layout.js';
import {
  addCookie,
  cookieOf,
  formSecret,
  readForm,
  secureCookies,
  seeOther,
  sendPage,
} from './http.js';

/**
 * The machinery shared by the screens one signs in to with a token (the admin screen with
 * the admin token, the vendor dashboard with a vendor token): a session cookie (HttpOnly,
 * SameSite=Strict, Secure over https) naming a row looked up once per request, the gate
 * that refuses a POST without a session (401) or without the session's CSRF token (403),
 * and the sign-in post (signed form token, failure limiter, a fresh session). Each screen
 * says who it is for, its cookie, its lifetime, how its sessions are stored and its words.
 */

/** The least a session row gives the pages: its id (from the cookie) and its CSRF token. */
export interface TokenSession {
  id: string;
  csrfToken: string;
}

export interface TokenSessionConfig<S extends TokenSession, Opened> {
  /** The cookie's name. */
  cookie: string;
  /** How long a session lasts (the cookie's Max-Age). */
  lifetimeMs: number;
  /** The live session with this id, if any (its table, its checks). */
  find(request: FastifyRequest, id: string): Promise<S | undefined>;
  /** Opens a session for what sign-in found. */
  create(request: FastifyRequest, opened: Opened): Promise<S>;
}

export interface TokenSessions<S extends TokenSession, Opened> {
  /** Reads the session cookie and looks the session up (once per request). */
  load(request: FastifyRequest): Promise<S | undefined>;
  /** The session loaded for this request, if any. */
  of(request: FastifyRequest): S | undefined;
  /** Opens a session and sets its cookie. */
  start(request: FastifyRequest, reply: FastifyReply, opened: Opened): Promise<S>;
  /** Tells the browser to forget the cookie. */
  clear(request: FastifyRequest, reply: FastifyReply): void;
}

export function tokenSessions<S extends TokenSession, Opened>(
  config: TokenSessionConfig<S, Opened>,
): TokenSessions<S, Opened> {
  const sessions = new WeakMap<FastifyRequest, S>();
  return {
    async load(request) {
      const known = sessions.get(request);
      if (known) return known;
      const id = cookieOf(request, request.server.config, config.cookie);
      if (!id) return undefined;
      const session = await config.find(request, id);
      if (session) sessions.set(request, session);
      return session;
    },
    of: (request) => sessions.get(request),
    async start(request, reply, opened) {
      const session = await config.create(request, opened);
      addCookie(
        reply,
        serializeCookie(config.cookie, session.id, {
          secure: secureCookies(request.server.config),
          maxAge: config.lifetimeMs / 1000,
        }),
      );
      sessions.set(request, session);
      return session;
    },
    clear(request, reply) {
      addCookie(
        reply,
        serializeCookie(config.cookie, '', {
          secure: secureCookies(request.server.config),
          maxAge: 0,
        }),
      );
    },
  };
}

/** Whether a form carries the session's CSRF token (constant-time comparison). */
export function csrfMatches(session: TokenSession, given: string | undefined): boolean {
  return given !== undefined && safeEqual(session.csrfToken, given);
}

/** An error page of the screen, in its frame for this request. */
export type ErrorPageOf = (
  request: FastifyRequest,
  error: { status: number; message: string; link?: { href: string; text: string } },
) => SafeHtml;

/**
 * The gate of a gated route: without a session a GET goes to the sign-in form and a POST is
 * refused (401); a POST without the session's CSRF token is refused (403), before its
 * handler runs. Answers the reply when it refuses, else undefined.
 */
export function refuseOutsideSession(
  request: FastifyRequest,
  reply: FastifyReply,
  session: TokenSession | undefined,
  gate: { signIn: string; who: string; csrfMessage: string; errorPage: ErrorPageOf },
): FastifyReply | undefined {
  if (!session) {
    if (request.method === 'GET' || request.method === 'HEAD') return seeOther(reply, gate.signIn);
    return sendPage(
      reply,
      401,
      gate.errorPage(request, {
        status: 401,
        message: `Your ${gate.who} session has ended, so nothing was changed. Sign in again.`,
        link: { href: gate.signIn, text: 'Sign in' },
      }),
    );
  }
  if (request.method === 'POST' && !csrfMatches(session, readForm(request.body).csrf)) {
    return sendPage(
      reply,
      403,
      gate.errorPage(request, { status: 403, message: gate.csrfMessage }),
    );
  }
  return undefined;
}

/** What a sign-in form page shows. */
export interface SignInForm {
  /** The form's signed double-submit token. */
  csrfToken: string;
  errors: FieldError[];
  notice?: string | undefined;
}

/** Sends the sign-in form, with a fresh form token for `purpose` (and its cookie if new). */
export function sendSignInForm(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  signIn: { purpose: string; page(form: SignInForm): SafeHtml },
  options: { errors?: FieldError[]; notice?: string | undefined } = {},
): FastifyReply {
  const { server } = request;
  const secret = formSecret(request, reply, server.config);
  return sendPage(
    reply,
    status,
    signIn.page({
      csrfToken: formToken(server.secrets, signIn.purpose, secret),
      errors: options.errors ?? [],
      notice: options.notice,
    }),
  );
}

export interface TokenSignIn<Found> {
  /** Who signs in ('admin', 'vendor'): the failure limiter's key and the log lines. */
  who: string;
  /** The signed form token's purpose. */
  purpose: string;
  /** Where the sign-in form is. */
  signIn: string;
  /** Whether surrounding white space is cut from the posted token. */
  trim: boolean;
  /** What the token opens, or undefined when it opens nothing. */
  authenticate(token: string): Promise<Found | undefined>;
  messages: { empty: string; wrong: string; tooMany: string };
  /** The sign-in form again, with these errors. */
  render(status: number, errors: FieldError[]): FastifyReply;
  errorPage: ErrorPageOf;
  /** Ends any previous session and opens one for what was found. */
  open(found: Found): Promise<void>;
  /** What the log line of a sign-in names (never the token). */
  logged?(found: Found): Record<string, unknown>;
}

/**
 * The sign-in post: the form's signed double-submit token (another site cannot sign a
 * browser in to a session of its choosing), then the token, counted in the failure limiter
 * as guessed license keys are (under a key of its own, so guessing a token is as slow).
 * Answers the sign-in form with errors, or opens a session and goes to `landing`.
 */
export async function signInWithToken<Found>(
  request: FastifyRequest,
  reply: FastifyReply,
  landing: string,
  how: TokenSignIn<Found>,
): Promise<FastifyReply> {
  const { server } = request;
  const form = readForm(request.body);
  const secret = cookieOf(request, server.config, FORM_COOKIE);
  if (!checkFormToken(server.secrets, how.purpose, secret, form.csrf)) {
    return sendPage(
      reply,
      403,
      how.errorPage(request, {
        status: 403,
        message: 'This sign-in form has expired or was not sent from this store. Open it again.',
        link: { href: how.signIn, text: 'Sign in' },
      }),
    );
  }
  const token = how.trim ? (form.token ?? '').trim() : (form.token ?? '');
  if (token === '') return how.render(400, [{ field: 'token', message: how.messages.empty }]);
  const outcome = await server.failureLimiter.run(
    `${how.who}:${clientKey(request.ip)}`,
    async () => ({
      found: await how.authenticate(token),
      failures: [],
    }),
  );
  if (outcome instanceof Blocked) {
    const limited = new StoreError('TOO_MANY_REQUESTS', how.messages.tooMany);
    limited.retryAfterSeconds = outcome.retryAfterSeconds;
    throw limited;
  }
  if (!outcome) {
    request.log.warn({ client: clientKey(request.ip) }, `${how.who} sign-in refused`);
    return how.render(401, [{ field: 'token', message: how.messages.wrong }]);
  }
  await how.open(outcome);
  if (how.logged) request.log.info(how.logged(outcome), `${how.who} signed in`);
  else request.log.info(`${how.who} signed in`);
  return seeOther(reply, landing);
}
