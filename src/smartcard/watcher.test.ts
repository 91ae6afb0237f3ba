import { describe, expect, it } from 'vitest';
import { isWebCcidError } from '../errors.js';
import { createHcaLikeCard } from '../virtual/card.js';
import { createFakeSmartCard } from '../virtual/smartcard-fake.js';
import { watchSmartCardReaders, type SmartCardReaderWatcher, type SmartCardWatcherRetryDetail } from './watcher.js';

function record(w: SmartCardReaderWatcher): string[] {
  const events: string[] = [];
  for (const type of ['readeradded', 'readerremoved', 'cardinserted', 'cardremoved'] as const) {
    w.addEventListener(type, (e) => events.push(`${type} ${e.detail.reader.name}`));
  }
  return events;
}

async function until(predicate: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('watchSmartCardReaders', () => {
  it('reports the readers found at start, then card insertion and removal', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A', card: createHcaLikeCard() }, { name: 'B' }] });
    const w = watchSmartCardReaders({ smartCard, pollIntervalMs: 50 });
    const events = record(w);
    await w.ready;
    expect(w.readers.map((r) => [r.name, r.cardPresent])).toEqual([
      ['A', true],
      ['B', false],
    ]);
    await until(() => events.length >= 3);
    expect(events).toEqual(['readeradded A', 'cardinserted A', 'readeradded B']);
    smartCard.insertCard('B', createHcaLikeCard());
    await until(() => events.includes('cardinserted B'));
    smartCard.removeCard('A');
    await until(() => events.includes('cardremoved A'));
    expect(w.readers.find((r) => r.name === 'A')?.cardPresent).toBe(false);
    w.stop();
    await w.done;
    expect(w.stopped).toBe(true);
  });

  it('sees readers plugged in and unplugged (reader list refreshed on each timeout)', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A' }] });
    const w = watchSmartCardReaders({ smartCard, pollIntervalMs: 20 });
    const events = record(w);
    await w.ready;
    smartCard.addReader('EZ100PU', createHcaLikeCard());
    await until(() => events.includes('cardinserted EZ100PU'));
    smartCard.removeReader('A');
    await until(() => events.includes('readerremoved A'));
    smartCard.removeReader('EZ100PU');
    await until(() => events.includes('readerremoved EZ100PU'));
    expect(w.readers).toEqual([]);
    smartCard.addReader('C');
    await until(() => events.includes('readeradded C'));
    w.stop();
    await w.done;
  });

  it('a card swapped between two looks: removed then inserted', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A', card: createHcaLikeCard() }] });
    const w = watchSmartCardReaders({ smartCard, pollIntervalMs: 50 });
    await w.ready;
    const events = record(w);
    // Both changes happen before the watcher's next getStatusChange answers.
    smartCard.readers.get('A')!.eventCount += 2;
    smartCard.notify();
    await until(() => events.length >= 2);
    expect(events).toEqual(['cardremoved A', 'cardinserted A']);
    w.stop();
    await w.done;
  });

  it('stops with its signal', async () => {
    const controller = new AbortController();
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A' }] });
    const w = watchSmartCardReaders({ smartCard, signal: controller.signal, pollIntervalMs: 10_000 });
    await w.ready;
    controller.abort();
    await w.done;
    expect(w.stopped).toBe(true);
  });

  it('a service that keeps failing (UnknownError at once): backs off instead of looping, with typed retry events', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A', card: createHcaLikeCard() }] });
    smartCard.failAlways('getStatusChange', { exception: 'UnknownError' });
    const w = watchSmartCardReaders({ smartCard });
    const retries: SmartCardWatcherRetryDetail[] = [];
    w.addEventListener('retry', (e) => retries.push(e.detail));
    await new Promise((r) => setTimeout(r, 500));
    const rounds = smartCard.log.filter((l) => l === 'getStatusChange').length;
    w.stop();
    await w.done;
    // Default backoff: tries at 0 ms and after 500 ms; a busy loop makes ~100 rounds here.
    expect(rounds).toBeGreaterThanOrEqual(1);
    expect(rounds).toBeLessThanOrEqual(2);
    expect(retries[0]).toMatchObject({ attempt: 1, delayMs: 500 });
    expect(isWebCcidError(retries[0]!.error, 'smartcard/failed')).toBe(true);
    expect((retries[0]!.error.cause as { name?: string }).name).toBe('UnknownError');
    // A new context for every try (the old one may be dead after a service restart).
    expect(smartCard.log.filter((l) => l === 'establishContext').length).toBe(rounds);
  });

  it('the backoff doubles up to its cap, and starts over once the service answers again', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A' }] });
    smartCard.failAlways('listReaders', 'server-too-busy');
    const w = watchSmartCardReaders({ smartCard, pollIntervalMs: 200, retryDelayMs: { initial: 5, max: 20 } });
    const delays: number[] = [];
    w.addEventListener('retry', (e) => delays.push(e.detail.delayMs));
    await until(() => delays.length >= 5);
    expect(delays.slice(0, 5)).toEqual([5, 10, 20, 20, 20]);
    smartCard.recover();
    const events = record(w);
    await until(() => events.includes('readeradded A'));
    smartCard.failNext('getStatusChange', { exception: 'UnknownError' });
    smartCard.insertCard('A', createHcaLikeCard());
    const before = delays.length;
    await until(() => delays.length > before);
    expect(delays.at(-1)).toBe(5);
    await until(() => events.includes('cardinserted A'));
    w.stop();
    await w.done;
  });

  it('a real timeout (UnknownError after the timeout, per the spec) lists again at once, without retry', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A' }] });
    const w = watchSmartCardReaders({ smartCard, pollIntervalMs: 25 });
    let retries = 0;
    w.addEventListener('retry', () => retries++);
    await w.ready;
    await new Promise((r) => setTimeout(r, 300));
    w.stop();
    await w.done;
    expect(retries).toBe(0);
    expect(smartCard.log.filter((l) => l === 'getStatusChange').length).toBeGreaterThanOrEqual(5);
    expect(smartCard.log.filter((l) => l === 'establishContext').length).toBe(1);
  });

  it('current Chromium reports the timeout as TimeoutError: also just a timeout', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A' }], timeoutException: 'TimeoutError' });
    const w = watchSmartCardReaders({ smartCard, pollIntervalMs: 25 });
    let retries = 0;
    w.addEventListener('retry', () => retries++);
    const events = record(w);
    await w.ready;
    await new Promise((r) => setTimeout(r, 150));
    smartCard.insertCard('A', createHcaLikeCard());
    await until(() => events.includes('cardinserted A'));
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
    await w.ready;
    expect(errors[0]).toBe('smartcard/no-service');
    expect(w.stopped).toBe(false);
    smartCard.recover();
    const events = record(w);
    await until(() => events.includes('readeradded A'));
    w.stop();
    await w.done;
  });

  it('a refusal waiting cannot change (permissions policy) ends the watcher with an error event', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A' }], policyAllowed: false });
    const w = watchSmartCardReaders({ smartCard });
    let error: unknown;
    w.addEventListener('error', (e) => (error = e.detail.error));
    await w.done;
    expect(isWebCcidError(error, 'smartcard/not-allowed')).toBe(true);
    expect(w.stopped).toBe(true);
  });

  it('without the API: smartcard/unavailable at once', () => {
    expect(() => watchSmartCardReaders()).toThrow(expect.objectContaining({ code: 'smartcard/unavailable' }));
  });
});
