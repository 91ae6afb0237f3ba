/**
 * The HCA card operations (webccid/hca) through the whole CCID stack: our driver, the virtual
 * CCID reader, the virtual HCA card (src/virtual/hca-card.ts). A TPDU-level T=1 reader
 * (castles-ezccid: our T=1 engine, chaining with IFSC 254) and an extended-APDU reader
 * (omnikey-3121), and the pinpad reader (gemplus-gempc-pinpad) with scripted keys.
 */
import { CONFIRMED_PROFILE } from './helpers/confirmed-profile.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toHex } from '../src/bytes.js';
import { ApduError, PinBlockedError, PinIncorrectError, SlotError } from '../src/errors.js';
import { HcaCard, HcaError, PukBlockedError, PukIncorrectError } from '../src/hca/index.js';
import { createVirtualHcaCard, type VirtualHcaCard, type VirtualHcaCardOptions } from '../src/virtual/hca-card.js';
import { createVirtualPinpad, type VirtualPinpad } from '../src/virtual/pinpad.js';
import type { VirtualReaderPresetName } from '../src/virtual/index.js';
import { openStack, type Stack } from './helpers/stack.js';
import { guardSecrets, type SecretGuard } from './helpers/secret-guard.js';

const PIN = '620394';
const NEW_PIN = '7719305';
const WRONG_PIN = '999000';
const PUK = '40518236';
const WRONG_PUK = '31415926';

let stacks: Stack[] = [];
let guard: SecretGuard;
beforeEach(() => {
  guard = guardSecrets([PIN, NEW_PIN, WRONG_PIN, PUK, WRONG_PUK]);
});
afterEach(async () => {
  for (const s of stacks) await s.reader.close();
  stacks = [];
  guard.restore();
  expect(guard.leaks()).toEqual([]);
});

async function open(preset: VirtualReaderPresetName, options: VirtualHcaCardOptions = {}, pinpad?: VirtualPinpad) {
  const card = await createVirtualHcaCard({ pin: PIN, puk: PUK, ...options });
  const stack = await openStack({ preset, card, ...(pinpad ? { onSecure: pinpad.onSecure } : {}) });
  stacks.push(stack);
  const connection = await stack.reader.connect(0);
  // ISO mechanics through the CCID stack: the virtual card implements the profile, its PIN format is known.
  const hca = await HcaCard.open(connection, { profile: CONFIRMED_PROFILE });
  return { card, connection, hca, stack };
}

async function fails<T extends Error>(promise: Promise<unknown>, cls: new (...args: never[]) => T): Promise<T> {
  const e = await guard.capture(() => promise);
  expect(e).toBeInstanceOf(cls);
  return e as T;
}

async function verifies(card: VirtualHcaCard, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  return crypto.subtle.verify('RSASSA-PKCS1-v1_5', card.holderKeys.publicKey, signature.slice(), data.slice());
}

const READERS: Array<{ preset: VirtualReaderPresetName; level: string }> = [
  { preset: 'castles-ezccid', level: 'tpdu' },
  { preset: 'omnikey-3121', level: 'extended-apdu' },
];

