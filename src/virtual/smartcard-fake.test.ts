/** The fake follows the spec's method steps (so tests on it mean something for Chrome). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { toHex } from '../bytes.js';
import { encodeApdu } from '../iso7816/apdu.js';
import { createHcaLikeCard, VIRTUAL_TEST_INS } from './card.js';
import { createFakeSmartCard, FakeSmartCardError, SCARD_ATTR_ATR_STRING } from './smartcard-fake.js';

const echo = (b: number) => new Uint8Array(encodeApdu({ cla: 0x80, ins: VIRTUAL_TEST_INS, p1: 0, p2: 0, data: Uint8Array.of(b), le: 256 }));

async function rejection(p: Promise<unknown>): Promise<{ name?: string; responseCode?: string }> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: { name?: string; responseCode?: string }) => e,
  );
}

/** Where a promise stands, read without waiting on it. */
function track(p: Promise<unknown>): { settled: boolean; error?: { name?: string } } {
  const state: { settled: boolean; error?: { name?: string } } = { settled: false };
  p.then(
    () => (state.settled = true),
    (e: { name?: string }) => Object.assign(state, { settled: true, error: e }),
  );
  return state;
}

/**
 * Fake clock (setImmediate stays real, to let promise continuations run between steps). The
 * fake answers from zero-delay timers: `step(ms)` first runs what is due now (so the call has set
 * its timeout), then moves the clock by `ms` and runs what became due.
 */
