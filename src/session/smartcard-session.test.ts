/**
 * SmartCardSession over the spec-shaped fake `navigator.smartCard` with the virtual HCA card:
 * states, insert / remove, connect / release (with a "reset" disconnect), the session-level
 * codes, and the API's refusals.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { isWebCcidError, type WebCcidError } from '../errors.js';
import { HcaCard } from '../hca/card.js';
import { HCA_PROFILE } from '../hca/profile.js';
import { createFakeSmartCard, type FakeSmartCard } from '../virtual/smartcard-fake.js';
import { SmartCardChannel } from '../smartcard/channel.js';
import { createVirtualHcaCard, VIRTUAL_HCA_DEFAULTS } from '../virtual/hca-card.js';
import { createTestPki } from '../virtual/pki.js';
import type { CardSession, SessionState, SessionStateKind } from './card-session.js';
import { SmartCardSession } from './smartcard-session.js';

const READER = 'Castles EZ100PU 00 00';
const OTHER = 'ACS ACR39U 01 00';
const POLL_MS = 10;

beforeAll(async () => {
  await createTestPki();
}, 60_000);

/** Resolves when the session's state satisfies `predicate` (now or after a `statechange`). */
async function until(session: CardSession, predicate: (s: SessionState) => boolean): Promise<SessionState> {
  if (predicate(session.state)) return session.state;
  return new Promise<SessionState>((resolve) => {
    const off = session.on('statechange', (e) => {
      if (predicate(e.detail.state)) {
        off();
        resolve(e.detail.state);
      }
    });
  });
}

async function rejection(p: Promise<unknown>): Promise<WebCcidError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isWebCcidError(e)) throw new Error(`expected a WebCcidError, got ${String(e)}`);
  return e;
}

const sessions: SmartCardSession[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
});

function sessionOver(smartCard: FakeSmartCard | null, options: { readerName?: string } = {}): SmartCardSession {
  const session = new SmartCardSession({ smartCard, pollIntervalMs: POLL_MS, ...options });
  sessions.push(session);
  return session;
}

async function withCard(options: Parameters<typeof createVirtualHcaCard>[0] = {}) {
  const card = await createVirtualHcaCard(options);
  const smartCard = createFakeSmartCard({ readers: [{ name: READER, card }] });
  const session = sessionOver(smartCard);
  return { card, smartCard, session };
}

