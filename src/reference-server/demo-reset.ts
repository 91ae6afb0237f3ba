/**
 * The demo's reset (dev server only): gives the demo cards (`DEMO_CARDS`, the virtual card's
 * number) back their unlock service state: no lockout, no counted failures, no attempts in the
 * rate-limit window. Five wrong user codes lock the shared demo card for 24 hours and about ten
 * lookups in 15 minutes rate-limit it, and the lock is kept in `.webccid/` across restarts; the
 * demo panel's reset calls this so that one visitor cannot lock the demo for the next.
 *
 * Only the demo cards are touched, never another card number, and only where the Vite plugin
 * mounts the route (`POST {basePath}/demo/reset`, `npm start`): `createReferenceServer` (the
 * production-shaped server) has no such route. Bindings (accounts) are left alone.
 */
import { normaliseCardNumber, type UnlockService } from './unlock.js';
import type { SqlDatabase } from './db.js';
import { DEMO_CARDS } from './demo.js';
import type { UnlockCard } from './unlock.js';

/** What the reset needs of the server (a `ReferenceServer` has both). */
export interface DemoResettable {
  readonly unlock: UnlockService;
  readonly db: SqlDatabase;
}

/** Clears the lockout, failures and windowed attempts of each demo card; returns how many cards it reset. */
export function resetDemoCards(server: DemoResettable, cards: readonly UnlockCard[] = DEMO_CARDS): number {
  let n = 0;
  for (const card of cards) {
    const cardNumber = normaliseCardNumber(card.cardNumber);
    if (!cardNumber) continue;
    server.unlock.resetLockout(cardNumber);
    server.db.run('DELETE FROM unlock_attempts WHERE card_number = ?', [cardNumber]);
    n++;
  }
  return n;
}
