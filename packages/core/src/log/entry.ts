/**
 * What a leaf of the issuance log holds: one signed document, exactly as it was issued,
 * behind a one-byte tag naming its kind.
 *
 *     entry = tag ‖ document
 *     tag   = 0x01 license token | 0x02 issuer certificate | 0x03 revocation list
 *
 * `document` is the token's own bytes (`DecodedDocument.bytes`): the ASCII of a JWT's
 * compact form, the raw COSE_Sign1 bytes of a CWT (never its base64url text), the bytes
 * `tokenHash` hashes too. The strict profile allows one encoding per token, so one issued
 * document has one entry. The tag keeps a certificate's leaf from ever being shown as a
 * license's (each document also names its kind in its header; the tag lets an auditor sort
 * entries without decoding them).
 */

import type { DocumentKind } from '../codec/kinds.js';
import { MAX_DOCUMENT_LENGTH } from '../codec/kinds.js';
import { ConfigError, MalformedError } from '../errors.js';
import { leafHash } from './merkle.js';

/** The kind tag of a log entry. */
export const LOG_ENTRY_TAG: Readonly<Record<DocumentKind, number>> = Object.freeze({
  license: 0x01,
  certificate: 0x02,
  revocations: 0x03,
});

function kindOfTag(tag: number | undefined): DocumentKind | undefined {
  return (Object.keys(LOG_ENTRY_TAG) as DocumentKind[]).find((kind) => LOG_ENTRY_TAG[kind] === tag);
}

/**
 * The log entry of an issued document.
 * @throws ConfigError for an unknown kind, or a document that is empty or over its size cap
 * @example
 * const entry = logEntry('license', decodeDocument(token).bytes);
 */
export function logEntry(kind: DocumentKind, document: Uint8Array): Uint8Array {
  const tag = LOG_ENTRY_TAG[kind];
  if (tag === undefined) throw new ConfigError(`no log entry tag for kind ${String(kind)}`);
  if (!(document instanceof Uint8Array) || document.length === 0) {
    throw new ConfigError('a logged document is its non-empty bytes (DecodedDocument.bytes)');
  }
  if (document.length > MAX_DOCUMENT_LENGTH[kind]) {
    throw new ConfigError(
      `the ${kind} is over the ${MAX_DOCUMENT_LENGTH[kind]} bytes verifiers accept`,
    );
  }
  const entry = new Uint8Array(1 + document.length);
  entry[0] = tag;
  entry.set(document, 1);
  return entry;
}

/** The leaf hash of an issued document: RFC 9162 leaf hash of its log entry. */
export async function logEntryHash(kind: DocumentKind, document: Uint8Array): Promise<Uint8Array> {
  return leafHash(logEntry(kind, document));
}

/** A log entry read back: what an auditor gets from an export. */
export interface LogEntry {
  readonly kind: DocumentKind;
  /** The document's bytes, a view into the entry. */
  readonly document: Uint8Array;
}

/**
 * Splits a log entry into its kind and document (the document itself is not decoded).
 * @throws MalformedError('bad_log_entry')
 */
export function parseLogEntry(entry: Uint8Array): LogEntry {
  const kind = entry instanceof Uint8Array ? kindOfTag(entry[0]) : undefined;
  if (kind === undefined) {
    throw new MalformedError('bad_log_entry', 'log entry: not bytes with a known kind tag');
  }
  const document = entry.subarray(1);
  if (document.length === 0 || document.length > MAX_DOCUMENT_LENGTH[kind]) {
    throw new MalformedError('bad_log_entry', `log entry: the ${kind} is empty or too large`);
  }
  return { kind, document };
}
