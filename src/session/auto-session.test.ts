/**
 * createCardSession(): WebUSB first; the Web Smart Card API when WebUSB is missing or refuses
 * the reader (the virtual reader's claim refusals), announced by `state.backend`.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HcaCard } from '../hca/card.js';
import { createFakeSmartCard } from '../virtual/smartcard-fake.js';
import type { UsbBackendLike } from '../usb/device.js';
import { createVirtualHcaCard, createVirtualReader, VirtualUsb, type VirtualHcaCard } from '../virtual/index.js';
import { createTestPki } from '../virtual/pki.js';
import { createCardSession, type AutoCardSession, type CardSessionOptions } from './auto-session.js';
import { UsbCardSession, type SessionState } from './card-session.js';
import { SmartCardSession } from './smartcard-session.js';

const READER = 'Castles EZCCID 00 00';
const CARD_NUMBER = '000012345678';

beforeAll(async () => {
  await createTestPki();
}, 60_000);

async function until(session: AutoCardSession, predicate: (s: SessionState) => boolean): Promise<SessionState> {
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

const sessions: AutoCardSession[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
});

function make(options: CardSessionOptions): { session: AutoCardSession; states: SessionState[] } {
  const session = createCardSession({ ...options, smartCardOptions: { pollIntervalMs: 10 } });
  sessions.push(session);
  const states: SessionState[] = [];
  session.on('statechange', (e) => states.push(e.detail.state));
  return { session, states };
}

/** The same card behind a WebUSB reader (with `refusal`) and behind the fake smart-card service. */
async function both(refusal?: 'protected-class' | 'os-held' | 'access-denied', card?: VirtualHcaCard) {
  const hca = card ?? (await createVirtualHcaCard());
  const device = createVirtualReader({
    preset: 'castles-ezccid',
    card: hca,
    ...(refusal === 'access-denied' ? { accessDenied: true } : refusal ? { claimRefusal: refusal } : {}),
  });
  const usb = new VirtualUsb({ devices: [device], granted: true });
  const smartCard = createFakeSmartCard({ readers: [{ name: READER, card: hca }] });
  return { card: hca, device, usb, smartCard };
}

async function readCardNumber(session: AutoCardSession): Promise<string> {
  const { channel } = await session.connect();
  try {
    return (await (await HcaCard.open(channel)).readCardInfo()).cardNumber;
  } finally {
    await session.release();
  }
}

