import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sqlite from 'node-sqlite3-wasm';
import { openSqliteStore } from './db.js';
import { hashSecret, loadServerKey, PukSealer, verifySecret } from './secrets.js';
import { UnlockService } from './unlock.js';

const dir = mkdtempSync(join(tmpdir(), 'webccid-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('secrets at rest', () => {
  it('scrypt hashes: salted (two hashes of one secret differ), verified in constant time, wrong secrets refused', async () => {
    const a = await hashSecret('Demo1234', 1024);
    const b = await hashSecret('Demo1234', 1024);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await verifySecret('Demo1234', a)).toBe(true);
    expect(await verifySecret('demo1234', a)).toBe(false);
    expect(await verifySecret('Demo1234', 'garbage', 1024)).toBe(false);
  });

  it('a sealed PUK opens only with its key and for its card number', () => {
    const key = randomBytes(32);
    const sealed = new PukSealer(key).seal('000012345678', '12345678');
    expect(sealed).not.toContain('12345678');
    expect(new PukSealer(key).open('000012345678', sealed)).toBe('12345678');
    expect(new PukSealer(key).open('000012345679', sealed)).toBeUndefined();
    expect(new PukSealer(randomBytes(32)).open('000012345678', sealed)).toBeUndefined();
    const raw = Buffer.from(sealed.slice(3), 'base64');
    raw[20] = (raw[20] ?? 0) ^ 1;
    expect(new PukSealer(key).open('000012345678', `v1.${raw.toString('base64')}`)).toBeUndefined();
  });

  it('the server key: from the option, the environment, or a key file made once (0600) and reused', () => {
    const file = join(dir, 'keys', 'server.key');
    const made = loadServerKey({ keyFile: file, env: {} })!;
    expect(made).toHaveLength(32);
    expect(loadServerKey({ keyFile: file, env: {} })).toEqual(made);
    const env = randomBytes(32).toString('base64');
    expect(Buffer.from(loadServerKey({ keyFile: file, env: { WEBCCID_SECRET_KEY: env } })!).toString('base64')).toBe(env);
    expect(() => loadServerKey({ secretKey: 'c2hvcnQ=', env: {} })).toThrow(expect.objectContaining({ code: 'server/bad-key' }));
  });

  it('a version 1 database (PUKs in clear, PBKDF2 user codes) is migrated: PUKs sealed, the file rewritten, the old code still works and is re-hashed', async () => {
    const file = join(dir, 'v1.sqlite');
    const old = new sqlite.Database(file);
    old.exec(`CREATE TABLE cards (card_number TEXT PRIMARY KEY, puk TEXT NOT NULL, user_code_salt TEXT NOT NULL, user_code_hash TEXT NOT NULL, user_code_iterations INTEGER NOT NULL, holder_name TEXT);
      CREATE TABLE unlock_lockouts (card_number TEXT PRIMARY KEY, failures INTEGER NOT NULL, locked_until INTEGER NOT NULL);
      CREATE TABLE unlock_attempts (id INTEGER PRIMARY KEY AUTOINCREMENT, card_number TEXT NOT NULL, client TEXT NOT NULL, at INTEGER NOT NULL, ok INTEGER NOT NULL);
      CREATE TABLE bindings (account TEXT PRIMARY KEY, fingerprint TEXT NOT NULL UNIQUE, card_number TEXT, holder_name TEXT NOT NULL, card_type TEXT NOT NULL, subject TEXT NOT NULL, certificate TEXT NOT NULL, bound_at INTEGER NOT NULL);
      PRAGMA user_version = 1;`);
    const salt = randomBytes(16);
    const hash = pbkdf2Sync('Old-Code-9', salt, 1000, 32, 'sha256');
    old.run('INSERT INTO cards VALUES (?, ?, ?, ?, ?, ?)', ['444444444444', '73625184', salt.toString('hex'), hash.toString('hex'), 1000, null]);
    old.close();
    expect(readFileSync(file).toString('latin1')).toContain('73625184');

    const sealer = new PukSealer(randomBytes(32));
    const store = openSqliteStore(file, sealer);
    try {
      expect(readFileSync(file).toString('latin1')).not.toContain('73625184');
      const unlock = new UnlockService(store, sealer, { hashCost: 1024 });
      expect(await unlock.requestPuk({ cardNumber: '444444444444', userCode: 'Old-Code-9', client: 'a', now: 1 })).toEqual({ ok: true, puk: '73625184' });
      expect((await store.getCard('444444444444'))?.userCodeHash).toMatch(/^scrypt\$1024\$/);
      expect(await unlock.requestPuk({ cardNumber: '444444444444', userCode: 'Old-Code-9', client: 'a', now: 2 })).toEqual({ ok: true, puk: '73625184' });
    } finally {
      await store.close();
    }
  });
});
