import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../bytes.js';
import { ProtocolError, WebCcidError } from '../errors.js';
import { decodeInverseByte, parseAtr, type AtrInterfaceGroup } from './atr.js';

const HCA = '3B F9 18 00 00 81 31 FE 45 50 56 5F 4A 32 44 30 38 31 B6';
const MOICA_OLD = '3B B8 13 00 81 31 FA 52 43 48 54 4D 4F 49 43 41 A5';
const MOICA_NEW = '3B D8 96 00 81 B1 FE 45 1F 07 43 48 54 47 50 4B 49 4A DD';
const QEMU = '3B 7A 18 00 00 73 66 74 65 20 63 64 31 34 34';
const INVERSE = '3F 65 25 08 22 04 68 90 00';

const ascii = (b: Uint8Array): string => new TextDecoder('latin1').decode(b);

/** Appends TCK (XOR of T0..last) to an ATR given without it. */
function withTck(hex: string): Uint8Array {
  const b = fromHex(hex);
  let x = 0;
  for (let i = 1; i < b.length; i++) x ^= b[i]!;
  return Uint8Array.of(...b, x);
}

function expectBadAtr(bytes: Uint8Array, opts?: { strict?: boolean }): void {
  let caught: unknown;
  try {
    parseAtr(bytes, opts);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ProtocolError);
  expect((caught as ProtocolError).code).toBe('protocol/bad-atr');
}

describe('parseAtr: real cards', () => {
  it('decodes the HCA health professional card', () => {
    const atr = parseAtr(fromHex(HCA));
    expect(atr.convention).toBe('direct');
    expect(atr.decodedFromRaw).toBe(false);
    expect(atr.protocols).toEqual([1]);
    expect(atr.fi).toBe(372);
    expect(atr.di).toBe(12);
    expect(atr.fiIndex).toBe(1);
    expect(atr.diIndex).toBe(8);
    expect(atr.ta1Reserved).toBe(false);
    expect(atr.fMaxHz).toBe(5e6);
    expect(atr.extraGuardTime).toBe(0);
    expect(atr.ifsc).toBe(254);
    expect(atr.bwi).toBe(4);
    expect(atr.cwi).toBe(5);
    expect(atr.edc).toBe('lrc');
    expect(atr.wi).toBeUndefined();
    expect(atr.specificMode).toBeUndefined();
    expect(ascii(atr.historicalBytes)).toBe('PV_J2D081');
    expect(atr.tck).toBe(0xb6);
    expect(atr.tckValid).toBe(true);
    expect(atr.groups).toEqual<AtrInterfaceGroup[]>([
      { ta: 0x18, tb: 0x00, tc: 0x00, td: 0x81, protocol: 1 },
      { td: 0x31, protocol: 1 },
      { ta: 0xfe, tb: 0x45 },
    ]);
    expect(Array.from(atr.bytes)).toEqual(Array.from(fromHex(HCA)));
  });

  it('decodes the old MOICA card', () => {
    const atr = parseAtr(fromHex(MOICA_OLD));
    expect(atr.protocols).toEqual([1]);
    expect([atr.fi, atr.di, atr.fiIndex, atr.diIndex, atr.fMaxHz]).toEqual([372, 4, 1, 3, 5e6]);
    expect(atr.ifsc).toBe(0xfa);
    expect([atr.bwi, atr.cwi]).toEqual([5, 2]);
    expect(atr.edc).toBe('lrc');
    expect(ascii(atr.historicalBytes)).toBe('CHTMOICA');
    expect(atr.tck).toBe(0xa5);
    expect(atr.tckValid).toBe(true);
    expect(atr.groups[0]).toEqual({ ta: 0x13, tb: 0x00, td: 0x81, protocol: 1 });
  });

  it('decodes the newer MOICA card (T=15 global bytes)', () => {
    const atr = parseAtr(fromHex(MOICA_NEW));
    expect(atr.protocols).toEqual([1]);
    expect([atr.fi, atr.di, atr.fiIndex, atr.diIndex, atr.fMaxHz]).toEqual([512, 32, 9, 6, 5e6]);
    expect(atr.extraGuardTime).toBe(0);
    expect(atr.ifsc).toBe(254);
    expect([atr.bwi, atr.cwi]).toEqual([4, 5]);
    expect(atr.clockStop).toBe('not-supported');
    expect(atr.classes).toEqual(['A', 'B', 'C']);
    expect(ascii(atr.historicalBytes)).toBe('CHTGPKIJ');
    expect(atr.tckValid).toBe(true);
    expect(atr.groups.map((g) => g.protocol)).toEqual([1, 1, 15, undefined]);
  });

  it("decodes QEMU's emulated card: T=0 only, no TCK", () => {
    const atr = parseAtr(fromHex(QEMU));
    expect(atr.protocols).toEqual([0]);
    expect([atr.fi, atr.di]).toEqual([372, 12]);
    expect(atr.wi).toBe(10);
    expect(atr.ifsc).toBeUndefined();
    expect(atr.edc).toBeUndefined();
    expect(ascii(atr.historicalBytes)).toBe('sfte cd144');
    expect(atr.tck).toBeUndefined();
    expect(atr.tckValid).toBeUndefined();
    expect(atr.groups).toEqual([{ ta: 0x18, tb: 0, tc: 0 }]);
  });
});

