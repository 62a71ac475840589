/**
 * The admin screen's additions to the site stylesheet (/static/admin.css): status badges,
 * the filter bar, action rows. Same rules as site.css: no inline styles, AA contrast, and
 * nothing wider than a 360 px screen (tables scroll in their own box).
 */
export const ADMIN_CSS = `
.admin .site-header nav ul { flex-wrap: wrap; gap: 0.5rem 1.25rem; }
.admin .site-header nav a[aria-current="page"] { font-weight: 700; color: var(--text); }
.badge { display: inline-block; padding: 0 0.5rem; border: 1px solid var(--border); border-radius: 1rem; font-size: 0.875rem; font-weight: 600; white-space: nowrap; }
.badge-ok { background: var(--ok-bg); border-color: var(--ok-border); }
.badge-wait { background: var(--warning-bg); border-color: var(--warning-border); }
.badge-bad { background: #fde8e7; border-color: var(--error); color: #7a1a14; }
.badge-neutral { background: var(--surface); }
.filters { display: flex; flex-wrap: wrap; gap: 0 1rem; align-items: flex-end; margin: 0 0 1rem; }
.filters .field { margin-bottom: 0.75rem; flex: 1 1 12rem; min-width: 0; }
.filters .actions { margin: 0 0 0.75rem; }
textarea { font: inherit; padding: 0.5rem 0.625rem; border: 2px solid var(--text); border-radius: 0.25rem; width: 100%; max-width: 40rem; min-height: 6rem; background: #fff; color: var(--text); }
textarea.code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
textarea[aria-invalid="true"] { border-color: var(--error); }
.danger-zone { border: 2px solid var(--error); border-radius: 0.5rem; padding: 0 1rem; margin: 1.5rem 0; }
td .actions { margin: 0; }
`;
