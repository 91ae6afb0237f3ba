import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { concatBytes, fromHex, toHex } from '../bytes.js';
import { CcidError } from '../errors.js';
import {
  findBulkEndpoints,
  findCcidClassDescriptor,
  findCcidInterface,
  findCcidInterfaces,
  parseConfigurationDescriptor,
} from './config-descriptor.js';
import { encodeConfigurationDescriptor, type InterfaceDescriptorInit } from './config-descriptor-encode.js';

// Hand-written from USB 2.0 §9.6.3/9.6.5/9.6.6 and CCID 1.10 table 5.1-1.
// The CCID class descriptor of the Castles EZCCID (0CA6:00A0), see fixtures.
const CLASS = fromHex(
  '36 21 00 01 00 01 03 00 00 00' + // bLength bDescriptorType bcdCCID=1.00 bMaxSlotIndex bVoltageSupport dwProtocols=3
    ' FC 0D 00 00 FC 0D 00 00 01' + // dwDefaultClock=3580 dwMaximumClock=3580 bNumClockSupported=1
    ' 80 25 00 00 00 C2 01 00 0F' + // dwDataRate=9600 dwMaxDataRate=115200 bNumDataRatesSupported=15
    ' FC 00 00 00 00 00 00 00 00 00 00 00' + // dwMaxIFSD=252 dwSynchProtocols dwMechanical
    ' 30 01 01 00 0F 01 00 00' + // dwFeatures=0x00010130 dwMaxCCIDMessageLength=271
    ' 00 00 00 00 00 01', // bClassGetResponse bClassEnvelope wLcdLayout bPINSupport bMaxCCIDBusySlots
);
const CONFIG_HEADER = (total: number, numIf = 1): Uint8Array => fromHex(`09 02 ${toHex(Uint8Array.of(total & 0xff, total >> 8))} ${toHex(Uint8Array.of(numIf))} 01 00 A0 32`);
const IFACE = (num: number, cls: number, eps: number, alt = 0, proto = 0): Uint8Array => Uint8Array.of(9, 4, num, alt, eps, cls, 0, proto, 0);
const EP_BULK_OUT = fromHex('07 05 01 02 40 00 00');
const EP_BULK_IN = fromHex('07 05 82 02 40 00 00');
const EP_INT_IN = fromHex('07 05 83 03 08 00 10');

function config(...parts: Uint8Array[]): Uint8Array {
  const body = concatBytes(...parts);
  const numIf = new Set(parts.filter((p) => p[1] === 4).map((p) => p[2])).size;
  return concatBytes(CONFIG_HEADER(9 + body.length, numIf), body);
}

const STANDARD = config(IFACE(0, 0x0b, 3), CLASS, EP_BULK_OUT, EP_BULK_IN, EP_INT_IN);

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof CcidError) return e.code;
    throw e;
  }
  return undefined;
}

