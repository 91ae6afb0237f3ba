/**
 * Secrets at rest of the reference server (Node only):
 *
 * - user codes (用戶代碼) and account passwords: scrypt (node:crypto) with a random 16-byte salt,
 *   stored as `scrypt$N$r$p$<salt b64>$<hash b64>` and compared in constant time; rows of the
 *   first schema (PBKDF2-SHA256, `pbkdf2$<iterations>$<salt hex>$<hash hex>`) are still verified
 *   and re-hashed with scrypt on the next success;
 * - PUKs: they must be given back, so they are encrypted (AES-256-GCM, random 96-bit IV, the
 *   card number as additional data so a sealed PUK cannot be moved to another card's row) under a
 *   key derived (HKDF-SHA256) from the server key.
 *
 * The server key (32 bytes) comes from `secretKey`, else `WEBCCID_SECRET_KEY` (base64), else a key
 * file (created with mode 0600 when missing). See docs/reference-server.md "Keys".
 */
import { createCipheriv, createDecipheriv, hkdfSync, pbkdf2, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { WebCcidError } from '../errors.js';

/** scrypt cost (N) of newly stored secrets: 2^14 with r = 8 is 16 MiB a hash (Node's own default; raise it with `unlockLimits.hashCost`). */
export const DEFAULT_SCRYPT_COST = 1 << 14;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
const HASH_BYTES = 32;

function scryptAsync(secret: string, salt: Uint8Array, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, HASH_BYTES, { N: n, r, p, maxmem: 128 * n * r * p + 16 * 1024 * 1024 }, (e, key) => (e ? reject(e) : resolve(key)));
  });
}

function pbkdf2Async(secret: string, salt: Uint8Array, iterations: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(secret, salt, iterations, HASH_BYTES, 'sha256', (e, key) => (e ? reject(e) : resolve(key)));
  });
}

/** Hashes a user code or password for storage (scrypt, random salt). `cost` is N, a power of two. */
export async function hashSecret(secret: string, cost = DEFAULT_SCRYPT_COST): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(secret, salt, cost, SCRYPT_R, SCRYPT_P);
  const out = `scrypt$${cost}$${SCRYPT_R}$${SCRYPT_P}$${salt.toString('base64')}$${hash.toString('base64')}`;
  hash.fill(0);
  return out;
}

/** True when the stored hash is not of the current kind and cost (re-hash after a success). */
export function needsRehash(stored: string, cost = DEFAULT_SCRYPT_COST): boolean {
  return !stored.startsWith(`scrypt$${cost}$${SCRYPT_R}$${SCRYPT_P}$`);
}

/**
 * Compares a secret with a stored hash in constant time (for equal lengths). An unparsable
 * stored value is compared against a fresh hash and answers false, so it costs the same time.
 */
export async function verifySecret(secret: string, stored: string, cost = DEFAULT_SCRYPT_COST): Promise<boolean> {
  const parts = stored.split('$');
  let actual: Buffer;
  let expected: Buffer;
  if (parts[0] === 'scrypt' && parts.length === 6) {
    const [n, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
    expected = Buffer.from(parts[5]!, 'base64');
    actual = await scryptAsync(secret, Buffer.from(parts[4]!, 'base64'), n, r, p);
  } else if (parts[0] === 'pbkdf2' && parts.length === 4) {
    expected = Buffer.from(parts[3]!, 'hex');
    actual = await pbkdf2Async(secret, Buffer.from(parts[2]!, 'hex'), Number(parts[1]));
  } else {
    actual = await scryptAsync(secret, randomBytes(16), cost, SCRYPT_R, SCRYPT_P);
    actual.fill(0);
    return false;
  }
  const same = actual.length === expected.length && timingSafeEqual(actual, expected);
  actual.fill(0);
  return same;
}

/** A stored hash that matches nothing, of the current cost: unknown card numbers are compared against it. */
export function dummySecretHash(cost = DEFAULT_SCRYPT_COST): string {
  return `scrypt$${cost}$${SCRYPT_R}$${SCRYPT_P}$${randomBytes(16).toString('base64')}$${randomBytes(HASH_BYTES).toString('base64')}`;
}

/** Where the server key comes from. */
export interface ServerKeyOptions {
  /** The key itself: 32 bytes, or their base64. */
  secretKey?: Uint8Array | string;
  /** A file holding the key (base64); created with a new random key (mode 0600) when missing. */
  keyFile?: string;
  /** Environment to read `WEBCCID_SECRET_KEY` from. Default `process.env`. */
  env?: Record<string, string | undefined>;
}

function decodeKey(value: Uint8Array | string, where: string): Uint8Array {
  const bytes = typeof value === 'string' ? new Uint8Array(Buffer.from(value.trim(), 'base64')) : value;
  if (bytes.length !== 32) throw new WebCcidError('server/bad-key', `The server key (${where}) must be 32 bytes (base64 in text form).`);
  return bytes;
}

/**
 * The server key: `secretKey`, else `WEBCCID_SECRET_KEY`, else `keyFile` (made when missing), else
 * undefined. Throws `WebCcidError('server/bad-key')` for a key that is not 32 bytes.
 */
export function loadServerKey(options: ServerKeyOptions): Uint8Array | undefined {
  if (options.secretKey !== undefined) return decodeKey(options.secretKey, 'secretKey');
  const env = (options.env ?? process.env)['WEBCCID_SECRET_KEY'];
  if (env) return decodeKey(env, 'WEBCCID_SECRET_KEY');
  if (!options.keyFile) return undefined;
  try {
    return decodeKey(readFileSync(options.keyFile, 'utf8'), options.keyFile);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  mkdirSync(dirname(options.keyFile), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  try {
    writeFileSync(options.keyFile, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    return new Uint8Array(key);
  } catch (e) {
    // Another process made it first: use theirs.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return decodeKey(readFileSync(options.keyFile, 'utf8'), options.keyFile);
    throw e;
  }
}

/** Encrypts and decrypts PUKs with a key derived from the server key. */
export class PukSealer {
  private readonly key: Buffer;

  constructor(serverKey: Uint8Array) {
    this.key = Buffer.from(hkdfSync('sha256', serverKey, new Uint8Array(0), 'webccid reference-server puk v1', 32));
  }

  /** `v1.<base64 of IV | ciphertext | tag>`. */
  seal(cardNumber: string, puk: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(`webccid-puk:${cardNumber}`));
    const body = Buffer.concat([cipher.update(puk, 'utf8'), cipher.final()]);
    return `v1.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64')}`;
  }

  /** The PUK, or undefined when the value is not ours (wrong key, another card's row, altered). */
  open(cardNumber: string, sealed: string): string | undefined {
    if (!sealed.startsWith('v1.')) return undefined;
    const raw = Buffer.from(sealed.slice(3), 'base64');
    if (raw.length < 12 + 16 + 1) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(`webccid-puk:${cardNumber}`));
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}
