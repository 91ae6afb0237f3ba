/**
 * The reference server as a plain Node request handler (also usable as
 * Connect / Express / Vite middleware: it calls `next()` for paths outside
 * its base path). JSON in, JSON out; every error is `{ error, message }` with
 * a 4xx status. Endpoints and how to replace them: docs/reference-server.md.
 *
 * Node only (node:http types, node-sqlite3-wasm).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { WebCcidError } from '../errors.js';
import { decodeBase64 } from '../server/base64.js';
import { isOrigin } from '../server/message.js';
import type { CardType, CertificateInput } from '../server/verify.js';
import { BindService, validAccount } from './bind.js';
import { openReferenceDatabase, type SqlDatabase } from './db.js';
import { DEMO_CARDS } from './demo.js';
import { loadX509 } from '../x509.js';
import { UnlockService, type UnlockCard, type UnlockLimits } from './unlock.js';

/** One log entry. Never holds a PUK, a user code, a PIN or a request body. */
export interface ReferenceServerLogEntry {
  level: 'info' | 'warn' | 'error';
  /** e.g. `unlock.granted`, `unlock.denied`, `bind.verified`, `bind.rejected`, `request.rejected`. */
  event: string;
  /** Card number masked to its last 4 digits. */
  card?: string;
  client?: string;
  code?: string;
  status?: number;
  account?: string;
}

export type ReferenceServerLogger = (entry: ReferenceServerLogEntry) => void;

export interface ReferenceServerOptions {
  /** SQLite database file; created with its directory. Default `.webccid/reference-server.sqlite` (relative to the working directory). `':memory:'` for a throw-away one. */
  dbPath?: string;
  /** Trust anchors of the bind verifier (e.g. the GRCA root). May be a promise (e.g. a test PKI being made). */
  trustAnchors?: readonly CertificateInput[] | Promise<readonly CertificateInput[]>;
  /** CA certificates between the holder certificate and an anchor (e.g. the HCA CA). */
  intermediates?: readonly CertificateInput[] | Promise<readonly CertificateInput[]>;
  /** URL path prefix of every endpoint. Default `/api`. */
  basePath?: string;
  /**
   * Page origins allowed to use the bind endpoints (`https://example.org`). Default: any, taken
   * from the request's Origin header (or Host): fine for the local demo, NOT for production.
   */
  origins?: readonly string[];
  /** Cards seeded when missing. Default `DEMO_CARDS` (the virtual HCA card); `false` for none. */
  demoCards?: readonly UnlockCard[] | false;
  /**
   * Enables `POST {basePath}/demo/trust-anchors`, with which the demo page registers the root of
   * the test PKI it made in the browser (kept in memory only). Default false. Never in production.
   */
  allowDemoTrustAnchors?: boolean;
  /** Largest accepted request body. Default 8 KiB. */
  maxBodyBytes?: number;
  /** Unlock rate limits and lockout. */
  unlockLimits?: Partial<UnlockLimits>;
  /** Lifetime of bind challenges. Default 2 minutes. */
  challengeTtlMs?: number;
  /** Only bind this card type. Default: both. */
  expectedCardType?: CardType;
  /** Where log entries go. Default: one JSON line a entry on console.info / console.warn / console.error. */
  logger?: ReferenceServerLogger;
  /** Clock in milliseconds (tests). */
  now?: () => number;
  /** Who the client is, for the per-client rate limit. Default the socket's remote address (behind a proxy: read X-Forwarded-For here). */
  clientId?: (req: IncomingMessage) => string;
}

