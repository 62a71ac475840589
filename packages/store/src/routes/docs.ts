import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../views/html.js';

/** Where the reference lives; the plugin serves its files under `${DOCS}/static/`. */
const DOCS = '/docs';

/**
 * Narrow screens: Swagger UI's own stylesheet sets fixed paddings and lets long paths,
 * tables and code push the page wider than a phone (390 px). These rules let them wrap or
 * scroll inside their own box, so the page itself never scrolls sideways.
 */
const DOCS_CSS = `
body { margin: 0; }
.docs-header { display: flex; flex-wrap: wrap; gap: 0.5rem 1.5rem; align-items: center; padding: 0.75rem 1.25rem; border-bottom: 1px solid #c5ccd6; background: #f4f6f9; font-family: system-ui, sans-serif; }
.docs-header a { color: #0b57d0; }
.docs-header .brand { font-weight: 700; color: #1b1f24; text-decoration: none; }
.swagger-ui { overflow-wrap: anywhere; }
.swagger-ui .wrapper { padding: 0 1rem; }
.swagger-ui pre, .swagger-ui .highlight-code, .swagger-ui .model-box, .swagger-ui .table-container, .swagger-ui .responses-inner { max-width: 100%; overflow-x: auto; }
@media (max-width: 40rem) {
  .swagger-ui .wrapper { padding: 0 0.5rem; }
  .swagger-ui .info { margin: 1rem 0; }
  .swagger-ui .opblock .opblock-summary { flex-wrap: wrap; }
  .swagger-ui .opblock .opblock-summary-path, .swagger-ui .opblock .opblock-summary-path__deprecated { max-width: 100%; word-break: break-all; }
  .swagger-ui .opblock .opblock-summary-description { flex-basis: 100%; }
  .swagger-ui .opblock-body, .swagger-ui .opblock-section-header, .swagger-ui .responses-inner { padding-left: 0.5rem; padding-right: 0.5rem; }
  .swagger-ui table { display: block; overflow-x: auto; }
  .swagger-ui .parameters-col_description { width: auto; }
  .swagger-ui .scheme-container { padding: 0.75rem 0; }
  .swagger-ui .model-box { display: block; }
}
`;

/**
 * The page Swagger UI renders into. The plugin's own index.html has no viewport (phones
 * would get a 980 px desktop page) and no language, so this one replaces it; the scripts
 * and stylesheets are the plugin's files, same-origin, with no inline script or style, so
 * the store's CSP (script-src 'self', style-src 'self') holds here too.
 */
function indexPage(vendor: string): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>API reference – ${vendor} store</title>
<link rel="stylesheet" href="${DOCS}/static/swagger-ui.css">
<link rel="stylesheet" href="${DOCS}/static/theme/store.css">
</head>
<body>
<header class="docs-header">
<a class="brand" href="/">${vendor} store</a>
<span>API reference · <a href="${DOCS}/json">OpenAPI document (JSON)</a></span>
</header>
<main id="swagger-ui"></main>
<script src="${DOCS}/static/swagger-ui-bundle.js"></script>
<script src="${DOCS}/static/swagger-ui-standalone-preset.js"></script>
<script src="${DOCS}/static/swagger-initializer.js"></script>
</body>
</html>
`.value;
}

/** A browser asks for a page (as the not-found handler judges it); tools get the JSON. */
function wantsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  return typeof accept === 'string' && accept.includes('text/html');
}

/**
 * The API reference: Swagger UI at /docs for browsers, the OpenAPI document at /docs/json
 * (and /docs/yaml). GET /docs answers the JSON document to every client that does not ask
 * for HTML, as it did before the UI existed: tools, scripts and the store's own tests read
 * it there.
 */
export default async function docs(fastify: FastifyInstance) {
  const page = indexPage(fastify.config.vendor);
  const index = new Set([DOCS, `${DOCS}/`]);
  const negotiate = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!index.has(request.routeOptions.url ?? '')) return;
    reply.header('vary', 'accept').header('cache-control', 'no-cache');
    if (wantsHtml(request)) return reply.type('text/html; charset=utf-8').send(page);
    return reply.send(fastify.swagger());
  };
  await fastify.register(swaggerUi, {
    routePrefix: DOCS,
    // No "Explore" bar (loading another document) and no validator badge (a third-party
    // image): the reference of this store only.
    uiConfig: {
      layout: 'BaseLayout',
      deepLinking: true,
      docExpansion: 'list',
      defaultModelsExpandDepth: 0,
      displayRequestDuration: true,
    },
    validatorUrl: false,
    theme: { css: [{ filename: 'store.css', content: DOCS_CSS }] },
    uiHooks: { onRequest: negotiate },
  });
}
