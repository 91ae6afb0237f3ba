import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createServer, request, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReferenceServer, type ReferenceServer, type ReferenceServerLogEntry, type ReferenceServerOptions } from './http.js';
import { DEMO_USER_CODE } from './demo.js';
import { referenceServerPlugin } from './vite.js';
import { createVirtualHcaCard, VIRTUAL_HCA_DEFAULTS } from '../virtual/hca-card.js';
import { createTestPki } from '../virtual/pki.js';
import { MemoryCardChannel } from '../card/memory.js';
import { HcaCard } from '../hca/card.js';
import { bindingMessage, createBindingResponse } from '../server/message.js';

const ORIGIN = 'http://localhost:5173';
const PUK = VIRTUAL_HCA_DEFAULTS.puk;
const CARD = VIRTUAL_HCA_DEFAULTS.cardNumber;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  text: string;
}

let dir: string;
let dbCount = 0;
const logs: ReferenceServerLogEntry[] = [];
const responses: string[] = [];
const consoleLines: string[] = [];
const running: Array<{ http: Server; app: ReferenceServer }> = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'webccid-ref-'));
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      consoleLines.push(args.map(String).join(' '));
    });
  }
});

afterEach(async () => {
  for (const { http, app } of running.splice(0)) {
    await new Promise<void>((resolve) => http.close(() => resolve()));
    app.close();
  }
});

afterAll(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
  // The iron rule: no PUK and no user code in any log line (ours or the console's).
  // (The demo PUK 12345678 is also the tail of the demo card number: card numbers are removed first.)
  const noCard = (t: string): string => t.split(CARD).join('<card>');
  const everything = noCard(JSON.stringify(logs) + consoleLines.join('\n'));
  expect(everything).not.toContain(PUK);
  expect(everything).not.toContain(DEMO_USER_CODE);
  // ... and the PUK only ever in the one kind of answer that is meant to carry it.
  for (const text of responses) if (!text.startsWith('{"puk":')) expect(noCard(text)).not.toContain(PUK);
  expect(responses.filter((t) => t.startsWith('{"puk":')).length).toBeGreaterThan(0);
});

async function start(options: ReferenceServerOptions & { clock?: { t: number } } = {}): Promise<{ port: number; app: ReferenceServer }> {
  const clock = options.clock;
  const app = createReferenceServer({
    dbPath: join(dir, `ref-${++dbCount}.sqlite`),
    unlockLimits: { iterations: 1000 },
    logger: (e) => logs.push(e),
    ...(clock ? { now: () => clock.t } : {}),
    ...options,
  });
  const http = createServer((req, res) => app(req, res));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  running.push({ http, app });
  const address = http.address();
  return { port: typeof address === 'object' && address ? address.port : 0, app };
}

function call(port: number, method: string, path: string, body?: string | object, headers: Record<string, string> = {}): Promise<Reply> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const h: Record<string, string> = { origin: ORIGIN, ...headers };
  if (payload !== undefined && !('content-type' in h)) h['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: h }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        responses.push(text);
        let parsed: Record<string, unknown> = {};
        try {
          parsed = JSON.parse(text) as Record<string, unknown>;
        } catch {
          parsed = {};
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed, text });
      });
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** The page side of the bind flow on the virtual card. */
async function signedResponse(port: number, card?: Awaited<ReturnType<typeof createVirtualHcaCard>>): Promise<object> {
  const ch = await call(port, 'POST', '/api/bind/challenge', {});
  expect(ch.status).toBe(200);
  const challenge = ch.body.challenge as string;
  card ??= await createVirtualHcaCard();
  const hca = await HcaCard.open(new MemoryCardChannel(card));
  const cardNumber = await hca.readCardNumber();
  const certificate = (await hca.readCertificate(1))!;
  await hca.verifyPin(VIRTUAL_HCA_DEFAULTS.pin);
  const input = { origin: ORIGIN, challenge, cardNumber };
  const signature = await hca.sign(bindingMessage(input));
  return createBindingResponse({ ...input, certificate, signature });
}

