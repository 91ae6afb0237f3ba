/**
 * The web app's virtual hardware (web/app/demo-env.ts): each demo-panel situation gives the card
 * and reader it promises, as the card session (what the components use) sees them.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DemoEnvironment, DEMO_STATES } from '../../web/app/demo-env.js';
import { UsbCardSession, type SessionState } from '../../src/session/index.js';
import { HCA_PROFILE } from '../../src/hca/profile.js';
import { HcaCard } from '../../src/hca/card.js';

async function until(session: UsbCardSession, predicate: (s: SessionState) => boolean, ms = 5000): Promise<SessionState> {
  if (predicate(session.state)) return session.state;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`state stayed ${session.state.kind}`));
    }, ms);
    const off = session.on('statechange', (event) => {
      if (!predicate(event.detail.state)) return;
      clearTimeout(timer);
      off();
      resolve(event.detail.state);
    });
  });
}

async function open(state: (typeof DEMO_STATES)[number]) {
  const env = new DemoEnvironment('http://127.0.0.1:9/api');
  await env.setState(state);
  const session = new UsbCardSession({ usb: env.usb });
  await session.start();
  return { env, session };
}

describe('DemoEnvironment', () => {
  const sessions: UsbCardSession[] = [];
  afterEach(async () => {
    for (const s of sessions.splice(0)) await s.close();
    vi.unstubAllGlobals();
  });

  it.each([
    ['normal', { blocked: false, retriesLeft: 3 }],
    ['locked', { blocked: true, retriesLeft: 0 }],
    ['puk-blocked', { blocked: true, retriesLeft: 0 }],
    ['wrong-puk', { blocked: true, retriesLeft: 0 }],
    ['version1', { blocked: false, retriesLeft: 3 }],
  ] as const)('%s: the card answers PIN status %j', async (state, status) => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{}', { status: 404 })));
    const { env, session } = await open(state);
    sessions.push(session);
    expect((await until(session, (s) => s.kind === 'card')).pinpad).toBe(false);
    const { channel } = await session.connect();
    const card = await HcaCard.open(channel);
    expect(await card.pinStatus()).toMatchObject(status);
    if (state === 'version1') await expect(card.readCertificate(3)).rejects.toMatchObject({ code: 'hca/certificate-absent' });
    await session.release();
    if (state === 'puk-blocked') expect(env.hcaCard?.pukTriesLeft).toBe(0);
  });

  it('not-hca: a card without the HCA application', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{}', { status: 404 })));
    const { env, session } = await open('not-hca');
    sessions.push(session);
    await until(session, (s) => s.kind === 'card');
    expect(env.hcaCard).toBeUndefined();
    const { channel } = await session.connect();
    await expect(HcaCard.open(channel)).rejects.toMatchObject({ code: 'hca/not-hca-card' });
    await session.release();
  });

  it('pinpad: swaps in a pinpad reader; the keypad prompt is answered from the panel', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{}', { status: 404 })));
    const { env, session } = await open('normal');
    sessions.push(session);
    await until(session, (s) => s.kind === 'card');
    await env.setState('pinpad');
    expect((await until(session, (s) => s.kind === 'card' && s.pinpad === true)).readerName).toMatch(/Pinpad/i);
    const { channel } = await session.connect();
    const card = await HcaCard.open(channel);
    const verified = card.verifyPinOnPinpad();
    await vi.waitFor(() => expect(env.keypadPrompt?.step).toBe('current'));
    env.answerKeypad({ digits: '123456' });
    await verified;
    expect(env.keypadPrompt).toBeUndefined();
    await session.release();
  });

  it('remove / insert the card and unplug / plug the reader', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{}', { status: 404 })));
    const { env, session } = await open('normal');
    sessions.push(session);
    await until(session, (s) => s.kind === 'card');
    env.removeCard();
    await until(session, (s) => s.kind === 'no-card');
    env.insertCard();
    await until(session, (s) => s.kind === 'card');
    env.unplug();
    await until(session, (s) => s.kind === 'no-reader');
    env.plug();
    await until(session, (s) => s.kind === 'card');
    expect([env.cardInserted, env.readerPlugged]).toEqual([true, true]);
  });

  it('carries the tries counters over (a locked card stays locked on the next page)', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{}', { status: 404 })));
    const env = new DemoEnvironment('http://127.0.0.1:9/api');
    await env.setState('normal', { state: 'normal', pin: '123456', puk: '12345678', pinTriesLeft: 0, pukTriesLeft: 7 });
    expect(env.cardMemory()).toMatchObject({ pinTriesLeft: 0, pukTriesLeft: 7 });
    expect(env.cardStatus).toMatchObject({ lock: 'pin-blocked', defaultPin: true });
  });

  it('carries the card over whole: a PIN set by an unlock is the PIN on the next page, the old one is wrong', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{}', { status: 404 })));
    const first = await open('locked');
    sessions.push(first.session);
    await until(first.session, (s) => s.kind === 'card');
    const held = await first.session.connect();
    await (await HcaCard.open(held.channel)).unblockPin('12345678', '246810');
    await first.session.release();
    const memory = first.env.cardMemory();
    expect(memory).toMatchObject({ state: 'locked', pinTriesLeft: 3 });
    expect(first.env.cardStatus).toMatchObject({ lock: 'usable', defaultPin: false });
    // The next page: a new environment made from that memory.
    const env = new DemoEnvironment('http://127.0.0.1:9/api');
    await env.setState(memory!.state, memory);
    const session = new UsbCardSession({ usb: env.usb });
    sessions.push(session);
    await session.start();
    await until(session, (s) => s.kind === 'card');
    const { channel } = await session.connect();
    // The demo's profile: the virtual card's, PIN format confirmed (a wrong PIN is a wrong PIN).
    const card = await HcaCard.open(channel, { profile: env.profile! });
    await expect(card.verifyPin('123456')).rejects.toMatchObject({ code: 'apdu/pin-incorrect', retriesLeft: 2 });
    await card.verifyPin('246810');
    await session.release();
    expect(env.cardStatus).toMatchObject({ lock: 'usable', pinTriesLeft: 3, defaultPin: false });
  });

  it("gives the components the virtual card's profile, PIN format confirmed; '?profile=assumed' and HCA_PROFILE stay assumed", () => {
    const env = new DemoEnvironment('http://127.0.0.1:9/api');
    const p = env.profile!;
    for (const f of [p.pin.reference, p.pin.encoding, p.pin.protection, p.puk.reference, p.puk.encoding, p.puk.protection, p.unblock]) {
      expect(f.status).toBe('confirmed');
      expect(f.source).toMatch(/virtual card implements this profile/);
    }
    // The same values as the default profile; only the provenance differs.
    expect(p.pin.encoding.value).toEqual(HCA_PROFILE.pin.encoding.value);
    expect(p.pinRule).toEqual(HCA_PROFILE.pinRule);
    expect(HCA_PROFILE.pin.encoding.status).toBe('assumed');
    expect(new DemoEnvironment('http://127.0.0.1:9/api', { profile: 'assumed' }).profile).toBeUndefined();
  });

  it('registers the test PKI root with the demo server once', async () => {
    const fetchMock = vi.fn(async (_url: string, _init?: RequestInit) => new Response('{"added":2}', { status: 200 }));
    vi.stubGlobal('fetch', fetchMock);
    const env = new DemoEnvironment('/api');
    await env.setState('normal');
    await env.setState('institution');
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(fetchMock.mock.calls[0]?.[0]).toBe('/api/demo/trust-anchors');
    const body = JSON.parse(String(fetchMock.mock.calls[0]?.[1]?.body)) as { certificates: string[] };
    expect(body.certificates).toHaveLength(2);
  });
});
