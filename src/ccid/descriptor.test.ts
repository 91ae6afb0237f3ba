import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fromHex, toHex } from '../bytes.js';
import { CcidError } from '../errors.js';
import {
  CCID_FEATURE,
  encodeCcidClassDescriptor,
  exchangeLevelOf,
  withExchangeLevel,
  CCID_DESCRIPTOR_FIELDS,
  parseCcidClassDescriptor,
  type CcidClassDescriptorInit,
} from './descriptor.js';

// Written by hand from CCID 1.10 table 5.1-1 and the libccid `parse` output of
// the Castles EZCCID (fixtures/ccid-readers/CASTLES_EZCCID_Smart_Card_Reader.txt).
const EZCCID = fromHex(
  '36 21 00 01 00 01 03 00 00 00 FC 0D 00 00 FC 0D 00 00 01 80 25 00 00 00 C2 01 00 0F' +
    ' FC 00 00 00 00 00 00 00 00 00 00 00 30 01 01 00 0F 01 00 00 00 00 00 00 00 01',
);
const EZCCID_FIELDS: CcidClassDescriptorInit = {
  bcdCCID: 0x0100,
  bMaxSlotIndex: 0,
  bVoltageSupport: 0x01,
  dwProtocols: 0x00000003,
  dwDefaultClock: 3580,
  dwMaximumClock: 3580,
  bNumClockSupported: 1,
  dwDataRate: 9600,
  dwMaxDataRate: 115200,
  bNumDataRatesSupported: 15,
  dwMaxIFSD: 252,
  dwSynchProtocols: 0,
  dwMechanical: 0,
  dwFeatures: 0x00010130,
  dwMaxCCIDMessageLength: 271,
  bClassGetResponse: 0x00,
  bClassEnvelope: 0x00,
  wLcdLayout: 0x0000,
  bPINSupport: 0x00,
  bMaxCCIDBusySlots: 1,
};

// A pinpad reader with an LCD, two slots, every field distinct so offsets cannot hide:
// (Offsets 0..53 written from the table; values chosen so that each byte differs.)
const PINPAD = fromHex(
  '36 21 10 01 01 07 03 00 00 00' + // bcdCCID 1.10, bMaxSlotIndex 1, 5/3/1.8 V, T=0+T=1
    ' C0 12 00 00 00 3E 00 00 02' + // dwDefaultClock 4800 kHz, dwMaximumClock 15872 kHz, 2 clocks
    ' 81 32 00 00 40 0D 03 00 13' + // dwDataRate 12929, dwMaxDataRate 200000, 19 rates
    ' FE 00 00 00 07 00 00 00 01 00 00 00' + // dwMaxIFSD 254, dwSynchProtocols 7, dwMechanical 1
    ' FE 07 12 00 0E 01 00 00' + // dwFeatures 0x001207FE, dwMaxCCIDMessageLength 270
    ' FF 00 10 02 03 02', // bClassGetResponse FF, bClassEnvelope 00, wLcdLayout 0x0210, bPINSupport 3, busy 2
);

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof CcidError) return e.code;
    throw e;
  }
  return undefined;
}

