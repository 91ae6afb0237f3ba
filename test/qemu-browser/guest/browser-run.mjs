// Runs INSIDE the QEMU guest (test/qemu/harness.ts runInGuest): real Chromium, real WebUSB, QEMU's
// CCID reader with the project's virtual HCA card behind it (VSCard passthru from the host).
//   (a) an ordinary page on http://127.0.0.1:PORT (served here from the web build) runs the probe
//       (getDevices + CcidReader.open): Chrome refuses the class 0x0B interface; we expect our
//       transport/protected-class explanation on the page.
//   (b) the signed IWA bundle (built on the host by scripts/build-iwa.ts, the same web build) is
//       installed with --install-isolated-web-app-from-file in dev mode, launched with PWA.launch;
//       the probe inside it claims the reader, powers the card, reads the card number, verifies
//       the PIN, reads the signing certificate and signs.
// The reader is granted to both origins by the WebUsbAllowDevicesForUrls policy, written to
// /etc/chromium/policies/managed (a tmpfs mounted here) before Chromium starts.
// Env: QB_WEB_DIR (web build with qemu-probe/), QB_SWBN (signed bundle), QB_IWA_ORIGIN
// (isolated-app://<id>), WEBCCID_RESULTS. Writes JSON results; logs progress to stdout.
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';

const t0 = Date.now();
const up = () => readFileSync('/proc/uptime', 'utf8').split(' ')[0];
const log = (...a) => console.log(`[guest +${((Date.now() - t0) / 1000).toFixed(1)}s up ${up()}]`, ...a);
const results = { ok: false, steps: [], a: null, b: null, bindPage: null };
const step = (name, extra = {}) => {
  results.steps.push({ name, s: Math.round((Date.now() - t0) / 100) / 10, ...extra });
  log(name, Object.keys(extra).length ? JSON.stringify(extra).slice(0, 400) : '');
};
let finished = false;
const finish = (code) => {
  if (finished) return;
  finished = true;
  results.totalSeconds = (Date.now() - t0) / 1000;
  writeFileSync(process.env.WEBCCID_RESULTS ?? '/dev/stdout', `${JSON.stringify(results, null, 2)}\n`);
  log(`done, exit ${code}`);
  process.exitCode = code;
  setTimeout(() => process.exit(code), 500).unref();
};
const WATCHDOG_MS = Number(process.env.QB_WATCHDOG_MS ?? 300_000);
const watchdog = setTimeout(() => {
  results.error = `watchdog: no result after ${WATCHDOG_MS} ms; last step ${results.steps.at(-1)?.name}`;
  finish(3);
}, WATCHDOG_MS);

const WEB_DIR = process.env.QB_WEB_DIR;
const SWBN = process.env.QB_SWBN;
const IWA_ORIGIN = process.env.QB_IWA_ORIGIN;
let devRequests = 0;
const INSTALL = process.env.QB_IWA_INSTALL === 'url' ? 'url' : 'file';
const CHROMIUM = existsSync('/usr/lib/chromium/chromium') ? '/usr/lib/chromium/chromium' : '/usr/bin/chromium';
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.woff2': 'font/woff2' };

function sh(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) log(`${cmd} ${args.join(' ')} -> ${r.status} ${r.stderr}`);
  return r.status === 0;
}