describe('parseConfigurationDescriptor', () => {
  it('decodes a typical CCID reader configuration', () => {
    expect(STANDARD.length).toBe(93);
    expect(CLASS.length).toBe(54);
    const c = parseConfigurationDescriptor(STANDARD);
    expect(c).toMatchObject({ wTotalLength: 93, bNumInterfaces: 1, bConfigurationValue: 1, bmAttributes: 0xa0, bMaxPower: 0x32, truncated: false });
    expect(c.extra).toEqual([]);
    expect(c.interfaces).toHaveLength(1);
    const i = c.interfaces[0]!;
    expect(i).toMatchObject({ bInterfaceNumber: 0, bAlternateSetting: 0, bNumEndpoints: 3, bInterfaceClass: 0x0b, bInterfaceSubClass: 0, bInterfaceProtocol: 0, iInterface: 0 });
    expect(i.extra).toEqual([CLASS]);
    expect(i.endpoints).toEqual([
      { bEndpointAddress: 0x01, bmAttributes: 2, wMaxPacketSize: 64, bInterval: 0, direction: 'out', endpointNumber: 1, type: 'bulk' },
      { bEndpointAddress: 0x82, bmAttributes: 2, wMaxPacketSize: 64, bInterval: 0, direction: 'in', endpointNumber: 2, type: 'bulk' },
      { bEndpointAddress: 0x83, bmAttributes: 3, wMaxPacketSize: 8, bInterval: 16, direction: 'in', endpointNumber: 3, type: 'interrupt' },
    ]);
  });

  it('decodes every endpoint type and a 16-bit wMaxPacketSize', () => {
    const eps = [fromHex('07 05 80 00 40 00 00'), fromHex('07 05 04 01 FF 03 01'), fromHex('07 05 85 02 00 02 00'), fromHex('07 05 06 03 00 04 FF')];
    const c = parseConfigurationDescriptor(config(IFACE(0, 0xff, 4), ...eps));
    expect(c.interfaces[0]!.endpoints.map((e) => [e.type, e.direction, e.endpointNumber, e.wMaxPacketSize, e.bInterval])).toEqual([
      ['control', 'in', 0, 64, 0],
      ['isochronous', 'out', 4, 0x3ff, 1],
      ['bulk', 'in', 5, 512, 0],
      ['interrupt', 'out', 6, 1024, 255],
    ]);
  });

  it('keeps a 9-byte (audio style) endpoint descriptor and extras after endpoints whole', () => {
    const ep9 = fromHex('09 05 81 01 40 00 01 00 00');
    const companion = fromHex('06 30 00 00 00 00');
    const c = parseConfigurationDescriptor(config(IFACE(0, 1, 1), ep9, companion));
    expect(c.interfaces[0]!.endpoints[0]!.bEndpointAddress).toBe(0x81);
    expect(c.interfaces[0]!.extra).toEqual([companion]);
  });

  it('puts descriptors before the first interface (IAD) into the configuration extra', () => {
    const iad = fromHex('08 0B 00 02 0E 03 00 02');
    const c = parseConfigurationDescriptor(config(iad, IFACE(0, 0x0b, 2), CLASS, EP_BULK_OUT, EP_BULK_IN));
    expect(c.extra).toEqual([iad]);
    expect(c.interfaces[0]!.extra).toEqual([CLASS]);
  });

  it('lists every alternate setting as its own entry', () => {
    const c = parseConfigurationDescriptor(config(IFACE(0, 0x0b, 0, 0), IFACE(0, 0x0b, 2, 1), CLASS, EP_BULK_OUT, EP_BULK_IN));
    expect(c.bNumInterfaces).toBe(1);
    expect(c.interfaces.map((i) => [i.bInterfaceNumber, i.bAlternateSetting, i.endpoints.length, i.extra.length])).toEqual([
      [0, 0, 0, 0],
      [0, 1, 2, 1],
    ]);
  });

  it('ignores an endpoint descriptor before any interface (keeps it in config extra)', () => {
    const c = parseConfigurationDescriptor(config(EP_BULK_IN, IFACE(0, 0x0b, 0)));
    expect(c.extra).toEqual([EP_BULK_IN]);
    expect(c.interfaces[0]!.endpoints).toEqual([]);
  });

  it('ignores bytes after wTotalLength', () => {
    const c = parseConfigurationDescriptor(concatBytes(STANDARD, fromHex('00 00 FF 01 02')));
    expect(c.truncated).toBe(false);
    expect(c.interfaces[0]!.endpoints).toHaveLength(3);
  });

  it('parses what is there when the buffer is shorter than wTotalLength (first 9-byte read)', () => {
    const c = parseConfigurationDescriptor(STANDARD.slice(0, 9));
    expect(c.wTotalLength).toBe(93);
    expect(c.truncated).toBe(true);
    expect(c.interfaces).toEqual([]);
  });

  it('drops a partial last descriptor of a short buffer', () => {
    const c = parseConfigurationDescriptor(STANDARD.slice(0, 9 + 9 + 30));
    expect(c.truncated).toBe(true);
    expect(c.interfaces).toHaveLength(1);
    expect(c.interfaces[0]!.extra).toEqual([]);
    expect(codeOf(() => findCcidInterface(c))).toBe('ccid/no-class-descriptor');
    // one stray byte at the end of a short buffer
    expect(parseConfigurationDescriptor(STANDARD.slice(0, 19)).interfaces).toHaveLength(1);
  });

  it('every prefix of a valid descriptor (>= 9 bytes) parses, truncated unless whole', () => {
    for (let n = 9; n <= STANDARD.length; n++) {
      const c = parseConfigurationDescriptor(STANDARD.slice(0, n));
      expect(c.truncated).toBe(n < STANDARD.length);
    }
  });

  const mustFail: Array<[string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['8 bytes', STANDARD.slice(0, 8)],
    ['device descriptor, not configuration', fromHex('12 01 00 02 00 00 00 40 A6 0C A0 00 10 00 01 02 00 01')],
    ['configuration bLength 8', fromHex('08 02 09 00 01 01 00 80 32 00')],
    ['wTotalLength below bLength', fromHex('09 02 05 00 01 01 00 80 32')],
    ['bLength 0 inside (would loop)', config(IFACE(0, 0x0b, 0), fromHex('00 21 00 00'))],
    ['bLength 1 inside', config(IFACE(0, 0x0b, 0), fromHex('01 21'))],
    ['descriptor runs past wTotalLength', concatBytes(CONFIG_HEADER(9 + 9 + 10), IFACE(0, 0x0b, 0), CLASS)],
    ['stray byte at the end of wTotalLength', concatBytes(CONFIG_HEADER(9 + 9 + 1), IFACE(0, 0x0b, 0), Uint8Array.of(7))],
    ['interface descriptor bLength 5', config(fromHex('05 04 00 00 00'))],
    ['endpoint descriptor bLength 4', config(IFACE(0, 0x0b, 1), fromHex('04 05 81 02'))],
  ];
  it.each(mustFail)('rejects %s with ccid/bad-descriptor', (_name, bytes) => {
    expect(codeOf(() => parseConfigurationDescriptor(bytes))).toBe('ccid/bad-descriptor');
  });

  it('any bytes: a result or CcidError, never anything else (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          parseConfigurationDescriptor(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(CcidError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('any body behind a valid header: a result or CcidError, within wTotalLength (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 400 }), (body, total) => {
        const bytes = concatBytes(CONFIG_HEADER(total), body);
        try {
          const c = parseConfigurationDescriptor(bytes);
          let n = 9 + (c.extra ?? []).reduce((a, d) => a + d.length, 0);
          for (const i of c.interfaces) n += 9 + i.extra.reduce((a, d) => a + d.length, 0) + i.endpoints.length * 7;
          expect(n).toBeLessThanOrEqual(Math.max(total, 9));
          // endpoints may be longer than 7 bytes, so n is a lower bound only
          expect(c.truncated).toBe(bytes.length < total);
        } catch (e) {
          expect(e).toBeInstanceOf(CcidError);
          expect((e as CcidError).code).toBe('ccid/bad-descriptor');
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('findCcidInterface', () => {
  it('finds the class 0x0B interface, its class descriptor and endpoints', () => {
    const info = findCcidInterface(parseConfigurationDescriptor(STANDARD));
    expect(info.iface.bInterfaceNumber).toBe(0);
    expect(info.classDescriptor).toEqual(CLASS);
    expect(info.bulkIn.bEndpointAddress).toBe(0x82);
    expect(info.bulkOut.bEndpointAddress).toBe(0x01);
    expect(info.interruptIn?.bEndpointAddress).toBe(0x83);
  });

  it('works without an interrupt endpoint', () => {
    const info = findCcidInterface(parseConfigurationDescriptor(config(IFACE(0, 0x0b, 2), CLASS, EP_BULK_IN, EP_BULK_OUT)));
    expect(info.interruptIn).toBeUndefined();
    expect('interruptIn' in info).toBe(false);
  });

  it('finds a class descriptor placed after the endpoints (buggy readers)', () => {
    const info = findCcidInterface(parseConfigurationDescriptor(config(IFACE(0, 0x0b, 3), EP_BULK_OUT, EP_BULK_IN, EP_INT_IN, CLASS)));
    expect(info.classDescriptor).toEqual(CLASS);
    expect(info.bulkIn.bEndpointAddress).toBe(0x82);
  });

  it('accepts a vendor-class 0xFF interface that carries a 54-byte 0x21 descriptor', () => {
    const info = findCcidInterface(parseConfigurationDescriptor(config(IFACE(0, 0xff, 3), CLASS, EP_BULK_OUT, EP_BULK_IN, EP_INT_IN)));
    expect(info.iface.bInterfaceClass).toBe(0xff);
  });

  it('accepts the old 0xFF-typed 54-byte descriptor (Verisign/Gemplus token)', () => {
    const old = CLASS.slice();
    old[1] = 0xff;
    const info = findCcidInterface(parseConfigurationDescriptor(config(IFACE(0, 0xff, 2), old, EP_BULK_OUT, EP_BULK_IN)));
    expect(info.classDescriptor).toEqual(old);
  });

  it('prefers the 0x21 descriptor when a 0xFF-typed one of the same size comes first', () => {
    const old = CLASS.slice();
    old[1] = 0xff;
    old[2] = 0x99;
    const info = findCcidInterface(parseConfigurationDescriptor(config(IFACE(0, 0x0b, 2), old, CLASS, EP_BULK_OUT, EP_BULK_IN)));
    expect(info.classDescriptor).toEqual(CLASS);
  });

  it('tolerates a longer 0x21 descriptor', () => {
    const longer = concatBytes(CLASS, Uint8Array.of(0xaa, 0xbb));
    longer[0] = 56;
    const info = findCcidInterface(parseConfigurationDescriptor(config(IFACE(0, 0x0b, 2), longer, EP_BULK_OUT, EP_BULK_IN)));
    expect(info.classDescriptor.length).toBe(56);
  });

  it('does not take a HID descriptor (also type 0x21, 9 bytes) for a CCID one', () => {
    const hid = fromHex('09 21 11 01 00 01 22 21 00');
    const bytes = config(IFACE(0, 0x03, 1), hid, EP_INT_IN, IFACE(1, 0x0b, 3), CLASS, EP_BULK_OUT, EP_BULK_IN, fromHex('07 05 84 03 08 00 10'));
    const info = findCcidInterface(parseConfigurationDescriptor(bytes));
    expect(info.iface.bInterfaceNumber).toBe(1);
    expect(info.interruptIn?.bEndpointAddress).toBe(0x84);
    const vendorWithHid = config(IFACE(0, 0xff, 2), hid, EP_BULK_OUT, EP_BULK_IN);
    expect(codeOf(() => findCcidInterface(parseConfigurationDescriptor(vendorWithHid)))).toBe('ccid/no-interface');
  });

  it('dual reader: lists both, picks the first or the one asked for', () => {
    const second = CLASS.slice();
    second[4] = 1; // bMaxSlotIndex
    const bytes = config(
      IFACE(0, 0x0b, 3), CLASS, EP_BULK_OUT, EP_BULK_IN, EP_INT_IN,
      IFACE(1, 0x0b, 3), second, fromHex('07 05 04 02 40 00 00'), fromHex('07 05 85 02 40 00 00'), fromHex('07 05 86 03 08 00 10'),
    );
    const c = parseConfigurationDescriptor(bytes);
    expect(c.bNumInterfaces).toBe(2);
    const all = findCcidInterfaces(c);
    expect(all.map((i) => [i.iface.bInterfaceNumber, i.bulkIn.bEndpointAddress, i.bulkOut.bEndpointAddress, i.interruptIn?.bEndpointAddress])).toEqual([
      [0, 0x82, 0x01, 0x83],
      [1, 0x85, 0x04, 0x86],
    ]);
    expect(findCcidInterface(c).iface.bInterfaceNumber).toBe(0);
    expect(findCcidInterface(c, { interfaceNumber: 1 }).classDescriptor).toEqual(second);
    expect(codeOf(() => findCcidInterface(c, { interfaceNumber: 2 }))).toBe('ccid/no-interface');
  });

  it('takes the first qualifying alternate setting only once', () => {
    const c = parseConfigurationDescriptor(config(IFACE(0, 0x0b, 0, 0), IFACE(0, 0x0b, 2, 1), CLASS, EP_BULK_OUT, EP_BULK_IN, IFACE(0, 0x0b, 2, 2), CLASS, EP_BULK_OUT, EP_BULK_IN));
    const all = findCcidInterfaces(c);
    expect(all).toHaveLength(1);
    expect(all[0]!.iface.bAlternateSetting).toBe(1);
  });

  it('class 0x0B without a class descriptor: ccid/no-class-descriptor', () => {
    const c = parseConfigurationDescriptor(config(IFACE(0, 0x0b, 3), EP_BULK_OUT, EP_BULK_IN, EP_INT_IN));
    expect(codeOf(() => findCcidInterface(c))).toBe('ccid/no-class-descriptor');
  });

  it('a 53-byte 0x21 descriptor is not a CCID class descriptor', () => {
    const short = CLASS.slice(0, 53);
    short[0] = 53;
    const c = parseConfigurationDescriptor(config(IFACE(0, 0x0b, 2), short, EP_BULK_OUT, EP_BULK_IN));
    expect(findCcidClassDescriptor(c.interfaces[0]!)).toBeUndefined();
    expect(codeOf(() => findCcidInterface(c))).toBe('ccid/no-class-descriptor');
  });

  it('vendor class without a class descriptor, or other classes: ccid/no-interface', () => {
    expect(codeOf(() => findCcidInterface(parseConfigurationDescriptor(config(IFACE(0, 0xff, 2), EP_BULK_OUT, EP_BULK_IN))))).toBe('ccid/no-interface');
    expect(codeOf(() => findCcidInterface(parseConfigurationDescriptor(config(IFACE(0, 0x08, 2), CLASS, EP_BULK_OUT, EP_BULK_IN))))).toBe('ccid/no-interface');
    expect(codeOf(() => findCcidInterface(parseConfigurationDescriptor(STANDARD.slice(0, 9))))).toBe('ccid/no-interface');
  });

  it('ICCD token (class 0x0B, control transfers, no bulk pair): ccid/no-interface', () => {
    const iccdB = config(IFACE(0, 0x0b, 1, 0, 2), CLASS, EP_INT_IN);
    const iccdA = config(IFACE(0, 0x0b, 0, 0, 1), CLASS);
    expect(codeOf(() => findCcidInterface(parseConfigurationDescriptor(iccdB)))).toBe('ccid/no-interface');
    expect(codeOf(() => findCcidInterface(parseConfigurationDescriptor(iccdA)))).toBe('ccid/no-interface');
    expect(findBulkEndpoints(parseConfigurationDescriptor(iccdB).interfaces[0]!)).toBeUndefined();
  });

  it('an ICCD interface next to a bulk CCID interface: the bulk one is chosen', () => {
    const bytes = config(IFACE(0, 0x0b, 0, 0, 1), CLASS, IFACE(1, 0x0b, 2), CLASS, EP_BULK_OUT, EP_BULK_IN);
    expect(findCcidInterface(parseConfigurationDescriptor(bytes)).iface.bInterfaceNumber).toBe(1);
  });
});

describe('encodeConfigurationDescriptor', () => {
  const ccidIface: InterfaceDescriptorInit = {
    bInterfaceNumber: 0,
    bAlternateSetting: 0,
    bInterfaceClass: 0x0b,
    bInterfaceSubClass: 0,
    bInterfaceProtocol: 0,
    extra: [CLASS],
    endpoints: [
      { bEndpointAddress: 0x01, bmAttributes: 2, wMaxPacketSize: 64, bInterval: 0 },
      { bEndpointAddress: 0x82, bmAttributes: 2, wMaxPacketSize: 64, bInterval: 0 },
      { bEndpointAddress: 0x83, bmAttributes: 3, wMaxPacketSize: 8, bInterval: 16 },
    ],
  };

  it('encodes the hand-written example byte for byte', () => {
    const out = encodeConfigurationDescriptor({ bConfigurationValue: 1, bmAttributes: 0xa0, bMaxPower: 0x32, interfaces: [ccidIface] });
    expect(toHex(out)).toBe(toHex(STANDARD));
  });

  it('defaults bmAttributes 0x80, bMaxPower 50, iInterface 0', () => {
    const out = encodeConfigurationDescriptor({ bConfigurationValue: 2, interfaces: [] });
    expect(toHex(out)).toBe('09 02 09 00 00 02 00 80 32');
  });

  it('counts distinct interface numbers and endpoints per alternate setting; writes iInterface', () => {
    const out = encodeConfigurationDescriptor({
      bConfigurationValue: 1,
      interfaces: [
        { ...ccidIface, endpoints: [], extra: [] },
        { ...ccidIface, bAlternateSetting: 1, iInterface: 4 },
        { ...ccidIface, bInterfaceNumber: 1, bInterfaceClass: 0xff },
      ],
    });
    const c = parseConfigurationDescriptor(out);
    expect(c.wTotalLength).toBe(out.length);
    expect(out.length).toBe(9 + 9 + (9 + 54 + 21) * 2);
    expect(c.bNumInterfaces).toBe(2);
    expect(c.interfaces.map((i) => [i.bInterfaceNumber, i.bAlternateSetting, i.bNumEndpoints, i.iInterface])).toEqual([
      [0, 0, 0, 0],
      [0, 1, 3, 4],
      [1, 0, 3, 0],
    ]);
    expect(findCcidInterfaces(c)).toHaveLength(2);
  });

  it('rejects bad input with ccid/bad-descriptor', () => {
    const enc = (patch: Partial<InterfaceDescriptorInit>, top: object = {}) => () =>
      encodeConfigurationDescriptor({ bConfigurationValue: 1, interfaces: [{ ...ccidIface, ...patch }], ...top });
    expect(codeOf(enc({ extra: [fromHex('05 21 00')] }))).toBe('ccid/bad-descriptor');
    expect(codeOf(enc({ extra: [fromHex('01')] }))).toBe('ccid/bad-descriptor');
    expect(codeOf(enc({ bInterfaceClass: 256 }))).toBe('ccid/bad-descriptor');
    expect(codeOf(enc({ endpoints: [{ bEndpointAddress: 1, bmAttributes: 2, wMaxPacketSize: 70000, bInterval: 0 }] }))).toBe('ccid/bad-descriptor');
    expect(codeOf(enc({ endpoints: [{ bEndpointAddress: -1, bmAttributes: 2, wMaxPacketSize: 64, bInterval: 0 }] }))).toBe('ccid/bad-descriptor');
    expect(codeOf(enc({}, { bMaxPower: 1.5 }))).toBe('ccid/bad-descriptor');
    const bigExtra = new Uint8Array(255);
    bigExtra[0] = 255;
    bigExtra[1] = 0x24;
    const many = Array.from({ length: 260 }, () => bigExtra);
    expect(codeOf(enc({ extra: many }))).toBe('ccid/bad-descriptor');
  });

  it('encode then parse gives back every field (property)', () => {
    const byte = fc.integer({ min: 0, max: 255 });
    const extra = fc
      .tuple(fc.integer({ min: 0, max: 253 }), fc.integer({ min: 0, max: 255 }).filter((t) => t !== 4 && t !== 5))
      .chain(([n, t]) => fc.uint8Array({ minLength: n, maxLength: n }).map((rest) => concatBytes(Uint8Array.of(n + 2, t), rest)));
    const endpoint = fc.record({ bEndpointAddress: byte, bmAttributes: byte, wMaxPacketSize: fc.integer({ min: 0, max: 0xffff }), bInterval: byte });
    const iface = fc.record({
      bInterfaceNumber: byte,
      bAlternateSetting: byte,
      bInterfaceClass: byte,
      bInterfaceSubClass: byte,
      bInterfaceProtocol: byte,
      iInterface: byte,
      extra: fc.array(extra, { maxLength: 3 }),
      endpoints: fc.array(endpoint, { maxLength: 4 }),
    });
    fc.assert(
      fc.property(byte, byte, byte, fc.array(iface, { maxLength: 5 }), (bConfigurationValue, bmAttributes, bMaxPower, interfaces) => {
        const out = encodeConfigurationDescriptor({ bConfigurationValue, bmAttributes, bMaxPower, interfaces });
        const c = parseConfigurationDescriptor(out);
        expect(c).toMatchObject({ wTotalLength: out.length, bConfigurationValue, bmAttributes, bMaxPower, truncated: false });
        expect(c.bNumInterfaces).toBe(new Set(interfaces.map((i) => i.bInterfaceNumber)).size);
        expect(c.interfaces.length).toBe(interfaces.length);
        c.interfaces.forEach((got, k) => {
          const want = interfaces[k]!;
          expect(got).toMatchObject({
            bInterfaceNumber: want.bInterfaceNumber,
            bAlternateSetting: want.bAlternateSetting,
            bNumEndpoints: want.endpoints.length,
            bInterfaceClass: want.bInterfaceClass,
            bInterfaceSubClass: want.bInterfaceSubClass,
            bInterfaceProtocol: want.bInterfaceProtocol,
            iInterface: want.iInterface,
          });
          expect(got.extra).toEqual(want.extra);
          expect(got.endpoints.map(({ bEndpointAddress, bmAttributes, wMaxPacketSize, bInterval }) => ({ bEndpointAddress, bmAttributes, wMaxPacketSize, bInterval }))).toEqual(want.endpoints);
        });
      }),
      { numRuns: 300 },
    );
  });
});
