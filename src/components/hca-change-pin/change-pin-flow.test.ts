import { describe, expect, it } from 'vitest';
import { MemoryCardChannel } from '../../card/memory.js';
import type { CardChannel } from '../../card/channel.js';
import { HcaCard } from '../../hca/card.js';
import { createVirtualHcaCard, createVirtualPinpad, createVirtualReader, VirtualUsb, type VirtualHcaCard } from '../../virtual/index.js';
import { UsbCardSession, type SessionState } from '../../session/card-session.js';
import { ChangePinFlow, type ChangePinState } from './change-pin-flow.js';
import type { CardConnector } from '../shared/flow-common.js';
import { memoryPinTrialStore } from '../../hca/pin-guard.js';
import type { HcaProfile } from '../../hca/profile.js';
import { CONFIRMED_PROFILE } from '../../../test/helpers/confirmed-profile.js';

const SECRETS = ['123456', '654321', '111111', '999999'];

/** A connector over a MemoryCardChannel that counts connect / release. */
function memoryConnector(channel: CardChannel) {
  const c = {
    connects: 0,
    releases: 0,
    async connect() {
      c.connects++;
      return { channel, pinpad: channel.pinpad !== undefined };
    },
    async release() {
      c.releases++;
    },
  };
  return c satisfies CardConnector;
}

/**
 * `profile`: the wrong-PIN mechanics run with the PIN format confirmed (the virtual card implements
 * the profile); the default profile's "no second try" is tested in no-second-try.test.ts.
 */
async function setUp(options: Parameters<typeof createVirtualHcaCard>[0] = {}, profile?: HcaProfile) {
  const card = await createVirtualHcaCard(options);
  const connector = memoryConnector(new MemoryCardChannel(card));
  const states: ChangePinState[] = [];
  const flow = new ChangePinFlow({ connector, onChange: (s) => states.push(s), pinTrials: memoryPinTrialStore(), ...(profile ? { profile } : {}) });
  return { card, connector, flow, states };
}

async function pinWorks(card: VirtualHcaCard, pin: string): Promise<boolean> {
  const hca = await HcaCard.open(new MemoryCardChannel(card));
  try {
    await hca.verifyPin(pin);
    return true;
  } catch {
    return false;
  }
}

function noSecretIn(states: unknown[]): void {
  const text = JSON.stringify(states, (_k, v: unknown) => (v instanceof Error ? `${v.name}: ${v.message}` : v));
  for (const s of SECRETS) expect(text).not.toMatch(new RegExp(`(?<![0-9A-Za-z])${s}(?![0-9A-Za-z])`));
}

