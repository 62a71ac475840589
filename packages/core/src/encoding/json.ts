import { MalformedError } from '../errors.js';

/**
 * A strict JSON parser (RFC 8259 with the I-JSON restrictions of RFC 7493) for token
 * headers and claims. JSON.parse is not enough: it silently keeps the last of duplicate
 * member names, so two parsers can read one token two ways (RFC 7515 §5.2 lets a JWS
 * verifier reject duplicates; we always do). Also rejected: integers outside the safe
 * range (they would be rounded), unpaired surrogates, nesting deeper than `maxDepth`,
 * anything after the value. No eval, no reviver, no prototype pollution: "__proto__" is
 * stored as an ordinary own property.
 */

export interface StrictJsonOptions {
  /** Deepest allowed nesting of objects and arrays (the top level counts as 1). */
  maxDepth?: number;
  /** Names the input in error messages ("JWT header", "claims"). */
  what?: string;
  /**
   * Refuse numbers written with a fraction or an exponent (not_canonical). Token headers
   * and claims hold integers only; CBOR has one spelling for each, JSON should too.
   */
  integersOnly?: boolean;
}

export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

const DEFAULT_MAX_DEPTH = 16;

// The state of one run lives in module variables, as in cbor-decode.ts: parsing is
// synchronous and never re-entered, and plain variables minify to one letter each where
// an object's fields would be spelt out at every use (the browser bundles carry this file).
let text = '';
let pos = 0;
let maxDepth = DEFAULT_MAX_DEPTH;
let what = 'JSON';
let integersOnly = false;

function fail(message: string): never {
  throw new MalformedError('bad_json', `${what}: ${message} at offset ${pos}`);
}

/** `fail` at another offset than the current one. */
function failAt(at: number, message: string): never {
  pos = at;
  return fail(message);
}

function skipWhitespace(): void {
  let c = text.charCodeAt(pos);
  while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++pos);
}

function parseValue(depth: number): JsonValue {
  const c = text.charCodeAt(pos);
  switch (c) {
    case 0x7b /* { */:
      return parseObject(depth);
    case 0x5b /* [ */:
      return parseArray(depth);
    case 0x22 /* " */:
      return parseString();
    case 0x74 /* t */:
      return parseLiteral('true', true);
    case 0x66 /* f */:
      return parseLiteral('false', false);
    case 0x6e /* n */:
      return parseLiteral('null', null);
    default:
      if (c === 0x2d || isDigit(c)) return parseNumber();
      return fail(Number.isNaN(c) ? 'unexpected end of input' : 'unexpected character');
  }
}

/** Steps into an object or array: checks the depth, passes the bracket and whitespace. */
function enter(depth: number): void {
  if (depth > maxDepth) {
    throw new MalformedError('too_deep', `${what}: nesting deeper than ${maxDepth}`);
  }
  pos++;
  skipWhitespace();
}

/** After a member or element: true at the closing bracket, on past a comma otherwise. */
function next(close: number, expected: string): boolean {
  skipWhitespace();
  const c = text.charCodeAt(pos);
  if (c === close) {
    pos++;
    return true;
  }
  if (c !== 0x2c) fail(expected);
  pos++;
  skipWhitespace();
  return false;
}

