import { base64urlEncode } from '@licensekit/core';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { StoreError } from '../../errors.js';
import { issuanceLogRepository } from '../../repositories/issuance-log.js';
import {
  DATABASE,
  EVERY_OPERATION,
  errorResponses,
  VALIDATED,
} from '../../schemas/error-responses.js';
import { LogProofBundle, LogSize } from '../../schemas/log.js';

/** A page of entries is at most this many (a page stays well under a megabyte). */
const MAX_PAGE = 1000;

const Size = LogSize;
/** Query strings arrive as text and the validator never coerces: sizes are patterns here. */
const SizeQuery = Type.String({ pattern: '^(?:0|[1-9][0-9]{0,14})$' });
const LimitQuery = Type.String({ pattern: '^(?:[1-9][0-9]{0,2}|1000)$' });
const DocumentHash = Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' });
const Kind = Type.Union([
  Type.Literal('license'),
  Type.Literal('certificate'),
  Type.Literal('revocations'),
]);

const ProofBundle = LogProofBundle;

/**
 * The issuance log, public and read-only: anyone may check what this store issued.
 * Checkpoints are signed notes (text), entries the exact signed bytes, proofs RFC 9162.
 */
export default async function logRoutes(fastify: FastifyInstance) {
  const log = () => fastify.issuanceLog;

  fastify.get(
    '/v1/log/checkpoint',
    {
      schema: {
        tags: ['log'],
        summary: 'The newest signed checkpoint (c2sp.org/tlog-checkpoint, text/plain)',
        response: {
          200: {
            description: 'The newest checkpoint: a signed note (made now if none exists yet).',
            content: { 'text/plain': { schema: Type.String() } },
          },
          ...errorResponses(EVERY_OPERATION, DATABASE),
        },
      },
    },
    async (_request, reply) => {
      const checkpoint = (await log().latest()) ?? (await log().checkpoint());
      reply.header('content-type', 'text/plain; charset=utf-8');
      reply.header('cache-control', 'no-cache');
      return checkpoint.note;
    },
  );

  fastify.get(
    '/v1/log/checkpoints',
    {
      schema: {
        tags: ['log'],
        summary: `Every checkpoint signed, by size, from \`start\` (a size), at most ${MAX_PAGE} a page`,
        querystring: Type.Object(
          { start: Type.Optional(SizeQuery), limit: Type.Optional(LimitQuery) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            {
              checkpoints: Type.Array(
                Type.Object({
                  size: Size,
                  checkpoint: Type.String(),
                  createdAt: Type.String({ format: 'date-time' }),
                }),
              ),
              next: Type.Union([Size, Type.Null()]),
            },
            { description: 'A page of checkpoints; `next` is the size to start the next page at.' },
          ),
          ...errorResponses(EVERY_OPERATION, VALIDATED, DATABASE),
        },
      },
    },
    async (request) => {
      const query = request.query as { start?: string; limit?: string };
      const start = query.start === undefined ? 0 : Number(query.start);
      const limit = query.limit === undefined ? MAX_PAGE : Number(query.limit);
      const rows = await issuanceLogRepository(fastify.db).checkpointsFrom(start, limit + 1);
      const page = rows.slice(0, limit);
      return {
        checkpoints: page.map((row) => ({
          size: row.size,
          checkpoint: row.note,
          createdAt: row.createdAt.toISOString(),
        })),
        next: rows.length > limit ? rows[limit]!.size : null,
      };
    },
  );

  fastify.get(
    '/v1/log/entries',
    {
      schema: {
        tags: ['log'],
        summary: `Entries in order from \`start\`, at most ${MAX_PAGE} a page`,
        querystring: Type.Object(
          { start: SizeQuery, limit: Type.Optional(LimitQuery) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            {
              treeSize: Size,
              entries: Type.Array(
                Type.Object({
                  index: Size,
                  kind: Kind,
                  document: Type.String({ description: 'the signed bytes, base64url' }),
                  documentHash: DocumentHash,
                  loggedAt: Type.String({ format: 'date-time' }),
                }),
              ),
              next: Type.Union([Size, Type.Null()]),
            },
            {
              description:
                'A page of entries with the tree size; `next` is the index to start the next page at.',
            },
          ),
          ...errorResponses(EVERY_OPERATION, VALIDATED, DATABASE),
        },
      },
    },
    async (request) => {
      const query = request.query as { start: string; limit?: string };
      const start = Number(query.start);
      const limit = query.limit === undefined ? MAX_PAGE : Number(query.limit);
      const repository = issuanceLogRepository(fastify.db);
      const head = await repository.head();
      const end = Math.min(head.size, start + limit);
      const entries = start < end ? await repository.entries(start, end) : [];
      return {
        treeSize: head.size,
        entries: entries.map((entry) => ({
          index: entry.index,
          kind: entry.kind,
          document: base64urlEncode(entry.document),
          documentHash: entry.documentHash,
          loggedAt: entry.loggedAt.toISOString(),
        })),
        next: end < head.size ? end : null,
      };
    },
  );

  fastify.get(
    '/v1/log/proof',
    {
      schema: {
        tags: ['log'],
        summary:
          'Inclusion proof of an entry (by index, or by the base64url SHA-256 of the document) under the newest checkpoint, as a bundle to keep offline',
        querystring: Type.Object(
          { index: Type.Optional(SizeQuery), hash: Type.Optional(DocumentHash) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Intersect([ProofBundle, Type.Object({ kind: Type.Optional(Kind) })], {
            description: 'The proof bundle: the inclusion proof and the checkpoint it is under.',
          }),
          ...errorResponses(EVERY_OPERATION, VALIDATED, DATABASE, { 404: ['NOT_FOUND'] }),
        },
      },
    },
    async (request) => {
      const { index, hash } = request.query as { index?: string; hash?: string };
      if ((index === undefined) === (hash === undefined)) {
        throw new StoreError('BAD_REQUEST', 'Give exactly one of index and hash.');
      }
      if (hash !== undefined) return log().bundleFor(hash);
      return log().bundle(Number(index));
    },
  );

  fastify.get(
    '/v1/log/consistency',
    {
      schema: {
        tags: ['log'],
        summary: 'Consistency proof (RFC 9162 §2.1.4) from the tree of `first` to that of `second`',
        querystring: Type.Object(
          { first: SizeQuery, second: SizeQuery },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            { first: Size, second: Size, proof: Type.Array(Type.String()) },
            { description: 'The consistency proof, hashes in padded base64.' },
          ),
          ...errorResponses(EVERY_OPERATION, VALIDATED, DATABASE),
        },
      },
    },
    async (request) => {
      const query = request.query as { first: string; second: string };
      const [first, second] = [Number(query.first), Number(query.second)];
      const proof = await log().consistency(first, second);
      return { first, second, proof: proof.map((hash) => Buffer.from(hash).toString('base64')) };
    },
  );
}
