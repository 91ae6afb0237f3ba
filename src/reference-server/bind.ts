/**
 * The bind service (綁定憑證 IC 卡): issues challenges, verifies the page's response with
 * `verifyBinding` (src/server) and binds the card's signature certificate to an account.
 *
 * 驗證 and 送出申請 are two steps, as on the seed's pages: a verified response gives a *binding
 * token* (random, short-lived, one use; only its SHA-256 is stored) and stores nothing else; the
 * token is committed together with the account (`registerAccount`, 送出申請) or to the signed-in
 * account (`commit`, 帳號管理's 綁定新憑證 IC 卡). An abandoned registration leaves no binding.
 *
 * Rules of the reference implementation: one card per account (binding again replaces the
 * account's card, the seed's 重新綁定); one account per card certificate (`already-bound`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { challengeKey, createBindingChallenge, type BindingChallenge, type ChallengeRecord, type ChallengeStore, type ChallengeTake } from '../server/challenge.js';
import { verifyBinding, type BindingFailureCode, type CardType, type CertificateInput } from '../server/verify.js';
import { encodeBase64, encodeBase64Url } from '../server/base64.js';
import type { Binding, CommitResult, ReferenceStore, VerifiedCard } from './store.js';

export type { Binding } from './store.js';

/** Thrown by the challenge store's `put` when `maxChallenges` are kept. */
export class ChallengeStoreFull extends Error {}

/** `ChallengeStore` in the reference store (so challenges survive a restart and are shared by processes). */
export class StoreChallengeStore implements ChallengeStore {
  constructor(
    private readonly store: ReferenceStore,
    private readonly options: { retainMs: number; maxRows: number; now: () => number },
  ) {}

  async put(record: ChallengeRecord): Promise<void> {
    const key = await challengeKey(record.challenge);
    const ok = await this.store.putChallenge({ key, ...record, now: this.options.now(), retainMs: this.options.retainMs, maxRows: this.options.maxRows });
    if (!ok) throw new ChallengeStoreFull('Too many challenges are outstanding.');
  }

  async take(challenge: string): Promise<ChallengeTake> {
    const t = await this.store.takeChallenge(await challengeKey(challenge));
    if (t.state !== 'taken') return t;
    return { state: 'taken', record: { challenge: t.challenge, origin: t.origin, expiresAt: t.expiresAt } };
  }
}

/** The outcome of 驗證: a token to commit, and what will be bound. */
export type VerifyResult =
  | { ok: true; bindToken: string; expiresAt: number; card: VerifiedCard }
  | { ok: false; code: BindingFailureCode | 'already-bound'; message: string };

export interface BindServiceOptions {
  trustAnchors: () => Promise<readonly CertificateInput[]>;
  intermediates?: () => Promise<readonly CertificateInput[]>;
  challengeTtlMs?: number;
  /** Lifetime of a binding token. Default 10 minutes. */
  bindTokenTtlMs?: number;
  /** Most challenges kept (live, expired or used, until pruned). Default 10 000. */
  maxChallenges?: number;
  expectedCardType?: CardType;
  now?: () => number;
}

function validAccount(value: unknown): value is string {
  // eslint-disable-next-line no-control-regex
  return typeof value === 'string' && value.length >= 1 && value.length <= 128 && !/[\u0000-\u001f\u007f]/.test(value);
}

export { validAccount };

/** The stored form of a binding token. */
export function bindTokenHash(token: string): string {
  return createHash('sha256').update(`webccid-bind-token:${token}`).digest('hex');
}

export class BindService {
  readonly challenges: StoreChallengeStore;
  private readonly store: ReferenceStore;
  private readonly options: BindServiceOptions;

  constructor(store: ReferenceStore, options: BindServiceOptions) {
    this.store = store;
    this.options = options;
    this.challenges = new StoreChallengeStore(store, { retainMs: 10 * 60_000, maxRows: options.maxChallenges ?? 10_000, now: options.now ?? Date.now });
  }

  /** A new challenge for a page served from `origin`. Throws `ChallengeStoreFull` when too many are kept. */
  challenge(origin: string, now: number): Promise<BindingChallenge> {
    const o: Parameters<typeof createBindingChallenge>[0] = { origin, store: this.challenges, now };
    if (this.options.challengeTtlMs !== undefined) o.ttlMs = this.options.challengeTtlMs;
    return createBindingChallenge(o);
  }

  /**
   * 驗證: verifies the page's response and, when good, gives a binding token. `account` is the
   * signed-in account, if any: a card bound to any other account is refused at once.
   */
  async verify(input: { response: unknown; origin: string; now: number; account?: string }): Promise<VerifyResult> {
    const verifyOptions: Parameters<typeof verifyBinding>[0] = {
      response: input.response,
      store: this.challenges,
      expectedOrigin: input.origin,
      trustAnchors: await this.options.trustAnchors(),
      intermediates: (await this.options.intermediates?.()) ?? [],
      now: input.now,
    };
    if (this.options.expectedCardType !== undefined) verifyOptions.expectedCardType = this.options.expectedCardType;
    const result = await verifyBinding(verifyOptions);
    if (!result.verified) return { ok: false, code: result.code, message: result.message };
    const owner = await this.store.bindingOwner(result.fingerprint);
    if (owner !== undefined && owner !== input.account) {
      return { ok: false, code: 'already-bound', message: 'This card certificate is already bound to another account.' };
    }
    const card: VerifiedCard = {
      fingerprint: result.fingerprint,
      holderName: result.holder.name,
      cardType: result.cardType,
      subject: result.holder.subject,
      certificate: encodeBase64(result.certificateDer),
    };
    if (result.cardNumber !== undefined) card.cardNumber = result.cardNumber;
    const bindToken = encodeBase64Url(randomBytes(32));
    const expiresAt = input.now + (this.options.bindTokenTtlMs ?? 10 * 60_000);
    await this.store.putBindToken({ tokenHash: bindTokenHash(bindToken), card, now: input.now, expiresAt });
    return { ok: true, bindToken, expiresAt, card };
  }

  /** Binds the token's card to an existing account (重新綁定 replaces its card). */
  commit(input: { account: string; bindToken: string; now: number }): Promise<CommitResult> {
    return this.store.commitBinding({ account: input.account, tokenHash: bindTokenHash(input.bindToken), now: input.now });
  }

  /** The binding of an account, if any. */
  bindingOf(account: string): Promise<Binding | undefined> {
    return this.store.bindingOf(account);
  }

  /** Removes an account's binding; true if there was one. */
  unbind(account: string): Promise<boolean> {
    return this.store.unbind(account);
  }
}
