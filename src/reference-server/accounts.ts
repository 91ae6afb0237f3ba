/**
 * Accounts and sessions of the reference server: the 申請帳號 page creates an account (with a
 * password, and the card verified by 驗證 as a binding token), 帳號管理 signs in; the binding
 * endpoints act only on the session's account.
 *
 * Sessions are random 256-bit identifiers in an HttpOnly, SameSite=Strict cookie; the database
 * holds only their SHA-256, with an absolute lifetime. Passwords are hashed with scrypt.
 * An integrator with their own sign-in replaces all of this with the `authenticate` option
 * (docs/reference-server.md).
 */
import { createHash, randomBytes } from 'node:crypto';
import { encodeBase64Url } from '../server/base64.js';
import { bindTokenHash } from './bind.js';
import { dummySecretHash, hashSecret, verifySecret } from './secrets.js';
import type { CommitResult, ReferenceStore } from './store.js';

/** Account names of the reference server: 3 to 32 of A-Z a-z 0-9 . _ - */
export const ACCOUNT_PATTERN = /^[A-Za-z0-9._-]{3,32}$/;

export function validPassword(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 8 && value.length <= 128;
}

export function sessionHash(id: string): string {
  return createHash('sha256').update(`webccid-session:${id}`).digest('hex');
}

export class AccountService {
  private readonly dummyHash: string;

  constructor(
    private readonly store: ReferenceStore,
    private readonly options: { sessionTtlMs: number; hashCost: number },
  ) {
    this.dummyHash = dummySecretHash(options.hashCost);
  }

  /** 送出申請: the account, its password and (with a token from 驗證) its card, in one transaction. */
  async register(input: { account: string; password: string; bindToken?: string; now: number }): Promise<CommitResult> {
    const r: Parameters<ReferenceStore['registerAccount']>[0] = {
      account: input.account,
      passwordHash: await hashSecret(input.password, this.options.hashCost),
      now: input.now,
    };
    if (input.bindToken !== undefined) r.tokenHash = bindTokenHash(input.bindToken);
    return this.store.registerAccount(r);
  }

  /** True when the password is the account's (an unknown account costs one hash too). */
  async checkPassword(account: string, password: string): Promise<boolean> {
    const stored = await this.store.accountPasswordHash(account);
    return (await verifySecret(password, stored ?? this.dummyHash, this.options.hashCost)) && stored !== undefined;
  }

  /** A new session for the account: the identifier for the cookie. */
  async startSession(account: string, now: number): Promise<{ id: string; expiresAt: number }> {
    const id = encodeBase64Url(randomBytes(32));
    const expiresAt = now + this.options.sessionTtlMs;
    await this.store.createSession({ idHash: sessionHash(id), account, now, expiresAt });
    return { id, expiresAt };
  }

  sessionAccount(id: string, now: number): Promise<string | undefined> {
    return this.store.sessionAccount(sessionHash(id), now);
  }

  endSession(id: string): Promise<void> {
    return this.store.deleteSession(sessionHash(id));
  }
}
