/**
 * The unlock counters under concurrency, against the embedded SQLite store and a real
 * PostgreSQL server (test/helpers/postgres.ts): hundreds of parallel requests, split between two
 * stores on the same database (two connections, as two server processes would have), must
 * never evaluate more than `maxFailures` wrong user codes for a card, nor more than `perClient`
 * attempts for a client. Also over HTTP (the report: 11 wrong codes and the right one
 * sent at once used to give 11 × 401 and then the PUK).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openSqliteStore } from './db.js';
import { openPostgresStore } from './postgres.js';
import { PukSealer } from './secrets.js';
import type { ReferenceStore } from './store.js';
import { UnlockService, type UnlockLimits, type UnlockResult } from './unlock.js';
import { createReferenceServer, type ReferenceServer } from './http.js';
import { PG_SKIP, pgSuiteTitle, startPostgres, type TestPostgres } from '../../test/helpers/postgres.js';

const CARD = '000012345678';
const PUK = '12345678';
const CODE = 'Right-Code';
const KEY = randomBytes(32);
const sealer = new PukSealer(KEY);
/** Close to the real cost, so a comparison takes long next to a reservation (as in production). */
const HASH_COST = 1 << 13;

interface Backend {
  name: string;
  skip: boolean;
  /** Two stores on one new, empty database. */
  pair(): Promise<[ReferenceStore, ReferenceStore]>;
  before?: () => Promise<void>;
  after?: () => Promise<void>;
}

let dir: string;
let pg: TestPostgres | undefined;

