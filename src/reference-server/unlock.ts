/**
 * The unlock service (解鎖卡作業): card number + user code (用戶代碼) -> the
 * card's PUK, as the HCA site does today (the HCA unlock guide,
 * docs/design.md §1, steps 7-10), with the protections a PUK service needs:
 *
 * - per-client and per-card rate limits over a sliding window (HTTP 429);
 * - a lockout after `maxFailures` consecutive wrong user codes for a card
 *   number (HTTP 423) for `lockoutMs`; kept for unknown card numbers too, and
 *   unknown card numbers get the same answers as known ones (no enumeration);
 * - user codes stored as scrypt hashes with a random salt each (secrets.ts), compared in constant
 *   time (an unknown card still costs one scrypt run, so timing does not tell either);
 * - the PUK and the user code never reach a log line.
 *
 * Attempts are reserved in the store before the user code is compared (store.ts), so parallel
 * requests, in one process or many, evaluate at most `maxFailures` wrong codes per card and at
 * most `perClient` attempts per client and window. The PUK is stored sealed (AES-256-GCM under
 * the server key, secrets.ts); a real service would hold PUKs in an HSM or derive them: replace
 * this service (docs/reference-server.md).
 */
import { WebCcidError } from '../errors.js';
import { dummySecretHash, hashSecret, needsRehash, verifySecret, DEFAULT_SCRYPT_COST, type PukSealer } from './secrets.js';
import type { ReferenceStore } from './store.js';

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
  /** scrypt cost (N, a power of two) of newly stored user codes and passwords. Default 2^14. */
  hashCost: number;
}

export const DEFAULT_UNLOCK_LIMITS: UnlockLimits = {
  maxFailures: 5,
  lockoutMs: 24 * 3_600_000,
  windowMs: 15 * 60_000,
  perCard: 10,
  perClient: 30,
  hashCost: DEFAULT_SCRYPT_COST,
};

/** The outcome of one PUK request. `evaluated`: the user code was compared (a try was spent). */
export type UnlockResult =
  | { ok: true; puk: string }
  | { ok: false; code: 'bad-card-number' | 'bad-user-code' }
  | { ok: false; code: 'wrong-user-code'; attemptsLeft: number }
  | { ok: false; code: 'card-locked'; retryAfterMs: number; evaluated: boolean }
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

/** The PUK service over the reference store. */
export class UnlockService {
  private readonly store: ReferenceStore;
  private readonly sealer: PukSealer;
  readonly limits: UnlockLimits;
  private readonly dummyHash: string;

  constructor(store: ReferenceStore, sealer: PukSealer, limits: Partial<UnlockLimits> = {}) {
    this.store = store;
    this.sealer = sealer;
    this.limits = { ...DEFAULT_UNLOCK_LIMITS, ...limits };
    this.dummyHash = dummySecretHash(this.limits.hashCost);
  }

  /** Adds or replaces a card (the PUK sealed, the user code hashed). Throws `WebCcidError('server/bad-card')` on a bad field. */
  async addCard(card: UnlockCard): Promise<void> {
    const cardNumber = normaliseCardNumber(card.cardNumber);
    if (!cardNumber || !validPuk(card.puk) || !validUserCode(card.userCode)) {
      throw new WebCcidError('server/bad-card', 'addCard needs a card number (12 digits), a PUK (8 digits) and a user code (1 to 64 characters).');
    }
    const stored: Parameters<ReferenceStore['putCard']>[0] = {
      cardNumber,
      pukSealed: this.sealer.seal(cardNumber, card.puk),
      userCodeHash: await hashSecret(card.userCode, this.limits.hashCost),
    };
    if (card.holderName !== undefined) stored.holderName = card.holderName;
    await this.store.putCard(stored);
  }

  /** True when the card number is in the database. */
  async hasCard(cardNumber: string): Promise<boolean> {
    const n = normaliseCardNumber(cardNumber);
    return n !== undefined && (await this.store.getCard(n)) !== undefined;
  }

  /** Clears a card number's failures and lockout (an operator action after checking the holder's identity). */
  async resetLockout(cardNumber: string): Promise<void> {
    const n = normaliseCardNumber(cardNumber);
    if (n) await this.store.resetLockout(n);
  }

  /** The current lockout state of a card number (`failures` counts attempts still in flight). */
  async lockoutOf(cardNumber: string, now: number): Promise<{ failures: number; lockedUntil: number | undefined }> {
    const s = await this.store.lockoutOf(normaliseCardNumber(cardNumber) ?? '');
    return { failures: s.failures, lockedUntil: s.lockedUntil > now ? s.lockedUntil : undefined };
  }

  /**
   * One PUK request. `client` identifies the caller for the per-client limit (e.g. the remote
   * address). Neither the user code nor the PUK is logged or kept beyond this call.
   */
  async requestPuk(input: { cardNumber: unknown; userCode: unknown; client: string; now: number }): Promise<UnlockResult> {
    const { client, now } = input;
    const cardNumber = normaliseCardNumber(input.cardNumber);
    if (!cardNumber) return { ok: false, code: 'bad-card-number' };
    if (!validUserCode(input.userCode)) return { ok: false, code: 'bad-user-code' };

    const reserved = await this.store.reserveUnlock({ cardNumber, client, now, limits: this.limits });
    if (!reserved.ok) return reserved.code === 'card-locked' ? { ...reserved, evaluated: false } : reserved;

    const settle = (ok: boolean) =>
      this.store.finishUnlock({ cardNumber, match: ok, now, maxFailures: this.limits.maxFailures, lockoutMs: this.limits.lockoutMs });
    let match = false;
    let puk: string | undefined;
    try {
      const card = await this.store.getCard(cardNumber);
      // An unknown card number costs one hash too, so timing does not tell which exist.
      match = (await verifySecret(input.userCode, card?.userCodeHash ?? this.dummyHash, this.limits.hashCost)) && card !== undefined;
      if (match && card) {
        puk = this.sealer.open(cardNumber, card.pukSealed);
        if (puk === undefined) throw new WebCcidError('server/bad-key', 'A stored PUK cannot be opened with this server key.');
        if (needsRehash(card.userCodeHash, this.limits.hashCost)) await this.store.setUserCodeHash(cardNumber, await hashSecret(input.userCode, this.limits.hashCost));
      }
    } catch (e) {
      // An attempt that failed half-way stays counted as a wrong code.
      await settle(false);
      throw e;
    }
    const settled = await settle(match);
    if (match && puk !== undefined) return { ok: true, puk };
    if (settled.lockedUntil > now) return { ok: false, code: 'card-locked', retryAfterMs: settled.lockedUntil - now, evaluated: true };
    return { ok: false, code: 'wrong-user-code', attemptsLeft: Math.max(0, this.limits.maxFailures - settled.failures) };
  }
}
