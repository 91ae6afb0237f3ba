/**
 * The reference server (Node only): the unlock service (card number + user
 * code -> PUK) and the bind service (challenge, verify, store) over an
 * embedded SQLite file, as a Node request handler and as a Vite plugin.
 * Integrators replace it with their own endpoints: docs/reference-server.md.
 */
export { createReferenceServer, type ReferenceServer, type ReferenceServerOptions, type ReferenceServerLogEntry, type ReferenceServerLogger } from './http.js';
export { referenceServerPlugin, type ReferenceServerVitePlugin } from './vite.js';
export { UnlockService, DEFAULT_UNLOCK_LIMITS, normaliseCardNumber, type UnlockCard, type UnlockLimits, type UnlockResult } from './unlock.js';
export { BindService, SqliteChallengeStore, type Binding, type BindResult } from './bind.js';
export { openReferenceDatabase } from './db.js';
export { DEMO_CARDS, DEMO_USER_CODE } from './demo.js';