describe('createCardSession', () => {
  it('a reader WebUSB can claim: stays on WebUSB (with the chooser), even with the Web Smart Card API', async () => {
    const { usb, smartCard } = await both();
    const { session } = make({ usb, smartCard });
    const state = await session.start();
    expect(state).toMatchObject({ kind: 'card', backend: 'webusb' });
    expect(session.backend).toBe('webusb');
    expect(session.session).toBeInstanceOf(UsbCardSession);
    expect(session.canChoose).toBe(true);
    expect(session.fallbackReason).toBeUndefined();
    expect(await readCardNumber(session)).toBe(CARD_NUMBER);
    expect(smartCard.log).toEqual([]);
  });

  it.each([
    ['protected-class', 'transport/protected-class'],
    ['os-held', 'transport/os-held'],
    ['access-denied', 'transport/no-permission'],
  ] as const)('WebUSB refuses the reader (%s): switches to the Web Smart Card API, without showing the refusal', async (refusal, code) => {
    const { usb, smartCard } = await both(refusal);
    const { session, states } = make({ usb, smartCard });
    const state = await session.start();
    expect(state).toMatchObject({ kind: 'card', backend: 'smartcard', readerName: READER, pinpad: false });
    expect(session.backend).toBe('smartcard');
    expect(session.session).toBeInstanceOf(SmartCardSession);
    expect(session.fallbackReason?.code).toBe(code);
    expect(session.canChoose).toBe(false);
    expect(states.some((s) => s.kind === 'error')).toBe(false);
    expect(states.at(-1)).toEqual(session.state);
    expect(await readCardNumber(session)).toBe(CARD_NUMBER);
    expect(session.state.kind).toBe('card');
    expect(smartCard.log).toContain('disconnect reset');
  });

  it('a refused reader without the Web Smart Card API: the refusal is shown as it is (WebUSB)', async () => {
    const { usb } = await both('protected-class');
    const { session } = make({ usb, smartCard: null });
    expect(await session.start()).toMatchObject({ kind: 'error', backend: 'webusb', error: { code: 'transport/protected-class' } });
    expect(session.fallbackReason).toBeUndefined();
  });

  it('no WebUSB, the Web Smart Card API present: smart card from the start', async () => {
    const { smartCard } = await both();
    const { session } = make({ usb: null, smartCard });
    expect(session.backend).toBe('smartcard');
    expect(session.fallbackReason?.code).toBe('transport/no-webusb');
    expect(session.state).toMatchObject({ kind: 'no-reader', backend: 'smartcard' });
    expect(await session.start()).toMatchObject({ kind: 'card', backend: 'smartcard' });
    expect(await readCardNumber(session)).toBe(CARD_NUMBER);
  });

  it('neither API: WebUSB session in state no-webusb', async () => {
    const { session } = make({ usb: null, smartCard: null });
    expect(await session.start()).toMatchObject({ kind: 'no-webusb', backend: 'webusb', error: { code: 'transport/no-webusb' } });
    await expect(session.connect()).rejects.toMatchObject({ code: 'transport/no-webusb' });
  });

  it('WebUSB blocked by policy (getDevices: SecurityError): switches', async () => {
    const { smartCard } = await both();
    const blocked: UsbBackendLike = {
      getDevices: () => Promise.reject(new DOMException('Access to the feature "usb" is disallowed by permissions policy.', 'SecurityError')),
      addEventListener: () => undefined,
      removeEventListener: () => undefined,
    };
    const { session } = make({ usb: blocked, smartCard });
    expect(await session.start()).toMatchObject({ kind: 'card', backend: 'smartcard' });
    expect(session.fallbackReason?.code).toBe('transport/no-permission');
  });

  it('a refused reader plugged in after start: switches when it arrives', async () => {
    const { device, smartCard } = await both('protected-class');
    const usb = new VirtualUsb({ devices: [], granted: true });
    smartCard.removeReader(READER);
    const { session } = make({ usb, smartCard });
    expect(await session.start()).toMatchObject({ kind: 'no-reader', backend: 'webusb' });
    smartCard.addReader(READER, (await both()).card); // the OS's service sees the reader too
    usb.attach(device);
    const state = await until(session, (s) => s.backend === 'smartcard' && s.kind === 'card');
    expect(state.readerName).toBe(READER);
    expect(session.fallbackReason?.code).toBe('transport/protected-class');
  });

  it("a refused reader picked in WebUSB's chooser: switches", async () => {
    const { device, smartCard } = await both('protected-class');
    const usb = new VirtualUsb({ devices: [device], granted: false });
    const { session } = make({ usb, smartCard });
    expect(await session.start()).toMatchObject({ kind: 'no-reader', backend: 'webusb' });
    expect(await session.choose()).toMatchObject({ kind: 'card', backend: 'smartcard' });
    expect(session.fallbackReason?.code).toBe('transport/protected-class');
  });

  it('after the switch, insert / remove and connect go through the Web Smart Card API', async () => {
    const { usb, smartCard, card } = await both('protected-class');
    const { session } = make({ usb, smartCard });
    await session.start();
    smartCard.removeCard(READER);
    await until(session, (s) => s.kind === 'no-card');
    await expect(session.connect()).rejects.toMatchObject({ code: 'ccid/card-absent' });
    smartCard.insertCard(READER, card);
    await until(session, (s) => s.kind === 'card');
    expect(await readCardNumber(session)).toBe(CARD_NUMBER);
  });

  it('close() during the switch closes the smart-card session (never started)', async () => {
    const { usb, smartCard } = await both('protected-class');
    const { session } = make({ usb, smartCard });
    const started = session.start();
    await until(session, (s) => s.backend === 'smartcard');
    await session.close();
    await started;
    expect(session.state).toMatchObject({ kind: 'no-reader', backend: 'smartcard' });
    await expect(session.session.connect()).rejects.toMatchObject({ code: 'transport/closed' });
    expect(smartCard.log).toEqual([]);
  });

  it('close() before the refusal arrives: no switch', async () => {
    const { usb, smartCard } = await both('protected-class');
    const { session } = make({ usb, smartCard });
    const started = session.start();
    const closed = session.close();
    await Promise.all([started, closed]);
    expect(session.backend).toBe('webusb');
    expect(session.state.kind).toBe('no-reader');
    expect(smartCard.log).toEqual([]);
  });
});
