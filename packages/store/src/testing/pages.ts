import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { TestStore } from './harness.js';

/**
 * Helpers for the page tests: a browser-like client over `inject` (a cookie jar, form
 * posts, every response kept so a test can search them all), reading forms and text out
 * of the HTML the store renders, and the accessibility and CSP checks every page must pass.
 */

export const LICENSE_KEY_PATTERN = /LK-[0-9A-Z]{5}(?:-[0-9A-Z]{1,5}){6}/;

export class PageClient {
  readonly cookies = new Map<string, string>();
  /** Every response this client got, in order (with the URL asked for). */
  readonly responses: { url: string; response: LightMyRequestResponse }[] = [];

  constructor(
    private readonly store: TestStore,
    private readonly options: { remoteAddress?: string; headers?: Record<string, string> } = {},
  ) {}

  private cookieHeader(): string | undefined {
    if (this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async request(options: InjectOptions & { url: string }): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = {
      accept: 'text/html',
      ...this.options.headers,
      ...(options.headers as Record<string, string> | undefined),
    };
    const cookie = this.cookieHeader();
    if (cookie && headers.cookie === undefined) headers.cookie = cookie;
    const request: InjectOptions = { ...options, headers };
    if (this.options.remoteAddress) request.remoteAddress = this.options.remoteAddress;
    const response = await this.store.app.inject(request);
    this.responses.push({ url: options.url, response });
    this.keep(response);
    return response;
  }

  get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.request({ method: 'GET', url, headers });
  }

  /** A form post, urlencoded like a browser sends it. */
  post(
    url: string,
    fields: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<LightMyRequestResponse> {
    return this.request({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      payload: new URLSearchParams(fields).toString(),
    });
  }

  /** GET a page, fill its form (by action) with `fields` over the hidden ones, and post it. */
  async submit(
    pageUrl: string,
    action: string,
    fields: Record<string, string>,
  ): Promise<LightMyRequestResponse> {
    const page = await this.get(pageUrl);
    return this.post(action, { ...formFields(page.body, action), ...fields });
  }

  private keep(response: LightMyRequestResponse): void {
    const header = response.headers['set-cookie'];
    const list = header === undefined ? [] : Array.isArray(header) ? header : [header];
    for (const cookie of list) {
      const [pair = '', ...attributes] = cookie.split(';');
      const index = pair.indexOf('=');
      const name = pair.slice(0, index).trim();
      const value = pair.slice(index + 1).trim();
      if (attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute)) || value === '') {
        this.cookies.delete(name);
      } else {
        this.cookies.set(name, value);
      }
    }
  }
}

/** The Set-Cookie lines of a response, by cookie name. */
export function setCookies(response: LightMyRequestResponse): Map<string, string> {
  const header = response.headers['set-cookie'];
  const list = header === undefined ? [] : Array.isArray(header) ? header : [header];
  return new Map(list.map((line) => [line.slice(0, line.indexOf('=')), line]));
}

export function unescapeHtml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#96;/g, '`')
    .replace(/&amp;/g, '&');
}

