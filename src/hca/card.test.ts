/**
 * HcaCard against the virtual HCA card (src/virtual/hca-card.ts) through the in-memory channel.
 * The same operations through the CCID stack are in test/hca.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bytesEqual, concatBytes, toHex } from '../bytes.js';
import { AbortError, ApduError, PinBlockedError, PinIncorrectError, SlotError, WebCcidError } from '../errors.js';
import type { CardChannel, SecurePinModifyRequest, SecurePinVerifyRequest } from '../card/channel.js';
import { MemoryCardChannel } from '../card/memory.js';
import { VirtualCard } from '../virtual/card.js';
import { createVirtualHcaCard, type VirtualHcaCard, type VirtualHcaCardOptions } from '../virtual/hca-card.js';
import { guardSecrets, type SecretGuard } from '../../test/helpers/secret-guard.js';
import { CONFIRMED_PROFILE } from '../../test/helpers/confirmed-profile.js';
import { HcaCard } from './card.js';
import { checkProfile } from './check-profile.js';
import { HcaError, PukBlockedError, PukIncorrectError } from './errors.js';
import { encodePinBlock } from './format.js';
import { HCA_PROFILE, type HcaProfile } from './profile.js';

// Test secrets: distinctive so that a leak cannot be a coincidence.
const PIN = '493817';
const NEW_PIN = '55081942';
const WRONG_PIN = '000111';
const PUK = '72615348';
const WRONG_PUK = '11122233';
const SECRETS = [PIN, NEW_PIN, WRONG_PIN, PUK, WRONG_PUK];

let guard: SecretGuard;
beforeEach(() => {
  guard = guardSecrets(SECRETS);
});
afterEach(() => {
  guard.restore();
  expect(guard.leaks()).toEqual([]);
});

/** A channel that records the exact buffers it is given (to check they are wiped). */
class RecordingChannel implements CardChannel {
  readonly sent: Uint8Array[] = [];
  readonly copies: Uint8Array[] = [];
  constructor(private readonly inner: MemoryCardChannel) {}
  get atr() {
    return this.inner.atr;
  }
  get protocol() {
    return this.inner.protocol;
  }
  transmit(apdu: Uint8Array, options?: { signal?: AbortSignal }): Promise<Uint8Array> {
    this.sent.push(apdu);
    this.copies.push(apdu.slice());
    return this.inner.transmit(apdu, options);
  }
}

async function setUp(options: VirtualHcaCardOptions = {}) {
  const card = await createVirtualHcaCard({ pin: PIN, puk: PUK, ...options });
  const channel = new RecordingChannel(new MemoryCardChannel(card));
  // The PIN mechanics run with the PIN format confirmed (the virtual card implements the profile).
  const hca = await HcaCard.open(channel, { profile: options.profile ?? CONFIRMED_PROFILE });
  return { card, channel, hca };
}

async function expectError<T extends Error>(promise: Promise<unknown>, cls: new (...args: never[]) => T): Promise<T> {
  const e = await guard.capture(() => promise);
  expect(e).toBeInstanceOf(cls);
  return e as T;
}

function profileWith(edit: (p: HcaProfile) => void): HcaProfile {
  const p = structuredClone(CONFIRMED_PROFILE);
  edit(p);
  return p;
}

async function verifySignature(card: VirtualHcaCard, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  return crypto.subtle.verify({ name: 'RSASSA-PKCS1-v1_5' }, card.holderKeys.publicKey, signature.slice(), data.slice());
}

