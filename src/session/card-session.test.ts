import { describe, expect, it } from 'vitest';
import { createVirtualHcaCard, createVirtualReader, VirtualUsb } from '../virtual/index.js';
import { HcaCard } from '../hca/card.js';
import { isWebCcidError } from '../errors.js';
import { detectWebUsb, UsbCardSession, type SessionState } from './card-session.js';

async function until(session: UsbCardSession, predicate: (s: SessionState) => boolean, ms = 3000): Promise<SessionState> {
  if (predicate(session.state)) return session.state;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`state stayed ${JSON.stringify(session.state.kind)}`));
    }, ms);
    const off = session.on('statechange', (event) => {
      if (!predicate(event.detail.state)) return;
      clearTimeout(timer);
      off();
      resolve(event.detail.state);
    });
  });
}

async function setUp(options: { withCard?: boolean; pinpad?: boolean; granted?: boolean } = {}) {
  const card = await createVirtualHcaCard();
  const device = createVirtualReader({ preset: 'castles-ezccid', card: options.withCard === false ? null : card, pinpad: options.pinpad ?? false });
  const usb = new VirtualUsb({ devices: [device], granted: options.granted ?? true });
  const session = new UsbCardSession({ usb });
  return { card, device, usb, session };
}

describe('detectWebUsb', () => {
  it.each([
    [{ navigator: { usb: {} }, isSecureContext: true }, { supported: true }],
    [{ navigator: {}, isSecureContext: false }, { supported: false, reason: 'insecure-context' }],
    [{ navigator: {}, isSecureContext: true }, { supported: false, reason: 'unsupported-browser' }],
    [{}, { supported: false, reason: 'unsupported-browser' }],
  ])('%j -> %j', (env, expected) => {
    expect(detectWebUsb(env)).toEqual(expected);
  });
});

describe('UsbCardSession', () => {
  it('is no-webusb without a backend, and connect() rejects with transport/no-webusb', async () => {
    const session = new UsbCardSession({ usb: null });
    expect(session.state.kind).toBe('no-webusb');
    expect(session.state.error?.code).toBe('transport/no-webusb');
    expect((await session.start()).kind).toBe('no-webusb');
    await expect(session.connect()).rejects.toMatchObject({ code: 'transport/no-webusb' });
  });

  it('opens a pre-granted reader with a card: state card, reader name, no pinpad', async () => {
    const { session } = await setUp();
    const state = await session.start();
    expect(state.kind).toBe('card');
    expect(state.readerName).toBeTruthy();
    expect(state.pinpad).toBe(false);
    await session.close();
  });

  it('reports a pinpad reader', async () => {
    const { session } = await setUp({ pinpad: true });
    expect((await session.start()).pinpad).toBe(true);
    const { pinpad } = await session.connect();
    expect(pinpad).toBe(true);
    await session.close();
  });

  it('connect() powers the card for HcaCard, busy until release()', async () => {
    const { session } = await setUp();
    await session.start();
    const kinds: string[] = [];
    session.on('statechange', (e) => kinds.push(e.detail.state.kind));
    const { channel, pinpad } = await session.connect();
    expect(pinpad).toBe(false);
    expect(session.state.kind).toBe('busy');
    const card = await HcaCard.open(channel);
    expect(await card.readCardNumber()).toBe('000012345678');
    await session.release();
    expect(session.state.kind).toBe('card');
    expect(kinds).toEqual(['busy', 'card']);
    await session.release(); // twice is fine
    await session.close();
  });

  it('release() powers the card off: a verified PIN does not outlive the flow', async () => {
    const { session } = await setUp();
    await session.start();
    let { channel } = await session.connect();
    let card = await HcaCard.open(channel);
    await card.verifyPin('123456');
    expect((await card.pinStatus()).verified).toBe(true);
    await session.release();
    ({ channel } = await session.connect());
    card = await HcaCard.open(channel);
    expect((await card.pinStatus()).verified).toBe(false);
    await session.close();
  });

  it('follows card removal and insertion; removal during use says so', async () => {
    const { session, device, card } = await setUp();
    await session.start();
    device.removeCard();
    let state = await until(session, (s) => s.kind === 'no-card');
    expect(state.lostDuringUse).toBeUndefined();
    await expect(session.connect()).rejects.toMatchObject({ code: 'ccid/card-absent' });
    expect(session.state.kind).toBe('no-card');
    device.insertCard(card);
    await until(session, (s) => s.kind === 'card');
    const { channel } = await session.connect();
    const hca = await HcaCard.open(channel);
    device.removeCard();
    state = await until(session, (s) => s.kind === 'no-card');
    expect(state.lostDuringUse).toBe(true);
    expect(state.error?.code).toBe('ccid/card-absent');
    const err = await hca.readCardNumber().catch((e: unknown) => e);
    expect(isWebCcidError(err, 'ccid/card-absent')).toBe(true);
    await session.release();
    expect(session.state.kind).toBe('no-card');
    await session.close();
  });

  it('starts without a card: no-card, then card on insertion', async () => {
    const { session, device, card } = await setUp({ withCard: false });
    expect((await session.start()).kind).toBe('no-card');
    device.insertCard(card);
    await until(session, (s) => s.kind === 'card');
    await session.close();
  });

  it('goes to no-reader on unplug and reopens the reader on replug by itself', async () => {
    const { session, device } = await setUp();
    await session.start();
    await session.connect();
    device.unplug();
    const state = await until(session, (s) => s.kind === 'no-reader');
    expect(state.error?.code).toBe('transport/disconnected');
    expect(state.lostDuringUse).toBe(true);
    await expect(session.connect()).rejects.toMatchObject({ code: 'transport/disconnected' });
    device.plug();
    await until(session, (s) => s.kind === 'card');
    const { channel } = await session.connect();
    expect(await (await HcaCard.open(channel)).readCardNumber()).toBe('000012345678');
    await session.close();
  });

  it('without permission: start() finds nothing, choose() opens the chosen reader', async () => {
    const { session } = await setUp({ granted: false });
    expect((await session.start()).kind).toBe('no-reader');
    await expect(session.connect()).rejects.toMatchObject({ code: 'transport/no-reader' });
    expect(session.canChoose).toBe(true);
    expect((await session.choose()).kind).toBe('card');
    await session.close();
  });

  it('a cancelled chooser leaves the state unchanged', async () => {
    const { session, usb } = await setUp({ granted: false });
    await session.start();
    usb.chooser = 'cancel';
    const before = session.state;
    expect(await session.choose()).toBe(before);
    await session.close();
  });

  it('reports a reader the OS holds as an error state with transport/os-held', async () => {
    const card = await createVirtualHcaCard();
    const device = createVirtualReader({ preset: 'castles-ezccid', card, claimRefusal: 'os-held' });
    const session = new UsbCardSession({ usb: new VirtualUsb({ devices: [device] }) });
    const state = await session.start();
    expect(state.kind).toBe('error');
    expect(state.error?.code).toBe('transport/os-held');
    await session.close();
  });
});
