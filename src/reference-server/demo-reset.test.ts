/**
 * The demo reset: after five wrong user codes lock the demo card and its lookups fill the
 * rate-limit window, `resetDemoCards` gives the right user code its PUK again; other cards keep
 * their lockout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openReferenceDatabase, type SqlDatabase } from './db.js';
import { UnlockService } from './unlock.js';
import { resetDemoCards } from './demo-reset.js';
import { DEMO_CARDS, DEMO_USER_CODE } from './demo.js';

const opened: SqlDatabase[] = [];
afterEach(() => {
  for (const db of opened.splice(0)) db.close();
});

describe('resetDemoCards', () => {
  it('lifts the lockout and the rate limit of the demo card only', async () => {
    const db = openReferenceDatabase(':memory:');
    opened.push(db);
    const unlock = new UnlockService(db, { iterations: 1000 });
    const demo = DEMO_CARDS[0]!;
    await unlock.addCard(demo);
    const OTHER = { cardNumber: '000099990000', puk: '11112222', userCode: 'Other-1' };
    await unlock.addCard(OTHER);
    const now = 1_700_000_000_000;
    const ask = (cardNumber: string, userCode: string, client = 'visitor') => unlock.requestPuk({ cardNumber, userCode, client, now });
    for (let i = 0; i < 5; i++) await ask(demo.cardNumber, `wrong-${i}`);
    for (let i = 0; i < 5; i++) await ask(OTHER.cardNumber, `wrong-${i}`);
    expect(await ask(demo.cardNumber, DEMO_USER_CODE)).toMatchObject({ ok: false, code: 'card-locked' });

    expect(resetDemoCards({ unlock, db })).toBe(1);
    expect(await ask(demo.cardNumber, DEMO_USER_CODE)).toEqual({ ok: true, puk: demo.puk });
    expect(await ask(OTHER.cardNumber, OTHER.userCode)).toMatchObject({ ok: false, code: 'card-locked' });

    // Ten lookups in the window rate-limit the demo card; the reset empties its window.
    for (let i = 0; i < 9; i++) await ask(demo.cardNumber, DEMO_USER_CODE, `client-${i}`);
    expect(await ask(demo.cardNumber, DEMO_USER_CODE, 'late')).toMatchObject({ ok: false, code: 'rate-limited', scope: 'card' });
    resetDemoCards({ unlock, db });
    expect(await ask(demo.cardNumber, DEMO_USER_CODE, 'late')).toEqual({ ok: true, puk: demo.puk });
  });
});