describe('parseAtr: constructed cases', () => {
  it('T=0 and T=1 offered: protocol-specific bytes go to the right protocol', () => {
    // TA1=13, TD1: TC2+TD2 T=0, TC2=14 (WI 20), TD2: TA3 TB3 TC3 T=1, TA3=80, TB3=25, TC3=01 (CRC)
    const atr = parseAtr(withTck('3B 95 13 C0 14 71 80 25 01 48 45 4C 4C 4F'));
    expect(atr.protocols).toEqual([0, 1]);
    expect(atr.wi).toBe(20);
    expect(atr.ifsc).toBe(128);
    expect([atr.bwi, atr.cwi]).toEqual([2, 5]);
    expect(atr.edc).toBe('crc');
    expect(ascii(atr.historicalBytes)).toBe('HELLO');
    expect(atr.tckValid).toBe(true);
  });

  it('ignores a TA3 that belongs to T=0 when looking for IFSC', () => {
    // TD1 T=1 (TD2), TD2 T=0 (TA3, TD3), TA3=20 (T=0), TD3 T=1 (TA4), TA4=40
    const atr = parseAtr(withTck('3B 80 81 90 20 11 40'));
    expect(atr.protocols).toEqual([1, 0]);
    expect(atr.ifsc).toBe(0x40);
    expect([atr.bwi, atr.cwi, atr.edc]).toEqual([4, 13, 'lrc']);
  });

  it('T=1 defaults without TA3/TB3/TC3', () => {
    const atr = parseAtr(withTck('3B 80 01'));
    expect(atr.protocols).toEqual([1]);
    expect([atr.ifsc, atr.bwi, atr.cwi, atr.edc]).toEqual([32, 4, 13, 'lrc']);
    expect([atr.fi, atr.di, atr.fiIndex, atr.diIndex, atr.fMaxHz]).toEqual([372, 1, 1, 1, 5e6]);
  });

  it('reads IFSC 0xFF as 254 and 0x00 as the default 32', () => {
    expect(parseAtr(withTck('3B 80 81 11 FF')).ifsc).toBe(254);
    expect(parseAtr(withTck('3B 80 81 11 00')).ifsc).toBe(32);
  });

  it('no interface bytes at all: T=0 with defaults', () => {
    const atr = parseAtr(fromHex('3B 00'));
    expect(atr.protocols).toEqual([0]);
    expect(atr.groups).toEqual([{}]);
    expect([atr.fi, atr.di, atr.wi, atr.extraGuardTime]).toEqual([372, 1, 10, 0]);
    expect(atr.tckValid).toBeUndefined();
  });

  it('TA2: specific mode', () => {
    const atr = parseAtr(withTck('3B 90 18 11 81'));
    expect(atr.specificMode).toEqual({ protocol: 1, implicit: false, canChange: false });
    const atr2 = parseAtr(withTck('3B 90 18 11 11'));
    expect(atr2.specificMode).toEqual({ protocol: 1, implicit: true, canChange: true });
  });

  // 7816-3 §8.3, first TA for T=15: bits 8-7 clock stop indicator X (00 not supported, 01 state L,
  // 10 state H, 11 no preference), bits 6-1 class indicator Y (bit 1 class A, bit 2 B, bit 3 C).
  it.each([
    [0x41, 'low', ['A']],
    [0x82, 'high', ['B']],
    [0x04, 'not-supported', ['C']],
    [0xc3, 'no-preference', ['A', 'B']],
    [0x00, 'not-supported', []],
  ] as const)('first TA for T=15 = %i: clock stop and classes bit by bit', (ta, clockStop, classes) => {
    const atr = parseAtr(withTck(`3B 80 80 1F ${ta.toString(16).padStart(2, '0')}`));
    expect(atr.tckValid).toBe(true);
    expect(atr.protocols).toEqual([0]);
    expect(atr.clockStop).toBe(clockStop);
    expect(atr.classes).toEqual(classes);
  });

  it('TC1 extra guard time', () => {
    expect(parseAtr(fromHex('3B 40 FF')).extraGuardTime).toBe(255);
  });

  it('a T=0-only ATR that still carries a TCK keeps it', () => {
    const atr = parseAtr(Uint8Array.of(...fromHex(QEMU), 0x00));
    expect(atr.tck).toBe(0);
    expect(typeof atr.tckValid).toBe('boolean');
  });

  it('flags a bad TCK without failing', () => {
    const b = fromHex(HCA);
    b[b.length - 1] = 0xb7;
    const atr = parseAtr(b);
    expect(atr.tck).toBe(0xb7);
    expect(atr.tckValid).toBe(false);
    expect(atr.protocols).toEqual([1]);
  });

  it('inverse convention, already decoded (TS 3F)', () => {
    const atr = parseAtr(fromHex(INVERSE));
    expect(atr.convention).toBe('inverse');
    expect(atr.decodedFromRaw).toBe(false);
    expect(atr.protocols).toEqual([0]);
    expect(atr.groups).toEqual([{ tb: 0x25, tc: 0x08 }]);
    expect(atr.extraGuardTime).toBe(8);
    expect(Array.from(atr.historicalBytes)).toEqual([0x22, 0x04, 0x68, 0x90, 0x00]);
  });

  it('inverse convention, raw (TS 03): decodes every byte', () => {
    const decoded = fromHex(INVERSE);
    const raw = decoded.map(decodeInverseByte);
    expect(raw[0]).toBe(0x03);
    const atr = parseAtr(raw);
    expect(atr.convention).toBe('inverse');
    expect(atr.decodedFromRaw).toBe(true);
    expect(Array.from(atr.bytes)).toEqual(Array.from(decoded));
    expect(atr.extraGuardTime).toBe(8);
  });

  it('decodeInverseByte: complement + bit reversal, an involution', () => {
    expect(decodeInverseByte(0x03)).toBe(0x3f);
    expect(decodeInverseByte(0x3f)).toBe(0x03);
    expect(decodeInverseByte(0xff)).toBe(0x00);
    expect(decodeInverseByte(0x80)).toBe(0xfe);
    for (let b = 0; b < 256; b++) expect(decodeInverseByte(decodeInverseByte(b))).toBe(b);
  });

  it('reserved TA1 is not fatal by default: raw nibbles kept, rate at defaults', () => {
    const atr = parseAtr(fromHex('3B 10 71')); // Fi index 7 is RFU
    expect(atr.ta1Reserved).toBe(true);
    expect([atr.fiIndex, atr.diIndex]).toEqual([7, 1]);
    expect([atr.fi, atr.di, atr.fMaxHz]).toEqual([372, 1, 5e6]);
    const atr2 = parseAtr(fromHex('3B 10 1A')); // Di index 10 is RFU
    expect(atr2.ta1Reserved).toBe(true);
    expect([atr2.fi, atr2.di, atr2.diIndex]).toEqual([372, 1, 10]);
  });

  it('every valid TA1 decodes through the tables', () => {
    const atr = parseAtr(fromHex('3B 10 D9'));
    expect([atr.fi, atr.di, atr.fMaxHz]).toEqual([2048, 20, 20e6]);
    const atr0 = parseAtr(fromHex('3B 10 01'));
    expect([atr0.fi, atr0.di, atr0.fMaxHz]).toEqual([372, 1, 4e6]);
  });
});

