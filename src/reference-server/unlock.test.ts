import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes, scryptSync } from 'node:crypto';
import fc from 'fast-check';
import { openSqliteStore } from './db.js';
import { PukSealer } from './secrets.js';
import type { SqlReferenceStore } from './store.js';
import { UnlockService, normaliseCardNumber, type UnlockLimits } from './unlock.js';
import { WebCcidError } from '../errors.js';

const CARD = '000012345678';
const PUK = '87654321';
const CODE = 'Secret-Code';
const open: SqlReferenceStore[] = [];
const sealer = new PukSealer(randomBytes(32));

async function service(limits: Partial<UnlockLimits> = {}): Promise<UnlockService> {
  const store = openSqliteStore(':memory:', sealer);
  open.push(store);
  const s = new UnlockService(store, sealer, { hashCost: 1024, ...limits });
  await s.addCard({ cardNumber: CARD, puk: PUK, userCode: CODE, holderName: '王大明' });
  return s;
}

afterEach(async () => {
  for (const store of open.splice(0)) await store.close();
});

describe('normaliseCardNumber', () => {
  it.each([
    ['000012345678', '000012345678'],
    ['GH000012345678', '000012345678'],
    ['gh000012345678', '000012345678'],
    [' 000012345678 ', '000012345678'],
    ['00001234567', undefined],
    ['0000123456789', undefined],
    ['GX000012345678', undefined],
    [12345678, undefined],
  ])('%j -> %j', (input, out) => {
    expect(normaliseCardNumber(input)).toBe(out);
  });
});

