/**
 * The demo reset: after five wrong user codes lock the demo card and its lookups fill the per-card
 * rate-limit window, `resetDemoCards` gives the right user code its PUK again; other cards keep
 * their lockout. Against the embedded SQLite store and a real PostgreSQL server
 * (test/helpers/postgres.ts); and the route exists only in the Vite plugin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { openSqliteStore } from './db.js';
import { openPostgresStore } from './postgres.js';
import { PukSealer } from './secrets.js';
import type { ReferenceStore } from './store.js';
import { UnlockService } from './unlock.js';
import { resetDemoCards } from './demo-reset.js';
import { DEMO_CARDS, DEMO_USER_CODE } from './demo.js';
import { PG_SKIP, pgSuiteTitle, startPostgres, type TestPostgres } from '../../test/helpers/postgres.js';

const sealer = new PukSealer(randomBytes(32));
let pg: TestPostgres | undefined;

const backends: Array<{ name: string; skip: boolean; open(): Promise<ReferenceStore>; before?: () => Promise<void>; after?: () => Promise<void> }> = [
  { name: 'SQLite', skip: false, open: async () => openSqliteStore(':memory:', sealer) },
  {
    name: pgSuiteTitle('PostgreSQL'),
    skip: PG_SKIP,
    open: async () => openPostgresStore({ connection: pg!.connection(await pg!.createDatabase()) }),
    before: async () => {
      pg = await startPostgres();
    },
    after: async () => {
      await pg?.stop();
    },
  },
];

for (const backend of backends) {
  describe.skipIf(backend.skip)(`resetDemoCards: ${backend.name}`, () => {
    let store: ReferenceStore;
    beforeAll(async () => {
      await backend.before?.();
      store = await backend.open();
    }, 60_000);
    afterAll(async () => {
      await store?.close();
      await backend.after?.();
    }, 30_000);

    it('lifts the lockout and the rate limit of the demo card only', async () => {
      const unlock = new UnlockService(store, sealer, { hashCost: 1 << 10 });
      const demo = DEMO_CARDS[0]!;
      await unlock.addCard(demo);
      const OTHER = { cardNumber: '000099990000', puk: '11112222', userCode: 'Other-1' };
      await unlock.addCard(OTHER);
      const now = 1_700_000_000_000;
      const ask = (cardNumber: string, userCode: string, client = 'visitor') => unlock.requestPuk({ cardNumber, userCode, client, now });
      for (let i = 0; i < 5; i++) await ask(demo.cardNumber, `wrong-${i}`);
      for (let i = 0; i < 5; i++) await ask(OTHER.cardNumber, `wrong-${i}`, 'other-visitor');
      expect(await ask(demo.cardNumber, DEMO_USER_CODE)).toMatchObject({ ok: false, code: 'card-locked' });

      expect(await resetDemoCards({ store })).toBe(1);
      expect(await ask(demo.cardNumber, DEMO_USER_CODE)).toEqual({ ok: true, puk: demo.puk });
      expect(await ask(OTHER.cardNumber, OTHER.userCode, 'other-visitor')).toMatchObject({ ok: false, code: 'card-locked' });

      // Ten lookups in the window rate-limit the demo card; the reset empties its window.
      for (let i = 0; i < 9; i++) await ask(demo.cardNumber, DEMO_USER_CODE, `client-${i}`);
      expect(await ask(demo.cardNumber, DEMO_USER_CODE, 'late')).toMatchObject({ ok: false, code: 'rate-limited', scope: 'card' });
      await resetDemoCards({ store });
      expect(await ask(demo.cardNumber, DEMO_USER_CODE, 'late')).toEqual({ ok: true, puk: demo.puk });
      // The other card's lockout is still there.
      expect((await unlock.lockoutOf(OTHER.cardNumber, now)).lockedUntil).toBeGreaterThan(now);
    });
  });
}
