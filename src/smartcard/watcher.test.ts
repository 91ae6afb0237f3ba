/**
 * The reader watcher on the spec-shaped fake, on vitest's fake clock: the fake answers "in
 * parallel" (a zero-delay timer), its getStatusChange timeout and the watcher's poll and backoff
 * waits are timers too, so every claim about when something happens is checked at exact fake-clock
 * times, and "nothing happens" is checked after the clock has passed the moment it would have.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isWebCcidError } from '../errors.js';
import { createHcaLikeCard } from '../virtual/card.js';
import { createFakeSmartCard, type FakeSmartCard } from '../virtual/smartcard-fake.js';
import { watchSmartCardReaders, type SmartCardReaderWatcher, type SmartCardWatcherRetryDetail } from './watcher.js';

function record(w: SmartCardReaderWatcher): string[] {
  const events: string[] = [];
  for (const type of ['readeradded', 'readerremoved', 'cardinserted', 'cardremoved'] as const) {
    w.addEventListener(type, (e) => events.push(`${type} ${e.detail.reader.name}`));
  }
  return events;
}

/** How often the fake was called for `operation` so far. */
function calls(smartCard: FakeSmartCard, operation: string): number {
  return smartCard.log.filter((l) => l === operation).length;
}

let start = 0;
beforeEach(() => {
  // setImmediate stays real: it lets promise continuations run between fake-clock steps.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
  start = Date.now();
});
afterEach(() => {
  vi.useRealTimers();
});

/**
 * Runs everything due now without moving the clock: the fake answers each call from a
 * zero-delay timer, and the continuation that makes the next call runs between two rounds, so a
 * whole watcher round (establishContext, listReaders, getStatusChange: three hops) happens at the
 * same fake time. (vi.advanceTimersByTimeAsync would put each zero-delay timer set while it runs
 * 1 ms later.) A chain deeper than the rounds here would show as a missing call or event.
 */
