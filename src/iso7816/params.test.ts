import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../bytes.js';
import { CcidError, ProtocolError, WebCcidError } from '../errors.js';
import { parseAtr } from './atr.js';
import { decodeProtocolParams, encodeProtocolParams, paramsFromAtr, type ProtocolParams } from './params.js';

function withTck(hex: string): Uint8Array {
  const b = fromHex(hex);
  let x = 0;
  for (let i = 1; i < b.length; i++) x ^= b[i]!;
  return Uint8Array.of(...b, x);
}

const HCA = parseAtr(fromHex('3B F9 18 00 00 81 31 FE 45 50 56 5F 4A 32 44 30 38 31 B6'));
const MOICA_NEW = parseAtr(fromHex('3B D8 96 00 81 B1 FE 45 1F 07 43 48 54 47 50 4B 49 4A DD'));
const QEMU = parseAtr(fromHex('3B 7A 18 00 00 73 66 74 65 20 63 64 31 34 34'));
const INVERSE = parseAtr(fromHex('3F 65 25 08 22 04 68 90 00'));
const BOTH_CRC = parseAtr(withTck('3B 95 13 C0 14 71 80 25 01 48 45 4C 4C 4F'));

describe('paramsFromAtr + encodeProtocolParams', () => {
  const table: Array<[string, () => ProtocolParams, string]> = [
    ['HCA T=1 after PPS to TA1', () => paramsFromAtr(HCA, 1, { fiIndex: 1, diIndex: 8 }), '18 10 00 45 00 FE 00'],
    ['HCA T=1 without PPS', () => paramsFromAtr(HCA, 1), '11 10 00 45 00 FE 00'],
    ['new MOICA T=1 at Di 16', () => paramsFromAtr(MOICA_NEW, 1, { fiIndex: 9, diIndex: 5 }), '95 10 00 45 00 FE 00'],
    ['QEMU T=0', () => paramsFromAtr(QEMU, 0), '11 00 00 0A 00'],
    ['QEMU T=0 after PPS', () => paramsFromAtr(QEMU, 0, { fiIndex: 1, diIndex: 8 }), '18 00 00 0A 00'],
    ['inverse T=0 with TC1 8', () => paramsFromAtr(INVERSE, 0), '11 02 08 0A 00'],
    ['T=0 with TC2 20', () => paramsFromAtr(BOTH_CRC, 0), '11 00 00 14 00'],
    ['T=1 with CRC, IFSC 128, BWI 2 CWI 5', () => paramsFromAtr(BOTH_CRC, 1), '11 11 00 25 00 80 00'],
    ['T=1 asked of a T=0-only ATR: defaults', () => paramsFromAtr(QEMU, 1), '11 10 00 4D 00 20 00'],
    ['specific mode, explicit: TA1', () => paramsFromAtr(parseAtr(withTck('3B 90 18 11 81')), 1), '18 10 00 4D 00 20 00'],
    ['specific mode, implicit: default', () => paramsFromAtr(parseAtr(withTck('3B 90 18 11 91')), 1), '11 10 00 4D 00 20 00'],
    ['clock stop from T=15 TA', () => paramsFromAtr(parseAtr(withTck('3B 80 80 1F C1')), 0), '11 00 00 0A 03'],
    // 7816-3 clock stop indicator (TA for T=15 bits 8-7: 01 state L, 10 state H) -> CCID bClockStop 01h / 02h.
    ['clock stop low from T=15 TA', () => paramsFromAtr(parseAtr(withTck('3B 80 80 1F 41')), 0), '11 00 00 0A 01'],
    ['clock stop high from T=15 TA, T=1', () => paramsFromAtr(parseAtr(withTck('3B 80 81 1F 82')), 1), '11 10 00 4D 02 20 00'],
    ['inverse T=1', () => paramsFromAtr(parseAtr(withTck('3F 80 01')), 1), '11 12 00 4D 00 20 00'],
  ];
  for (const [name, make, hex] of table) {
    it(`${name} -> ${hex}`, () => {
      const p = make();
      const bytes = encodeProtocolParams(p);
      expect(toHex(bytes)).toBe(hex);
      expect(decodeProtocolParams(p.protocol, bytes)).toEqual(p);
    });
  }

  it('HCA T=1 fields by name', () => {
    expect(paramsFromAtr(HCA, 1, { fiIndex: 1, diIndex: 8 })).toEqual({
      protocol: 1,
      bmFindexDindex: 0x18,
      bmTCCKST1: 0x10,
      bGuardTimeT1: 0,
      bmWaitingIntegersT1: 0x45,
      bClockStop: 0,
      bIFSC: 254,
      bNadValue: 0,
    });
  });

  it('encode rejects non-byte fields', () => {
    const p = paramsFromAtr(HCA, 1);
    for (const v of [256, -1, 1.5]) {
      expect(() => encodeProtocolParams({ ...p, bIFSC: v })).toThrow(ProtocolError);
    }
    expect(() => encodeProtocolParams({ ...paramsFromAtr(QEMU, 0), bClockStop: 300 })).toThrow(ProtocolError);
  });
});