describe('ChangePinFlow on screen', () => {
  it('inspect reads the tries left without spending one and holds the card only meanwhile', async () => {
    const { card, connector, flow } = await setUp({ pinTriesLeft: 2 });
    await flow.inspect();
    expect(flow.state).toMatchObject({ step: 'enter', busy: false, pinpad: false, retriesLeft: 2, blocked: false });
    expect(card.pinTriesLeft).toBe(2);
    expect(connector.connects).toBe(1);
    expect(connector.releases).toBe(1);
  });

  it('changes the PIN and ends at done', async () => {
    const { card, connector, flow, states } = await setUp();
    expect(await flow.submit({ oldPin: '123456', newPin: '654321', confirm: '654321' })).toBe(true);
    expect(flow.state).toMatchObject({ step: 'done', busy: false });
    expect(flow.state.error).toBeUndefined();
    expect(states.some((s) => s.busy)).toBe(true);
    expect(connector.releases).toBe(connector.connects);
    expect(await pinWorks(card, '654321')).toBe(true);
    noSecretIn(states);
  });

  it.each([
    [{ oldPin: '', newPin: '654321', confirm: '654321' }, 'old-pin', 'input/pin-empty'],
    [{ oldPin: '123456', newPin: '6543', confirm: '6543' }, 'new-pin', 'input/pin-too-short'],
    [{ oldPin: '123456', newPin: '654321', confirm: '654320' }, 'new-pin-confirm', 'input/pin-mismatch'],
  ])('checks %j before touching the card', async (values, field, code) => {
    const { card, connector, flow } = await setUp();
    expect(await flow.submit(values)).toBe(false);
    expect(flow.state.error).toEqual({ field, code });
    expect(connector.connects).toBe(0);
    expect(card.pinTriesLeft).toBe(3);
  });

  it('reports a wrong PIN with the tries left, never retries, and stays on the step', async () => {
    const { card, flow, states } = await setUp({}, CONFIRMED_PROFILE);
    expect(await flow.submit({ oldPin: '111111', newPin: '654321', confirm: '654321' })).toBe(false);
    expect(flow.state).toMatchObject({ step: 'enter', busy: false, retriesLeft: 2, error: { code: 'apdu/pin-incorrect', retriesLeft: 2 } });
    expect(card.pinTriesLeft).toBe(2);
    expect(await pinWorks(card, '123456')).toBe(true);
    noSecretIn(states);
  });

  it('a third wrong PIN blocks: blocked state pointing to unlock, and further submits send nothing', async () => {
    const { card, connector, flow } = await setUp({ pinTriesLeft: 1 }, CONFIRMED_PROFILE);
    expect(await flow.submit({ oldPin: '111111', newPin: '654321', confirm: '654321' })).toBe(false);
    expect(flow.state).toMatchObject({ blocked: true, retriesLeft: 0, error: { code: 'apdu/pin-blocked' } });
    const connects = connector.connects;
    expect(await flow.submit({ oldPin: '123456', newPin: '654321', confirm: '654321' })).toBe(false);
    expect(connector.connects).toBe(connects);
    expect(flow.state.error?.code).toBe('apdu/pin-blocked');
    expect(card.pinTriesLeft).toBe(0);
  });

  it('a card that is already locked is reported by inspect, before any PIN is typed', async () => {
    const { flow } = await setUp({ locked: true });
    await flow.inspect();
    expect(flow.state).toMatchObject({ blocked: true, retriesLeft: 0, error: { code: 'apdu/pin-blocked' } });
  });

  it('a locked card found at submit sends no PIN', async () => {
    const { card, flow } = await setUp({ locked: true });
    expect(await flow.submit({ oldPin: '123456', newPin: '654321', confirm: '654321' })).toBe(false);
    expect(flow.state).toMatchObject({ blocked: true, error: { code: 'apdu/pin-blocked' } });
    card.reset();
    expect(card.pinTriesLeft).toBe(0);
  });

  it('wipes the PIN bytes it sent', async () => {
    const card = await createVirtualHcaCard();
    const sent: Array<{ ins: number; apdu: Uint8Array }> = [];
    const inner = new MemoryCardChannel(card);
    const channel: CardChannel = {
      atr: inner.atr,
      protocol: inner.protocol,
      transmit: async (apdu, o) => {
        sent.push({ ins: apdu[1]!, apdu });
        return inner.transmit(apdu, o);
      },
    };
    const flow = new ChangePinFlow({ connector: memoryConnector(channel) });
    expect(await flow.submit({ oldPin: '123456', newPin: '654321', confirm: '654321' })).toBe(true);
    const change = sent.find((a) => a.ins === 0x24)!;
    expect(change).toBeDefined();
    expect(change.apdu.every((b) => b === 0)).toBe(true);
  });

  it('a card that is not an HCA card is reported', async () => {
    const { HCA_ATR } = await import('../../virtual/index.js');
    const notHca = { atr: HCA_ATR, transmit: () => Uint8Array.of(0x6a, 0x82) };
    const flow = new ChangePinFlow({ connector: memoryConnector(new MemoryCardChannel(notHca)) });
    await flow.inspect();
    expect(flow.state.error?.code).toBe('hca/not-hca-card');
  });

  it('restart drops a pending answer and clears the state', async () => {
    const card = await createVirtualHcaCard();
    const inner = new MemoryCardChannel(card);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const channel: CardChannel = { atr: inner.atr, protocol: inner.protocol, transmit: async (a, o) => (await gate, inner.transmit(a, o)) };
    const flow = new ChangePinFlow({ connector: memoryConnector(channel) });
    const pending = flow.submit({ oldPin: '123456', newPin: '654321', confirm: '654321' });
    expect(flow.state.busy).toBe(true);
    flow.restart({ code: 'ccid/card-absent' });
    expect(flow.state).toMatchObject({ step: 'enter', busy: false, error: { code: 'ccid/card-absent' } });
    release();
    expect(await pending).toBe(false);
    expect(flow.state).toMatchObject({ step: 'enter', busy: false, error: { code: 'ccid/card-absent' } });
    expect(card.pinTriesLeft).toBe(3);
  });
});

