import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
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

const originOf = (port: number): string => `http://127.0.0.1:${port}`;
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
    await app.close();
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
  expect(everything).not.toContain('correct horse');
  // ... and the PUK only ever in the one kind of answer that is meant to carry it.
  for (const text of responses) if (!text.startsWith('{"puk":')) expect(noCard(text)).not.toContain(PUK);
  expect(responses.filter((t) => t.startsWith('{"puk":')).length).toBeGreaterThan(0);
});

async function start(options: ReferenceServerOptions & { clock?: { t: number } } = {}): Promise<{ port: number; app: ReferenceServer }> {
  const clock = options.clock;
  const app = createReferenceServer({
    dbPath: join(dir, `ref-${++dbCount}.sqlite`),
    unlockLimits: { hashCost: 1024 },
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
  const h: Record<string, string> = { origin: originOf(port), ...headers };
  for (const [k, v] of Object.entries(h)) if (v === '') delete h[k];
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
  const input = { origin: originOf(port), challenge, cardNumber };
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
    expect(await call(port, 'POST', '/api/account/register', { account: 'a'.repeat(200), password: 'correct horse' })).toMatchObject({ status: 400, body: { error: 'bad-account' } });
    expect(await call(port, 'POST', '/api/account/register', { account: 'alice', password: 'short' })).toMatchObject({ status: 400, body: { error: 'bad-password' } });
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

  it('a chunked body over the limit, sent in pieces by a client that reads only once it has sent it all: 413, no reset (10 times)', async () => {
    const { port } = await start();
    const piece = 'x'.repeat(1024);
    for (let trial = 0; trial < 10; trial++) {
      // Like most HTTP clients (curl without 100-continue, Python's requests): the whole body first, then the answer.
      const outcome = await new Promise<{ text: string; error?: string }>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        let text = '';
        let error: string | undefined;
        socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
        socket.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code ?? String(e)));
        socket.on('close', () => resolve(error === undefined ? { text } : { text, error }));
        const chunk = (data: string): string => `${Buffer.byteLength(data).toString(16)}\r\n${data}\r\n`;
        socket.write(`POST /api/unlock/puk HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: ${originOf(port)}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
        socket.write(chunk('{"cardNumber":"000012345678","userCode":"'));
        let sent = 0;
        const more = (): void => {
          if (socket.destroyed) return;
          if (sent++ === 64) {
            socket.write(chunk('"}') + '0\r\n\r\n');
            return;
          }
          socket.write(chunk(piece), () => setTimeout(more, 2));
        };
        more();
      });
      expect(outcome.error).toBeUndefined();
      expect(outcome.text).toMatch(/^HTTP\/1\.1 413 /);
      expect(outcome.text).toContain('"error":"body-too-large"');
    }
  }, 60_000);
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
    const { port } = await start({ clock, unlockLimits: { hashCost: 1024, maxFailures: 2, lockoutMs: 60_000, perClient: 4, windowMs: 10_000 } });
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

/** The session cookie a response set (name=value), for the next requests. */
function cookieOf(r: Reply): string {
  const set = r.headers['set-cookie'];
  const line = (Array.isArray(set) ? set : [String(set ?? '')]).find((c) => c.startsWith('webccid_session='));
  expect(line, 'a session cookie').toBeDefined();
  return line!.split(';')[0]!;
}

async function register(port: number, account: string, bindToken?: string): Promise<Reply> {
  return call(port, 'POST', '/api/account/register', { account, password: 'correct horse', ...(bindToken ? { bindToken } : {}) });
}

async function verified(port: number, card?: Awaited<ReturnType<typeof createVirtualHcaCard>>, headers: Record<string, string> = {}): Promise<Reply> {
  return call(port, 'POST', '/api/bind/verify', { response: await signedResponse(port, card) }, headers);
}

describe('reference server: 驗證, 送出申請 and the caller’s own account', () => {
  it('驗證 gives a one-use binding token and binds nothing; 送出申請 creates the account with the card', async () => {
    const pki = await createTestPki();
    const { port } = await start({ trustAnchors: pki.trustAnchors, intermediates: pki.intermediates });
    const card = await createVirtualHcaCard();
    const response = await signedResponse(port, card);
    const v = await call(port, 'POST', '/api/bind/verify', { response });
    expect(v).toMatchObject({ status: 200, body: { verified: true, bindToken: expect.stringMatching(/^[\w-]{43}$/), card: { cardType: 'personnel', holderName: VIRTUAL_HCA_DEFAULTS.personnel.holderName } } });
    const token = v.body.bindToken as string;
    // Nothing is bound yet, and nobody is signed in.
    expect(await call(port, 'GET', '/api/bind/binding')).toMatchObject({ status: 401, body: { error: 'not-signed-in' } });
    const reg = await register(port, 'alice', token);
    expect(reg).toMatchObject({ status: 201, body: { account: 'alice', binding: { account: 'alice', cardNumber: CARD } } });
    const setCookie = String(reg.headers['set-cookie']);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    const alice = cookieOf(reg);
    expect(await call(port, 'GET', '/api/bind/binding', undefined, { cookie: alice })).toMatchObject({ status: 200, body: { binding: { account: 'alice', cardType: 'personnel' } } });
    expect(await call(port, 'GET', '/api/account/session', undefined, { cookie: alice })).toMatchObject({ status: 200, body: { account: 'alice' } });
    // One use: the token is spent.
    expect(await register(port, 'bob', token)).toMatchObject({ status: 422, body: { error: 'bind-token-invalid' } });
    expect(await call(port, 'POST', '/api/bind/verify', { response })).toMatchObject({ status: 422, body: { error: 'challenge-replayed', verified: false } });
    // The card is alice's: 驗證 by anyone else is refused at once.
    expect(await verified(port, card)).toMatchObject({ status: 409, body: { error: 'already-bound' } });
    expect(await register(port, 'alice')).toMatchObject({ status: 409, body: { error: 'account-exists' } });
    expect(await call(port, 'POST', '/api/bind/verify', { response: { nonsense: true } })).toMatchObject({ status: 400, body: { error: 'malformed-response' } });
  }, 30_000);

  it('the binding endpoints act only on the session’s account: ?account= of another is ignored, no session is 401', async () => {
    const pki = await createTestPki();
    const { port } = await start({ trustAnchors: pki.trustAnchors, intermediates: pki.intermediates });
    const alice = cookieOf(await register(port, 'alice', (await verified(port)).body.bindToken as string));
    const mallory = cookieOf(await register(port, 'mallory'));
    // Mallory asks for, and deletes, "alice": he only ever reaches his own (empty) account.
    const peek = await call(port, 'GET', '/api/bind/binding?account=alice', undefined, { cookie: mallory });
    expect(peek).toMatchObject({ status: 404, body: { error: 'not-bound' } });
    expect(peek.text).not.toContain(VIRTUAL_HCA_DEFAULTS.personnel.holderName);
    expect(await call(port, 'DELETE', '/api/bind/binding?account=alice', undefined, { cookie: mallory })).toMatchObject({ status: 200, body: { removed: false } });
    expect(await call(port, 'GET', '/api/bind/binding', undefined, { cookie: alice })).toMatchObject({ status: 200, body: { binding: { account: 'alice' } } });
    // No session, or a made-up one: 401 everywhere.
    for (const cookie of ['', 'webccid_session=' + 'A'.repeat(43)]) {
      expect(await call(port, 'GET', '/api/bind/binding?account=alice', undefined, { cookie })).toMatchObject({ status: 401 });
      expect(await call(port, 'DELETE', '/api/bind/binding?account=alice', undefined, { cookie })).toMatchObject({ status: 401 });
      expect(await call(port, 'POST', '/api/bind/commit', { bindToken: 'x'.repeat(43) }, { cookie })).toMatchObject({ status: 401 });
    }
    // Sign in and out.
    expect(await call(port, 'POST', '/api/account/login', { account: 'alice', password: 'wrong password' })).toMatchObject({ status: 401, body: { error: 'bad-credentials' } });
    expect(await call(port, 'POST', '/api/account/login', { account: 'nobody', password: 'correct horse' })).toMatchObject({ status: 401, body: { error: 'bad-credentials' } });
    const again = cookieOf(await call(port, 'POST', '/api/account/login', { account: 'alice', password: 'correct horse' }));
    expect(await call(port, 'GET', '/api/bind/binding', undefined, { cookie: again })).toMatchObject({ status: 200 });
    expect(await call(port, 'POST', '/api/account/logout', {}, { cookie: again })).toMatchObject({ status: 200 });
    expect(await call(port, 'GET', '/api/bind/binding', undefined, { cookie: again })).toMatchObject({ status: 401 });
    expect(await call(port, 'DELETE', '/api/bind/binding', undefined, { cookie: alice })).toMatchObject({ status: 200, body: { removed: true } });
  }, 30_000);

  it('an abandoned 驗證 leaves no binding: the corrected account and the next user bind the card; tokens expire', async () => {
    const pki = await createTestPki();
    const clock = { t: Date.now() };
    const { port } = await start({ clock, trustAnchors: pki.trustAnchors, intermediates: pki.intermediates, bindTokenTtlMs: 60_000 });
    const card = await createVirtualHcaCard();
    // Typed "nurse-O1", pressed 驗證, then corrected the name and pressed 驗證 again: no 409.
    const first = await verified(port, card);
    expect(first.status).toBe(200);
    const second = await verified(port, card);
    expect(second).toMatchObject({ status: 200, body: { verified: true } });
    // Walked away from the kiosk: the next user with the same card is not refused either.
    const next = await verified(port, card);
    expect(next.status).toBe(200);
    // A token past its lifetime commits nothing.
    clock.t += 61_000;
    expect(await register(port, 'nurse-01', next.body.bindToken as string)).toMatchObject({ status: 422, body: { error: 'bind-token-invalid' } });
    const fresh = await verified(port, card);
    expect(await register(port, 'nurse-02', fresh.body.bindToken as string)).toMatchObject({ status: 201, body: { binding: { account: 'nurse-02' } } });
  }, 30_000);

  it('帳號管理: 驗證 while signed in, then 綁定 commits the new card to the session’s account (重新綁定)', async () => {
    const pki = await createTestPki();
    const { port } = await start({ trustAnchors: pki.trustAnchors, intermediates: pki.intermediates });
    const carol = cookieOf(await register(port, 'carol', (await verified(port)).body.bindToken as string));
    const clinic = await createVirtualHcaCard({ kind: 'institution' });
    // Her own card again is fine while signed in; another account's is not.
    const v = await verified(port, clinic, { cookie: carol });
    expect(v.status).toBe(200);
    expect(await call(port, 'POST', '/api/bind/commit', { bindToken: v.body.bindToken }, { cookie: carol })).toMatchObject({ status: 200, body: { binding: { account: 'carol', cardType: 'institution' } } });
    expect(await call(port, 'GET', '/api/bind/binding', undefined, { cookie: carol })).toMatchObject({ status: 200, body: { binding: { cardType: 'institution' } } });
    expect(await call(port, 'POST', '/api/bind/commit', { bindToken: v.body.bindToken }, { cookie: carol })).toMatchObject({ status: 422, body: { error: 'bind-token-invalid' } });
    expect((await verified(port, clinic, { cookie: carol })).status).toBe(200);
  }, 30_000);

  it('an integrator’s own authentication (`authenticate`) replaces the session; /account/* is off', async () => {
    const pki = await createTestPki();
    const { port, app } = await start({
      trustAnchors: pki.trustAnchors,
      intermediates: pki.intermediates,
      authenticate: (req) => (req.headers.authorization === 'Bearer dave-token' ? 'dave' : undefined),
    });
    expect((await register(port, 'eve')).status).toBe(404);
    const v = await verified(port);
    expect(await call(port, 'POST', '/api/bind/commit', { bindToken: v.body.bindToken })).toMatchObject({ status: 401 });
    expect(await call(port, 'POST', '/api/bind/commit', { bindToken: v.body.bindToken }, { authorization: 'Bearer dave-token' })).toMatchObject({ status: 200, body: { binding: { account: 'dave' } } });
    expect((await app.bind.bindingOf('dave'))?.cardNumber).toBe(CARD);
  }, 30_000);

  it('refuses an origin outside the configured list, and a page of another localhost origin on every endpoint', async () => {
    const { port } = await start({ origins: ['https://portal.example.org'] });
    expect(await call(port, 'POST', '/api/bind/challenge', {})).toMatchObject({ status: 403, body: { error: 'origin-not-allowed' } });
    expect(await call(port, 'POST', '/api/bind/challenge', {}, { origin: 'https://portal.example.org' })).toMatchObject({ status: 200, body: { origin: 'https://portal.example.org' } });
    const own = await start();
    const other = { origin: 'http://localhost:3000' };
    const puk = await call(own.port, 'POST', '/api/unlock/puk', { cardNumber: CARD, userCode: DEMO_USER_CODE }, other);
    expect(puk).toMatchObject({ status: 403, body: { error: 'origin-not-allowed' } });
    expect(puk.headers['access-control-allow-origin']).toBeUndefined();
    expect((await call(own.port, 'POST', '/api/account/login', { account: 'alice', password: 'correct horse' }, other)).status).toBe(403);
  });
});

describe('reference server: bounded demo anchors and challenges', () => {
  it('/demo/trust-anchors: only the page of this origin on this machine, the newest few kept', async () => {
    const pkis = await Promise.all(['a', 'b', 'c'].map((instance) => createTestPki({ instance })));
    const { port } = await start({ allowDemoTrustAnchors: true, maxDemoTrustAnchors: 4 });
    const certs = (p: (typeof pkis)[number]) => [Buffer.from(p.root.der).toString('base64'), Buffer.from(p.ca.der).toString('base64')];
    const before = await call(port, 'POST', '/api/bind/verify', { response: await signedResponse(port, await createVirtualHcaCard({ pki: pkis[0] })) });
    expect(before).toMatchObject({ status: 422, body: { error: 'untrusted-chain' } });
    expect(await call(port, 'POST', '/api/demo/trust-anchors', { certificates: ['bm9wZQ=='] })).toMatchObject({ status: 400 });
    expect(await call(port, 'POST', '/api/demo/trust-anchors', { certificates: certs(pkis[0]!) }, { origin: '' })).toMatchObject({ status: 403, body: { error: 'demo-only' } });
    expect(await call(port, 'POST', '/api/demo/trust-anchors', { certificates: certs(pkis[0]!) }, { origin: 'http://localhost:3000' })).toMatchObject({ status: 403 });
    expect(await call(port, 'POST', '/api/demo/trust-anchors', { certificates: certs(pkis[0]!) })).toMatchObject({ status: 200, body: { added: 2, total: 2 } });
    expect(await call(port, 'POST', '/api/bind/verify', { response: await signedResponse(port, await createVirtualHcaCard({ pki: pkis[0] })) })).toMatchObject({ status: 200 });
    // The same again adds nothing; two more PKIs push the first out (at most 4 anchors).
    for (let i = 0; i < 50; i++) expect(await call(port, 'POST', '/api/demo/trust-anchors', { certificates: certs(pkis[0]!) })).toMatchObject({ body: { added: 0, total: 2 } });
    expect(await call(port, 'POST', '/api/demo/trust-anchors', { certificates: certs(pkis[1]!) })).toMatchObject({ body: { total: 4 } });
    expect(await call(port, 'POST', '/api/demo/trust-anchors', { certificates: certs(pkis[2]!) })).toMatchObject({ body: { total: 4 } });
    expect(await call(port, 'POST', '/api/bind/verify', { response: await signedResponse(port, await createVirtualHcaCard({ pki: pkis[0] })) })).toMatchObject({ status: 422, body: { error: 'untrusted-chain' } });
    expect(await call(port, 'POST', '/api/bind/verify', { response: await signedResponse(port, await createVirtualHcaCard({ pki: pkis[2] })) })).toMatchObject({ status: 200 });
  }, 60_000);

  it('challenges: a per-client rate (429) and a cap on the rows kept (503), expired ones pruned', async () => {
    const clock = { t: 1_000_000 };
    const { port, app } = await start({
      clock,
      challengeTtlMs: 60_000,
      challengeRate: { perClient: 5, windowMs: 60_000 },
      maxChallenges: 40,
      clientId: (req) => String(req.headers['x-client'] ?? 'one'),
    });
    const answers = await Promise.all(Array.from({ length: 300 }, () => call(port, 'POST', '/api/bind/challenge', {})));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(5);
    const limited = answers.find((a) => a.status === 429)!;
    expect(limited).toMatchObject({ body: { error: 'rate-limited', scope: 'client' } });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Many clients: the table stops at the cap.
    const many = await Promise.all(Array.from({ length: 300 }, (_, i) => call(port, 'POST', '/api/bind/challenge', {}, { 'x-client': `c${i}` })));
    expect(many.filter((a) => a.status === 200)).toHaveLength(35);
    expect(many.find((a) => a.status === 503)).toMatchObject({ body: { error: 'too-many-challenges' } });
    expect(await app.store.countChallenges()).toBe(40);
    // Once they are long expired they are pruned and new ones can be had.
    clock.t += 60_000 + 10 * 60_000 + 1;
    expect(await call(port, 'POST', '/api/bind/challenge', {}, { 'x-client': 'later' })).toMatchObject({ status: 200 });
    expect(await app.store.countChallenges()).toBe(1);
  }, 60_000);
});

describe('reference server: persistence and secrets at rest', () => {
  it('keeps cards, lockouts, challenges, accounts and bindings across a restart (same database file)', async () => {
    const dbPath = join(dir, 'restart', 'ref.sqlite');
    const pki = await createTestPki();
    const clock = { t: Date.now() };
    const opts = { dbPath, clock, trustAnchors: pki.trustAnchors, intermediates: pki.intermediates, unlockLimits: { hashCost: 1024, maxFailures: 1, lockoutMs: 3_600_000 } };
    const first = await start(opts);
    expect(await call(first.port, 'POST', '/api/unlock/puk', { cardNumber: '111111111111', userCode: 'x' })).toMatchObject({ status: 423 });
    const response = await signedResponse(first.port);
    const dave = cookieOf(await register(first.port, 'dave', (await verified(first.port)).body.bindToken as string));
    const { http, app } = running.pop()!;
    await new Promise<void>((resolve) => http.close(() => resolve()));
    await app.close();

    const second = await start({ ...opts, demoCards: false });
    expect(await call(second.port, 'POST', '/api/unlock/puk', { cardNumber: CARD, userCode: DEMO_USER_CODE })).toMatchObject({ status: 200, body: { puk: PUK } });
    expect(await call(second.port, 'POST', '/api/unlock/puk', { cardNumber: '111111111111', userCode: 'x' })).toMatchObject({ status: 423 });
    // The session and the binding survived (a new port is a new origin, the cookie is the same).
    expect(await call(second.port, 'GET', '/api/bind/binding', undefined, { cookie: dave })).toMatchObject({ status: 200, body: { binding: { account: 'dave' } } });
    // A challenge issued before the restart is still good once (its origin is the first port's).
    const replayOrigin = { origin: originOf(first.port), host: `127.0.0.1:${first.port}` };
    expect(await call(second.port, 'POST', '/api/bind/verify', { response }, { ...replayOrigin, cookie: dave })).toMatchObject({ status: 200 });
    expect(await call(second.port, 'POST', '/api/bind/verify', { response }, replayOrigin)).toMatchObject({ status: 422, body: { error: 'challenge-replayed' } });
  }, 30_000);

  it('the database file holds no PUK, user code or password in clear; the key file is private', async () => {
    const dbPath = join(dir, 'secrets', 'ref.sqlite');
    const secretPuk = '90817263';
    const secretCode = 'Unusual-User-Code-7';
    const { port } = await start({ dbPath, demoCards: [{ cardNumber: '555555555555', puk: secretPuk, userCode: secretCode }] });
    expect(await register(port, 'frank-01')).toMatchObject({ status: 201 });
    expect(await call(port, 'POST', '/api/unlock/puk', { cardNumber: '555555555555', userCode: secretCode })).toMatchObject({ status: 200, body: { puk: secretPuk } });
    const bytes = readFileSync(dbPath).toString('latin1');
    expect(bytes).toContain('555555555555');
    expect(bytes).not.toContain(secretPuk);
    expect(bytes).not.toContain(secretCode);
    expect(bytes).not.toContain('correct horse');
    const key = join(dir, 'secrets', 'reference-server.key');
    expect(statSync(key).mode & 0o077).toBe(0);
    // Another key cannot open the PUKs: the server says so instead of answering with garbage.
    const { http, app } = running.pop()!;
    await new Promise<void>((resolve) => http.close(() => resolve()));
    await app.close();
    const other = await start({ dbPath, secretKey: new Uint8Array(32).fill(7), demoCards: false });
    expect(await call(other.port, 'POST', '/api/unlock/puk', { cardNumber: '555555555555', userCode: secretCode })).toMatchObject({ status: 500 });
  }, 30_000);
});

describe('referenceServerPlugin', () => {
  it('mounts the handler as middleware that passes other paths on, and closes with the server', async () => {
    const uses: Array<(req: never, res: never, next: () => void) => void> = [];
    let onClose: (() => void) | undefined;
    const plugin = referenceServerPlugin({ dbPath: ':memory:', logger: (e) => logs.push(e), unlockLimits: { hashCost: 1024 } });
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

  it('POST /api/demo/reset (the plugin only) lifts the demo card\'s lockout; the demo page\'s origin only', async () => {
    const uses: Array<(req: never, res: never, next: () => void) => void> = [];
    let onClose: (() => void) | undefined;
    const plugin = referenceServerPlugin({ dbPath: ':memory:', logger: (e) => logs.push(e), unlockLimits: { hashCost: 1024 } });
    plugin.configureServer({ middlewares: { use: (fn) => uses.push(fn as never) }, httpServer: { once: (_event, listener) => (onClose = listener) } });
    const http = createServer((req, res) => uses[0]!(req as never, res as never, () => res.end('next')));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
    const port = (http.address() as { port: number }).port;
    for (let i = 0; i < 5; i++) await call(port, 'POST', '/api/unlock/puk', { cardNumber: CARD, userCode: `wrong-${i}` });
    expect((await call(port, 'POST', '/api/unlock/puk', { cardNumber: CARD, userCode: DEMO_USER_CODE })).status).toBe(423);
    // Another site's page cannot reset it.
    expect((await call(port, 'POST', '/api/demo/reset', {}, { origin: 'https://elsewhere.example' })).status).toBe(403);
    expect((await call(port, 'POST', '/api/unlock/puk', { cardNumber: CARD, userCode: DEMO_USER_CODE })).status).toBe(423);
    expect(await call(port, 'POST', '/api/demo/reset', {})).toMatchObject({ status: 200, body: { reset: 1 } });
    expect(await call(port, 'POST', '/api/unlock/puk', { cardNumber: CARD, userCode: DEMO_USER_CODE })).toMatchObject({ status: 200, body: { puk: PUK } });
    await new Promise<void>((resolve) => http.close(() => resolve()));
    onClose?.();
  });

  it('createReferenceServer has no /demo/reset unless asked (404)', async () => {
    const { port } = await start();
    expect(await call(port, 'POST', '/api/demo/reset', {})).toMatchObject({ status: 404, body: { error: 'not-found' } });
  });
});
