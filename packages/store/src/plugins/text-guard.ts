import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { StoreError } from '../errors.js';
import type { ForbiddenCharacter, TextProblem, TextRule } from '../lib/text-guard.js';
import {
  describeCharacter,
  findForbiddenCharacter,
  findInvalidText,
  shownPointer,
} from '../lib/text-guard.js';

/**
 * Every text a request brings is checked here, before any route sees it: route params,
 * query and the headers the store reads as soon as the request is routed, the body (JSON
 * or form) once parsed. A control character or an unpaired surrogate is 400 TEXT_INVALID
 * naming where it was (never the text); pages answer with their error page, since their
 * error handler takes the StoreError. One hook for all routes, so a new route cannot
 * forget it; the rule is in lib/text-guard.ts.
 */

/**
 * Body members that hold text with lines (TAB, LF, CR allowed), by route as the router
 * names it. Everything else is single-line: a route that forgets to list a member refuses
 * line breaks, which is the safe way to be wrong.
 */
const MULTI_LINE_MEMBERS: Readonly<Record<string, readonly string[] | 'all'>> = {
  'POST /v1/admin/products': ['/description'],
  'POST /v1/admin/products/:productId/plans': ['/description'],
  // Processors' events carry free text (addresses, descriptions) in members the store
  // never reads; a signed event refused for a line break would be retried, then lost.
  'POST /v1/webhooks/payments/:provider': 'all',
  'POST /v1/webhooks/payments/stripe': 'all',
  // An offline request file ends in a newline, and a pasted one may wrap: the request's
  // own check (core's offline envelope) ignores whitespace and refuses anything else.
  'POST /v1/licenses/offline': ['/request'],
  'POST /v1/admin/licenses/:licenseId/offline': ['/request'],
  // The admin screen's catalogue forms (routes/pages/admin-catalogue.ts): textareas.
  'POST /admin/catalogue': ['/description'],
  'POST /admin/catalogue/products/:productId': ['/description'],
  'POST /admin/catalogue/products/:productId/plans': ['/description', '/quotas'],
  'POST /admin/catalogue/products/:productId/plans/:planId': ['/description', '/quotas'],
};

/**
 * Headers the store reads as values. On the wire Node's parser already refuses controls
 * other than TAB in any header; what it lets through is bytes 0x80–0x9F, read as C1
 * controls, which is how UTF-8 text in headers nobody here reads (a foreign cookie, a
 * User-Agent) arrives — so only these ASCII-only headers are held to the rule.
 */
export const READ_HEADERS = [
  'authorization',
  'dpop',
  'idempotency-key',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'range',
  'if-range',
] as const;

const FORM_TYPE = 'application/x-www-form-urlencoded';

/** Where refused text was, for the message, and which character it was. */
interface Refusal {
  subject: string;
  character: ForbiddenCharacter;
}

async function textGuard(fastify: FastifyInstance) {
  fastify.addHook('onRequest', async (request) => {
    refuse(headerRefusal(request) ?? urlRefusal(request));
  });
  fastify.addHook('preValidation', async (request) => {
    refuse(bodyRefusal(request));
  });
}

function refuse(refusal: Refusal | undefined): void {
  if (!refusal) return;
  throw new StoreError(
    'TEXT_INVALID',
    `${refusal.subject} holds ${describeCharacter(refusal.character)}, which the store does not accept in text.`,
  );
}

function headerRefusal(request: FastifyRequest): Refusal | undefined {
  for (const name of READ_HEADERS) {
    const value = request.headers[name];
    for (const text of Array.isArray(value) ? value : [value]) {
      if (typeof text !== 'string') continue;
      const character = findForbiddenCharacter(text, 'header');
      if (character) return { subject: `The ${name} header`, character };
    }
  }
  return undefined;
}

function urlRefusal(request: FastifyRequest): Refusal | undefined {
  const params = findInvalidText(request.params);
  if (params) {
    const name = firstSegment(params.pointer);
    // The not-found route has one parameter, `*`: the whole path.
    const subject = name === '*' ? 'The URL path' : `The path parameter “${name}”`;
    return { subject, character: params.character };
  }
  const query = findInvalidText(request.query);
  if (query) return { subject: namedSubject('query parameter', query), character: query.character };
  return undefined;
}

function bodyRefusal(request: FastifyRequest): Refusal | undefined {
  const problem = findInvalidText(request.body, multiLineRule(request));
  if (!problem) return undefined;
  if (isForm(request))
    return { subject: namedSubject('form field', problem), character: problem.character };
  const where = shownPointer(problem.pointer);
  const subject = problem.memberName
    ? `A member name in the body at ${where === '' ? '/' : where}`
    : where === ''
      ? 'The body'
      : `The body member ${where}`;
  return { subject, character: problem.character };
}

function multiLineRule(request: FastifyRequest): (pointer: string) => TextRule {
  const members = MULTI_LINE_MEMBERS[`${request.method} ${request.routeOptions.url}`];
  if (members === undefined) return () => 'single-line';
  if (members === 'all') return () => 'multi-line';
  return (pointer) => (members.includes(pointer) ? 'multi-line' : 'single-line');
}

function isForm(request: FastifyRequest): boolean {
  const type = request.headers['content-type'];
  return typeof type === 'string' && type.split(';')[0]!.trim().toLowerCase() === FORM_TYPE;
}

/** Query strings and forms are flat: a name, and maybe an index for a repeated name. */
function namedSubject(kind: string, problem: TextProblem): string {
  if (problem.memberName) return `A ${kind} name`;
  return `The ${kind} “${firstSegment(problem.pointer)}”`;
}

function firstSegment(pointer: string): string {
  const segment = shownPointer(pointer).split('/')[1] ?? '';
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}

export default fp(textGuard, { name: 'text-guard', dependencies: ['errors'] });
