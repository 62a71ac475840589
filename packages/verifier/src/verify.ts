import type { DecodedDocument, Ed25519Backend, LicenseClaims } from '@licensekit/core';
import {
  ConfigError,
  decodeDocument,
  defaultBackend,
  graceEndsAt,
  MalformedError,
  readLicenseClaims,
  timeStatus,
} from '@licensekit/core';
import { STATUS_MESSAGES } from './messages.js';
import { quotaStatuses } from './quota-view.js';
import type { VerifyResult, VerifyStatus } from './result.js';
import { isValidStatus, rejection, toDate } from './result.js';
import type { CertifiedKey, TrustOptions } from './trust.js';
import { certificateCovers, TrustStore } from './trust.js';

export interface VerifierOptions {
  /** Root keys (certify issuer keys) and/or issuer keys, as public JWKs. */
  trust: TrustOptions;
  /** The product id this app is; a license for another product is `wrong_product`. */
  product: string;
  /** Current time in epoch milliseconds (or a Date). Read once per verification. */
  clock?: () => number | Date;
  /** Seconds of allowed clock skew for `nbf`/`iat` and certificate windows. Default 60. */
  leeway?: number;
  /** Ed25519 implementation; by default the best one of the platform. */
  backend?: Ed25519Backend;
  /**
   * How many already verified tokens to remember (by their exact text), so that checking
   * the same token again skips decoding and the signature. Status, revocation and time are
   * still recomputed on every call. 0 disables the cache. Default 16.
   */
  cacheSize?: number;
}

export interface Verifier {
  /** Verifies a license token offline. Never throws for a bad token; returns a result. */
  verify(token: string | Uint8Array): Promise<VerifyResult>;
}

const DEFAULT_LEEWAY = 60;
const DEFAULT_CACHE_SIZE = 16;

/** What is kept of a token whose signature checked out, so a repeat check is cheap. */
interface Accepted {
  document: Pick<DecodedDocument, 'format' | 'kid' | 'bytes'>;
  claims: LicenseClaims;
  certified?: CertifiedKey;
}

/** A check that ended the pipeline early. */
class Verdict {
  constructor(
    readonly status: VerifyStatus,
    readonly reason: string,
    readonly message: string = STATUS_MESSAGES[status],
  ) {}
}