const backends: Backend[] = [
  {
    name: 'SQLite',
    skip: false,
    async pair() {
      const file = join(dir, `c-${randomBytes(4).toString('hex')}.sqlite`);
      return [openSqliteStore(file, sealer), openSqliteStore(file, sealer)];
    },
  },
  {
    name: pgSuiteTitle('PostgreSQL'),
    skip: PG_SKIP,
    async pair() {
      const db = await pg!.createDatabase();
      // 10 connections a store: the stores stay open until the suite ends, and 6 tests x 2 stores
      // x 10 stays under the test server's max_connections (200), with real parallelism in each.
      const a = await openPostgresStore({ connection: pg!.connection(db), maxConnections: 10 });
      const b = await openPostgresStore({ connection: pg!.connection(db), maxConnections: 10 });
      return [a, b];
    },
    async before() {
      pg = await startPostgres();
    },
    async after() {
      await pg?.stop();
    },
  },
];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'webccid-conc-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function evaluatedWrong(results: readonly UnlockResult[]): number {
  return results.filter((r) => !r.ok && (r.code === 'wrong-user-code' || (r.code === 'card-locked' && r.evaluated))).length;
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`unlock counters under concurrency: ${backend.name}`, () => {
    const stores: ReferenceStore[] = [];
    beforeAll(async () => {
      await backend.before?.();
    }, 60_000);
    afterAll(async () => {
      for (const s of stores.splice(0)) await s.close();
      await backend.after?.();
    }, 30_000);

    async function services(limits: Partial<UnlockLimits>): Promise<[UnlockService, UnlockService]> {
      const pair = await backend.pair();
      stores.push(...pair);
      const full = { hashCost: HASH_COST, ...limits };
      const a = new UnlockService(pair[0], sealer, full);
      await a.addCard({ cardNumber: CARD, puk: PUK, userCode: CODE });
      return [a, new UnlockService(pair[1], sealer, full)];
    }

    it('300 wrong codes at once, through two stores: exactly 5 compared, then the card is locked', async () => {
      const [a, b] = await services({ perClient: 1000, perCard: 1000 });
      const results = await Promise.all(
        Array.from({ length: 300 }, (_, i) => (i % 2 ? a : b).requestPuk({ cardNumber: CARD, userCode: `wrong-${i}`, client: `c${i}`, now: 1000 })),
      );
      expect(evaluatedWrong(results)).toBe(5);
      // Those still in flight when the fifth wrong code locked the card learn that the card is locked.
      expect(results.filter((r) => !r.ok && r.code === 'card-locked' && r.evaluated).length).toBeGreaterThan(0);
      expect(results.every((r) => !r.ok)).toBe(true);
      expect(await a.requestPuk({ cardNumber: CARD, userCode: CODE, client: 'x', now: 2000 })).toMatchObject({ ok: false, code: 'card-locked', evaluated: false });
      expect(await b.lockoutOf(CARD, 2000)).toMatchObject({ failures: 5 });
    }, 60_000);

    it('11 wrong codes and the right one at once (5 trials): never more than 5 wrong codes compared', async () => {
      for (let trial = 0; trial < 5; trial++) {
        const [a, b] = await services({ perClient: 1000, perCard: 1000 });
        const codes = [...Array.from({ length: 11 }, (_, i) => `wrong-${i}`), CODE];
        const results = await Promise.all(codes.map((userCode, i) => (i % 2 ? a : b).requestPuk({ cardNumber: CARD, userCode, client: 'mallory', now: 1000 })));
        expect(evaluatedWrong(results)).toBeLessThanOrEqual(5);
        expect(results.filter((r) => r.ok).length).toBeLessThanOrEqual(1);
        const s = await a.lockoutOf(CARD, 1000);
        // Nothing left in flight, and the count matches what was answered.
        expect(s.failures).toBeLessThanOrEqual(5);
      }
    }, 60_000);

    it('one client, 300 attempts at once on 300 card numbers: exactly its budget (30) compared', async () => {
      const [a, b] = await services({ perClient: 30, perCard: 1000 });
      const results = await Promise.all(
        Array.from({ length: 300 }, (_, i) => (i % 2 ? a : b).requestPuk({ cardNumber: String(100000000000 + i), userCode: 'guess', client: 'mallory', now: 1000 })),
      );
      const compared = results.filter((r) => !r.ok && r.code === 'wrong-user-code');
      expect(compared).toHaveLength(30);
      expect(results.filter((r) => !r.ok && r.code === 'rate-limited' && r.scope === 'client')).toHaveLength(270);
    }, 60_000);

    it('per card window: 200 clients at once on one card with perCard 10 and no lockout: 10 compared', async () => {
      const [a, b] = await services({ perClient: 1000, perCard: 10, maxFailures: 1000 });
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).requestPuk({ cardNumber: CARD, userCode: `w${i}`, client: `c${i}`, now: 1000 })),
      );
      expect(results.filter((r) => !r.ok && r.code === 'wrong-user-code')).toHaveLength(10);
    }, 60_000);

    it('one-use and capped things stay so under 200 parallel calls through two stores: tokens, challenges, windows', async () => {
      const [a, b] = await backend.pair();
      stores.push(a, b);
      const card = { fingerprint: 'f'.repeat(64), holderName: '王大明', cardType: 'personnel' as const, subject: 'CN=x', certificate: 'AA==' };
      await a.putBindToken({ tokenHash: 'token-1', card, now: 1000, expiresAt: 100_000 });
      const regs = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).registerAccount({ account: `user-${i}`, passwordHash: 'x', tokenHash: 'token-1', now: 2000 })));
      expect(regs.filter((r) => r.ok)).toHaveLength(1);
      expect(regs.filter((r) => !r.ok && r.code === 'bind-token-invalid')).toHaveLength(199);
      // Two tokens for one card, committed at once to two accounts: one binding.
      await a.putBindToken({ tokenHash: 'token-2', card: { ...card, fingerprint: 'e'.repeat(64) }, now: 1000, expiresAt: 100_000 });
      await b.putBindToken({ tokenHash: 'token-3', card: { ...card, fingerprint: 'e'.repeat(64) }, now: 1000, expiresAt: 100_000 });
      await Promise.all(['x-1', 'x-2'].map((account) => a.registerAccount({ account, passwordHash: 'x', now: 1000 })));
      const commits = await Promise.all([a.commitBinding({ account: 'x-1', tokenHash: 'token-2', now: 3000 }), b.commitBinding({ account: 'x-2', tokenHash: 'token-3', now: 3000 })]);
      expect(commits.filter((r) => r.ok)).toHaveLength(1);
      expect(commits.find((r) => !r.ok)).toMatchObject({ code: 'already-bound' });
      // A challenge is taken once.
      expect(await a.putChallenge({ key: 'k', challenge: 'c', origin: 'https://x', expiresAt: 9000, now: 1000, retainMs: 1000, maxRows: 10 })).toBe(true);
      const takes = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).takeChallenge('k')));
      expect(takes.filter((t) => t.state === 'taken')).toHaveLength(1);
      // The challenge cap and a sliding window.
      const puts = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).putChallenge({ key: `k${i}`, challenge: 'c', origin: 'https://x', expiresAt: 9000, now: 1000, retainMs: 1000, maxRows: 50 })));
      expect(puts.filter(Boolean)).toHaveLength(49);
      expect(await b.countChallenges()).toBe(50);
      const hits = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).hit('test', 'client', 20, 60_000, 1000)));
      expect(hits.filter((h) => h.ok)).toHaveLength(20);
    }, 60_000);

    it('over HTTP: 299 wrong codes and the right one, 300 parallel requests to two servers on one database', async () => {
      const pair = await backend.pair();
      const servers: ReferenceServer[] = pair.map((store) =>
        createReferenceServer({ store, secretKey: KEY, unlockLimits: { hashCost: HASH_COST, perClient: 1000, perCard: 1000 }, logger: () => undefined }),
      );
      await Promise.all(servers.map((s) => s.ready));
      const https: Server[] = [];
      const ports: number[] = [];
      for (const s of servers) {
        const h = createServer((req, res) => s(req, res));
        await new Promise<void>((resolve) => h.listen(0, '127.0.0.1', () => resolve()));
        https.push(h);
        ports.push((h.address() as { port: number }).port);
      }
      try {
        const post = (port: number, userCode: string) =>
          new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
            const payload = JSON.stringify({ cardNumber: '000012345678', userCode });
            const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/api/unlock/puk', headers: { 'content-type': 'application/json' }, agent: false }, (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown> }));
            });
            req.on('error', reject);
            req.end(payload);
          });
        const codes = [...Array.from({ length: 299 }, (_, i) => `wrong-${i}`), 'Demo1234'];
        const answers = await Promise.all(codes.map((c, i) => post(ports[i % 2]!, c)));
        const wrong = answers.filter((r) => r.status === 401).length;
        const lockedByAnswer = answers.filter((r) => r.status === 423).length;
        expect(wrong).toBeLessThanOrEqual(5);
        expect(answers.filter((r) => r.status === 200).length).toBeLessThanOrEqual(1);
        expect(answers.every((r) => [200, 401, 423, 429].includes(r.status))).toBe(true);
        expect(wrong + lockedByAnswer).toBeGreaterThan(0);
      } finally {
        for (const h of https) await new Promise<void>((resolve) => h.close(() => resolve()));
        for (const s of servers) await s.close();
      }
    }, 60_000);
  });
}

