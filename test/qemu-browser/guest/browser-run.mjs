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
//   (c) the signed bundle the way a managed deployment installs it: the IsolatedWebAppInstallForceList
//       policy names its web bundle id and an update manifest served from inside the guest
//       (http://127.0.0.1, which Chromium fetches without TLS); the run records what Chromium's
//       IWA policy manager answers (chrome://web-app-internals: install_progress / install_results).
// Then, once Chromium has exited (and so let go of the reader), on the same card in the same boot
// (phase "same-card", only with QB_RTT): the same SELECT MF QB_RTT times through pcscd + libccid
// (Debian's, with the C client test/qemu/guest/pcsc-rtt.c --get-response, built on the host:
// QB_PCSC_RTT) and through our Node driver (openNodeReader from the bundle in QB_LIB).
// Env: QB_WEB_DIR (web build with qemu-probe/), QB_SWBN (signed bundle), QB_IWA_ORIGIN
// (isolated-app://<id>), QB_WEB_BUNDLE_ID, QB_IWA_VERSION (the bundle's manifest version),
// QB_CHALLENGE (the bind challenge the host issued and holds), QB_RTT (round trips to time in the
// app after the bind, 0 for none), QB_PCSC_RTT, QB_PCSC_MISSING (why there is no client),
// QB_LIB, QB_PHASE_BUDGETS (JSON: seconds per phase), WEBCCID_RESULTS. Writes JSON results (steps, phases with their seconds and budgets,
// latePhase / failedPhase); logs progress.
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { PCSCD, runUnderPcscd } from '../../qemu/guest/pcscd-run.mjs';

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
// Phases, each with its own budget (seconds; PHASE_BUDGETS in real-route.e2e.ts, from measured
// times) and a readiness signal to wait on, never a fixed delay. A phase that overruns its budget
// ends the run (exit 3) with results.latePhase and an error naming the phase, its budget, when it
// started and what it last saw.
const BUDGETS = JSON.parse(process.env.QB_PHASE_BUDGETS ?? '{}');
results.phases = [];
let current = null;
let phaseTimer;
const note = (text) => {
  if (current) current.last = String(text).slice(0, 300);
};
async function phase(name, fn) {
  const budget = Number(BUDGETS[name] ?? 300);
  const started = Date.now();
  current = { name, budget, started: Math.round((started - t0) / 100) / 10, last: '' };
  const record = current;
  clearTimeout(phaseTimer);
  phaseTimer = setTimeout(() => {
    results.latePhase = name;
    results.error = `phase "${name}" late: not done within its budget of ${budget} s (started at +${record.started} s)${record.last ? `; last seen: ${record.last}` : ''}`;
    log('LATE', results.error);
    finish(3);
  }, budget * 1000);
  try {
    const value = await fn({ deadline: started + budget * 1000, remainingMs: () => Math.max(1000, started + budget * 1000 - Date.now()) });
    results.phases.push({ name, seconds: Math.round((Date.now() - started) / 100) / 10, budget });
    return value;
  } catch (e) {
    if (results.failedPhase === undefined) {
      results.failedPhase = name;
      results.phaseError = `phase "${name}" failed after ${Math.round((Date.now() - started) / 100) / 10} s (started at +${record.started} s)`;
    }
    throw e;
  } finally {
    clearTimeout(phaseTimer);
    current = null;
  }
}
const pause = (ms) => new Promise((r) => setTimeout(r, ms));

const WEB_DIR = process.env.QB_WEB_DIR;
const SWBN = process.env.QB_SWBN;
const IWA_ORIGIN = process.env.QB_IWA_ORIGIN;
/** The signed bundle's origin (main() shadows IWA_ORIGIN with the app's actual origin). */
const SIGNED_ORIGIN = IWA_ORIGIN;
const WEB_BUNDLE_ID = process.env.QB_WEB_BUNDLE_ID;
const IWA_VERSION = process.env.QB_IWA_VERSION;
const CHALLENGE = process.env.QB_CHALLENGE;
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

const RTT = Number(process.env.QB_RTT ?? 0);
/** The APDU the probe times in the app (SELECT MF), and the APDUs sent before timing on the native clients. */
const SELECT_MF = '00a40000023f00';
const NATIVE_WARMUP = 10;
const hex = (u8) => Array.from(u8, (b) => b.toString(16).padStart(2, '0')).join('');

