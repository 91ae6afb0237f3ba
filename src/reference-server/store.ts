/**
 * The reference server's storage behind one small interface (`ReferenceStore`), implemented once
 * in SQL (`SqlReferenceStore`) over a driver: the embedded SQLite file (db.ts, the default) or
 * PostgreSQL (postgres.ts) for deployments that run several server processes.
 *
 * Every counter that guards a secret is changed atomically in the database, never read in one
 * request and written back after an await:
 * - an unlock attempt is *reserved* before the user code is compared: one conditional statement
 *   (`UPDATE ... SET failures = failures + 1 ... WHERE failures < max`) inside a transaction that
 *   also checks and records the per-client and per-card windows; a transaction holds SQLite's
 *   write lock (`BEGIN IMMEDIATE`) or PostgreSQL advisory locks on the client and the card, so
 *   any number of requests, in any number of processes, evaluate at most `maxFailures` wrong
 *   codes per card and at most `perClient` attempts per client and window;
 * - a challenge, a binding token and a session are taken with one `UPDATE`/`DELETE ... RETURNING`.
 *
 * Tables (schema in db.ts and postgres.ts): `cards` (card number, sealed PUK, user code hash),
 * `unlock_lockouts` (failures: wrong codes plus attempts in flight; pending: attempts in flight;
 * locked_until), `rate_events` (scope, key, time: the sliding windows), `challenges`,
 * `bind_tokens` (verified bindings waiting for 送出申請), `accounts`, `sessions`, `bindings`.
 */

export type SqlValue = string | number | null;
export type SqlRow = Record<string, unknown>;

