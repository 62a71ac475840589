import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { EVERY_OPERATION, errorResponses } from '../../schemas/error-responses.js';

const PublicJwk = Type.Object({
  kty: Type.Literal('OKP'),
  crv: Type.Literal('Ed25519'),
  x: Type.String(),
  kid: Type.String(),
});

/**
 * The keys apps and auditors need: the root public key (apps embed it), the current issuer
 * key and its certificate, and the issuance log's checkpoint key (verifiers that require
 * log proofs and auditors configure it). Public material only; the response schema keeps it that way.
 */
export default async function keys(fastify: FastifyInstance) {
  fastify.get(
    '/v1/keys',
    {
      schema: {
        tags: ['keys'],
        summary: 'Root public key, issuer keys and their certificates',
        response: {
          200: Type.Object(
            {
              vendor: Type.String(),
              roots: Type.Array(PublicJwk),
              issuers: Type.Array(
                Type.Object({
                  key: PublicJwk,
                  certificate: Type.String(),
                  expiresAt: Type.String(),
                }),
              ),
              log: Type.Object({
                origin: Type.String(),
                /** c2sp.org/signed-note verifier key: `<origin>+<key id>+<base64 key>`. */
                key: Type.String(),
              }),
            },
            {
              description:
                'The public keys: the root (embed it in apps), the current issuer key with its certificate, and the issuance log key.',
            },
          ),
          ...errorResponses(EVERY_OPERATION),
        },
      },
    },
    async () => {
      const { keys: storeKeys } = fastify;
      return {
        vendor: storeKeys.vendor,
        roots: [storeKeys.rootPublicJwk],
        issuers: [
          {
            key: { ...storeKeys.issuer.publicJwk, kid: storeKeys.issuer.kid },
            certificate: storeKeys.certificate,
            expiresAt: new Date(storeKeys.certificateExpiresAt * 1000).toISOString(),
          },
        ],
        log: { origin: fastify.issuanceLog.origin, key: fastify.issuanceLog.verifierKey },
      };
    },
  );
}
