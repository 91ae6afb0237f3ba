/**
 * The reference server as a plain Node request handler (also usable as
 * Connect / Express / Vite middleware: it calls `next()` for paths outside
 * its base path). JSON in, JSON out; every error is `{ error, message }` with
 * a 4xx status. Endpoints and how to replace them: docs/reference-server.md.
 *
 * Node only (node:http types, node:crypto, node-sqlite3-wasm or pg).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { WebCcidError } from '../errors.js';
import { decodeBase64 } from '../server/base64.js';
import { isOrigin } from '../server/message.js';
import type { CardType, CertificateInput } from '../server/verify.js';
import { ACCOUNT_PATTERN, AccountService, validPassword } from './accounts.js';
import { BindService, ChallengeStoreFull, validAccount } from './bind.js';
import { openSqliteStore } from './db.js';
import { DEMO_CARDS } from './demo.js';
import { resetDemoCards } from './demo-reset.js';
import { loadServerKey, PukSealer } from './secrets.js';
import type { ReferenceStore } from './store.js';
import { loadX509 } from '../x509.js';
import { cookieValue, equalBytes, HttpError, isLoopback, need, rateLimited, readJson, retryAfter, send } from './http-json.js';
import { UnlockService, type UnlockCard, type UnlockLimits } from './unlock.js';

/** One log entry. Never holds a PUK, a user code, a PIN, a password, a token or a request body. */
export interface ReferenceServerLogEntry {
  level: 'info' | 'warn' | 'error';
  /**
   * e.g. `unlock.granted`, `unlock.denied` (a wrong user code was compared), `unlock.locked` (a
   * wrong code locked the card), `unlock.refused` (not compared: locked or rate-limited),
   * `bind.verified`, `bind.rejected`, `bind.committed`, `account.registered`, `request.rejected`.
   */
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
  /** SQLite database file; created with its directory. Default `.webccid/reference-server.sqlite` (relative to the working directory). `':memory:'` for a throw-away one. Ignored with `store`. */
  dbPath?: string;
  /** Another store, e.g. `await openPostgresStore(...)` for several server processes. Closed by `close()`. */
  store?: ReferenceStore;
  /** The server key (32 bytes or base64) sealing the PUKs. Default: `WEBCCID_SECRET_KEY`, else `keyFile`. */
  secretKey?: Uint8Array | string;
  /** Key file, made (mode 0600) when missing. Default `reference-server.key` beside the SQLite file; none for `':memory:'` (a key per process) or `store`. */
  keyFile?: string;
  /** Trust anchors of the bind verifier (e.g. the GRCA root). May be a promise (e.g. a test PKI being made). */
  trustAnchors?: readonly CertificateInput[] | Promise<readonly CertificateInput[]>;
  /** CA certificates between the holder certificate and an anchor (e.g. the HCA CA). */
  intermediates?: readonly CertificateInput[] | Promise<readonly CertificateInput[]>;
  /** URL path prefix of every endpoint. Default `/api`. */
  basePath?: string;
  /**
   * Page origins allowed to call the server (`https://example.org`). Default: only the server's
   * own origin (from the Host header). A request whose Origin header is another origin gets 403.
   */
  origins?: readonly string[];
  /** Cards seeded when missing. Default `DEMO_CARDS` (the virtual HCA card); `false` for none. */
  demoCards?: readonly UnlockCard[] | false;
  /**
   * Enables `POST {basePath}/demo/trust-anchors`, with which the demo page registers the root of
   * the test PKI it made in the browser (memory only; loopback clients of the same origin only;
   * the newest `maxDemoTrustAnchors` kept). Default false. Never in production.
   */
  allowDemoTrustAnchors?: boolean;
  /**
   * Enables `POST {basePath}/demo/reset`: the demo panel's reset gives the demo cards
   * (`demoCards`) their unlock state back (no lockout, failures or per-card rate window:
   * src/reference-server/demo-reset.ts); loopback clients of the same origin only. Default false;
   * the Vite plugin of the dev server turns it on. Never in production.
   */
  allowDemoReset?: boolean;
  /** Most certificates `/demo/trust-anchors` keeps (the oldest go first). Default 16. */
  maxDemoTrustAnchors?: number;
  /** Largest accepted request body. Default 8 KiB. */
  maxBodyBytes?: number;
  /** Unlock rate limits and lockout. */
  unlockLimits?: Partial<UnlockLimits>;
  /** Lifetime of bind challenges. Default 2 minutes. */
  challengeTtlMs?: number;
  /** Challenges one client may ask for per `windowMs`. Default 20 a minute. */
  challengeRate?: { perClient: number; windowMs: number };
  /** Most challenges kept at once (live, used or expired until pruned). Default 10 000. */
  maxChallenges?: number;
  /** Lifetime of the binding token 驗證 gives. Default 10 minutes. */
  bindTokenTtlMs?: number;
  /** Sign-in and registration attempts per client, and sign-ins per account, per 15 minutes. Default 10. */
  accountAttemptsPerWindow?: number;
  /** Lifetime of a session. Default 2 hours. */
  sessionTtlMs?: number;
  /**
   * Who the caller is, for the binding endpoints: the integrator's own authentication (their
   * session, a bearer token, ...). Resolve with the account, or undefined when not signed in.
   * When set, the reference server's own `/account/*` endpoints are off. Default: the reference
   * server's session cookie.
   */
  authenticate?: (req: IncomingMessage) => Promise<string | undefined> | string | undefined;
  /** Only bind this card type. Default: both. */
  expectedCardType?: CardType;
  /** Where log entries go. Default: one JSON line a entry on console.info / console.warn / console.error. */
  logger?: ReferenceServerLogger;
  /** Clock in milliseconds (tests). */
  now?: () => number;
  /** Who the client is, for the per-client rate limits. Default the socket's remote address (behind a proxy: read X-Forwarded-For here). */
  clientId?: (req: IncomingMessage) => string;
}

