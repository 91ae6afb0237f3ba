import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
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
    expect(String(row?.['user_code_hash'])).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(String(row?.['puk_sealed'])).toMatch(/^v1\./);
    // The sealed PUK belongs to its card: moved to another card number it no longer opens.
    expect(sealer.open('999999999999', String(row?.['puk_sealed']))).toBeUndefined();
    expect(new PukSealer(randomBytes(32)).open(CARD, String(row?.['puk_sealed']))).toBeUndefined();
  });

  it('addCard refuses bad data with server/bad-card', async () => {
    const s = await service();
    await expect(s.addCard({ cardNumber: '1', puk: PUK, userCode: CODE })).rejects.toMatchObject({ code: 'server/bad-card' });
    await expect(s.addCard({ cardNumber: CARD, puk: '1234', userCode: CODE })).rejects.toBeInstanceOf(WebCcidError);
  });
});