/** The attributes of one start tag's source (`<input type="x" checked>`). */
export function attributesOf(tag: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  const body = tag.replace(/^<[a-zA-Z][\w-]*/, '').replace(/\/?>$/, '');
  for (const match of body.matchAll(/([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
    attributes[match[1]!.toLowerCase()] = unescapeHtml(match[2] ?? match[3] ?? match[4] ?? '');
  }
  return attributes;
}

/** Every start tag of an element name in the page, with its attributes. */
export function tags(page: string, name: string): Record<string, string>[] {
  const pattern = new RegExp(`<${name}(?=[\\s>/])[^>]*>`, 'gi');
  return [...page.matchAll(pattern)].map((match) => attributesOf(match[0]));
}

/** The source of the first form whose action is `action`. */
export function formSource(page: string, action: string): string {
  for (const match of page.matchAll(/<form\b[^>]*>[\s\S]*?<\/form>/gi)) {
    const [start] = /<form\b[^>]*>/i.exec(match[0])!;
    if (attributesOf(start).action === action) return match[0];
  }
  throw new Error(`no form with action ${action}`);
}

/** The values a browser would send for a form's hidden inputs and checked radios. */
export function formFields(page: string, action: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const input of tags(formSource(page, action), 'input')) {
    if (!input.name) continue;
    const type = input.type ?? 'text';
    if ((type === 'radio' || type === 'checkbox') && !('checked' in input)) continue;
    if (type === 'hidden' || type === 'radio' || type === 'checkbox') {
      fields[input.name] = input.value ?? 'on';
    }
  }
  return fields;
}

/** The visible text of a page (tags removed, entities decoded, spaces collapsed). */
export function textOf(page: string): string {
  return unescapeHtml(
    page
      .replace(/<head>[\s\S]*?<\/head>/i, ' ')
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' '),
  ).trim();
}

/** The license key in a page, if any. */
export function licenseKeyIn(page: string): string | undefined {
  return LICENSE_KEY_PATTERN.exec(page)?.[0];
}

/**
 * Problems of a page against the pages' accessibility and CSP rules (no axe: the rules
 * the templates promise, checked on their output): lang="en"; one <h1>; one <main>, a
 * <header> and a <footer>; a skip link to #main; every form control (but hidden inputs and
 * buttons) has an id and a <label for> that id; ids are unique; links have an href; no
 * inline script, no style element or attribute, no event-handler attribute, no
 * javascript: URL (so `script-src 'self'; style-src 'self'` holds).
 */
export function accessibilityProblems(page: string): string[] {
  const problems: string[] = [];
  const html = tags(page, 'html');
  if (html.length !== 1 || html[0]!.lang !== 'en') problems.push('<html lang="en"> missing');
  const h1 = tags(page, 'h1').length;
  if (h1 !== 1) problems.push(`${h1} <h1> elements (want exactly one)`);
  for (const element of ['main', 'header', 'footer']) {
    const count = tags(page, element).length;
    if (element === 'main' ? count !== 1 : count < 1) problems.push(`${count} <${element}>`);
  }
  const main = tags(page, 'main')[0];
  if (main?.id !== 'main') problems.push('<main id="main"> missing');
  const firstLink = tags(page, 'a')[0];
  if (firstLink?.href !== '#main') problems.push('the first link is not a skip link');
  const labels = new Set(tags(page, 'label').map((label) => label.for));
  const ids = new Map<string, number>();
  for (const match of page.matchAll(/\sid="([^"]*)"/g)) {
    ids.set(match[1]!, (ids.get(match[1]!) ?? 0) + 1);
  }
  for (const [id, count] of ids) if (count > 1) problems.push(`duplicate id ${id}`);
  for (const name of ['input', 'select', 'textarea']) {
    for (const control of tags(page, name)) {
      if (name === 'input' && ['hidden', 'submit', 'button'].includes(control.type ?? '')) continue;
      if (!control.id || !labels.has(control.id)) {
        problems.push(`<${name} name="${control.name ?? ''}"> has no <label for>`);
      }
    }
  }
  for (const described of page.matchAll(/aria-describedby="([^"]*)"/g)) {
    for (const id of described[1]!.split(/\s+/)) {
      if (!ids.has(id)) problems.push(`aria-describedby names a missing id ${id}`);
    }
  }
  for (const link of tags(page, 'a')) {
    if (!link.href) problems.push('a link without href');
    else if (/^\s*javascript:/i.test(link.href)) problems.push('a javascript: link');
  }
  for (const script of tags(page, 'script')) {
    if (!script.src) problems.push('an inline <script>');
  }
  if (/<style[\s>]/i.test(page)) problems.push('a <style> element');
  for (const match of page.matchAll(/<[a-zA-Z][^>]*>/g)) {
    const attributes = attributesOf(match[0]);
    if ('style' in attributes) problems.push(`a style attribute: ${match[0]}`);
    for (const name of Object.keys(attributes)) {
      if (/^on[a-z]+$/.test(name)) problems.push(`an event-handler attribute: ${match[0]}`);
    }
  }
  for (const button of page.matchAll(/<button\b[^>]*>([\s\S]*?)<\/button>/g)) {
    if (textOf(button[1]!) === '') problems.push('a button without text');
  }
  return problems;
}
