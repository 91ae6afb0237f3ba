/**
 * "Never spend a try on a guess", from each component's flow (the logic of <hca-change-pin>,
 * <hca-unlock-card> and <hca-bind-card>): on the virtual HCA card, which implements the default
 * profile whose PIN format is assumed, one refused PIN (or PUK) stops the flow, and no second
 * PIN-carrying command (INS 20 / 24 / 2C with data, or a pinpad PC_to_RDR_Secure) ever reaches
 * the card: not from the same flow, not from a new flow over the same tab memory (a page
 * reload), not from another component. On a card that behaves like the GPKI sibling no PIN or
 * PUK is ever sent, and the unlock flow does not even ask the service for the PUK.
 */
import { describe, expect, it, vi } from 'vitest';
import { MemoryCardChannel } from '../../card/memory.js';
import { memoryPinTrialStore, type PinTrialStore } from '../../hca/pin-guard.js';
import { createVirtualHcaCard, type VirtualHcaCardOptions } from '../../virtual/hca-card.js';
import { PinCountingChannel } from '../../../test/helpers/pin-counter.js';
import { performBinding } from '../hca-bind-card/bind-flow.js';
import { ChangePinFlow } from '../hca-change-pin/change-pin-flow.js';
import type { CardConnector } from './flow-common.js';
import { UnlockFlow } from '../hca-unlock-card/unlock-flow.js';
import { describeError } from './messages.js';

const PIN = '123456';
const PUK = '12345678';
const CARD = '000012345678';

async function setUp(options: VirtualHcaCardOptions & { pinpad?: boolean } = {}) {
  const { pinpad, ...cardOptions } = options;
  const card = await createVirtualHcaCard(cardOptions);
  const channel = new PinCountingChannel(new MemoryCardChannel(card), { pinpad: pinpad ?? false });
  const connector: CardConnector = {
    connect: async () => ({ channel, pinpad: channel.pinpad !== undefined }),
    release: async () => undefined,
  };
  return { card, channel, connector, store: memoryPinTrialStore() };
}

function service(puk = PUK) {
  return vi.fn(async () => puk);
}

function unlockFlow(connector: CardConnector, store: PinTrialStore, requestPuk = service()) {
  return new UnlockFlow({ connector, requestPuk, pinTrials: store });
}

describe('<hca-change-pin> (ChangePinFlow)', () => {
  it('on screen: one refused PIN stops the flow; no second PIN, not after a reload either', async () => {
    const { card, channel, connector, store } = await setUp();
    const flow = new ChangePinFlow({ connector, pinTrials: store });
    await flow.inspect();
    expect(flow.state).toMatchObject({ stopped: false, retriesLeft: 3 });
    expect(await flow.submit({ oldPin: '111111', newPin: '654321', confirm: '654321' })).toBe(false);
    expect(flow.state).toMatchObject({ stopped: true, retriesLeft: 2, error: { code: 'hca/profile-unconfirmed', retriesLeft: 2 } });
    // What the page shows: the counter, "the PIN may have been right", the field report link.
    const shown = describeError(flow.state.error!.error);
    expect(shown).toMatchObject({ code: 'hca/profile-unconfirmed', retriesLeft: 2, action: { kind: 'field-report' } });
    expect(shown.detail).toContain('2');
    expect(channel.pinCommands).toBe(1);

    expect(await flow.submit({ oldPin: PIN, newPin: '654321', confirm: '654321' })).toBe(false);
    // A "reload": a new flow over the same tab memory; inspect already knows, before any PIN is typed.
    const reloaded = new ChangePinFlow({ connector, pinTrials: store });
    await reloaded.inspect();
    expect(reloaded.state).toMatchObject({ stopped: true, retriesLeft: 2, error: { code: 'hca/profile-unconfirmed' } });
    expect(await reloaded.submit({ oldPin: PIN, newPin: '654321', confirm: '654321' })).toBe(false);
    expect(channel.pinCommands).toBe(1);
    expect(card.pinTriesLeft).toBe(2);
  });

  it('on a pinpad: one PC_to_RDR_Secure, never a second', async () => {
    const { card, channel, connector, store } = await setUp({ pinpad: true });
    channel.keys = ['111111', '654321', PIN, '654321'];
    const flow = new ChangePinFlow({ connector, pinTrials: store });
    flow.setReaderPinpad(true);
    expect(await flow.submit()).toBe(false);
    expect(flow.state).toMatchObject({ stopped: true, error: { code: 'hca/profile-unconfirmed', retriesLeft: 2 } });
    expect(await flow.submit()).toBe(false);
    flow.restart();
    flow.setReaderPinpad(true);
    expect(await flow.submit()).toBe(false);
    expect(flow.state.error?.code).toBe('hca/profile-unconfirmed');
    expect(channel.secureOperations).toBe(1);
    expect(channel.pinCommands).toBe(1);
    expect(card.pinTriesLeft).toBe(2);
  });

  it('a right PIN is accepted once and the format counts as shown on this card', async () => {
    const { channel, connector, store } = await setUp();
    const flow = new ChangePinFlow({ connector, pinTrials: store });
    expect(await flow.submit({ oldPin: PIN, newPin: '654321', confirm: '654321' })).toBe(true);
    expect(channel.pinCommands).toBe(1);
  });
});

