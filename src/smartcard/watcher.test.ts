import { describe, expect, it } from 'vitest';
import { isWebCcidError } from '../errors.js';
import { createHcaLikeCard } from '../virtual/card.js';
import { createFakeSmartCard } from './fake.js';
import { watchSmartCardReaders, type SmartCardReaderWatcher } from './watcher.js';

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

  it('an error of the platform ends the watcher with an error event', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A' }] });
    smartCard.failNext('establishContext', 'no-service');
    const w = watchSmartCardReaders({ smartCard });
    let error: unknown;
    w.addEventListener('error', (e) => (error = e.detail.error));
    await w.done;
    expect(isWebCcidError(error, 'smartcard/no-service')).toBe(true);
  });

  it('without the API: smartcard/unavailable at once', () => {
    expect(() => watchSmartCardReaders()).toThrow(expect.objectContaining({ code: 'smartcard/unavailable' }));
  });
});
