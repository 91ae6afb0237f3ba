/**
 * Binding challenges: 32 random bytes (base64url), tied to the page's origin,
 * short-lived and usable once. They are kept in a `ChallengeStore`; the
 * default is an in-memory store (one per process / isolate: use a shared
 * store, e.g. a database table, when several instances serve the same users).
 */
import { toHex } from '../bytes.js';
import { encodeBase64Url } from './base64.js';
import { isOrigin } from './message.js';
import { WebCcidError } from '../errors.js';

/** What a store keeps for one challenge. */
export interface ChallengeRecord {
  challenge: string;
  origin: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

/**
 * The outcome of taking a challenge: `taken` (first use: the record, expired
 * or not, is removed), `used` (taken before: a replay), `unknown` (never issued,
 * or forgotten). Stores that keep no memory of used challenges may answer
 * `unknown` for a replay.
 */
export type ChallengeTake = { state: 'taken'; record: ChallengeRecord } | { state: 'used' } | { state: 'unknown' };

/** Where challenges live between `createBindingChallenge` and `verifyBinding`. */
export interface ChallengeStore {
  put(record: ChallengeRecord): Promise<void> | void;
  /** Looks the challenge up and deletes it (one use). `now` is in milliseconds. */
  take(challenge: string, now: number): Promise<ChallengeTake> | ChallengeTake;
}

/** Options of `MemoryChallengeStore`. */
export interface MemoryChallengeStoreOptions {
  /** How long after expiry a record (or the mark of a used one) is still remembered, to say "expired" / "replayed". Default 10 minutes. */
  retainMs?: number;
  /** Most records kept; the oldest go first. Default 10 000. */
  maxEntries?: number;
}

/**
 * The in-memory `ChallengeStore`. Records are indexed by the SHA-256 of the
 * challenge (so a lookup's timing tells nothing about the stored challenges);
 * `verifyBinding` still compares the challenge itself in constant time.
 */
export class MemoryChallengeStore implements ChallengeStore {
  private readonly entries = new Map<string, { record: ChallengeRecord; used: boolean }>();
  private readonly retainMs: number;
  private readonly maxEntries: number;

  constructor(options: MemoryChallengeStoreOptions = {}) {
    this.retainMs = options.retainMs ?? 10 * 60_000;
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  /** Number of records (live, expired or used) currently remembered. */
  get size(): number {
    return this.entries.size;
  }

  async put(record: ChallengeRecord): Promise<void> {
    const key = await challengeKey(record.challenge);
    this.entries.set(key, { record: { ...record }, used: false });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
  }

  async take(challenge: string, now: number): Promise<ChallengeTake> {
    this.prune(now);
    const key = await challengeKey(challenge);
    const entry = this.entries.get(key);
    if (!entry) return { state: 'unknown' };
    if (entry.used) return { state: 'used' };
    entry.used = true;
    return { state: 'taken', record: entry.record };
  }

  private prune(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.record.expiresAt + this.retainMs < now) this.entries.delete(key);
    }
  }
}

/** The key stores use for a challenge: hex SHA-256 of its text. */
export async function challengeKey(challenge: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(challenge));
  return toHex(new Uint8Array(digest), '');
}

let defaultStore: MemoryChallengeStore | undefined;

/** The process-wide in-memory store used when no `store` is passed. */
export function defaultChallengeStore(): MemoryChallengeStore {
  defaultStore ??= new MemoryChallengeStore();
  return defaultStore;
}

/** A challenge handed to the page. */
export interface BindingChallenge {
  /** 32 random bytes, base64url without padding (43 characters). */
  challenge: string;
  origin: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

/** Options of `createBindingChallenge`. */
export interface CreateBindingChallengeOptions {
  /** The origin of the page that will use the challenge (`https://example.org`). */
  origin: string;
  /** Lifetime; default 2 minutes (enough to type a PIN, short enough to be useless later). */
  ttlMs?: number;
  store?: ChallengeStore;
  /** Clock, milliseconds since the epoch (tests). */
  now?: number;
}

/** Default lifetime of a challenge. */
export const DEFAULT_CHALLENGE_TTL_MS = 2 * 60_000;

/**
 * Makes a challenge for the bind flow and keeps it in the store. Throws
 * `WebCcidError('server/bad-binding-input')` for an origin that is not
 * `scheme://host[:port]` or a lifetime that is not a positive number.
 */
export async function createBindingChallenge(options: CreateBindingChallengeOptions): Promise<BindingChallenge> {
  if (!isOrigin(options.origin)) {
    throw new WebCcidError('server/bad-binding-input', 'The origin must be a web origin such as https://example.org (no path, no line break).');
  }
  const ttlMs = options.ttlMs ?? DEFAULT_CHALLENGE_TTL_MS;
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new WebCcidError('server/bad-binding-input', 'ttlMs must be a positive number of milliseconds.');
  }
  const random = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const challenge = encodeBase64Url(random);
  const expiresAt = (options.now ?? Date.now()) + ttlMs;
  const record: ChallengeRecord = { challenge, origin: options.origin, expiresAt };
  await (options.store ?? defaultChallengeStore()).put(record);
  return { ...record };
}
