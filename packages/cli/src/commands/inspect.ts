import {
  base64urlDecode,
  base64urlEncode,
  CborTag,
  type CborValue,
  COSE_CERTIFICATE_HEADER,
  type DecodedDocument,
  decodeCoseSign1,
  decodeDocument,
  JWT_CERTIFICATE_HEADER,
  LICENSE_CLAIM_NAMES,
  parseStrictJson,
  readCertificateClaims,
  readLicenseClaims,
  readRevocationClaims,
  utf8Decode,
} from '@licensekit/core';
import { formatDuration } from '../lib/duration.js';
import { EXIT, UsageError } from '../lib/errors.js';
import { json, table } from '../lib/format.js';
import type { Io } from '../lib/io.js';
import { isoTime } from '../lib/time.js';
import { readToken } from '../lib/token-input.js';

export interface InspectFlags {
  file?: string;
  json?: boolean;
}

const WARNING =
  'UNVERIFIED: decoded without checking any signature; run licensekit verify before trusting it';

// COSE header labels (RFC 9052 §3.1, RFC 9596) and licensekit's private-use label for the
// embedded issuer certificate; COSE algorithm ids (RFC 9053, RFC 9864).
const COSE_LABELS: Readonly<Record<string, string>> = {
  '1': 'alg',
  '2': 'crit',
  '4': 'kid',
  '16': 'typ',
  [String(COSE_CERTIFICATE_HEADER)]: JWT_CERTIFICATE_HEADER,
};
const COSE_ALGORITHMS: Readonly<Record<string, string>> = { '-8': 'EdDSA', '-19': 'Ed25519' };

/** A CBOR value as JSON: byte strings as base64url, maps as objects, tags as { tag, value }. */
function plain(value: CborValue): unknown {
  if (value instanceof Uint8Array) return base64urlEncode(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Map) {
    return Object.fromEntries([...value].map(([key, item]) => [String(key), plain(item)]));
  }
  if (value instanceof CborTag) return { tag: value.tag, value: plain(value.value) };
  return value;
}

/** The protected header as a JSON object with names for the known labels. */
function headerOf(text: string, document: DecodedDocument): Record<string, unknown> {
  if (document.format === 'jwt') {
    const segment = text.slice(0, text.indexOf('.'));
    return parseStrictJson(
      utf8Decode(base64urlDecode(segment, 'JWT header'), 'JWT header'),
    ) as Record<string, unknown>;
  }
  const sign1 = decodeCoseSign1(document.bytes);
  const header: Record<string, unknown> = {};
  for (const [label, value] of sign1.protectedHeader) {
    const name = COSE_LABELS[String(label)] ?? String(label);
    header[name] =
      name === 'alg'
        ? `${COSE_ALGORITHMS[String(value)] ?? 'unknown'} (${String(value)})`
        : plain(value);
  }
  return header;
}

/** The claims of a document, validated as its kind; the raw payload when they are not valid. */
function claimsOf(document: DecodedDocument): {
  claims: Record<string, unknown>;
  problem?: string;
} {
  try {
    const claims =
      document.kind === 'license'
        ? readLicenseClaims(document)
        : document.kind === 'certificate'
          ? readCertificateClaims(document)
          : readRevocationClaims(document);
    if (document.kind !== 'license') return { claims: { ...claims } };
    // The model's order (DESIGN.md "Claims"), not the order the parser filled them in.
    const license = claims as unknown as Record<string, unknown>;
    return {
      claims: Object.fromEntries(
        LICENSE_CLAIM_NAMES.filter((name) => license[name] !== undefined).map((name) => [
          name,
          license[name],
        ]),
      ),
    };
  } catch (error) {
    const raw = document.payload instanceof Map ? plain(document.payload) : document.payload;
    return {
      claims: raw as Record<string, unknown>,
      problem: error instanceof Error ? error.message : String(error),
    };
  }
}

