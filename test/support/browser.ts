import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it). Playwright never downloads one. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Headless, and quiet: no background fetches, no updates, no sync, nothing to the internet. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

/** Where screenshots go: git-ignored (.gitignore: test-results/). */
export const SCREENSHOT_DIR = resolve(__dirname, '..', '..', 'test-results', 'console');

export type Viewport = { width: number; height: number };
export const DESKTOP: Viewport = { width: 1280, height: 800 };
export const NARROW: Viewport = { width: 390, height: 844 };

/** Browser-side expression: the visible form controls and buttons that have no accessible name. */
export const UNLABELLED_CONTROLS = `[...document.querySelectorAll('input, select, textarea, button')]
  .filter((el) => el.getClientRects().length > 0)
  .filter((el) => {
    if (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')) return false;
    if (el.tagName === 'BUTTON') return el.textContent.trim() === '';
    return !el.labels || el.labels.length === 0;
  })
  .map((el) => el.outerHTML.slice(0, 120))`;

/** Browser-side expression: how far the page is wider than the window (0 when nothing overflows sideways). */
export const HORIZONTAL_OVERFLOW = 'document.documentElement.scrollWidth - window.innerWidth';

/**
 * A headless Chromium for the console tests. Every request its pages make is checked: one
 * to any origin but the Herald under test is aborted and recorded in `blocked`, so tests
 * can assert that the console loads nothing from elsewhere and sends traffic to 127.0.0.1
 * only. Uncaught page errors and console errors are recorded too.
 */
export class ConsoleBrowser {
  /** Every URL the pages requested, in order. */
  readonly requests: string[] = [];
  /** Requests aborted because they were not for the Herald under test. */
  readonly blocked: string[] = [];
  /** Uncaught exceptions and console.error output of the pages. */
  readonly pageErrors: string[] = [];

  private constructor(
    private readonly browser: Browser,
    private readonly context: BrowserContext,
    readonly origin: string,
  ) {}

  /** @param origin the Herald under test, e.g. http://127.0.0.1:40123 */
  static async launch(origin: string): Promise<ConsoleBrowser> {
    if (!existsSync(CHROMIUM_PATH)) {
      throw new Error(`${CHROMIUM_PATH} is missing: install Debian's chromium (apt-get install -y chromium), as .ci/run does`);
    }
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: DESKTOP, baseURL: origin, serviceWorkers: 'block' });
    const instance = new ConsoleBrowser(browser, context, origin);
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      instance.requests.push(url);
      if (new URL(url).origin === origin) await route.continue();
      else {
        instance.blocked.push(url);
        await route.abort('blockedbyclient');
      }
    });
    return instance;
  }

  async newPage(viewport: Viewport = DESKTOP): Promise<Page> {
    const page = await this.context.newPage();
    await page.setViewportSize(viewport);
    page.on('pageerror', (error) => this.pageErrors.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      // A 4xx answer the test provoked is logged by Chromium as a failed resource; that is not a page error.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
        this.pageErrors.push(`console.error: ${message.text()}`);
      }
    });
    // confirm() before deletes: the tests accept them.
    page.on('dialog', (dialog) => void dialog.accept());
    return page;
  }

  /** Writes a full-page screenshot to test-results/console/<name>.png and returns its path. */
  async screenshot(page: Page, name: string): Promise<string> {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const file = join(SCREENSHOT_DIR, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  }

  async close(): Promise<void> {
    await this.context.close();
    await this.browser.close();
  }
}
