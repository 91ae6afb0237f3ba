/**
 * The embedded SQLite database of the reference server (node-sqlite3-wasm: SQLite compiled to
 * WebAssembly, persisted to an ordinary file; no native build) as a `SqlDriver` for
 * `SqlReferenceStore` (store.ts holds the tables' meaning).
 *
 * Concurrency: node-sqlite3-wasm runs statements synchronously, so one process needs only to keep
 * a transaction's statements together (a queue: nothing else runs on the connection between
 * `BEGIN IMMEDIATE` and `COMMIT`). Across processes its file lock (a `<file>.lock` directory,
 * exclusive at every lock level) serialises them; a locked database is retried for up to
 * `busyTimeoutMs`. A process killed while holding the lock leaves that directory behind: for
 * several processes, PostgreSQL (postgres.ts) is the better store.
 *
 * `PRAGMA secure_delete` is on: deleted rows (used tokens, old sessions) are overwritten.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import sqlite from 'node-sqlite3-wasm';
import type { PukSealer } from './secrets.js';
import { num, referenceSchema, str, SqlReferenceStore, type SqlDriver, type SqlRow, type SqlRunner, type SqlValue } from './store.js';

type Database = InstanceType<typeof sqlite.Database>;

const SCHEMA = referenceSchema('sqlite');

const SCHEMA_VERSION = 2;

function isBusy(e: unknown): boolean {
  return e instanceof Error && /database is locked|SQLITE_BUSY/i.test(e.message);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A `SqlDriver` over one node-sqlite3-wasm connection. */
export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  readonly db: Database;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly busyTimeoutMs: number;

  constructor(db: Database, options: { busyTimeoutMs?: number } = {}) {
    this.db = db;
    this.busyTimeoutMs = options.busyTimeoutMs ?? 10_000;
  }

  /** Runs `op` alone on the connection, retrying while another process holds the file lock. */
  private exclusive<T>(op: () => T | Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      const deadline = Date.now() + this.busyTimeoutMs;
      for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
        try {
          return await op();
        } catch (e) {
          if (!isBusy(e) || Date.now() > deadline) throw e;
          await sleep(wait + Math.random() * wait);
        }
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private runner(): SqlRunner {
    return {
      all: async (sql, params = []) => this.db.all(sql, params as SqlValue[]) as SqlRow[],
      get: async (sql, params = []) => (this.db.get(sql, params as SqlValue[]) as SqlRow | null) ?? undefined,
      run: async (sql, params = []) => this.db.run(sql, params as SqlValue[]).changes,
    };
  }

  all(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
    return this.exclusive(() => this.db.all(sql, params as SqlValue[]) as SqlRow[]);
  }

  get(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow | undefined> {
    return this.exclusive(() => (this.db.get(sql, params as SqlValue[]) as SqlRow | null) ?? undefined);
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.exclusive(() => this.db.run(sql, params as SqlValue[]).changes);
  }

  /** `BEGIN IMMEDIATE` takes the write lock at once: the whole database is the lock. */
  transaction<T>(_locks: readonly string[], fn: (tx: SqlRunner) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.runner());
        this.db.exec('COMMIT');
        return result;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    });
  }

  close(): Promise<void> {
    return this.exclusive(() => {
      if (this.db.isOpen) this.db.close();
    });
  }
}

/** Moves a version 1 database (PUKs in clear, PBKDF2 user codes) to version 2, then rewrites the file. */
function migrateV1(db: Database, sealer: PukSealer): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    const rows = db.all('SELECT * FROM cards') as SqlRow[];
    db.exec('DROP TABLE cards; DROP TABLE IF EXISTS unlock_attempts; ALTER TABLE unlock_lockouts ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;');
    db.exec(SCHEMA);
    for (const r of rows) {
      const cardNumber = str(r, 'card_number') ?? '';
      const hash = `pbkdf2$${num(r, 'user_code_iterations')}$${str(r, 'user_code_salt') ?? ''}$${str(r, 'user_code_hash') ?? ''}`;
      db.run('INSERT INTO cards (card_number, puk_sealed, user_code_hash, holder_name) VALUES (?, ?, ?, ?)', [
        cardNumber,
        sealer.seal(cardNumber, str(r, 'puk') ?? ''),
        hash,
        str(r, 'holder_name') ?? null,
      ]);
    }
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec('COMMIT');
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw e;
  }
  // The clear PUKs are in free pages now: rewrite the file without them.
  db.exec('VACUUM');
}

/**
 * Opens (creating if needed) the SQLite store. `':memory:'` gives a throw-away database. A
 * version 1 file is migrated (its PUKs sealed with `sealer`).
 */
export function openSqliteStore(dbPath: string, sealer: PukSealer, options: { busyTimeoutMs?: number } = {}): SqlReferenceStore {
  if (dbPath !== ':memory:') mkdirSync(dirname(dbPath), { recursive: true, mode: 0o700 });
  const db = new sqlite.Database(dbPath);
  const driver = new SqliteDriver(db, options);
  const deadline = Date.now() + (options.busyTimeoutMs ?? 10_000);
  // Opening races other processes for the lock too (synchronously: the constructor may not wait).
  for (;;) {
    try {
      db.exec('PRAGMA secure_delete = ON');
      const version = num(db.get('PRAGMA user_version') as SqlRow | null, 'user_version');
      if (version === 1) migrateV1(db, sealer);
      else if (version === 0) db.exec(`BEGIN IMMEDIATE; ${SCHEMA} PRAGMA user_version = ${SCHEMA_VERSION}; COMMIT;`);
      break;
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      if (!isBusy(e) || Date.now() > deadline) {
        db.close();
        throw e;
      }
      const until = Date.now() + 5;
      while (Date.now() < until) {
        // busy wait: a few milliseconds, only while another process creates the schema
      }
    }
  }
  return new SqlReferenceStore(driver);
}