describe('parseAtr: must fail with protocol/bad-atr', () => {
  const cases: Array<[string, Uint8Array, { strict?: boolean }?]> = [
    ['empty', new Uint8Array(0)],
    ['TS only', fromHex('3B')],
    ['TS 3C', fromHex('3C 00')],
    ['TS 00', fromHex('00 00')],
    ['truncated in interface bytes', fromHex('3B F9 18 00')],
    ['truncated in TD chain', fromHex('3B 80 81')],
    ['truncated in TA2 (TD1 announces TA2 TB2)', fromHex('3B 80 B1 11')],
    ['truncated after TD2 announces T=1 bytes', fromHex('3B 80 80 71 11 22')],
    ['34 bytes', Uint8Array.of(0x3b, 0x0f, ...new Array<number>(32).fill(0x41))],
    ['reserved Fi, strict', fromHex('3B 10 71'), { strict: true }],
    ['reserved Di, strict', fromHex('3B 10 10'), { strict: true }],
    ['truncated in historical bytes, strict', fromHex('3B 0A 41 42'), { strict: true }],
    ['TCK missing, strict', fromHex(HCA).slice(0, -1), { strict: true }],
    ['trailing bytes after TCK, strict', Uint8Array.of(...fromHex(HCA), 0x00), { strict: true }],
  ];
  for (const [name, bytes, opts] of cases) {
    it(name, () => expectBadAtr(bytes, opts));
  }

  it('accepts exactly 33 bytes', () => {
    const b = Uint8Array.of(0x3b, 0x0f, ...new Array<number>(15).fill(0x41));
    expect(parseAtr(b).historicalBytes.length).toBe(15);
    // 33 bytes: TS T0 TD1..TD15 (14 x T=0 then T=1), 15 historical bytes, TCK
    const long = withTck(`3B 8F ${'80 '.repeat(14)}01 ${'41 '.repeat(15)}`);
    expect(long.length).toBe(33);
    expect(parseAtr(long).groups.length).toBe(16);
  });
});

