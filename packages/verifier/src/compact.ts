/**
 * @licensekit/verifier/compact: the smallest verifier, for browser extensions and pages
 * that need to know whether a license is valid and what it grants. It reads CWT tokens
 * only (a JWT is `malformed`) and checks each token on its own: signature, certificate
 * chain, product, device binding and the time statuses. It keeps no state, so it has no
 * rollback or clock-tamper marks, offline quota, revocation lists, issuance log proofs
 * (`requireLogProof`) or refresh: those are in the main entry, `@licensekit/verifier`.
 */
import { ConfigError, decodeUnnamedCwtDocument, defaultVerifyBackend } from '@licensekit/core';
import { Acceptor } from './acceptor.js';
import { describe } from './describe.js';
import { checkBinding, timeVerdict } from './evaluate.js';
import type { VerifyResult } from './result.js';
import { rejection } from './result.js';
import { readClock, readSettings } from './settings.js';
import type { TrustOptions } from './trust.js';
import { TrustStore } from './trust.js';
import type { VerifierOptions } from './types.js';
import { Verdict } from './verdict.js';

export type CompactVerifierOptions = Omit<
  VerifierOptions,
  'state' | 'revocations' | 'clockTolerance' | 'requireLogProof' | 'trust'
> & { trust: Omit<TrustOptions, 'logKeys'> };

export interface CompactVerifier {
  /** Verifies a CWT license offline. Never throws for a bad token; returns a result. */
  verify(token: string | Uint8Array): Promise<VerifyResult>;
  readonly product: string;
}

/**
 * Creates a CWT-only, stateless verifier.
 *
 * @example
 * const verifier = createVerifier({ trust: { roots: [rootPublicJwk] }, product: 'photon' });
 * const { valid, entitlements } = await verifier.verify(token);
 */
export function createVerifier(options: CompactVerifierOptions): CompactVerifier {
  const settings = readSettings(options);
  // No log proofs here: refusing the option beats silently accepting tokens without one.
  if ((options as VerifierOptions).requireLogProof) {
    throw new ConfigError('requireLogProof needs @licensekit/verifier');
  }
  let acceptor: Promise<Acceptor> | undefined;
  const getAcceptor = () => {
    acceptor ??= (async () => {
      const backend = options.backend ?? (await defaultVerifyBackend());
      const trust = await TrustStore.create(settings.anchors, backend, decodeUnnamedCwtDocument);
      return new Acceptor(
        decodeUnnamedCwtDocument,
        trust,
        backend,
        settings.leeway,
        settings.cacheSize,
      );
    })();
    acceptor.catch(() => {
      acceptor = undefined;
    });
    return acceptor;
  };
  return {
    product: settings.product,
    async verify(token) {
      const { now, checkedAt } = readClock(settings);
      if (typeof token !== 'string' && !(token instanceof Uint8Array)) {
        return rejection(
          'malformed',
          'bad_structure',
          'A license token is a string or bytes.',
          checkedAt,
        );
      }
      const accepted = await (await getAcceptor()).accept(token, now);
      if (accepted instanceof Verdict)
        return rejection(accepted.status, accepted.reason, accepted.message, checkedAt);
      const { claims } = accepted;
      // No marks here, so no revocation, rollback or clock checks.
      const verdict =
        checkBinding(claims, settings.product, settings.device?.thumbprint) ??
        timeVerdict(claims, now, settings.leeway);
      // No ledger either: every quota shows zero used in its current period.
      return describe(accepted, verdict, {}, checkedAt, now);
    },
  };
}

export type { PendingChangeView, QuotaStatus, VerifyResult, VerifyStatus } from './result.js';
export { isValidStatus, STATUSES } from './result.js';
export type { TrustOptions } from './trust.js';
