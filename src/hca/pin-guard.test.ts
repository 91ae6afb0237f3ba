/**
 * "Never spend a try on a guess" (src/hca/pin-guard.ts) and the choice among candidate profiles,
 * through the public API (`HcaCard`) against virtual HCA cards that behave like each candidate:
 * the ISO 7816-4 default (whose PIN format is assumed) and the GPKI sibling (class 0x80, DF 5030,
 * a plain VERIFY refused and costing a try). Every test counts the PIN-carrying commands that
 * reach the card (INS 20 / 24 / 2C with data, and pinpad operations).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PinBlockedError, PinIncorrectError } from '../errors.js';
import { MemoryCardChannel } from '../card/memory.js';
import { createVirtualHcaCard, type VirtualHcaCardOptions } from '../virtual/hca-card.js';
import { VirtualCard } from '../virtual/card.js';
import { guardSecrets, type SecretGuard } from '../../test/helpers/secret-guard.js';
import { PinCountingChannel } from '../../test/helpers/pin-counter.js';
import { CONFIRMED_PROFILE } from '../../test/helpers/confirmed-profile.js';
import { HcaCard } from './card.js';
import { HcaError, ProfileUnconfirmedError, PukIncorrectError } from './errors.js';
import { memoryPinTrialStore, pinFormatStatus, sessionPinTrialStore } from './pin-guard.js';
import { HCA_GPKI_SIBLING_PROFILE, HCA_PROFILE, HCA_PROFILE_CANDIDATES, type HcaProfile } from './profile.js';

const PIN = '493817';
const WRONG_PIN = '000111';
const NEW_PIN = '55081942';
const PUK = '72615348';
const WRONG_PUK = '11122233';

let guard: SecretGuard;
beforeEach(() => {
  guard = guardSecrets([PIN, WRONG_PIN, NEW_PIN, PUK, WRONG_PUK]);
});
afterEach(() => {
  guard.restore();
  expect(guard.leaks()).toEqual([]);
});

async function setUp(options: VirtualHcaCardOptions & { pinpad?: boolean; openProfile?: HcaProfile } = {}) {
  const { pinpad, openProfile, ...cardOptions } = options;
  const card = await createVirtualHcaCard({ pin: PIN, puk: PUK, ...cardOptions });
  const channel = new PinCountingChannel(new MemoryCardChannel(card), { pinpad: pinpad ?? false });
  const store = memoryPinTrialStore();
  const open = () => HcaCard.open(channel, { pinTrials: store, ...(openProfile ? { profile: openProfile } : {}) });
  return { card, channel, store, open, hca: await open() };
}

async function unconfirmed(promise: Promise<unknown>): Promise<ProfileUnconfirmedError> {
  const e = await guard.capture(() => promise);
  expect(e).toBeInstanceOf(ProfileUnconfirmedError);
  expect((e as ProfileUnconfirmedError).code).toBe('hca/profile-unconfirmed');
  return e as ProfileUnconfirmedError;
}

describe('profile selection by harmless commands', () => {
  it('the candidates: the ISO default first, then the GPKI sibling', () => {
    expect(HCA_PROFILE_CANDIDATES.map((p) => p.id)).toEqual([HCA_PROFILE.id, HCA_GPKI_SIBLING_PROFILE.id]);
  });

  it('an ISO card: the default profile, decided by one SELECT of the AID in class 00', async () => {
    const { hca, channel } = await setUp();
    expect(hca.profile).toBe(HCA_PROFILE);
    expect(hca.selection).toEqual({
      profileId: HCA_PROFILE.id,
      given: false,
      tried: [{ profileId: HCA_PROFILE.id, command: '00 A4 04 0C 08 D1 58 00 00 01 48 43 41', sw: 0x9000 }],
    });
    expect(channel.instructions).toEqual([0xa4]);
  });

  it('a card behaving like the GPKI sibling: class 00 refused (6E00), 80 A4 of DF 5030 accepted; files read in class 80', async () => {
    const { hca, card } = await setUp({ behaviour: 'gpki-sibling' });
    expect(hca.profile).toBe(HCA_GPKI_SIBLING_PROFILE);
    expect(hca.selection.tried).toEqual([
      { profileId: HCA_PROFILE.id, command: '00 A4 04 0C 08 D1 58 00 00 01 48 43 41', sw: 0x6e00 },
      { profileId: HCA_GPKI_SIBLING_PROFILE.id, command: '80 A4 00 0C 02 50 30', sw: 0x9000 },
    ]);
    // What needs no PIN reads the same way.
    expect((await hca.readCardInfo()).cardNumber).toBe(card.cardNumber);
    expect((await hca.readCertificate(1)).length).toBe(card.certificates.signature.der.length);
  });

  it('the ISO card refuses the proprietary class: the sibling profile cannot open it', async () => {
    const card = await createVirtualHcaCard({ pin: PIN, puk: PUK });
    const e = await guard.capture(() => HcaCard.open(new MemoryCardChannel(card), { profile: HCA_GPKI_SIBLING_PROFILE }));
    expect((e as HcaError).code).toBe('hca/not-hca-card');
  });

  it('a card with neither: hca/not-hca-card, the cause is the answer to the first candidate', async () => {
    const other = new VirtualCard({ atr: Uint8Array.of(0x3b, 0x02, 0x14, 0x50), label: 'other' });
    const e = await guard.capture(() => HcaCard.open(new MemoryCardChannel(other)));
    expect((e as HcaError).code).toBe('hca/not-hca-card');
    expect((e as HcaError).cause).toMatchObject({ sw: 0x6a82 });
  });

  it('a given profile is used as is (no choice)', async () => {
    const { hca } = await setUp({ openProfile: CONFIRMED_PROFILE });
    expect(hca.profile).toBe(CONFIRMED_PROFILE);
    expect(hca.selection.given).toBe(true);
  });
});

describe('the GPKI sibling: its PIN encoding needs vendor keys, so no PIN is ever sent', () => {
  it('pinFormatStatus says not implementable', () => {
    expect(pinFormatStatus(HCA_GPKI_SIBLING_PROFILE, 'verify')).toMatchObject({ implementable: false, confirmed: false });
    expect(pinFormatStatus(HCA_GPKI_SIBLING_PROFILE, 'verify').assumed).toContain('pin.protection');
  });

  it.each([
    ['verifyPin', (h: HcaCard) => h.verifyPin(PIN)],
    ['changePin', (h: HcaCard) => h.changePin(PIN, NEW_PIN)],
    ['unblockPin', (h: HcaCard) => h.unblockPin(PUK, NEW_PIN)],
    ['verifyPinOnPinpad', (h: HcaCard) => h.verifyPinOnPinpad()],
    ['changePinOnPinpad', (h: HcaCard) => h.changePinOnPinpad()],
    ['unblockPinOnPinpad', (h: HcaCard) => h.unblockPinOnPinpad()],
  ])('%s: hca/profile-unconfirmed (not-implementable); nothing carrying a PIN reaches the card', async (_name, run) => {
    const { hca, channel, card } = await setUp({ behaviour: 'gpki-sibling', pinpad: true });
    channel.keys = [PIN, NEW_PIN, PUK];
    const sent = channel.instructions.length;
    const e = await unconfirmed(run(hca));
    expect(e.reason).toBe('not-implementable');
    expect(e.profileId).toBe(HCA_GPKI_SIBLING_PROFILE.id);
    expect(channel.pinCommands).toBe(0);
    expect(channel.instructions.length).toBe(sent); // not even a status check
    expect(card.pinTriesLeft).toBe(3);
  });

  it('the virtual sibling does charge a try for a plain VERIFY (so the guard matters)', async () => {
    const card = await createVirtualHcaCard({ behaviour: 'gpki-sibling', pin: PIN, puk: PUK });
    const hca = await HcaCard.open(new MemoryCardChannel(card), { profile: { ...CONFIRMED_PROFILE, commandClass: HCA_GPKI_SIBLING_PROFILE.commandClass, application: HCA_GPKI_SIBLING_PROFILE.application } });
    const e = await guard.capture(() => hca.verifyPin(PIN));
    expect(e).toBeInstanceOf(PinIncorrectError);
    expect(card.pinTriesLeft).toBe(2);
  });
});

describe('an assumed PIN format (HCA_PROFILE on the ISO card): never a second try on a guess', () => {
  it('the default profile is assumed for every PIN operation', () => {
    for (const op of ['verify', 'change', 'unblock'] as const) {
      const s = pinFormatStatus(HCA_PROFILE, op);
      expect(s).toMatchObject({ confirmed: false, implementable: true });
      expect(s.assumed).toEqual(expect.arrayContaining(['pin.reference', 'pin.encoding']));
    }
    expect(pinFormatStatus(CONFIRMED_PROFILE, 'unblock')).toEqual({ confirmed: true, implementable: true, assumed: [] });
  });

  it('before the first PIN: the counter is read for free (VERIFY without data), then the PIN is sent once', async () => {
    const { hca, channel } = await setUp();
    await hca.verifyPin(PIN);
    // SELECT, card info (SELECT EF + READ BINARY) as the memory key, empty VERIFY, VERIFY.
    expect(channel.instructions.slice(1)).toEqual([0xa4, 0xb0, 0x20, 0x20]);
    expect(channel.pinCommands).toBe(1);
  });

  it('a refused PIN: hca/profile-unconfirmed with the tries left; a second PIN (even the right one) is never sent', async () => {
    const { hca, channel, card, open } = await setUp();
    const first = await unconfirmed(hca.verifyPin(WRONG_PIN));
    expect(first.reason).toBe('refused');
    expect(first.retriesLeft).toBe(2);
    expect(first.sw).toBe(0x63c2);
    expect(first.cause).toBeInstanceOf(PinIncorrectError);
    expect(first.message).toContain('may have been right');
    expect(channel.pinCommands).toBe(1);

    const second = await unconfirmed(hca.verifyPin(PIN));
    expect(second.reason).toBe('earlier-refusal');
    expect(second.retriesLeft).toBe(2); // read again for free
    for (const attempt of [() => hca.changePin(PIN, NEW_PIN), async () => (await open()).verifyPin(PIN)]) {
      expect((await unconfirmed(attempt())).reason).toBe('earlier-refusal');
    }
    expect(channel.pinCommands).toBe(1);
    expect(card.pinTriesLeft).toBe(2);
  });

  it('the same on the pinpad: one PC_to_RDR_Secure, never a second', async () => {
    const { hca, channel, card } = await setUp({ pinpad: true });
    channel.keys = [WRONG_PIN, PIN, PIN, NEW_PIN];
    expect((await unconfirmed(hca.verifyPinOnPinpad())).retriesLeft).toBe(2);
    expect((await unconfirmed(hca.verifyPinOnPinpad())).reason).toBe('earlier-refusal');
    expect((await unconfirmed(hca.changePinOnPinpad())).reason).toBe('earlier-refusal');
    expect(channel.secureOperations).toBe(1);
    expect(channel.pinCommands).toBe(1);
    expect(card.pinTriesLeft).toBe(2);
  });

  it('unblock: a refused PUK stops every later unblock', async () => {
    const { hca, channel, card } = await setUp({ locked: true });
    const e = await unconfirmed(hca.unblockPin(WRONG_PUK, NEW_PIN));
    expect(e.reason).toBe('refused');
    expect(e.operation).toBe('unblock');
    expect(e.cause).toBeInstanceOf(PukIncorrectError);
    expect(e.retriesLeft).toBe(9);
    expect((await unconfirmed(hca.unblockPin(PUK, NEW_PIN))).reason).toBe('earlier-refusal');
    expect(channel.pinCommands).toBe(1);
    expect(card.pukTriesLeft).toBe(9);
    expect(card.pinTriesLeft).toBe(0);
  });

  it('an answer the profile does not expect to the free status check: stop before any PIN (status-unexpected)', async () => {
    // The card's PIN reference is 81; a profile assuming 01 gets 6A88 to the empty VERIFY.
    const profile = structuredClone(HCA_PROFILE);
    profile.pin.reference.value = 0x01;
    const { hca, channel, card } = await setUp({ openProfile: profile });
    const e = await unconfirmed(hca.verifyPin(PIN));
    expect(e.reason).toBe('status-unexpected');
    expect(e.sw).toBe(0x6a88);
    expect(channel.pinCommands).toBe(0);
    expect(card.pinTriesLeft).toBe(3);
  });

  it('a refusal that is not a counter answer (6700: our block length is wrong): the counter is read for free and shown', async () => {
    const profile = structuredClone(HCA_PROFILE);
    profile.pin.encoding.value = { encoding: 'ascii', blockLength: 10, padByte: 0xff };
    const { hca, channel } = await setUp({ openProfile: profile });
    const e = await unconfirmed(hca.verifyPin(PIN));
    expect(e.reason).toBe('refused');
    expect(e.sw).toBe(0x6700);
    expect(e.retriesLeft).toBe(3);
    expect((await unconfirmed(hca.verifyPin(PIN))).reason).toBe('earlier-refusal');
    expect(channel.pinCommands).toBe(1);
  });

  it('a blocked card: PinBlockedError from the free check, no PIN sent', async () => {
    const { hca, channel } = await setUp({ locked: true });
    expect(await guard.capture(() => hca.verifyPin(PIN))).toBeInstanceOf(PinBlockedError);
    expect(channel.pinCommands).toBe(0);
  });

  it('a PIN the card accepted shows the format works: later wrong PINs are ordinary wrong PINs', async () => {
    const { hca, channel, card } = await setUp();
    await hca.verifyPin(PIN);
    const e = await guard.capture(() => hca.verifyPin(WRONG_PIN));
    expect(e).toBeInstanceOf(PinIncorrectError);
    await hca.verifyPin(PIN);
    expect(channel.pinCommands).toBe(3);
    expect(card.pinTriesLeft).toBe(3);
  });

  it('a confirmed profile: no status check, no card-info read, no memory: wrong then right PIN as usual', async () => {
    const { hca, channel } = await setUp({ openProfile: CONFIRMED_PROFILE });
    await guard.capture(() => hca.verifyPin(WRONG_PIN));
    await hca.verifyPin(PIN);
    expect(channel.instructions).toEqual([0xa4, 0x20, 0x20]);
  });

  it('the memory is per card object by default; a shared store spans card objects', async () => {
    const card = await createVirtualHcaCard({ pin: PIN, puk: PUK });
    const channel = new PinCountingChannel(new MemoryCardChannel(card));
    await unconfirmed((await HcaCard.open(channel)).verifyPin(WRONG_PIN));
    // A new card object without a shared store does not know: it would send (documented).
    await (await HcaCard.open(channel)).verifyPin(PIN);
    expect(channel.pinCommands).toBe(2);
  });
});

describe('sessionPinTrialStore', () => {
  /** A minimal Storage, as a browser tab's sessionStorage. */
  function fakeStorage(): Storage {
    const m = new Map<string, string>();
    return {
      get length() {
        return m.size;
      },
      clear: () => m.clear(),
      getItem: (k) => m.get(k) ?? null,
      key: (i) => [...m.keys()][i] ?? null,
      removeItem: (k) => void m.delete(k),
      setItem: (k, v) => void m.set(k, String(v)),
    };
  }

  it('keeps a refusal across page reloads of the tab (a new store over the same sessionStorage)', async () => {
    const storage = fakeStorage();
    const g = globalThis as { sessionStorage?: Storage };
    const saved = g.sessionStorage;
    g.sessionStorage = storage;
    try {
      const card = await createVirtualHcaCard({ pin: PIN, puk: PUK });
      const channel = new PinCountingChannel(new MemoryCardChannel(card));
      await unconfirmed((await HcaCard.open(channel, { pinTrials: sessionPinTrialStore() })).verifyPin(WRONG_PIN));
      // "Reload": a new store object, a new card object.
      const e = await unconfirmed((await HcaCard.open(channel, { pinTrials: sessionPinTrialStore() })).verifyPin(PIN));
      expect(e.reason).toBe('earlier-refusal');
      expect(channel.pinCommands).toBe(1);
      // What is stored: no PIN, only the outcome.
      const stored = [...Array(storage.length).keys()].map((i) => storage.getItem(storage.key(i)!)).join('\n');
      expect(stored).toContain('"outcome":"refused"');
      expect(stored).not.toContain(WRONG_PIN);
    } finally {
      if (saved === undefined) delete g.sessionStorage;
      else g.sessionStorage = saved;
    }
  });
});