describe('open', () => {
  it('selects the HCA application; the HCA ATR is known', async () => {
    const { hca, channel } = await setUp();
    expect(hca.atrKnown).toBe(true);
    expect(hca.profile).toBe(CONFIRMED_PROFILE);
    expect(toHex(channel.sent[0]!)).toBe('00 A4 04 0C 08 D1 58 00 00 01 48 43 41');
  });

  it('a card with another ATR but the application opens (atrKnown false)', async () => {
    const { hca } = await setUp({ ifsc: 0x20 });
    expect(hca.atrKnown).toBe(false);
  });

  it('a card without the application: hca/not-hca-card, with the card answer as cause', async () => {
    const other = new VirtualCard({ atr: Uint8Array.of(0x3b, 0x00) });
    const e = await expectError(HcaCard.open(new MemoryCardChannel(other)), HcaError);
    expect(e.code).toBe('hca/not-hca-card');
    expect(e.message).toMatch(/not an HCA card/);
    expect((e.cause as ApduError).sw).toBe(0x6a82);
  });

  it('an HCA ATR without the application: hca/not-hca-card saying the AID may be wrong', async () => {
    const card = await createVirtualHcaCard();
    const profile = profileWith((p) => (p.aid.value = 'D1 58 00 00 01 99 99 99'));
    const e = await expectError(HcaCard.open(new MemoryCardChannel(card), { profile }), HcaError);
    expect(e.code).toBe('hca/not-hca-card');
    expect(e.message).toMatch(/AID/);
  });

  it('a bad profile: hca/bad-profile naming the field, nothing sent', async () => {
    const card = await createVirtualHcaCard();
    const cases: Array<[(p: HcaProfile) => void, RegExp]> = [
      [(p) => (p.aid.value = 'zz'), /aid/],
      [(p) => (p.aid.value = '01 02'), /aid/],
      [(p) => (p.files.cardInfo.value.fid = 0x10000), /cardInfo/],
      [(p) => (p.pin.reference.value = 256), /pin.reference/],
      [(p) => (p.pin.minLength.value = 9), /minLength/],
      [(p) => (p.pin.encoding.value.blockLength = 4), /pin.encoding/],
      [(p) => (p.puk.encoding.value = { encoding: 'bcd', blockLength: 3, padByte: 0xff }), /puk.encoding/],
      [(p) => ((p.unblock.value as { method: string }).method = 'magic'), /unblock/],
      [(p) => ((p.signing.method as { value: string }).value = 'magic'), /signing.method/],
      [(p) => ((p.signing.hash as { value: string }).value = 'MD5'), /signing.hash/],
      [(p) => (p.signing.keyBits.value = 2047), /keyBits/],
      [(p) => (p.atrs.value = [{ hex: 'nothex', description: '' }]), /atrs/],
    ];
    for (const [edit, field] of cases) {
      const e = await expectError(HcaCard.open(new MemoryCardChannel(card), { profile: profileWith(edit) }), HcaError);
      expect(e.code).toBe('hca/bad-profile');
      expect(e.message).toMatch(field);
    }
    expect(card.apduCount).toBe(0);
    expect(checkProfile(HCA_PROFILE).aid.length).toBe(8);
  });

  it('an aborted signal: AbortError', async () => {
    const card = await createVirtualHcaCard();
    const c = new AbortController();
    c.abort();
    await expectError(HcaCard.open(new MemoryCardChannel(card), { signal: c.signal }), AbortError);
  });
});