/**
 * ATRs real cards send, from the public ATR list (pcsc-tools' smartcard_list.txt),
 * that pcsc-lite's ATRDecodeAtr accepts (it reads TS and the interface bytes only)
 * but whose byte count disagrees with T0. They are parsed, with their defects named.
 */
describe('parseAtr: real ATRs with defects are parsed (public ATR list)', () => {
  type Row = [name: string, atr: string, protocols: number[], historical: string, defects: string[]];
  const rows: Row[] = [
    // TCK missing although T=1 is announced.
    ['NXP JCOP', '3B F8 13 00 00 81 31 FE 45 4A 4F 50 76 32 34 31 B7', [1], '4A 4F 50 76 32 34 31 B7', ['tck-missing']],
    ['T=1 card, TCK missing', '3B EE 00 00 81 31 80 43 80 31 80 66 B1 A1 11 01 00 F6 83 00 90 00', [1], '80 31 80 66 B1 A1 11 01 00 F6 83 00 90 00', ['tck-missing']],
    ['JCOP21 V2.3.1', '3B FA 13 00 00 81 31 FE 45 4A 43 4F 50 32 31 56 32 33 31', [1], '4A 43 4F 50 32 31 56 32 33 31', ['tck-missing']],
    ['T=0 and T=1 announced, TCK missing', '3B 8F 80 01 80 31 80 65 49 54 4A 34 42 12 0F FF 82 90 00', [0, 1], '80 31 80 65 49 54 4A 34 42 12 0F FF 82 90 00', ['tck-missing']],
    // Fewer historical bytes than T0 declares.
    ['13 historical bytes declared, none sent', '3B 6D 00 00', [0], '', ['historical-bytes-truncated']],
    ['10 declared, none sent (TC2 only)', '3B BA 94 00 40 14', [0], '', ['historical-bytes-truncated']],
    ['T=1: 10 declared, 7 sent, no TCK', '3B FA 13 00 00 81 31 FE 54 A4 34 F5 03 23 31 91', [1], 'A4 34 F5 03 23 31 91', ['historical-bytes-truncated', 'tck-missing']],
    // Bytes after the ATR (libccid ignores them too).
    ['T=0, bytes after the historical bytes', '3B 02 30 92 01 24 00 16 07 00 00', [0], '30 92', ['trailing-bytes']],
    ['T=1, bytes after TCK', '3B 84 80 01 01 11 20 03 36 90 00', [0, 1], '01 11 20 03', ['trailing-bytes']],
  ];
  it.each(rows)('%s: %s', (_name, hex, protocols, historical, defects) => {
    const bytes = fromHex(hex);
    const atr = parseAtr(bytes);
    expect(atr.protocols).toEqual(protocols);
    expect(atr.historicalBytes).toEqual(fromHex(historical));
    expect(atr.defects).toEqual(defects);
    expect(atr.bytes).toEqual(bytes);
    if (defects.includes('tck-missing')) {
      expect(atr.tck).toBeUndefined();
      expect(atr.tckValid).toBe(false);
    }
    expect(() => parseAtr(bytes, { strict: true })).toThrow(ProtocolError);
  });

  it('the T=1 parameters still come from the interface bytes', () => {
    const atr = parseAtr(fromHex('3B F8 13 00 00 81 31 FE 45 4A 4F 50 76 32 34 31 B7'));
    expect([atr.fi, atr.di, atr.ifsc, atr.bwi, atr.cwi, atr.edc]).toEqual([372, 4, 254, 4, 5, 'lrc']);
  });

  it('a well-formed ATR has no defects; a wrong TCK is listed but not fatal, even with strict', () => {
    expect(parseAtr(fromHex(HCA)).defects).toEqual([]);
    expect(parseAtr(fromHex(QEMU)).defects).toEqual([]);
    const wrong = fromHex(HCA);
    wrong[wrong.length - 1] = wrong[wrong.length - 1]! ^ 0xff;
    expect(parseAtr(wrong).defects).toEqual(['tck-wrong']);
    expect(parseAtr(wrong, { strict: true }).tckValid).toBe(false);
  });
});