describe('<hca-unlock-card> (UnlockFlow)', () => {
  it('on screen: one refused PUK stops the flow; the service is not asked again and no PUK is sent again', async () => {
    const { card, channel, connector, store } = await setUp({ locked: true });
    const requestPuk = service('87654321'); // the service answers a wrong PUK
    const flow = unlockFlow(connector, store, requestPuk);
    expect(await flow.submitIdentity({ cardNumber: CARD, userCode: 'user' })).toBe(true);
    expect(await flow.submitNewPin({ newPin: '654321', confirm: '654321' })).toBe(false);
    expect(flow.state).toMatchObject({ stopped: true, error: { code: 'hca/profile-unconfirmed', retriesLeft: 9 } });
    expect(flow.holdsPuk).toBe(false);
    expect(channel.pinCommands).toBe(1);

    expect(await flow.submitIdentity({ cardNumber: CARD, userCode: 'user' })).toBe(false);
    const reloaded = unlockFlow(connector, store, requestPuk);
    expect(await reloaded.submitIdentity({ cardNumber: CARD, userCode: 'user' })).toBe(false);
    expect(reloaded.state).toMatchObject({ stopped: true, error: { code: 'hca/profile-unconfirmed', retriesLeft: 9 } });
    expect(requestPuk).toHaveBeenCalledTimes(1);
    expect(channel.pinCommands).toBe(1);
    expect(card.pukTriesLeft).toBe(9);
  });

  it('on a pinpad: one PC_to_RDR_Secure, never a second', async () => {
    const { card, channel, connector, store } = await setUp({ locked: true, pinpad: true });
    channel.keys = ['87654321', '654321', PUK, '654321'];
    const flow = unlockFlow(connector, store);
    expect(await flow.submitIdentity({ cardNumber: CARD, userCode: 'user' })).toBe(true);
    expect(flow.state.pinpad).toBe(true);
    expect(await flow.submitNewPin()).toBe(false);
    expect(flow.state).toMatchObject({ stopped: true, error: { code: 'hca/profile-unconfirmed' } });
    expect(flow.state.puk).toBeUndefined();
    expect(await flow.submitNewPin()).toBe(false);
    expect(channel.secureOperations).toBe(1);
    expect(card.pukTriesLeft).toBe(9);
  });

  it('the right PUK unlocks with one PIN-carrying command', async () => {
    const { card, channel, connector, store } = await setUp({ locked: true });
    const flow = unlockFlow(connector, store);
    expect(await flow.submitIdentity({ cardNumber: CARD, userCode: 'user' })).toBe(true);
    expect(await flow.submitNewPin({ newPin: '654321', confirm: '654321' })).toBe(true);
    expect(channel.pinCommands).toBe(1);
    expect(card.pinTriesLeft).toBe(3);
  });
});