describe('reading without a PIN', () => {
  it('card info, card number, basic data, serial number', async () => {
    const { hca, card } = await setUp();
    const info = await hca.readCardInfo();
    expect(info.cardNumber).toBe(card.cardNumber);
    expect(info.printedNumber).toBe(`GH${card.cardNumber}`);
    expect(info.validFrom).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(info.validTo > info.validFrom).toBe(true);
    expect(await hca.readCardNumber()).toBe('000012345678');
    expect(await hca.readBasicData()).toEqual({ name: '王大明', idNumber: 'A123456789', category: '醫師' });
    const serial = await hca.readSerialNumber();
    expect(serial.text).toBe('VHCA12345678');
    expect(serial.hex).toBe(toHex(new TextEncoder().encode('VHCA12345678'), ''));
    // Back in the application after the MF file: the next read re-selects it.
    expect((await hca.readBasicData()).idNumber).toBe('A123456789');
  });

  it('institution card', async () => {
    const { hca } = await setUp({ kind: 'institution', cardNumber: '987654321098' });
    expect(await hca.readCardNumber()).toBe('987654321098');
    expect((await hca.readBasicData()).category).toBe('醫事機構');
  });

  it('certificates 0..3 are the DER the card holds, length from the DER header', async () => {
    const { hca, card } = await setUp();
    expect(toHex(await hca.readCertificate(0))).toBe(toHex(card.certificates.ca));
    expect(toHex(await hca.readCertificate(1))).toBe(toHex(card.certificates.signature.der));
    expect(toHex(await hca.readCertificate(2))).toBe(toHex(card.certificates.encryption!.der));
    expect(toHex(await hca.readCertificate(3))).toBe(toHex(card.certificates.root!));
  });

  it('files larger than the certificate (FF padding): exactly the DER is returned', async () => {
    const { hca, card } = await setUp({ certificatePadding: 700 });
    const der = await hca.readCertificate(1);
    expect(der.length).toBe(card.certificates.signature.der.length);
    expect(bytesEqual(der, card.certificates.signature.der)).toBe(true);
  });

  it('version 1 card: certificates 2 and 3 are hca/certificate-absent', async () => {
    const { hca } = await setUp({ version: 1 });
    expect((await hca.readCertificate(1)).length).toBeGreaterThan(500);
    for (const i of [2, 3] as const) {
      const e = await expectError(hca.readCertificate(i), HcaError);
      expect(e.code).toBe('hca/certificate-absent');
      expect(e.message).toMatch(/version 1/);
    }
  });

  it('bad certificate index: hca/bad-argument', async () => {
    const { hca } = await setUp();
    for (const i of [4, -1, 1.5]) {
      const e = await expectError(hca.readCertificate(i as 0), HcaError);
      expect(e.code).toBe('hca/bad-argument');
    }
  });

  it('a profile with other FIDs and AID works with a matching card, no code change', async () => {
    const profile = profileWith((p) => {
      p.aid.value = 'A0 00 00 01 23 45 67';
      p.files.cardInfo.value.fid = 0x1001;
      p.files.basicData.value.fid = 0x1002;
      p.files.certificates.value = [0x2001, 0x2002, 0x2003, 0x2004];
      p.files.serialNumber.value.fid = 0x2f03;
    });
    const { hca, card, channel } = await setUp({ profile });
    expect(toHex(channel.sent[0]!)).toBe('00 A4 04 0C 07 A0 00 00 01 23 45 67');
    expect(await hca.readCardNumber()).toBe(card.cardNumber);
    expect(toHex(await hca.readCertificate(1))).toBe(toHex(card.certificates.signature.der));
    expect((await hca.readSerialNumber()).text).toMatch(/^VHCA/);
  });
});

