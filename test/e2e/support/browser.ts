import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.js';

/**
 * Headless Chromium for the page tests, and pages that report what went wrong on them: each
 * page comes in a fresh browser profile (no cookies) whose console errors and page errors,
 * and as asked its URLs, requests off the store's origin (refused) and CSP violations, are
 * collected into the suite's own lists, which the suite checks at its end.
 */

/** Launches Debian's Chromium with the flags of a closed network (support/chromium.ts). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
}

/** Where a suite collects what its pages report; leave a list out to not watch it. */
export interface PageWatch {
  /** Every context opened, to close at the end. */
  contexts?: BrowserContext[];
  /** Console errors (but the expected ones) and uncaught page errors. */
  problems?: string[];
  /** Every URL the page requests. */
  urls?: string[];
  /** Requests off `origin`, aborted. */
  foreign?: string[];
  /** securitypolicyviolation events: the directive and what was blocked. */
  violations?: unknown[];
}

export interface WatchedPageOptions {
  /** The store's URL: requests to any other origin are refused and listed in `foreign`. */
  origin?: string;
  context?: BrowserContextOptions;
  /** Console errors the test asks for (a 404 it opens on purpose). */
  expectedErrors?: RegExp;
}

/** A page in a fresh browser profile, watched into `watch`. */
export async function watchedPage(
  browser: Browser,
  watch: PageWatch,
  options: WatchedPageOptions = {},
): Promise<{ page: Page; context: BrowserContext }> {
  const context = await browser.newContext(options.context);
  watch.contexts?.push(context);
  const { problems, violations, foreign, urls } = watch;
  if (violations) {
    await context.exposeFunction('reportCspViolation', (violation: unknown) => {
      violations.push(violation);
    });
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) => {
        (window as unknown as { reportCspViolation(v: unknown): void }).reportCspViolation({
          directive: event.violatedDirective,
          blocked: event.blockedURI,
        });
      });
    });
  }
  if (foreign && options.origin !== undefined) {
    const origin = new URL(options.origin).origin;
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (new URL(url).origin === origin) return route.continue();
      foreign.push(url);
      return route.abort('blockedbyclient');
    });
  }
  const page = await context.newPage();
  if (urls) page.on('request', (request) => urls.push(request.url()));
  if (problems) {
    const expected = options.expectedErrors;
    page.on('console', (message) => {
      if (message.type() === 'error' && !expected?.test(message.text()))
        problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(String(error)));
  }
  return { page, context };
}

/** The rendered text of an element (the page's <main> unless said), white space folded. */
export async function pageText(page: Page, selector = 'main'): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is the point
  return (await page.locator(selector).innerText()).replace(/\s+/g, ' ').trim();
}
