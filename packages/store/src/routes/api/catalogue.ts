import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { StoreError } from '../../errors.js';
import { catalogueRepository } from '../../repositories/catalogue.js';
import { Product } from '../../schemas/catalogue.js';
import { ErrorResponse, Identifier } from '../../schemas/common.js';

/** The public catalogue: products with their plans, one URL per product. */
export default async function catalogue(fastify: FastifyInstance) {
  const repository = catalogueRepository(fastify.db, fastify.config.publicUrl);

  fastify.get(
    '/v1/products',
    {
      schema: {
        tags: ['catalogue'],
        summary: 'List products and their plans',
        response: { 200: Type.Object({ products: Type.Array(Product) }) },
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
        response: { 200: Product, 404: ErrorResponse },
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
