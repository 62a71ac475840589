import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { StoreError } from '../../errors.js';
import { vendorScope } from '../../lib/auth.js';
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
import { checkYearlyLink } from '../../services/billing-cycles.js';
import { checkPlanRules } from '../../services/catalogue-rules.js';
import { refusedByDatabase } from './db-errors.js';
import {
  assertProductInScope,
  scopedProductIds,
  VENDOR_ACCESS,
  vendorOfProductId,
} from './scope.js';

/**
 * Products and plans: create or update (upsert), deactivate. Open to vendor tokens: a
 * vendor lists and changes its own products only, and a product it creates is its own.
 */
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
      config: VENDOR_ACCESS,
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
    async (request) => {
      const owned = await scopedProductIds(request);
      const products = await adminCatalogue(fastify.db);
      return { products: owned ? products.filter((p) => owned.includes(p.id)) : products };
    },
  );

  fastify.post(
    '/v1/admin/products',
    {
      bodyLimit: 16 * 1024,
      config: VENDOR_ACCESS,
      schema: {
        tags,
        summary: 'Create or update a product',
        security: [{ bearer: [] }],
        body: ProductInput,
        response: {
          200: described(AdminProduct, 'The product, updated.'),
          201: described(AdminProduct, 'The product, created.'),
          ...errorResponses(...ADMIN_WRITE, { 404: ['PRODUCT_NOT_FOUND'], 409: ['CONFLICT'] }),
        },
      },
    },
    async (request, reply) => {
      const vendorId = vendorScope(request);
      const { id } = request.body;
      const owner = await vendorOfProductId(fastify.db, fastify.config.vendor, id);
      // Another vendor's product id: answered as if it did not exist, and never changed.
      if (vendorId !== undefined && owner !== undefined && owner !== vendorId)
        throw new StoreError('PRODUCT_NOT_FOUND');
      const existed = owner !== undefined;
      await refusedByDatabase(async () => {
        if (vendorId === undefined || existed) return repository.upsertProduct(request.body);
        // A vendor's new product is its own from the first instant; a plain INSERT, so a
        // product made at the same moment by someone else is a conflict, never taken over.
        await fastify.db.query(
          `INSERT INTO products (id, name, description, vendor_id) VALUES ($1, $2, $3, $4)`,
          [
            id,
            request.body.name,
            request.body.description ?? '',
            vendorId === fastify.config.vendor ? null : vendorId,
          ],
        );
      });
      return reply.status(existed ? 200 : 201).send(await productOrThrow(id));
    },
  );

  fastify.delete(
    '/v1/admin/products/:productId',
    {
      config: VENDOR_ACCESS,
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
      await assertProductInScope(request, request.params.productId);
      await productOrThrow(request.params.productId);
      await deactivateProduct(fastify.db, request.params.productId);
      return productOrThrow(request.params.productId);
    },
  );

  fastify.post(
    '/v1/admin/products/:productId/plans',
    {
      config: VENDOR_ACCESS,
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
      await assertProductInScope(request, productId);
      const before = await productOrThrow(productId);
      checkPlanRules(plan);
      await checkYearlyLink(fastify.db, productId, plan);
      await refusedByDatabase(() => repository.upsertPlan(productId, plan));
      const existed = before.plans.some((p) => p.id === plan.id);
      return reply.status(existed ? 200 : 201).send(await productOrThrow(productId));
    },
  );

  fastify.delete(
    '/v1/admin/products/:productId/plans/:planId',
    {
      config: VENDOR_ACCESS,
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
      await assertProductInScope(request, productId);
      if (!(await repository.deactivatePlan(productId, planId)))
        throw new StoreError('PLAN_NOT_FOUND');
      return productOrThrow(productId);
    },
  );
}
