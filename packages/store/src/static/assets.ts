import { createHash } from 'node:crypto';
import { ADMIN_CSS } from './admin-css.js';
import { SITE_CSS } from './site-css.js';
import { SITE_JS } from './site-js.js';

/** A static file of the pages, with a content hash for its URL and its ETag. */
export interface StaticAsset {
  /** The path pages link to: /static/<name>?v=<hash>, so a new version is a new URL. */
  href: string;
  path: string;
  contentType: string;
  body: Buffer;
  etag: string;
}

function asset(name: string, contentType: string, text: string): StaticAsset {
  const body = Buffer.from(text, 'utf8');
  const hash = createHash('sha256').update(body).digest('base64url').slice(0, 16);
  const path = `/static/${name}`;
  return { href: `${path}?v=${hash}`, path, contentType, body, etag: `"${hash}"` };
}

export const STYLESHEET = asset('site.css', 'text/css; charset=utf-8', SITE_CSS);
export const SCRIPT = asset('site.js', 'text/javascript; charset=utf-8', SITE_JS);
/** The admin screen's additions, linked by its pages only (views/admin-layout.ts). */
export const ADMIN_STYLESHEET = asset('admin.css', 'text/css; charset=utf-8', ADMIN_CSS);
export const STATIC_ASSETS: readonly StaticAsset[] = [STYLESHEET, SCRIPT, ADMIN_STYLESHEET];
