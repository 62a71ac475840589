/**
 * Typed errors of licensekit. Every error carries a stable `code` from a closed union so
 * callers branch on codes, never on message text. Messages name the field at fault and never
 * contain key material or license keys.
 */

export type LicenseKitErrorCode =
  | 'ERR_MALFORMED'
  | 'ERR_CLAIM_INVALID'
  | 'ERR_KEY_INVALID'
  | 'ERR_UNSUPPORTED'
  | 'ERR_CONFIG'
  | 'ERR_STATE_LOCKED'
  | 'ERR_LOG_PROOF';

export class LicenseKitError extends Error {
  readonly code: LicenseKitErrorCode;
  constructor(code: LicenseKitErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Why a token or document failed the strict profile. Stable strings: they appear as the
 * `reason` of a `malformed` verification result and in the CLI's JSON output.
 */
export type MalformedReason =
  | 'too_large'
  | 'bad_encoding'
  | 'bad_base64url'
  | 'bad_json'
  | 'bad_cbor'
  | 'duplicate_key'
  | 'trailing_bytes'
  | 'too_deep'
  | 'too_long'
  | 'unsafe_integer'
  | 'not_canonical'
  | 'bad_structure'
  | 'unsupported_alg'
  | 'forbidden_header'
  | 'unknown_crit'
  | 'bad_kid'
  | 'wrong_type'
  | 'bad_claims'
  | 'bad_certificate'
  | 'bad_note'
  | 'bad_checkpoint'
  | 'bad_log_entry'
  | 'bad_proof'
  | 'bad_checksum'
  | 'bad_offline_document';

/** The input cannot be decoded or breaks the strict profile (DESIGN.md "Token formats"). */
export class MalformedError extends LicenseKitError {
  readonly reason: MalformedReason;
  constructor(reason: MalformedReason, message: string) {
    super('ERR_MALFORMED', message);
    this.reason = reason;
  }
}

/** A claim is missing, of the wrong type or out of range. `claim` names it (dotted path). */
export class ClaimError extends LicenseKitError {
  readonly claim: string;
  constructor(claim: string, message: string) {
    super('ERR_CLAIM_INVALID', `claim "${claim}": ${message}`);
    this.claim = claim;
  }
}

/** A key (JWK or raw) is not a usable Ed25519 key of the expected kind. */
export class KeyError extends LicenseKitError {
  constructor(message: string) {
    super('ERR_KEY_INVALID', message);
  }
}

/** The runtime lacks something required (e.g. no Ed25519 in WebCrypto and no fallback). */
export class UnsupportedError extends LicenseKitError {
  constructor(message: string) {
    super('ERR_UNSUPPORTED', message);
  }
}

/** The caller configured an API wrongly (programming error, not a bad token). */
export class ConfigError extends LicenseKitError {
  constructor(message: string) {
    super('ERR_CONFIG', message);
  }
}

/**
 * Why a well-formed issuance-log proof was refused (DESIGN.md "Issuance log"). Stable strings,
 * like MalformedReason; a proof that cannot be parsed is a MalformedError instead.
 */
export type LogProofReason =
  | 'no_trusted_signature'
  | 'invalid_signature'
  | 'wrong_origin'
  | 'not_included'
  | 'inconsistent';

/** A signed checkpoint or a Merkle proof does not establish what it claims. */
export class LogProofError extends LicenseKitError {
  readonly reason: LogProofReason;
  constructor(reason: LogProofReason, message: string) {
    super('ERR_LOG_PROOF', message);
    this.reason = reason;
  }
}
