import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StoreError } from '../../errors.js';
import { catalogueRepository } from '../../repositories/catalogue.js';
import type { AdminProduct } from '../../services/admin.js';
import { adminCatalogue, deactivateProduct } from '../../services/admin.js';
import type { AdminActionKind } from '../../services/admin-actions.js';
import { recordAdminAction } from '../../services/admin-actions.js';
import { checkPlanRules } from '../../services/catalogue-rules.js';
import {
  cataloguePage,
  deactivateConfirmPage,
  planFormPage,
  productFormPage,
} from '../../views/admin-catalogue.js';
import type { FieldError } from '../../views/layout.js';
import { refusedByDatabase } from '../admin/db-errors.js';
import type { AdminScope } from './admin.js';
import { signedInFrame } from './admin.js';
import type { Fields } from './admin-forms.js';
import { parsePlanForm, parseProductForm, planFields } from './admin-forms.js';
import { noticeOf, readForm, seeOther, sendPage } from './http.js';

const IDENTIFIER = /^[a-z0-9][a-z0-9-]{0,62}$/;
const NOTICES: Record<string, string> = {
  'product-saved': 'The product is saved.',
  'plan-saved': 'The plan is saved and on sale.',
  'product-deactivated': 'The product and all its plans are off the storefront.',
  'plan-deactivated': 'The plan is off the storefront.',
};

/**
 * Catalogue editing: the admin API's upserts and deactivations (repositories/catalogue.ts,
 * services/admin.ts) behind forms, with the same checks — the API's input schemas and
 * services/catalogue-rules.ts — so a plan the API refuses is refused here, by field.
 */
