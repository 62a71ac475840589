import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { StoreError } from '../../errors.js';
import { catalogueRepository } from '../../repositories/catalogue.js';
import { Product } from '../../schemas/catalogue.js';
import { described, Identifier } from '../../schemas/common.js';
import {
  DATABASE,
  EVERY_OPERATION,
  errorResponses,
  VALIDATED,
} from '../../schemas/error-responses.js';

/** The public catalogue: products with their plans, one URL per product. */
export default async function catalogue(fastify: FastifyInstance) {
  const repository = catalogueRepository(fastify.db, fastify.config.publicUrl);

  fastify.get(
    '/v1/products',
    {
      schema: {
        tags: ['catalogue'],
        summary: 'List products and their plans',
        response: {
          200: Type.Object(
            { products: Type.Array(Product) },
            { description: 'Every product on sale with its active plans.' },
          ),
          ...errorResponses(EVERY_OPERATION, DATABASE),
        },
      },
    },
    async () => ({ products: await repository.listProducts() }),
  );

  fastify.get(
    '/v1/products/:productId',
    {
      schema: {
        tags: ['catalogue'],
        summary: 'One product and its plans',
        params: Type.Object({ productId: Identifier }),
        response: {
          200: described(Product, 'The product with its active plans.'),
          ...errorResponses(EVERY_OPERATION, VALIDATED, DATABASE, {
            404: ['PRODUCT_NOT_FOUND'],
          }),
        },
      },
    },
    async (request) => {
      const { productId } = request.params as { productId: string };
      const product = await repository.getProduct(productId);
      if (!product) throw new StoreError('PRODUCT_NOT_FOUND');
      return product;
    },
  );
}
