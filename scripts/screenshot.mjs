#!/usr/bin/env node
/**
 * Screenshot of the demo page with the system's headless Chromium (no
 * download, no Playwright), over the DevTools protocol so the page runs in
 * real time (timings in the log are real) and the shot waits until the page
 * says it is done (`<html data-ready="1">`, set by web/main.ts).
 *
 * The page reads URL parameters (see web/main.ts), so the state to show is
 * given in the URL: by default the virtual Castles EZCCID reader, the
 * HCA-like card powered, a SELECT and a GET CHALLENGE sent.
 *
 *   npm start &                      # serves http://localhost:5173
 *   node scripts/screenshot.mjs [out.png] [query] [widthxheight]
 *
 * Env: CHROMIUM (default /usr/bin/chromium), DEMO_URL (default http://localhost:5173/driver.html),
 * DARK=1 (prefers-color-scheme: dark).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

if (typeof WebSocket === 'undefined') {
  // Node 20 has WebSocket behind a flag: run again with it.
  const r = spawnSync(process.execPath, ['--experimental-websocket', ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const out = resolve(process.argv[2] ?? 'docs/images/demo.png');
const query = process.argv[3] ?? 'autoconnect=1&apdu=00A4040008D15800000148434100,0084000008';
const [width, height] = (process.argv[4] ?? '1280x1600').split('x').map(Number);
const url = `${process.env.DEMO_URL ?? 'http://localhost:5173/driver.html'}${query ? `?${query}` : ''}`;
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
const profile = mkdtempSync(join(tmpdir(), 'webccid-shot-'));

const browser = spawn(chromium, [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--hide-scrollbars',
  `--user-data-dir=${profile}`,
  '--remote-debugging-port=0',
  'about:blank',
]);

function finish(code) {
  browser.kill();
  setTimeout(() => {
    rmSync(profile, { recursive: true, force: true });
    process.exit(code);
  }, 300);
}

const timer = setTimeout(() => {
  console.error('timed out');
  finish(1);
}, 60_000);

const wsUrl = await new Promise((resolveUrl, reject) => {
  let text = '';
  browser.stderr.on('data', (chunk) => {
    text += chunk;
    const m = /DevTools listening on (ws:\/\/\S+)/.exec(text);
    if (m) resolveUrl(m[1]);
  });
  browser.on('exit', () => reject(new Error(`chromium exited:\n${text}`)));
});

const ws = new WebSocket(wsUrl);
await new Promise((r) => ws.addEventListener('open', r, { once: true }));
let nextId = 1;
const pending = new Map();
ws.addEventListener('message', (event) => {
  const msg = JSON.parse(event.data);
  const p = pending.get(msg.id);
  if (!p) return;
  pending.delete(msg.id);
  if (msg.error) p.reject(new Error(JSON.stringify(msg.error)));
  else p.resolve(msg.result);
});
function send(method, params = {}, sessionId) {
  const id = nextId++;
  ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
  return new Promise((resolveResult, reject) => pending.set(id, { resolve: resolveResult, reject }));
}

try {
  const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
  await send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false }, sessionId);
  await send('Page.enable', {}, sessionId);
  if (process.env.DARK === '1') {
    await send('Emulation.setEmulatedMedia', { features: [{ name: 'prefers-color-scheme', value: 'dark' }] }, sessionId);
  }
  await send('Page.navigate', { url }, sessionId);
  for (let i = 0; ; i++) {
    const { result } = await send('Runtime.evaluate', { expression: 'document.documentElement.dataset.ready === "1"', returnByValue: true }, sessionId);
    if (result.value === true) break;
    if (i > 200) throw new Error('the page never said it was ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 300)); // let the last render and fonts settle
  const { data } = await send('Page.captureScreenshot', { format: 'png' }, sessionId);
  writeFileSync(out, Buffer.from(data, 'base64'));
  console.log(`${url} -> ${out}`);
  clearTimeout(timer);
  finish(0);
} catch (e) {
  console.error(e);
  clearTimeout(timer);
  finish(1);
}