describe('decodeProtocolParams', () => {
  it('decodes T=0 and T=1 structures field by field', () => {
    expect(decodeProtocolParams(0, fromHex('13 02 FF 0A 03'))).toEqual({
      protocol: 0,
      bmFindexDindex: 0x13,
      bmTCCKST0: 0x02,
      bGuardTimeT0: 0xff,
      bWaitingIntegerT0: 0x0a,
      bClockStop: 3,
    });
    expect(decodeProtocolParams(1, fromHex('18 11 02 45 00 FE 00'))).toEqual({
      protocol: 1,
      bmFindexDindex: 0x18,
      bmTCCKST1: 0x11,
      bGuardTimeT1: 2,
      bmWaitingIntegersT1: 0x45,
      bClockStop: 0,
      bIFSC: 0xfe,
      bNadValue: 0,
    });
  });

  const bad: Array<[string, number, string]> = [
    ['T=0 too short', 0, '11 00 00 0A'],
    ['T=0 too long', 0, '11 00 00 0A 00 00'],
    ['T=1 too short', 1, '11 10 00 4D 00 20'],
    ['T=1 as 5 bytes', 1, '11 10 00 4D 00'],
    ['empty', 0, ''],
    ['T=2', 2, '11 00 00 0A 00'],
    ['T=-1', -1, '11 00 00 0A 00'],
  ];
  for (const [name, protocol, hex] of bad) {
    it(`must fail: ${name}`, () => {
      let caught: unknown;
      try {
        decodeProtocolParams(protocol, fromHex(hex));
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(CcidError);
      expect((caught as CcidError).code).toBe('ccid/malformed-frame');
    });
  }

  it('property: any input gives params or ccid/malformed-frame; valid ones round-trip', () => {
    fc.assert(
      fc.property(fc.integer({ min: -2, max: 16 }), fc.uint8Array({ maxLength: 10 }), (protocol, bytes) => {
        try {
          const p = decodeProtocolParams(protocol, bytes);
          expect(Array.from(encodeProtocolParams(p))).toEqual(Array.from(bytes));
        } catch (e) {
          expect(e).toBeInstanceOf(WebCcidError);
          expect((e as WebCcidError).code).toBe('ccid/malformed-frame');
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('property: paramsFromAtr works for every parsable ATR', () => {
    fc.assert(
      fc.property(fc.constantFrom(0x3b, 0x3f), fc.uint8Array({ maxLength: 32 }), fc.constantFrom(0 as const, 1 as const), (ts, rest, t) => {
        let atr;
        try {
          atr = parseAtr(Uint8Array.of(ts, ...rest));
        } catch {
          return;
        }
        const bytes = encodeProtocolParams(paramsFromAtr(atr, t));
        expect(bytes.length).toBe(t === 0 ? 5 : 7);
      }),
      { numRuns: 2000 },
    );
  });
});
