/**
 * The components' flow logic (UnlockFlow, ChangePinFlow, performBinding) on a SmartCardSession
 * over the spec-shaped fake `navigator.smartCard` with the virtual HCA card: the same flows the
 * WebUSB tests run, through the Web Smart Card backend.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryCardChannel } from '../../card/memory.js';
import { HcaCard } from '../../hca/card.js';
import { HCA_PROFILE } from '../../hca/profile.js';
import { memoryPinTrialStore } from '../../hca/pin-guard.js';
import { CONFIRMED_PROFILE } from '../../../test/helpers/confirmed-profile.js';
import { createBindingChallenge, MemoryChallengeStore, verifyBinding } from '../../server/index.js';
import { createFakeSmartCard, type FakeSmartCard } from '../../virtual/smartcard-fake.js';
import { createVirtualHcaCard, type VirtualHcaCard } from '../../virtual/hca-card.js';
import { createTestPki } from '../../virtual/pki.js';
import { performBinding } from '../hca-bind-card/bind-flow.js';
import { ChangePinFlow } from '../hca-change-pin/change-pin-flow.js';
import type { CardConnector } from './flow-common.js';
import { UnlockFlow, type RequestPuk } from '../hca-unlock-card/unlock-flow.js';
import { PukServiceError } from '../../session/puk-service.js';
import type { SessionState } from '../../session/card-session.js';
import { SmartCardSession } from '../../session/smartcard-session.js';

const READER = 'Castles EZ100PU 00 00';
const CARD = '000012345678';
const USER_CODE = 'Demo1234';
const PUK = '12345678';
const ORIGIN = 'isolated-app://example';

beforeAll(async () => {
  await createTestPki();
}, 60_000);

const sessions: SmartCardSession[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
});

async function stack(cardOptions: Parameters<typeof createVirtualHcaCard>[0] = {}) {
  const card = await createVirtualHcaCard(cardOptions);
  const smartCard = createFakeSmartCard({ readers: [{ name: READER, card }] });
  const session = new SmartCardSession({ smartCard, pollIntervalMs: 10 });
  sessions.push(session);
  await session.start();
  return { card, smartCard, session };
}

async function until(session: SmartCardSession, predicate: (s: SessionState) => boolean): Promise<void> {
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

const requestPuk: RequestPuk = async (cardNumber, userCode) => {
  if (cardNumber === CARD && userCode === USER_CODE) return PUK;
  throw new PukServiceError('unlock/wrong-user-code', 'The card number and the user code do not match.', { status: 401, attemptsLeft: 4 });
};

/** A connector whose card is pulled out right after the `nth` connect() (the next APDU finds it gone). */
function pulledAfterConnect(session: SmartCardSession, smartCard: FakeSmartCard, nth: number): CardConnector {
  let connects = 0;
  return {
    connect: async () => {
      const held = await session.connect();
      if (++connects === nth) smartCard.removeCard(READER);
      return held;
    },
    release: () => session.release(),
  };
}

describe('UnlockFlow on SmartCardSession', () => {
  it('unlocks a locked card; the session ends free (card) and the card keeps no verified state', async () => {
    const { card, session } = await stack({ locked: true });
    const flow = new UnlockFlow({ connector: session, requestPuk });
    expect(await flow.submitIdentity({ cardNumber: CARD, userCode: USER_CODE })).toBe(true);
    expect(flow.state).toMatchObject({ step: 'new-pin', pinpad: false });
    expect(session.state.kind).toBe('card');
    expect(await flow.submitNewPin({ newPin: '654321', confirm: '654321' })).toBe(true);
    expect(flow.state.step).toBe('done');
    expect(session.state.kind).toBe('card');
    expect(card.pinTriesLeft).toBe(3);
    expect(card.isVerified(HCA_PROFILE.pin.reference.value)).toBe(false);
    expect(await pinWorks(card, '654321')).toBe(true);
  });

  it('a card number that is not the card in the reader: unlock/card-mismatch, no PUK spent', async () => {
    const { card, session } = await stack({ locked: true, cardNumber: '000011112222' });
    const flow = new UnlockFlow({ connector: session, requestPuk });
    expect(await flow.submitIdentity({ cardNumber: CARD, userCode: USER_CODE })).toBe(false);
    expect(flow.state.error?.code).toBe('unlock/card-mismatch');
    expect(card.pukTriesLeft).toBe(10);
  });

  it('the card removed between the steps: the flow restarts with ccid/card-absent', async () => {
    const { smartCard, session } = await stack({ locked: true });
    const flow = new UnlockFlow({ connector: session, requestPuk });
    await flow.submitIdentity({ cardNumber: CARD, userCode: USER_CODE });
    smartCard.removeCard(READER);
    await until(session, (s) => s.kind === 'no-card');
    expect(await flow.submitNewPin({ newPin: '654321', confirm: '654321' })).toBe(false);
    expect(flow.state).toMatchObject({ step: 'identify', error: { code: 'ccid/card-absent' } });
    expect(flow.holdsPuk).toBe(false);
  });

  it('the card pulled while the flow talks to it: smartcard/card-removed restarts the flow too', async () => {
    const { card, smartCard, session } = await stack({ locked: true });
    const flow = new UnlockFlow({ connector: pulledAfterConnect(session, smartCard, 2), requestPuk });
    expect(await flow.submitIdentity({ cardNumber: CARD, userCode: USER_CODE })).toBe(true);
    expect(await flow.submitNewPin({ newPin: '654321', confirm: '654321' })).toBe(false);
    expect(flow.state).toMatchObject({ step: 'identify', error: { code: 'smartcard/card-removed' } });
    expect(flow.holdsPuk).toBe(false);
    await until(session, (s) => s.kind === 'no-card');
    expect(card.pukTriesLeft).toBe(10);
  });
});