describe('parseAtr: properties', () => {
  const ourErrorOrResult = (bytes: Uint8Array): void => {
    try {
      const atr = parseAtr(bytes);
      expect(atr.protocols.length).toBeGreaterThan(0);
      expect(atr.bytes.length).toBe(bytes.length);
    } catch (e) {
      expect(e).toBeInstanceOf(WebCcidError);
      expect((e as WebCcidError).code).toBe('protocol/bad-atr');
    }
  };

  it('any bytes: an Atr or protocol/bad-atr', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), ourErrorOrResult), { numRuns: 2000 });
  });

  it('any bytes after a valid TS: an Atr or protocol/bad-atr', () => {
    fc.assert(
      fc.property(fc.constantFrom(0x3b, 0x3f, 0x03), fc.uint8Array({ maxLength: 34 }), (ts, rest) =>
        ourErrorOrResult(Uint8Array.of(ts, ...rest)),
      ),
      { numRuns: 3000 },
    );
  });

  it('well-formed ATRs round-trip their groups and historical bytes', () => {
    const group = fc.record({
      ta: fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
      tb: fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
      tc: fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
      t: fc.integer({ min: 0, max: 15 }),
    });
    fc.assert(
      fc.property(fc.array(group, { minLength: 1, maxLength: 4 }), fc.uint8Array({ maxLength: 15 }), (gs, hist) => {
        // Build: TS T0 [groups] hist [TCK]
        const ybits = (g: (typeof gs)[number], hasTd: boolean): number =>
          (g.ta !== undefined ? 1 : 0) | (g.tb !== undefined ? 2 : 0) | (g.tc !== undefined ? 4 : 0) | (hasTd ? 8 : 0);
        const out: number[] = [0x3b, (ybits(gs[0]!, gs.length > 1) << 4) | hist.length];
        const ts: number[] = [];
        gs.forEach((g, i) => {
          if (g.ta !== undefined) out.push(g.ta);
          if (g.tb !== undefined) out.push(g.tb);
          if (g.tc !== undefined) out.push(g.tc);
          const nextG = gs[i + 1];
          if (nextG) {
            out.push((ybits(nextG, i + 2 < gs.length) << 4) | g.t);
            ts.push(g.t);
          }
        });
        out.push(...hist);
        const needTck = ts.some((t) => t !== 0);
        if (needTck) {
          let x = 0;
          for (let i = 1; i < out.length; i++) x ^= out[i]!;
          out.push(x);
        }
        if (out.length > 33) return;
        const atr = parseAtr(Uint8Array.from(out));
        expect(atr.groups.length).toBe(gs.length);
        atr.groups.forEach((g, i) => {
          expect(g.ta).toBe(gs[i]!.ta);
          expect(g.tb).toBe(gs[i]!.tb);
          expect(g.tc).toBe(gs[i]!.tc);
        });
        expect(Array.from(atr.historicalBytes)).toEqual(Array.from(hist));
        expect(atr.tckValid).toBe(needTck ? true : undefined);
      }),
      { numRuns: 1000 },
    );
  });
});
