import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { StoreError } from '../../errors.js';
import { catalogueRepository } from '../../repositories/catalogue.js';
import {
  ADMIN_ROUTE,
  ADMIN_WRITE,
  AdminProduct,
  PlanParams,
  ProductParams,
} from '../../schemas/admin.js';
import { PlanInput, ProductInput } from '../../schemas/catalogue.js';
import { described } from '../../schemas/common.js';
import { errorResponses } from '../../schemas/error-responses.js';
import { adminCatalogue, deactivateProduct } from '../../services/admin.js';
import { checkPlanRules } from '../../services/catalogue-rules.js';
import { refusedByDatabase } from './db-errors.js';

/** Products and plans: create or update (upsert), deactivate. */
export default async function catalogue(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>();
  const repository = catalogueRepository(fastify.db, fastify.config.publicUrl);
  const productOrThrow = async (id: string) => {
    const [product] = await adminCatalogue(fastify.db, id);
    if (!product) throw new StoreError('PRODUCT_NOT_FOUND');
    return product;
  };
  const tags = ['admin'];

  fastify.get(
    '/v1/admin/products',
    {
      schema: {
        tags,
        summary: 'Every product with every plan (inactive ones too)',
        security: [{ bearer: [] }],
        response: {
          200: Type.Object(
            { products: Type.Array(AdminProduct) },
            { description: 'Every product with every plan, inactive ones too.' },
          ),
          ...errorResponses(...ADMIN_ROUTE),
        },
      },
    },
    async () => ({ products: await adminCatalogue(fastify.db) }),
  );

  fastify.post(
    '/v1/admin/products',
    {
      bodyLimit: 16 * 1024,
      schema: {
        tags,
        summary: 'Create or update a product',
        security: [{ bearer: [] }],
        body: ProductInput,
        response: {
          200: described(AdminProduct, 'The product, updated.'),
          201: described(AdminProduct, 'The product, created.'),
          ...errorResponses(...ADMIN_WRITE, { 409: ['CONFLICT'] }),
        },
      },
    },
    async (request, reply) => {
      const existed = (await adminCatalogue(fastify.db, request.body.id)).length > 0;
      await refusedByDatabase(() => repository.upsertProduct(request.body));
      return reply.status(existed ? 200 : 201).send(await productOrThrow(request.body.id));
    },
  );

  fastify.delete(
    '/v1/admin/products/:productId',
    {
      schema: {
        tags,
        summary: 'Deactivate a product: all its plans leave the storefront; licenses keep working',
        security: [{ bearer: [] }],
        params: ProductParams,
        response: {
          200: described(AdminProduct, 'The product with all its plans inactive.'),
          ...errorResponses(...ADMIN_WRITE, { 404: ['PRODUCT_NOT_FOUND'] }),
        },
      },
    },
    async (request) => {
      await productOrThrow(request.params.productId);
      await deactivateProduct(fastify.db, request.params.productId);
      return productOrThrow(request.params.productId);
    },
  );

  fastify.post(
    '/v1/admin/products/:productId/plans',
    {
      bodyLimit: 16 * 1024,
      schema: {
        tags,
        summary: 'Create or update (and reactivate) a plan',
        security: [{ bearer: [] }],
        params: ProductParams,
        body: PlanInput,
        response: {
          200: described(AdminProduct, 'The product, with the plan updated (and active).'),
          201: described(AdminProduct, 'The product, with the plan created.'),
          ...errorResponses(...ADMIN_WRITE, {
            404: ['PRODUCT_NOT_FOUND'],
            409: ['CONFLICT'],
          }),
        },
      },
    },
    async (request, reply) => {
      const { productId } = request.params;
      const plan = request.body;
      const before = await productOrThrow(productId);
      checkPlanRules(plan);
      await refusedByDatabase(() => repository.upsertPlan(productId, plan));
      const existed = before.plans.some((p) => p.id === plan.id);
      return reply.status(existed ? 200 : 201).send(await productOrThrow(productId));
    },
  );

  fastify.delete(
    '/v1/admin/products/:productId/plans/:planId',
    {
      schema: {
        tags,
        summary: 'Deactivate a plan (no new sales; licenses on it keep working)',
        security: [{ bearer: [] }],
        params: PlanParams,
        response: {
          200: described(AdminProduct, 'The product, with the plan inactive.'),
          ...errorResponses(...ADMIN_WRITE, { 404: ['PLAN_NOT_FOUND', 'PRODUCT_NOT_FOUND'] }),
        },
      },
    },
    async (request) => {
      const { productId, planId } = request.params;
      if (!(await repository.deactivatePlan(productId, planId)))
        throw new StoreError('PLAN_NOT_FOUND');
      return productOrThrow(productId);
    },
  );
}
