/**
 * The reference server (Node only): the unlock service (card number + user
 * code -> PUK), accounts and sessions, and the bind service (challenge,
 * verify, commit) over an embedded SQLite file (or PostgreSQL), as a Node request handler and as a Vite plugin.
 * Integrators replace it with their own endpoints: docs/reference-server.md.
 */
export { createReferenceServer, type ReferenceServer, type ReferenceServerOptions, type ReferenceServerLogEntry, type ReferenceServerLogger } from './http.js';
export { referenceServerPlugin, type ReferenceServerVitePlugin } from './vite.js';
export { UnlockService, DEFAULT_UNLOCK_LIMITS, normaliseCardNumber, type UnlockCard, type UnlockLimits, type UnlockResult } from './unlock.js';
export { BindService, StoreChallengeStore, type Binding, type VerifyResult } from './bind.js';
export { AccountService, ACCOUNT_PATTERN } from './accounts.js';
export { openSqliteStore, SqliteDriver } from './db.js';
export { openPostgresStore, type PostgresStoreOptions } from './postgres.js';
export { SqlReferenceStore, type ReferenceStore, type SqlDriver, type StoredCard, type VerifiedCard } from './store.js';
export { hashSecret, verifySecret, loadServerKey, PukSealer } from './secrets.js';
export { DEMO_CARDS, DEMO_USER_CODE } from './demo.js';
