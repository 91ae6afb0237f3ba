import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fromHex, toHex } from '../bytes.js';
import { ProtocolError } from '../errors.js';
import { encodeApdu, parseApdu, splitResponse } from './apdu.js';
import type { CommandApdu } from './apdu.js';

const seq = (n: number, start = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);

interface Row {
  name: string;
  apdu: CommandApdu;
  extended?: boolean;
  hex: string;
  case: 1 | 2 | 3 | 4;
  isExtended: boolean;
}

const rows: Row[] = [
  { name: 'case 1', apdu: { cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00 }, hex: '00A40400', case: 1, isExtended: false },
  { name: 'case 2S Le=1', apdu: { cla: 0x00, ins: 0xb0, p1: 0, p2: 0, le: 1 }, hex: '00B0000001', case: 2, isExtended: false },
  { name: 'case 2S Le=255', apdu: { cla: 0x00, ins: 0xb0, p1: 0, p2: 0, le: 255 }, hex: '00B00000FF', case: 2, isExtended: false },
  { name: 'case 2S Le=256 is 00', apdu: { cla: 0x00, ins: 0xb0, p1: 0, p2: 0, le: 256 }, hex: '00B0000000', case: 2, isExtended: false },
  {
    name: 'case 3S',
    apdu: { cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: fromHex('A0 00 00 00 03') },
    hex: '00A4040005A000000003',
    case: 3,
    isExtended: false,
  },
  {
    name: 'case 4S Le=256',
    apdu: { cla: 0x80, ins: 0x2a, p1: 0x9e, p2: 0x9a, data: fromHex('01 02'), le: 256 },
    hex: '802A9E9A02010200',
    case: 4,
    isExtended: false,
  },
  { name: 'case 4S Le=16', apdu: { cla: 0, ins: 0x88, p1: 0, p2: 0, data: fromHex('AA'), le: 16 }, hex: '0088000001AA10', case: 4, isExtended: false },
  { name: 'case 2E Le=257', apdu: { cla: 0, ins: 0xb0, p1: 0, p2: 0, le: 257 }, hex: '00B00000000101', case: 2, isExtended: true },
  { name: 'case 2E Le=65536 is 0000', apdu: { cla: 0, ins: 0xb0, p1: 0, p2: 0, le: 65536 }, hex: '00B00000000000', case: 2, isExtended: true },
  { name: 'case 2E forced, Le=1', apdu: { cla: 0, ins: 0xb0, p1: 0, p2: 0, le: 1 }, extended: true, hex: '00B00000000001', case: 2, isExtended: true },
  { name: 'case 3E forced, Nc=1', apdu: { cla: 0, ins: 0xd6, p1: 0, p2: 0, data: fromHex('55') }, extended: true, hex: '00D6000000000155', case: 3, isExtended: true },
  {
    name: 'case 4E forced, Nc=1, Le=256',
    apdu: { cla: 0, ins: 0x88, p1: 0, p2: 0, data: fromHex('55'), le: 256 },
    extended: true,
    hex: '00880000000001550100',
    case: 4,
    isExtended: true,
  },
  {
    name: 'case 4S with Le=65536 becomes 4E',
    apdu: { cla: 0, ins: 0x88, p1: 1, p2: 2, data: fromHex('55 66'), le: 65536 },
    hex: '0088010200000255660000',
    case: 4,
    isExtended: true,
  },
];

describe('encodeApdu / parseApdu table', () => {
  for (const r of rows) {
    it(`encodes ${r.name}`, () => {
      expect(toHex(encodeApdu(r.apdu, { extended: r.extended }), '')).toBe(r.hex);
    });
    it(`parses ${r.name}`, () => {
      const p = parseApdu(fromHex(r.hex));
      expect(p.case).toBe(r.case);
      expect(p.extended).toBe(r.isExtended);
      expect([p.cla, p.ins, p.p1, p.p2]).toEqual([r.apdu.cla, r.apdu.ins, r.apdu.p1, r.apdu.p2]);
      expect(toHex(p.header, '')).toBe(r.hex.slice(0, 8));
      expect(p.le).toBe(r.apdu.le);
      expect(p.data ? toHex(p.data) : undefined).toBe(r.apdu.data ? toHex(r.apdu.data) : undefined);
    });
  }

  it('case 3E with Nc=256 (automatic extended)', () => {
    const data = seq(256);
    const bytes = encodeApdu({ cla: 0, ins: 0xd6, p1: 0, p2: 0, data });
    expect(bytes.length).toBe(7 + 256);
    expect(toHex(bytes.subarray(0, 7), '')).toBe('00D60000000100');
    const p = parseApdu(bytes);
    expect(p.case).toBe(3);
    expect(p.extended).toBe(true);
    expect(p.data).toEqual(data);
  });

  it('case 4E with Nc=65535 and Le=65536', () => {
    const data = seq(65535, 3);
    const bytes = encodeApdu({ cla: 0, ins: 0xda, p1: 0, p2: 0, data, le: 65536 });
    expect(bytes.length).toBe(9 + 65535);
    expect(toHex(bytes.subarray(0, 7), '')).toBe('00DA000000FFFF');
    expect(toHex(bytes.subarray(bytes.length - 2), '')).toBe('0000');
    const p = parseApdu(bytes);
    expect(p.case).toBe(4);
    expect(p.le).toBe(65536);
    expect(p.data).toEqual(data);
  });

  it('treats empty data as absent', () => {
    expect(toHex(encodeApdu({ cla: 0, ins: 0xb0, p1: 0, p2: 0, data: new Uint8Array(0), le: 4 }), '')).toBe('00B0000004');
  });
});