describe('UnlockService', () => {
  it('gives the PUK for the right user code (with or without GH)', async () => {
    const s = await service();
    expect(await s.requestPuk({ cardNumber: CARD, userCode: CODE, client: 'a', now: 1 })).toEqual({ ok: true, puk: PUK });
    expect(await s.requestPuk({ cardNumber: 'GH' + CARD, userCode: CODE, client: 'a', now: 2 })).toEqual({ ok: true, puk: PUK });
  });

  it('is case-sensitive and counts wrong codes down to a lockout', async () => {
    const s = await service({ maxFailures: 3, lockoutMs: 1000 });
    expect(await s.requestPuk({ cardNumber: CARD, userCode: CODE.toLowerCase(), client: 'a', now: 10 })).toEqual({ ok: false, code: 'wrong-user-code', attemptsLeft: 2 });
    expect(await s.requestPuk({ cardNumber: CARD, userCode: 'x', client: 'a', now: 11 })).toEqual({ ok: false, code: 'wrong-user-code', attemptsLeft: 1 });
    expect(await s.requestPuk({ cardNumber: CARD, userCode: 'x', client: 'a', now: 12 })).toEqual({ ok: false, code: 'card-locked', retryAfterMs: 1000, evaluated: true });
    // Locked: even the right code is refused, without checking it.
    expect(await s.requestPuk({ cardNumber: CARD, userCode: CODE, client: 'b', now: 500 })).toEqual({ ok: false, code: 'card-locked', retryAfterMs: 512, evaluated: false });
    expect((await s.lockoutOf(CARD, 500)).lockedUntil).toBe(1012);
    // After the lockout, a fresh count.
    expect(await s.requestPuk({ cardNumber: CARD, userCode: 'x', client: 'b', now: 1013 })).toMatchObject({ code: 'wrong-user-code', attemptsLeft: 2 });
    expect(await s.requestPuk({ cardNumber: CARD, userCode: CODE, client: 'b', now: 1014 })).toEqual({ ok: true, puk: PUK });
  });

  it('a success clears the failure count; an operator can clear a lockout', async () => {
    const s = await service({ maxFailures: 2 });
    await s.requestPuk({ cardNumber: CARD, userCode: 'x', client: 'a', now: 1 });
    await s.requestPuk({ cardNumber: CARD, userCode: CODE, client: 'a', now: 2 });
    expect(await s.requestPuk({ cardNumber: CARD, userCode: 'x', client: 'a', now: 3 })).toMatchObject({ attemptsLeft: 1 });
    expect(await s.requestPuk({ cardNumber: CARD, userCode: 'x', client: 'a', now: 4 })).toMatchObject({ code: 'card-locked' });
    await s.resetLockout(CARD);
    expect(await s.requestPuk({ cardNumber: CARD, userCode: CODE, client: 'a', now: 5 })).toEqual({ ok: true, puk: PUK });
  });

  it('answers an unknown card number exactly like a known one with a wrong code', async () => {
    const s = await service({ maxFailures: 2 });
    const other = '999999999999';
    expect(await s.requestPuk({ cardNumber: other, userCode: CODE, client: 'a', now: 1 })).toEqual({ ok: false, code: 'wrong-user-code', attemptsLeft: 1 });
    expect(await s.requestPuk({ cardNumber: other, userCode: CODE, client: 'a', now: 2 })).toMatchObject({ ok: false, code: 'card-locked' });
  });

  it('limits attempts per card number within the window', async () => {
    const s = await service({ perCard: 3, windowMs: 100, maxFailures: 100 });
    for (let i = 0; i < 3; i++) await s.requestPuk({ cardNumber: CARD, userCode: 'x', client: `c${i}`, now: 10 + i });
    expect(await s.requestPuk({ cardNumber: CARD, userCode: CODE, client: 'c9', now: 20 })).toEqual({ ok: false, code: 'rate-limited', scope: 'card', retryAfterMs: 90 });
    expect(await s.requestPuk({ cardNumber: CARD, userCode: CODE, client: 'c9', now: 111 })).toEqual({ ok: true, puk: PUK });
  });

  it('limits attempts per client across card numbers', async () => {
    const s = await service({ perClient: 3, windowMs: 100 });
    for (let i = 0; i < 3; i++) await s.requestPuk({ cardNumber: `00000000000${i}`, userCode: 'x', client: 'mallory', now: 10 });
    expect(await s.requestPuk({ cardNumber: CARD, userCode: CODE, client: 'mallory', now: 20 })).toMatchObject({ ok: false, code: 'rate-limited', scope: 'client' });
    expect(await s.requestPuk({ cardNumber: CARD, userCode: CODE, client: 'alice', now: 20 })).toEqual({ ok: true, puk: PUK });
  });

  it('rejects malformed input without counting it', async () => {
    const s = await service({ maxFailures: 1 });
    expect(await s.requestPuk({ cardNumber: '1234', userCode: CODE, client: 'a', now: 1 })).toEqual({ ok: false, code: 'bad-card-number' });
    expect(await s.requestPuk({ cardNumber: CARD, userCode: '', client: 'a', now: 1 })).toEqual({ ok: false, code: 'bad-user-code' });
    expect(await s.requestPuk({ cardNumber: CARD, userCode: 'a\nb', client: 'a', now: 1 })).toEqual({ ok: false, code: 'bad-user-code' });
    expect(await s.requestPuk({ cardNumber: CARD, userCode: 7, client: 'a', now: 1 })).toEqual({ ok: false, code: 'bad-user-code' });
    expect(await s.requestPuk({ cardNumber: CARD, userCode: CODE, client: 'a', now: 2 })).toEqual({ ok: true, puk: PUK });
  });

  it('stores neither the user code nor the PUK in clear: scrypt hash, AES-GCM sealed PUK', async () => {
    const s = await service();
    expect(await s.hasCard(CARD)).toBe(true);
    const row = await open[0]!.driver.get('SELECT * FROM cards WHERE card_number = ?', [CARD]);
    const text = JSON.stringify(row);
    expect(text).not.toContain(CODE);
    expect(text).not.toContain(PUK);
    expect(String(row?.['puk_sealed'])).toMatch(/^v1\./);
    // The sealed PUK belongs to its card: moved to another card number it no longer opens.
    expect(sealer.open('999999999999', String(row?.['puk_sealed']))).toBeUndefined();
    expect(new PukSealer(randomBytes(32)).open(CARD, String(row?.['puk_sealed']))).toBeUndefined();
  });

  it('stores the user code as an scrypt hash with its own salt: recomputed by node:crypto from the stored N, r, p and salt, not decodable', async () => {
    const s = await service();
    // Other cards with user codes as holders choose them (1 to 64 characters, no control characters),
    // one of them with the very same user code as CARD.
    const codes = fc.sample(fc.string({ minLength: 1, maxLength: 64, unit: 'grapheme' }).filter((c) => !/[\u0000-\u001f\u007f]/.test(c)), { numRuns: 6, seed: 7 });
    const cards = [...codes, CODE].map((userCode, i) => ({ cardNumber: `1000000000${String(i).padStart(2, '0')}`, userCode }));
    for (const c of cards) await s.addCard({ cardNumber: c.cardNumber, puk: PUK, userCode: c.userCode });
    const salts = new Set<string>();
    const hashes = new Set<string>();
    let checked = 0;
    let decodeChecked = 0;
    for (const c of [{ cardNumber: CARD, userCode: CODE }, ...cards]) {
      const row = await open[0]!.driver.get('SELECT user_code_hash FROM cards WHERE card_number = ?', [c.cardNumber]);
      const stored = String(row?.['user_code_hash']);
      const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored);
      expect(m, stored).not.toBeNull();
      const [n, r, p] = [Number(m![1]), Number(m![2]), Number(m![3])];
      expect([n, r, p]).toEqual([1024, 8, 1]);
      const salt = Buffer.from(m![4]!, 'base64');
      const hash = Buffer.from(m![5]!, 'base64');
      expect(salt.length).toBe(16);
      expect(hash.length).toBe(32);
      // The stored value is scrypt(user code, salt) as node:crypto (OpenSSL) computes it ...
      expect(scryptSync(c.userCode, salt, hash.length, { N: n, r, p }).equals(hash)).toBe(true);
      // ... and not that of another code: the hash depends on the code.
      expect(scryptSync(`${c.userCode}x`, salt, hash.length, { N: n, r, p }).equals(hash)).toBe(false);
      // Nothing in it decodes to the code (no reversible encoding: text, base64, hex, UTF-16). Only
      // for codes of 6 bytes or more: a shorter one may turn up by chance in 48 random bytes.
      const code = Buffer.from(c.userCode, 'utf8');
      if (code.length >= 6) {
        for (const part of stored.split('$')) {
          for (const decoded of [Buffer.from(part, 'utf8'), Buffer.from(part, 'base64'), Buffer.from(part, 'hex')]) {
            expect(decoded.includes(code)).toBe(false);
            expect(decoded.includes(Buffer.from(c.userCode, 'utf16le'))).toBe(false);
          }
        }
        decodeChecked++;
      }
      salts.add(m![4]!);
      hashes.add(m![5]!);
      checked++;
    }
    // Every card got its own salt, so equal user codes (CARD and the last card) have different hashes.
    expect(checked).toBe(cards.length + 1);
    expect(salts.size).toBe(checked);
    expect(hashes.size).toBe(checked);
    expect(decodeChecked).toBeGreaterThanOrEqual(2);
  });

  it('addCard refuses bad data with server/bad-card', async () => {
    const s = await service();
    await expect(s.addCard({ cardNumber: '1', puk: PUK, userCode: CODE })).rejects.toMatchObject({ code: 'server/bad-card' });
    await expect(s.addCard({ cardNumber: CARD, puk: '1234', userCode: CODE })).rejects.toBeInstanceOf(WebCcidError);
  });
});
