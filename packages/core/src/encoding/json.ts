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

class Parser {
  // Private (#) members, not TypeScript `private`: minifiers rename only these, so the
  // browser bundles do not carry every method name in full (≈ 80 B min+gzip).
  #pos = 0;
  readonly #text: string;
  readonly #maxDepth: number;
  readonly #what: string;
  readonly #integersOnly: boolean;
  constructor(text: string, maxDepth: number, what: string, integersOnly: boolean) {
    this.#text = text;
    this.#maxDepth = maxDepth;
    this.#what = what;
    this.#integersOnly = integersOnly;
  }

  parseDocument(): JsonValue {
    this.#skipWhitespace();
    const value = this.#parseValue(1);
    this.#skipWhitespace();
    if (this.#pos !== this.#text.length) {
      throw new MalformedError(
        'trailing_bytes',
        `${this.#what}: unexpected data after the JSON value`,
      );
    }
    return value;
  }

  #fail(message: string): never {
    throw new MalformedError('bad_json', `${this.#what}: ${message} at offset ${this.#pos}`);
  }

  #skipWhitespace(): void {
    const text = this.#text;
    let pos = this.#pos;
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      pos++;
    }
    this.#pos = pos;
  }

  #parseValue(depth: number): JsonValue {
    const c = this.#text.charCodeAt(this.#pos);
    switch (c) {
      case 0x7b /* { */:
        return this.#parseObject(depth);
      case 0x5b /* [ */:
        return this.#parseArray(depth);
      case 0x22 /* " */:
        return this.#parseString();
      case 0x74 /* t */:
        return this.#parseLiteral('true', true);
      case 0x66 /* f */:
        return this.#parseLiteral('false', false);
      case 0x6e /* n */:
        return this.#parseLiteral('null', null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.#parseNumber();
        return this.#fail(Number.isNaN(c) ? 'unexpected end of input' : 'unexpected character');
    }
  }

  #enter(depth: number): void {
    if (depth > this.#maxDepth) {
      throw new MalformedError('too_deep', `${this.#what}: nesting deeper than ${this.#maxDepth}`);
    }
  }

  #parseObject(depth: number): { [key: string]: JsonValue } {
    this.#enter(depth);
    this.#pos++;
    const result: { [key: string]: JsonValue } = {};
    const seen = new Set<string>();
    this.#skipWhitespace();
    if (this.#text.charCodeAt(this.#pos) === 0x7d) {
      this.#pos++;
      return result;
    }
    for (;;) {
      if (this.#text.charCodeAt(this.#pos) !== 0x22) this.#fail('expected a member name');
      const key = this.#parseString();
      if (seen.has(key)) {
        throw new MalformedError(
          'duplicate_key',
          `${this.#what}: duplicate member ${JSON.stringify(key)}`,
        );
      }
      seen.add(key);
      this.#skipWhitespace();
      if (this.#text.charCodeAt(this.#pos) !== 0x3a) this.#fail('expected ":"');
      this.#pos++;
      this.#skipWhitespace();
      const value = this.#parseValue(depth + 1);
      // defineProperty, not assignment: assigning "__proto__" would replace the prototype.
      Object.defineProperty(result, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.#skipWhitespace();
      const c = this.#text.charCodeAt(this.#pos);
      this.#pos++;
      if (c === 0x7d) return result;
      if (c !== 0x2c) {
        this.#pos--;
        this.#fail('expected "," or "}"');
      }
      this.#skipWhitespace();
    }
  }

  #parseArray(depth: number): JsonValue[] {
    this.#enter(depth);
    this.#pos++;
    const result: JsonValue[] = [];
    this.#skipWhitespace();
    if (this.#text.charCodeAt(this.#pos) === 0x5d) {
      this.#pos++;
      return result;
    }
    for (;;) {
      result.push(this.#parseValue(depth + 1));
      this.#skipWhitespace();
      const c = this.#text.charCodeAt(this.#pos);
      this.#pos++;
      if (c === 0x5d) return result;
      if (c !== 0x2c) {
        this.#pos--;
        this.#fail('expected "," or "]"');
      }
      this.#skipWhitespace();
    }
  }

  #parseLiteral<T>(word: string, value: T): T {
    if (!this.#text.startsWith(word, this.#pos)) this.#fail('unexpected character');
    this.#pos += word.length;
    return value;
  }

  #parseNumber(): number {
    const text = this.#text;
    const start = this.#pos;
    let pos = start;
    if (text.charCodeAt(pos) === 0x2d) pos++;
    const firstDigit = text.charCodeAt(pos);
    if (firstDigit === 0x30) {
      pos++;
    } else if (firstDigit >= 0x31 && firstDigit <= 0x39) {
      while (isDigit(text.charCodeAt(pos))) pos++;
    } else {
      this.#pos = pos;
      this.#fail('invalid number');
    }
    let integer = true;
    if (text.charCodeAt(pos) === 0x2e) {
      integer = false;
      pos++;
      if (!isDigit(text.charCodeAt(pos))) {
        this.#pos = pos;
        this.#fail('invalid number');
      }
      while (isDigit(text.charCodeAt(pos))) pos++;
    }
    const e = text.charCodeAt(pos);
    if (e === 0x65 || e === 0x45) {
      integer = false;
      pos++;
      const sign = text.charCodeAt(pos);
      if (sign === 0x2b || sign === 0x2d) pos++;
      if (!isDigit(text.charCodeAt(pos))) {
        this.#pos = pos;
        this.#fail('invalid number');
      }
      while (isDigit(text.charCodeAt(pos))) pos++;
    }
    this.#pos = pos;
    if (!integer && this.#integersOnly) {
      // 1.7e9 and 1700000000.0 are integers a CBOR token could not spell: one value, one form.
      throw new MalformedError(
        'not_canonical',
        `${this.#what}: number ${text.slice(start, pos)} is not written as an integer`,
      );
    }
    const value = Number(text.slice(start, pos));
    if (integer && !Number.isSafeInteger(value)) {
      throw new MalformedError(
        'unsafe_integer',
        `${this.#what}: integer ${text.slice(start, pos)} is outside the safe range`,
      );
    }
    if (!Number.isFinite(value)) this.#fail('number out of range');
    return value;
  }

  #parseString(): string {
    const text = this.#text;
    let pos = this.#pos + 1;
    let chunkStart = pos;
    let result = '';
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 0x22) break;
      if (Number.isNaN(c)) {
        this.#pos = pos;
        this.#fail('unterminated string');
      }
      if (c < 0x20) {
        this.#pos = pos;
        this.#fail('control character in string');
      }
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = text.charCodeAt(pos + 1);
        if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) {
          this.#pos = pos;
          throw new MalformedError('bad_encoding', `${this.#what}: unpaired surrogate in string`);
        }
        pos += 2;
        continue;
      }
      if (c === 0x5c) {
        const escaped = this.#parseEscape(pos);
        result += text.slice(chunkStart, pos) + escaped;
        // A \uXXXX\uXXXX surrogate pair is 12 characters, \uXXXX 6, others 2.
        pos += escaped.length === 2 ? 12 : text.charCodeAt(pos + 1) === 0x75 ? 6 : 2;
        chunkStart = pos;
        continue;
      }
      pos++;
    }
    result += text.slice(chunkStart, pos);
    this.#pos = pos + 1;
    return result;
  }

  /** Decodes the escape starting at `pos` (a backslash) to the text it stands for. */
  #parseEscape(pos: number): string {
    const code = this.#text.charCodeAt(pos + 1);
    const simple = SIMPLE_ESCAPES[code];
    if (simple !== undefined) return simple;
    if (code !== 0x75 /* u */) {
      this.#pos = pos;
      this.#fail('invalid escape');
    }
    const unit = this.#hex4(pos + 2);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      // A high surrogate must be followed by an escaped low surrogate (RFC 8259 §7).
      if (this.#text.charCodeAt(pos + 6) === 0x5c && this.#text.charCodeAt(pos + 7) === 0x75) {
        const low = this.#hex4(pos + 8);
        if (low >= 0xdc00 && low <= 0xdfff) return String.fromCharCode(unit, low);
      }
      this.#pos = pos;
      throw new MalformedError('bad_encoding', `${this.#what}: unpaired surrogate escape`);
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) {
      this.#pos = pos;
      throw new MalformedError('bad_encoding', `${this.#what}: unpaired surrogate escape`);
    }
    return String.fromCharCode(unit);
  }

  #hex4(pos: number): number {
    let value = 0;
    for (let i = 0; i < 4; i++) {
      const digit = hexValue(this.#text.charCodeAt(pos + i));
      if (digit < 0) {
        this.#pos = pos;
        this.#fail('invalid \\u escape');
      }
      value = (value << 4) | digit;
    }
    return value;
  }
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
export function parseStrictJson(text: string, options: StrictJsonOptions = {}): JsonValue {
  return new Parser(
    text,
    options.maxDepth ?? DEFAULT_MAX_DEPTH,
    options.what ?? 'JSON',
    options.integersOnly ?? false,
  ).parseDocument();
}

/** True for a plain JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