describe('PIN', () => {
  it('pinStatus reads the counter without spending a try', async () => {
    const { hca, card } = await setUp();
    expect(await hca.pinStatus()).toEqual({ retriesLeft: 3, verified: false, blocked: false });
    expect(await hca.pinStatus()).toEqual({ retriesLeft: 3, verified: false, blocked: false });
    expect(card.pinTriesLeft).toBe(3);
    await hca.verifyPin(PIN);
    expect(await hca.pinStatus()).toEqual({ retriesLeft: 3, verified: true, blocked: false });
  });

  it('verifyPin sends the profile PIN block (ASCII, FF padded to 8) and wipes every buffer', async () => {
    const { hca, channel } = await setUp();
    const before = channel.sent.length;
    const pinBytes = new TextEncoder().encode(PIN);
    await hca.verifyPin(pinBytes);
    expect(new TextDecoder().decode(pinBytes)).toBe(PIN); // the caller's buffer is the caller's
    const copy = channel.copies[before]!;
    expect(toHex(copy.subarray(0, 5))).toBe('00 20 00 81 08');
    expect(toHex(copy.subarray(5))).toBe(toHex(encodePinBlock(pinBytes, HCA_PROFILE.pin.encoding.value)));
    expect(channel.sent[before]!.every((b) => b === 0)).toBe(true);
  });

  it('three wrong PINs lock the card; retries are reported, never retried', async () => {
    const { hca, card, channel } = await setUp();
    const sentBefore = channel.sent.length;
    const e1 = await expectError(hca.verifyPin(WRONG_PIN), PinIncorrectError);
    expect(e1.retriesLeft).toBe(2);
    expect(channel.sent.length).toBe(sentBefore + 1);
    const e2 = await expectError(hca.verifyPin(WRONG_PIN), PinIncorrectError);
    expect(e2.retriesLeft).toBe(1);
    const e3 = await expectError(hca.verifyPin(WRONG_PIN), PinBlockedError);
    expect(e3.code).toBe('apdu/pin-blocked');
    expect(e3.message).toMatch(/PUK/);
    expect(card.pinTriesLeft).toBe(0);
    expect(await hca.pinStatus()).toEqual({ retriesLeft: 0, verified: false, blocked: true });
    const e4 = await expectError(hca.verifyPin(PIN), PinBlockedError);
    expect(e4.message).toMatch(/the card with its PUK/);
    for (const s of channel.sent.slice(sentBefore)) expect(s.every((b) => b === 0) || s[1] !== 0x20 || s.length === 4).toBe(true);
  });

  it('a right PIN after a wrong one resets the counter', async () => {
    const { hca } = await setUp();
    await expectError(hca.verifyPin(WRONG_PIN), PinIncorrectError);
    await hca.verifyPin(PIN);
    expect((await hca.pinStatus()).retriesLeft).toBe(3);
  });

  it('format errors are thrown before anything is sent (hca/bad-pin-format)', async () => {
    const { hca, card } = await setUp();
    const count = card.apduCount;
    for (const bad of ['12345', '123456789', '12-456', '12 456', '12345é', '', new Uint8Array([1, 2, 3, 4, 5, 6])]) {
      const e = await expectError(hca.verifyPin(bad), HcaError);
      expect(e.code).toBe('hca/bad-pin-format');
    }
    expect((await expectError(hca.changePin(PIN, '12'), HcaError)).code).toBe('hca/bad-pin-format');
    expect((await expectError(hca.changePin('12', NEW_PIN), HcaError)).code).toBe('hca/bad-pin-format');
    expect((await expectError(hca.unblockPin('1234567', NEW_PIN), HcaError)).code).toBe('hca/bad-puk-format');
    expect((await expectError(hca.unblockPin(PUK, '1234567890'), HcaError)).code).toBe('hca/bad-pin-format');
    expect(card.apduCount).toBe(count);
    expect(card.pinTriesLeft).toBe(3);
  });

  it('a PIN of letters and digits (pinRule) is sent as ASCII and works; a BCD profile takes digits only', async () => {
    const { hca, card } = await setUp({ pin: 'Ab12cD' });
    await hca.verifyPin('Ab12cD');
    expect(card.isVerified(HCA_PROFILE.pin.reference.value)).toBe(true);
    const bcd = profileWith((p) => {
      p.pin.encoding.value = { encoding: 'bcd', blockLength: 8, padByte: 0xff };
    });
    const other = await setUp({ profile: bcd });
    expect((await expectError(other.hca.verifyPin('Ab12cD'), HcaError)).message).toContain('digits (0-9)');
  });

  it('letters: the default profile takes a PIN of 6 to 8 letters and digits (case-sensitive)', async () => {
    const { hca, card } = await setUp();
    await hca.changePin(PIN, 'Ab12cD');
    await expect(hca.verifyPin('ab12cd')).rejects.toMatchObject({ code: 'apdu/pin-incorrect', retriesLeft: 2 });
    await hca.verifyPin('Ab12cD');
    expect(card.pinTriesLeft).toBe(3);
  });

  it('a digits-only profile refuses letters before the card sees them', async () => {
    const profile = profileWith((p) => {
      p.pinRule = { ...p.pinRule, charset: 'digits', pattern: '^[0-9]{6,8}$' };
    });
    const { hca, card } = await setUp({ profile });
    const count = card.apduCount;
    expect((await expectError(hca.verifyPin('12a456'), HcaError)).code).toBe('hca/bad-pin-format');
    expect(card.apduCount).toBe(count);
  });

  it('property: any PIN that is not 6-8 letters or digits is refused before the card sees it', async () => {
    const { hca, card } = await setUp();
    const count = card.apduCount;
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 12 }).filter((s) => !/^[0-9A-Za-z]{6,8}$/.test(s)),
        async (bad) => {
          const e = await guard.capture(() => hca.verifyPin(bad));
          expect((e as HcaError).code).toBe('hca/bad-pin-format');
        },
      ),
    );
    expect(card.apduCount).toBe(count);
    expect(card.pinTriesLeft).toBe(3);
  });

  it('changePin: old PIN checked, new PIN works afterwards, buffers wiped', async () => {
    const { hca, card, channel } = await setUp();
    const before = channel.sent.length;
    await hca.changePin(PIN, NEW_PIN);
    const cmd = channel.copies[before]!;
    expect(toHex(cmd.subarray(0, 5))).toBe('00 24 00 81 10');
    expect(channel.sent[before]!.every((b) => b === 0)).toBe(true);
    card.reset();
    const fresh = await HcaCard.open(new MemoryCardChannel(card), { profile: CONFIRMED_PROFILE });
    await expectError(fresh.verifyPin(PIN), PinIncorrectError);
    await fresh.verifyPin(NEW_PIN);
  });

  it('changePin with a wrong old PIN: PinIncorrectError, PIN unchanged', async () => {
    const { hca } = await setUp();
    const e = await expectError(hca.changePin(WRONG_PIN, NEW_PIN), PinIncorrectError);
    expect(e.retriesLeft).toBe(2);
    await hca.verifyPin(PIN);
  });

  it('changePin on a locked card: PinBlockedError', async () => {
    const { hca } = await setUp({ locked: true });
    await expectError(hca.changePin(PIN, NEW_PIN), PinBlockedError);
  });
});

