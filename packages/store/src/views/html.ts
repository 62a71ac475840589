/**
 * HTML templates that escape by default. `html` is a tagged template: every interpolated
 * value is escaped for text and for double- or single-quoted attribute values, unless it is
 * already `SafeHtml` (the result of `html` itself or of `raw`). So a product name like
 * `<script>` always renders as text. Only quoted attribute values are escaped correctly:
 * the templates never interpolate into an unquoted attribute, a tag name, a URL scheme,
 * a `<script>` or a `style`.
 */

/** A fragment of markup that is safe to insert as is. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/**
 * What a template may interpolate: markup, text, numbers, lists of these, and nothing
 * (`false`, `null`, `undefined` render as nothing, so `${cond && html`…`}` works).
 */
export type HtmlValue =
  | SafeHtml
  | string
  | number
  | false
  | null
  | undefined
  | readonly HtmlValue[];

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Escapes text for an element's content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (character) => ESCAPES[character]!);
}

function render(value: HtmlValue): string {
  if (value === false || value === null || value === undefined) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** The markup of a template with every interpolated value escaped (unless SafeHtml). */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let index = 0; index < values.length; index++) {
    out += render(values[index] as HtmlValue) + (strings[index + 1] ?? '');
  }
  return new SafeHtml(out);
}

/** Marks trusted markup (written by the store, never from data) as safe. */
export function raw(trusted: string): SafeHtml {
  return new SafeHtml(trusted);
}

/**
 * Attributes from an object, each value escaped: `true` writes a boolean attribute,
 * `false`/`undefined`/`null` leaves it out. Names are the caller's literals.
 */
export function attrs(
  attributes: Record<string, string | number | boolean | null | undefined>,
): SafeHtml {
  let out = '';
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    out += value === true ? ` ${name}` : ` ${name}="${escapeHtml(String(value))}"`;
  }
  return new SafeHtml(out);
}
