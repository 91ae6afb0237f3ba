/**
 * The reference server's embedded SQLite database (node-sqlite3-wasm: SQLite
 * compiled to WebAssembly, persisted to an ordinary file; no native build).
 *
 * Tables:
 * - `cards`: card number -> PUK, PBKDF2 hash of the user code (用戶代碼), holder name;
 * - `unlock_lockouts`: consecutive failures and lock time per card number
 *   (kept for unknown card numbers too, so answers do not reveal which exist);
 * - `unlock_attempts`: recent attempts (card, client, time) for the rate limits;
 * - `challenges`: bind challenges (`ChallengeStore`), keyed by SHA-256 of the challenge;
 * - `bindings`: account -> bound card certificate.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import sqlite from 'node-sqlite3-wasm';

/** The subset of node-sqlite3-wasm's Database the server uses. */
export type SqlDatabase = InstanceType<typeof sqlite.Database>;
export type SqlRow = Record<string, number | bigint | string | Uint8Array | null>;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS cards (
  card_number TEXT PRIMARY KEY,
  puk TEXT NOT NULL,
  user_code_salt TEXT NOT NULL,
  user_code_hash TEXT NOT NULL,
  user_code_iterations INTEGER NOT NULL,
  holder_name TEXT
);
CREATE TABLE IF NOT EXISTS unlock_lockouts (
  card_number TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  locked_until INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS unlock_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  card_number TEXT NOT NULL,
  client TEXT NOT NULL,
  at INTEGER NOT NULL,
  ok INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS unlock_attempts_card ON unlock_attempts (card_number, at);
CREATE INDEX IF NOT EXISTS unlock_attempts_client ON unlock_attempts (client, at);
CREATE TABLE IF NOT EXISTS challenges (
  key TEXT PRIMARY KEY,
  challenge TEXT NOT NULL,
  origin TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS bindings (
  account TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL UNIQUE,
  card_number TEXT,
  holder_name TEXT NOT NULL,
  card_type TEXT NOT NULL,
  subject TEXT NOT NULL,
  certificate TEXT NOT NULL,
  bound_at INTEGER NOT NULL
);
PRAGMA user_version = 1;
`;

/**
 * Opens (creating if needed) the database file and its tables. `':memory:'`
 * gives a throw-away database.
 */
export function openReferenceDatabase(dbPath: string): SqlDatabase {
  if (dbPath !== ':memory:') mkdirSync(dirname(dbPath), { recursive: true });
  const db = new sqlite.Database(dbPath);
  db.exec(SCHEMA);
  return db;
}

/** Reads a numeric column (SQLite integers may come back as bigint). */
export function num(row: SqlRow | null | undefined, column: string): number {
  const v = row?.[column];
  if (typeof v === 'bigint') return Number(v);
  return typeof v === 'number' ? v : 0;
}

/** Reads a text column. */
export function str(row: SqlRow | null | undefined, column: string): string | undefined {
  const v = row?.[column];
  return typeof v === 'string' ? v : undefined;
}
