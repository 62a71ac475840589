import { sha256 } from '#ed25519-platform';
import { base64urlEncode } from '../encoding/base64url.js';
import { utf8Encode } from '../encoding/utf8.js';
import { MalformedError } from '../errors.js';

/**
 * The text form of the documents that travel between an offline machine and the store by
 * hand — a file, a paste, a QR code:
 *
 *     <kind>.<body>.<check>
 *
 * `kind` names the document (`LK1-REQ`, `LK1-RES`), `body` is base64url (dots allowed:
 * a compact JWS is three base64url parts), and `check` is the first 8 characters of the
 * base64url SHA-256 of `<kind>.<body>`. A mistyped, truncated or spliced copy fails the
 * check before anything is decoded, with a message saying so, rather than as a confusing
 * decoding or signature error. Whitespace (line breaks of a pasted copy) is ignored.
 */

/** A mistyped copy passes the 48-bit check with probability 2^-48. */
const CHECK_LENGTH = 8;
/** Larger than any request or response: a token is ≤ 8 KiB, a usage report small. */
export const MAX_OFFLINE_TEXT_LENGTH = 32 * 1024;

async function checkOf(signed: string): Promise<string> {
  return base64urlEncode(await sha256(utf8Encode(signed))).slice(0, CHECK_LENGTH);
}

/** Frames `body` (base64url, dots allowed) as `<kind>.<body>.<check>`. */
export async function sealText(kind: string, body: string): Promise<string> {
  const signed = `${kind}.${body}`;
  return `${signed}.${await checkOf(signed)}`;
}

/**
 * The body of a framed text of the given kind, once its check passes.
 * @throws MalformedError 'too_large', 'wrong_type' (another kind of document),
 *   'bad_checksum' (mistyped or truncated)
 */
export async function openText(text: unknown, kind: string, what: string): Promise<string> {
  if (typeof text !== 'string') throw new MalformedError('bad_structure', `${what}: not text`);
  if (text.length > MAX_OFFLINE_TEXT_LENGTH) {
    throw new MalformedError(
      'too_large',
      `${what}: longer than ${MAX_OFFLINE_TEXT_LENGTH} characters`,
    );
  }
  const compact = text.replace(/\s+/g, '');
  const first = compact.indexOf('.');
  const last = compact.lastIndexOf('.');
  if (first < 0) {
    throw new MalformedError('bad_structure', `${what}: not a licensekit ${kind} text`);
  }
  const found = compact.slice(0, first);
  if (found === kind && last === first) {
    throw new MalformedError(
      'bad_checksum',
      `${what}: the check is missing — the text was cut short`,
    );
  }
  if (found !== kind) {
    throw new MalformedError(
      'wrong_type',
      /^LK\d+-[A-Z]+$/.test(found)
        ? `${what}: this is a ${found} text, not a ${kind} text`
        : `${what}: not a licensekit ${kind} text`,
    );
  }
  if (!/^[A-Za-z0-9_.-]*$/.test(compact)) {
    throw new MalformedError(
      'bad_checksum',
      `${what}: holds characters a copy cannot have (mistyped?)`,
    );
  }
  if (compact.slice(last + 1) !== (await checkOf(compact.slice(0, last)))) {
    throw new MalformedError(
      'bad_checksum',
      `${what}: the check does not match — the text was mistyped, cut short or joined wrongly`,
    );
  }
  return compact.slice(first + 1, last);
}
