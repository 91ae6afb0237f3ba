import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { toHex, writeU32LE } from '../bytes.js';
import { isWebCcidError } from '../errors.js';
import { loadReaderFixture, loadSupportedReaders } from '../../test/helpers/reader-fixture.js';
import { encodeCcidClassDescriptor, parseCcidClassDescriptor } from './descriptor.js';
import { encodeCommand } from './messages.js';
import { encodeResponse } from './messages-device.js';
import { parseConfigurationDescriptor } from '../usb/config-descriptor.js';
import { encodeConfigurationDescriptor } from '../usb/config-descriptor-encode.js';
import {
  adaptIncomingFrame,
  adaptOutgoingFrame,
  applyDescriptorQuirks,
  bcdDeviceOf,
  EZ100PU_STARTUP_COMMAND,
  EZCCID_CLASS_DESCRIPTOR,
  findQuirkEntries,
  findQuirkedCcidInterface,
  READER_QUIRKS,
  resolveReaderQuirks,
  swapLengthByteOrder,
  type ReaderQuirks,
} from './quirks.js';
import { NON_COMPLIANT_READER_FILTERS } from './filters.js';

const EZ100PU = { vendorId: 0x0ca6, productId: 0x0010, deviceVersionMajor: 1, deviceVersionMinor: 0, deviceVersionSubminor: 0 };
const EZ = resolveReaderQuirks(EZ100PU);

