import { describe, expect, it, vi } from 'vitest';
import { WebCcidError } from '../errors.js';
import { decodeBase64Url } from './base64.js';
import { createBindingChallenge, defaultChallengeStore, MemoryChallengeStore } from './challenge.js';

describe('createBindingChallenge', () => {
  it('makes 32 random bytes as base64url, with origin and expiry, kept in the store', async () => {
    const store = new MemoryChallengeStore();
    const c = await createBindingChallenge({ origin: 'https://example.org', ttlMs: 1000, store, now: 5000 });
    expect(c.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(decodeBase64Url(c.challenge)).toHaveLength(32);
    expect(c).toMatchObject({ origin: 'https://example.org', expiresAt: 6000 });
    expect(store.size).toBe(1);
    const other = await createBindingChallenge({ origin: 'https://example.org', store });
    expect(other.challenge).not.toBe(c.challenge);
  });

  it('defaults to a two-minute life in the default store', async () => {
    // The clock read when no `now` is given is a fake one, set here: the expiry is exact.
    const now = Date.UTC(2026, 0, 1);
    vi.useFakeTimers({ now });
    try {
      const c = await createBindingChallenge({ origin: 'https://example.org' });
      expect(c.expiresAt).toBe(now + 2 * 60_000);
      expect((await defaultChallengeStore().take(c.challenge, Date.now())).state).toBe('taken');
    } finally {
      vi.useRealTimers();
    }
  });

  it.each([
    [{ origin: 'https://example.org/x' }],
    [{ origin: 'https://example.org', ttlMs: 0 }],
    [{ origin: 'https://example.org', ttlMs: Number.NaN }],
  ])('rejects %j', async (options) => {
    await expect(createBindingChallenge(options)).rejects.toMatchObject({ code: 'server/bad-binding-input' });
    await expect(createBindingChallenge(options)).rejects.toBeInstanceOf(WebCcidError);
  });
});

describe('MemoryChallengeStore', () => {
  const record = { challenge: 'c'.repeat(43), origin: 'https://example.org', expiresAt: 10_000 };

  it('takes a challenge once, then reports it used', async () => {
    const store = new MemoryChallengeStore();
    await store.put(record);
    expect(await store.take(record.challenge, 1)).toEqual({ state: 'taken', record });
    expect(await store.take(record.challenge, 2)).toEqual({ state: 'used' });
    expect(await store.take('d'.repeat(43), 3)).toEqual({ state: 'unknown' });
  });

  it('hands back an expired record (the verifier says "expired"), then forgets it after retainMs', async () => {
    const store = new MemoryChallengeStore({ retainMs: 1000 });
    await store.put(record);
    await store.put({ ...record, challenge: 'e'.repeat(43) });
    expect((await store.take(record.challenge, 10_500)).state).toBe('taken');
    expect((await store.take('e'.repeat(43), 11_001)).state).toBe('unknown');
    expect(store.size).toBe(0);
  });

  it('keeps at most maxEntries, dropping the oldest', async () => {
    const store = new MemoryChallengeStore({ maxEntries: 2 });
    for (const ch of ['a', 'b', 'c']) await store.put({ ...record, challenge: ch.repeat(43) });
    expect(store.size).toBe(2);
    expect((await store.take('a'.repeat(43), 0)).state).toBe('unknown');
    expect((await store.take('c'.repeat(43), 0)).state).toBe('taken');
  });
});
