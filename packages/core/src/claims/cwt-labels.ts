/**
 * Integer labels of the CWT encoding (documented in packages/core/README.md, "CWT claim
 * table"). Registered claims keep their RFC 8392 §4 keys; everything licensekit adds sits
 * under one private-use claim (RFC 8392 §9.1: keys below −65536 are private use) whose
 * value is a map with small integer keys, so a typical license costs one or two bytes per
 * claim name instead of a JSON member name.
 */
export const CWT = {
  iss: 1,
  sub: 2,
  aud: 3,
  exp: 4,
  nbf: 5,
  iat: 6,
  cti: 7,
  /** RFC 8747 confirmation claim; used by issuer certificates for the certified key. */
  cnf: 8,
  /** The private claim holding the licensekit map of the document kind. */
  private: -65537,
} as const;

/** Keys of the license map under CWT.private. */
export const LICENSE_MAP = {
  plan: 1,
  access: 2,
  ent: 3,
  quota: 4,
  anchor: 5,
  rfa: 6,
  grace: 7,
  seq: 8,
  prev: 9,
  cnf: 10,
  chg: 11,
} as const;

/** Keys of the pending-change map (license `chg`). */
export const CHANGE_MAP = { kind: 1, at: 2, plan: 3, seats: 4 } as const;

/** Keys of the issuer-certificate map under CWT.private. */
export const CERTIFICATE_MAP = { products: 1 } as const;

/** Keys of the revocation-list map under CWT.private. */
export const REVOCATION_MAP = { seq: 1, next: 2, keys: 3, licenses: 4, tokens: 5 } as const;

/** Small codes for closed string sets, in the order of their arrays. */
export const ACCESS_CODES = ['full', 'trial'] as const;
export const PERIOD_CODES = ['day', 'week', 'month', 'year'] as const;
export const CHANGE_CODES = ['downgrade', 'cancel', 'seats'] as const;