/** A Node / Connect request handler with the services behind it. */
export interface ReferenceServer {
  (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void;
  /** Resolves when the demo cards are seeded. Requests wait for it by themselves. */
  readonly ready: Promise<void>;
  readonly unlock: UnlockService;
  readonly bind: BindService;
  readonly accounts: AccountService;
  readonly store: ReferenceStore;
  /** Adds trust anchors at run time (memory only). */
  addTrustAnchors(anchors: readonly CertificateInput[]): void;
  /** Closes the store. */
  close(): Promise<void>;
}

const DEFAULT_DB_PATH = '.webccid/reference-server.sqlite';
const SESSION_COOKIE = 'webccid_session';
const ACCOUNT_WINDOW_MS = 15 * 60_000;

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

/**
 * Creates the reference server: the unlock service (card number + user code -> PUK), accounts
 * and sessions, and the bind service (challenge, verify -> binding token, commit) over the
 * embedded SQLite file or another `store`. Returns a request handler (`http.createServer(server)`
 * or middleware). Throws `WebCcidError('server/bad-option')` on a bad option and
 * `WebCcidError('server/bad-key')` on a bad server key.
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
  const dbPath = options.dbPath ?? DEFAULT_DB_PATH;
  const keyFile = options.keyFile ?? (options.store || dbPath === ':memory:' ? undefined : join(dirname(dbPath), 'reference-server.key'));
  const keyOptions: Parameters<typeof loadServerKey>[0] = {};
  if (options.secretKey !== undefined) keyOptions.secretKey = options.secretKey;
  if (keyFile !== undefined) keyOptions.keyFile = keyFile;
  let serverKey = loadServerKey(keyOptions);
  if (!serverKey) {
    if (options.store) throw new WebCcidError('server/bad-option', 'With a shared store, give every process the same server key: secretKey, WEBCCID_SECRET_KEY or keyFile.');
    serverKey = new Uint8Array(randomBytes(32)); // ':memory:': the PUKs live as long as the key
  }
  const sealer = new PukSealer(serverKey);
  serverKey.fill(0);
  const store = options.store ?? openSqliteStore(dbPath, sealer);
  const unlock = new UnlockService(store, sealer, options.unlockLimits);
  const accounts = new AccountService(store, { sessionTtlMs: options.sessionTtlMs ?? 2 * 3_600_000, hashCost: unlock.limits.hashCost });
  const extraAnchors: CertificateInput[] = [];
  const maxDemoAnchors = options.maxDemoTrustAnchors ?? 16;
  const bindOptions: ConstructorParameters<typeof BindService>[1] = {
    trustAnchors: async () => [...((await options.trustAnchors) ?? []), ...extraAnchors],
    intermediates: async () => (await options.intermediates) ?? [],
    now,
  };
  if (options.challengeTtlMs !== undefined) bindOptions.challengeTtlMs = options.challengeTtlMs;
  if (options.expectedCardType !== undefined) bindOptions.expectedCardType = options.expectedCardType;
  if (options.bindTokenTtlMs !== undefined) bindOptions.bindTokenTtlMs = options.bindTokenTtlMs;
  if (options.maxChallenges !== undefined) bindOptions.maxChallenges = options.maxChallenges;
  const bind = new BindService(store, bindOptions);
  const challengeRate = options.challengeRate ?? { perClient: 20, windowMs: 60_000 };
  const accountAttempts = options.accountAttemptsPerWindow ?? 10;
  let lastPrune = 0;

  const ready = (async () => {
    for (const card of options.demoCards === false ? [] : (options.demoCards ?? DEMO_CARDS)) {
      if (!(await unlock.hasCard(card.cardNumber))) await unlock.addCard(card);
    }
  })();
  ready.catch(() => undefined);

  function ownOrigin(req: IncomingMessage): string | undefined {
    if (typeof req.headers.host !== 'string') return undefined;
    const secure = (req.socket as { encrypted?: boolean }).encrypted === true;
    return `${secure ? 'https' : 'http'}://${req.headers.host}`;
  }

  function allowedOrigin(origin: string | undefined, req: IncomingMessage): boolean {
    if (!isOrigin(origin)) return false;
    return options.origins !== undefined ? options.origins.includes(origin) : origin === ownOrigin(req);
  }

  /** A browser request from another origin is refused, whatever the endpoint (a PUK, a session). */
  function checkOrigin(req: IncomingMessage): void {
    const header = req.headers.origin;
    if (header === undefined) return;
    if (!allowedOrigin(header, req)) throw new HttpError(403, 'origin-not-allowed', 'This page origin may not use this server.');
  }

