/**
 * No string evaluation in the browser build (DESIGN.md "Strict parsing"): a Manifest V3
 * extension's CSP forbids it, and so does any page without 'unsafe-eval'. The Chromium
 * test proves it for the paths it runs; this scan covers every line of every chunk,
 * including the fallbacks a given browser never loads.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildBrowserBundle, bundleFiles, COMPACT_BUNDLE, FULL_BUNDLE } from './support/bundle.js';

/** The string-evaluating forms a CSP without 'unsafe-eval' blocks. */
const FORBIDDEN: readonly [string, RegExp][] = [
  ['eval(', /\beval\s*\(/],
  ['new Function', /\bnew\s+Function\b/],
  ['Function(', /\bFunction\s*\(/],
  ['setTimeout/setInterval with a string', /\bset(?:Timeout|Interval)\s*\(\s*["'`]/],
];

let dir: string;
beforeAll(() => {
  dir = buildBrowserBundle();
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the build has both entries and the lazy fallback chunks', () => {
  const files = bundleFiles(dir);
  expect(files).toContain(FULL_BUNDLE);
  expect(files).toContain(COMPACT_BUNDLE);
  expect(files.some((file) => file.startsWith('noble-'))).toBe(true);
});

test('no chunk of the browser build evaluates strings', () => {
  const found: string[] = [];
  for (const file of bundleFiles(dir)) {
    const code = readFileSync(join(dir, file), 'utf8');
    for (const [name, pattern] of FORBIDDEN) {
      const match = pattern.exec(code);
      if (match)
        found.push(
          `${file}: ${name} at ${match.index}: …${code.slice(match.index - 40, match.index + 40)}…`,
        );
    }
  }
  expect(found).toEqual([]);
});

test('the scan would catch each form', () => {
  const samples = [
    'x=eval("1")',
    'new Function("a","return a")',
    'Function("return this")()',
    "setTimeout('go()',1)",
  ];
  for (const [i, [, pattern]] of FORBIDDEN.entries()) expect(pattern.test(samples[i]!)).toBe(true);
  expect(FORBIDDEN.some(([, pattern]) => pattern.test('isFunction(x);evaluate(y)'))).toBe(false);
});