function useFakeClock(): { step: (ms: number) => Promise<void>; elapsed: () => number } {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
  const start = Date.now();
  const settle = async () => {
    for (let round = 0; round < 5; round++) {
      vi.advanceTimersByTime(0);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return {
    elapsed: () => Date.now() - start,
    step: async (ms) => {
      await settle();
      vi.advanceTimersByTime(ms);
      await settle();
    },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('fake navigator.smartCard: spec conformance', () => {
  it('establishContext rejects with SecurityError when the permissions policy disallows', async () => {
    const sc = createFakeSmartCard({ policyAllowed: false });
    expect((await rejection(sc.establishContext())).name).toBe('SecurityError');
  });

  it('a context runs one operation at a time: a second one gets InvalidStateError', async () => {
    const sc = createFakeSmartCard({ readers: [{ name: 'A' }] });
    const ctx = await sc.establishContext();
    const first = ctx.listReaders();
    expect((await rejection(ctx.listReaders())).name).toBe('InvalidStateError');
    expect(await first).toEqual(['A']);
    expect(await ctx.listReaders()).toEqual(['A']);
  });

  it('listReaders with no readers resolves with an empty list', async () => {
    const ctx = await createFakeSmartCard().establishContext();
    expect(await ctx.listReaders()).toEqual([]);
  });

  it('getStatusChange: unaware answers at once with changed, the ATR and the event count', async () => {
    const card = createHcaLikeCard();
    const sc = createFakeSmartCard({ readers: [{ name: 'A', card }, { name: 'B' }] });
    const ctx = await sc.establishContext();
    const out = await ctx.getStatusChange([
      { readerName: 'A', currentState: { unaware: true } },
      { readerName: 'B', currentState: { unaware: true } },
      { readerName: 'Z', currentState: { unaware: true } },
      { readerName: 'B', currentState: { ignore: true } },
    ]);
    expect(out[0]).toMatchObject({ readerName: 'A', eventCount: 1, eventState: { changed: true, present: true, empty: false } });
    expect(toHex(new Uint8Array(out[0]!.answerToReset!), '')).toBe(toHex(card.atr, ''));
    expect(out[1]).toMatchObject({ eventCount: 0, eventState: { changed: true, empty: true, present: false } });
    expect(out[2]!.eventState).toMatchObject({ unknown: true, changed: true });
    expect(out[3]!.eventState).toMatchObject({ ignore: true, changed: false });
  });

  it('getStatusChange waits for a change; timeout -> UnknownError; abort -> the signal’s reason', async () => {
    const clock = useFakeClock();
    const sc = createFakeSmartCard({ readers: [{ name: 'A' }] });
    const established = sc.establishContext();
    await clock.step(0);
    const ctx = await established;
    const known = [{ readerName: 'A', currentState: { empty: true }, currentCount: 0 }];
    // The timeout: pending until the time asked for has passed on the (fake) clock, then UnknownError.
    const timedOut = track(ctx.getStatusChange(known, { timeout: 10 }));
    await clock.step(9);
    expect(timedOut.settled).toBe(false);
    await clock.step(1);
    expect(timedOut).toMatchObject({ settled: true, error: { name: 'UnknownError' } });
    const controller = new AbortController();
    const waiting = rejection(ctx.getStatusChange(known, { signal: controller.signal }));
    controller.abort(new Error('stop'));
    await clock.step(0);
    expect(await waiting).toMatchObject({ message: 'stop' });
    // No timeout: it waits as long as nothing changes (an hour here), and answers the change.
    const next = ctx.getStatusChange(known);
    const nextState = track(next);
    await clock.step(3_600_000);
    expect(nextState.settled).toBe(false);
    sc.insertCard('A', createHcaLikeCard());
    await clock.step(0);
    expect(nextState.settled).toBe(true);
    const out = await next;
    expect(out[0]).toMatchObject({ eventCount: 1, eventState: { changed: true, present: true } });
  });

  it('connect: SmartCardErrors with the spec’s response codes', async () => {
    const sc = createFakeSmartCard({ readers: [{ name: 'A' }, { name: 'B', card: createHcaLikeCard() }] });
    const ctx = await sc.establishContext();
    const e1 = await rejection(ctx.connect('A', 'shared', { preferredProtocols: ['t1'] }));
    expect(e1).toBeInstanceOf(FakeSmartCardError);
    expect(e1).toBeInstanceOf(DOMException);
    expect(e1).toMatchObject({ name: 'SmartCardError', responseCode: 'no-smartcard' });
    expect(await rejection(ctx.connect('Z', 'shared'))).toMatchObject({ responseCode: 'unknown-reader' });
    expect(await rejection(ctx.connect('B', 'shared', { preferredProtocols: ['t0'] }))).toMatchObject({ responseCode: 'proto-mismatch' });
    const direct = await ctx.connect('A', 'direct');
    expect(direct.activeProtocol).toBeUndefined();
    const r = await ctx.connect('B', 'shared', { preferredProtocols: ['t0', 't1'] });
    expect(r.activeProtocol).toBe('t1');
    expect(await rejection(ctx.connect('B', 'exclusive'))).toMatchObject({ responseCode: 'sharing-violation' });
  });

  it('connect: NotAllowedError when the user refuses', async () => {
    const sc = createFakeSmartCard({ readers: [{ name: 'A', card: createHcaLikeCard() }], permission: 'denied' });
    const ctx = await sc.establishContext();
    expect((await rejection(ctx.connect('A', 'shared'))).name).toBe('NotAllowedError');
  });

  it('a transaction blocks the other connections of the context; an undefined result ends it with "reset"', async () => {
    const sc = createFakeSmartCard({ readers: [{ name: 'A', card: createHcaLikeCard() }] });
    const ctx = await sc.establishContext();
    const { connection: c1 } = await ctx.connect('A', 'shared', { preferredProtocols: ['t1'] });
    const { connection: c2 } = await ctx.connect('A', 'shared', { preferredProtocols: ['t1'] });
    let blocked: unknown;
    await c1.startTransaction(async () => {
      blocked = await rejection(c2.transmit(echo(1)));
      expect(toHex(new Uint8Array(await c1.transmit(echo(2))), '')).toBe('029000');
      return undefined;
    });
    expect(blocked).toMatchObject({ name: 'InvalidStateError' });
    expect(sc.log.at(-1)).toBe('endTransaction reset');
    // pcsc-lite marks every handle of the reader (c1's own too) and only SCardReconnect clears
    // the mark; the API has no reconnect: reset-card on every call until a new connection.
    for (const c of [c2, c2, c1]) expect(await rejection(c.transmit(echo(3)))).toMatchObject({ responseCode: 'reset-card' });
    expect(await rejection(c1.status())).toMatchObject({ responseCode: 'reset-card' });
    const { connection: c3 } = await ctx.connect('A', 'shared', { preferredProtocols: ['t1'] });
    expect(toHex(new Uint8Array(await c3.transmit(echo(4))), '')).toBe('049000');
  });

  it('a reset by another application: reset-card on every call of the old connection, not of a new one', async () => {
    const sc = createFakeSmartCard({ readers: [{ name: 'A', card: createHcaLikeCard() }] });
    const ctx = await sc.establishContext();
    const { connection: old } = await ctx.connect('A', 'shared', { preferredProtocols: ['t1'] });
    sc.resetCard('A');
    for (let i = 0; i < 3; i++) expect(await rejection(old.transmit(echo(i)))).toMatchObject({ responseCode: 'reset-card' });
    expect(await rejection(old.startTransaction(async () => 'leave'))).toMatchObject({ responseCode: 'reset-card' });
    const { connection: fresh } = await ctx.connect('A', 'shared', { preferredProtocols: ['t1'] });
    expect(toHex(new Uint8Array(await fresh.transmit(echo(7))), '')).toBe('079000');
    await old.disconnect('leave');
  });

  it('failures without a response code: UnknownError at once (failNext / failAlways / recover)', async () => {
    const sc = createFakeSmartCard({ readers: [{ name: 'A' }] });
    const ctx = await sc.establishContext();
    sc.failAlways('getStatusChange', { exception: 'UnknownError' });
    const known = [{ readerName: 'A', currentState: { empty: true }, currentCount: 0 }];
    const clock = useFakeClock();
    for (let i = 0; i < 3; i++) {
      // At once: rejected with the fake clock where it was (a timeout would need 1000 ms of it).
      const failed = track(ctx.getStatusChange(known, { timeout: 1000 }));
      await clock.step(0);
      expect(failed).toMatchObject({ settled: true, error: { name: 'UnknownError' } });
    }
    expect(clock.elapsed()).toBe(0);
    vi.useRealTimers();
    sc.recover();
    sc.failNext('listReaders', { exception: 'InvalidStateError' });
    expect((await rejection(ctx.listReaders())).name).toBe('InvalidStateError');
    expect(await ctx.listReaders()).toEqual(['A']);
  });

  it('a getStatusChange timeout as current Chromium reports it: TimeoutError, after the timeout', async () => {
    const sc = createFakeSmartCard({ readers: [{ name: 'A' }], timeoutException: 'TimeoutError' });
    const ctx = await sc.establishContext();
    const clock = useFakeClock();
    const timedOut = track(ctx.getStatusChange([{ readerName: 'A', currentState: { empty: true }, currentCount: 0 }], { timeout: 30 }));
    await clock.step(29);
    expect(timedOut.settled).toBe(false);
    await clock.step(1);
    expect(timedOut).toMatchObject({ settled: true, error: { name: 'TimeoutError' } });
  });

  it('status, getAttribute(ATR), control / setAttribute unsupported, disconnect closes', async () => {
    const card = createHcaLikeCard();
    const sc = createFakeSmartCard({ readers: [{ name: 'A', card }] });
    const ctx = await sc.establishContext();
    const { connection } = await ctx.connect('A', 'exclusive', { preferredProtocols: ['t1'] });
    expect(await connection.status()).toMatchObject({ readerName: 'A', state: 't1' });
    expect(toHex(new Uint8Array(await connection.getAttribute(SCARD_ATTR_ATR_STRING)), '')).toBe(toHex(card.atr, ''));
    expect(await rejection(connection.control(0x42000d48, new Uint8Array(0)))).toMatchObject({ responseCode: 'unsupported-feature' });
    expect(await rejection(connection.setAttribute(1, new Uint8Array(1)))).toMatchObject({ responseCode: 'unsupported-feature' });
    await connection.disconnect();
    expect(sc.log.at(-1)).toBe('disconnect leave');
    expect((await rejection(connection.transmit(echo(1)))).name).toBe('InvalidStateError');
    expect((await rejection(connection.disconnect())).name).toBe('InvalidStateError');
  });
});
