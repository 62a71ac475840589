import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StoreError } from '../../errors.js';
import { QrImageError, qrSvgs, readQrCodesAside } from '../../lib/qr.js';
import { storeContext } from '../../lib/store-context.js';
import { describeCharacter, findForbiddenCharacter } from '../../lib/text-guard.js';
import { catalogueRepository } from '../../repositories/catalogue.js';
import type { LicenseRecord } from '../../repositories/licenses.js';
import { licensesRepository } from '../../repositories/licenses.js';
import type { OfflineRequestInput } from '../../services/offline-activation.js';
import {
  answerOfflineRequest,
  checkOfflineRequest,
  offlineAnswerOf,
  previewOfflineRequest,
  readOfflineInput,
} from '../../services/offline-activation.js';
import type { FieldError } from '../../views/layout.js';
import {
  OFFLINE_PATH,
  offlinePreviewPage,
  offlineRequestPage,
  offlineResponsePage,
  RESPONSE_FILE_NAME,
  responsePath,
} from '../../views/offline.js';
import { readForm, seeOther, sendPage } from './http.js';
import { sessionEndedPage, staleFormPage } from './portal-gate.js';
import type { ActiveSession } from './session.js';
import { csrfMatches, loadSession } from './session.js';

/**
 * The portal's offline activation pages (views/offline.ts): a signed-in customer brings
 * the request of a machine that never goes online — pasted, as its file, or as photos or
 * screenshots of its QR codes — sees what answering it does, confirms, and gets the
 * response as text, a file and QR codes. The answer is the API's own
 * (services/offline-activation.ts): same seats, same replay, same refusals.
 *
 * An encapsulated plugin of its own, so multipart bodies (the file inputs) are accepted
 * here only; it gates its routes on the portal session and CSRF token as the other portal
 * routes do.
 */

/** Uploaded files in all, at most: a phone photo or two of the codes, or the request file. */
const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
/** The Confirm form carries the request text (at most 32 KiB) and the CSRF token. */
const CONFIRM_BODY_LIMIT = 64 * 1024;
const REQUEST_HASH = /^[A-Za-z0-9_-]{43}$/;

/** The form's fields, as multipart (the page's form) or urlencoded (a plain post). */
interface OfflineForm {
  csrf: string | undefined;
  request: string | undefined;
  requestFile: Buffer | undefined;
  qrImages: Buffer[];
}

