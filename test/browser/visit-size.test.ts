/**
 * `scripts/web-sizes.ts` counts what a real-reader visit really downloads. A production build of
 * the web app is served as static files and Chromium opens the unlock page with `?reader=usb`;
 * the files it requests are compared with the files the script counts for that visit:
 * - every file the visit requested is counted;
 * - every counted file the visit did not request is one it fetches only on a later step of the
 *   same route (the driver's pinpad code, with what only it imports: no pinpad reader here).
 * The other routes fetch the chunks the script leaves out (`OTHER_ROUTES`): kiosk mode the
 * keyboard, English the English words.
 */
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { buildWebAppForProduction } from '../helpers/web-build.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTHER_ROUTES, realReaderVisitFiles } from '../../scripts/web-sizes.js';
import { CHROMIUM, SKIP, START_TIMEOUT, suiteTitle, WAIT } from './harness.js';

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

describe.skipIf(SKIP)(suiteTitle('browser: what a real-reader visit downloads, against npm run sizes'), { timeout: 60_000 }, () => {
  let out: string;
  let server: Server;
  let origin: string;
  let browser: Browser;

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'webccid-visit-'));
    await buildWebAppForProduction(out);
    server = createServer((req, res) => {
      const file = join(out, decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname));
      if (!file.startsWith(out) || !existsSync(file) || statSync(file).isDirectory()) {
        res.statusCode = 404;
        res.end();
        return;
      }
      res.setHeader('Content-Type', TYPES[extname(file)] ?? 'application/octet-stream');
      res.end(readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  }, START_TIMEOUT);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    if (out) rmSync(out, { recursive: true, force: true });
  });

  /** The files of the build that a visit of `unlock.html<query>` requested, once the page is ready. */
  async function visit(query: string): Promise<string[]> {
    const context = await browser.newContext();
    const page = await context.newPage();
    const requested = new Set<string>();
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.origin === origin) requested.add(url.pathname.slice(1));
    });
    await page.goto(`${origin}/unlock.html${query}`);
    await page.locator('html[data-ready="1"]').waitFor({ state: 'attached', timeout: WAIT });
    // The reader status has been drawn (no reader here): the page has done what a visit does at first.
    await page.locator('hca-unlock-card').waitFor({ state: 'attached', timeout: WAIT });
    await page.waitForLoadState('networkidle');
    await context.close();
    return [...requested].filter((f) => /\.(?:html|js|css)$/.test(f)).sort();
  }

  it('unlock.html?reader=usb requests only counted files, and the counted files it skips are the pinpad chunk', async () => {
    const counted = realReaderVisitFiles(out, 'unlock.html').map((f) => f.file);
    const requested = await visit('?reader=usb');
    expect(requested).toContain('unlock.html');
    expect(requested.filter((f) => !counted.includes(f))).toEqual([]);
    // Fetched later on this route only: the driver's pinpad code (ccid/pinpad.ts, the
    // PC_to_RDR_Secure exchange, which imports ccid/secure.ts, the PIN structures) and what only
    // they import (the bundler's runtime).
    const skipped = counted.filter((f) => !requested.includes(f));
    const pinpad = skipped.filter((f) => /^assets\/(pinpad|secure)-[^/]+\.js$/.test(f));
    expect(pinpad.some((f) => /^assets\/pinpad-/.test(f))).toBe(true);
    const pinpadText = pinpad.map((f) => readFileSync(join(out, f), 'utf8')).join('\n');
    for (const f of skipped.filter((f) => !pinpad.includes(f))) {
      expect(pinpadText, `${f} is counted, not fetched, and not the pinpad's`).toContain(`./${f.replace(/^assets\//, '')}`);
    }
  });

  it('the production build speaks both languages: its messages are keyed by source text (web/localize-ids.ts)', async () => {
    const text = async (query: string) => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${origin}/unlock.html${query}`);
      await page.locator('html[data-ready="1"]').waitFor({ state: 'attached', timeout: WAIT });
      // No reader here: the reader status says so; the unlock card shows its first step.
      const status = await page.locator('[data-testid="reader-status"]').innerText({ timeout: WAIT });
      const form = await page.locator('hca-unlock-card form').innerText({ timeout: WAIT });
      await context.close();
      return `${status}\n${form}`;
    };
    const zh = await text('?reader=usb&lang=zh');
    expect(zh).toContain('未偵測到讀卡機');
    expect(zh).toContain('卡號');
    expect(zh).toContain('檢核用戶代碼');
    const en = await text('?reader=usb&lang=en');
    expect(en).toContain('No card reader detected');
    expect(en).toContain('Card number');
    for (const word of ['未偵測到讀卡機', '卡號', '檢核用戶代碼']) expect(en).not.toContain(word);
  });

  it('the routes the count leaves out fetch their chunks: kiosk mode the keyboard, English the English words', async () => {
    const chunkOf = (files: string[], route: RegExp) => files.filter((f) => route.test(f.replace(/^assets\//, '')));
    const kiosk = OTHER_ROUTES.find((r) => r.route === 'kiosk mode')!.chunk;
    const english = OTHER_ROUTES.find((r) => r.route === 'English')!.chunk;
    expect(chunkOf(await visit('?reader=usb&kiosk=1'), kiosk)).toHaveLength(1);
    // The components' English templates, the shell's English words and the unlock page's own.
    expect(chunkOf(await visit('?reader=usb&lang=en'), english)).toHaveLength(3);
    expect(chunkOf(await visit('?reader=usb'), kiosk)).toEqual([]);
  });
});
