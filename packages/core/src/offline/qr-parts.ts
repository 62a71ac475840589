import { MalformedError } from '../errors.js';

/**
 * A text too long for one QR code travels as a numbered sequence: `LK1/<i>/<n>/<chunk>`
 * (i from 1). Parts may be scanned in any order; the whole text's own check (envelope.ts)
 * then tells whether they were joined right. The QR codes themselves are drawn by the app
 * or the store with a QR encoder; this module only cuts and joins.
 */

/**
 * Up to this many characters fit one QR code of version 40 at error correction M in byte
 * mode (2331 bytes, ISO/IEC 18004 table 7); a part keeps its header within it.
 */
export const QR_MAX_BYTES_LEVEL_M = 2331;
const MAX_PARTS = 99;

/**
 * The text itself when it fits one code of `maxLength` characters, else its numbered parts.
 * @example qrParts(request.text) // ['LK1-REQ.…'] for a request without usage
 */
export function qrParts(text: string, maxLength = QR_MAX_BYTES_LEVEL_M): string[] {
  if (text.length <= maxLength) return [text];
  const header = `LK1/${MAX_PARTS}/${MAX_PARTS}/`.length;
  const size = maxLength - header;
  const count = Math.ceil(text.length / size);
  if (count > MAX_PARTS)
    throw new MalformedError('too_large', `needs more than ${MAX_PARTS} QR codes`);
  return Array.from(
    { length: count },
    (_, i) => `LK1/${i + 1}/${count}/${text.slice(i * size, (i + 1) * size)}`,
  );
}

/**
 * The text the parts were cut from, in whatever order they were scanned; a single text
 * that is not a part is returned as it is.
 * @throws MalformedError 'bad_structure' when parts are missing, repeated with other
 *   content, or from different sequences
 */
export function joinQrParts(parts: readonly string[]): string {
  if (parts.length === 1 && !parts[0]!.startsWith('LK1/')) return parts[0]!;
  const chunks = new Map<number, string>();
  let total: number | undefined;
  for (const part of parts) {
    const match = /^LK1\/(\d{1,2})\/(\d{1,2})\/(.*)$/s.exec(part.trim());
    if (!match)
      throw new MalformedError('bad_structure', 'a scanned code is not a licensekit part');
    const [index, count, chunk] = [Number(match[1]), Number(match[2]), match[3]!];
    if (total !== undefined && count !== total) {
      throw new MalformedError('bad_structure', 'the codes come from different sequences');
    }
    total = count;
    if (index < 1 || index > count)
      throw new MalformedError('bad_structure', `part ${index} of ${count}?`);
    const seen = chunks.get(index);
    if (seen !== undefined && seen !== chunk) {
      throw new MalformedError(
        'bad_structure',
        `part ${index} was scanned twice with different content`,
      );
    }
    chunks.set(index, chunk);
  }
  if (total === undefined || chunks.size !== total) {
    const missing = Array.from({ length: total ?? 0 }, (_, i) => i + 1).filter(
      (i) => !chunks.has(i),
    );
    throw new MalformedError(
      'bad_structure',
      `parts missing: ${missing.join(', ')} of ${total ?? '?'}`,
    );
  }
  return Array.from({ length: total }, (_, i) => chunks.get(i + 1)!).join('');
}