describe('the quirk table', () => {
  it('has one row per VID:PID and bcdDevice range, each with a name and a source', () => {
    const keys = READER_QUIRKS.map((e) => `${e.vendorId}:${e.productId}:${e.bcdDevice?.min ?? ''}-${e.bcdDevice?.max ?? ''}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const e of READER_QUIRKS) {
      expect(e.name.length).toBeGreaterThan(0);
      expect(e.source.length).toBeGreaterThan(0);
      expect(Object.keys(e.quirks).length).toBeGreaterThan(0);
      // No table row enables the unconfirmed start-up command.
      expect(e.quirks.startupCommand).toBeUndefined();
    }
  });

  it("every libccid-derived row names a reader of libccid's list (the EZ100PU is not in it)", () => {
    const listed = new Set(loadSupportedReaders().map((r) => `${r.vendorId}:${r.productId}`));
    for (const e of READER_QUIRKS) {
      if (e.vendorId === 0x0ca6 && e.productId === 0x0010) expect(listed.has(`${e.vendorId}:${e.productId}`)).toBe(false);
      else expect([e.name, listed.has(`${e.vendorId}:${e.productId}`)]).toEqual([e.name, true]);
    }
  });

  it("the EZ100PU's built-in descriptor is the EZCCID's (libccid fixture) but for the clock / rate counts", () => {
    const fx = loadReaderFixture('CASTLES_EZCCID_Smart_Card_Reader.txt').interfaces[0]!.fields;
    for (const [field, value] of Object.entries(EZCCID_CLASS_DESCRIPTOR)) {
      const expected = field === 'bNumClockSupported' || field === 'bNumDataRatesSupported' ? 0 : fx[field as keyof typeof fx];
      expect([field, value]).toEqual([field, expected]);
    }
    const d = parseCcidClassDescriptor(encodeCcidClassDescriptor(EZCCID_CLASS_DESCRIPTOR));
    expect(d.exchangeLevel).toBe('tpdu');
    expect(d.bVoltageSupport).toBe(0x01);
    expect(d.dwDefaultClock).toBe(3580);
  });

  it('the EZ100PU row: built-in descriptor, big-endian length, ATR leading zero; no start-up command', () => {
    expect(EZ.descriptor).toBe(EZCCID_CLASS_DESCRIPTOR);
    expect(EZ.bigEndianLength).toBe(true);
    expect(EZ.atrLeadingZero).toBe(true);
    expect(EZ.startupCommand).toBeUndefined();
    expect(toHex(EZ100PU_STARTUP_COMMAND)).toBe('60 00 00 00 00 00 00 00 00 00');
  });
});

describe('lookup and override', () => {
  it.each([
    [{ vendorId: 0x1209, productId: 0xcc1d }, {}],
    [{ vendorId: 0x03f0, productId: 0x1024 }, { noPinpad: true }],
    [{ vendorId: 0x04e6, productId: 0x5293 }, { timeoutFactor: 2 }],
    [{ vendorId: 0x0d46, productId: 0x3010 }, { forceShortApdu: true }],
    [{ vendorId: 0x0b97, productId: 0x7762 }, { descriptorPatch: { dwMaxDataRate: 9600 } }],
  ])('%o -> %o', (device, quirks) => {
    expect(resolveReaderQuirks(device)).toEqual(quirks);
  });

  // Every reader of the table with the quirks libccid gives it (src/ccid.c ccid_open_hack_pre /
  // ccid_open_hack_post, as each row's source says), looked up by VID:PID (and firmware 1.00).
  it.each<[number, number, ReaderQuirks]>([
    [0x03f0, 0x1024, { noPinpad: true }],
    [0x03f0, 0x0036, { noPinpad: true }],
    [0x0bf8, 0x1017, { noPinpad: true }],
    [0x0783, 0x0006, { noPinpad: true }],
    [0x076b, 0x3a21, { noPinpad: true, exchangeLevel: 'extended-apdu' }],
    [0x076b, 0x3031, { noPinpad: true, exchangeLevel: 'extended-apdu' }],
    [0x076b, 0x6632, { noPinpad: true, exchangeLevel: 'extended-apdu' }],
    [0x046a, 0x00a7, { noPinpad: true, exchangeLevel: 'extended-apdu' }],
    [0x0bf8, 0x1024, { noPinpad: true, exchangeLevel: 'extended-apdu' }],
    [0x04e6, 0x5293, { timeoutFactor: 2 }],
    [0x09d8, 0x0427, { timeoutFactor: 4 }],
    [0x09d8, 0x0428, { timeoutFactor: 4 }],
    [0x0b81, 0x0200, { timeoutFactor: 20 }],
    [0x0d46, 0x3010, { forceShortApdu: true }],
    [0x046a, 0x00a1, { exchangeLevel: 'extended-apdu' }],
    [0x0b97, 0x7762, { descriptorPatch: { dwMaxDataRate: 9600 } }],
    [0x0b97, 0x7772, { descriptorPatch: { dwMaxDataRate: 9600 } }],
    [0x09be, 0x0002, { descriptorPatch: { dwMaxIFSD: 254 } }],
  ])('%i:%i -> %o', (vendorId, productId, quirks) => {
    const device = { vendorId, productId, deviceVersionMajor: 1, deviceVersionMinor: 0, deviceVersionSubminor: 0 };
    expect(resolveReaderQuirks(device)).toEqual(quirks);
    // The same IDs with VID and PID swapped are no reader of the table.
    expect(resolveReaderQuirks({ ...device, vendorId: productId, productId: vendorId })).toEqual({});
  });

  it('the table is those readers and the EZ100PU, nothing more', () => {
    expect(READER_QUIRKS).toHaveLength(19);
  });

  it("the chooser's filters for readers without a class descriptor (filters.ts) are the table's rows with a built-in one", () => {
    const builtIn = READER_QUIRKS.filter((e) => e.quirks.descriptor !== undefined).map(({ vendorId, productId }) => ({ vendorId, productId }));
    expect(NON_COMPLIANT_READER_FILTERS).toEqual(builtIn);
  });

  it('bcdDevice ranges: the Cherry KC 1000 SC row applies to firmware 1.00 only', () => {
    const kc = (major: number, minor: number) => ({ vendorId: 0x046a, productId: 0x00a1, deviceVersionMajor: major, deviceVersionMinor: minor, deviceVersionSubminor: 0 });
    expect(bcdDeviceOf(kc(1, 0))).toBe(0x0100);
    expect(bcdDeviceOf({ vendorId: 0, productId: 0, deviceVersionMajor: 2, deviceVersionMinor: 1, deviceVersionSubminor: 3 })).toBe(0x0213);
    expect(findQuirkEntries(kc(1, 0))).toHaveLength(1);
    expect(findQuirkEntries(kc(1, 1))).toHaveLength(0);
    expect(findQuirkEntries(kc(0, 9))).toHaveLength(0);
  });

  it('an override wins field by field; false switches a flag off; `false` ignores the table', () => {
    expect(resolveReaderQuirks(EZ100PU, { atrLeadingZero: false }).atrLeadingZero).toBe(false);
    expect(resolveReaderQuirks(EZ100PU, { atrLeadingZero: false }).bigEndianLength).toBe(true);
    expect(resolveReaderQuirks(EZ100PU, { startupCommand: EZ100PU_STARTUP_COMMAND }).startupCommand).toBe(EZ100PU_STARTUP_COMMAND);
    expect(resolveReaderQuirks(EZ100PU, false)).toEqual({});
    expect(resolveReaderQuirks({ vendorId: 1, productId: 2 }, { timeoutFactor: 3 })).toEqual({ timeoutFactor: 3 });
    const custom = [{ vendorId: 1, productId: 2, name: 'x', source: 'test', quirks: { noPinpad: true } }];
    expect(resolveReaderQuirks({ vendorId: 1, productId: 2 }, undefined, custom)).toEqual({ noPinpad: true });
  });
});

describe('applyDescriptorQuirks', () => {
  const pinpadExtended = parseCcidClassDescriptor(
    encodeCcidClassDescriptor({ ...EZCCID_CLASS_DESCRIPTOR, dwFeatures: 0x000407ba, bPINSupport: 0x03 }),
  );

  it.each<[ReaderQuirks, string, number, number | undefined]>([
    [{}, 'extended-apdu', 3, undefined],
    [{ noPinpad: true }, 'extended-apdu', 0, undefined],
    [{ forceShortApdu: true }, 'short-apdu', 3, undefined],
    [{ exchangeLevel: 'tpdu' }, 'tpdu', 3, undefined],
    [{ descriptorPatch: { dwMaxDataRate: 9600 } }, 'extended-apdu', 3, 9600],
  ])('%o -> level %s, bPINSupport %i', (q, level, pin, rate) => {
    const d = applyDescriptorQuirks(pinpadExtended, q);
    expect(d.exchangeLevel).toBe(level);
    expect(d.bPINSupport).toBe(pin);
    expect(d.pinpad.verify).toBe(pin !== 0);
    expect(d.dwFeatures & 0xffff).toBe(0x07ba);
    if (rate !== undefined) expect(d.dwMaxDataRate).toBe(rate);
  });

  it('forceShortApdu leaves a TPDU reader alone; no quirk returns the same object', () => {
    const tpdu = parseCcidClassDescriptor(encodeCcidClassDescriptor(EZCCID_CLASS_DESCRIPTOR));
    expect(applyDescriptorQuirks(tpdu, { forceShortApdu: true }).exchangeLevel).toBe('tpdu');
    expect(applyDescriptorQuirks(tpdu, { bigEndianLength: true })).toBe(tpdu);
  });
});

describe('findQuirkedCcidInterface', () => {
  const ep = [
    { bEndpointAddress: 0x01, bmAttributes: 2, wMaxPacketSize: 64, bInterval: 0 },
    { bEndpointAddress: 0x82, bmAttributes: 2, wMaxPacketSize: 64, bInterval: 0 },
    { bEndpointAddress: 0x83, bmAttributes: 3, wMaxPacketSize: 8, bInterval: 16 },
  ];
  const iface = (cls: number, endpoints = ep, extra: Uint8Array[] = []) => ({
    bInterfaceNumber: 0, bAlternateSetting: 0, bInterfaceClass: cls, bInterfaceSubClass: 0, bInterfaceProtocol: 0, extra, endpoints,
  });
  const config = (...interfaces: ReturnType<typeof iface>[]) =>
    parseConfigurationDescriptor(encodeConfigurationDescriptor({ bConfigurationValue: 1, interfaces }));

  it('gives the vendor-class interface without a class descriptor the built-in one', () => {
    const info = findQuirkedCcidInterface(config(iface(0xff)), EZ)!;
    expect(info.iface.bInterfaceClass).toBe(0xff);
    expect(info.bulkOut.endpointNumber).toBe(1);
    expect(info.bulkIn.endpointNumber).toBe(2);
    expect(info.interruptIn?.endpointNumber).toBe(3);
    expect(toHex(info.classDescriptor)).toBe(toHex(encodeCcidClassDescriptor(EZCCID_CLASS_DESCRIPTOR)));
  });

  it('prefers a descriptor the device carries; undefined without a built-in descriptor; no bulk pair: ccid/no-interface', () => {
    const own = encodeCcidClassDescriptor({ ...EZCCID_CLASS_DESCRIPTOR, dwMaxIFSD: 99 });
    expect(parseCcidClassDescriptor(findQuirkedCcidInterface(config(iface(0xff, ep, [own])), EZ)!.classDescriptor).dwMaxIFSD).toBe(99);
    expect(findQuirkedCcidInterface(config(iface(0xff)), {})).toBeUndefined();
    let e: unknown;
    try {
      findQuirkedCcidInterface(config(iface(0x03, ep), iface(0xff, [ep[2]!])), EZ);
    } catch (x) {
      e = x;
    }
    expect(isWebCcidError(e, 'ccid/no-interface')).toBe(true);
  });
});

describe('framing', () => {
  const xfr = encodeCommand({ name: 'XfrBlock', bSlot: 0, bSeq: 7, bBWI: 0, wLevelParameter: 0, abData: new Uint8Array(0x0102) });

  it('big-endian dwLength out and back', () => {
    const wire = adaptOutgoingFrame(xfr, EZ);
    expect(toHex(wire.subarray(0, 5))).toBe('6F 00 00 01 02');
    expect(toHex(adaptIncomingFrame(wire, EZ, 'XfrBlock'))).toBe(toHex(xfr));
    expect(adaptOutgoingFrame(xfr, {})).toBe(xfr);
    expect(toHex(swapLengthByteOrder(Uint8Array.of(1, 2, 3)))).toBe('01 02 03');
  });

  const atr = Uint8Array.of(0x3b, 0x80, 0x01, 0x81);
  const dataBlock = (abData: Uint8Array) => encodeResponse({ name: 'DataBlock', bSlot: 0, bSeq: 1, bStatus: 0, bError: 0, bChainParameter: 0, abData });

  it.each<[string, Uint8Array, string, string]>([
    ['drops the 0x00 before 3B', Uint8Array.of(0, ...atr), 'IccPowerOn', toHex(dataBlock(atr))],
    ['drops the 0x00 before 3F', Uint8Array.of(0, 0x3f, 0x00), 'IccPowerOn', toHex(dataBlock(Uint8Array.of(0x3f, 0x00)))],
    ['keeps an ATR without the 0x00', atr, 'IccPowerOn', toHex(dataBlock(atr))],
    ['keeps 0x00 not followed by TS', Uint8Array.of(0, 0x12), 'IccPowerOn', toHex(dataBlock(Uint8Array.of(0, 0x12)))],
    ['keeps other commands\' data', Uint8Array.of(0, ...atr), 'XfrBlock', toHex(dataBlock(Uint8Array.of(0, ...atr)))],
  ])('%s', (_, abData, command, expected) => {
    const wire = adaptOutgoingFrame(dataBlock(abData), EZ);
    expect(toHex(adaptIncomingFrame(wire, EZ, command))).toBe(expected);
  });

  it('a frame whose dwLength does not match is passed on untouched (the decoder reports it)', () => {
    const f = dataBlock(Uint8Array.of(0, ...atr));
    writeU32LE(f, 1, 99);
    expect(toHex(adaptIncomingFrame(f, { atrLeadingZero: true }, 'IccPowerOn'))).toBe(toHex(f));
  });

  it('property: any bytes, any quirks -> a Uint8Array, never a throw; swapping twice is the identity', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.record({ bigEndianLength: fc.boolean(), atrLeadingZero: fc.boolean() }),
        fc.constantFrom('IccPowerOn', 'XfrBlock', 'GetSlotStatus'),
        (bytes, q, command) => {
          const out = adaptIncomingFrame(bytes, q, command);
          expect(out).toBeInstanceOf(Uint8Array);
          expect(out.length === bytes.length || out.length === bytes.length - 1).toBe(true);
          expect(toHex(swapLengthByteOrder(swapLengthByteOrder(bytes)))).toBe(toHex(bytes));
        },
      ),
    );
  });
});