/** A Node / Connect request handler with the services behind it. */
export interface ReferenceServer {
  (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void;
  /** Resolves when the demo cards are seeded. Requests wait for it by themselves. */
  readonly ready: Promise<void>;
  readonly unlock: UnlockService;
  readonly bind: BindService;
  readonly db: SqlDatabase;
  /** Adds trust anchors at run time (memory only). */
  addTrustAnchors(anchors: readonly CertificateInput[]): void;
  /** Closes the database. */
  close(): void;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const DEFAULT_DB_PATH = '.webccid/reference-server.sqlite';
const DRAIN_LIMIT = 1 << 20;

function maskCard(cardNumber: unknown): string | undefined {
  if (typeof cardNumber !== 'string') return undefined;
  const digits = cardNumber.replace(/\D/g, '');
  return digits.length >= 4 ? `****${digits.slice(-4)}` : '****';
}

function defaultLogger(entry: ReferenceServerLogEntry): void {
  const line = `[webccid reference-server] ${JSON.stringify(entry)}`;
  if (entry.level === 'error') console.error(line);
  else if (entry.level === 'warn') console.warn(line);
  else console.info(line);
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.end(text);
}

/** Reads the JSON body: 415 unless application/json, 413 over the limit, 400 on bad JSON or a non-object. */
async function readJson(req: IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new HttpError(415, 'unsupported-media-type', 'Send the request body as JSON with Content-Type: application/json.');
  }
  const declared = Number(req.headers['content-length']);
  const tooLarge = (): HttpError => {
    // Drain (up to a limit) so the client can read the answer, then give up on the connection.
    let drained = 0;
    req.on('data', (chunk: Uint8Array) => {
      drained += chunk.length;
      if (drained > DRAIN_LIMIT) req.destroy();
    });
    req.resume();
    return new HttpError(413, 'body-too-large', `The request body is larger than ${maxBytes} bytes.`, { limit: maxBytes }, { Connection: 'close' });
  };
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const overflow = await new Promise<boolean>((resolve, reject) => {
    const onData = (chunk: Uint8Array): void => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off('data', onData);
        req.off('end', onEnd);
        resolve(true);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => resolve(false);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
  });
  if (overflow) throw tooLarge();
  const bytes = new Uint8Array(size);
  let o = 0;
  for (const c of chunks) {
    bytes.set(c, o);
    o += c.length;
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new HttpError(400, 'bad-json', 'The request body is not valid JSON.');
  } finally {
    bytes.fill(0);
    for (const c of chunks) c.fill(0);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'bad-request', 'The request body must be a JSON object.');
  }
  return value as Record<string, unknown>;
}

function need(body: Record<string, unknown>, field: string): unknown {
  const v = body[field];
  if (v === undefined || v === null || v === '') throw new HttpError(400, 'missing-field', `The field "${field}" is required.`, { field });
  return v;
}

function retryAfter(ms: number): Record<string, string> {
  return { 'Retry-After': String(Math.max(1, Math.ceil(ms / 1000))) };
}

/**
 * Creates the reference server: the unlock service (card number + user code
 * -> PUK) and the bind service (challenge, verify, store) over an embedded
 * SQLite file. Returns a request handler (`http.createServer(server)` or
 * middleware). Throws `WebCcidError('server/bad-option')` on a bad option.
 */