describe.each(READERS)('$level reader ($preset)', ({ preset, level }) => {
  it('reads card info, basic data, serial number and every certificate', async () => {
    const { hca, card, connection } = await open(preset, { certificatePadding: 300 });
    expect(connection.exchangeLevel).toBe(level);
    expect(hca.atrKnown).toBe(true);
    expect(await hca.readCardInfo()).toMatchObject({ cardNumber: card.cardNumber, printedNumber: `GH${card.cardNumber}` });
    expect(await hca.readBasicData()).toEqual({ name: '王大明', idNumber: 'A123456789', category: '醫師' });
    expect((await hca.readSerialNumber()).text).toBe('VHCA12345678');
    expect(toHex(await hca.readCertificate(0))).toBe(toHex(card.certificates.ca));
    expect(toHex(await hca.readCertificate(1))).toBe(toHex(card.certificates.signature.der));
    expect(toHex(await hca.readCertificate(2))).toBe(toHex(card.certificates.encryption!.der));
    expect(toHex(await hca.readCertificate(3))).toBe(toHex(card.certificates.root!));
  });

  it('version 1 card: certificates 2 and 3 absent', async () => {
    const { hca } = await open(preset, { version: 1 });
    expect((await fails(hca.readCertificate(2), HcaError)).code).toBe('hca/certificate-absent');
    expect((await fails(hca.readCertificate(3), HcaError)).code).toBe('hca/certificate-absent');
  });

  it('PIN status, verify, sign; the signature verifies with the holder key', async () => {
    const { hca, card } = await open(preset);
    expect(await hca.pinStatus()).toEqual({ retriesLeft: 3, verified: false, blocked: false });
    const message = new TextEncoder().encode('webccid-bind-v1\nhttps://example.test\nabc\n000012345678');
    expect((await fails(hca.sign(message), ApduError)).code).toBe('apdu/security-not-satisfied');
    await hca.verifyPin(PIN);
    const signature = await hca.sign(message);
    expect(signature.length).toBe(256);
    expect(await verifies(card, message, signature)).toBe(true);
  });

  it('three wrong PINs lock the card; a wrong PUK reports its retries; the right PUK resets the PIN', async () => {
    const { hca, card } = await open(preset);
    expect((await fails(hca.verifyPin(WRONG_PIN), PinIncorrectError)).retriesLeft).toBe(2);
    expect((await fails(hca.verifyPin(WRONG_PIN), PinIncorrectError)).retriesLeft).toBe(1);
    const blocked = await fails(hca.verifyPin(WRONG_PIN), PinBlockedError);
    expect(blocked.message).toMatch(/PUK/);
    expect((await hca.pinStatus()).blocked).toBe(true);
    await fails(hca.verifyPin(PIN), PinBlockedError);

    const wrong = await fails(hca.unblockPin(WRONG_PUK, NEW_PIN), PukIncorrectError);
    expect(wrong.retriesLeft).toBe(9);
    expect(card.pinTriesLeft).toBe(0);
    await hca.unblockPin(PUK, NEW_PIN);
    expect(await hca.pinStatus()).toEqual({ retriesLeft: 3, verified: false, blocked: false });
    await hca.verifyPin(NEW_PIN);
    await hca.changePin(NEW_PIN, PIN);
    await fails(hca.verifyPin(NEW_PIN), PinIncorrectError);
    await hca.verifyPin(PIN);
  });

  it('a blocked PUK is reported', async () => {
    const { hca } = await open(preset, { locked: true, pukBlocked: true });
    const e = await fails(hca.unblockPin(PUK, NEW_PIN), PukBlockedError);
    expect(e.code).toBe('hca/puk-blocked');
  });

  it('no pinpad on this reader: hca/no-pinpad', async () => {
    const { hca } = await open(preset);
    expect(hca.pinpad).toBeUndefined();
    expect((await fails(hca.verifyPinOnPinpad(), HcaError)).code).toBe('hca/no-pinpad');
  });
});

describe('pinpad reader (gemplus-gempc-pinpad)', () => {
  it('verify, change, unblock with the PUK, cancel and timeout, with scripted keys', async () => {
    const pinpad = createVirtualPinpad();
    const { hca, card } = await open('gemplus-gempc-pinpad', {}, pinpad);
    expect(hca.pinpad).toEqual({ verify: true, modify: true });

    pinpad.type(WRONG_PIN).enter();
    expect((await fails(hca.verifyPinOnPinpad(), PinIncorrectError)).retriesLeft).toBe(2);
    pinpad.type(PIN).enter();
    await hca.verifyPinOnPinpad();
    expect((await hca.pinStatus()).verified).toBe(true);

    pinpad.type(PIN).enter().type(NEW_PIN).enter().type(NEW_PIN).enter();
    await hca.changePinOnPinpad();
    await hca.verifyPin(NEW_PIN);

    pinpad.cancel();
    expect((await fails(hca.verifyPinOnPinpad(), SlotError)).code).toBe('ccid/pin-cancelled');
    pinpad.timeout();
    expect((await fails(hca.verifyPinOnPinpad({ timeoutSeconds: 5 }), SlotError)).code).toBe('ccid/pin-timeout');
    expect(card.pinTriesLeft).toBe(3);

    for (let i = 0; i < 3; i++) {
      pinpad.type(WRONG_PIN).enter();
      await guard.capture(() => hca.verifyPinOnPinpad());
    }
    expect((await hca.pinStatus()).blocked).toBe(true);
    pinpad.type(WRONG_PUK).enter().type(PIN).enter().type(PIN).enter();
    expect((await fails(hca.unblockPinOnPinpad(), PukIncorrectError)).retriesLeft).toBe(9);
    pinpad.type(PUK).enter().type(PIN).enter().type(PIN).enter();
    await hca.unblockPinOnPinpad();
    await hca.verifyPin(PIN);
    expect(pinpad.pending).toBe(0);
    // Prompts are recorded without digits.
    expect(JSON.stringify(pinpad.prompts)).not.toMatch(/\d{6}/);
  });
});
