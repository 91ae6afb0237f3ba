/**
 * The bind service (綁定憑證 IC 卡): issues challenges, verifies the page's
 * response with `verifyBinding` (src/server) and stores the binding of an
 * account to the card's signature certificate.
 *
 * Rules of the reference implementation: one card per account (binding again
 * replaces the account's card, the bind guide's 重新綁定); one account per card
 * certificate (binding a certificate already bound to another account is
 * refused with `already-bound`).
 */
import { challengeKey, createBindingChallenge, type BindingChallenge, type ChallengeRecord, type ChallengeStore, type ChallengeTake } from '../server/challenge.js';
import { verifyBinding, type BindingFailureCode, type CardType, type CertificateInput } from '../server/verify.js';
import { encodeBase64 } from '../server/base64.js';
import { num, str, type SqlDatabase, type SqlRow } from './db.js';

/** `ChallengeStore` in the reference database (so challenges survive a restart). */
export class SqliteChallengeStore implements ChallengeStore {
  private readonly db: SqlDatabase;
  private readonly retainMs: number;

  constructor(db: SqlDatabase, options: { retainMs?: number } = {}) {
    this.db = db;
    this.retainMs = options.retainMs ?? 10 * 60_000;
  }

  async put(record: ChallengeRecord): Promise<void> {
    const key = await challengeKey(record.challenge);
    this.db.run('INSERT OR REPLACE INTO challenges (key, challenge, origin, expires_at, used) VALUES (?, ?, ?, ?, 0)', [
      key,
      record.challenge,
      record.origin,
      record.expiresAt,
    ]);
  }

  async take(challenge: string, now: number): Promise<ChallengeTake> {
    this.db.run('DELETE FROM challenges WHERE expires_at < ?', [now - this.retainMs]);
    const key = await challengeKey(challenge);
    const row = this.db.get('SELECT challenge, origin, expires_at, used FROM challenges WHERE key = ?', [key]) as SqlRow | null;
    if (!row) return { state: 'unknown' };
    if (num(row, 'used') !== 0) return { state: 'used' };
    const marked = this.db.run('UPDATE challenges SET used = 1 WHERE key = ? AND used = 0', [key]);
    if (marked.changes !== 1) return { state: 'used' };
    return { state: 'taken', record: { challenge: str(row, 'challenge') ?? '', origin: str(row, 'origin') ?? '', expiresAt: num(row, 'expires_at') } };
  }
}

/** A stored binding. */
export interface Binding {
  account: string;
  /** Hex SHA-256 of the certificate DER. */
  fingerprint: string;
  cardNumber?: string;
  holderName: string;
  cardType: CardType;
  /** Subject DN of the certificate. */
  subject: string;
  /** The certificate DER, base64. */
  certificate: string;
  /** Milliseconds since the epoch. */
  boundAt: number;
}

export type BindResult =
  | { ok: true; binding: Binding }
  | { ok: false; code: BindingFailureCode | 'already-bound'; message: string };

export interface BindServiceOptions {
  trustAnchors: () => Promise<readonly CertificateInput[]>;
  intermediates?: () => Promise<readonly CertificateInput[]>;
  challengeTtlMs?: number;
  expectedCardType?: CardType;
}

function validAccount(value: unknown): value is string {
  // eslint-disable-next-line no-control-regex
  return typeof value === 'string' && value.length >= 1 && value.length <= 128 && !/[\u0000-\u001f\u007f]/.test(value);
}

export { validAccount };

function rowToBinding(row: SqlRow): Binding {
  const b: Binding = {
    account: str(row, 'account') ?? '',
    fingerprint: str(row, 'fingerprint') ?? '',
    holderName: str(row, 'holder_name') ?? '',
    cardType: (str(row, 'card_type') ?? 'personnel') as CardType,
    subject: str(row, 'subject') ?? '',
    certificate: str(row, 'certificate') ?? '',
    boundAt: num(row, 'bound_at'),
  };
  const cardNumber = str(row, 'card_number');
  if (cardNumber !== undefined) b.cardNumber = cardNumber;
  return b;
}

export class BindService {
  readonly store: SqliteChallengeStore;
  private readonly db: SqlDatabase;
  private readonly options: BindServiceOptions;

  constructor(db: SqlDatabase, options: BindServiceOptions) {
    this.db = db;
    this.options = options;
    this.store = new SqliteChallengeStore(db);
  }

  /** A new challenge for a page served from `origin`. */
  challenge(origin: string, now: number): Promise<BindingChallenge> {
    const o: Parameters<typeof createBindingChallenge>[0] = { origin, store: this.store, now };
    if (this.options.challengeTtlMs !== undefined) o.ttlMs = this.options.challengeTtlMs;
    return createBindingChallenge(o);
  }

  /** Verifies the page's response and, when good, binds the card to `account`. */
  async bind(input: { account: string; response: unknown; origin: string; now: number }): Promise<BindResult> {
    const verifyOptions: Parameters<typeof verifyBinding>[0] = {
      response: input.response,
      store: this.store,
      expectedOrigin: input.origin,
      trustAnchors: await this.options.trustAnchors(),
      intermediates: (await this.options.intermediates?.()) ?? [],
      now: input.now,
    };
    if (this.options.expectedCardType !== undefined) verifyOptions.expectedCardType = this.options.expectedCardType;
    const result = await verifyBinding(verifyOptions);
    if (!result.verified) return { ok: false, code: result.code, message: result.message };
    const owner = this.db.get('SELECT account FROM bindings WHERE fingerprint = ?', [result.fingerprint]) as SqlRow | null;
    if (owner && str(owner, 'account') !== input.account) {
      return { ok: false, code: 'already-bound', message: 'This card certificate is already bound to another account.' };
    }
    const binding: Binding = {
      account: input.account,
      fingerprint: result.fingerprint,
      holderName: result.holder.name,
      cardType: result.cardType,
      subject: result.holder.subject,
      certificate: encodeBase64(result.certificateDer),
      boundAt: input.now,
    };
    if (result.cardNumber !== undefined) binding.cardNumber = result.cardNumber;
    this.db.run(
      'INSERT OR REPLACE INTO bindings (account, fingerprint, card_number, holder_name, card_type, subject, certificate, bound_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [binding.account, binding.fingerprint, binding.cardNumber ?? null, binding.holderName, binding.cardType, binding.subject, binding.certificate, binding.boundAt],
    );
    return { ok: true, binding };
  }

  /** The binding of an account, if any. */
  bindingOf(account: string): Binding | undefined {
    const row = this.db.get('SELECT * FROM bindings WHERE account = ?', [account]) as SqlRow | null;
    return row ? rowToBinding(row) : undefined;
  }

  /** Removes an account's binding; true if there was one. */
  unbind(account: string): boolean {
    return this.db.run('DELETE FROM bindings WHERE account = ?', [account]).changes > 0;
  }
}
