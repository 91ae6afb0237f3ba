/**
 * Readers a plain page can use (docs/design.md §2): the Castles EZ100PU (not
 * CCID-compliant: no class descriptor, big-endian dwLength, a 0x00 before the
 * ATR) and a vendor-class (0xFF) CCID reader (SCM SCR3310-NTTCom), each
 * through every HCA card flow: our driver, its quirk table, the virtual reader
 * playing the reader, the virtual HCA card.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readU32LE, toHex } from '../src/bytes.js';
import { CcidError, PinBlockedError, PinIncorrectError } from '../src/errors.js';
import { HcaCard, PukIncorrectError } from '../src/hca/index.js';
import { EZ100PU_STARTUP_COMMAND } from '../src/ccid/quirks.js';
import { CcidReader } from '../src/ccid/reader.js';
import { createVirtualHcaCard, type VirtualHcaCard } from '../src/virtual/hca-card.js';
import { createVirtualReader, HCA_ATR, VirtualUsb } from '../src/virtual/index.js';
import { openStack, type Stack } from './helpers/stack.js';
import { guardSecrets, type SecretGuard } from './helpers/secret-guard.js';
import { CONFIRMED_PROFILE } from './helpers/confirmed-profile.js';

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

type Preset = 'castles-ez100pu' | 'scm-scr3310-nttcom';

async function open(preset: Preset) {
  const card = await createVirtualHcaCard({ pin: PIN, puk: PUK, certificatePadding: 300 });
  const stack = await openStack({ preset, card });
  stacks.push(stack);
  const connection = await stack.reader.connect(0);
  // The ISO PIN mechanics through each reader: the virtual card implements the profile, its PIN format is known.
  const hca = await HcaCard.open(connection, { profile: CONFIRMED_PROFILE });
  return { card, connection, hca, stack };
}

async function fails<T extends Error>(promise: Promise<unknown>, cls: new (...args: never[]) => T): Promise<T> {
  const e = await guard.capture(() => promise);
  expect(e).toBeInstanceOf(cls);
  return e as T;
}

function verifies(card: VirtualHcaCard, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  return crypto.subtle.verify('RSASSA-PKCS1-v1_5', card.holderKeys.publicKey, signature.slice(), data.slice());
}

describe.each<{ preset: Preset; interfaceClass: number }>([
  { preset: 'castles-ez100pu', interfaceClass: 0xff },
  { preset: 'scm-scr3310-nttcom', interfaceClass: 0xff },
])('$preset: every HCA flow through the CCID stack', ({ preset, interfaceClass }) => {
  it('opens on its vendor-class interface at TPDU level and reads the card number and every certificate', async () => {
    const { hca, card, connection, stack } = await open(preset);
    expect(stack.reader.identity.interfaceClass).toBe(interfaceClass);
    expect(connection.exchangeLevel).toBe('tpdu');
    expect(connection.protocol).toBe('t1');
    expect(toHex(connection.atr.bytes)).toBe(toHex(HCA_ATR));
    expect(await hca.readCardNumber()).toBe(card.cardNumber);
    expect(toHex(await hca.readCertificate(0))).toBe(toHex(card.certificates.ca));
    expect(toHex(await hca.readCertificate(1))).toBe(toHex(card.certificates.signature.der));
    expect(toHex(await hca.readCertificate(2))).toBe(toHex(card.certificates.encryption!.der));
    expect(toHex(await hca.readCertificate(3))).toBe(toHex(card.certificates.root!));
  });

  it('verify, sign (the signature verifies), change the PIN', async () => {
    const { hca, card } = await open(preset);
    await hca.verifyPin(PIN);
    const message = new TextEncoder().encode('webccid-bind-v1\nhttps://example.test\nabc\n000012345678');
    const signature = await hca.sign(message);
    expect(await verifies(card, message, signature)).toBe(true);
    await hca.changePin(PIN, NEW_PIN);
    expect((await fails(hca.verifyPin(PIN), PinIncorrectError)).retriesLeft).toBe(2);
    await hca.verifyPin(NEW_PIN);
  });

  it('blocks after three wrong PINs and unblocks with the PUK', async () => {
    const { hca } = await open(preset);
    await fails(hca.verifyPin(WRONG_PIN), PinIncorrectError);
    await fails(hca.verifyPin(WRONG_PIN), PinIncorrectError);
    await fails(hca.verifyPin(WRONG_PIN), PinBlockedError);
    expect((await fails(hca.unblockPin(WRONG_PUK, NEW_PIN), PukIncorrectError)).retriesLeft).toBe(9);
    await hca.unblockPin(PUK, NEW_PIN);
    await hca.verifyPin(NEW_PIN);
    expect((await hca.pinStatus()).verified).toBe(true);
  });
});

describe('castles-ez100pu on the wire', () => {
  it('uses the built-in EZCCID descriptor, big-endian dwLength both ways, and drops the 0x00 before the ATR', async () => {
    const card = await createVirtualHcaCard({ pin: PIN, puk: PUK });
    const device = createVirtualReader({ preset: 'castles-ez100pu', card });
    const received: Uint8Array[] = [];
    const sent: Uint8Array[] = [];
    const reader = await CcidReader.open(device, {
      trace: (direction, frame) => (direction === 'in' ? received : sent).push(frame.slice()),
    });
    try {
      expect(reader.quirks.bigEndianLength).toBe(true);
      expect(reader.descriptor.exchangeLevel).toBe('tpdu');
      expect(reader.descriptor.dwDefaultClock).toBe(3580);
      expect(reader.descriptor.dwMaxDataRate).toBe(115200);
      const connection = await reader.connect(0);
      expect(connection.atr.bytes[0]).toBe(0x3b);
      // On the wire: a 10-byte GetSlotStatus/PowerOn has dwLength 0; an XfrBlock with data shows the order.
      const xfr = sent.find((f) => f[0] === 0x6f && f.length > 10)!;
      expect((xfr[1]! << 24) | (xfr[2]! << 16) | (xfr[3]! << 8) | xfr[4]!).toBe(xfr.length - 10);
      const on = received.find((f) => f[0] === 0x80 && f[10] === 0x00)!;
      expect(on[11]).toBe(0x3b);
      expect(readU32LE(on, 1)).not.toBe(on.length - 10);
      expect(on[4]).toBe(on.length - 10);
      // The driver asked for no clock / rate tables (bNum* = 0 in the built-in descriptor).
      expect(reader.dataRates).toBeUndefined();
    } finally {
      await reader.close();
    }
  });

  it('without the quirk table the EZ100PU is not a CCID reader to us', async () => {
    const device = createVirtualReader({ preset: 'castles-ez100pu', card: await createVirtualHcaCard({ pin: PIN, puk: PUK }) });
    const e = await CcidReader.open(device, { quirks: false }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CcidError);
    expect((e as CcidError).code).toBe('ccid/no-interface');
  });

  it('the assumed start-up command (off by default) is sent first when asked for, and the flows still work', async () => {
    const card = await createVirtualHcaCard({ pin: PIN, puk: PUK });
    const device = createVirtualReader({ preset: 'castles-ez100pu', card });
    const usb = new VirtualUsb({ devices: [device] });
    const before = device.stats.commands;
    const reader = await CcidReader.open(device, { backend: usb, quirks: { startupCommand: EZ100PU_STARTUP_COMMAND } });
    try {
      expect(device.stats.commands).toBe(before + 1);
      const hca = await HcaCard.open(await reader.connect(0));
      expect(await hca.readCardNumber()).toBe(card.cardNumber);
    } finally {
      await reader.close();
    }
  });

  it('an unknown 0x60 message on a compliant reader is refused the CCID way, not hung on', async () => {
    const device = createVirtualReader({ preset: 'castles-ezccid', card: await createVirtualHcaCard({ pin: PIN, puk: PUK }) });
    const reader = await CcidReader.open(device, { quirks: { startupCommand: EZ100PU_STARTUP_COMMAND, startupTimeoutMs: 200 } });
    try {
      const hca = await HcaCard.open(await reader.connect(0));
      expect((await hca.readCardNumber()).length).toBeGreaterThan(0);
    } finally {
      await reader.close();
    }
  });
});