function serveStatic(root, extraHeaders = {}) {
  return createServer((req, res) => {
    for (const [k, v] of Object.entries(extraHeaders)) res.setHeader(k, v);
    if (Object.keys(extraHeaders).length) devRequests++;
    const p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let file = path.normalize(path.join(root, p));
    if (!file.startsWith(root)) return res.writeHead(403).end();
    if (existsSync(file) && statSync(file).isDirectory()) file = path.join(file, 'index.html');
    if (!existsSync(file)) return res.writeHead(404).end('not found');
    const type = file.endsWith('.webmanifest') ? 'application/manifest+json' : (TYPES[path.extname(file)] ?? 'application/octet-stream');
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
}

/** The text of chrome://web-app-internals (its JSON lives in shadow roots). */
function internalsText() {
  const out = [];
  const walk = (n) => {
    if (n.shadowRoot) walk(n.shadowRoot);
    for (const c of n.childNodes) {
      if (c.nodeType === 3) out.push(c.textContent);
      else walk(c);
    }
  };
  walk(document.body);
  return out.join(' ');
}

async function waitForProbe(page, timeoutMs) {
  await page.waitForFunction(() => document.documentElement.dataset.done === '1', undefined, { timeout: timeoutMs, polling: 500 });
  return JSON.parse((await page.textContent('#result')) ?? 'null');
}

async function main() {
  if (!WEB_DIR || !SWBN || !IWA_ORIGIN) throw new Error('QB_WEB_DIR, QB_SWBN and QB_IWA_ORIGIN must be set');
  // writable places Chromium needs in the read-only chroot
  mkdirSync('/dev/shm', { recursive: true });
  sh('mount', ['-t', 'tmpfs', 'shm', '/dev/shm']);
  mkdirSync('/dev/pts', { recursive: true });
  sh('mount', ['-t', 'devpts', 'devpts', '/dev/pts']);
  if (!sh('mount', ['-t', 'tmpfs', 'chromium-etc', '/etc/chromium'])) throw new Error('cannot mount a tmpfs on /etc/chromium (policies)');
  step('mounts');

  const server = serveStatic(path.resolve(WEB_DIR));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const pageOrigin = `http://127.0.0.1:${port}`;
  mkdirSync('/etc/chromium/policies/managed', { recursive: true });
  const policy = { WebUsbAllowDevicesForUrls: [{ devices: [{ vendor_id: 0x08e6, product_id: 0x4433 }], urls: [pageOrigin, IWA_ORIGIN] }] };
  writeFileSync('/etc/chromium/policies/managed/webccid-qemu-browser.json', JSON.stringify(policy));
  step('server+policy', { pageOrigin, iwaOrigin: IWA_ORIGIN });

  // IWA install: 'file' = the signed bundle (--install-isolated-web-app-from-file); 'url' = the same web
  // build through Chromium's dev-mode proxy (--install-isolated-web-app-from-url), random origin
  let iwaOrigin = IWA_ORIGIN;
  let devServer;
  const installArg = [];
  if (INSTALL === 'url') {
    devServer = serveStatic(path.resolve(WEB_DIR), JSON.parse(process.env.QB_IWA_HEADERS ?? '{}'));
    await new Promise((r) => devServer.listen(0, '127.0.0.1', r));
    installArg.push(`--install-isolated-web-app-from-url=http://127.0.0.1:${devServer.address().port}`);
    iwaOrigin = '';
  } else {
    installArg.push(`--install-isolated-web-app-from-file=${SWBN}`);
  }
  const profile = mkdtempSync(path.join(process.env.TMPDIR ?? '/run', 'chr-'));
  const args = [
    '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-dev-shm-usage', '--enable-features=IsolatedWebApps,IsolatedWebAppDevMode,UnrestrictedUsb',
    ...installArg,
  ];
  const ctx = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, timeout: 150_000, args });
  ctx.setDefaultTimeout(90_000);
  ctx.setDefaultNavigationTimeout(90_000);
  step('chromium up', { version: ctx.browser()?.version() ?? '?' });
  try {
    // (a) the ordinary page
    const pa = await ctx.newPage();
    await pa.goto(`${pageOrigin}/qemu-probe/probe.html?mode=claim`);
    results.a = await waitForProbe(pa, 60_000);
    results.a.explanationShown = await pa.textContent('#explanation');
    results.a.explanationCode = await pa.getAttribute('#explanation', 'data-code');
    step('(a) ordinary page', { code: results.a.error?.code, raw: results.a.rawClaim });
    await pa.close();

    // (b) the IWA: wait until it is installed (PWA.launch fails before), launch it, open the probe
    const cdp = await ctx.browser().newBrowserCDPSession();
    if (!iwaOrigin) {
      // the dev-mode proxy gives the app a random origin: find it, then grant the reader to it
      const ip = await ctx.newPage();
      for (let i = 0; i < 60 && !iwaOrigin; i++) {
        await ip.goto('chrome://web-app-internals/').catch(() => undefined);
        await new Promise((r) => setTimeout(r, 1500));
        const text = await ip.evaluate(internalsText).catch(() => '');
        iwaOrigin = text.match(/isolated-app:\/\/[a-z0-9]{50,}/)?.[0] ?? '';
      }
      await ip.close();
      if (!iwaOrigin) throw new Error(`the dev-mode IWA did not show up in chrome://web-app-internals (dev server requests: ${devRequests})`);
      policy.WebUsbAllowDevicesForUrls[0].urls.push(iwaOrigin);
      writeFileSync('/etc/chromium/policies/managed/webccid-qemu-browser.json', JSON.stringify(policy));
      step('(b) dev-mode IWA installed; policy updated', { iwaOrigin });
      await new Promise((r) => setTimeout(r, Number(process.env.QB_POLICY_WAIT_MS ?? 12_000)));
    }
    results.iwaOrigin = iwaOrigin;
    results.install = INSTALL;
    const IWA_ORIGIN = iwaOrigin;
    const manifestId = `${IWA_ORIGIN}/`;
    const probeUrl = `${IWA_ORIGIN}/qemu-probe/probe.html?mode=bind`;
    const appPage = () => ctx.pages().find((p) => p.url().startsWith(IWA_ORIGIN)) ?? null;
    let pb = null;
    let lastErr = '';
    let known = 0; // attempts answered by an installed app that would not launch
    const deadline = Date.now() + 170_000;
    while (!pb && Date.now() < deadline) {
      try {
        // (with a `url` Chromium 156 answers "not in the scope of the web app": launch the start page, then navigate)
        const launched = await cdp.send('PWA.launch', { manifestId });
        step('(b) PWA.launch', launched);
        for (let i = 0; i < 40 && !pb; i++) {
          pb = appPage();
          if (!pb) await new Promise((r) => setTimeout(r, 500));
        }
      } catch (e) {
        if (e.message !== lastErr) step('(b) PWA.launch refused', { error: e.message.slice(0, 300) });
        lastErr = e.message;
        pb = appPage();
        if (!pb && /Failed to launch|not in the scope/.test(e.message) && ++known >= 2) {
          // installed but PWA.launch will not open a window (headless): open the app's URL in a tab
          try {
            const tab = await ctx.newPage();
            await tab.goto(probeUrl, { timeout: 60_000 });
            step('(b) opened in a tab', { url: tab.url() });
            pb = tab;
          } catch (e2) {
            step('(b) tab refused', { error: String(e2.message).slice(0, 300) });
          }
        }
        if (!pb) await new Promise((r) => setTimeout(r, 3000));
      }
    }
    if (!pb) {
      // for the diagnosis: what Chromium says about its web apps
      const ip = await ctx.newPage();
      await ip.goto('chrome://web-app-internals/').catch(() => undefined);
      await new Promise((r) => setTimeout(r, 3000));
      const text = await ip.evaluate(internalsText).catch((e) => String(e));
      const at = Math.max(0, text.search(/isolat/i) - 500);
      results.webAppInternals = text.slice(at, at + 6000);
    }
    if (!pb) throw new Error(`the IWA did not install/launch within 170 s: ${lastErr}; pages: ${ctx.pages().map((p) => p.url()).join(', ')}`);
    if (!pb.url().includes('/qemu-probe/probe.html')) await pb.goto(`${IWA_ORIGIN}/qemu-probe/probe.html?mode=bind`);
    results.b = await waitForProbe(pb, 120_000);
    results.b.url = pb.url();
    step('(b) IWA probe', { ok: results.b.ok, cardNumber: results.b.cardNumber, error: results.b.error });
    results.ok = true;
  } finally {
    await ctx.close().catch(() => undefined);
    server.close();
    devServer?.close();
  }
}

main()
  .then(() => finish(0))
  .catch((e) => {
    results.error = String(e?.stack ?? e);
    log('FAILED', results.error);
    finish(1);
  })
  .finally(() => clearTimeout(watchdog));