describe('unblock with the PUK', () => {
  it('a wrong PUK reports the PUK retries left; the right one resets the PIN', async () => {
    const { hca, card, channel } = await setUp({ locked: true });
    expect((await hca.pinStatus()).blocked).toBe(true);
    const e = await expectError(hca.unblockPin(WRONG_PUK, NEW_PIN), PukIncorrectError);
    expect(e.code).toBe('hca/puk-incorrect');
    expect(e.retriesLeft).toBe(9);
    expect(e).toBeInstanceOf(ApduError);
    expect(card.pinTriesLeft).toBe(0);
    const before = channel.sent.length;
    await hca.unblockPin(PUK, NEW_PIN);
    expect(toHex(channel.copies[before]!.subarray(0, 5))).toBe('00 2C 00 81 10');
    expect(channel.sent[before]!.every((b) => b === 0)).toBe(true);
    expect(card.pukTriesLeft).toBe(10);
    expect(await hca.pinStatus()).toEqual({ retriesLeft: 3, verified: false, blocked: false });
    await expectError(hca.verifyPin(PIN), PinIncorrectError);
    await hca.verifyPin(NEW_PIN);
  });

  it('a blocked PUK: PukBlockedError', async () => {
    const { hca } = await setUp({ locked: true, pukBlocked: true });
    const e = await expectError(hca.unblockPin(PUK, NEW_PIN), PukBlockedError);
    expect(e.code).toBe('hca/puk-blocked');
    expect(e.sw).toBe(0x6983);
  });

  it('the last PUK try blocks it', async () => {
    const { hca } = await setUp({ locked: true, pukTriesLeft: 1 });
    await expectError(hca.unblockPin(WRONG_PUK, NEW_PIN), PukBlockedError);
    await expectError(hca.unblockPin(PUK, NEW_PIN), PukBlockedError);
  });

  it("profile method 'verify-puk-then-reset': VERIFY PUK, then 2C P1 02", async () => {
    const profile = profileWith((p) => (p.unblock.value = { method: 'verify-puk-then-reset' }));
    const { hca, channel } = await setUp({ profile, locked: true });
    const e = await expectError(hca.unblockPin(WRONG_PUK, NEW_PIN), PukIncorrectError);
    expect(e.retriesLeft).toBe(9);
    const before = channel.sent.length;
    await hca.unblockPin(PUK, NEW_PIN);
    expect(channel.copies.slice(before).map((c) => toHex(c.subarray(0, 5)))).toEqual(['00 20 00 82 08', '00 2C 02 81 08']);
    expect(channel.sent.slice(before).every((s) => s.every((b) => b === 0))).toBe(true);
    await hca.verifyPin(NEW_PIN);
  });

  it('BCD PIN encoding in the profile and a matching card: no code change', async () => {
    const profile = profileWith((p) => {
      p.pin.encoding.value = { encoding: 'bcd', blockLength: 8, padByte: 0xff };
      p.puk.encoding.value = { encoding: 'bcd', blockLength: 4, padByte: 0xff };
    });
    const { hca, channel } = await setUp({ profile, locked: true });
    await hca.unblockPin(PUK, NEW_PIN);
    await hca.verifyPin(NEW_PIN);
    expect(toHex(channel.copies.at(-1)!)).toBe('00 20 00 81 08 55 08 19 42 FF FF FF FF');
  });
});