export function createReferenceServer(options: ReferenceServerOptions = {}): ReferenceServer {
  const basePath = (options.basePath ?? '/api').replace(/\/+$/, '');
  if (basePath !== '' && !/^\/[\w./-]*$/.test(basePath)) {
    throw new WebCcidError('server/bad-option', 'basePath must be a URL path such as /api.');
  }
  for (const o of options.origins ?? []) {
    if (!isOrigin(o)) throw new WebCcidError('server/bad-option', 'Each of origins must be a web origin such as https://example.org.');
  }
  const maxBodyBytes = options.maxBodyBytes ?? 8192;
  const now = options.now ?? Date.now;
  const log = options.logger ?? defaultLogger;
  const clientId = options.clientId ?? ((req: IncomingMessage) => req.socket.remoteAddress ?? 'unknown');
  const db = openReferenceDatabase(options.dbPath ?? DEFAULT_DB_PATH);
  const unlock = new UnlockService(db, options.unlockLimits);
  const extraAnchors: CertificateInput[] = [];
  const bindOptions: ConstructorParameters<typeof BindService>[1] = {
    trustAnchors: async () => [...((await options.trustAnchors) ?? []), ...extraAnchors],
    intermediates: async () => (await options.intermediates) ?? [],
  };
  if (options.challengeTtlMs !== undefined) bindOptions.challengeTtlMs = options.challengeTtlMs;
  if (options.expectedCardType !== undefined) bindOptions.expectedCardType = options.expectedCardType;
  const bind = new BindService(db, bindOptions);

  const ready = (async () => {
    for (const card of options.demoCards === false ? [] : (options.demoCards ?? DEMO_CARDS)) {
      if (!unlock.hasCard(card.cardNumber)) await unlock.addCard(card);
    }
  })();
  ready.catch(() => undefined);

  function originOf(req: IncomingMessage): string {
    const header = req.headers.origin;
    let origin: string | undefined;
    if (typeof header === 'string' && header !== 'null') origin = header;
    else if (options.origins?.length === 1) origin = options.origins[0];
    else if (typeof req.headers.host === 'string') {
      const secure = (req.socket as { encrypted?: boolean }).encrypted === true;
      origin = `${secure ? 'https' : 'http'}://${req.headers.host}`;
    }
    if (!isOrigin(origin) || (options.origins !== undefined && !options.origins.includes(origin))) {
      throw new HttpError(403, 'origin-not-allowed', 'This page origin may not use the bind service.');
    }
    return origin;
  }

  async function route(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    const method = req.method ?? 'GET';
    const allow = (methods: string): void => {
      if (!methods.split(', ').includes(method)) {
        throw new HttpError(405, 'method-not-allowed', `Use ${methods} on this endpoint.`, {}, { Allow: methods });
      }
    };
    const client = clientId(req);
    switch (path) {
      case '/health': {
        allow('GET');
        send(res, 200, { ok: true });
        return;
      }
      case '/unlock/puk': {
        allow('POST');
        const body = await readJson(req, maxBodyBytes);
        const cardNumber = need(body, 'cardNumber');
        const userCode = need(body, 'userCode');
        const r = await unlock.requestPuk({ cardNumber, userCode, client, now: now() });
        const card = maskCard(cardNumber);
        if (r.ok) {
          log({ level: 'info', event: 'unlock.granted', card, client });
          send(res, 200, { puk: r.puk });
          return;
        }
        log({ level: 'warn', event: 'unlock.denied', card, client, code: r.code });
        switch (r.code) {
          case 'bad-card-number':
            throw new HttpError(400, r.code, 'The card number must be the 12 digits printed after "GH".');
          case 'bad-user-code':
            throw new HttpError(400, r.code, 'The user code must be 1 to 64 characters.');
          case 'wrong-user-code':
            throw new HttpError(401, r.code, 'The card number and user code do not match.', { attemptsLeft: r.attemptsLeft });
          case 'card-locked':
            throw new HttpError(423, r.code, 'Too many wrong user codes for this card: unlocking it is suspended; try later or contact the service desk.', { retryAfterSeconds: Math.ceil(r.retryAfterMs / 1000) }, retryAfter(r.retryAfterMs));
          case 'rate-limited':
            throw new HttpError(429, r.code, 'Too many requests: wait and try again.', { scope: r.scope, retryAfterSeconds: Math.ceil(r.retryAfterMs / 1000) }, retryAfter(r.retryAfterMs));
        }
        return;
      }
      case '/bind/challenge': {
        allow('POST');
        await readJson(req, maxBodyBytes);
        const c = await bind.challenge(originOf(req), now());
        send(res, 200, c);
        return;
      }
      case '/bind/verify': {
        allow('POST');
        const body = await readJson(req, maxBodyBytes);
        const account = need(body, 'account');
        if (!validAccount(account)) throw new HttpError(400, 'bad-account', 'The account must be 1 to 128 characters.');
        const response = need(body, 'response');
        const r = await bind.bind({ account, response, origin: originOf(req), now: now() });
        if (r.ok) {
          log({ level: 'info', event: 'bind.verified', account, card: maskCard(r.binding.cardNumber), client });
          send(res, 200, { verified: true, binding: r.binding });
          return;
        }
        log({ level: 'warn', event: 'bind.rejected', account, code: r.code, client });
        const status = r.code === 'malformed-response' ? 400 : r.code === 'already-bound' ? 409 : 422;
        throw new HttpError(status, r.code, r.message, { verified: false });
      }
      case '/bind/binding': {
        allow('GET, DELETE');
        const account = query.get('account');
        if (!validAccount(account)) throw new HttpError(400, 'bad-account', 'Give the account as ?account=...');
        if (method === 'DELETE') {
          send(res, 200, { removed: bind.unbind(account) });
          return;
        }
        const binding = bind.bindingOf(account);
        if (!binding) throw new HttpError(404, 'not-bound', 'This account has no bound card.');
        send(res, 200, { binding });
        return;
      }
      case '/demo/trust-anchors': {
        if (!options.allowDemoTrustAnchors) break;
        allow('POST');
        const body = await readJson(req, Math.max(maxBodyBytes, 64 * 1024));
        const list = need(body, 'certificates');
        if (!Array.isArray(list) || list.length === 0 || list.length > 4) {
          throw new HttpError(400, 'bad-request', 'certificates must be a list of 1 to 4 base64 DER certificates.');
        }
        const ders: Uint8Array[] = [];
        for (const item of list) {
          const der = typeof item === 'string' ? decodeBase64(item) : undefined;
          if (!der) throw new HttpError(400, 'bad-request', 'certificates must be base64 DER.');
          ders.push(der);
        }
        // Validate now so a bad certificate fails here, not at the next verification.
        const x509 = await loadX509();
        try {
          for (const der of ders) new x509.X509Certificate(new Uint8Array(der));
        } catch {
          throw new HttpError(400, 'bad-request', 'A certificate could not be parsed.');
        }
        extraAnchors.push(...ders);
        log({ level: 'warn', event: 'demo.trust-anchors-added', client });
        send(res, 200, { added: ders.length });
        return;
      }
    }
    throw new HttpError(404, 'not-found', `No endpoint ${path} here.`);
  }

  const handler = ((req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const inside = url.pathname === basePath || url.pathname.startsWith(`${basePath}/`);
    if (!inside) {
      if (next) next();
      else send(res, 404, { error: 'not-found', message: `No endpoint ${url.pathname} here.` });
      return;
    }
    const path = url.pathname.slice(basePath.length) || '/';
    void (async () => {
      try {
        await ready;
        await route(req, res, path, url.searchParams);
      } catch (e) {
        if (e instanceof HttpError) {
          log({ level: 'warn', event: 'request.rejected', status: e.status, code: e.error, client: clientId(req) });
          send(res, e.status, { error: e.error, message: e.message, ...e.extra }, e.headers);
          return;
        }
        log({ level: 'error', event: 'request.failed', code: e instanceof WebCcidError ? e.code : 'internal', client: clientId(req) });
        if (!res.headersSent) send(res, 500, { error: 'internal-error', message: 'The server failed; see its log.' });
      }
    })();
  }) as ReferenceServer;

  Object.defineProperties(handler, {
    ready: { value: ready },
    unlock: { value: unlock },
    bind: { value: bind },
    db: { value: db },
    addTrustAnchors: {
      value: (anchors: readonly CertificateInput[]) => {
        extraAnchors.push(...anchors);
      },
    },
    close: {
      value: () => {
        if (db.isOpen) db.close();
      },
    },
  });
  return handler;
}
