// The consumer's server: serves the built page and does the bind flow's server side with
// webccid/server (challenge, verification against the trust anchors it was given).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createBindingChallenge, decodeBase64, verifyBinding, type BindingResult } from 'webccid/server';

const root = path.resolve(process.argv[2] ?? 'dist');
const trustAnchors: Uint8Array[] = [];
const intermediates: Uint8Array[] = [];
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css' };

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
}

function send(res: ServerResponse, status: number, json: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(json));
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
  const origin = url.origin;
  if (req.method === 'POST' && url.pathname === '/api/challenge') {
    const c = await createBindingChallenge({ origin });
    return send(res, 200, { challenge: c.challenge, origin: c.origin });
  }
  if (req.method === 'POST' && url.pathname === '/api/trust') {
    const b = await body(req);
    const rootDer = typeof b['root'] === 'string' ? decodeBase64(b['root']) : undefined;
    const caDer = typeof b['ca'] === 'string' ? decodeBase64(b['ca']) : undefined;
    if (!rootDer || !caDer) return send(res, 400, { error: 'bad-request' });
    trustAnchors.push(rootDer);
    intermediates.push(caDer);
    return send(res, 200, { added: 2 });
  }
  if (req.method === 'POST' && url.pathname === '/api/verify') {
    const b = await body(req);
    const result: BindingResult = await verifyBinding({ response: b['response'], expectedOrigin: origin, trustAnchors, intermediates });
    return send(res, 200, result.verified ? { verified: true, holder: result.holder.name } : { verified: false, code: result.code });
  }
  const file = path.join(root, url.pathname === '/' ? 'index.html' : path.normalize(url.pathname));
  if (!file.startsWith(root)) return send(res, 404, { error: 'not-found' });
  try {
    const data = await readFile(file);
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    res.end(data);
  } catch {
    send(res, 404, { error: 'not-found' });
  }
}

const server = createServer((req, res) => {
  handle(req, res).catch((e: unknown) => send(res, 500, { error: String(e) }));
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') console.log(`listening ${address.port}`);
});