describe.skipIf(PG_SKIP)(pgSuiteTitle('PostgreSQL store: idle connections ended by the server'), () => {
  let server: TestPostgres | undefined;
  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  }, 30_000);

  it('an idle pooled connection terminated by the server is reported, not thrown, and the store goes on', async () => {
    const db = await server!.createDatabase();
    const idleErrors: Error[] = [];
    const store = await openPostgresStore({ connection: server!.connection(db), maxConnections: 4, onIdleError: (e) => idleErrors.push(e) });
    const unlock = new UnlockService(store, sealer, { hashCost: HASH_COST });
    try {
      await unlock.addCard({ cardNumber: CARD, puk: PUK, userCode: CODE });
      // A second, independent connection ends every other backend of this database, as an
      // administrator or a server restart would.
      const specifier = 'pg'; // no type declarations for pg here: only what the test uses
      const { default: pgModule } = (await import(specifier)) as {
        default: { Client: new (config: Record<string, unknown>) => { connect(): Promise<void>; query(sql: string): Promise<unknown>; end(): Promise<void> } };
      };
      const admin = new pgModule.Client(server!.connection(db));
      await admin.connect();
      try {
        await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
      } finally {
        await admin.end();
      }
      await expect.poll(() => idleErrors.length, { timeout: 10_000 }).toBeGreaterThan(0);
      expect(await unlock.requestPuk({ cardNumber: CARD, userCode: CODE, client: 'after', now: 1000 })).toMatchObject({ ok: true });
    } finally {
      await store.close();
    }
  }, 60_000);
});