async function settle(): Promise<void> {
  for (let round = 0; round < 10; round++) {
    vi.advanceTimersByTime(0);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Moves the fake clock to `ms` after the test's start, timer by timer, settling at each one. */
async function at(ms: number): Promise<void> {
  await settle();
  const now = Date.now() - start;
  if (ms < now) throw new Error(`the clock is already at ${now} ms`);
  let reached = false;
  setTimeout(() => (reached = true), ms - now);
  while (!reached) {
    await vi.advanceTimersToNextTimerAsync();
    await settle();
  }
}

describe('watchSmartCardReaders', () => {
  it('reports the readers found at start, then card insertion and removal', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A', card: createHcaLikeCard() }, { name: 'B' }] });
    const w = watchSmartCardReaders({ smartCard, pollIntervalMs: 50 });
    const events = record(w);
    await settle();
    await w.ready;
    expect(w.readers.map((r) => [r.name, r.cardPresent])).toEqual([
      ['A', true],
      ['B', false],
    ]);
    expect(events).toEqual(['readeradded A', 'cardinserted A', 'readeradded B']);
    // A change answers the outstanding getStatusChange: seen with no poll interval passed.
    smartCard.insertCard('B', createHcaLikeCard());
    await settle();
    expect(events.slice(3)).toEqual(['cardinserted B']);
    smartCard.removeCard('A');
    await settle();
    expect(events.slice(4)).toEqual(['cardremoved A']);
    expect(w.readers.find((r) => r.name === 'A')?.cardPresent).toBe(false);
    expect(Date.now() - start).toBe(0);
    w.stop();
    await w.done;
    expect(w.stopped).toBe(true);
  });

  it('sees readers plugged in and unplugged (reader list refreshed on each timeout)', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A' }] });
    const w = watchSmartCardReaders({ smartCard, pollIntervalMs: 20 });
    const events = record(w);
    await settle();
    expect(events).toEqual(['readeradded A']);
    // The outstanding getStatusChange asks about A only: a new reader is seen when it times out
    // (20 ms after it started, at 0) and the watcher lists the readers again.
    smartCard.addReader('EZ100PU', createHcaLikeCard());
    await at(19);
    expect(events).toEqual(['readeradded A']);
    await at(20);
    expect(events).toEqual(['readeradded A', 'readeradded EZ100PU', 'cardinserted EZ100PU']);
    // A reader asked about that goes away answers getStatusChange (unknown) at once.
    smartCard.removeReader('A');
    await settle();
    expect(events.slice(3)).toEqual(['readerremoved A']);
    smartCard.removeReader('EZ100PU');
    await settle();
    expect(events.slice(4)).toEqual(['readerremoved EZ100PU']);
    expect(w.readers).toEqual([]);
    // No reader at all: the list is taken again every 20 ms.
    smartCard.addReader('C');
    await at(39);
    expect(events.slice(5)).toEqual([]);
    await at(40);
    expect(events.slice(5)).toEqual(['readeradded C']);
    w.stop();
    await w.done;
  });

  it('a card swapped between two looks: removed then inserted', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A', card: createHcaLikeCard() }] });
    const w = watchSmartCardReaders({ smartCard, pollIntervalMs: 50 });
    await settle();
    await w.ready;
    const events = record(w);
    // Both changes happen before the watcher's next getStatusChange answers.
    smartCard.readers.get('A')!.eventCount += 2;
    smartCard.notify();
    await settle();
    expect(events).toEqual(['cardremoved A', 'cardinserted A']);
    w.stop();
    await w.done;
  });

  it('stops with its signal', async () => {
    const controller = new AbortController();
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A' }] });
    const w = watchSmartCardReaders({ smartCard, signal: controller.signal, pollIntervalMs: 10_000 });
    await settle();
    await w.ready;
    const before = smartCard.log.length;
    controller.abort();
    // The outstanding getStatusChange is cancelled: stopped with the clock where it was.
    await settle();
    expect(w.stopped).toBe(true);
    expect(Date.now() - start).toBe(0);
    await w.done;
    // Nothing more is asked of the platform, however long we wait.
    await at(60_000);
    expect(smartCard.log.length).toBe(before);
  });

  it('a service that keeps failing (UnknownError at once): backs off instead of looping, with typed retry events', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A', card: createHcaLikeCard() }] });
    smartCard.failAlways('getStatusChange', { exception: 'UnknownError' });
    const w = watchSmartCardReaders({ smartCard });
    const retries: SmartCardWatcherRetryDetail[] = [];
    w.addEventListener('retry', (e) => retries.push(e.detail));
    // Default backoff: 500 ms after the first failure, doubling up to 30 s. Tries (fake-clock ms):
    const tries = [0, 500, 1_500, 3_500, 7_500, 15_500, 31_500, 61_500, 91_500];
    for (const [i, t] of tries.entries()) {
      if (t > 0) {
        await at(t - 1);
        expect(calls(smartCard, 'getStatusChange'), `no try before ${t} ms`).toBe(i);
      }
      await at(t);
      expect(calls(smartCard, 'getStatusChange'), `try ${i + 1} at ${t} ms`).toBe(i + 1);
    }
    w.stop();
    await w.done;
    expect(retries.map((r) => r.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(retries.map((r) => r.delayMs)).toEqual([500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    expect(isWebCcidError(retries[0]!.error, 'smartcard/failed')).toBe(true);
    expect((retries[0]!.error.cause as { name?: string }).name).toBe('UnknownError');
    // A new context for every try (the old one may be dead after a service restart).
    expect(calls(smartCard, 'establishContext')).toBe(tries.length);
  });

  it('the backoff doubles up to its cap, and starts over once the service answers again', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A' }] });
    smartCard.failAlways('listReaders', 'server-too-busy');
    const w = watchSmartCardReaders({ smartCard, pollIntervalMs: 200, retryDelayMs: { initial: 5, max: 20 } });
    const retries: Array<[number, number]> = [];
    w.addEventListener('retry', (e) => retries.push([Date.now() - start, e.detail.delayMs]));
    const events = record(w);
    await at(55);
    // [fake-clock ms of the failure, the wait it announced]: each try comes after the wait before.
    expect(retries).toEqual([
      [0, 5],
      [5, 10],
      [15, 20],
      [35, 20],
      [55, 20],
    ]);
    smartCard.recover();
    await at(74);
    expect(events).toEqual([]);
    await at(75);
    expect(events).toEqual(['readeradded A']);
    // The next failure after a round that worked waits the initial delay again.
    smartCard.failNext('getStatusChange', { exception: 'UnknownError' });
    smartCard.insertCard('A', createHcaLikeCard());
    await settle();
    expect(events).toEqual(['readeradded A', 'cardinserted A']);
    expect(retries.at(-1)).toEqual([75, 5]);
    await at(80);
    expect(calls(smartCard, 'establishContext')).toBe(7);
    w.stop();
    await w.done;
  });

  it('a real timeout (UnknownError after the timeout, per the spec) lists again at once, without retry', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A' }] });
    const w = watchSmartCardReaders({ smartCard, pollIntervalMs: 25 });
    let retries = 0;
    w.addEventListener('retry', () => retries++);
    await settle();
    await w.ready;
    // The first getStatusChange (unaware) answered at once; the second, after a second list, waits from 0.
    expect([calls(smartCard, 'listReaders'), calls(smartCard, 'getStatusChange')]).toEqual([2, 2]);
    for (let round = 1; round <= 5; round++) {
      await at(25 * round - 1);
      expect(calls(smartCard, 'listReaders')).toBe(round + 1);
      await at(25 * round);
      expect(calls(smartCard, 'listReaders'), `listed again at ${25 * round} ms`).toBe(round + 2);
      expect(calls(smartCard, 'getStatusChange')).toBe(round + 2);
    }
    w.stop();
    await w.done;
    expect(retries).toBe(0);
    expect(calls(smartCard, 'establishContext')).toBe(1);
  });

  it('current Chromium reports the timeout as TimeoutError: also just a timeout', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A' }], timeoutException: 'TimeoutError' });
    const w = watchSmartCardReaders({ smartCard, pollIntervalMs: 25 });
    let retries = 0;
    w.addEventListener('retry', () => retries++);
    const events = record(w);
    await settle();
    await w.ready;
    await at(150);
    // Six timeouts, each followed at once by a new list and wait on the same context.
    expect(calls(smartCard, 'listReaders')).toBe(8);
    expect(calls(smartCard, 'getStatusChange')).toBe(8);
    expect(calls(smartCard, 'establishContext')).toBe(1);
    expect(retries).toBe(0);
    smartCard.insertCard('A', createHcaLikeCard());
    await settle();
    expect(events).toEqual(['readeradded A', 'cardinserted A']);
    w.stop();
    await w.done;
    expect(retries).toBe(0);
  });

  it('no service yet (Windows starts it with the first reader): retry events, then the readers', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A' }] });
    smartCard.failAlways('establishContext', 'no-service');
    const w = watchSmartCardReaders({ smartCard, retryDelayMs: { initial: 10, max: 10 } });
    const errors: string[] = [];
    w.addEventListener('retry', (e) => errors.push(e.detail.error.code));
    await settle();
    await w.ready;
    expect(errors).toEqual(['smartcard/no-service']);
    expect(w.stopped).toBe(false);
    await at(20);
    expect(errors).toEqual(['smartcard/no-service', 'smartcard/no-service', 'smartcard/no-service']);
    smartCard.recover();
    const events = record(w);
    await at(29);
    expect(events).toEqual([]);
    await at(30);
    expect(events).toEqual(['readeradded A']);
    expect(calls(smartCard, 'establishContext')).toBe(4);
    w.stop();
    await w.done;
  });

  it('a refusal waiting cannot change (permissions policy) ends the watcher with an error event', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A' }], policyAllowed: false });
    const w = watchSmartCardReaders({ smartCard });
    let error: unknown;
    let retries = 0;
    w.addEventListener('error', (e) => (error = e.detail.error));
    w.addEventListener('retry', () => retries++);
    await settle();
    expect(isWebCcidError(error, 'smartcard/not-allowed')).toBe(true);
    expect(w.stopped).toBe(true);
    expect(retries).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    await w.done;
  });

  it('without the API: smartcard/unavailable at once', () => {
    expect(() => watchSmartCardReaders()).toThrow(expect.objectContaining({ code: 'smartcard/unavailable' }));
  });
});
