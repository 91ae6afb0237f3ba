/**
 * Serves the built web app (dist-web/) the way production should: static files with the
 * Content-Security-Policy and the other security headers of web/csp.ts, and (unless --no-api)
 * the reference server under /api with the demo trust-anchor endpoint on (a demo: never on a
 * real server). Used to check the built app under its CSP in Chromium, and for a kiosk demo.
 *
 *   npm run build && npx tsx scripts/serve-web.ts [--port 8080] [--host 127.0.0.1] [--no-api] [--db path]
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { createReferenceServer } from '../src/reference-server/index.js';
import { SECURITY_HEADERS } from '../web/csp.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const port = Number(option('--port') ?? 8080);
const host = option('--host') ?? '127.0.0.1';
const root = resolve(option('--dir') ?? 'dist-web');
const api = args.includes('--no-api') ? undefined : createReferenceServer({ dbPath: option('--db') ?? ':memory:', allowDemoTrustAnchors: true });

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

function serveFile(req: IncomingMessage, res: ServerResponse): void {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  let file = normalize(join(root, path));
  if (file !== root && !file.startsWith(root + sep)) {
    res.writeHead(403).end();
    return;
  }
  if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
  if (!existsSync(file)) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS }).end('Not found\n');
    return;
  }
  const hashed = file.includes(`${sep}assets${sep}`);
  res.writeHead(200, {
    'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
    'Cache-Control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
    ...SECURITY_HEADERS,
  });
  createReadStream(file).pipe(res);
}

if (!existsSync(root)) {
  console.error(`No ${root}: run "npm run build" first.`);
  process.exit(1);
}

const server = createServer((req, res) => {
  if (req.method !== 'GET' && req.method !== 'HEAD' && !api) {
    res.writeHead(405).end();
    return;
  }
  if (api) api(req, res, () => serveFile(req, res));
  else serveFile(req, res);
});
server.listen(port, host, () => {
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  console.log(`webccid web app: http://${host}:${actual}/ (${api ? 'with' : 'without'} the reference server at /api)`);
});
const stop = () => {
  api?.close();
  server.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