/** pcscd + libccid: start pcscd, time the APDUs with the C client (61xx -> GET RESPONSE in it), stop pcscd. */
async function pcscdRoundTrips() {
  if (!process.env.QB_PCSC_RTT) return { skipped: `no PC/SC client built: ${process.env.QB_PCSC_MISSING || 'QB_PCSC_RTT unset'}` };
  if (!existsSync(PCSCD)) return { skipped: `${PCSCD} not installed (Debian packages pcscd libccid: scripts/qemu/setup.sh installs them as root)` };
  try {
    const r = await runUnderPcscd(process.env.QB_PCSC_RTT, ['--get-response', String(RTT), String(NATIVE_WARMUP), SELECT_MF], { logTail: 2000 });
    return { count: RTT, warmup: NATIVE_WARMUP, reader: r.reader, protocol: r.protocol, last: r.answer, transmits: r.transmits, ms: r.times };
  } catch (e) {
    return { error: e.message };
  }
}

/** Our driver in Node on the same reader and card: openNodeReader (defaults), connect, the APDUs, close. */
async function nodeRoundTrips() {
  if (!process.env.QB_LIB) return { skipped: 'QB_LIB unset' };
  try {
    // each step logged, so that a run that stops shows where
    const lib = await import(pathToFileURL(path.join(process.env.QB_LIB, 'node/index.js')).href);
    log('node driver: library loaded');
    const reader = await lib.openNodeReader({ vendorId: 0x08e6, productId: 0x4433 });
    log('node driver: reader open');
    try {
      const c = await reader.connect(0);
      log('node driver: card connected');
      const apdu = Uint8Array.from(SELECT_MF.match(/../g), (h) => parseInt(h, 16));
      const ms = [];
      let last;
      for (let i = 0; i < NATIVE_WARMUP + RTT; i++) {
        const t = performance.now();
        last = await c.transmit(apdu);
        if (i >= NATIVE_WARMUP) ms.push(performance.now() - t);
        if ((i + 1) % 100 === 0) log(`node driver: ${i + 1} of ${NATIVE_WARMUP + RTT} APDUs`);
      }
      await c.disconnect('unpower');
      return { count: RTT, warmup: NATIVE_WARMUP, last: hex(last), ms: ms.map((v) => Math.round(v * 1000) / 1000) };
    } finally {
      await reader.close().catch(() => undefined);
    }
  } catch (e) {
    return { error: String(e?.stack ?? e) };
  }
}

