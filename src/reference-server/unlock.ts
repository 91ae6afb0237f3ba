/**
 * The unlock service (解鎖卡作業): card number + user code (用戶代碼) -> the
 * card's PUK, as the HCA site does today (the HCA unlock guide,
 * docs/design.md §1, steps 7-10), with the protections a PUK service needs:
 *
 * - per-client and per-card rate limits over a sliding window (HTTP 429);
 * - a lockout after `maxFailures` consecutive wrong user codes for a card
 *   number (HTTP 423) for `lockoutMs`; kept for unknown card numbers too, and
 *   unknown card numbers get the same answers as known ones (no enumeration);
 * - user codes stored as PBKDF2-SHA256 hashes, compared in constant time (an
 *   unknown card still costs one PBKDF2 run, so timing does not tell either);
 * - the PUK and the user code never reach a log line.
 *
 * The demo keeps PUKs in the database in clear: a real service would hold
 * them in an HSM or derive them; replace this service (docs/reference-server.md).
 */
import { toHex } from '../bytes.js';
import { WebCcidError } from '../errors.js';
import { num, str, type SqlDatabase, type SqlRow } from './db.js';

/** A card the service knows. */
export interface UnlockCard {
  /** 12 digits (without "GH"). */
  cardNumber: string;
  /** 8 digits. */
  puk: string;
  /** The holder's user code (用戶代碼), case-sensitive. */
  userCode: string;
  holderName?: string;
}

export interface UnlockLimits {
  /** Consecutive wrong user codes before a card number is locked. Default 5. */
  maxFailures: number;
  /** How long a lockout lasts. Default 24 hours. */
  lockoutMs: number;
  /** Sliding window of the rate limits. Default 15 minutes. */
  windowMs: number;
  /** Attempts per card number per window. Default 10. */
  perCard: number;
  /** Attempts per client per window. Default 30. */
  perClient: number;
  /** PBKDF2 iterations for newly stored user codes. Default 100 000. */
  iterations: number;
}

export const DEFAULT_UNLOCK_LIMITS: UnlockLimits = {
  maxFailures: 5,
  lockoutMs: 24 * 3_600_000,
  windowMs: 15 * 60_000,
  perCard: 10,
  perClient: 30,
  iterations: 100_000,
};

/** The outcome of one PUK request. */
export type UnlockResult =
  | { ok: true; puk: string }
  | { ok: false; code: 'bad-card-number' | 'bad-user-code' }
  | { ok: false; code: 'wrong-user-code'; attemptsLeft: number }
  | { ok: false; code: 'card-locked'; retryAfterMs: number }
  | { ok: false; code: 'rate-limited'; scope: 'client' | 'card'; retryAfterMs: number };

/** Accepts "123456789012" or "GH123456789012" (any case); returns the 12 digits or undefined. */
export function normaliseCardNumber(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(?:GH)?(\d{12})$/i.exec(value.trim());
  return m?.[1];
}

function validUserCode(value: unknown): value is string {
  // eslint-disable-next-line no-control-regex
  return typeof value === 'string' && value.length >= 1 && value.length <= 64 && !/[\u0000-\u001f\u007f]/.test(value);
}

function validPuk(value: string): boolean {
  return /^\d{8}$/.test(value);
}

async function pbkdf2(secret: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<Uint8Array> {
  const encoded = new TextEncoder().encode(secret);
  try {
    const key = await globalThis.crypto.subtle.importKey('raw', encoded, 'PBKDF2', false, ['deriveBits']);
    return new Uint8Array(await globalThis.crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, 256));
  } finally {
    encoded.fill(0);
  }
}

