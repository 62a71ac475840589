/**
 * The text the store accepts, as pure functions (plugins/text-guard.ts applies them to
 * every request).
 *
 * Refused in every text field:
 * - C0 controls U+0000–U+001F other than TAB, LF and CR. NUL is the one that hurts:
 *   PostgreSQL text and jsonb cannot hold it ("invalid byte sequence for encoding UTF8:
 *   0x00"), so it became a 500 and a lost request; the others are never typed, only
 *   injected, and end up in logs, e-mails and pages.
 * - DEL (U+007F) and the C1 controls U+0080–U+009F: mojibake or terminal escapes, never
 *   text (U+0085 NEL is a line break only in documents nobody sends the store).
 * - Unpaired UTF-16 surrogates (JSON allows `"\ud800"`): UTF-8 cannot encode them, so the
 *   database would silently store U+FFFD instead of what was sent.
 *
 * TAB, LF and CR are refused too in single-line text (names, e-mails, ids, keys: nearly
 * every field) and allowed only where text has lines (`multi-line`, e.g. the admin's
 * product and plan descriptions) and TAB in header values (`header`), where HTTP allows it.
 * Everything else — emoji, CJK, accents, right-to-left scripts, format characters such as
 * ZWJ — is text and accepted.
 */

export type TextRule = 'single-line' | 'multi-line' | 'header';

export interface ForbiddenCharacter {
  /** UTF-16 index of the character in the text. */
  index: number;
  codePoint: number;
  kind: 'control' | 'surrogate';
}

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;

function allowedWhitespace(codePoint: number, rule: TextRule): boolean {
  if (rule === 'multi-line') return codePoint === TAB || codePoint === LF || codePoint === CR;
  if (rule === 'header') return codePoint === TAB;
  return false;
}

/** The first character of `text` the rule refuses, or undefined when it is all text. */
export function findForbiddenCharacter(
  text: string,
  rule: TextRule = 'single-line',
): ForbiddenCharacter | undefined {
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    if (unit < 0x20 || (unit >= 0x7f && unit <= 0x9f)) {
      if (!allowedWhitespace(unit, rule)) return { index, codePoint: unit, kind: 'control' };
    } else if (unit >= 0xd800 && unit <= 0xdfff) {
      const next = text.charCodeAt(index + 1);
      const paired = unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff;
      if (!paired) return { index, codePoint: unit, kind: 'surrogate' };
      index++; // the low half of a pair
    }
  }
  return undefined;
}

export function isAcceptableText(text: string, rule: TextRule = 'single-line'): boolean {
  return findForbiddenCharacter(text, rule) === undefined;
}

/** "U+0000 (a control character)": what was wrong, without the text around it. */
export function describeCharacter(character: ForbiddenCharacter): string {
  const code = `U+${character.codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
  return character.kind === 'surrogate'
    ? `${code} (an unpaired surrogate)`
    : `${code} (a control character)`;
}

/** A place in a parsed value where text was refused. */
export interface TextProblem {
  /** JSON Pointer (RFC 6901) of the string, or of the object whose member name it is. */
  pointer: string;
  /** True when the refused text is a member name, not a value. */
  memberName: boolean;
  character: ForbiddenCharacter;
}

/**
 * The first refused string in a parsed JSON or form value, in document order: values
 * and member names of objects, items of arrays, at any depth. `ruleAt` picks the rule
 * for a value by its pointer; member names are always single-line. Other types (numbers,
 * the Buffer or stream of an upload) are not text and are passed over. Iterative, so that
 * depth is the parser's limit, not the stack's.
 */
export function findInvalidText(
  value: unknown,
  ruleAt: (pointer: string) => TextRule = () => 'single-line',
): TextProblem | undefined {
  const pending: { value: unknown; pointer: string }[] = [{ value, pointer: '' }];
  while (pending.length > 0) {
    const { value: current, pointer } = pending.pop()!;
    if (typeof current === 'string') {
      const character = findForbiddenCharacter(current, ruleAt(pointer));
      if (character) return { pointer, memberName: false, character };
      continue;
    }
    const children: { value: unknown; pointer: string }[] = [];
    if (Array.isArray(current)) {
      current.forEach((item, index) => {
        children.push({ value: item, pointer: `${pointer}/${index}` });
      });
    } else if (isWalkable(current)) {
      for (const [name, member] of Object.entries(current)) {
        const character = findForbiddenCharacter(name);
        if (character) return { pointer, memberName: true, character };
        children.push({ value: member, pointer: `${pointer}/${escapePointerSegment(name)}` });
      }
    }
    // Last child on top: the walk visits members in the order they were sent.
    for (let i = children.length - 1; i >= 0; i--) pending.push(children[i]!);
  }
  return undefined;
}

/**
 * Objects whose members are request data: JSON.parse's, Fastify's params, and
 * fast-querystring's (query strings, forms), which sit on a bare prototype of their own.
 * Any object but binary data and streams, so that a parser with yet another kind of
 * object is still walked rather than waved through.
 */
function isWalkable(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return false;
  return typeof (value as { pipe?: unknown }).pipe !== 'function';
}

function escapePointerSegment(name: string): string {
  return name.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Longest member name a message repeats; a longer one is cut (names are client input). */
const SHOWN_SEGMENT = 64;

/**
 * A pointer fit for an error message: every segment is valid text (a refused member name
 * ends the pointer before it), long segments are cut.
 */
export function shownPointer(pointer: string): string {
  return pointer
    .split('/')
    .map((segment) => {
      // By code point, so that the cut never leaves half a surrogate pair.
      const characters = Array.from(segment);
      return characters.length > SHOWN_SEGMENT
        ? `${characters.slice(0, SHOWN_SEGMENT).join('')}…`
        : segment;
    })
    .join('/');
}