  /** The page origin for the bind verifier. */
  function originOf(req: IncomingMessage): string {
    const header = req.headers.origin;
    let origin: string | undefined;
    if (typeof header === 'string' && header !== 'null') origin = header;
    else if (options.origins?.length === 1) origin = options.origins[0];
    else origin = ownOrigin(req);
    if (!allowedOrigin(origin, req)) throw new HttpError(403, 'origin-not-allowed', 'This page origin may not use the bind service.');
    return origin!;
  }

  function sessionCookie(req: IncomingMessage, value: string, maxAgeSeconds: number): string {
    const secure = (req.socket as { encrypted?: boolean }).encrypted === true || options.origins?.every((o) => o.startsWith('https:')) === true;
    return `${SESSION_COOKIE}=${value}; Path=${basePath || '/'}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
  }

  async function caller(req: IncomingMessage): Promise<string | undefined> {
    if (options.authenticate) return (await options.authenticate(req)) ?? undefined;
    const id = cookieValue(req, SESSION_COOKIE);
    return id && /^[\w-]{43}$/.test(id) ? accounts.sessionAccount(id, now()) : undefined;
  }

  async function signedIn(req: IncomingMessage): Promise<string> {
    const account = await caller(req);
    if (account === undefined) throw new HttpError(401, 'not-signed-in', 'Sign in first.');
    return account;
  }

  async function startSession(req: IncomingMessage, account: string): Promise<Record<string, string>> {
    const s = await accounts.startSession(account, now());
    return { 'Set-Cookie': sessionCookie(req, s.id, Math.floor((s.expiresAt - now()) / 1000)) };
  }

  function commitError(code: 'account-exists' | 'bind-token-invalid' | 'already-bound'): HttpError {
    switch (code) {
      case 'account-exists':
        return new HttpError(409, code, 'This account name is taken.');
      case 'already-bound':
        return new HttpError(409, code, 'This card certificate is already bound to another account.');
      case 'bind-token-invalid':
        return new HttpError(422, code, 'The card verification has expired or was used: press 驗證 again.');
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const method = req.method ?? 'GET';
    const allow = (methods: string): void => {
      if (!methods.split(', ').includes(method)) {
        throw new HttpError(405, 'method-not-allowed', `Use ${methods} on this endpoint.`, {}, { Allow: methods });
      }
    };
    if (method !== 'GET' && method !== 'HEAD') checkOrigin(req);
    const client = clientId(req);
    const t = now();
    if (t - lastPrune > 60_000) {
      lastPrune = t;
      await store.prune(t, Math.max(unlock.limits.windowMs, challengeRate.windowMs, ACCOUNT_WINDOW_MS));
    }
    const accountsOn = options.authenticate === undefined;
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
        const event = r.code === 'wrong-user-code' ? 'unlock.denied' : r.code === 'card-locked' && r.evaluated ? 'unlock.locked' : 'unlock.refused';
        log({ level: 'warn', event, card, client, code: r.code });
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
            throw rateLimited(r.retryAfterMs, r.scope);
        }
        return;
      }
      case '/account/register': {
        if (!accountsOn) break;
        allow('POST');
        const body = await readJson(req, maxBodyBytes);
        const account = need(body, 'account');
        const password = need(body, 'password');
        if (typeof account !== 'string' || !ACCOUNT_PATTERN.test(account)) throw new HttpError(400, 'bad-account', 'The account must be 3 to 32 of A-Z a-z 0-9 . _ -');
        if (!validPassword(password)) throw new HttpError(400, 'bad-password', 'The password must be 8 to 128 characters.');
        const token = body['bindToken'];
        if (token !== undefined && (typeof token !== 'string' || token.length > 100)) throw new HttpError(400, 'bad-request', 'bindToken must be the text 驗證 gave.');
        const limit = await store.hit('register-client', client, accountAttempts, ACCOUNT_WINDOW_MS, now());
        if (!limit.ok) throw rateLimited(limit.retryAfterMs, 'client');
        const input: Parameters<AccountService['register']>[0] = { account, password, now: now() };
        if (typeof token === 'string') input.bindToken = token;
        const r = await accounts.register(input);
        if (!r.ok) {
          log({ level: 'warn', event: 'account.rejected', account, code: r.code, client });
          throw commitError(r.code);
        }
        log({ level: 'info', event: 'account.registered', account, card: maskCard(r.binding?.cardNumber), client });
        send(res, 201, { account, ...(r.binding ? { binding: r.binding } : {}) }, await startSession(req, account));
        return;
      }
      case '/account/login': {
        if (!accountsOn) break;
        allow('POST');
        const body = await readJson(req, maxBodyBytes);
        const account = need(body, 'account');
        const password = need(body, 'password');
        if (typeof account !== 'string' || !ACCOUNT_PATTERN.test(account) || typeof password !== 'string' || password.length > 128) {
          throw new HttpError(401, 'bad-credentials', 'The account or the password is wrong.');
        }
        for (const [scope, key] of [['login-client', client], ['login-account', account]] as const) {
          const limit = await store.hit(scope, key, accountAttempts, ACCOUNT_WINDOW_MS, now());
          if (!limit.ok) throw rateLimited(limit.retryAfterMs, scope === 'login-client' ? 'client' : 'account');
        }
        if (!(await accounts.checkPassword(account, password))) {
          log({ level: 'warn', event: 'account.login-failed', account, client });
          throw new HttpError(401, 'bad-credentials', 'The account or the password is wrong.');
        }
        send(res, 200, { account }, await startSession(req, account));
        return;
      }
      case '/account/logout': {
        if (!accountsOn) break;
        allow('POST');
        const id = cookieValue(req, SESSION_COOKIE);
        if (id) await accounts.endSession(id);
        send(res, 200, { signedOut: true }, { 'Set-Cookie': sessionCookie(req, '', 0) });
        return;
      }
      case '/account/session': {
        allow('GET');
        send(res, 200, { account: await signedIn(req) });
        return;
      }
      case '/bind/challenge': {
        allow('POST');
        await readJson(req, maxBodyBytes);
        const origin = originOf(req);
        const limit = await store.hit('challenge-client', client, challengeRate.perClient, challengeRate.windowMs, now());
        if (!limit.ok) throw rateLimited(limit.retryAfterMs, 'client');
        try {
          send(res, 200, await bind.challenge(origin, now()));
        } catch (e) {
          if (!(e instanceof ChallengeStoreFull)) throw e;
          log({ level: 'warn', event: 'bind.challenges-full', client });
          throw new HttpError(503, 'too-many-challenges', 'The server holds too many challenges: try again in a few minutes.', {}, { 'Retry-After': '60' });
        }
        return;
      }
      case '/bind/verify': {
        allow('POST');
        const body = await readJson(req, maxBodyBytes);
        const response = need(body, 'response');
        const account = await caller(req);
        const input: Parameters<BindService['verify']>[0] = { response, origin: originOf(req), now: now() };
        if (account !== undefined) input.account = account;
        const r = await bind.verify(input);
        if (r.ok) {
          log({ level: 'info', event: 'bind.verified', card: maskCard(r.card.cardNumber), client, ...(account ? { account } : {}) });
          send(res, 200, { verified: true, bindToken: r.bindToken, expiresAt: r.expiresAt, card: r.card });
          return;
        }
        log({ level: 'warn', event: 'bind.rejected', code: r.code, client });
        const status = r.code === 'malformed-response' ? 400 : r.code === 'already-bound' ? 409 : 422;
        throw new HttpError(status, r.code, r.message, { verified: false });
      }
      case '/bind/commit': {
        allow('POST');
        const body = await readJson(req, maxBodyBytes);
        const account = await signedIn(req);
        const token = need(body, 'bindToken');
        if (typeof token !== 'string' || token.length > 100) throw new HttpError(400, 'bad-request', 'bindToken must be the text 驗證 gave.');
        const r = await bind.commit({ account, bindToken: token, now: now() });
        if (!r.ok) throw commitError(r.code);
        log({ level: 'info', event: 'bind.committed', account, card: maskCard(r.binding?.cardNumber), client });
        send(res, 200, { binding: r.binding });
        return;
      }
      case '/bind/binding': {
        allow('GET, DELETE');
        const account = await signedIn(req);
        if (!validAccount(account)) throw new HttpError(400, 'bad-account', 'The account must be 1 to 128 characters.');
        if (method === 'DELETE') {
          send(res, 200, { removed: await bind.unbind(account) });
          return;
        }
        const binding = await bind.bindingOf(account);
        if (!binding) throw new HttpError(404, 'not-bound', 'This account has no bound card.');
        send(res, 200, { binding });
        return;
      }
      case '/demo/reset': {
        if (!options.allowDemoReset) break;
        allow('POST');
        if (!isLoopback(req.socket.remoteAddress) || req.headers.origin === undefined) {
          throw new HttpError(403, 'demo-only', 'The demo reset answers only the demo page on this machine.');
        }
        await readJson(req, maxBodyBytes);
        const cards = await resetDemoCards({ store }, options.demoCards === false ? [] : (options.demoCards ?? DEMO_CARDS));
        log({ level: 'warn', event: 'demo.reset', client });
        send(res, 200, { reset: cards });
        return;
      }
      case '/demo/trust-anchors': {
        if (!options.allowDemoTrustAnchors) break;
        allow('POST');
        // The demo's own page only: a loopback client of this origin (a browser always sends Origin on a POST).
        if (!isLoopback(req.socket.remoteAddress) || req.headers.origin === undefined) {
          throw new HttpError(403, 'demo-only', 'The demo trust-anchor endpoint answers only the demo page on this machine.');
        }
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
        let added = 0;
        for (const der of ders) {
          if (extraAnchors.some((a) => a instanceof Uint8Array && equalBytes(a, der))) continue;
          extraAnchors.push(der);
          added++;
        }
        // Bounded: every verification walks the anchors.
        if (extraAnchors.length > maxDemoAnchors) extraAnchors.splice(0, extraAnchors.length - maxDemoAnchors);
        log({ level: 'warn', event: 'demo.trust-anchors-added', client });
        send(res, 200, { added, total: extraAnchors.length });
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
        await route(req, res, path);
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
    accounts: { value: accounts },
    store: { value: store },
    addTrustAnchors: {
      value: (anchors: readonly CertificateInput[]) => {
        extraAnchors.push(...anchors);
      },
    },
    close: {
      value: () => store.close(),
    },
  });
  return handler;
}