function fromHexText(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Byte comparison whose time depends only on the lengths. */
function constantTimeBytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** The PUK service over the reference database. */
export class UnlockService {
  private readonly db: SqlDatabase;
  readonly limits: UnlockLimits;
  private readonly dummySalt = globalThis.crypto.getRandomValues(new Uint8Array(16));

  constructor(db: SqlDatabase, limits: Partial<UnlockLimits> = {}) {
    this.db = db;
    this.limits = { ...DEFAULT_UNLOCK_LIMITS, ...limits };
  }

  /** Adds or replaces a card (the PUK and a hash of the user code are stored). Throws `WebCcidError('server/bad-card')` on a bad field. */
  async addCard(card: UnlockCard): Promise<void> {
    const cardNumber = normaliseCardNumber(card.cardNumber);
    if (!cardNumber || !validPuk(card.puk) || !validUserCode(card.userCode)) {
      throw new WebCcidError('server/bad-card', 'addCard needs a card number (12 digits), a PUK (8 digits) and a user code (1 to 64 characters).');
    }
    const salt = globalThis.crypto.getRandomValues(new Uint8Array(16));
    const hash = await pbkdf2(card.userCode, salt, this.limits.iterations);
    this.db.run(
      'INSERT OR REPLACE INTO cards (card_number, puk, user_code_salt, user_code_hash, user_code_iterations, holder_name) VALUES (?, ?, ?, ?, ?, ?)',
      [cardNumber, card.puk, toHex(salt, ''), toHex(hash, ''), this.limits.iterations, card.holderName ?? null],
    );
  }

  /** True when the card number is in the database. */
  hasCard(cardNumber: string): boolean {
    const n = normaliseCardNumber(cardNumber);
    return n !== undefined && this.db.get('SELECT 1 AS x FROM cards WHERE card_number = ?', [n]) !== null;
  }

  /** Clears a card number's failures and lockout (an operator action after checking the holder's identity). */
  resetLockout(cardNumber: string): void {
    const n = normaliseCardNumber(cardNumber);
    if (n) this.db.run('DELETE FROM unlock_lockouts WHERE card_number = ?', [n]);
  }

  /** The current lockout state of a card number. */
  lockoutOf(cardNumber: string, now: number): { failures: number; lockedUntil: number | undefined } {
    const n = normaliseCardNumber(cardNumber) ?? '';
    const row = this.db.get('SELECT failures, locked_until FROM unlock_lockouts WHERE card_number = ?', [n]) as SqlRow | null;
    const lockedUntil = num(row, 'locked_until');
    return { failures: num(row, 'failures'), lockedUntil: lockedUntil > now ? lockedUntil : undefined };
  }

  /**
   * One PUK request. `client` identifies the caller for the per-client limit
   * (e.g. the remote address). Neither the user code nor the PUK is logged or
   * kept beyond this call.
   */
  async requestPuk(input: { cardNumber: unknown; userCode: unknown; client: string; now: number }): Promise<UnlockResult> {
    const { client, now } = input;
    const cardNumber = normaliseCardNumber(input.cardNumber);
    if (!cardNumber) return { ok: false, code: 'bad-card-number' };
    if (!validUserCode(input.userCode)) return { ok: false, code: 'bad-user-code' };
    const since = now - this.limits.windowMs;
    this.db.run('DELETE FROM unlock_attempts WHERE at <= ?', [since]);

    const byClient = this.windowed('client', client, since);
    if (byClient.count >= this.limits.perClient) {
      return { ok: false, code: 'rate-limited', scope: 'client', retryAfterMs: Math.max(1, byClient.oldest + this.limits.windowMs - now) };
    }
    const lock = this.lockoutOf(cardNumber, now);
    if (lock.lockedUntil !== undefined) return { ok: false, code: 'card-locked', retryAfterMs: lock.lockedUntil - now };
    const byCard = this.windowed('card_number', cardNumber, since);
    if (byCard.count >= this.limits.perCard) {
      return { ok: false, code: 'rate-limited', scope: 'card', retryAfterMs: Math.max(1, byCard.oldest + this.limits.windowMs - now) };
    }

    const row = this.db.get('SELECT puk, user_code_salt, user_code_hash, user_code_iterations FROM cards WHERE card_number = ?', [cardNumber]) as SqlRow | null;
    const salt = row ? fromHexText(str(row, 'user_code_salt') ?? '') : this.dummySalt;
    const iterations = row ? num(row, 'user_code_iterations') : this.limits.iterations;
    const expected = row ? fromHexText(str(row, 'user_code_hash') ?? '') : new Uint8Array(32);
    const actual = await pbkdf2(input.userCode, salt, iterations);
    const match = constantTimeBytesEqual(actual, expected) && row !== null;
    actual.fill(0);

    this.db.run('INSERT INTO unlock_attempts (card_number, client, at, ok) VALUES (?, ?, ?, ?)', [cardNumber, client, now, match ? 1 : 0]);
    if (match) {
      this.db.run('DELETE FROM unlock_lockouts WHERE card_number = ?', [cardNumber]);
      return { ok: true, puk: str(row, 'puk') ?? '' };
    }
    const failures = lock.failures + 1;
    const locked = failures >= this.limits.maxFailures;
    this.db.run('INSERT OR REPLACE INTO unlock_lockouts (card_number, failures, locked_until) VALUES (?, ?, ?)', [
      cardNumber,
      locked ? 0 : failures,
      locked ? now + this.limits.lockoutMs : 0,
    ]);
    if (locked) return { ok: false, code: 'card-locked', retryAfterMs: this.limits.lockoutMs };
    return { ok: false, code: 'wrong-user-code', attemptsLeft: this.limits.maxFailures - failures };
  }

  private windowed(column: 'client' | 'card_number', value: string, since: number): { count: number; oldest: number } {
    const row = this.db.get(`SELECT count(*) AS n, min(at) AS oldest FROM unlock_attempts WHERE ${column} = ? AND at > ?`, [value, since]) as SqlRow | null;
    return { count: num(row, 'n'), oldest: num(row, 'oldest') };
  }
}
