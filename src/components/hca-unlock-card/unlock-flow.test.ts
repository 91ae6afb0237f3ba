import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryCardChannel } from '../../card/memory.js';
import type { CardChannel } from '../../card/channel.js';
import { HcaCard } from '../../hca/card.js';
import { createVirtualHcaCard, createVirtualPinpad, createVirtualReader, VirtualUsb, type VirtualHcaCard } from '../../virtual/index.js';
import { UsbCardSession, type SessionState } from '../../session/card-session.js';
import type { CardConnector } from '../shared/flow-common.js';
import { PukServiceError } from '../../session/puk-service.js';
import { checkCardNumber, checkUserCode, UnlockFlow, type RequestPuk, type UnlockState } from './unlock-flow.js';
import { memoryPinTrialStore } from '../../hca/pin-guard.js';
import type { HcaProfile } from '../../hca/profile.js';
import { CONFIRMED_PROFILE } from '../../../test/helpers/confirmed-profile.js';

const CARD = '000012345678';
const USER_CODE = 'Demo1234';
const PUK = '12345678';
const SECRETS = ['654321', PUK, '87654321', USER_CODE];

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

/** A fake unlock service: the demo card and user code give `puk`. */
function fakeService(puk = PUK) {
  const calls: Array<[string, string]> = [];
  const requestPuk: RequestPuk = async (cardNumber, userCode) => {
    calls.push([cardNumber, userCode]);
    if (cardNumber === CARD && userCode === USER_CODE) return puk;
    throw new PukServiceError('unlock/wrong-user-code', 'The card number and the user code do not match.', { status: 401, attemptsLeft: 4 });
  };
  return { calls, requestPuk };
}

/** `profile`: the wrong-PUK mechanics run with the PUK format confirmed (see no-second-try.test.ts for the default profile). */
async function setUp(cardOptions: Parameters<typeof createVirtualHcaCard>[0] = { locked: true }, servicePuk = PUK, profile?: HcaProfile) {
  const card = await createVirtualHcaCard(cardOptions);
  const connector = memoryConnector(new MemoryCardChannel(card));
  const service = fakeService(servicePuk);
  const states: UnlockState[] = [];
  const flow = new UnlockFlow({ connector, requestPuk: service.requestPuk, onChange: (s) => states.push(s), pinTrials: memoryPinTrialStore(), ...(profile ? { profile } : {}) });
  return { card, connector, service, flow, states };
}

async function pinWorks(card: VirtualHcaCard, pin: string): Promise<boolean> {
  const hca = await HcaCard.open(new MemoryCardChannel(card));
  try {
    await hca.verifyPin(pin);
    return true;
  } catch {
    return false;
  } finally {
    card.reset();
  }
}

function noSecretIn(states: unknown[]): void {
  const text = JSON.stringify(states, (_k, v: unknown) => (v instanceof Error ? `${v.name}: ${v.message}` : v));
  for (const s of SECRETS) expect(text).not.toMatch(new RegExp(`(?<![0-9A-Za-z])${s}(?![0-9A-Za-z])`));
}

describe('checkCardNumber', () => {
  it.each([
    ['000012345678', false, { digits: CARD }],
    ['GH000012345678', false, { digits: CARD }],
    ['gh 0000-1234-5678', false, { digits: CARD }],
    ['', false, { code: 'input/card-number-empty' }],
    ['', true, { digits: '' }],
    ['G', true, { digits: '' }],
    ['GH', true, { digits: '' }],
    ['GH', false, { code: 'input/card-number-length' }],
    ['0000123', true, { digits: '0000123' }],
    ['0000123', false, { code: 'input/card-number-length' }],
    ['0000123456789', true, { code: 'input/card-number-length' }],
    ['00001234567x', true, { code: 'input/card-number-not-digits' }],
    ['AB000012345678', false, { code: 'input/card-number-not-digits' }],
    ['X', true, { code: 'input/card-number-not-digits' }],
  ])('%j (partial %s) -> %j', (text, partial, expected) => {
    expect(checkCardNumber(text, { partial })).toEqual(expected);
  });

  it('any text: digits (12 when complete) or a code, never throws', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), fc.boolean(), (text, partial) => {
        const r = checkCardNumber(text, { partial });
        if ('digits' in r) {
          expect(r.digits).toMatch(partial ? /^\d{0,12}$/ : /^\d{12}$/);
        } else {
          expect(r.code).toMatch(/^input\/card-number-/);
        }
      }),
    );
  });
});