describe('parseApdu must-fail', () => {
  const bad: Array<[string, string]> = [
    ['empty', ''],
    ['3 bytes', '00A404'],
    ['short Lc longer than data', '00A4040005A000'],
    ['short Lc shorter than data by 2', '00A4040001AABBCC'],
    ['B1=00 with 6 bytes', '00A404000000'],
    ['extended Lc 0000 with data', '00D6000000000055'],
    ['extended Lc 0000 with 8 bytes', '0000000000000000'],
    ['extended Lc mismatch', '00D600000000025566778899'],
    ['extended Lc 1 with 9 bytes', '00D600000000015566'],
  ];
  for (const [name, hex] of bad) {
    it(name, () => {
      expect(() => parseApdu(fromHex(hex))).toThrowError(ProtocolError);
      try {
        parseApdu(fromHex(hex));
      } catch (e) {
        expect((e as ProtocolError).code).toBe('protocol/bad-apdu');
      }
    });
  }
});

describe('encodeApdu must-fail', () => {
  const bad: Array<[string, CommandApdu]> = [
    ['CLA 256', { cla: 256, ins: 0, p1: 0, p2: 0 }],
    ['negative P1', { cla: 0, ins: 0, p1: -1, p2: 0 }],
    ['fractional INS', { cla: 0, ins: 1.5, p1: 0, p2: 0 }],
    ['Le 0', { cla: 0, ins: 0, p1: 0, p2: 0, le: 0 }],
    ['Le 65537', { cla: 0, ins: 0, p1: 0, p2: 0, le: 65537 }],
    ['data 65536 bytes', { cla: 0, ins: 0, p1: 0, p2: 0, data: new Uint8Array(65536) }],
  ];
  for (const [name, apdu] of bad) {
    it(name, () => {
      let err: unknown;
      try {
        encodeApdu(apdu);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code).toBe('protocol/bad-apdu');
    });
  }
});

describe('splitResponse', () => {
  it('splits data and SW', () => {
    const r = splitResponse(fromHex('01 02 03 90 00'));
    expect(toHex(r.data)).toBe('01 02 03');
    expect(r.sw).toBe(0x9000);
  });
  it('SW only', () => {
    const r = splitResponse(fromHex('6A 82'));
    expect(r.data.length).toBe(0);
    expect(r.sw).toBe(0x6a82);
  });
  it('fails on fewer than 2 bytes', () => {
    for (const hex of ['', '90']) {
      let err: unknown;
      try {
        splitResponse(fromHex(hex));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code).toBe('protocol/bad-response');
    }
  });
});

const arbApdu: fc.Arbitrary<CommandApdu> = fc.record(
  {
    cla: fc.integer({ min: 0, max: 255 }),
    ins: fc.integer({ min: 0, max: 255 }),
    p1: fc.integer({ min: 0, max: 255 }),
    p2: fc.integer({ min: 0, max: 255 }),
    data: fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.uint8Array({ minLength: 1, maxLength: 5 })),
    le: fc.oneof(fc.integer({ min: 1, max: 256 }), fc.integer({ min: 1, max: 65536 })),
  },
  { requiredKeys: ['cla', 'ins', 'p1', 'p2'] },
);

describe('APDU properties', () => {
  it('parseApdu(encodeApdu(x)) gives x back', () => {
    fc.assert(
      fc.property(arbApdu, fc.boolean(), (apdu, extended) => {
        const bytes = encodeApdu(apdu, { extended });
        const p = parseApdu(bytes);
        expect([p.cla, p.ins, p.p1, p.p2]).toEqual([apdu.cla, apdu.ins, apdu.p1, apdu.p2]);
        expect(p.le).toBe(apdu.le);
        expect(p.data).toEqual(apdu.data);
        const hasData = apdu.data !== undefined;
        const hasLe = apdu.le !== undefined;
        expect(p.case).toBe(hasData ? (hasLe ? 4 : 3) : hasLe ? 2 : 1);
        const mustExtend = (apdu.data?.length ?? 0) > 255 || (apdu.le ?? 0) > 256;
        if (p.case !== 1) expect(p.extended).toBe(extended || mustExtend);
      }),
    );
  });

  it('parseApdu on any bytes: a ParsedApdu that re-encodes to the same bytes, or ProtocolError(bad-apdu)', () => {
    const arbBytes = fc.oneof(
      fc.uint8Array({ maxLength: 12 }),
      fc.uint8Array({ maxLength: 300 }),
      // Plausible shapes: header + short / extended length fields + data.
      fc
        .tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 300 }), fc.boolean(), fc.integer({ min: -2, max: 2 }))
        .map(([h, n, ext, delta]) => {
          const lc = ext ? Uint8Array.of(0, n >> 8, n & 0xff) : Uint8Array.of(n & 0xff);
          const body = new Uint8Array(Math.max(0, n + delta));
          const out = new Uint8Array(4 + lc.length + body.length);
          out.set(h, 0);
          out.set(lc, 4);
          out.set(body, 4 + lc.length);
          return out;
        }),
    );
    fc.assert(
      fc.property(arbBytes, (bytes) => {
        let p;
        try {
          p = parseApdu(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(ProtocolError);
          expect((e as ProtocolError).code).toBe('protocol/bad-apdu');
          return;
        }
        expect(encodeApdu(p, { extended: p.extended })).toEqual(bytes);
      }),
      { numRuns: 2000 },
    );
  });
});