describe('parseCcidClassDescriptor', () => {
  it('decodes the EZCCID descriptor', () => {
    expect(EZCCID.length).toBe(54);
    const d = parseCcidClassDescriptor(EZCCID);
    expect(d).toMatchObject({ bLength: 0x36, bDescriptorType: 0x21, ...EZCCID_FIELDS });
    expect(d.exchangeLevel).toBe('tpdu');
    expect(d.features).toEqual({
      autoParameters: false,
      autoActivation: false,
      autoVoltage: false,
      autoClock: true,
      autoBaud: true,
      autoPps: false,
      autoPpsProprietary: false,
      clockStop: true,
      nadOtherThan00: false,
      autoIfsd: false,
      usbWakeUp: false,
      lcdPresent: false,
      pinpad: false,
    });
    expect(d.pinpad).toEqual({ verify: false, modify: false });
    expect(d.maxSlots).toBe(1);
    expect(d.protocols).toEqual([0, 1]);
    expect(d.voltages).toEqual({ v5: true, v3: false, v1_8: false });
    expect(d.lcd).toBeUndefined();
  });

  it('decodes every offset of a pinpad reader', () => {
    expect(PINPAD.length).toBe(54);
    const d = parseCcidClassDescriptor(PINPAD);
    expect(d).toMatchObject({
      bcdCCID: 0x0110,
      bMaxSlotIndex: 1,
      bVoltageSupport: 7,
      dwProtocols: 3,
      dwDefaultClock: 4800,
      dwMaximumClock: 15872,
      bNumClockSupported: 2,
      dwDataRate: 12929,
      dwMaxDataRate: 200000,
      bNumDataRatesSupported: 19,
      dwMaxIFSD: 254,
      dwSynchProtocols: 7,
      dwMechanical: 1,
      dwFeatures: 0x001207fe,
      dwMaxCCIDMessageLength: 270,
      bClassGetResponse: 0xff,
      bClassEnvelope: 0,
      wLcdLayout: 0x0210,
      bPINSupport: 3,
      bMaxCCIDBusySlots: 2,
      exchangeLevel: 'short-apdu',
      maxSlots: 2,
      pinpad: { verify: true, modify: true },
      lcd: { lines: 2, charactersPerLine: 16 },
      voltages: { v5: true, v3: true, v1_8: true },
    });
    expect(Object.values(d.features).every(Boolean)).toBe(true);
  });

  it('maps every dwFeatures bit of table 5.1-1 to its flag', () => {
    const cases: Array<[number, keyof ReturnType<typeof parseCcidClassDescriptor>['features'] | undefined]> = [
      [0x02, 'autoParameters'],
      [0x04, 'autoActivation'],
      [0x08, 'autoVoltage'],
      [0x10, 'autoClock'],
      [0x20, 'autoBaud'],
      [0x40, 'autoPpsProprietary'],
      [0x80, 'autoPps'],
      [0x100, 'clockStop'],
      [0x200, 'nadOtherThan00'],
      [0x400, 'autoIfsd'],
      [0x100000, 'usbWakeUp'],
      [0x800, undefined],
      [0x1, undefined],
    ];
    for (const [bit, name] of cases) {
      const d = parseCcidClassDescriptor(encodeCcidClassDescriptor({ ...EZCCID_FIELDS, dwFeatures: bit }));
      const set = Object.entries(d.features).filter(([, v]) => v).map(([k]) => k);
      // 0x40 (proprietary negotiation) also means "the reader does PPS itself"
      const expected = name === undefined ? [] : name === 'autoPpsProprietary' ? ['autoPps', 'autoPpsProprietary'] : [name];
      expect(set.sort(), `bit 0x${bit.toString(16)}`).toEqual(expected.sort());
    }
    expect(CCID_FEATURE).toMatchObject({ AUTO_PARAMETERS: 0x02, AUTO_PPS: 0x80, AUTO_PPS_PROPRIETARY: 0x40, AUTO_IFSD: 0x400, TPDU: 0x10000, SHORT_APDU: 0x20000, EXTENDED_APDU: 0x40000, USB_WAKE_UP: 0x100000 });
  });

  it.each([
    [0x00000000, 'character'],
    [0x000000fe, 'character'],
    [0x00010000, 'tpdu'],
    [0x00020000, 'short-apdu'],
    [0x00040000, 'extended-apdu'],
    [0x000407fe, 'extended-apdu'],
    [0x00060000, 'extended-apdu'],
    [0x00030000, 'short-apdu'],
    [0x00100000, 'character'],
  ] as const)('exchange level of dwFeatures %i', (dwFeatures, level) => {
    expect(exchangeLevelOf(dwFeatures)).toBe(level);
    expect(parseCcidClassDescriptor(encodeCcidClassDescriptor({ ...EZCCID_FIELDS, dwFeatures })).exchangeLevel).toBe(level);
  });

  // CCID 1.10 table 5.1-1: dwFeatures 00010000h TPDU, 00020000h short APDU, 00040000h short and
  // extended APDU; every other bit stays, and the result is an unsigned 32-bit value.
  it.each([
    [0x000407ba, 'short-apdu', 0x000207ba],
    [0x000407ba, 'tpdu', 0x000107ba],
    [0x00010130, 'extended-apdu', 0x00040130],
    [0x00070000, 'short-apdu', 0x00020000],
    [0xfffbffff, 'extended-apdu', 0xfffcffff],
    [0x00100000, 'tpdu', 0x00110000],
  ] as const)('withExchangeLevel(%i, %s) = %i', (dwFeatures, level, expected) => {
    expect(withExchangeLevel(dwFeatures, level)).toBe(expected);
    expect(exchangeLevelOf(withExchangeLevel(dwFeatures, level))).toBe(level);
  });

  it.each([
    [0x00, [], false, false],
    [0x01, [0], true, false],
    [0x02, [1], false, true],
  ] as const)('bPINSupport / dwProtocols bits %i', (bits, protocols, verify, modify) => {
    const d = parseCcidClassDescriptor(encodeCcidClassDescriptor({ ...EZCCID_FIELDS, dwProtocols: bits, bPINSupport: bits }));
    expect(d.protocols).toEqual(protocols);
    expect(d.pinpad).toEqual({ verify, modify });
    expect(d.features.pinpad).toBe(verify || modify);
  });

  it('uses only the low byte of dwProtocols for T=0/T=1 (0x0300 reader offers none)', () => {
    const d = parseCcidClassDescriptor(encodeCcidClassDescriptor({ ...EZCCID_FIELDS, dwProtocols: 0x0300 }));
    expect(d.dwProtocols).toBe(0x300);
    expect(d.protocols).toEqual([]);
  });

  it('accepts the old 0xFF bDescriptorType and a longer bLength (extra bytes ignored)', () => {
    const old = EZCCID.slice();
    old[1] = 0xff;
    expect(parseCcidClassDescriptor(old).bDescriptorType).toBe(0xff);
    const longer = new Uint8Array(60);
    longer.set(EZCCID);
    longer[0] = 60;
    longer.fill(0xee, 54);
    const d = parseCcidClassDescriptor(longer);
    expect(d.bLength).toBe(60);
    expect(d.bMaxCCIDBusySlots).toBe(1);
  });

  it('reads dwords as unsigned (0xFFFFFFFF)', () => {
    const d = parseCcidClassDescriptor(encodeCcidClassDescriptor({ ...EZCCID_FIELDS, dwMaxDataRate: 0xffffffff, dwFeatures: 0xffffffff }));
    expect(d.dwMaxDataRate).toBe(0xffffffff);
    expect(d.dwFeatures).toBe(0xffffffff);
    expect(d.exchangeLevel).toBe('extended-apdu');
  });

  const mustFail: Array<[string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['53 bytes', EZCCID.slice(0, 53)],
    ['bLength 0x35', Uint8Array.from(EZCCID, (b, i) => (i === 0 ? 0x35 : b))],
    ['bLength 0', Uint8Array.from(EZCCID, (b, i) => (i === 0 ? 0 : b))],
    ['HID type 0x22', Uint8Array.from(EZCCID, (b, i) => (i === 1 ? 0x22 : b))],
    ['interface type 0x04', Uint8Array.from(EZCCID, (b, i) => (i === 1 ? 0x04 : b))],
  ];
  it.each(mustFail)('rejects %s with ccid/bad-descriptor', (_n, bytes) => {
    expect(codeOf(() => parseCcidClassDescriptor(bytes))).toBe('ccid/bad-descriptor');
  });

  it('any bytes: a result or CcidError (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        try {
          const d = parseCcidClassDescriptor(bytes);
          expect(bytes.length).toBeGreaterThanOrEqual(54);
          expect(d.maxSlots).toBe(bytes[4]! + 1);
        } catch (e) {
          expect(e).toBeInstanceOf(CcidError);
          expect((e as CcidError).code).toBe('ccid/bad-descriptor');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('any 54 bytes with a valid header decode, and re-encode to the same bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 52, maxLength: 52 }), fc.constantFrom(0x21, 0xff), (body, type) => {
        const bytes = new Uint8Array(54);
        bytes[0] = 0x36;
        bytes[1] = type;
        bytes.set(body, 2);
        const d = parseCcidClassDescriptor(bytes);
        expect(toHex(encodeCcidClassDescriptor(d))).toBe(toHex(bytes));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('encodeCcidClassDescriptor', () => {
  it('encodes the EZCCID fields byte for byte (type 0x21 by default)', () => {
    expect(toHex(encodeCcidClassDescriptor(EZCCID_FIELDS))).toBe(toHex(EZCCID));
  });

  it('round trips the pinpad reader', () => {
    expect(toHex(encodeCcidClassDescriptor(parseCcidClassDescriptor(PINPAD)))).toBe(toHex(PINPAD));
  });

  it('writes the given bDescriptorType', () => {
    expect(encodeCcidClassDescriptor({ ...EZCCID_FIELDS, bDescriptorType: 0xff })[1]).toBe(0xff);
  });

  it.each([
    ['bMaxSlotIndex', 256],
    ['bPINSupport', -1],
    ['dwFeatures', 0x1_0000_0000],
    ['dwDefaultClock', 3.5],
    ['bcdCCID', 0x10000],
    ['wLcdLayout', NaN],
    ['bDescriptorType', 300],
  ] as const)('rejects %s = %s', (field, value) => {
    expect(codeOf(() => encodeCcidClassDescriptor({ ...EZCCID_FIELDS, [field]: value }))).toBe('ccid/bad-descriptor');
  });

  it('encode then parse gives back every raw field (property)', () => {
    const u8 = fc.integer({ min: 0, max: 0xff });
    const u16 = fc.integer({ min: 0, max: 0xffff });
    const u32 = fc.integer({ min: 0, max: 0xffffffff });
    const init = fc.record({
      bcdCCID: u16,
      bMaxSlotIndex: u8,
      bVoltageSupport: u8,
      dwProtocols: u32,
      dwDefaultClock: u32,
      dwMaximumClock: u32,
      bNumClockSupported: u8,
      dwDataRate: u32,
      dwMaxDataRate: u32,
      bNumDataRatesSupported: u8,
      dwMaxIFSD: u32,
      dwSynchProtocols: u32,
      dwMechanical: u32,
      dwFeatures: u32,
      dwMaxCCIDMessageLength: u32,
      bClassGetResponse: u8,
      bClassEnvelope: u8,
      wLcdLayout: u16,
      bPINSupport: u8,
      bMaxCCIDBusySlots: u8,
    });
    fc.assert(
      fc.property(init, (fields) => {
        const bytes = encodeCcidClassDescriptor(fields);
        expect(bytes.length).toBe(54);
        const d = parseCcidClassDescriptor(bytes);
        expect(d).toMatchObject({ bLength: 0x36, bDescriptorType: 0x21, ...fields });
        expect(d.exchangeLevel).toBe(exchangeLevelOf(fields.dwFeatures));
      }),
      { numRuns: 500 },
    );
  });
});

describe('CCID_DESCRIPTOR_FIELDS', () => {
  it('gives every field the offset of CCID 1.10 table 5.1-1, ending at byte 54', () => {
    // Offsets as printed in the specification's table.
    const spec: Record<string, number> = {
      bcdCCID: 2, bMaxSlotIndex: 4, bVoltageSupport: 5, dwProtocols: 6, dwDefaultClock: 10, dwMaximumClock: 14,
      bNumClockSupported: 18, dwDataRate: 19, dwMaxDataRate: 23, bNumDataRatesSupported: 27, dwMaxIFSD: 28,
      dwSynchProtocols: 32, dwMechanical: 36, dwFeatures: 40, dwMaxCCIDMessageLength: 44, bClassGetResponse: 48,
      bClassEnvelope: 49, wLcdLayout: 50, bPINSupport: 52, bMaxCCIDBusySlots: 53,
    };
    const d = new Uint8Array(54);
    d[0] = 54;
    d[1] = 0x21;
    // Each field holds its own offset in its first byte: the parser must read it from there.
    for (const offset of Object.values(spec)) d[offset] = offset;
    const parsed = parseCcidClassDescriptor(d);
    expect(CCID_DESCRIPTOR_FIELDS).toEqual(Object.keys(spec));
    for (const [name, offset] of Object.entries(spec)) expect(parsed[name as keyof typeof parsed], name).toBe(offset);
    expect(toHex(encodeCcidClassDescriptor(parsed))).toBe(toHex(d));
  });
});
