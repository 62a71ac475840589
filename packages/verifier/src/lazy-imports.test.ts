/**
 * The features loaded with import() (revocation lists, refresh, usage reports) import no
 * runtime module of the main graph: what they need comes through the engine (lazy-kit.ts).
 * An app's one-file bundle inlines each import() target and wraps it, and every module it
 * imports, transitively, in a lazy initialiser; one stray import of core made esbuild wrap
 * 42 modules, ≈ 0.6 KB min+gzip of the full entry (scripts/size.mjs).
 */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';

/** Each lazily loaded module, and the dependency-free modules it may import at run time. */
const LAZY: Record<string, string[]> = {
  'refresh-run.ts': ['./refresh.js'],
  'usage-report.ts': ['./types.js'],
  'revocation-registry.ts': ['./revocations.js'],
  'revocations.ts': [],
  // The modules above may import, themselves free of runtime imports.
  'refresh.ts': [],
  'types.ts': [],
};

/** The specifiers of a module's imports and re-exports that are not `import type`/`export type`. */
function runtimeImports(file: string): string[] {
  const source = readFileSync(new URL(file, import.meta.url), 'utf8');
  return [...source.matchAll(/^(?:import|export)\s+(?!type\s)[^;]*?from\s+'([^']+)';/gm)].map(
    (match) => match[1]!,
  );
}

test.each(Object.entries(LAZY))('%s imports at run time only %j', (file, allowed) => {
  expect(runtimeImports(file)).toEqual(allowed);
});

test('the scan sees runtime imports (engine.ts has several)', () => {
  expect(runtimeImports('engine.ts')).toEqual(expect.arrayContaining(['@licensekit/core']));
});
