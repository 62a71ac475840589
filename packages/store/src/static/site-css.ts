/**
 * The pages' one stylesheet, served as /static/site.css (the CSP allows styles from the
 * store's own origin only: no inline <style>, no style attributes). Kept in a module, not a
 * .css file, so the bundled store (dist/index.js) carries it with no file to copy.
 * System fonts, no images; focus is always visible; colours pass WCAG AA contrast.
 */
export const SITE_CSS = `
:root {
  color-scheme: light;
  --text: #1b1f24;
  --muted: #4d5560;
  --accent: #0b57d0;
  --accent-dark: #083f98;
  --border: #c5ccd6;
  --surface: #f4f6f9;
  --error: #b3261e;
  --warning-bg: #fff4d6;
  --warning-border: #8a5a00;
  --ok-bg: #e6f4ea;
  --ok-border: #1e6b34;
  --focus: #ffbf47;
}
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; line-height: 1.5; color: var(--text); background: #fff; -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0; overflow-wrap: break-word; }
a { color: var(--accent); text-underline-offset: 0.15em; }
a:hover { color: var(--accent-dark); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible, [tabindex]:focus-visible {
  outline: 3px solid var(--focus);
  outline-offset: 2px;
  box-shadow: 0 0 0 5px var(--text);
}
.skip-link { position: absolute; left: 0.5rem; top: -3rem; padding: 0.5rem 1rem; background: var(--text); color: #fff; z-index: 10; }
.skip-link:focus { top: 0.5rem; color: #fff; }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.site-header { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem 2rem; padding: 0.75rem 1.5rem; border-bottom: 1px solid var(--border); background: var(--surface); }
.site-header .brand { font-weight: 700; font-size: 1.125rem; color: var(--text); text-decoration: none; }
.site-header nav ul { display: flex; gap: 1.25rem; list-style: none; margin: 0; padding: 0; }
.site-header form { margin: 0 0 0 auto; }
.test-banner { margin: 0; padding: 0.5rem 1.5rem; background: var(--warning-bg); border-bottom: 2px solid var(--warning-border); font-weight: 600; }
main { display: block; max-width: 60rem; margin: 0 auto; padding: 1.5rem; }
main:focus { outline: none; }
.site-footer { max-width: 60rem; margin: 2rem auto 0; padding: 1rem 1.5rem 2rem; border-top: 1px solid var(--border); color: var(--muted); font-size: 0.9rem; }
h1 { font-size: 2rem; line-height: 1.2; margin: 0.5rem 0 1rem; }
h2 { font-size: 1.375rem; margin: 2rem 0 0.75rem; }
h3 { font-size: 1.125rem; margin: 1rem 0 0.5rem; }
.lead { font-size: 1.125rem; color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); gap: 1rem; list-style: none; padding: 0; }
.card { border: 1px solid var(--border); border-radius: 0.5rem; padding: 1rem 1.25rem; background: #fff; }
.card h2, .card h3 { margin-top: 0; }
.price { font-size: 1.25rem; font-weight: 700; margin: 0.25rem 0; }
.plan-option { display: grid; grid-template-columns: auto 1fr; gap: 0 0.75rem; border: 1px solid var(--border); border-radius: 0.5rem; padding: 1rem; margin: 0 0 0.75rem; }
.plan-option input { margin-top: 0.4rem; width: 1.25rem; height: 1.25rem; }
.plan-option label { font-weight: 700; }
.plan-option .details { grid-column: 2; }
.plan-option ul { margin: 0.25rem 0; padding-left: 1.25rem; }
fieldset { border: 0; padding: 0; margin: 0 0 1.25rem; min-width: 0; }
legend { font-weight: 700; font-size: 1.125rem; margin-bottom: 0.5rem; padding: 0; }
.field { margin: 0 0 1.25rem; }
.field > label { display: block; font-weight: 600; margin-bottom: 0.25rem; }
.hint { display: block; color: var(--muted); margin: 0 0 0.25rem; }
input[type="text"], input[type="email"], input[type="number"], input[type="password"], select {
  font: inherit; padding: 0.5rem 0.625rem; border: 2px solid var(--text); border-radius: 0.25rem; width: 100%; max-width: 32rem; background: #fff; color: var(--text);
}
input[type="number"] { max-width: 8rem; }
input[aria-invalid="true"], select[aria-invalid="true"] { border-color: var(--error); }
.checkbox { display: flex; gap: 0.5rem; align-items: flex-start; }
.checkbox input { width: 1.25rem; height: 1.25rem; margin-top: 0.2rem; }
button, .button { font: inherit; font-weight: 600; display: inline-block; padding: 0.55rem 1.1rem; border: 2px solid var(--accent); border-radius: 0.25rem; background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; }
button:hover, .button:hover { background: var(--accent-dark); border-color: var(--accent-dark); color: #fff; }
button.secondary, .button.secondary { background: #fff; color: var(--accent); }
button.secondary:hover, .button.secondary:hover { background: var(--surface); color: var(--accent-dark); }
button.danger { background: var(--error); border-color: var(--error); }
button.link { background: none; border: 0; padding: 0; color: var(--accent); text-decoration: underline; font-weight: 400; }
button[disabled] { opacity: 0.6; cursor: progress; }
.actions { display: flex; flex-wrap: wrap; gap: 0.75rem; align-items: center; margin: 1rem 0; }
.field-error { color: var(--error); font-weight: 600; margin: 0 0 0.25rem; }
.error-summary { border: 4px solid var(--error); padding: 1rem 1.25rem; margin: 0 0 1.5rem; }
.error-summary h2 { margin-top: 0; }
.error-summary a { color: var(--error); font-weight: 600; }
.notice { border-left: 6px solid var(--ok-border); background: var(--ok-bg); padding: 0.75rem 1rem; margin: 0 0 1.25rem; }
.warning { border-left: 6px solid var(--warning-border); background: var(--warning-bg); padding: 0.75rem 1rem; margin: 1rem 0; }
.license-key { display: inline-block; font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 1.25rem; padding: 0.5rem 0.75rem; border: 2px dashed var(--text); background: var(--surface); word-break: break-all; user-select: all; }
/* Ids, thumbprints and keys have no spaces: they may break anywhere rather than widen the page. */
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; overflow-wrap: anywhere; }
dl.summary { display: grid; grid-template-columns: minmax(9rem, max-content) minmax(0, 1fr); gap: 0.4rem 1.5rem; margin: 0 0 1rem; }
dl.summary dt { font-weight: 600; }
dl.summary dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: 0 0 1rem; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.5rem; }
th, td { text-align: left; padding: 0.5rem 0.75rem 0.5rem 0; border-bottom: 1px solid var(--border); vertical-align: top; }
/*
 * A table wider than a phone scrolls inside its own box, never the page: the class goes on
 * the table itself (focusable, so a keyboard can scroll it) or on a labelled region around
 * it. Positioned, so that visually hidden text in a cell (absolutely placed) is clipped with
 * the table instead of widening the page.
 */
.table-scroll { position: relative; max-width: 100%; overflow-x: auto; margin: 0 0 1rem; }
table.table-scroll { display: block; }
.table-scroll table { margin: 0; }
td form { margin: 0; }
.meter { font-variant-numeric: tabular-nums; }
/* The storefront's vendor shelves, the portal's own navigation, small "test" tags. */
.shelf h2 { margin-bottom: 0.25rem; }
.portal-nav ul { display: flex; flex-wrap: wrap; gap: 0.25rem 1.25rem; list-style: none; margin: 0 0 1.25rem; padding: 0 0 0.5rem; border-bottom: 1px solid var(--border); }
.portal-nav a[aria-current="page"] { font-weight: 700; color: var(--text); text-decoration: none; }
.tag { display: inline-block; padding: 0 0.4rem; border: 1px solid var(--warning-border); border-radius: 0.25rem; background: var(--warning-bg); font-size: 0.8125rem; font-weight: 600; }
.signed-in-as { margin: 0; color: var(--muted); }
/* Invoices and credit notes (views/invoice.ts): two parties side by side where there is room. */
.invoice-meta { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 0.25rem 1.5rem; }
.invoice-meta dt { font-weight: 600; }
.invoice-meta dd { margin: 0; min-width: 0; }
.invoice-parties { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: 0 2rem; }
/* The vendor dashboard's chart (views/vendor-chart.ts): colours here, not in the SVG. */
.sales-chart { margin: 0 0 1rem; max-width: 40rem; }
.sales-chart svg { display: block; width: 100%; height: auto; }
.sales-chart figcaption { color: var(--muted); font-size: 0.9375rem; }
.chart-bar { fill: var(--accent); }
.chart-bar:hover { fill: var(--accent-dark); }
.chart-axis { stroke: var(--text); stroke-width: 1; }
.chart-grid { stroke: var(--border); stroke-width: 0.5; stroke-dasharray: 2 2; }
.chart-label { fill: var(--muted); font-size: 8px; font-family: inherit; }
.chart-table summary { cursor: pointer; color: var(--accent); margin: 0 0 0.5rem; }
/* Printing a document: the page's frame and links stay off the paper. */
@media print {
  .site-header, .site-footer, .skip-link, .portal-nav, body > .test-banner, .invoice a[download] { display: none !important; }
  main { max-width: none; padding: 0; }
  .table-scroll { overflow: visible; }
}
/*
 * Phones (360–414 px): nothing may make the page wider than the screen. Less padding, one
 * column for label/value lists, tighter tables (headers and actions wrap already).
 */
@media (max-width: 40rem) {
  .site-header { padding: 0.75rem 1rem; gap: 0.5rem 1rem; }
  .test-banner { padding: 0.5rem 1rem; }
  main { padding: 1rem; }
  .site-footer { padding: 1rem 1rem 2rem; }
  h1 { font-size: 1.625rem; }
  dl.summary { grid-template-columns: minmax(0, 1fr); gap: 0.1rem; }
  dl.summary dd { margin-bottom: 0.5rem; }
  table { font-size: 0.9375rem; }
  th, td { padding: 0.4rem 0.5rem 0.4rem 0; }
  .plan-option { padding: 0.75rem; }
  .license-key { font-size: 1.05rem; }
}
/* The smallest phones (360 px): a little more room for a five-column table. */
@media (max-width: 23rem) {
  main { padding: 1rem 0.75rem; }
}
@media (prefers-reduced-motion: no-preference) { html { scroll-behavior: smooth; } }
`;