describe('<hca-bind-card> (performBinding)', () => {
  const getChallenge = async () => ({ challenge: 'c'.repeat(43), origin: 'https://example.test' });

  it.each([false, true])('pinpad %s: one refused PIN, then no PIN reaches the card again', async (pinpad) => {
    const { card, channel, store } = await setUp({ pinpad });
    channel.keys = ['111111', PIN];
    const bind = (pin: string) =>
      performBinding({ channel, cardType: 'personnel', pinpad, pin: new TextEncoder().encode(pin), getChallenge, pinTrials: store });
    await expect(bind('111111')).rejects.toMatchObject({ code: 'hca/profile-unconfirmed', reason: 'refused', retriesLeft: 2 });
    await expect(bind(PIN)).rejects.toMatchObject({ code: 'hca/profile-unconfirmed', reason: 'earlier-refusal', retriesLeft: 2 });
    expect(channel.pinCommands).toBe(1);
    expect(card.pinTriesLeft).toBe(2);
  });

  it('another component after a refusal in one: the change-PIN page stops before any PIN too', async () => {
    const { channel, connector, store } = await setUp();
    await expect(
      performBinding({ channel, cardType: 'personnel', pinpad: false, pin: new TextEncoder().encode('111111'), getChallenge, pinTrials: store }),
    ).rejects.toMatchObject({ code: 'hca/profile-unconfirmed' });
    const flow = new ChangePinFlow({ connector, pinTrials: store });
    await flow.inspect();
    expect(flow.state.stopped).toBe(true);
    expect(await flow.submit({ oldPin: PIN, newPin: '654321', confirm: '654321' })).toBe(false);
    expect(channel.pinCommands).toBe(1);
  });
});

describe('a card behaving like the GPKI sibling: no PIN, no PUK, ever', () => {
  it('change PIN: stopped at inspect (not implementable), nothing sent', async () => {
    const { card, channel, connector, store } = await setUp({ behaviour: 'gpki-sibling' });
    const flow = new ChangePinFlow({ connector, pinTrials: store });
    await flow.inspect();
    expect(flow.state).toMatchObject({ stopped: true, error: { code: 'hca/profile-unconfirmed' } });
    expect((flow.state.error?.error as { reason?: string }).reason).toBe('not-implementable');
    expect(channel.instructions).not.toContain(0x20);
    expect(await flow.submit({ oldPin: PIN, newPin: '654321', confirm: '654321' })).toBe(false);
    expect(channel.pinCommands).toBe(0);
    expect(card.pinTriesLeft).toBe(3);
  });

  it('unlock: the service is never asked for the PUK', async () => {
    const { card, channel, connector, store } = await setUp({ behaviour: 'gpki-sibling', locked: true });
    const requestPuk = service();
    const flow = unlockFlow(connector, store, requestPuk);
    expect(await flow.submitIdentity({ cardNumber: CARD, userCode: 'user' })).toBe(false);
    expect(flow.state).toMatchObject({ stopped: true, error: { code: 'hca/profile-unconfirmed' } });
    expect((flow.state.error?.error as { reason?: string }).reason).toBe('not-implementable');
    expect(requestPuk).not.toHaveBeenCalled();
    expect(channel.pinCommands).toBe(0);
    expect(card.pukTriesLeft).toBe(10);
  });

  it('bind: hca/profile-unconfirmed (not-implementable), nothing sent', async () => {
    const { card, channel } = await setUp({ behaviour: 'gpki-sibling' });
    await expect(
      performBinding({ channel, cardType: 'personnel', pinpad: false, pin: new TextEncoder().encode(PIN), getChallenge: async () => ({ challenge: 'c', origin: 'o' }), pinTrials: memoryPinTrialStore() }),
    ).rejects.toMatchObject({ code: 'hca/profile-unconfirmed', reason: 'not-implementable' });
    expect(channel.pinCommands).toBe(0);
    expect(card.pinTriesLeft).toBe(3);
  });
});