describe('reference server: requests', () => {
  it('answers health, 404 for unknown paths and 405 with Allow for a wrong method', async () => {
    const { port } = await start();
    expect((await call(port, 'GET', '/api/health')).body).toEqual({ ok: true });
    const nf = await call(port, 'GET', '/api/nothing');
    expect(nf).toMatchObject({ status: 404, body: { error: 'not-found' } });
    const outside = await call(port, 'GET', '/elsewhere');
    expect(outside.status).toBe(404);
    const m = await call(port, 'GET', '/api/unlock/puk');
    expect(m).toMatchObject({ status: 405, body: { error: 'method-not-allowed' } });
    expect(m.headers.allow).toBe('POST');
    // The demo endpoint does not exist unless enabled.
    expect((await call(port, 'POST', '/api/demo/trust-anchors', { certificates: [] })).status).toBe(404);
  });

  it('rejects bad JSON, non-objects, other media types and missing fields with a 4xx and a message', async () => {
    const { port } = await start();
    const bad = await call(port, 'POST', '/api/unlock/puk', '{"cardNumber": ');
    expect(bad).toMatchObject({ status: 400, body: { error: 'bad-json', message: expect.stringContaining('JSON') } });
    expect(await call(port, 'POST', '/api/unlock/puk', '[1,2]')).toMatchObject({ status: 400, body: { error: 'bad-request' } });
    expect(await call(port, 'POST', '/api/unlock/puk', Buffer.from([0x7b, 0xff, 0x7d]).toString('latin1'))).toMatchObject({ status: 400 });
    const text = await call(port, 'POST', '/api/unlock/puk', 'cardNumber=1', { 'content-type': 'text/plain' });
    expect(text).toMatchObject({ status: 415, body: { error: 'unsupported-media-type' } });
    const missing = await call(port, 'POST', '/api/unlock/puk', { cardNumber: CARD });
    expect(missing).toMatchObject({ status: 400, body: { error: 'missing-field', field: 'userCode', message: expect.stringContaining('userCode') } });
    expect(await call(port, 'POST', '/api/unlock/puk', { cardNumber: '12', userCode: 'x' })).toMatchObject({ status: 400, body: { error: 'bad-card-number' } });
    expect(await call(port, 'POST', '/api/bind/verify', { account: 'a'.repeat(200), response: {} })).toMatchObject({ status: 400, body: { error: 'bad-account' } });
  });

  it('rejects an oversized body with 413 (declared or streamed)', async () => {
    const { port } = await start({ maxBodyBytes: 1024 });
    const big = { cardNumber: CARD, userCode: 'x'.repeat(5000) };
    const r = await call(port, 'POST', '/api/unlock/puk', big);
    expect(r).toMatchObject({ status: 413, body: { error: 'body-too-large', limit: 1024, message: expect.any(String) } });
    // Chunked (no Content-Length): counted while streaming.
    const chunked = await call(port, 'POST', '/api/unlock/puk', JSON.stringify(big), { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    expect(chunked.status).toBe(413);
  });
});

describe('reference server: unlock', () => {
  it('gives the demo card PUK for the demo user code, not cached', async () => {
    const { port } = await start();
    const r = await call(port, 'POST', '/api/unlock/puk', { cardNumber: 'GH' + CARD, userCode: DEMO_USER_CODE });
    expect(r).toMatchObject({ status: 200, body: { puk: PUK } });
    expect(r.headers['cache-control']).toBe('no-store');
    expect(logs.some((e) => e.event === 'unlock.granted' && e.card === '****5678')).toBe(true);
  });

  it('401 with attempts left, then 423 locked with Retry-After, and 429 when rate-limited', async () => {
    const clock = { t: 1_000_000 };
    const { port } = await start({ clock, unlockLimits: { iterations: 1000, maxFailures: 2, lockoutMs: 60_000, perClient: 4, windowMs: 10_000 } });
    const wrong = await call(port, 'POST', '/api/unlock/puk', { cardNumber: CARD, userCode: 'nope' });
    expect(wrong).toMatchObject({ status: 401, body: { error: 'wrong-user-code', attemptsLeft: 1 } });
    const locked = await call(port, 'POST', '/api/unlock/puk', { cardNumber: CARD, userCode: 'nope' });
    expect(locked).toMatchObject({ status: 423, body: { error: 'card-locked', retryAfterSeconds: 60 } });
    expect(locked.headers['retry-after']).toBe('60');
    expect(await call(port, 'POST', '/api/unlock/puk', { cardNumber: CARD, userCode: DEMO_USER_CODE })).toMatchObject({ status: 423 });
    await call(port, 'POST', '/api/unlock/puk', { cardNumber: '000000000001', userCode: 'nope' });
    await call(port, 'POST', '/api/unlock/puk', { cardNumber: '000000000002', userCode: 'nope' });
    const limited = await call(port, 'POST', '/api/unlock/puk', { cardNumber: '000000000003', userCode: 'nope' });
    expect(limited).toMatchObject({ status: 429, body: { error: 'rate-limited', scope: 'client' } });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    clock.t += 61_000;
    expect(await call(port, 'POST', '/api/unlock/puk', { cardNumber: CARD, userCode: DEMO_USER_CODE })).toMatchObject({ status: 200, body: { puk: PUK } });
  });
});

describe('reference server: bind', () => {
  it('binds the virtual card to an account, refuses replays and a second account', async () => {
    const pki = await createTestPki();
    const { port } = await start({ trustAnchors: pki.trustAnchors, intermediates: pki.intermediates });
    const card = await createVirtualHcaCard();
    const response = await signedResponse(port, card);
    const ok = await call(port, 'POST', '/api/bind/verify', { account: 'alice', response });
    expect(ok).toMatchObject({ status: 200, body: { verified: true, binding: { account: 'alice', cardType: 'personnel', holderName: VIRTUAL_HCA_DEFAULTS.personnel.holderName } } });
    const replay = await call(port, 'POST', '/api/bind/verify', { account: 'alice', response });
    expect(replay).toMatchObject({ status: 422, body: { error: 'challenge-replayed', verified: false } });
    const other = await call(port, 'POST', '/api/bind/verify', { account: 'bob', response: await signedResponse(port, card) });
    expect(other).toMatchObject({ status: 409, body: { error: 'already-bound' } });
    const got = await call(port, 'GET', '/api/bind/binding?account=alice');
    expect(got).toMatchObject({ status: 200, body: { binding: { account: 'alice' } } });
    expect((await call(port, 'GET', '/api/bind/binding?account=bob')).status).toBe(404);
    expect(await call(port, 'POST', '/api/bind/verify', { account: 'alice', response: { nonsense: true } })).toMatchObject({ status: 400, body: { error: 'malformed-response' } });
  }, 30_000);

  it('refuses an origin outside the configured list', async () => {
    const { port } = await start({ origins: ['https://portal.example.org'] });
    expect(await call(port, 'POST', '/api/bind/challenge', {})).toMatchObject({ status: 403, body: { error: 'origin-not-allowed' } });
    expect(await call(port, 'POST', '/api/bind/challenge', {}, { origin: 'https://portal.example.org' })).toMatchObject({ status: 200, body: { origin: 'https://portal.example.org' } });
  });

  it('with allowDemoTrustAnchors, the page registers its test PKI root; before that the chain is untrusted', async () => {
    const pki = await createTestPki();
    const { port } = await start({ allowDemoTrustAnchors: true, intermediates: pki.intermediates, dbPath: join(dir, 'demo.sqlite') });
    const before = await call(port, 'POST', '/api/bind/verify', { account: 'carol', response: await signedResponse(port) });
    expect(before).toMatchObject({ status: 422, body: { error: 'untrusted-chain' } });
    const root = Buffer.from(pki.root.der).toString('base64');
    expect(await call(port, 'POST', '/api/demo/trust-anchors', { certificates: ['bm9wZQ=='] })).toMatchObject({ status: 400 });
    expect(await call(port, 'POST', '/api/demo/trust-anchors', { certificates: [root] })).toMatchObject({ status: 200, body: { added: 1 } });
    const after = await call(port, 'POST', '/api/bind/verify', { account: 'carol', response: await signedResponse(port) });
    expect(after).toMatchObject({ status: 200, body: { verified: true } });
  }, 30_000);
});

describe('reference server: persistence', () => {
  it('keeps cards, lockouts, challenges and bindings across a restart (same database file)', async () => {
    const dbPath = join(dir, 'restart', 'ref.sqlite');
    const pki = await createTestPki();
    const clock = { t: Date.now() };
    const opts = { dbPath, clock, trustAnchors: pki.trustAnchors, intermediates: pki.intermediates, unlockLimits: { iterations: 1000, maxFailures: 1, lockoutMs: 3_600_000 } };
    const first = await start(opts);
    expect(await call(first.port, 'POST', '/api/unlock/puk', { cardNumber: '111111111111', userCode: 'x' })).toMatchObject({ status: 423 });
    const response = await signedResponse(first.port);
    const bound = await call(first.port, 'POST', '/api/bind/verify', { account: 'dave', response: await signedResponse(first.port) });
    expect(bound.status).toBe(200);
    const { http, app } = running.pop()!;
    await new Promise<void>((resolve) => http.close(() => resolve()));
    app.close();

    const second = await start({ ...opts, demoCards: false });
    expect(await call(second.port, 'POST', '/api/unlock/puk', { cardNumber: CARD, userCode: DEMO_USER_CODE })).toMatchObject({ status: 200, body: { puk: PUK } });
    expect(await call(second.port, 'POST', '/api/unlock/puk', { cardNumber: '111111111111', userCode: 'x' })).toMatchObject({ status: 423 });
    expect(await call(second.port, 'GET', '/api/bind/binding?account=dave')).toMatchObject({ status: 200, body: { binding: { account: 'dave' } } });
    // A challenge issued before the restart is still good once (rebinding the same account).
    expect(await call(second.port, 'POST', '/api/bind/verify', { account: 'dave', response })).toMatchObject({ status: 200 });
    expect(await call(second.port, 'POST', '/api/bind/verify', { account: 'dave', response })).toMatchObject({ status: 422, body: { error: 'challenge-replayed' } });
  }, 30_000);
});

describe('referenceServerPlugin', () => {
  it('mounts the handler as middleware that passes other paths on, and closes with the server', async () => {
    const uses: Array<(req: never, res: never, next: () => void) => void> = [];
    let onClose: (() => void) | undefined;
    const plugin = referenceServerPlugin({ dbPath: ':memory:', logger: (e) => logs.push(e), unlockLimits: { iterations: 1000 } });
    plugin.configureServer({
      middlewares: { use: (fn) => uses.push(fn as never) },
      httpServer: { once: (_event, listener) => (onClose = listener) },
    });
    expect(plugin.name).toBe('webccid-reference-server');
    expect(uses).toHaveLength(1);
    const http = createServer((req, res) => {
      uses[0]!(req as never, res as never, () => {
        res.end('next');
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
    const port = (http.address() as { port: number }).port;
    expect((await call(port, 'GET', '/index.html')).text).toBe('next');
    expect(await call(port, 'POST', '/api/unlock/puk', { cardNumber: CARD, userCode: DEMO_USER_CODE })).toMatchObject({ status: 200, body: { puk: PUK } });
    await new Promise<void>((resolve) => http.close(() => resolve()));
    onClose?.();
  });
});
