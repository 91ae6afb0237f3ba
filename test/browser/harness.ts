/**
 * Browser tests: the web app served by Vite (with the reference server, as
 * `npm start` does) and driven in Debian's Chromium through playwright-core.
 * Never downloads a browser: it uses /usr/bin/chromium (installed by
 * `.ci/run` with apt). Without it the browser suites are skipped locally with
 * the reason printed; under CI (`CI` set) they must run, and fail when
 * Chromium is missing.
 *
 * Every browser test file uses this one harness:
 * - `browserSuite(title, (app) => { ... })`: the file's suite, skipped (with
 *   the reason) without Chromium outside CI; one Vite server and one browser
 *   per file, started before its first test and closed after its last.
 * - `app.open(path, { ready })`: one page per test, in a browser context per
 *   locale shared by the file's tests (HTTP cache); console errors and
 *   uncaught page errors are captured from the first moment (`tab.errors`).
 * - `finishTab(tab, allow)`: the end of a test: no console or page error but
 *   the allowed ones, then the page closed.
 * - `expectAccessible(page, label, { screenshot })`: axe-core (serious and
 *   critical violations fail), optionally a screenshot to docs/images/ (see
 *   WEBCCID_SCREENSHOTS below).
 * - a DOM scan that walks open shadow roots (`expectNoSecrets`), waits on
 *   data-testid hooks, a temporary reference-server database per run.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect } from 'vitest';

export const CHROMIUM = process.env['WEBCCID_CHROMIUM'] ?? '/usr/bin/chromium';
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SCREENSHOTS = path.join(ROOT, 'docs/images');
export const IN_CI = Boolean(process.env['CI']);

/** Demo data shared by the virtual HCA card and the reference server. */
export const DEMO = {
  cardNumber: '000012345678',
  userCode: 'Demo1234',
  puk: '12345678',
  pin: '123456',
  holderName: '王大明',
  idNumber: 'A123456789',
} as const;

/** Test timeouts (ms): the server and browser start, and one flow. */
export const START_TIMEOUT = 120_000;
export const FLOW_TIMEOUT = 60_000;
/** How long a single expected element may take to appear (ms). */
export const WAIT = 15_000;

export function browserAvailability(): { ok: true } | { ok: false; reason: string } {
  if (!existsSync(CHROMIUM)) return { ok: false, reason: `no Chromium at ${CHROMIUM} (apt-get install -y chromium)` };
  return { ok: true };
}

const availability = browserAvailability();
/** True when the browser suites are skipped (no Chromium and not in CI). */
export const SKIP = !availability.ok && !IN_CI;
export const SKIP_REASON = availability.ok ? '' : availability.reason;
if (SKIP) console.warn(`[browser] browser tests skipped: ${SKIP_REASON} (set CI to make this a failure)`);

/** Suite title with the skip reason appended when skipped. */
export function suiteTitle(title: string): string {
  return SKIP ? `${title} (SKIPPED: ${SKIP_REASON})` : title;
}

/** Whether a page of the web app exists (pages land at different times). */
export function hasPage(file: string): boolean {
  return existsSync(path.join(ROOT, 'web', file));
}

/** The driver console's page: driver.html once the app moved it there, else index.html. */
export function driverPagePath(): string {
  return hasPage('driver.html') ? '/driver.html' : '/index.html';
}

export interface Tab {
  page: Page;
  context: BrowserContext;
  /** Console errors and uncaught page errors seen so far. */
  errors: string[];
  /** `page.getByTestId(id)` (CSS and test-id selectors pierce open shadow roots). */
  byTestId(id: string): Locator;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Browser locale (navigator.language): 'zh-TW' (default) or 'en-US'. */
  locale?: string;
  viewport?: { width: number; height: number };
  /** Scripts run before the page's own (e.g. to remove navigator.usb). */
  initScripts?: string[];
  /** Wait for this test id to be visible after load. */
  waitFor?: string;
  /** A new browser context (empty storage and cache) instead of the file's shared one. */
  fresh?: boolean;
  /** Wait for the page's `<html data-ready="1">` after load (true: within WAIT; a number: within that many ms). */
  ready?: boolean | number;
}