/** What a driver runs: `?` placeholders (the PostgreSQL driver numbers them). */
export interface SqlRunner {
  all(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
  get(sql: string, params?: readonly SqlValue[]): Promise<SqlRow | undefined>;
  /** Runs a statement; resolves with the number of rows changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

/** A database connection (or pool) the store runs on. */
export interface SqlDriver extends SqlRunner {
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * Runs `fn` in one transaction that excludes every other transaction naming one of `locks`,
   * in this process and in others (SQLite: the database's write lock; PostgreSQL: advisory locks).
   */
  transaction<T>(locks: readonly string[], fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Reads a numeric column (drivers give numbers, bigints or, for PostgreSQL's bigint, text). */
export function num(row: SqlRow | null | undefined, column: string): number {
  const v = row?.[column];
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint' || typeof v === 'string') return Number(v);
  return 0;
}

/** Reads a text column. */
export function str(row: SqlRow | null | undefined, column: string): string | undefined {
  const v = row?.[column];
  return typeof v === 'string' ? v : undefined;
}

/** A card of the unlock service as stored. */
export interface StoredCard {
  cardNumber: string;
  /** `PukSealer.seal()` output: never the PUK in clear. */
  pukSealed: string;
  /** `hashSecret()` output. */
  userCodeHash: string;
  holderName?: string;
}

/** A verified card certificate (what a binding holds besides the account). */
export interface VerifiedCard {
  /** Hex SHA-256 of the certificate DER. */
  fingerprint: string;
  cardNumber?: string;
  holderName: string;
  cardType: 'personnel' | 'institution';
  /** Subject DN of the certificate. */
  subject: string;
  /** The certificate DER, base64. */
  certificate: string;
}

/** A stored binding. */
export interface Binding extends VerifiedCard {
  account: string;
  /** Milliseconds since the epoch. */
  boundAt: number;
}

/** The unlock limits the store enforces (see unlock.ts). */
export interface UnlockCounterLimits {
  maxFailures: number;
  windowMs: number;
  perCard: number;
  perClient: number;
}

export type UnlockReservation =
  | { ok: true }
  | { ok: false; code: 'card-locked'; retryAfterMs: number }
  | { ok: false; code: 'rate-limited'; scope: 'client' | 'card'; retryAfterMs: number };

export type RateResult = { ok: true } | { ok: false; retryAfterMs: number };

export type CommitResult =
  | { ok: true; binding?: Binding }
  | { ok: false; code: 'account-exists' | 'bind-token-invalid' | 'already-bound' };

/** Everything the reference server keeps. All methods are atomic on their own. */
export interface ReferenceStore {
  readonly dialect: 'sqlite' | 'postgres';
  putCard(card: StoredCard): Promise<void>;
  getCard(cardNumber: string): Promise<StoredCard | undefined>;
  setUserCodeHash(cardNumber: string, hash: string): Promise<void>;

  /** Reserves one unlock attempt (counted as a wrong code until `finishUnlock`). */
  reserveUnlock(input: { cardNumber: string; client: string; now: number; limits: UnlockCounterLimits }): Promise<UnlockReservation>;
  /** Settles a reserved attempt. A right code clears the count (see `SqlReferenceStore`); a wrong one may lock the card. */
  finishUnlock(input: { cardNumber: string; match: boolean; now: number; maxFailures: number; lockoutMs: number }): Promise<{ failures: number; lockedUntil: number }>;
  lockoutOf(cardNumber: string): Promise<{ failures: number; pending: number; lockedUntil: number }>;
  resetLockout(cardNumber: string): Promise<void>;
  /**
   * The demo reset of one card (dev server only, src/reference-server/demo-reset.ts): in one
   * transaction, clears its lockout and counted failures (attempts still in flight stay counted, as
   * in `resetLockout`) and empties its per-card rate-limit window. Other cards are not touched.
   */
  resetDemoCard(cardNumber: string): Promise<void>;

  /** One event in a sliding window: refused (not recorded) when `limit` are already in it. */
  hit(scope: string, key: string, limit: number, windowMs: number, now: number): Promise<RateResult>;

  /** Stores a challenge unless `maxRows` challenges are kept (expired ones are pruned first). */
  putChallenge(input: { key: string; challenge: string; origin: string; expiresAt: number; now: number; retainMs: number; maxRows: number }): Promise<boolean>;
  takeChallenge(key: string): Promise<{ state: 'taken'; challenge: string; origin: string; expiresAt: number } | { state: 'used' } | { state: 'unknown' }>;
  countChallenges(): Promise<number>;

  putBindToken(input: { tokenHash: string; card: VerifiedCard; now: number; expiresAt: number }): Promise<void>;
  /** Creates the account and, with a token, binds its card, in one transaction. */
  registerAccount(input: { account: string; passwordHash: string; tokenHash?: string; now: number }): Promise<CommitResult>;
  /** Binds the token's card to an existing account (replacing its card: 重新綁定). */
  commitBinding(input: { account: string; tokenHash: string; now: number }): Promise<CommitResult>;
  accountPasswordHash(account: string): Promise<string | undefined>;
  bindingOwner(fingerprint: string): Promise<string | undefined>;
  bindingOf(account: string): Promise<Binding | undefined>;
  unbind(account: string): Promise<boolean>;

  createSession(input: { idHash: string; account: string; now: number; expiresAt: number }): Promise<void>;
  sessionAccount(idHash: string, now: number): Promise<string | undefined>;
  deleteSession(idHash: string): Promise<void>;

  /** Deletes rate events, tokens and sessions past their time. */
  prune(now: number, rateRetainMs: number): Promise<void>;
  close(): Promise<void>;
}

function rowToBinding(row: SqlRow): Binding {
  const b: Binding = {
    account: str(row, 'account') ?? '',
    fingerprint: str(row, 'fingerprint') ?? '',
    holderName: str(row, 'holder_name') ?? '',
    cardType: str(row, 'card_type') === 'institution' ? 'institution' : 'personnel',
    subject: str(row, 'subject') ?? '',
    certificate: str(row, 'certificate') ?? '',
    boundAt: num(row, 'bound_at'),
  };
  const cardNumber = str(row, 'card_number');
  if (cardNumber !== undefined) b.cardNumber = cardNumber;
  return b;
}

async function windowOf(tx: SqlRunner, scope: string, key: string, since: number): Promise<{ n: number; oldest: number }> {
  const row = await tx.get('SELECT count(*) AS n, min(at) AS oldest FROM rate_events WHERE scope = ? AND key = ? AND at > ?', [scope, key, since]);
  return { n: num(row, 'n'), oldest: num(row, 'oldest') };
}

const UPSERT_BINDING = `INSERT INTO bindings (account, fingerprint, card_number, holder_name, card_type, subject, certificate, bound_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (account) DO UPDATE SET fingerprint = excluded.fingerprint, card_number = excluded.card_number,
    holder_name = excluded.holder_name, card_type = excluded.card_type, subject = excluded.subject,
    certificate = excluded.certificate, bound_at = excluded.bound_at`;

/** `ReferenceStore` in SQL common to SQLite and PostgreSQL. */
export class SqlReferenceStore implements ReferenceStore {
  readonly dialect: 'sqlite' | 'postgres';

  constructor(readonly driver: SqlDriver) {
    this.dialect = driver.dialect;
  }

  async putCard(card: StoredCard): Promise<void> {
    await this.driver.run(
      `INSERT INTO cards (card_number, puk_sealed, user_code_hash, holder_name) VALUES (?, ?, ?, ?)
       ON CONFLICT (card_number) DO UPDATE SET puk_sealed = excluded.puk_sealed, user_code_hash = excluded.user_code_hash, holder_name = excluded.holder_name`,
      [card.cardNumber, card.pukSealed, card.userCodeHash, card.holderName ?? null],
    );
  }

  async getCard(cardNumber: string): Promise<StoredCard | undefined> {
    const row = await this.driver.get('SELECT card_number, puk_sealed, user_code_hash, holder_name FROM cards WHERE card_number = ?', [cardNumber]);
    if (!row) return undefined;
    const card: StoredCard = { cardNumber, pukSealed: str(row, 'puk_sealed') ?? '', userCodeHash: str(row, 'user_code_hash') ?? '' };
    const holder = str(row, 'holder_name');
    if (holder !== undefined) card.holderName = holder;
    return card;
  }

  async setUserCodeHash(cardNumber: string, hash: string): Promise<void> {
    await this.driver.run('UPDATE cards SET user_code_hash = ? WHERE card_number = ?', [hash, cardNumber]);
  }

  reserveUnlock(input: { cardNumber: string; client: string; now: number; limits: UnlockCounterLimits }): Promise<UnlockReservation> {
    const { cardNumber, client, now, limits } = input;
    return this.driver.transaction([`unlock-client:${client}`, `unlock-card:${cardNumber}`], async (tx): Promise<UnlockReservation> => {
      const since = now - limits.windowMs;
      const byClient = await windowOf(tx, 'unlock-client', client, since);
      if (byClient.n >= limits.perClient) {
        return { ok: false, code: 'rate-limited', scope: 'client', retryAfterMs: Math.max(1, byClient.oldest + limits.windowMs - now) };
      }
      await tx.run('INSERT INTO unlock_lockouts (card_number, failures, pending, locked_until) VALUES (?, 0, 0, 0) ON CONFLICT (card_number) DO NOTHING', [cardNumber]);
      // A lockout that has run out starts a fresh count.
      await tx.run('UPDATE unlock_lockouts SET failures = 0, pending = 0, locked_until = 0 WHERE card_number = ? AND locked_until <> 0 AND locked_until <= ?', [cardNumber, now]);
      const lock = await tx.get('SELECT locked_until FROM unlock_lockouts WHERE card_number = ?', [cardNumber]);
      const lockedUntil = num(lock, 'locked_until');
      if (lockedUntil > now) return { ok: false, code: 'card-locked', retryAfterMs: lockedUntil - now };
      const byCard = await windowOf(tx, 'unlock-card', cardNumber, since);
      if (byCard.n >= limits.perCard) {
        return { ok: false, code: 'rate-limited', scope: 'card', retryAfterMs: Math.max(1, byCard.oldest + limits.windowMs - now) };
      }
      // The reservation: counted as a wrong code until it is settled.
      const reserved = await tx.run('UPDATE unlock_lockouts SET failures = failures + 1, pending = pending + 1 WHERE card_number = ? AND failures < ?', [
        cardNumber,
        limits.maxFailures,
      ]);
      // Every allowed try is in flight: the answers decide whether the card locks.
      if (reserved !== 1) return { ok: false, code: 'rate-limited', scope: 'card', retryAfterMs: 1000 };
      await tx.run('INSERT INTO rate_events (scope, key, at) VALUES (?, ?, ?), (?, ?, ?)', ['unlock-client', client, now, 'unlock-card', cardNumber, now]);
      return { ok: true };
    });
  }

  async finishUnlock(input: { cardNumber: string; match: boolean; now: number; maxFailures: number; lockoutMs: number }): Promise<{ failures: number; lockedUntil: number }> {
    const row = input.match
      ? await this.driver.get(
          // The right code clears the count, unless other attempts are in flight: then it only
          // releases its own reservation, so a guesser racing the holder gains no fresh tries.
          `UPDATE unlock_lockouts SET failures = CASE WHEN pending > 1 AND failures > 0 THEN failures - 1 ELSE 0 END,
             pending = CASE WHEN pending > 0 THEN pending - 1 ELSE 0 END, locked_until = 0
           WHERE card_number = ? RETURNING failures, locked_until`,
          [input.cardNumber],
        )
      : await this.driver.get(
          `UPDATE unlock_lockouts SET pending = CASE WHEN pending > 0 THEN pending - 1 ELSE 0 END,
             locked_until = CASE WHEN failures >= ? AND locked_until = 0 THEN ? ELSE locked_until END
           WHERE card_number = ? RETURNING failures, locked_until`,
          [input.maxFailures, input.now + input.lockoutMs, input.cardNumber],
        );
    return { failures: num(row, 'failures'), lockedUntil: num(row, 'locked_until') };
  }

  async lockoutOf(cardNumber: string): Promise<{ failures: number; pending: number; lockedUntil: number }> {
    const row = await this.driver.get('SELECT failures, pending, locked_until FROM unlock_lockouts WHERE card_number = ?', [cardNumber]);
    return { failures: num(row, 'failures'), pending: num(row, 'pending'), lockedUntil: num(row, 'locked_until') };
  }

  async resetLockout(cardNumber: string): Promise<void> {
    await this.driver.run('UPDATE unlock_lockouts SET failures = pending, locked_until = 0 WHERE card_number = ?', [cardNumber]);
  }

  resetDemoCard(cardNumber: string): Promise<void> {
    // The same lock as `reserveUnlock` takes for the card: no reservation runs half before, half after.
    return this.driver.transaction([`unlock-card:${cardNumber}`], async (tx) => {
      await tx.run('UPDATE unlock_lockouts SET failures = pending, locked_until = 0 WHERE card_number = ?', [cardNumber]);
      await tx.run('DELETE FROM rate_events WHERE scope = ? AND key = ?', ['unlock-card', cardNumber]);
    });
  }

  hit(scope: string, key: string, limit: number, windowMs: number, now: number): Promise<RateResult> {
    return this.driver.transaction([`rate:${scope}:${key}`], async (tx): Promise<RateResult> => {
      const w = await windowOf(tx, scope, key, now - windowMs);
      if (w.n >= limit) return { ok: false, retryAfterMs: Math.max(1, w.oldest + windowMs - now) };
      await tx.run('INSERT INTO rate_events (scope, key, at) VALUES (?, ?, ?)', [scope, key, now]);
      return { ok: true };
    });
  }

  putChallenge(input: { key: string; challenge: string; origin: string; expiresAt: number; now: number; retainMs: number; maxRows: number }): Promise<boolean> {
    return this.driver.transaction(['challenges'], async (tx) => {
      await tx.run('DELETE FROM challenges WHERE expires_at <= ?', [input.now - input.retainMs]);
      if (num(await tx.get('SELECT count(*) AS n FROM challenges'), 'n') >= input.maxRows) return false;
      await tx.run('INSERT INTO challenges (key, challenge, origin, expires_at, used) VALUES (?, ?, ?, ?, 0)', [input.key, input.challenge, input.origin, input.expiresAt]);
      return true;
    });
  }

  async takeChallenge(key: string): Promise<{ state: 'taken'; challenge: string; origin: string; expiresAt: number } | { state: 'used' } | { state: 'unknown' }> {
    const row = await this.driver.get('UPDATE challenges SET used = 1 WHERE key = ? AND used = 0 RETURNING challenge, origin, expires_at', [key]);
    if (row) return { state: 'taken', challenge: str(row, 'challenge') ?? '', origin: str(row, 'origin') ?? '', expiresAt: num(row, 'expires_at') };
    return (await this.driver.get('SELECT 1 AS x FROM challenges WHERE key = ?', [key])) ? { state: 'used' } : { state: 'unknown' };
  }

  async countChallenges(): Promise<number> {
    return num(await this.driver.get('SELECT count(*) AS n FROM challenges'), 'n');
  }

  async putBindToken(input: { tokenHash: string; card: VerifiedCard; now: number; expiresAt: number }): Promise<void> {
    const c = input.card;
    await this.driver.run('DELETE FROM bind_tokens WHERE expires_at <= ?', [input.now]);
    await this.driver.run(
      `INSERT INTO bind_tokens (token_hash, fingerprint, card_number, holder_name, card_type, subject, certificate, verified_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [input.tokenHash, c.fingerprint, c.cardNumber ?? null, c.holderName, c.cardType, c.subject, c.certificate, input.now, input.expiresAt],
    );
  }

  /** In a transaction: the token's card, checked (valid, and not bound to another account). */
  private async tokenCard(tx: SqlRunner, account: string, tokenHash: string, now: number): Promise<VerifiedCard | 'bind-token-invalid' | 'already-bound'> {
    const t = await tx.get('SELECT * FROM bind_tokens WHERE token_hash = ? AND expires_at > ?', [tokenHash, now]);
    if (!t) return 'bind-token-invalid';
    const owner = await tx.get('SELECT account FROM bindings WHERE fingerprint = ?', [str(t, 'fingerprint') ?? '']);
    if (owner && str(owner, 'account') !== account) return 'already-bound';
    const card = rowToBinding({ ...t, account, bound_at: now });
    return card;
  }

  private async bindCard(tx: SqlRunner, account: string, tokenHash: string, card: VerifiedCard, now: number): Promise<Binding> {
    // One use: whoever deletes the token row binds.
    if ((await tx.run('DELETE FROM bind_tokens WHERE token_hash = ?', [tokenHash])) !== 1) throw new TokenRace();
    const b: Binding = { ...card, account, boundAt: now };
    await tx.run(UPSERT_BINDING, [account, b.fingerprint, b.cardNumber ?? null, b.holderName, b.cardType, b.subject, b.certificate, now]);
    return b;
  }

  async registerAccount(input: { account: string; passwordHash: string; tokenHash?: string; now: number }): Promise<CommitResult> {
    try {
      return await this.driver.transaction(['bindings', `account:${input.account}`], async (tx): Promise<CommitResult> => {
        if (await tx.get('SELECT 1 AS x FROM accounts WHERE account = ?', [input.account])) return { ok: false, code: 'account-exists' };
        let card: VerifiedCard | undefined;
        if (input.tokenHash !== undefined) {
          const c = await this.tokenCard(tx, input.account, input.tokenHash, input.now);
          if (typeof c === 'string') return { ok: false, code: c };
          card = c;
        }
        await tx.run('INSERT INTO accounts (account, password_hash, created_at) VALUES (?, ?, ?)', [input.account, input.passwordHash, input.now]);
        // An account name taken again after its account was removed must not inherit the old binding.
        await tx.run('DELETE FROM bindings WHERE account = ?', [input.account]);
        if (!card || input.tokenHash === undefined) return { ok: true };
        return { ok: true, binding: await this.bindCard(tx, input.account, input.tokenHash, card, input.now) };
      });
    } catch (e) {
      if (e instanceof TokenRace) return { ok: false, code: 'bind-token-invalid' };
      throw e;
    }
  }

  async commitBinding(input: { account: string; tokenHash: string; now: number }): Promise<CommitResult> {
    try {
      return await this.driver.transaction(['bindings', `account:${input.account}`], async (tx): Promise<CommitResult> => {
        const card = await this.tokenCard(tx, input.account, input.tokenHash, input.now);
        if (typeof card === 'string') return { ok: false, code: card };
        return { ok: true, binding: await this.bindCard(tx, input.account, input.tokenHash, card, input.now) };
      });
    } catch (e) {
      if (e instanceof TokenRace) return { ok: false, code: 'bind-token-invalid' };
      throw e;
    }
  }

  async accountPasswordHash(account: string): Promise<string | undefined> {
    return str(await this.driver.get('SELECT password_hash FROM accounts WHERE account = ?', [account]), 'password_hash');
  }

  async bindingOwner(fingerprint: string): Promise<string | undefined> {
    return str(await this.driver.get('SELECT account FROM bindings WHERE fingerprint = ?', [fingerprint]), 'account');
  }

  async bindingOf(account: string): Promise<Binding | undefined> {
    const row = await this.driver.get('SELECT * FROM bindings WHERE account = ?', [account]);
    return row ? rowToBinding(row) : undefined;
  }

  async unbind(account: string): Promise<boolean> {
    return (await this.driver.run('DELETE FROM bindings WHERE account = ?', [account])) > 0;
  }

  async createSession(input: { idHash: string; account: string; now: number; expiresAt: number }): Promise<void> {
    await this.driver.run('INSERT INTO sessions (id_hash, account, expires_at) VALUES (?, ?, ?)', [input.idHash, input.account, input.expiresAt]);
  }

  async sessionAccount(idHash: string, now: number): Promise<string | undefined> {
    return str(await this.driver.get('SELECT account FROM sessions WHERE id_hash = ? AND expires_at > ?', [idHash, now]), 'account');
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.driver.run('DELETE FROM sessions WHERE id_hash = ?', [idHash]);
  }

  async prune(now: number, rateRetainMs: number): Promise<void> {
    await this.driver.run('DELETE FROM rate_events WHERE at <= ?', [now - rateRetainMs]);
    await this.driver.run('DELETE FROM bind_tokens WHERE expires_at <= ?', [now]);
    await this.driver.run('DELETE FROM sessions WHERE expires_at <= ?', [now]);
  }

  close(): Promise<void> {
    return this.driver.close();
  }
}

/** Thrown inside a transaction when the token was taken by a concurrent commit (rolls back). */
class TokenRace extends Error {}

/**
 * The reference store's tables, one definition for both databases: they differ only in the type
 * of the millisecond timestamps (SQLite's INTEGER is 64-bit already; PostgreSQL needs BIGINT) and
 * in the auto-numbered key.
 */
export function referenceSchema(dialect: 'sqlite' | 'postgres'): string {
  const time = dialect === 'postgres' ? 'BIGINT' : 'INTEGER';
  const serialId = dialect === 'postgres' ? 'BIGSERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT';
  return `
CREATE TABLE IF NOT EXISTS cards (
  card_number TEXT PRIMARY KEY,
  puk_sealed TEXT NOT NULL,
  user_code_hash TEXT NOT NULL,
  holder_name TEXT
);
CREATE TABLE IF NOT EXISTS unlock_lockouts (
  card_number TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  pending INTEGER NOT NULL DEFAULT 0,
  locked_until ${time} NOT NULL
);
CREATE TABLE IF NOT EXISTS rate_events (
  id ${serialId},
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  at ${time} NOT NULL
);
CREATE INDEX IF NOT EXISTS rate_events_key ON rate_events (scope, key, at);
CREATE INDEX IF NOT EXISTS rate_events_at ON rate_events (at);
CREATE TABLE IF NOT EXISTS challenges (
  key TEXT PRIMARY KEY,
  challenge TEXT NOT NULL,
  origin TEXT NOT NULL,
  expires_at ${time} NOT NULL,
  used INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS challenges_expiry ON challenges (expires_at);
CREATE TABLE IF NOT EXISTS bind_tokens (
  token_hash TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  card_number TEXT,
  holder_name TEXT NOT NULL,
  card_type TEXT NOT NULL,
  subject TEXT NOT NULL,
  certificate TEXT NOT NULL,
  verified_at ${time} NOT NULL,
  expires_at ${time} NOT NULL
);
CREATE TABLE IF NOT EXISTS accounts (
  account TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,
  created_at ${time} NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
  id_hash TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  expires_at ${time} NOT NULL
);
CREATE TABLE IF NOT EXISTS bindings (
  account TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL UNIQUE,
  card_number TEXT,
  holder_name TEXT NOT NULL,
  card_type TEXT NOT NULL,
  subject TEXT NOT NULL,
  certificate TEXT NOT NULL,
  bound_at ${time} NOT NULL
);
`;
}
