/**
 * Browser tests: the web app served by Vite (with the reference server, as
 * `npm start` does) and driven in Debian's Chromium through playwright-core.
 * Never downloads a browser: it uses /usr/bin/chromium (installed by
 * `.ci/run` with apt). Without it the browser suites are skipped locally with
 * the reason printed; under CI they must run.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';

export const CHROMIUM = process.env['WEBCCID_CHROMIUM'] ?? '/usr/bin/chromium';
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SCREENSHOTS = path.join(ROOT, 'docs/images');

export function browserAvailability(): { ok: true } | { ok: false; reason: string } {
  if (!existsSync(CHROMIUM)) return { ok: false, reason: `no Chromium at ${CHROMIUM} (apt-get install -y chromium)` };
  return { ok: true };
}

export interface App {
  url: string;
  server: ViteDevServer;
  browser: Browser;
  close(): Promise<void>;
}

/** Starts the web app on a free port (a temporary database for the reference server) and Chromium. */
export async function startApp(options: { env?: Record<string, string> } = {}): Promise<App> {
  for (const [k, v] of Object.entries(options.env ?? {})) process.env[k] = v;
  const server = await createServer({
    configFile: path.join(ROOT, 'web/vite.config.ts'),
    server: { port: 0, host: '127.0.0.1' },
    logLevel: 'error',
  });
  await server.listen();
  const address = server.httpServer?.address();
  const port = typeof address === 'object' && address ? address.port : 5173;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    browser,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

/** Saves a screenshot under docs/images/ (shown in the README and docs). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