/**
 * Creates an offline verifier.
 *
 * @example
 * const verifier = createVerifier({ trust: { roots: [rootPublicJwk] }, product: 'photo-editor' });
 * const result = await verifier.verify(token);
 * if (result.valid) enable(result.entitlements);
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const anchors = TrustStore.parse(options.trust ?? {});
  if (typeof options.product !== 'string' || options.product.length === 0) {
    throw new ConfigError('product must be the product id of this app');
  }
  const leeway = options.leeway ?? DEFAULT_LEEWAY;
  const cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
  if (!Number.isSafeInteger(leeway) || leeway < 0)
    throw new ConfigError('leeway must be whole seconds ≥ 0');
  if (!Number.isSafeInteger(cacheSize) || cacheSize < 0)
    throw new ConfigError('cacheSize must be an integer ≥ 0');
  const readClock = options.clock ?? Date.now;
  let backend: Promise<Ed25519Backend> | undefined;
  let trust: Promise<TrustStore> | undefined;
  const cache = new Map<string, Accepted>();

  const getBackend = () => {
    backend ??= options.backend ? Promise.resolve(options.backend) : defaultBackend();
    return backend;
  };
  const getTrust = () => {
    trust ??= getBackend().then((b) => TrustStore.create(anchors, b));
    return trust;
  };

  function nowMs(): number {
    const value = readClock();
    const ms = value instanceof Date ? value.getTime() : value;
    if (!Number.isFinite(ms)) throw new ConfigError('clock returned an invalid time');
    return ms;
  }

  /** Decode, resolve the key, check the signature: everything that depends only on the bytes. */
  async function accept(token: string | Uint8Array, now: number): Promise<Accepted | Verdict> {
    const cached = typeof token === 'string' ? cache.get(token) : undefined;
    if (cached) {
      const stillTrusted = cached.certified
        ? certificateProblem(cached.certified, cached.claims, now)
        : undefined;
      return stillTrusted ?? cached;
    }
    let document: DecodedDocument;
    let claims: LicenseClaims;
    try {
      document = decodeDocument(token, 'license');
      claims = readLicenseClaims(document);
    } catch (error) {
      if (error instanceof MalformedError)
        return new Verdict('malformed', error.reason, error.message);
      throw error;
    }
    const store = await getTrust();
    let key = store.direct(document.kid);
    let certified: CertifiedKey | undefined;
    if (key === undefined) {
      if (document.certificate === undefined) return new Verdict('untrusted_key', 'unknown_kid');
      const outcome = await store.certify(document.certificate);
      if (typeof outcome === 'string') return new Verdict('untrusted_key', outcome);
      if (outcome.kid !== document.kid)
        return new Verdict('untrusted_key', 'certificate_key_mismatch');
      const problem = certificateProblem(outcome, claims, now);
      if (problem) return problem;
      certified = outcome;
      key = outcome.key;
    }
    const backendImpl = await getBackend();
    if (!(await backendImpl.verify(key, document.signingInput, document.signature))) {
      return new Verdict('invalid_signature', 'signature_mismatch');
    }
    const accepted: Accepted = { document, claims };
    if (certified) accepted.certified = certified;
    if (cacheSize > 0 && typeof token === 'string') {
      if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as string);
      cache.set(token, accepted);
    }
    return accepted;
  }

  function certificateProblem(
    certified: CertifiedKey,
    claims: LicenseClaims,
    now: number,
  ): Verdict | undefined {
    const certificate = certified.claims;
    if (now < certificate.nbf - leeway)
      return new Verdict('untrusted_key', 'certificate_not_yet_valid');
    if (now >= certificate.exp) return new Verdict('untrusted_key', 'certificate_expired');
    if (!certificateCovers(certificate, claims.aud))
      return new Verdict('untrusted_key', 'certificate_out_of_scope');
    return undefined;
  }

  async function verify(token: string | Uint8Array): Promise<VerifyResult> {
    const ms = nowMs();
    const checkedAt = new Date(ms);
    const now = Math.floor(ms / 1000);
    if (typeof token !== 'string' && !(token instanceof Uint8Array)) {
      return rejection(
        'malformed',
        'bad_structure',
        'A license token is a string or bytes.',
        checkedAt,
      );
    }
    const outcome = await accept(token, now);
    if (outcome instanceof Verdict)
      return rejection(outcome.status, outcome.reason, outcome.message, checkedAt);
    const { claims } = outcome;
    let verdict: Verdict | undefined;
    if (claims.aud !== options.product) verdict = new Verdict('wrong_product', 'audience_mismatch');
    const status = verdict?.status ?? timeStatus(claims, now, leeway);
    return describe(outcome, status, verdict?.reason ?? status, now, checkedAt);
  }

  return { verify };
}

/** The full result for a token whose signature is trusted. */
function describe(
  accepted: Accepted,
  status: VerifyStatus,
  reason: string,
  now: number,
  checkedAt: Date,
): VerifyResult {
  const { claims, document } = accepted;
  const result: VerifyResult = {
    valid: isValidStatus(status),
    status,
    reason,
    message: STATUS_MESSAGES[status],
    checkedAt,
    format: document.format,
    kid: document.kid,
    claims,
    license: claims.sub,
    product: claims.aud,
    plan: claims.plan,
    trial: claims.access === 'trial',
    expiresAt: toDate(claims.exp),
    graceEndsAt: toDate(graceEndsAt(claims)),
    refreshAfter: toDate(claims.rfa),
    entitlements: [...claims.ent],
    quotas: quotaStatuses(claims, now, () => 0),
    warnings: [],
  };
  if (claims.chg) result.pendingChange = { ...claims.chg, at: new Date(claims.chg.at * 1000) };
  return result;
}
