/**
 * What `npm start` (Vite's dev server with web/vite.config.ts) and `vite preview` expose besides
 * the page: not the reference server's SQLite file or key (even inside the repository, by any
 * URL form Vite knows), not the rest of the repository, and no CORS for other localhost origins
 * (a page on http://localhost:3000 must not read a PUK).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { createServer, preview, type PreviewServer, type ViteDevServer } from 'vite';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const STATE = path.join(ROOT, '.webccid', `test-${randomBytes(4).toString('hex')}`);
const DB = path.join(STATE, 'reference-server.sqlite');
const KEY = path.join(STATE, 'reference-server.key');
const OTHER = 'http://localhost:3000';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

function call(port: number, method: string, url: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path: url, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('latin1') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = { 'content-type': 'application/json' };
const unlockBody = JSON.stringify({ cardNumber: '000012345678', userCode: 'Demo1234' });

describe('web/vite.config.ts: the dev server serves the page, not the server’s files, and grants no CORS', () => {
  let server: ViteDevServer;
  let port: number;
  beforeAll(async () => {
    mkdirSync(STATE, { recursive: true });
    process.env['WEBCCID_DB'] = DB;
    server = await createServer({
      configFile: path.join(ROOT, 'web/vite.config.ts'),
      server: { port: 0, host: '127.0.0.1', hmr: false, watch: null },
      cacheDir: path.join(STATE, 'vite-cache'),
      logLevel: 'silent',
    });
    await server.listen();
    port = (server.httpServer!.address() as { port: number }).port;
    // The database and its key exist once the reference server answered.
    expect((await call(port, 'GET', '/api/health')).status).toBe(200);
    expect(existsSync(DB) && existsSync(KEY)).toBe(true);
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    delete process.env['WEBCCID_DB'];
    rmSync(STATE, { recursive: true, force: true });
  });

  it('refuses the SQLite file and the key, by every URL form', async () => {
    const key = readFileSync(KEY, 'utf8').trim();
    const existing = [
      `/@fs${DB}`,
      `/@fs${DB}?raw`,
      `/@fs${DB}?import&raw`,
      `/@fs${DB}?url`,
      `/@fs${KEY}`,
      `/@fs${KEY}?raw`,
      `/@fs${ROOT}package.json`,
      `/@fs${ROOT}.gitignore`,
    ];
    for (const url of existing) {
      const a = await call(port, 'GET', url);
      expect(a.status, url).toBe(403);
      expect(a.text, url).not.toContain('SQLite format 3');
      expect(a.text, url).not.toContain(key);
    }
    // Paths that leave the root are resolved inside it: the page's fallback, never the file.
    const a = await call(port, 'GET', `/../.webccid/${path.basename(STATE)}/reference-server.sqlite`);
    expect(a.text).not.toContain('SQLite format 3');
  });

  it('still serves the pages and the driver sources', async () => {
    expect((await call(port, 'GET', '/bind.html')).status).toBe(200);
    expect((await call(port, 'GET', `/@fs${ROOT}src/index.ts`)).status).toBe(200);
  });

  it('no CORS for another localhost origin: not on the API, not on files, not on a preflight; its POST is refused', async () => {
    for (const url of ['/api/health', '/index.html', `/@fs${ROOT}src/index.ts`]) {
      const a = await call(port, 'GET', url, { origin: OTHER });
      expect(a.headers['access-control-allow-origin'], url).toBeUndefined();
    }
    const pre = await call(port, 'OPTIONS', '/api/unlock/puk', { origin: OTHER, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' });
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    const puk = await call(port, 'POST', '/api/unlock/puk', { ...json, origin: OTHER }, unlockBody);
    expect(puk.status).toBe(403);
    expect(puk.text).not.toContain('12345678"');
    const own = await call(port, 'POST', '/api/unlock/puk', { ...json, origin: `http://127.0.0.1:${port}` }, unlockBody);
    expect(own.status).toBe(200);
  });
});

describe('web/vite.config.ts: vite preview', () => {
  let server: PreviewServer;
  let port: number;
  beforeAll(async () => {
    mkdirSync(STATE, { recursive: true });
    process.env['WEBCCID_DB'] = DB;
    server = await preview({ configFile: path.join(ROOT, 'web/vite.config.ts'), preview: { port: 0, host: '127.0.0.1' }, logLevel: 'silent' });
    port = (server.httpServer.address() as { port: number }).port;
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    delete process.env['WEBCCID_DB'];
    rmSync(STATE, { recursive: true, force: true });
  });

  it('grants no CORS and keeps the demo trust-anchor endpoint to the demo page', async () => {
    const a = await call(port, 'GET', '/api/health', { origin: OTHER });
    expect(a.status).toBe(200);
    expect(a.headers['access-control-allow-origin']).toBeUndefined();
    const anchors = JSON.stringify({ certificates: ['bm9wZQ=='] });
    expect((await call(port, 'POST', '/api/demo/trust-anchors', json, anchors)).status).toBe(403);
    expect((await call(port, 'POST', '/api/demo/trust-anchors', { ...json, origin: OTHER }, anchors)).status).toBe(403);
  });

  it('a streamed (chunked) body of over a megabyte gets its 413, not a broken connection (20 times)', async () => {
    for (let trial = 0; trial < 20; trial++) {
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ === 24) controller.close();
          else controller.enqueue(new Uint8Array(65536).fill(0x78));
        },
      });
      const res = await fetch(`http://127.0.0.1:${port}/api/unlock/puk`, { method: 'POST', body, duplex: 'half', headers: json } as RequestInit);
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({ error: 'body-too-large' });
    }
  });
});