describe('SmartCardSession: states', () => {
  it('without the API: state error smartcard/unavailable, no chooser, connect rejects', async () => {
    const session = sessionOver(null);
    expect(session.state).toMatchObject({ kind: 'error', backend: 'smartcard', error: { code: 'smartcard/unavailable' } });
    expect(session.canChoose).toBe(false);
    expect(await session.start()).toMatchObject({ kind: 'error', error: { code: 'smartcard/unavailable' } });
    expect((await rejection(session.connect())).code).toBe('smartcard/unavailable');
  });

  it.each<[string, Array<{ name: string; card?: boolean }>, SessionStateKind, string | undefined]>([
    ['no reader', [], 'no-reader', undefined],
    ['a reader without a card', [{ name: READER }], 'no-card', READER],
    ['a reader with a card', [{ name: READER, card: true }], 'card', READER],
    ['the reader holding the card is preferred', [{ name: OTHER }, { name: READER, card: true }], 'card', READER],
    ['two empty readers: the first', [{ name: OTHER }, { name: READER }], 'no-card', OTHER],
  ])('start(): %s', async (_name, readers, kind, readerName) => {
    const cards = await Promise.all(readers.map(async (r) => ({ name: r.name, ...(r.card ? { card: await createVirtualHcaCard() } : {}) })));
    const session = sessionOver(createFakeSmartCard({ readers: cards }));
    const state = await session.start();
    expect(state.kind).toBe(kind);
    expect(state.readerName).toBe(readerName);
    expect(state.backend).toBe('smartcard');
    if (readerName !== undefined) expect(state.pinpad).toBe(false);
  });

  it('the readerName option picks that reader even when another holds the card', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: READER, card: await createVirtualHcaCard() }, { name: OTHER }] });
    const session = sessionOver(smartCard, { readerName: OTHER });
    expect(await session.start()).toMatchObject({ kind: 'no-card', readerName: OTHER });
    expect((await rejection(session.connect())).code).toBe('ccid/card-absent');
  });

  it('follows the card being inserted and removed, and the reader coming and going', async () => {
    const smartCard = createFakeSmartCard();
    const session = sessionOver(smartCard);
    expect((await session.start()).kind).toBe('no-reader');
    smartCard.addReader(READER);
    await until(session, (s) => s.kind === 'no-card' && s.readerName === READER);
    smartCard.insertCard(READER, await createVirtualHcaCard());
    await until(session, (s) => s.kind === 'card');
    smartCard.removeCard(READER);
    const removed = await until(session, (s) => s.kind === 'no-card');
    expect(removed.lostDuringUse).toBeUndefined(); // nobody held it
    smartCard.removeReader(READER);
    await until(session, (s) => s.kind === 'no-reader');
  });

  it('a page the smart-card policy does not allow: state error smartcard/not-allowed', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: READER }], policyAllowed: false });
    const session = sessionOver(smartCard);
    expect(await session.start()).toMatchObject({ kind: 'error', error: { code: 'smartcard/not-allowed' } });
    // start() again retries (the watcher stopped): allowed now.
    smartCard.policyAllowed = true;
    expect((await session.start()).kind).toBe('no-card');
  });

  it('no smart-card service: state error smartcard/no-service, then the reader once the service is up', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: READER }] });
    smartCard.failNext('establishContext', 'no-service');
    const session = sessionOver(smartCard);
    expect(await session.start()).toMatchObject({ kind: 'error', error: { code: 'smartcard/no-service' } });
    // The watcher waits (500 ms) and tries again by itself: no start() needed.
    expect(await until(session, (s) => s.kind === 'no-card')).toMatchObject({ kind: 'no-card', readerName: READER });
  });

  it('a service failing without a response code (UnknownError): state error smartcard/failed, recovered after', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: READER }] });
    const session = sessionOver(smartCard);
    expect((await session.start()).kind).toBe('no-card');
    smartCard.failAlways('getStatusChange', { exception: 'UnknownError' });
    smartCard.failAlways('listReaders', { exception: 'UnknownError' });
    const failing = await until(session, (s) => s.kind === 'error');
    expect(failing.error?.code).toBe('smartcard/failed');
    smartCard.recover();
    expect((await until(session, (s) => s.kind === 'no-card')).error).toBeUndefined();
  });

  it('choose() has nothing to show: it refreshes the state', async () => {
    const { session } = await withCard();
    expect(session.canChoose).toBe(false);
    expect((await session.choose()).kind).toBe('card');
  });
});