describe('checkUserCode', () => {
  it('keeps case, needs 1..64 characters', () => {
    expect(checkUserCode('')).toBe('input/user-code-empty');
    expect(checkUserCode('a'.repeat(65))).toBe('input/user-code-length');
    expect(checkUserCode('Demo1234')).toBeUndefined();
  });
});

describe('UnlockFlow on screen (no pinpad)', () => {
  it('unlocks a locked card: PUK sent by the flow, never in the state, new PIN works', async () => {
    const { card, connector, service, flow, states } = await setUp();
    expect(await flow.submitIdentity({ cardNumber: 'GH' + CARD, userCode: USER_CODE })).toBe(true);
    expect(service.calls).toEqual([[CARD, USER_CODE]]);
    expect(flow.state).toMatchObject({ step: 'new-pin', pinpad: false, cardNumber: CARD });
    expect(flow.state.puk).toBeUndefined();
    expect(flow.holdsPuk).toBe(true);
    expect(await flow.submitNewPin({ newPin: '654321', confirm: '654321' })).toBe(true);
    expect(flow.state).toMatchObject({ step: 'done', busy: false });
    expect(flow.holdsPuk).toBe(false);
    expect(connector.releases).toBe(connector.connects);
    expect(card.pinTriesLeft).toBe(3);
    expect(await pinWorks(card, '654321')).toBe(true);
    expect(states.map((s) => s.busy).filter(Boolean)).toEqual(expect.arrayContaining(['reading-card', 'requesting-puk', 'unlocking']));
    noSecretIn(states);
  });

  it.each([
    [{ cardNumber: '', userCode: USER_CODE }, 'card-number', 'input/card-number-empty'],
    [{ cardNumber: '1234', userCode: USER_CODE }, 'card-number', 'input/card-number-length'],
    [{ cardNumber: CARD, userCode: '' }, 'user-code', 'input/user-code-empty'],
  ])('step 1 checks %j before anything else', async (values, field, code) => {
    const { connector, service, flow } = await setUp();
    expect(await flow.submitIdentity(values)).toBe(false);
    expect(flow.state).toMatchObject({ step: 'identify', error: { field, code } });
    expect(connector.connects).toBe(0);
    expect(service.calls).toEqual([]);
  });

  it('a card number that is not the card in the reader: unlock/card-mismatch, the service is not asked', async () => {
    const { service, flow } = await setUp();
    expect(await flow.submitIdentity({ cardNumber: '000099999999', userCode: USER_CODE })).toBe(false);
    expect(flow.state).toMatchObject({ step: 'identify', error: { code: 'unlock/card-mismatch', field: 'card-number' } });
    expect(flow.state.error?.error).toMatchObject({ code: 'unlock/card-mismatch' });
    expect(service.calls).toEqual([]);
  });

  it('a wrong user code: the service error is shown, stays on step 1', async () => {
    const { flow, states } = await setUp();
    expect(await flow.submitIdentity({ cardNumber: CARD, userCode: 'demo1234' })).toBe(false);
    expect(flow.state).toMatchObject({ step: 'identify', busy: false, error: { code: 'unlock/wrong-user-code' } });
    expect((flow.state.error?.error as PukServiceError).attemptsLeft).toBe(4);
    noSecretIn(states);
  });

  it('a service answer that is not 8 digits: hca/bad-puk-format before step 2', async () => {
    const { card, flow } = await setUp({ locked: true }, '1234');
    expect(await flow.submitIdentity({ cardNumber: CARD, userCode: USER_CODE })).toBe(false);
    expect(flow.state).toMatchObject({ step: 'identify', error: { code: 'hca/bad-puk-format' } });
    expect(card.pukTriesLeft).toBe(10);
  });

  it.each([
    [{ newPin: '', confirm: '' }, 'new-pin', 'input/pin-empty'],
    [{ newPin: '65432', confirm: '65432' }, 'new-pin', 'input/pin-too-short'],
    [{ newPin: '654321', confirm: '654312' }, 'new-pin-confirm', 'input/pin-mismatch'],
  ])('step 2 checks %j before sending, the PUK is kept for the next try', async (values, field, code) => {
    const { card, flow } = await setUp();
    await flow.submitIdentity({ cardNumber: CARD, userCode: USER_CODE });
    expect(await flow.submitNewPin(values)).toBe(false);
    expect(flow.state).toMatchObject({ step: 'new-pin', error: { field, code } });
    expect(card.pukTriesLeft).toBe(10);
    expect(await flow.submitNewPin({ newPin: '654321', confirm: '654321' })).toBe(true);
  });

  it('a wrong PUK from the service: hca/puk-incorrect with the tries left, back to step 1, PUK forgotten', async () => {
    const { card, flow, states } = await setUp({ locked: true }, '87654321', CONFIRMED_PROFILE);
    expect(await flow.submitIdentity({ cardNumber: CARD, userCode: USER_CODE })).toBe(true);
    expect(await flow.submitNewPin({ newPin: '654321', confirm: '654321' })).toBe(false);
    expect(flow.state).toMatchObject({ step: 'identify', error: { code: 'hca/puk-incorrect', retriesLeft: 9 } });
    expect(flow.holdsPuk).toBe(false);
    expect(card.pukTriesLeft).toBe(9);
    expect(card.pinTriesLeft).toBe(0);
    noSecretIn(states);
  });

  it('a blocked PUK: hca/puk-blocked, back to step 1', async () => {
    const { flow } = await setUp({ locked: true, pukBlocked: true });
    await flow.submitIdentity({ cardNumber: CARD, userCode: USER_CODE });
    expect(await flow.submitNewPin({ newPin: '654321', confirm: '654321' })).toBe(false);
    expect(flow.state).toMatchObject({ step: 'identify', error: { code: 'hca/puk-blocked' } });
    expect(flow.holdsPuk).toBe(false);
  });

  it('also resets a forgotten (not blocked) PIN', async () => {
    const { card, flow } = await setUp({});
    await flow.submitIdentity({ cardNumber: CARD, userCode: USER_CODE });
    expect(await flow.submitNewPin({ newPin: '24681357', confirm: '24681357' })).toBe(true);
    expect(await pinWorks(card, '24681357')).toBe(true);
  });

  it('restart forgets the PUK and drops a pending answer', async () => {
    const { flow, card } = await setUp();
    await flow.submitIdentity({ cardNumber: CARD, userCode: USER_CODE });
    const pending = flow.submitNewPin({ newPin: '654321', confirm: '654321' });
    flow.restart({ code: 'ccid/card-absent' });
    expect(flow.holdsPuk).toBe(false);
    expect(flow.state).toEqual({ step: 'identify', busy: false, pinpad: false, error: { code: 'ccid/card-absent' } });
    expect(await pending).toBe(false);
    expect(flow.state.step).toBe('identify');
    void card;
  });

  it('a card swapped between the steps: unlock/card-mismatch, no PUK try spent', async () => {
    const first = await createVirtualHcaCard({ locked: true });
    const other = await createVirtualHcaCard({ locked: true, cardNumber: '000011112222' });
    let current: VirtualHcaCard = first;
    const connector = {
      connect: async () => ({ channel: new MemoryCardChannel(current) as CardChannel, pinpad: false }),
      release: async () => undefined,
    };
    const flow = new UnlockFlow({ connector, requestPuk: fakeService().requestPuk });
    await flow.submitIdentity({ cardNumber: CARD, userCode: USER_CODE });
    current = other;
    expect(await flow.submitNewPin({ newPin: '654321', confirm: '654321' })).toBe(false);
    expect(flow.state).toMatchObject({ step: 'identify', error: { code: 'unlock/card-mismatch' } });
    expect(other.pukTriesLeft).toBe(10);
    expect(flow.holdsPuk).toBe(false);
  });

  it('readCardNumber reads the number from the card', async () => {
    const { flow } = await setUp();
    expect(await flow.readCardNumber()).toBe(CARD);
    expect(flow.state.busy).toBe(false);
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

describe('UnlockFlow over UsbCardSession (virtual reader)', () => {
  async function stack(options: { pinpad: boolean; servicePuk?: string; profile?: HcaProfile }) {
    const card = await createVirtualHcaCard({ locked: true });
    const pinpad = createVirtualPinpad();
    const device = createVirtualReader({ preset: 'castles-ezccid', card, pinpad: options.pinpad, ...(options.pinpad ? { onSecure: pinpad.onSecure } : {}) });
    const session = new UsbCardSession({ usb: new VirtualUsb({ devices: [device], granted: true }) });
    await session.start();
    const flow = new UnlockFlow({
      connector: session,
      requestPuk: fakeService(options.servicePuk).requestPuk,
      pinTrials: memoryPinTrialStore(),
      ...(options.profile ? { profile: options.profile } : {}),
    });
    return { card, pinpad, device, session, flow };
  }

  it('on screen: unlocks, the session ends free (card)', async () => {
    const { card, session, flow } = await stack({ pinpad: false });
    expect(await flow.submitIdentity({ cardNumber: CARD, userCode: USER_CODE })).toBe(true);
    expect(session.state.kind).toBe('card');
    expect(await flow.submitNewPin({ newPin: '654321', confirm: '654321' })).toBe(true);
    expect(session.state.kind).toBe('card');
    expect(card.pinTriesLeft).toBe(3);
    await session.close();
  });

  it('on a pinpad reader: shows the PUK, the user keys PUK and new PIN twice on the reader', async () => {
    const { card, session, flow, pinpad } = await stack({ pinpad: true });
    expect(await flow.submitIdentity({ cardNumber: CARD, userCode: USER_CODE })).toBe(true);
    expect(flow.state).toMatchObject({ step: 'new-pin', pinpad: true, puk: PUK });
    pinpad.type(PUK).enter().type('654321').enter().type('654321').enter();
    expect(await flow.submitNewPin()).toBe(true);
    expect(flow.state.step).toBe('done');
    expect(flow.state.puk).toBeUndefined();
    expect(pinpad.prompts.map((p) => p.step)).toEqual(['current', 'new', 'confirm']);
    expect(card.pinTriesLeft).toBe(3);
    expect(await pinWorks(card, '654321')).toBe(true);
    await session.close();
  });

  it('on a pinpad reader: a mistyped PUK keeps step 2 (PUK still shown), the user may key it again', async () => {
    const { card, session, flow, pinpad } = await stack({ pinpad: true, profile: CONFIRMED_PROFILE });
    await flow.submitIdentity({ cardNumber: CARD, userCode: USER_CODE });
    pinpad.type('87654321').enter().type('654321').enter().type('654321').enter();
    expect(await flow.submitNewPin()).toBe(false);
    expect(flow.state).toMatchObject({ step: 'new-pin', puk: PUK, error: { code: 'hca/puk-incorrect', retriesLeft: 9 } });
    expect(card.pukTriesLeft).toBe(9);
    pinpad.type(PUK).enter().type('654321').enter().type('654321').enter();
    expect(await flow.submitNewPin()).toBe(true);
    await session.close();
  });

  it('on a pinpad reader: cancel on the reader keeps step 2 with ccid/pin-cancelled', async () => {
    const { card, session, flow, pinpad } = await stack({ pinpad: true });
    await flow.submitIdentity({ cardNumber: CARD, userCode: USER_CODE });
    pinpad.cancel();
    expect(await flow.submitNewPin()).toBe(false);
    expect(flow.state).toMatchObject({ step: 'new-pin', error: { code: 'ccid/pin-cancelled' } });
    expect(card.pukTriesLeft).toBe(10);
    await session.close();
  });

  it('on a pinpad reader: new PINs that differ on the reader: ccid/pin-mismatch', async () => {
    const { session, flow, pinpad } = await stack({ pinpad: true });
    await flow.submitIdentity({ cardNumber: CARD, userCode: USER_CODE });
    pinpad.type(PUK).enter().type('654321').enter().type('654320').enter();
    expect(await flow.submitNewPin()).toBe(false);
    expect(flow.state).toMatchObject({ step: 'new-pin', error: { code: 'ccid/pin-mismatch' } });
    await session.close();
  });

  it('the card removed between the steps: the next operation restarts the flow with ccid/card-absent', async () => {
    const { device, session, flow } = await stack({ pinpad: false });
    await flow.submitIdentity({ cardNumber: CARD, userCode: USER_CODE });
    device.removeCard();
    await until(session, (s) => s.kind === 'no-card');
    expect(await flow.submitNewPin({ newPin: '654321', confirm: '654321' })).toBe(false);
    expect(flow.state).toMatchObject({ step: 'identify', error: { code: 'ccid/card-absent' } });
    expect(flow.holdsPuk).toBe(false);
    await session.close();
  });
});
