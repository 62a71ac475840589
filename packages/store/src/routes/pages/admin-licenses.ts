import type { FastifyInstance } from 'fastify';
import { StoreError } from '../../errors.js';
import { storeContext } from '../../lib/store-context.js';
import { getLicenseDetail, listLicenses, listOrders } from '../../services/admin.js';
import { listAdminActions } from '../../services/admin-actions.js';
import { revokeWithAudit } from '../../services/order-refunds.js';
import { licensePage, licensesPage, revokeConfirmPage } from '../../views/admin-licenses.js';
import type { AdminScope } from './admin.js';
import { signedInFrame } from './admin.js';
import { LICENSE_ID } from './admin-orders.js';
import { noticeOf, readForm, seeOther, sendPage } from './http.js';

const MAX_REASON = 500;
const NOTICES: Record<string, string> = { revoked: 'The license is revoked.' };

/** Licenses: search by id or customer e-mail, one license, revoke (with confirmation). */
export default async function adminLicenseRoutes(fastify: FastifyInstance, scope: AdminScope) {
  const hidden = { schema: { hide: true } };

  async function detailOrThrow(id: string) {
    const detail = LICENSE_ID.test(id) ? await getLicenseDetail(fastify.db, id) : undefined;
    if (!detail) throw new StoreError('NOT_FOUND', 'No license has this id.');
    return detail;
  }

  fastify.get(`${scope.base}/licenses`, hidden, async (request, reply) => {
    const query = readForm(request.query);
    const q = (query.q ?? '').trim();
    const cursor = query.cursor && query.cursor.length <= 200 ? query.cursor : undefined;
    const frame = signedInFrame(request, scope);
    const refuse = (status: number, message: string) =>
      sendPage(
        reply,
        status,
        licensesPage(frame, {
          query: q.slice(0, 320),
          licenses: undefined,
          nextCursor: null,
          errors: [{ field: 'q', message }],
        }),
      );
    if (q.startsWith('lic_')) {
      const found = LICENSE_ID.test(q) && (await getLicenseDetail(fastify.db, q));
      if (!found) return refuse(404, `No license has the id ${q.slice(0, 80)}.`);
      return seeOther(reply, `${scope.base}/licenses/${q}`);
    }
    if (q !== '' && (q.length > 320 || !/^[^\s@]+@[^\s@]+$/.test(q)))
      return refuse(
        400,
        'Enter a license id (it starts with lic_) or a customer’s e-mail address.',
      );
    const page = await listLicenses(fastify.db, {
      customerEmail: q === '' ? undefined : q,
      limit: 50,
      cursor,
    });
    return sendPage(
      reply,
      200,
      licensesPage(frame, {
        query: q,
        licenses: page.items,
        nextCursor: page.nextCursor,
        errors: [],
      }),
    );
  });

  fastify.get<{ Params: { licenseId: string } }>(
    `${scope.base}/licenses/:licenseId`,
    hidden,
    async (request, reply) => {
      const detail = await detailOrThrow(request.params.licenseId);
      const orders = await listOrders(fastify.db, { licenseId: detail.license.id, limit: 50 });
      const activity = await listAdminActions(fastify.db, {
        limit: 50,
        target: detail.license.id,
      });
      return sendPage(
        reply,
        200,
        licensePage(signedInFrame(request, scope), {
          detail,
          orders: orders.items,
          activity,
          notice: noticeOf(request.query, NOTICES),
        }),
      );
    },
  );

  fastify.get<{ Params: { licenseId: string } }>(
    `${scope.base}/licenses/:licenseId/revoke`,
    hidden,
    async (request, reply) => {
      const { license } = await detailOrThrow(request.params.licenseId);
      if (license.status === 'revoked')
        throw new StoreError('CONFLICT', 'This license is already revoked.');
      return sendPage(
        reply,
        200,
        revokeConfirmPage(signedInFrame(request, scope), { license, reason: '', errors: [] }),
      );
    },
  );

  fastify.post<{ Params: { licenseId: string } }>(
    `${scope.base}/licenses/:licenseId/revoke`,
    { schema: { hide: true }, bodyLimit: 4 * 1024 },
    async (request, reply) => {
      const { license } = await detailOrThrow(request.params.licenseId);
      const form = readForm(request.body);
      if (form.confirm !== 'revoke')
        return seeOther(reply, `${scope.base}/licenses/${license.id}/revoke`);
      if (license.status === 'revoked')
        throw new StoreError('CONFLICT', 'This license is already revoked.');
      const reason = (form.reason ?? '').trim();
      if (reason.length > MAX_REASON) {
        return sendPage(
          reply,
          400,
          revokeConfirmPage(signedInFrame(request, scope), {
            license,
            reason,
            errors: [
              { field: 'reason', message: `Keep the reason under ${MAX_REASON} characters.` },
            ],
          }),
        );
      }
      await revokeWithAudit(
        { ...storeContext(fastify), revocations: fastify.revocations },
        license.id,
        { reason, actor: scope.actor },
      );
      return seeOther(reply, `${scope.base}/licenses/${license.id}?done=revoked`);
    },
  );
}