export default async function adminCatalogueRoutes(fastify: FastifyInstance, scope: AdminScope) {
  const repository = catalogueRepository(fastify.db, fastify.config.publicUrl);
  const hidden = { schema: { hide: true } };
  const post = { schema: { hide: true }, bodyLimit: 16 * 1024 };
  const base = `${scope.base}/catalogue`;

  async function productOrThrow(id: string): Promise<AdminProduct> {
    const [product] = IDENTIFIER.test(id) ? await adminCatalogue(fastify.db, id) : [];
    if (!product) throw new StoreError('PRODUCT_NOT_FOUND', 'No product has this id.');
    return product;
  }

  function planOrThrow(product: AdminProduct, planId: string) {
    const plan = product.plans.find((candidate) => candidate.id === planId);
    if (!plan) throw new StoreError('PLAN_NOT_FOUND', 'This product has no plan with this id.');
    return plan;
  }

  const audit = (action: AdminActionKind, target: string, detail: Record<string, unknown> = {}) =>
    recordAdminAction(
      fastify.db,
      { actor: scope.actor, action, target, detail },
      fastify.clock.now(),
    );

  /** A StoreError of the rules or the database as an error on the whole form. */
  async function saving(work: () => Promise<void>): Promise<FieldError[]> {
    try {
      await refusedByDatabase(work);
      return [];
    } catch (error) {
      if (error instanceof StoreError && error.status < 500) return [{ message: error.message }];
      throw error;
    }
  }

  const frame = (request: FastifyRequest) => signedInFrame(request, scope);

  fastify.get(base, hidden, async (request, reply) =>
    sendPage(
      reply,
      200,
      cataloguePage(frame(request), {
        products: await adminCatalogue(fastify.db),
        notice: noticeOf(request.query, NOTICES),
      }),
    ),
  );

  // ------------------------------------------------------------ products

  const productForm = (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    page: { productId: string | undefined; values: Fields; errors: FieldError[] },
  ) => sendPage(reply, status, productFormPage(frame(request), page));

  fastify.get(`${base}/new`, hidden, async (request, reply) =>
    productForm(request, reply, 200, { productId: undefined, values: {}, errors: [] }),
  );

  fastify.post(base, post, async (request, reply) => {
    const values = readForm(request.body);
    const id = (values.id ?? '').trim();
    const parsed = parseProductForm(values, id);
    const errors = parsed.ok ? [] : parsed.errors;
    if (parsed.ok && (await adminCatalogue(fastify.db, id)).length > 0)
      errors.push({
        field: 'id',
        message: 'A product with this id exists already: choose another id.',
      });
    if (!parsed.ok || errors.length > 0)
      return productForm(request, reply, 400, { productId: undefined, values, errors });
    const failed = await saving(() => repository.upsertProduct(parsed.value));
    if (failed.length > 0)
      return productForm(request, reply, 409, { productId: undefined, values, errors: failed });
    await audit('product.saved', id, { created: true });
    return seeOther(reply, `${base}?done=product-saved`);
  });

  fastify.get<{ Params: { productId: string } }>(
    `${base}/products/:productId`,
    hidden,
    async (request, reply) => {
      const product = await productOrThrow(request.params.productId);
      return productForm(request, reply, 200, {
        productId: product.id,
        values: { name: product.name, description: product.description },
        errors: [],
      });
    },
  );

  fastify.post<{ Params: { productId: string } }>(
    `${base}/products/:productId`,
    post,
    async (request, reply) => {
      const product = await productOrThrow(request.params.productId);
      const values = readForm(request.body);
      const parsed = parseProductForm(values, product.id);
      if (!parsed.ok)
        return productForm(request, reply, 400, {
          productId: product.id,
          values,
          errors: parsed.errors,
        });
      const failed = await saving(() => repository.upsertProduct(parsed.value));
      if (failed.length > 0)
        return productForm(request, reply, 409, { productId: product.id, values, errors: failed });
      await audit('product.saved', product.id);
      return seeOther(reply, `${base}?done=product-saved`);
    },
  );

  fastify.get<{ Params: { productId: string } }>(
    `${base}/products/:productId/deactivate`,
    hidden,
    async (request, reply) => {
      const product = await productOrThrow(request.params.productId);
      return sendPage(
        reply,
        200,
        deactivateConfirmPage(frame(request), {
          what: `the product ${product.name}`,
          action: `${base}/products/${product.id}/deactivate`,
          back: `${base}/products/${product.id}`,
          consequence: `All ${product.plans.length} plans of ${product.name} leave the storefront: no new sales. Licenses already sold keep working. Saving a plan puts it back on sale.`,
        }),
      );
    },
  );

  fastify.post<{ Params: { productId: string } }>(
    `${base}/products/:productId/deactivate`,
    { ...post, bodyLimit: 4 * 1024 },
    async (request, reply) => {
      const product = await productOrThrow(request.params.productId);
      if (readForm(request.body).confirm !== 'deactivate')
        return seeOther(reply, `${base}/products/${product.id}/deactivate`);
      const plans = await deactivateProduct(fastify.db, product.id);
      await audit('product.deactivated', product.id, { plans });
      return seeOther(reply, `${base}?done=product-deactivated`);
    },
  );

  // ------------------------------------------------------------ plans

  const planForm = (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    page: {
      productId: string;
      planId: string | undefined;
      active: boolean;
      values: Fields;
      errors: FieldError[];
    },
  ) => sendPage(reply, status, planFormPage(frame(request), page));

  /** Validates and saves a plan form; answers the form again with its errors if need be. */
  async function savePlan(
    request: FastifyRequest,
    reply: FastifyReply,
    product: AdminProduct,
    planId: string,
    creating: boolean,
  ) {
    const values = readForm(request.body);
    const existing = product.plans.find((plan) => plan.id === planId);
    const page = {
      productId: product.id,
      planId: creating ? undefined : planId,
      active: existing?.active ?? true,
      values,
    };
    const parsed = parsePlanForm(values, planId);
    const errors = parsed.ok ? [] : parsed.errors;
    if (creating && existing)
      errors.push({
        field: 'id',
        message: 'This product has a plan with this id already: choose another id.',
      });
    if (!parsed.ok || errors.length > 0) return planForm(request, reply, 400, { ...page, errors });
    const failed = await saving(async () => {
      checkPlanRules(parsed.value);
      await repository.upsertPlan(product.id, parsed.value);
    });
    if (failed.length > 0) return planForm(request, reply, 400, { ...page, errors: failed });
    await audit('plan.saved', `${product.id}/${planId}`, { created: creating });
    return seeOther(reply, `${base}?done=plan-saved`);
  }

  fastify.get<{ Params: { productId: string } }>(
    `${base}/products/:productId/new-plan`,
    hidden,
    async (request, reply) => {
      const product = await productOrThrow(request.params.productId);
      return planForm(request, reply, 200, {
        productId: product.id,
        planId: undefined,
        active: true,
        values: { interval: 'month', currency: product.plans[0]?.price.currency ?? 'USD' },
        errors: [],
      });
    },
  );

  fastify.post<{ Params: { productId: string } }>(
    `${base}/products/:productId/plans`,
    post,
    async (request, reply) => {
      const product = await productOrThrow(request.params.productId);
      const id = (readForm(request.body).id ?? '').trim();
      return savePlan(request, reply, product, id, true);
    },
  );

  fastify.get<{ Params: { productId: string; planId: string } }>(
    `${base}/products/:productId/plans/:planId`,
    hidden,
    async (request, reply) => {
      const product = await productOrThrow(request.params.productId);
      const plan = planOrThrow(product, request.params.planId);
      return planForm(request, reply, 200, {
        productId: product.id,
        planId: plan.id,
        active: plan.active,
        values: planFields(plan),
        errors: [],
      });
    },
  );

  fastify.post<{ Params: { productId: string; planId: string } }>(
    `${base}/products/:productId/plans/:planId`,
    post,
    async (request, reply) => {
      const product = await productOrThrow(request.params.productId);
      const plan = planOrThrow(product, request.params.planId);
      return savePlan(request, reply, product, plan.id, false);
    },
  );

  fastify.get<{ Params: { productId: string; planId: string } }>(
    `${base}/products/:productId/plans/:planId/deactivate`,
    hidden,
    async (request, reply) => {
      const product = await productOrThrow(request.params.productId);
      const plan = planOrThrow(product, request.params.planId);
      if (!plan.active) throw new StoreError('CONFLICT', 'This plan is inactive already.');
      return sendPage(
        reply,
        200,
        deactivateConfirmPage(frame(request), {
          what: `the plan ${plan.name} of ${product.name}`,
          action: `${base}/products/${product.id}/plans/${plan.id}/deactivate`,
          back: `${base}/products/${product.id}/plans/${plan.id}`,
          consequence: `The ${plan.name} plan leaves the storefront: no new sales. Licenses on it keep working and renewing.`,
        }),
      );
    },
  );

  fastify.post<{ Params: { productId: string; planId: string } }>(
    `${base}/products/:productId/plans/:planId/deactivate`,
    { ...post, bodyLimit: 4 * 1024 },
    async (request, reply) => {
      const product = await productOrThrow(request.params.productId);
      const plan = planOrThrow(product, request.params.planId);
      if (readForm(request.body).confirm !== 'deactivate')
        return seeOther(reply, `${base}/products/${product.id}/plans/${plan.id}/deactivate`);
      await repository.deactivatePlan(product.id, plan.id);
      await audit('plan.deactivated', `${product.id}/${plan.id}`);
      return seeOther(reply, `${base}?done=plan-deactivated`);
    },
  );
}