async function main() {
  if (!WEB_DIR || !SWBN || !IWA_ORIGIN || !WEB_BUNDLE_ID || !IWA_VERSION || !CHALLENGE) {
    throw new Error('QB_WEB_DIR, QB_SWBN, QB_IWA_ORIGIN, QB_WEB_BUNDLE_ID, QB_IWA_VERSION and QB_CHALLENGE must be set');
  }
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
  // (c) the managed route: an update manifest and the signed bundle served from inside the guest,
  // named by the IsolatedWebAppInstallForceList policy (written before Chromium starts, as an admin's
  // policy is there before the browser)
  const updateRequests = [];
  const updateServer = createServer((req, res) => {
    updateRequests.push(req.url ?? '');
    if (req.url === '/update-manifest.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ versions: [{ version: IWA_VERSION, src: `http://127.0.0.1:${updateServer.address().port}/webccid.swbn` }] }));
    } else if (req.url === '/webccid.swbn') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'cache-control': 'no-store' });
      createReadStream(SWBN).pipe(res);
    } else {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise((r) => updateServer.listen(0, '127.0.0.1', r));
  const updateManifestUrl = `http://127.0.0.1:${updateServer.address().port}/update-manifest.json`;
  const policy = {
    WebUsbAllowDevicesForUrls: [{ devices: [{ vendor_id: 0x08e6, product_id: 0x4433 }], urls: [pageOrigin, IWA_ORIGIN] }],
    IsolatedWebAppInstallForceList: [{ update_manifest_url: updateManifestUrl, web_bundle_id: WEB_BUNDLE_ID }],
  };
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
  const ctx = await phase('chromium-launch', ({ remainingMs }) =>
    chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, timeout: remainingMs(), args }),
  );
  ctx.setDefaultTimeout(90_000);
  ctx.setDefaultNavigationTimeout(90_000);
  step('chromium up', { version: ctx.browser()?.version() ?? '?' });
  try {
    // (a) the ordinary page; ready when the probe marks itself done
    await phase('page-a', async ({ remainingMs }) => {
      const pa = await ctx.newPage();
      await pa.goto(`${pageOrigin}/qemu-probe/probe.html?mode=claim`, { timeout: remainingMs() });
      results.a = await waitForProbe(pa, remainingMs());
      results.a.explanationShown = await pa.textContent('#explanation');
      results.a.explanationCode = await pa.getAttribute('#explanation', 'data-code');
      await pa.close();
    });
    step('(a) ordinary page', { code: results.a.error?.code, raw: results.a.rawClaim });

    // (c) what Chromium's IWA policy manager did with the force-install entry: ready when
    // chrome://web-app-internals lists an install result for the bundle id (success or refusal)
    results.policyInstall = await phase('iwa-policy', async () => {
      const ip = await ctx.newPage();
      for (;;) {
        await ip.goto('chrome://web-app-internals/').catch((e) => note(e.message));
        const text = (await ip.evaluate(internalsText).catch(() => '')).replace(/\s+/g, ' ');
        const at = text.indexOf('"install_results"');
        const entry = at >= 0 ? text.slice(at).match(new RegExp(`"${WEB_BUNDLE_ID}": \\{([^}]*)\\}`)) : null;
        const progressAt = text.indexOf('"install_progress"');
        const progress = progressAt >= 0 ? (text.slice(progressAt).match(new RegExp(`"${WEB_BUNDLE_ID}": \\[([^\\]]*)\\]`))?.[1] ?? '') : '';
        if (entry) {
          await ip.close();
          return {
            webBundleId: WEB_BUNDLE_ID,
            type: entry[1].match(/"type": "([^"]*)"/)?.[1] ?? null,
            message: entry[1].match(/"message": "([^"]*)"/)?.[1] ?? null,
            progress: [...progress.matchAll(/"([^"]*)"/g)].map((m) => m[1]),
            updateRequests: [...updateRequests],
          };
        }
        note(`no install result for ${WEB_BUNDLE_ID} yet; progress: ${progress.slice(0, 200)}; update server requests ${updateRequests.length}`);
        await pause(1000);
      }
    });
    step('(c) policy install', results.policyInstall);

    const cdp = await ctx.browser().newBrowserCDPSession();
    if (!iwaOrigin) {
      // the dev-mode proxy gives the app a random origin: read it from chrome://web-app-internals
      iwaOrigin = await phase('iwa-origin', async () => {
        const ip = await ctx.newPage();
        for (;;) {
          await ip.goto('chrome://web-app-internals/').catch((e) => note(e.message));
          const text = await ip.evaluate(internalsText).catch(() => '');
          // not the signed bundle's origin, which the force-install policy (c) names too
          const found = [...text.matchAll(/isolated-app:\/\/[a-z0-9]{50,}/g)].map((m) => m[0]).find((o) => o !== SIGNED_ORIGIN);
          if (found) {
            await ip.close();
            return found;
          }
          note(`not in chrome://web-app-internals yet (dev server requests: ${devRequests})`);
          await pause(1000);
        }
      });
      step('(b) dev-mode IWA origin', { iwaOrigin });
    }
    results.iwaOrigin = iwaOrigin;
    results.install = INSTALL;
    const IWA_ORIGIN = iwaOrigin;
    const manifestId = `${IWA_ORIGIN}/`;
    // ?rtt=N: after the bind, N SELECT MF round trips timed in the page (QB_RTT, a figure)
    const probeUrl = `${IWA_ORIGIN}/qemu-probe/probe.html?mode=bind&challenge=${encodeURIComponent(CHALLENGE)}&rtt=${Number(process.env.QB_RTT ?? 0)}`;

    if (INSTALL === 'url') {
      // grant the reader to the app's origin
      policy.WebUsbAllowDevicesForUrls[0].urls.push(iwaOrigin);
      writeFileSync('/etc/chromium/policies/managed/webccid-qemu-browser.json', JSON.stringify(policy));
      // Chromium reloads the policy file by itself a while later: the probe in the app waits for
      // the reader to be granted (navigator.usb.getDevices), within the probe-b budget.
      step('(b) policy written');
    }

    // Whether the app is in the web-app registrar yet (PWA.getOsAppState answers "Unknown web-app
    // manifest id" before), for the notes: a late phase then says whether Chromium had installed it.
    const installState = async () =>
      cdp.send('PWA.getOsAppState', { manifestId }).then(
        () => 'installed',
        (e) => (/Unknown web-app manifest id/.test(e.message) ? 'not installed yet' : `getOsAppState: ${e.message.slice(0, 120)}`),
      );

    // open the app: PWA.launch; headless Chromium may answer "Failed to launch" / "not in the scope"
    // for an installed app: then its URL in a tab. A tab opened while the install still runs gets
    // net::ERR_FAILED: that is not an answer, it is tried again. Ready when a page of the app is there.
    const appPage = () => ctx.pages().find((p) => p.url().startsWith(IWA_ORIGIN)) ?? null;
    const pb = await phase('iwa-open', async ({ remainingMs }) => {
      let refusals = 0;
      for (;;) {
        try {
          const launched = await cdp.send('PWA.launch', { manifestId });
          step('(b) PWA.launch', launched);
          const page = await ctx.waitForEvent('page', { predicate: (p) => p.url().startsWith(IWA_ORIGIN), timeout: 20_000 }).catch(() => appPage());
          if (page) return page;
          note('PWA.launch answered but no page of the app appeared');
        } catch (e) {
          note(`PWA.launch: ${e.message.slice(0, 160)}; app ${await installState()}; dev server requests ${devRequests}`);
          const page = appPage();
          if (page) return page;
          if (/Failed to launch|not in the scope/.test(e.message) && ++refusals >= 2) {
            const tab = await ctx.newPage();
            try {
              await tab.goto(probeUrl, { timeout: remainingMs() });
              step('(b) opened in a tab', { url: tab.url() });
              return tab;
            } catch (e2) {
              note(`tab: ${String(e2.message).slice(0, 160)}; app ${await installState()}; dev server requests ${devRequests}`);
              await tab.close().catch(() => undefined);
            }
          }
        }
        await pause(1000);
      }
    });
    results.b = await phase('probe-b', async ({ remainingMs }) => {
      if (!pb.url().includes('/qemu-probe/probe.html')) await pb.goto(probeUrl, { timeout: remainingMs() });
      const b = await waitForProbe(pb, remainingMs());
      b.url = pb.url();
      return b;
    });
    step('(b) IWA probe', { ok: results.b.ok, cardNumber: results.b.cardNumber, error: results.b.error });
  } catch (e) {
    if (results.latePhase === undefined) {
      // for the diagnosis: what Chromium says about its web apps
      const ip = await ctx.newPage().catch(() => null);
      if (ip) {
        await ip.goto('chrome://web-app-internals/').catch(() => undefined);
        const text = await ip.evaluate(internalsText).catch((err) => String(err));
        const at = Math.max(0, text.search(/isolat/i) - 500);
        results.webAppInternals = text.slice(at, at + 6000);
      }
    }
    throw e;
  } finally {
    await ctx.close().catch(() => undefined);
    server.close();
    devServer?.close();
    updateServer.close();
  }
  // the same APDUs on the same card through the native stack and our Node driver, once Chromium
  // (closed above: its process has exited) has let go of the reader; the order of the clients is
  // the order of the card's log on the host (real-route.e2e.ts splits it by these counts)
  if (RTT > 0) {
    results.sameCard = await phase('same-card', async () => {
      const out = { order: ['pcscd', 'node'] };
      out.pcscd = await pcscdRoundTrips();
      step('pcscd + libccid', { count: out.pcscd.ms?.length, transmits: out.pcscd.transmits, skipped: out.pcscd.skipped, error: out.pcscd.error });
      out.node = await nodeRoundTrips();
      step('node driver', { count: out.node.ms?.length, error: out.node.error });
      return out;
    });
  }
  results.ok = true;
}

main()
  .then(() => finish(0))
  .catch((e) => {
    results.error = `${results.phaseError ? `${results.phaseError}: ` : ''}${String(e?.stack ?? e)}`;
    log('FAILED', results.error);
    finish(1);
  })
  .finally(() => clearTimeout(phaseTimer));