describe('sign', () => {
  const message = new TextEncoder().encode('webccid-bind-v1\nhttps://example.test\nchallenge\n000012345678');

  it('needs a verified PIN (apdu/security-not-satisfied)', async () => {
    const { hca } = await setUp();
    const e = await expectError(hca.sign(message), ApduError);
    expect(e.code).toBe('apdu/security-not-satisfied');
    expect(e.message).toMatch(/verify the PIN/);
  });

  it('PSO: MSE SET then PSO CDS; the signature verifies with the holder key', async () => {
    const { hca, card, channel } = await setUp();
    await hca.verifyPin(PIN);
    const before = channel.sent.length;
    const signature = await hca.sign(message);
    expect(signature.length).toBe(256);
    expect(await verifySignature(card, message, signature)).toBe(true);
    expect(channel.copies.slice(before).map((c) => toHex(c.subarray(0, 4)))).toEqual(['00 22 41 B6', '00 2A 9E 9A']);
    expect(toHex(channel.copies[before]!)).toBe('00 22 41 B6 06 84 01 01 80 01 02');
  });

  it('the signature verifies against the public key of certificate 1 read from the card', async () => {
    const { hca } = await setUp();
    const { loadX509 } = await import('../x509.js');
    const x509 = await loadX509();
    const cert = new x509.X509Certificate((await hca.readCertificate(1)).slice());
    const key = await cert.publicKey.export({ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, ['verify']);
    await hca.verifyPin(PIN);
    const signature = await hca.sign(message);
    expect(await crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, signature.slice(), message.slice())).toBe(true);
  });

  it('{ digest: true } signs a hash computed by the caller', async () => {
    const { hca, card } = await setUp();
    await hca.verifyPin(PIN);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', message.slice()));
    const signature = await hca.sign(digest, { digest: true });
    expect(await verifySignature(card, message, signature)).toBe(true);
    const e = await expectError(hca.sign(digest.subarray(0, 20), { digest: true }), HcaError);
    expect(e.code).toBe('hca/bad-argument');
  });

  it("profile method 'internal-authenticate'", async () => {
    const profile = profileWith((p) => (p.signing.method.value = 'internal-authenticate'));
    const { hca, card, channel } = await setUp({ profile });
    await hca.verifyPin(PIN);
    const before = channel.sent.length;
    const signature = await hca.sign(message);
    expect(await verifySignature(card, message, signature)).toBe(true);
    expect(channel.copies.slice(before).map((c) => toHex(c.subarray(0, 4)))).toEqual(['00 88 00 01']);
  });

  it('a card answering a short signature: hca/bad-response', async () => {
    const card = await createVirtualHcaCard({ pin: PIN });
    const short: MemoryCardChannel = new MemoryCardChannel({
      atr: card.atr,
      transmit: (apdu) => (apdu[1] === 0x2a ? Uint8Array.of(1, 2, 3, 0x90, 0x00) : card.transmit(apdu)),
    });
    const hca = await HcaCard.open(short);
    await hca.verifyPin(PIN);
    const e = await expectError(hca.sign(message), HcaError);
    expect(e.code).toBe('hca/bad-response');
  });

  it('non-bytes data: hca/bad-argument', async () => {
    const { hca } = await setUp();
    const e = await expectError(hca.sign('text' as unknown as Uint8Array), HcaError);
    expect(e.code).toBe('hca/bad-argument');
  });
});

/** A scripted pinpad on top of the memory channel: builds the APDU from the request the way a reader does. */
class ScriptedPinpadChannel extends RecordingChannel {
  readonly pinpad = { verify: true, modify: true };
  readonly requests: Array<SecurePinVerifyRequest | SecurePinModifyRequest> = [];
  keys: string[] = [];
  outcome: 'ok' | 'cancel' = 'ok';

  private block(digits: string, format: SecurePinVerifyRequest['format']): Uint8Array {
    return encodePinBlock(new TextEncoder().encode(digits), format);
  }

  verifyPinSecure(request: SecurePinVerifyRequest, options?: { signal?: AbortSignal }): Promise<Uint8Array> {
    this.requests.push(request);
    if (this.outcome === 'cancel') return Promise.reject(new SlotError('ccid/pin-cancelled', 'PIN entry cancelled on the reader.', 0x40, 0xef));
    const block = this.block(this.keys.shift()!, request.format);
    return this.transmit(concatBytes(request.header, Uint8Array.of(block.length), block), options);
  }

  modifyPinSecure(request: SecurePinModifyRequest, options?: { signal?: AbortSignal }): Promise<Uint8Array> {
    this.requests.push(request);
    const old = this.block(this.keys.shift()!, request.oldFormat);
    const next = this.block(this.keys.shift()!, request.newFormat);
    const data = concatBytes(old, next);
    return this.transmit(concatBytes(request.header, Uint8Array.of(data.length), data), options);
  }
}