export interface App {
  url: string;
  server: ViteDevServer;
  browser: Browser;
  /** The reference server's database for this run (a temporary file). */
  dbPath: string;
  /** A new page at `url + pathAndQuery`, in the file's shared context for its locale (or a new one: `fresh`, `initScripts`). */
  open(pathAndQuery: string, options?: OpenOptions): Promise<Tab>;
  close(): Promise<void>;
}

/**
 * Starts the web app on a free port (a temporary database for the reference
 * server) and Chromium. Call it in `beforeAll` with START_TIMEOUT.
 */
export async function startApp(options: { env?: Record<string, string> } = {}): Promise<App> {
  if (!availability.ok) throw new Error(`browser tests cannot run: ${availability.reason}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'webccid-browser-'));
  const dbPath = path.join(dir, 'reference-server.sqlite');
  // web/vite.config.ts reads WEBCCID_DB when the config is loaded (in createServer).
  process.env['WEBCCID_DB'] = dbPath;
  for (const [k, v] of Object.entries(options.env ?? {})) process.env[k] = v;
  const server = await createServer({
    configFile: path.join(ROOT, 'web/vite.config.ts'),
    server: { port: 0, host: '127.0.0.1', strictPort: false, hmr: false, watch: null },
    // One optimizer cache per server: test files may run in parallel and must not share a cache directory.
    cacheDir: path.join(dir, 'vite-cache'),
    logLevel: 'error',
    clearScreen: false,
  });
  let browser: Browser | undefined;
  try {
    await server.listen();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
      ],
    });
  } catch (e) {
    await server.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const address = server.httpServer?.address();
  const port = typeof address === 'object' && address ? address.port : 5173;
  const url = `http://127.0.0.1:${port}`;
  const b = browser;
  const tabs = new Set<Tab>();
  // One context per locale, shared by the file's tests (its HTTP cache makes the next page load
  // fast); each test gets its own page (own sessionStorage). `fresh` or init scripts: a new context.
  const shared = new Map<string, Promise<BrowserContext>>();
  return {
    url,
    server,
    browser: b,
    dbPath,
    async open(pathAndQuery, o = {}) {
      const locale = o.locale ?? 'zh-TW';
      let context: BrowserContext;
      let own = false;
      if (o.fresh || (o.initScripts?.length ?? 0) > 0) {
        context = await newContext(b, locale, o);
        own = true;
      } else {
        let c = shared.get(locale);
        if (!c) {
          c = newContext(b, locale, {});
          shared.set(locale, c);
        }
        context = await c;
      }
      const tab = await openTab(context, own, url + pathAndQuery, o);
      tabs.add(tab);
      const close = tab.close;
      tab.close = async () => {
        tabs.delete(tab);
        await close();
      };
      return tab;
    },
    async close() {
      for (const t of [...tabs]) await t.close().catch(() => undefined);
      await b.close().catch(() => undefined);
      await server.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function newContext(browser: Browser, locale: string, o: OpenOptions): Promise<BrowserContext> {
  const context = await browser.newContext({
    locale,
    viewport: { width: 1280, height: 900 },
    // axe is injected as a script tag; a strict CSP must not block the test's own tool.
    bypassCSP: true,
    extraHTTPHeaders: { 'Accept-Language': locale.startsWith('en') ? 'en-US,en' : 'zh-TW,zh' },
  });
  context.setDefaultTimeout(WAIT);
  for (const s of o.initScripts ?? []) await context.addInitScript(s);
  return context;
}

async function openTab(context: BrowserContext, ownContext: boolean, url: string, o: OpenOptions): Promise<Tab> {
  const page = await context.newPage();
  if (o.viewport) await page.setViewportSize(o.viewport);
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = m.location().url;
    // The browser asks for /favicon.ico by itself; the pages do not reference one.
    if (/\/favicon\.ico$/.test(where)) return;
    errors.push(`console: ${m.text()}${where ? ` (${where})` : ''}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.name}: ${e.message}`));
  const response = await page.goto(url, { waitUntil: 'load' });
  if (!response || !(response.ok() || response.status() === 304)) throw new Error(`GET ${url}: ${response ? response.status() : 'no response'}`);
  const tab: Tab = {
    page,
    context,
    errors,
    byTestId: (id) => page.getByTestId(id),
    close: () => (ownContext ? context.close() : page.close()),
  };
  if (o.ready) await waitForReady(tab, o.ready === true ? WAIT : o.ready);
  if (o.waitFor) await tab.byTestId(o.waitFor).first().waitFor({ state: 'visible' });
  return tab;
}

/** Waits until the web app's page says it is ready (`<html data-ready="1">`), e.g. after a navigation. */
export async function waitForReady(tab: Tab, timeout = WAIT): Promise<void> {
  await tab.page.locator('html[data-ready="1"]').waitFor({ state: 'attached', timeout });
}

/**
 * A browser test file's suite: skipped (the reason in its title) when there is
 * no Chromium and CI is not set; the web app and Chromium started once before
 * the first test (START_TIMEOUT) and closed after the last. `body` declares the
 * tests; the `app` it gets may be used inside them (not while declaring).
 */
export function browserSuite(
  title: string,
  body: (app: App) => void,
  options: { timeout?: number; env?: Record<string, string> } = {},
): void {
  describe.skipIf(SKIP)(suiteTitle(title), { timeout: options.timeout ?? FLOW_TIMEOUT }, () => {
    let started: App | undefined;
    beforeAll(async () => {
      started = await startApp(options.env ? { env: options.env } : {});
    }, START_TIMEOUT);
    afterAll(async () => {
      await started?.close();
    });
    const get = (): App => {
      if (!started) throw new Error(`${title}: the app is used before it started (only inside a test)`);
      return started;
    };
    body({
      get url() {
        return get().url;
      },
      get server() {
        return get().server;
      },
      get browser() {
        return get().browser;
      },
      get dbPath() {
        return get().dbPath;
      },
      open: (pathAndQuery, o) => get().open(pathAndQuery, o),
      close: () => get().close(),
    });
  });
}

/**
 * The end of a test: the tab had no console error or uncaught page error but
 * those `allow` matches (e.g. HTTP_ERROR_LINE when the test provokes a 4xx),
 * then it is closed.
 */
export async function finishTab(tab: Tab, allow: RegExp[] = []): Promise<void> {
  expect(unexpectedErrors(tab, allow)).toEqual([]);
  await tab.close();
}

/**
 * The console errors and page errors of a tab, without the ones expected by the
 * test (e.g. the browser's own "Failed to load resource: ... 401" line when the
 * reference server refuses a request on purpose).
 */
export function unexpectedErrors(tab: Tab, allow: RegExp[] = []): string[] {
  return tab.errors.filter((e) => !allow.some((r) => r.test(e)));
}

/** Chrome's own console line for an HTTP error answer (expected when a test provokes one). */
export const HTTP_ERROR_LINE = /Failed to load resource: the server responded with a status of (4\d\d)/;

// ---- axe-core ---------------------------------------------------------------------

const AXE_PATH = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

export interface AxeIssue {
  id: string;
  impact: string;
  help: string;
  nodes: string[];
}

/**
 * Runs axe-core on the whole page (open shadow roots included) and returns the
 * serious and critical violations.
 */
export async function axeViolations(page: Page): Promise<AxeIssue[]> {
  const loaded = await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe === 'object');
  if (!loaded) await page.addScriptTag({ path: AXE_PATH });
  const issues = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: Array<{ id: string; impact?: string | null; help: string; nodes: Array<{ target: unknown[]; failureSummary?: string }> }> }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact ?? 'unknown',
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${JSON.stringify(n.target)} ${n.failureSummary ?? ''}`.replace(/\s+/g, ' ')),
    }));
  });
  return issues.filter((i) => i.impact === 'serious' || i.impact === 'critical');
}

/** Formats axe issues for an assertion message. */
export function formatAxe(label: string, issues: AxeIssue[]): string {
  return issues.map((i) => `[${label}] ${i.impact} ${i.id}: ${i.help}\n    ${i.nodes.join('\n    ')}`).join('\n');
}

/**
 * Throws with the list when axe finds a serious or critical violation; then,
 * with `screenshot`, saves a screenshot of that name (see `screenshot`).
 */
export async function expectAccessible(page: Page, label: string, options: { screenshot?: string } = {}): Promise<void> {
  const issues = await axeViolations(page);
  if (issues.length > 0) throw new Error(`axe: ${issues.length} serious/critical violation(s)\n${formatAxe(label, issues)}`);
  if (options.screenshot) await screenshot(page, options.screenshot);
}

// ---- DOM scan -------------------------------------------------------------------------

export interface DomScan {
  /** The serialised DOM with every open shadow root inlined, plus live form values. */
  html: string;
  /** Every input / textarea / select, shadow roots included. */
  fields: Array<{ testid: string | null; type: string; value: string }>;
  /** URL, title and web storage. */
  other: string;
}

/** Serialises the page's DOM walking open shadow roots, with every field's live value. */
export async function scanDom(page: Page): Promise<DomScan> {
  return page.evaluate(() => {
    const fields: Array<{ testid: string | null; type: string; value: string }> = [];
    const out: string[] = [];
    const walk = (node: Node): void => {
      if (node.nodeType === Node.TEXT_NODE || node.nodeType === Node.COMMENT_NODE) {
        out.push(node.nodeValue ?? '');
        return;
      }
      if (node instanceof Element) {
        out.push(`<${node.localName}`);
        for (const a of Array.from(node.attributes)) out.push(` ${a.name}="${a.value}"`);
        if (node instanceof HTMLInputElement || node instanceof HTMLTextAreaElement || node instanceof HTMLSelectElement) {
          const type = node instanceof HTMLInputElement ? node.type : node.localName;
          fields.push({ testid: node.getAttribute('data-testid'), type, value: node.value });
          out.push(` .value="${node.value}"`);
        }
        out.push('>');
        if (node.shadowRoot) {
          out.push('<#shadow-root>');
          for (const c of Array.from(node.shadowRoot.childNodes)) walk(c);
          out.push('</#shadow-root>');
        }
        if (node instanceof HTMLTemplateElement) walk(node.content);
      }
      for (const c of Array.from(node.childNodes)) walk(c);
      if (node instanceof Element) out.push(`</${node.localName}>`);
    };
    walk(document.documentElement);
    const storage: string[] = [];
    for (const s of [localStorage, sessionStorage]) {
      for (let i = 0; i < s.length; i++) {
        const k = s.key(i);
        if (k !== null) storage.push(`${k}=${s.getItem(k) ?? ''}`);
      }
    }
    return { html: out.join(''), fields, other: [location.href, document.title, ...storage].join('\n') };
  });
}

/**
 * Asserts that none of `secrets` (PINs, PUKs, user codes) is anywhere in the
 * page: field values, the serialised DOM with shadow roots, the URL, the title
 * or web storage. `allow` lists public strings that may contain a secret by
 * coincidence (the demo card number 000012345678 contains the PIN 123456);
 * they are removed before searching.
 */
export async function expectNoSecrets(page: Page, secrets: string[], allow: Array<string | RegExp> = []): Promise<void> {
  const scan = await scanDom(page);
  const problems: string[] = [];
  for (const f of scan.fields) {
    const textual = ['password', 'text', 'tel', 'number', 'search', 'textarea'].includes(f.type);
    if (textual && (f.type === 'password' || /(^|-)(pin|puk)(-|$)/i.test(f.testid ?? '')) && f.value !== '') {
      problems.push(`field ${f.testid ?? '?'} (${f.type}) still holds a value of ${f.value.length} characters`);
    }
  }
  const strip = (s: string) =>
    allow.reduce<string>((acc, a) => (typeof a === 'string' ? acc.split(a).join('·') : acc.replace(new RegExp(a.source, 'g'), '·')), s);
  const html = strip(scan.html);
  const other = strip(scan.other);
  for (const secret of secrets) {
    const i = html.indexOf(secret);
    if (i >= 0) problems.push(`"${secret}" found in the DOM: …${html.slice(Math.max(0, i - 160), i + secret.length + 40)}…`);
    if (other.includes(secret)) problems.push(`"${secret}" found in the URL, title or web storage`);
    for (const f of scan.fields) if (strip(f.value).includes(secret)) problems.push(`"${secret}" in the value of field ${f.testid ?? f.type}`);
  }
  if (problems.length > 0) throw new Error(`secrets left in the page:\n  ${problems.join('\n  ')}`);
}

// ---- waits and small actions -----------------------------------------------------

/** Fills a field found by test id (clears it first) the way a user types it. */
export async function typeInto(tab: Tab, testid: string, text: string): Promise<void> {
  const field = tab.byTestId(testid).first();
  await field.waitFor({ state: 'visible' });
  await field.fill('');
  await field.pressSequentially(text);
}

/** Clicks a button found by test id once it is visible and enabled. */
export async function press(tab: Tab, testid: string): Promise<void> {
  const b = tab.byTestId(testid).first();
  await b.waitFor({ state: 'visible' });
  await b.click();
}

/**
 * Waits for the first visible element with data-testid="error" (optionally
 * the one with `code`) and returns its data-code and text.
 */
export async function waitForError(tab: Tab, code?: string, timeout = WAIT): Promise<{ code: string | null; text: string }> {
  const sel = code ? `[data-testid="error"][data-code="${code}"]` : '[data-testid="error"][data-code]';
  const el = tab.page.locator(sel).locator('visible=true').first();
  try {
    await el.waitFor({ state: 'visible', timeout });
  } catch (e) {
    const seen = await describeErrors(tab);
    throw new Error(`no visible error${code ? ` with data-code="${code}"` : ''} within ${timeout} ms; errors on the page: ${seen}`, { cause: e });
  }
  return { code: await el.getAttribute('data-code'), text: (await el.innerText()).trim() };
}

/** What error elements the page shows now (for failure messages). */
export async function describeErrors(tab: Tab): Promise<string> {
  const all = tab.page.locator('[data-testid="error"]');
  const n = await all.count();
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const el = all.nth(i);
    const visible = await el.isVisible();
    parts.push(`${visible ? '' : '(hidden) '}[${(await el.getAttribute('data-code')) ?? '-'}] ${(await el.innerText().catch(() => '')).trim().replace(/\s+/g, ' ').slice(0, 200)}`);
  }
  return parts.length > 0 ? parts.join(' | ') : 'none';
}

/** Waits for the visible success element and returns its text. */
export async function waitForSuccess(tab: Tab, timeout = WAIT): Promise<string> {
  const el = tab.byTestId('success').locator('visible=true').first();
  try {
    await el.waitFor({ state: 'visible', timeout });
  } catch (e) {
    throw new Error(`no visible success within ${timeout} ms; errors on the page: ${await describeErrors(tab)}`, { cause: e });
  }
  return (await el.innerText()).trim();
}

/**
 * `WEBCCID_SCREENSHOTS`: unset = write a screenshot only when docs/images/ has
 * none of that name yet (test runs do not rewrite the tracked images, whose
 * dates and timings change from run to run); `1` = rewrite them all (after a
 * change to the pages: `WEBCCID_SCREENSHOTS=1 npx vitest run test/browser`);
 * `0` = none.
 */
const SCREENSHOT_MODE = process.env['WEBCCID_SCREENSHOTS'] === '1' ? 'refresh' : process.env['WEBCCID_SCREENSHOTS'] === '0' ? 'off' : 'missing';

/** Saves a screenshot under docs/images/ (shown in the README and docs); see SCREENSHOT_MODE. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const file = path.join(SCREENSHOTS, `${name}.png`);
  if (SCREENSHOT_MODE === 'off' || (SCREENSHOT_MODE === 'missing' && existsSync(file))) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  // Let fonts (the CJK fallback font included) load and the page paint twice.
  await page.evaluate(async () => {
    await document.fonts.ready;
    await new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r())));
  });
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled', caret: 'hide' });
}
