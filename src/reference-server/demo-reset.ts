/**
 * The demo's reset (dev server only): gives the demo cards (`DEMO_CARDS`, the virtual card's
 * number) back their unlock service state: no lockout, no counted failures, no attempts in the
 * card's rate-limit window. Five wrong user codes lock the shared demo card for 24 hours and ten
 * lookups in 15 minutes rate-limit it, and the lock is kept in the database across restarts; the
 * demo panel's reset calls this so that one visitor cannot lock the demo for the next.
 *
 * Only the demo cards are touched, never another card number (`ReferenceStore.resetDemoCard`, one
 * transaction per card), and only where the Vite plugin mounts the route (`POST
 * {basePath}/demo/reset`, `npm start`): `createReferenceServer` (the production-shaped server) has
 * no such route. Accounts, sessions and bindings are left alone.
 */
import { normaliseCardNumber, type UnlockCard } from './unlock.js';
import type { ReferenceStore } from './store.js';
import { DEMO_CARDS } from './demo.js';

/** What the reset needs of the server (a `ReferenceServer` has it). */
export interface DemoResettable {
  readonly store: Pick<ReferenceStore, 'resetDemoCard'>;
}

/** Clears the lockout, failures and per-card rate window of each demo card; resolves with how many cards it reset. */
export async function resetDemoCards(server: DemoResettable, cards: readonly UnlockCard[] = DEMO_CARDS): Promise<number> {
  let n = 0;
  for (const card of cards) {
    const cardNumber = normaliseCardNumber(card.cardNumber);
    if (!cardNumber) continue;
    await server.store.resetDemoCard(cardNumber);
    n++;
  }
  return n;
}
