/**
 * Document kinds. Every signed document names its kind in its protected header (JWS `typ`,
 * RFC 7515 §4.1.9 and RFC 8725 §3.11; COSE `typ`, RFC 9596) so a certificate or a
 * revocation list can never be presented as a license, nor the reverse.
 */
export type DocumentKind = 'license' | 'certificate' | 'revocations';

export type TokenFormat = 'jwt' | 'cwt';

/** JWS `typ` values (media types without the "application/" prefix, per RFC 7515). */
export const JWT_TYPE: Readonly<Record<DocumentKind, string>> = {
  license: 'lic+jwt',
  certificate: 'lic-cert+jwt',
  revocations: 'lic-rl+jwt',
};

/**
 * COSE `typ` values as CoAP Content-Format numbers (RFC 9596 §2: `typ` is a uint or a media
 * type): 3 bytes in the header instead of the 20 to 25 of a media type. The numbers are in
 * the Experimental Use range of the CoAP Content-Formats registry (65000–65535, RFC 7252
 * §12.3), which IANA never assigns, so nothing is registered or squatted. Emitted since 0.2.
 */
export const COSE_CONTENT_FORMAT: Readonly<Record<DocumentKind, number>> = {
  license: 65_200,
  certificate: 65_201,
  revocations: 65_202,
};

/**
 * The media-type `typ` values that tokens issued before 0.2 carry. Still accepted, for one
 * release, so the tokens in the field keep working (packages/core/README.md, "Headers").
 */
export const COSE_TYPE: Readonly<Record<DocumentKind, string>> = {
  license: 'application/lic+cwt',
  certificate: 'application/lic-cert+cwt',
  revocations: 'application/lic-rl+cwt',
};

/**
 * Size caps, applied before any decoding (to the text form, or to the bytes of a binary
 * CWT). A license carries its issuer certificate, so its cap leaves room for one.
 */
export const MAX_DOCUMENT_LENGTH: Readonly<Record<DocumentKind, number>> = {
  license: 8 * 1024,
  certificate: 4 * 1024,
  revocations: 512 * 1024,
};

/** Nesting bound for headers and claims; the deepest legitimate structure is 4 levels. */
export const MAX_NESTING = 8;

/** The algorithm identifiers accepted; the first of each list is the one emitted. */
export const JWS_ALGORITHMS = ['EdDSA', 'Ed25519'] as const;
export const COSE_ALGORITHMS = [-8, -19] as const;

export function kindFromJwtType(typ: string): DocumentKind | undefined {
  // RFC 7515 §4.1.9: compare case-insensitively; "application/" may be present.
  const normalised = typ.toLowerCase().replace(/^application\//, '');
  for (const kind of Object.keys(JWT_TYPE) as DocumentKind[]) {
    if (JWT_TYPE[kind] === normalised) return kind;
  }
  return undefined;
}

/** The kind a COSE `typ` names: a content-format number, or a legacy media type. */
export function kindFromCoseType(typ: unknown): DocumentKind | undefined {
  const [names, value] =
    typeof typ === 'number'
      ? [COSE_CONTENT_FORMAT, typ]
      : [COSE_TYPE, typeof typ === 'string' ? typ.toLowerCase() : undefined];
  return (Object.keys(names) as DocumentKind[]).find((kind) => names[kind] === value);
}