const TIME_CLAIMS = new Set(['iat', 'nbf', 'exp', 'rfa', 'anchor', 'next']);

function claimText(name: string, value: unknown): string {
  if (TIME_CLAIMS.has(name) && typeof value === 'number') return `${value} (${isoTime(value)})`;
  if (name === 'grace' && typeof value === 'number') return `${value} (${formatDuration(value)})`;
  if (
    name === 'chg' &&
    typeof value === 'object' &&
    value !== null &&
    'at' in value &&
    typeof value.at === 'number'
  ) {
    return `${JSON.stringify(value)} (at ${isoTime(value.at)})`;
  }
  if (name === 'quota' && typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, Record<string, unknown>>);
    if (entries.length === 0) return 'none';
    return entries
      .map(([quota, spec]) =>
        spec.unlimited === true
          ? `${quota}: unlimited`
          : `${quota}: ${String(spec.limit)}${spec.per ? ` per ${String(spec.per)}` : ' (whole term)'}`,
      )
      .join('; ');
  }
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.join(', ');
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

function describe(text: string, document: DecodedDocument) {
  const { claims, problem } = claimsOf(document);
  const header = headerOf(text, document);
  return {
    unverified: true as const,
    kind: document.kind,
    format: document.format,
    bytes: document.bytes.length,
    kid: document.kid,
    header,
    claims,
    ...(problem === undefined ? {} : { problem }),
  };
}

/**
 * `licensekit inspect (TOKEN | --file F)`: the decoded header and claims of a license,
 * an issuer certificate or a revocation list (and the certificate a license embeds),
 * marked UNVERIFIED: nothing is checked but the strict decoding.
 */
export async function inspect(
  token: string | undefined,
  flags: InspectFlags,
  io: Io,
): Promise<number> {
  const text = await readToken({ token, file: flags.file }, io);
  let document: DecodedDocument;
  try {
    document = decodeDocument(text);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new UsageError(
      `this is not a licensekit token, certificate or revocation list (${why}); check that it was copied whole`,
    );
  }
  const described = describe(text, document);
  let certificate: ReturnType<typeof describe> | { problem: string } | undefined;
  if (document.certificate !== undefined) {
    const certificateText =
      typeof document.certificate === 'string'
        ? document.certificate
        : base64urlEncode(document.certificate);
    try {
      certificate = describe(certificateText, decodeDocument(document.certificate, 'certificate'));
    } catch (error) {
      certificate = { problem: error instanceof Error ? error.message : String(error) };
    }
  }
  if (flags.json) {
    io.out(json(certificate === undefined ? described : { ...described, certificate }));
    return EXIT.ok;
  }
  io.out(`${WARNING}\n${render(described, '')}`);
  if (certificate !== undefined) {
    io.out(
      'problem' in certificate && !('claims' in certificate)
        ? `embedded certificate: cannot be decoded (${certificate.problem})\n`
        : `embedded issuer certificate (UNVERIFIED):\n${render(certificate as ReturnType<typeof describe>, '  ')}`,
    );
  }
  return EXIT.ok;
}

function render(described: ReturnType<typeof describe>, indent: string): string {
  const header = Object.entries(described.header).map(
    ([name, value]) =>
      [
        name,
        name === 'crt'
          ? `embedded issuer certificate (${typeof value === 'string' ? value.length : '?'} characters)`
          : claimText(name, value),
      ] as const,
  );
  const claims = Object.entries(described.claims).map(
    ([name, value]) => [name, claimText(name, value)] as const,
  );
  return (
    table(
      [
        [
          'document',
          `${described.kind === 'revocations' ? 'revocation list' : described.kind} (${described.format}, ${described.bytes} bytes)`,
        ],
        ['signed by', `kid ${described.kid} (not checked)`],
        ['problem', described.problem],
      ],
      indent,
    ) +
    `${indent}header:\n${table(header, `${indent}  `)}` +
    `${indent}claims:\n${table(claims, `${indent}  `)}`
  );
}
