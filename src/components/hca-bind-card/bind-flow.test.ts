import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createVirtualHcaCard,
  createVirtualPinpad,
  createVirtualReader,
  T0_CARD_ATR,
  VirtualCard,
  VirtualUsb,
  type VirtualHcaCard,
} from '../../virtual/index.js';
import { BINDING_FAILURE_CODES, createBindingChallenge, MemoryChallengeStore, verifyBinding } from '../../server/index.js';
import { UsbCardSession } from '../../session/card-session.js';
import { performBinding, summarizeCertificate, type BindCardType } from './bind-flow.js';
import { memoryPinTrialStore } from '../../hca/pin-guard.js';
import { CONFIRMED_PROFILE } from '../../../test/helpers/confirmed-profile.js';
import { requestBindChallenge, submitBinding } from './bind-api.js';
import { describeBindFailure } from './bind-messages.js';

const ORIGIN = 'https://portal.example.org';

function ascii(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

async function setUp(options: { card?: VirtualHcaCard | null; pinpad?: boolean; other?: boolean } = {}) {
  const card = options.card === undefined ? await createVirtualHcaCard() : options.card;
  const pinpad = createVirtualPinpad();
  const device = createVirtualReader({
    preset: 'castles-ezccid',
    card: options.other ? new VirtualCard({ atr: T0_CARD_ATR, label: 'not an HCA card' }) : card,
    pinpad: options.pinpad ?? false,
    onSecure: pinpad.onSecure,
  });
  const session = new UsbCardSession({ usb: new VirtualUsb({ devices: [device], granted: true }) });
  await session.start();
  const store = new MemoryChallengeStore();
  const getChallenge = async () => {
    const c = await createBindingChallenge({ origin: ORIGIN, store });
    return { challenge: c.challenge, origin: c.origin };
  };
  return { card, session, pinpad, store, getChallenge };
}

async function bindOnce(
  env: Awaited<ReturnType<typeof setUp>>,
  options: { cardType?: BindCardType; pin?: Uint8Array; pinpad?: boolean } = {},
) {
  const { channel, pinpad } = await env.session.connect();
  try {
    return await performBinding({
      channel,
      cardType: options.cardType ?? 'personnel',
      pinpad: options.pinpad ?? pinpad,
      pin: options.pin,
      getChallenge: env.getChallenge,
      pinTrials: memoryPinTrialStore(),
    });
  } finally {
    await env.session.release();
  }
}

describe('performBinding', () => {
  const sessions: UsbCardSession[] = [];
  afterEach(async () => {
    for (const s of sessions.splice(0)) await s.close();
  });

  it('signs a binding the server-side verifier accepts, and wipes the PIN buffer', async () => {
    const env = await setUp();
    sessions.push(env.session);
    const pin = ascii('123456');
    const stages: string[] = [];
    const { channel, pinpad } = await env.session.connect();
    const outcome = await performBinding({ channel, cardType: 'personnel', pinpad, pin, getChallenge: env.getChallenge, onStage: (s) => stages.push(s) });
    await env.session.release();
    expect([...pin]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(stages).toEqual(['reading', 'verifying-pin', 'challenge', 'signing']);
    expect(outcome.payload.cardNumber).toBe('000012345678');
    expect(outcome.summary).toMatchObject({ holderName: '王大明', cardType: 'personnel' });
    expect(outcome.summary.notAfter.getTime()).toBeGreaterThan(Date.now());
    const pki = env.card!.pki;
    const result = await verifyBinding({
      response: outcome.response,
      store: env.store,
      expectedOrigin: ORIGIN,
      trustAnchors: pki.trustAnchors,
      intermediates: pki.intermediates,
    });
    expect(result).toMatchObject({ verified: true, cardType: 'personnel' });
    expect(env.card!.signatureCount).toBe(1);
  });

  it('reports the other card type before any PIN is sent (no try spent)', async () => {
    const card = await createVirtualHcaCard({ kind: 'institution' });
    const env = await setUp({ card });
    sessions.push(env.session);
    const pin = ascii('123456');
    await expect(bindOnce(env, { cardType: 'personnel', pin })).rejects.toMatchObject({ code: 'bind/wrong-card-type' });
    expect(card.pinTriesLeft).toBe(3);
    expect([...pin].every((b) => b === 0)).toBe(true);
    const ok = await bindOnce(env, { cardType: 'institution', pin: ascii('123456') });
    expect(ok.summary).toMatchObject({ cardType: 'institution', holderName: '虛擬醫院' });
  });

  it('reports a wrong PIN with the tries left and never retries it', async () => {
    const env = await setUp();
    sessions.push(env.session);
    const challenge = vi.fn(env.getChallenge);
    const { channel, pinpad } = await env.session.connect();
    await expect(
      // The wrong-PIN mechanics, with the PIN format confirmed (see no-second-try.test.ts for the default profile).
      performBinding({ channel, cardType: 'personnel', pinpad, pin: ascii('654321'), getChallenge: challenge, profile: CONFIRMED_PROFILE, pinTrials: memoryPinTrialStore() }),
    ).rejects.toMatchObject({ code: 'apdu/pin-incorrect', retriesLeft: 2 });
    await env.session.release();
    expect(env.card!.pinTriesLeft).toBe(2);
    expect(challenge).not.toHaveBeenCalled();
  });

  it('refuses an expired certificate before the PIN is sent', async () => {
    const card = await createVirtualHcaCard({ expired: true });
    const env = await setUp({ card });
    sessions.push(env.session);
    await expect(bindOnce(env, { pin: ascii('123456') })).rejects.toMatchObject({ code: 'bind/certificate-expired' });
    expect(card.pinTriesLeft).toBe(3);
    expect(card.signatureCount).toBe(0);
  });

  it('reports a locked card as apdu/pin-blocked', async () => {
    const env = await setUp({ card: await createVirtualHcaCard({ locked: true }) });
    sessions.push(env.session);
    await expect(bindOnce(env, { pin: ascii('123456') })).rejects.toMatchObject({ code: 'apdu/pin-blocked' });
  });

  it('reports a card that is not an HCA card', async () => {
    const env = await setUp({ other: true });
    sessions.push(env.session);
    await expect(bindOnce(env, { pin: ascii('123456') })).rejects.toMatchObject({ code: 'hca/not-hca-card' });
  });

  it('binds a version 1 card (certificates 0 and 1 only)', async () => {
    const env = await setUp({ card: await createVirtualHcaCard({ version: 1 }) });
    sessions.push(env.session);
    const outcome = await bindOnce(env, { pin: ascii('123456') });
    expect(outcome.summary.cardType).toBe('personnel');
  });

  it('lets the user key the PIN on a pinpad reader', async () => {
    const env = await setUp({ pinpad: true });
    sessions.push(env.session);
    env.pinpad.type('123456').enter();
    const outcome = await bindOnce(env);
    expect(outcome.payload.signature.length).toBeGreaterThan(300);
    expect(env.pinpad.prompts.map((p) => p.operation)).toEqual(['verify']);
  });

  it('passes a pinpad cancel through as ccid/pin-cancelled', async () => {
    const env = await setUp({ pinpad: true });
    sessions.push(env.session);
    env.pinpad.cancel();
    await expect(bindOnce(env)).rejects.toMatchObject({ code: 'ccid/pin-cancelled' });
  });

  it('needs a PIN without a pinpad', async () => {
    const env = await setUp();
    sessions.push(env.session);
    await expect(bindOnce(env, { pinpad: false })).rejects.toMatchObject({ code: 'hca/bad-pin-format' });
    expect(env.card!.pinTriesLeft).toBe(3);
  });
});

describe('summarizeCertificate', () => {
  it('reads holder, card type, validity and serial number; rejects non-DER as hca/bad-file', async () => {
    const card = await createVirtualHcaCard({ kind: 'institution', cardNumber: '000099998888' });
    const s = await summarizeCertificate(card.certificates.signature.der);
    expect(s.cardType).toBe('institution');
    expect(s.holderName).toBe('虛擬醫院');
    expect(s.serialNumber).toContain('000099998888');
    await expect(summarizeCertificate(Uint8Array.of(1, 2, 3))).rejects.toMatchObject({ code: 'hca/bad-file' });
    expect((await summarizeCertificate(card.certificates.ca)).cardType).toBeUndefined();
  });
});

describe('bind-api', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  function stubFetch(status: number, body: unknown) {
    const fetchMock = vi.fn(async (_url: string, _init?: RequestInit) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } }));
    vi.stubGlobal('fetch', fetchMock);
    return fetchMock;
  }

  const payload = { certificate: 'AAAA', signature: 'BBBB', cardNumber: '000012345678', challenge: 'c'.repeat(43), origin: ORIGIN };

  it.each([
    [200, { challenge: 'x'.repeat(43), origin: ORIGIN }, { challenge: 'x'.repeat(43), origin: ORIGIN }],
  ])('challenge %s', async (status, body, expected) => {
    const f = stubFetch(status, body);
    await expect(requestBindChallenge('/api/')).resolves.toEqual(expected);
    expect(f.mock.calls[0]?.[0]).toBe('/api/bind/challenge');
  });

  it.each([
    [403, { error: 'origin-not-allowed' }, 'bind/origin-not-allowed'],
    [500, { error: 'internal-error' }, 'bind/challenge-failed'],
    [502, 'not json', 'bind/challenge-failed'],
  ])('challenge failure %s -> %s', async (status, body, code) => {
    stubFetch(status, body);
    await expect(requestBindChallenge()).rejects.toMatchObject({ code });
  });

  it('a network failure is bind/network', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))));
    await expect(requestBindChallenge()).rejects.toMatchObject({ code: 'bind/network' });
    await expect(submitBinding('/api', payload)).rejects.toMatchObject({ code: 'bind/network' });
  });

  it.each([
    [200, { verified: true, binding: { account: 'a', holderName: 'X' } }, { verified: true, binding: { account: 'a', holderName: 'X' } }],
    [200, { verified: true }, { verified: true }],
    [200, { verified: true, bindToken: 'tok', card: { holderName: 'X' } }, { verified: true, bindToken: 'tok' }],
    [422, { verified: false, error: 'untrusted-chain' }, { verified: false, code: 'untrusted-chain', status: 422 }],
    [409, { error: 'already-bound' }, { verified: false, code: 'already-bound', status: 409 }],
    [500, {}, { verified: false, code: 'http-500', status: 500 }],
  ])('verify %s', async (status, body, expected) => {
    const f = stubFetch(status, body);
    await expect(submitBinding('/api', payload)).resolves.toEqual(expected);
    const init = f.mock.calls[0]?.[1] ?? {};
    // No account: 驗證 binds nothing (the page commits the token with the account).
    expect(JSON.parse(String(init.body))).toEqual({ response: payload });
  });
});

describe('describeBindFailure', () => {
  it.each([...BINDING_FAILURE_CODES, 'already-bound', 'origin-not-allowed', 'network', 'challenge-failed', 'no-account', 'unknown-card-type', 'http-500'])(
    'bind/%s has a title and a detail',
    (code) => {
      const m = describeBindFailure(`bind/${code}`, { selected: 'personnel' });
      expect(m?.title).toBeTruthy();
      expect(m?.detail).toBeTruthy();
    },
  );

  it('names both card types for a wrong selection', () => {
    expect(describeBindFailure('bind/wrong-card-type', { selected: 'personnel' })?.detail).toMatch(/醫事人員卡.*醫事機構卡/);
    expect(describeBindFailure('bind/wrong-card-type', { selected: 'institution' })?.detail).toMatch(/醫事機構卡.*醫事人員卡/);
  });

  it('leaves the shared codes to describeError', () => {
    expect(describeBindFailure('apdu/pin-incorrect', { selected: 'personnel' })).toBeUndefined();
  });
});
