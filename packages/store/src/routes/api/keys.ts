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
                  /** The vendor the issuer signs for (its certificate's `iss`). */
                  vendor: Type.String(),
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
                'The public keys: the root (embed it in apps), the issuer keys (the store’s and each vendor’s) with their certificates, and the issuance log key.',
            },
          ),
          ...errorResponses(EVERY_OPERATION),
        },
      },
    },
    async () => {
      const { keys: storeKeys } = fastify;
      // The store's own issuer first, then each vendor's (lib/vendor-keys.ts), all certified
      // by the one root: an app trusting the root needs nothing more.
      const vendors = (await storeKeys.vendorKeys?.published()) ?? [];
      return {
        vendor: storeKeys.vendor,
        roots: [storeKeys.rootPublicJwk],
        issuers: [
          {
            vendor: storeKeys.vendor,
            key: { ...storeKeys.issuer.publicJwk, kid: storeKeys.issuer.kid },
            certificate: storeKeys.certificate,
            expiresAt: new Date(storeKeys.certificateExpiresAt * 1000).toISOString(),
          },
          ...vendors.map((issuer) => ({
            vendor: issuer.vendor,
            key: issuer.key,
            certificate: issuer.certificate,
            expiresAt: new Date(issuer.expiresAt * 1000).toISOString(),
          })),
        ],
        log: { origin: fastify.issuanceLog.origin, key: fastify.issuanceLog.verifierKey },
      };
    },
  );
}