async function until(session: UsbCardSession, predicate: (s: SessionState) => boolean): Promise<void> {
  if (predicate(session.state)) return;
  await new Promise<void>((resolve) => {
    const off = session.on('statechange', (e) => {
      if (predicate(e.detail.state)) {
        off();
        resolve();
      }
    });
  });
}

describe('ChangePinFlow over UsbCardSession (virtual reader)', () => {
  async function stack(options: { pinpad: boolean; profile?: HcaProfile }) {
    const card = await createVirtualHcaCard();
    const pinpad = createVirtualPinpad();
    const device = createVirtualReader({ preset: 'castles-ezccid', card, pinpad: options.pinpad, ...(options.pinpad ? { onSecure: pinpad.onSecure } : {}) });
    const session = new UsbCardSession({ usb: new VirtualUsb({ devices: [device], granted: true }) });
    await session.start();
    const flow = new ChangePinFlow({ connector: session, pinTrials: memoryPinTrialStore(), ...(options.profile ? { profile: options.profile } : {}) });
    flow.setReaderPinpad(session.state.pinpad === true);
    return { card, pinpad, device, session, flow };
  }

  it('on screen: changes the PIN and gives the card back (state card)', async () => {
    const { card, session, flow } = await stack({ pinpad: false });
    await flow.inspect();
    expect(flow.state).toMatchObject({ pinpad: false, retriesLeft: 3 });
    expect(await flow.submit({ oldPin: '123456', newPin: '654321', confirm: '654321' })).toBe(true);
    expect(session.state.kind).toBe('card');
    expect(await pinWorks(card, '654321')).toBe(true);
    await session.close();
  });

  it('on a pinpad reader: the user keys old and new PIN twice on the reader', async () => {
    const { card, session, flow, pinpad } = await stack({ pinpad: true });
    expect(flow.state.pinpad).toBe(true);
    pinpad.type('123456').enter().type('654321').enter().type('654321').enter();
    expect(await flow.submit()).toBe(true);
    expect(flow.state.step).toBe('done');
    expect(pinpad.prompts.map((p) => p.step)).toEqual(['current', 'new', 'confirm']);
    expect(await pinWorks(card, '654321')).toBe(true);
    await session.close();
  });

  it('on a pinpad reader: cancel on the reader is reported and nothing is spent', async () => {
    const { card, session, flow, pinpad } = await stack({ pinpad: true });
    pinpad.cancel();
    expect(await flow.submit()).toBe(false);
    expect(flow.state).toMatchObject({ step: 'enter', error: { code: 'ccid/pin-cancelled' } });
    expect(card.pinTriesLeft).toBe(3);
    await session.close();
  });

  it('on a pinpad reader: a wrong PIN keyed reports the tries left', async () => {
    const { session, flow, pinpad } = await stack({ pinpad: true, profile: CONFIRMED_PROFILE });
    pinpad.type('111111').enter().type('654321').enter().type('654321').enter();
    expect(await flow.submit()).toBe(false);
    expect(flow.state).toMatchObject({ retriesLeft: 2, error: { code: 'apdu/pin-incorrect', retriesLeft: 2 } });
    await session.close();
  });

  it('the card removed: the session says so and the flow restarts with ccid/card-absent', async () => {
    const { device, session, flow } = await stack({ pinpad: false });
    await flow.inspect();
    device.removeCard();
    await until(session, (s) => s.kind === 'no-card');
    flow.restart({ code: session.state.error?.code ?? 'ccid/card-absent' });
    expect(flow.state).toMatchObject({ step: 'enter', busy: false, error: { code: 'ccid/card-absent' } });
    expect(await flow.submit({ oldPin: '123456', newPin: '654321', confirm: '654321' })).toBe(false);
    expect(flow.state.error?.code).toBe('ccid/card-absent');
    await session.close();
  });
});