describe('ChangePinFlow on SmartCardSession', () => {
  it('inspects (on screen: no pinpad) and changes the PIN; the session ends free', async () => {
    const { card, session } = await stack();
    const flow = new ChangePinFlow({ connector: session });
    flow.setReaderPinpad(session.state.pinpad === true);
    await flow.inspect();
    expect(flow.state).toMatchObject({ pinpad: false, retriesLeft: 3 });
    expect(await flow.submit({ oldPin: '123456', newPin: '654321', confirm: '654321' })).toBe(true);
    expect(flow.state.step).toBe('done');
    expect(session.state.kind).toBe('card');
    expect(await pinWorks(card, '654321')).toBe(true);
  });

  it('a wrong PIN reports the tries left and stays on the step', async () => {
    const { card, session } = await stack();
    // The wrong-PIN mechanics, with the PIN format confirmed (see no-second-try.test.ts for the default profile).
    const flow = new ChangePinFlow({ connector: session, profile: CONFIRMED_PROFILE, pinTrials: memoryPinTrialStore() });
    expect(await flow.submit({ oldPin: '111111', newPin: '654321', confirm: '654321' })).toBe(false);
    expect(flow.state).toMatchObject({ step: 'enter', retriesLeft: 2, error: { code: 'apdu/pin-incorrect', retriesLeft: 2 } });
    expect(card.pinTriesLeft).toBe(2);
  });

  it('the card removed: the flow restarts with the session error', async () => {
    const { smartCard, session } = await stack();
    const flow = new ChangePinFlow({ connector: session });
    await flow.inspect();
    smartCard.removeCard(READER);
    await until(session, (s) => s.kind === 'no-card');
    expect(await flow.submit({ oldPin: '123456', newPin: '654321', confirm: '654321' })).toBe(false);
    expect(flow.state).toMatchObject({ step: 'enter', error: { code: 'ccid/card-absent' } });
  });
});

describe('performBinding on SmartCardSession', () => {
  it('signs a binding the server-side verifier accepts; release resets the card', async () => {
    const { card, session } = await stack();
    const store = new MemoryChallengeStore();
    const getChallenge = async () => {
      const c = await createBindingChallenge({ origin: ORIGIN, store });
      return { challenge: c.challenge, origin: c.origin };
    };
    const { channel, pinpad } = await session.connect();
    let outcome;
    try {
      outcome = await performBinding({ channel, cardType: 'personnel', pinpad, pin: new TextEncoder().encode('123456'), getChallenge });
      expect(card.isVerified(HCA_PROFILE.pin.reference.value)).toBe(true);
    } finally {
      await session.release();
    }
    expect(card.isVerified(HCA_PROFILE.pin.reference.value)).toBe(false);
    expect(outcome.payload.cardNumber).toBe(CARD);
    const result = await verifyBinding({
      response: outcome.response,
      store,
      expectedOrigin: ORIGIN,
      trustAnchors: card.pki.trustAnchors,
      intermediates: card.pki.intermediates,
    });
    expect(result).toMatchObject({ verified: true, cardType: 'personnel' });
    expect(session.state.kind).toBe('card');
  });

  it('the other card type is reported before any PIN is sent', async () => {
    const { card, session } = await stack({ kind: 'institution' });
    const { channel, pinpad } = await session.connect();
    try {
      await expect(
        performBinding({
          channel,
          cardType: 'personnel',
          pinpad,
          pin: new TextEncoder().encode('123456'),
          getChallenge: async () => ({ challenge: 'unused', origin: ORIGIN }),
        }),
      ).rejects.toMatchObject({ code: 'bind/wrong-card-type' });
    } finally {
      await session.release();
    }
    expect(card.pinTriesLeft).toBe(3);
  });
});