function parseObject(depth: number): { [key: string]: JsonValue } {
  enter(depth);
  const result: { [key: string]: JsonValue } = {};
  if (text.charCodeAt(pos) === 0x7d) {
    pos++;
    return result;
  }
  const seen = new Set<string>();
  do {
    if (text.charCodeAt(pos) !== 0x22) fail('expected a member name');
    const key = parseString();
    // A name already there leaves the size unchanged: one lookup per member, not two.
    const size = seen.size;
    if (seen.add(key).size === size) {
      throw new MalformedError('duplicate_key', `${what}: duplicate member ${JSON.stringify(key)}`);
    }
    skipWhitespace();
    if (text.charCodeAt(pos) !== 0x3a) fail('expected ":"');
    pos++;
    skipWhitespace();
    // defineProperty, not assignment: assigning "__proto__" would replace the prototype.
    Object.defineProperty(result, key, {
      value: parseValue(depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } while (!next(0x7d, 'expected "," or "}"'));
  return result;
}

function parseArray(depth: number): JsonValue[] {
  enter(depth);
  const result: JsonValue[] = [];
  if (text.charCodeAt(pos) === 0x5d) {
    pos++;
    return result;
  }
  do result.push(parseValue(depth + 1));
  while (!next(0x5d, 'expected "," or "]"'));
  return result;
}

function parseLiteral<T>(word: string, value: T): T {
  if (!text.startsWith(word, pos)) fail('unexpected character');
  pos += word.length;
  return value;
}

/** Passes one or more digits; `fail`s where there are none. */
function digits(at: number): number {
  if (!isDigit(text.charCodeAt(at))) failAt(at, 'invalid number');
  while (isDigit(text.charCodeAt(at))) at++;
  return at;
}

function parseNumber(): number {
  const start = pos;
  let at = start;
  if (text.charCodeAt(at) === 0x2d) at++;
  // No leading zeros: one zero, or digits that start at 1.
  at = text.charCodeAt(at) === 0x30 ? at + 1 : digits(at);
  let integer = true;
  if (text.charCodeAt(at) === 0x2e) {
    integer = false;
    at = digits(at + 1);
  }
  const e = text.charCodeAt(at);
  if (e === 0x65 || e === 0x45) {
    integer = false;
    at++;
    const sign = text.charCodeAt(at);
    if (sign === 0x2b || sign === 0x2d) at++;
    at = digits(at);
  }
  pos = at;
  const spelt = text.slice(start, at);
  if (!integer && integersOnly) {
    // 1.7e9 and 1700000000.0 are integers a CBOR token could not spell: one value, one form.
    throw new MalformedError(
      'not_canonical',
      `${what}: number ${spelt} is not written as an integer`,
    );
  }
  const value = Number(spelt);
  if (integer && !Number.isSafeInteger(value)) {
    throw new MalformedError(
      'unsafe_integer',
      `${what}: integer ${spelt} is outside the safe range`,
    );
  }
  if (!Number.isFinite(value)) fail('number out of range');
  return value;
}

function unpaired(at: number, message: string): never {
  pos = at;
  throw new MalformedError('bad_encoding', `${what}: ${message}`);
}

function parseString(): string {
  let at = pos + 1;
  let chunkStart = at;
  let result = '';
  for (;;) {
    const c = text.charCodeAt(at);
    if (c === 0x22) break;
    if (Number.isNaN(c)) failAt(at, 'unterminated string');
    if (c < 0x20) failAt(at, 'control character in string');
    if (c >= 0xd800 && c <= 0xdfff) {
      const low = text.charCodeAt(at + 1);
      if (c > 0xdbff || !(low >= 0xdc00 && low <= 0xdfff)) {
        unpaired(at, 'unpaired surrogate in string');
      }
      at += 2;
    } else if (c === 0x5c) {
      const escaped = parseEscape(at);
      result += text.slice(chunkStart, at) + escaped;
      // A \uXXXX\uXXXX surrogate pair is 12 characters, \uXXXX 6, others 2.
      at += escaped.length === 2 ? 12 : text.charCodeAt(at + 1) === 0x75 ? 6 : 2;
      chunkStart = at;
    } else {
      at++;
    }
  }
  pos = at + 1;
  return result + text.slice(chunkStart, at);
}

/** Decodes the escape starting at `at` (a backslash) to the text it stands for. */
function parseEscape(at: number): string {
  const code = text.charCodeAt(at + 1);
  const simple = SIMPLE_ESCAPES[code];
  if (simple !== undefined) return simple;
  if (code !== 0x75 /* u */) failAt(at, 'invalid escape');
  const unit = hex4(at + 2);
  if (unit >= 0xd800 && unit <= 0xdbff) {
    // A high surrogate must be followed by an escaped low surrogate (RFC 8259 §7).
    if (text.charCodeAt(at + 6) === 0x5c && text.charCodeAt(at + 7) === 0x75) {
      const low = hex4(at + 8);
      if (low >= 0xdc00 && low <= 0xdfff) return String.fromCharCode(unit, low);
    }
    unpaired(at, 'unpaired surrogate escape');
  }
  if (unit >= 0xdc00 && unit <= 0xdfff) unpaired(at, 'unpaired surrogate escape');
  return String.fromCharCode(unit);
}

function hex4(at: number): number {
  let value = 0;
  for (let i = 0; i < 4; i++) {
    const digit = hexValue(text.charCodeAt(at + i));
    if (digit < 0) failAt(at, 'invalid \\u escape');
    value = (value << 4) | digit;
  }
  return value;
}

const SIMPLE_ESCAPES: Record<number, string> = {
  34: '"',
  92: '\\',
  47: '/',
  98: '\b',
  102: '\f',
  110: '\n',
  114: '\r',
  116: '\t',
};

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * Parses `text` strictly. The caller has already applied the size cap.
 * @throws MalformedError with reason bad_json, duplicate_key, unsafe_integer, too_deep,
 *   trailing_bytes or bad_encoding
 */
export function parseStrictJson(input: string, options: StrictJsonOptions = {}): JsonValue {
  text = input;
  pos = 0;
  maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  what = options.what ?? 'JSON';
  integersOnly = options.integersOnly ?? false;
  try {
    skipWhitespace();
    const value = parseValue(1);
    skipWhitespace();
    if (pos !== text.length) {
      throw new MalformedError('trailing_bytes', `${what}: unexpected data after the JSON value`);
    }
    return value;
  } finally {
    // Keep no reference to the last input.
    text = '';
  }
}

/** True for a plain JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