describe('pinpad variants', () => {
  async function pinpadSetUp(options: VirtualHcaCardOptions = {}) {
    const card = await createVirtualHcaCard({ pin: PIN, puk: PUK, ...options });
    const channel = new ScriptedPinpadChannel(new MemoryCardChannel(card));
    // The PIN mechanics run with the PIN format confirmed (the virtual card implements the profile).
    const hca = await HcaCard.open(channel, { profile: options.profile ?? CONFIRMED_PROFILE });
    return { card, channel, hca };
  }

  it('verify: the request is built from the profile', async () => {
    const { hca, channel } = await pinpadSetUp();
    expect(hca.pinpad).toEqual({ verify: true, modify: true });
    channel.keys = [PIN];
    await hca.verifyPinOnPinpad({ timeoutSeconds: 20 });
    expect(channel.requests[0]).toEqual({
      header: Uint8Array.of(0x00, 0x20, 0x00, 0x81),
      format: { encoding: 'ascii', minLength: 6, maxLength: 8, blockLength: 8, padByte: 0xff },
      timeoutSeconds: 20,
    });
    expect((await hca.pinStatus()).verified).toBe(true);
  });

  it('verify: wrong PIN -> PinIncorrectError; cancel passes the SlotError through', async () => {
    const { hca, channel } = await pinpadSetUp();
    channel.keys = [WRONG_PIN];
    expect((await expectError(hca.verifyPinOnPinpad(), PinIncorrectError)).retriesLeft).toBe(2);
    channel.outcome = 'cancel';
    expect((await expectError(hca.verifyPinOnPinpad(), SlotError)).code).toBe('ccid/pin-cancelled');
  });

  it('change: old and new PIN formats, confirmation on the reader', async () => {
    const { hca, channel } = await pinpadSetUp();
    channel.keys = [PIN, NEW_PIN];
    await hca.changePinOnPinpad();
    const r = channel.requests[0] as SecurePinModifyRequest;
    expect(toHex(r.header)).toBe('00 24 00 81');
    expect(r.confirm).toBe(true);
    expect(r.oldFormat).toEqual(r.newFormat);
    await hca.verifyPin(NEW_PIN);
  });

  it('unblock: modify with the PUK as old value; wrong PUK -> PukIncorrectError', async () => {
    const { hca, channel } = await pinpadSetUp({ locked: true });
    channel.keys = [WRONG_PUK, NEW_PIN];
    expect((await expectError(hca.unblockPinOnPinpad(), PukIncorrectError)).retriesLeft).toBe(9);
    channel.keys = [PUK, NEW_PIN];
    await hca.unblockPinOnPinpad();
    const r = channel.requests[1] as SecurePinModifyRequest;
    expect(toHex(r.header)).toBe('00 2C 00 81');
    expect(r.oldFormat).toEqual({ encoding: 'ascii', minLength: 8, maxLength: 8, blockLength: 8, padByte: 0xff });
    expect(r.newFormat.minLength).toBe(6);
    await hca.verifyPin(NEW_PIN);
  });

  it("unblock with 'verify-puk-then-reset': two verifications", async () => {
    const profile = profileWith((p) => (p.unblock.value = { method: 'verify-puk-then-reset' }));
    const { hca, channel } = await pinpadSetUp({ profile, locked: true });
    channel.keys = [PUK, NEW_PIN];
    await hca.unblockPinOnPinpad();
    expect(channel.requests.map((r) => toHex(r.header))).toEqual(['00 20 00 82', '00 2C 02 81']);
    await hca.verifyPin(NEW_PIN);
  });

  it('no pinpad: hca/no-pinpad, nothing sent', async () => {
    const { hca, card } = await setUp();
    expect(hca.pinpad).toBeUndefined();
    const count = card.apduCount;
    for (const op of [() => hca.verifyPinOnPinpad(), () => hca.changePinOnPinpad(), () => hca.unblockPinOnPinpad()]) {
      expect((await expectError(op(), HcaError)).code).toBe('hca/no-pinpad');
    }
    expect(card.apduCount).toBe(count);
  });
});

describe('secrets', () => {
  it('the guard itself catches a leak (sanity)', () => {
    const g = guardSecrets([PIN]);
    g.record(new WebCcidError('x/y', `oops ${PIN}`));
    console.warn('pin', new TextEncoder().encode(PIN));
    expect(g.leaks().length).toBeGreaterThanOrEqual(2);
    g.restore();
  });
});
