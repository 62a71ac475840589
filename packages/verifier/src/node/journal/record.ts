/**
 * How one record of the state journal sits in the file: one line of JSON,
 *
 *     {"c":"<CRC-32 of PAYLOAD, 8 lowercase hex digits>","r":PAYLOAD}\n
 *
 * so the file stays JSON Lines a person can read (and `jq` can filter), while a record
 * torn by a crash, or damaged bytes, fail the checksum or lack the final newline. The
 * checksum covers PAYLOAD's bytes exactly as written; JSON.stringify never writes a raw
 * newline, so a newline only ever ends a record.
 */
import { crc32 } from './crc32.js';

const PREFIX = Buffer.from('{"c":"');
const MIDDLE = Buffer.from('","r":');
/** Where PAYLOAD starts: the prefix, 8 hex digits, the middle. */
const PAYLOAD_START = PREFIX.length + 8 + MIDDLE.length;
const NEWLINE = 0x0a;
const CLOSE = 0x7d; // '}'

export function encodeRecord(payload: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(payload));
  const line = Buffer.allocUnsafe(PAYLOAD_START + body.length + 2);
  PREFIX.copy(line, 0);
  line.write(crc32(body).toString(16).padStart(8, '0'), PREFIX.length, 'latin1');
  MIDDLE.copy(line, PREFIX.length + 8);
  body.copy(line, PAYLOAD_START);
  line[line.length - 2] = CLOSE;
  line[line.length - 1] = NEWLINE;
  return line;
}

/** Whether the bytes start like a journal (and not like a state file of the old format). */
export function looksLikeJournal(bytes: Uint8Array): boolean {
  if (bytes.length < PREFIX.length) return false;
  for (let i = 0; i < PREFIX.length; i++) if (bytes[i] !== PREFIX[i]) return false;
  return true;
}

export interface ScannedLine {
  /** Byte offsets of the line in the scanned buffer; `end` is past its newline. */
  start: number;
  end: number;
  /** Whether the line ends with a newline (a record being appended may not, yet). */
  complete: boolean;
  /** The parsed PAYLOAD of an intact record; undefined when the line is not one. */
  payload: unknown;
}

/** The lines of `bytes` from `from` on, each with its payload when it is an intact record. */
export function* scanLines(bytes: Buffer, from = 0): Generator<ScannedLine> {
  let start = from;
  while (start < bytes.length) {
    const newline = bytes.indexOf(NEWLINE, start);
    const complete = newline !== -1;
    const end = complete ? newline + 1 : bytes.length;
    yield {
      start,
      end,
      complete,
      payload: complete ? decodeLine(bytes, start, newline) : undefined,
    };
    start = end;
  }
}

/** The payload of the record in bytes [start, newline), or undefined when it is not intact. */
function decodeLine(bytes: Buffer, start: number, newline: number): unknown {
  const payloadStart = start + PAYLOAD_START;
  const payloadEnd = newline - 1;
  if (payloadEnd <= payloadStart || bytes[payloadEnd] !== CLOSE) return undefined;
  for (let i = 0; i < PREFIX.length; i++) if (bytes[start + i] !== PREFIX[i]) return undefined;
  for (let i = 0; i < MIDDLE.length; i++)
    if (bytes[start + PREFIX.length + 8 + i] !== MIDDLE[i]) return undefined;
  const written = bytes.toString('latin1', start + PREFIX.length, start + PREFIX.length + 8);
  if (!/^[0-9a-f]{8}$/.test(written)) return undefined;
  if (Number.parseInt(written, 16) !== crc32(bytes, payloadStart, payloadEnd)) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8', payloadStart, payloadEnd));
  } catch {
    return undefined;
  }
}