describe('SmartCardSession: connect and release', () => {
  it('connect() hands out a SmartCardChannel (busy, no pinpad); release() resets the card (no verified PIN survives)', async () => {
    const { card, smartCard, session } = await withCard();
    await session.start();
    const kinds: SessionStateKind[] = [];
    session.on('statechange', (e) => kinds.push(e.detail.state.kind));
    const held = await session.connect();
    expect(held.pinpad).toBe(false);
    expect(held.channel).toBeInstanceOf(SmartCardChannel);
    expect(held.channel.pinpad).toBeUndefined();
    expect(session.state).toMatchObject({ kind: 'busy', readerName: READER, backend: 'smartcard' });
    const hca = await HcaCard.open(held.channel);
    await hca.verifyPin(VIRTUAL_HCA_DEFAULTS.pin);
    expect(card.isVerified(HCA_PROFILE.pin.reference.value)).toBe(true);
    await session.release();
    expect(card.isVerified(HCA_PROFILE.pin.reference.value)).toBe(false);
    expect(smartCard.log).toContain('disconnect reset');
    expect(smartCard.log.some((l) => l.startsWith(`connect ${READER} shared`))).toBe(true);
    expect(session.state.kind).toBe('card');
    expect(kinds).toEqual(['busy', 'card']);
    await session.release(); // twice: nothing happens
    expect(kinds).toEqual(['busy', 'card']);
  });

  it('a second connect() replaces the first holder (its channel is closed)', async () => {
    const { session } = await withCard();
    await session.start();
    const first = await session.connect();
    const second = await session.connect();
    expect((first.channel as SmartCardChannel).connected).toBe(false);
    expect((second.channel as SmartCardChannel).connected).toBe(true);
    await session.release();
    expect((second.channel as SmartCardChannel).connected).toBe(false);
  });

  it('no card: connect() rejects ccid/card-absent (cause smartcard/no-card), state no-card', async () => {
    const session = sessionOver(createFakeSmartCard({ readers: [{ name: READER }] }));
    await session.start();
    const e = await rejection(session.connect());
    expect(e.code).toBe('ccid/card-absent');
    expect(isWebCcidError(e.cause, 'smartcard/no-card')).toBe(true);
    expect(session.state).toMatchObject({ kind: 'no-card', readerName: READER });
  });

  it('no reader: connect() rejects transport/no-reader (cause smartcard/no-reader)', async () => {
    const session = sessionOver(createFakeSmartCard());
    await session.start();
    const e = await rejection(session.connect());
    expect(e.code).toBe('transport/no-reader');
    expect(isWebCcidError(e.cause, 'smartcard/no-reader')).toBe(true);
    expect(session.state.kind).toBe('no-reader');
  });

  it.each([
    ['the user refuses the prompt', 'smartcard/permission-denied', (f: FakeSmartCard) => void (f.permission = 'denied')],
    ['another application holds the card', 'smartcard/sharing-violation', (f: FakeSmartCard) => f.holdExclusive(READER, true)],
  ])('%s: connect() rejects %s, state error, then recovers', async (_name, code, refuse) => {
    const { smartCard, session } = await withCard();
    await session.start();
    refuse(smartCard);
    expect((await rejection(session.connect())).code).toBe(code);
    expect(session.state).toMatchObject({ kind: 'error', error: { code } });
    smartCard.permission = 'granted';
    smartCard.holdExclusive(READER, false);
    await session.connect();
    expect(session.state.kind).toBe('busy');
    await session.release();
    expect(session.state.kind).toBe('card');
  });

  it('the card removed while held: no-card, ccid/card-absent, lostDuringUse; release() is still safe', async () => {
    const { smartCard, session } = await withCard();
    await session.start();
    const { channel } = await session.connect();
    smartCard.removeCard(READER);
    const lost = await until(session, (s) => s.kind === 'no-card');
    expect(lost).toMatchObject({ readerName: READER, lostDuringUse: true, error: { code: 'ccid/card-absent' } });
    const e = await rejection(channel.transmit(Uint8Array.of(0x00, 0xa4, 0x04, 0x00)));
    expect(e.code).toBe('smartcard/card-removed');
    await session.release();
    expect(session.state).toMatchObject({ kind: 'no-card', lostDuringUse: true });
    smartCard.insertCard(READER, await createVirtualHcaCard());
    await until(session, (s) => s.kind === 'card');
    expect(session.state.error).toBeUndefined();
  });

  it('the reader unplugged while held: no-reader, transport/disconnected, lostDuringUse', async () => {
    const { smartCard, session } = await withCard();
    await session.start();
    await session.connect();
    smartCard.removeReader(READER);
    const lost = await until(session, (s) => s.kind === 'no-reader');
    expect(lost).toMatchObject({ lostDuringUse: true, error: { code: 'transport/disconnected' } });
    await session.release();
    expect(session.state.kind).toBe('no-reader');
  });

  it('close() disconnects a held card with reset, stops watching; connect() afterwards rejects transport/closed', async () => {
    const { card, smartCard, session } = await withCard();
    await session.start();
    const { channel } = await session.connect();
    const hca = await HcaCard.open(channel);
    await hca.verifyPin(VIRTUAL_HCA_DEFAULTS.pin);
    await session.close();
    expect(card.isVerified(HCA_PROFILE.pin.reference.value)).toBe(false);
    expect(session.state.kind).toBe('no-reader');
    const calls = smartCard.log.length;
    const seen: SessionState[] = [];
    session.on('statechange', (e) => seen.push(e.detail.state));
    // Closed means nothing is left to call the API again. With the clock in the test's hands,
    // the card is removed (waking any getStatusChange still waiting) and every timer the watcher
    // or the fake could set (poll intervals, time-outs, the fake's "later" answers) is run until
    // none is left; a watcher still running would keep setting them.
    vi.useFakeTimers();
    try {
      smartCard.removeCard(READER);
      await vi.runAllTimersAsync();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
    expect(smartCard.log.slice(calls)).toEqual([]);
    expect(seen).toEqual([]);
    expect((await rejection(session.connect())).code).toBe('transport/closed');
  });
});