export default async function offlinePages(fastify: FastifyInstance) {
  await fastify.register(multipart, {
    // Counted by the busboy parser as the parts stream in; the total is checked below.
    limits: {
      fieldNameSize: 64,
      fieldSize: CONFIRM_BODY_LIMIT,
      fields: 4,
      fileSize: MAX_UPLOAD_BYTES,
      files: 9,
      parts: 13,
      headerPairs: 16,
    },
    throwFileSizeLimit: true,
  });
  const ctx = storeContext(fastify);
  const { config } = fastify;
  const vendor = config.vendor;

  // The portal's gate (as routes/pages/portal.ts): a session first; a urlencoded POST's
  // CSRF token is checked here, a multipart one's once its fields are read.
  fastify.addHook('preHandler', async (request, reply) => {
    const session = await loadSession(request);
    if (!session) {
      if (request.method === 'GET' || request.method === 'HEAD') return seeOther(reply, '/portal');
      return sessionEndedPage(reply, vendor);
    }
    if (
      request.method === 'POST' &&
      !request.isMultipart() &&
      !csrfMatches(session, readForm(request.body).csrf)
    ) {
      return refuseCsrf(reply, session);
    }
  });

  const refuseCsrf = (reply: FastifyReply, session: ActiveSession) =>
    staleFormPage(reply, vendor, session);

  const sessionOf = async (request: FastifyRequest) => (await loadSession(request))!;
  const licenseOf = async (session: ActiveSession) =>
    (await licensesRepository(fastify.db).byId(session.licenseId))!;
  const productName = async (license: LicenseRecord) =>
    (await catalogueRepository(fastify.db, config.publicUrl).getProduct(license.productId))?.name ??
    license.productId;
  const base = async (session: ActiveSession, license: LicenseRecord) => ({
    vendor,
    csrfToken: session.csrfToken,
    productName: await productName(license),
    test: license.test,
  });

  async function renderForm(
    reply: FastifyReply,
    status: number,
    session: ActiveSession,
    options: { errors?: FieldError[]; pasted?: string | undefined } = {},
  ): Promise<FastifyReply> {
    const license = await licenseOf(session);
    return sendPage(
      reply,
      status,
      offlineRequestPage({
        ...(await base(session, license)),
        errors: options.errors ?? [],
        pasted: options.pasted,
      }),
    );
  }

  const hide = { schema: { hide: true } };

  fastify.get(OFFLINE_PATH, hide, async (request, reply) =>
    renderForm(reply, 200, await sessionOf(request)),
  );

  // The preview: reads the request and decides what answering it does; changes nothing.
  fastify.post(OFFLINE_PATH, { ...hide, bodyLimit: CONFIRM_BODY_LIMIT }, async (request, reply) => {
    const session = await sessionOf(request);
    const form = await readOfflineForm(request);
    if (request.isMultipart() && !csrfMatches(session, form.csrf))
      return refuseCsrf(reply, session);
    const pasted = form.request?.trim() ? form.request : undefined;
    let field: string;
    let input: OfflineRequestInput;
    try {
      ({ field, input } = await requestInput(form));
    } catch (error) {
      if (!(error instanceof FormProblem)) throw error;
      return renderForm(reply, 400, session, { errors: [error.problem], pasted });
    }
    const license = await licenseOf(session);
    try {
      const request = await readOfflineInput(input);
      const checked = checkOfflineRequest(license, request, ctx.clock.now());
      const preview = await previewOfflineRequest(ctx, license.id, checked);
      return sendPage(
        reply,
        200,
        offlinePreviewPage({
          ...(await base(session, license)),
          preview,
          requestText: request.text,
        }),
      );
    } catch (error) {
      const refusal = formRefusal(error);
      if (!refusal) throw error;
      return renderForm(reply, refusal.status, session, {
        errors: [{ field, message: refusal.message }],
        pasted,
      });
    }
  });

  fastify.post(
    `${OFFLINE_PATH}/confirm`,
    { ...hide, bodyLimit: CONFIRM_BODY_LIMIT },
    async (request, reply) => {
      const session = await sessionOf(request);
      const text = readForm(request.body).request ?? '';
      const license = await licenseOf(session);
      try {
        const checked = checkOfflineRequest(
          license,
          await readOfflineInput({ text }),
          ctx.clock.now(),
        );
        const answer = await answerOfflineRequest(ctx, license.id, checked, {
          // Apps that require an issuance-log proof can only get it here.
          logProof: config.log.append
            ? (token) => fastify.issuanceLog.bundleForToken(token)
            : undefined,
        });
        return seeOther(reply, responsePath(answer.requestHash));
      } catch (error) {
        const refusal = formRefusal(error);
        if (!refusal) throw error;
        // Things changed since the preview (a seat taken meanwhile …): start again.
        return renderForm(reply, refusal.status, session, {
          errors: [{ field: 'request', message: refusal.message }],
          pasted: text,
        });
      }
    },
  );

  fastify.get<{ Params: { requestHash: string } }>(
    `${OFFLINE_PATH}/responses/:requestHash`,
    hide,
    async (request, reply) => {
      const session = await sessionOf(request);
      const answer = await answerOf(session, request.params.requestHash);
      const license = await licenseOf(session);
      return sendPage(
        reply,
        200,
        offlineResponsePage({
          ...(await base(session, license)),
          kind: answer.kind,
          response: answer.response,
          requestHash: request.params.requestHash,
          qr: await qrSvgs(answer.response, 'Offline response'),
        }),
      );
    },
  );

  fastify.get<{ Params: { requestHash: string } }>(
    `${OFFLINE_PATH}/responses/:requestHash/file`,
    hide,
    async (request, reply) => {
      const answer = await answerOf(await sessionOf(request), request.params.requestHash);
      return reply
        .header('content-type', 'text/plain; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('content-disposition', `attachment; filename="${RESPONSE_FILE_NAME}"`)
        .send(`${answer.response}\n`);
    },
  );

  /** A response of the session's license only: another license's hash is not found. */
  async function answerOf(session: ActiveSession, requestHash: string) {
    const answer = REQUEST_HASH.test(requestHash)
      ? await offlineAnswerOf(fastify.db, session.licenseId, requestHash)
      : undefined;
    if (!answer) throw new StoreError('NOT_FOUND', 'There is no such offline response.');
    return answer;
  }
}

/**
 * The form's fields. The multipart parts are read here, with their text held to the
 * store's text rule (the global guard sees only parsed bodies, not these parts): the
 * pasted request may have line breaks, nothing may have control characters.
 */
async function readOfflineForm(request: FastifyRequest): Promise<OfflineForm> {
  const form: OfflineForm = {
    csrf: undefined,
    request: undefined,
    requestFile: undefined,
    qrImages: [],
  };
  if (!request.isMultipart()) {
    const fields = readForm(request.body);
    return { ...form, csrf: fields.csrf, request: fields.request };
  }
  let total = 0;
  for await (const part of request.parts()) {
    if (part.type === 'field') {
      if (part.valueTruncated) throw new StoreError('PAYLOAD_TOO_LARGE');
      if (typeof part.value !== 'string') continue;
      if (part.fieldname === 'csrf') form.csrf = checkedText('csrf', part.value, 'single-line');
      if (part.fieldname === 'request')
        form.request = checkedText('request', part.value, 'multi-line');
      continue;
    }
    const bytes = await part.toBuffer();
    total += bytes.length;
    if (total > MAX_UPLOAD_BYTES) throw new StoreError('PAYLOAD_TOO_LARGE');
    // A file input left empty still sends a part, with no name and no bytes.
    if (bytes.length === 0) continue;
    if (part.fieldname === 'requestFile') form.requestFile = bytes;
    if (part.fieldname === 'qrImages') form.qrImages.push(bytes);
  }
  return form;
}

function checkedText(name: string, value: string, rule: 'single-line' | 'multi-line'): string {
  const character = findForbiddenCharacter(value, rule);
  if (!character) return value;
  throw new StoreError(
    'TEXT_INVALID',
    `The form field “${name}” holds ${describeCharacter(character)}, which the store does not accept in text.`,
  );
}

/** A problem with what the form brought, shown at its field. */
class FormProblem extends Error {
  constructor(readonly problem: { field: string; message: string }) {
    super(problem.message);
  }
}

/**
 * The request the form brings, and the field it came from: the pasted text, else the
 * file, else the QR codes found in the pictures (a single code's text, or the parts of a
 * longer one, joined by the service).
 */
async function requestInput(
  form: OfflineForm,
): Promise<{ field: string; input: OfflineRequestInput }> {
  if (form.request?.trim()) return { field: 'request', input: { text: form.request } };
  if (form.requestFile) {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(form.requestFile);
    } catch {
      throw new FormProblem({
        field: 'requestFile',
        message: 'The file is not a text file: choose the request file your app saved.',
      });
    }
    return { field: 'requestFile', input: { text } };
  }
  if (form.qrImages.length > 0) {
    const codes = new Set<string>();
    for (const image of form.qrImages) {
      try {
        for (const code of await readQrCodesAside(image)) codes.add(code);
      } catch (error) {
        if (!(error instanceof QrImageError)) throw error;
        throw new FormProblem({ field: 'qrImages', message: error.message });
      }
    }
    if (codes.size === 0) {
      throw new FormProblem({
        field: 'qrImages',
        message:
          'No QR code could be read in the picture. Take it again, closer and sharper, with the whole code in view.',
      });
    }
    return { field: 'qrImages', input: { parts: [...codes] } };
  }
  throw new FormProblem({
    field: 'request',
    message: 'Paste the request, or choose its file or pictures of its QR codes.',
  });
}

/** Refusals the customer can act on, shown on the form (not as an error page). */
function formRefusal(error: unknown): { status: number; message: string } | undefined {
  if (!(error instanceof StoreError)) return undefined;
  switch (error.code) {
    case 'OFFLINE_REQUEST_INVALID':
    case 'OFFLINE_REQUEST_MISMATCH':
    case 'OFFLINE_NONCE_REUSED':
    case 'DEVICE_NOT_FOUND':
      return { status: error.status, message: error.message };
    case 'SEATS_FULL':
      return {
        status: error.status,
        message:
          'All seats of this license are in use: deactivate a device on your license page first, then bring the request again.',
      };
    default:
      return undefined;
  }
}
