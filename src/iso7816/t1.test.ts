import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fromHex, toHex } from '../bytes.js';
import { ProtocolError } from '../errors.js';
import { crc16, hasT1EdcError, lrc, T1Host } from './t1.js';
import { decodeT1Block, encodeT1Block } from './t1-block.js';
import type { T1Action, T1Block, T1Edc } from './t1.js';
import { T1Card } from './t1-card.js';

const hex = (b: Uint8Array): string => toHex(b, '');
const enc = (b: T1Block, edc: T1Edc = 'lrc'): Uint8Array => encodeT1Block(b, edc);
const I = (ns: 0 | 1, more: boolean, inf: string, nad = 0): T1Block => ({ kind: 'I', nad, ns, more, inf: fromHex(inf) });
const R = (nr: 0 | 1, error: 0 | 1 | 2 = 0): T1Block => ({ kind: 'R', nad: 0, nr, error });
const S = (type: 'RESYNCH' | 'IFS' | 'ABORT' | 'WTX', response: boolean, inf = ''): T1Block => ({ kind: 'S', nad: 0, type, response, inf: fromHex(inf) });

function sent(a: T1Action): Uint8Array {
  if (a.kind !== 'send') throw new Error(`expected a send action, got ${a.kind}`);
  return a.block;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    return (e as ProtocolError).code;
  }
  return undefined;
}

/** The ProtocolError `fn` throws. */
function thrown(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    return e as ProtocolError;
  }
  throw new Error('nothing thrown');
}

describe('EDC', () => {
  it('LRC is the XOR of the bytes', () => {
    expect(lrc(fromHex('00 C1 01 FE'))).toBe(0x3e);
    expect(lrc(new Uint8Array(0))).toBe(0);
  });
  it('CRC-16 (reflected x^16+x^12+x^5+1, init FFFF) check value', () => {
    expect(crc16(new TextEncoder().encode('123456789'))).toBe(0x6f91);
    expect(crc16(new Uint8Array(0))).toBe(0xffff);
  });
  // Expected EDCs computed apart, with the polynomial written MSB first (0x1021) on bit-reversed
  // bytes and a bit-reversed result, the textbook form of the same CRC; libccid / OpenCT's
  // csum_crc_compute (init FFFF, no final XOR, high byte first) gives the same bytes.
  it.each([
    ['S(IFS request) FE', S('IFS', false, 'FE'), '00C101FE544E'],
    ['S(IFS response) FE', S('IFS', true, 'FE'), '00E101FE5775'],
    ['S(RESYNCH request)', S('RESYNCH', false), '00C000F399'],
    ['I(0) SELECT', I(0, false, '00A40400'), '00000400A404005549'],
  ])('CRC block %s: %s', (_name, block, hexText) => {
    expect(hex(enc(block, 'crc'))).toBe(hexText);
    expect(decodeT1Block(fromHex(hexText), 'crc')).toEqual(block);
    expect(hasT1EdcError(fromHex(hexText), 'crc')).toBe(false);
    // The same CRC sent low byte first is an EDC error.
    const swapped = fromHex(hexText.slice(0, -4) + hexText.slice(-2) + hexText.slice(-4, -2));
    expect(hasT1EdcError(swapped, 'crc')).toBe(true);
  });
  it('a T1Host with CRC sends and checks the CRC EDC', () => {
    const host = new T1Host({ ifsc: 32, ifsd: 32, edc: 'crc' });
    expect(hex(sent(host.transmit(fromHex('00A40400'))))).toBe('00000400A404005549');
    // The card's answer I(0) 90 00 with its CRC; the same block with a flipped CRC bit gets R(0, EDC error).
    const answer = enc(I(0, false, '9000'), 'crc');
    const broken = answer.slice();
    broken[broken.length - 1]! ^= 1;
    expect(hex(sent(host.receive(broken)))).toBe(hex(enc(R(0, 1), 'crc')));
    expect(host.receive(answer)).toEqual({ kind: 'done', response: fromHex('9000') });
  });
});

describe('T=1 block codec table', () => {
  const rows: Array<[string, T1Block, T1Edc, string]> = [
    ['I(0) SELECT', I(0, false, '00A40400'), 'lrc', '00000400A40400A4'],
    ['I(1) chained', I(1, true, '0102'), 'lrc', '006002010261'],
    ['I(0) empty INF', I(0, false, ''), 'lrc', '000000' + '00'],
    ['I with NAD', I(0, false, 'AA', 0x21), 'lrc', '210001AA8A'],
    ['R(0) ok', R(0), 'lrc', '00800080'],
    ['R(1) ok', R(1), 'lrc', '00900090'],
    ['R(0) EDC error', R(0, 1), 'lrc', '00810081'],
    ['R(1) other error', R(1, 2), 'lrc', '00920092'],
    ['S(RESYNCH request)', S('RESYNCH', false), 'lrc', '00C000C0'],
    ['S(RESYNCH response)', S('RESYNCH', true), 'lrc', '00E000E0'],
    ['S(IFS request) FE', S('IFS', false, 'FE'), 'lrc', '00C101FE3E'],
    ['S(IFS response) FE', S('IFS', true, 'FE'), 'lrc', '00E101FE1E'],
    ['S(ABORT request)', S('ABORT', false), 'lrc', '00C200C2'],
    ['S(WTX request) 01', S('WTX', false, '01'), 'lrc', '00C30101C3'],
    ['S(WTX response) 05', S('WTX', true, '05'), 'lrc', '00E30105E7'],
  ];
  for (const [name, block, edc, hexText] of rows) {
    it(`encodes ${name}`, () => expect(hex(enc(block, edc))).toBe(hexText));
    it(`decodes ${name}`, () => expect(decodeT1Block(fromHex(hexText), edc)).toEqual(block));
  }

  it('CRC blocks carry the CRC high byte first', () => {
    const body = fromHex('00 C1 01 FE');
    const c = crc16(body);
    const bytes = enc(S('IFS', false, 'FE'), 'crc');
    expect(hex(bytes)).toBe('00C101FE' + c.toString(16).toUpperCase().padStart(4, '0'));
    expect(decodeT1Block(bytes, 'crc')).toEqual(S('IFS', false, 'FE'));
  });

  it('I-block of 254 bytes is the largest', () => {
    const inf = new Uint8Array(254).fill(7);
    const bytes = enc({ kind: 'I', nad: 0, ns: 0, more: false, inf });
    expect(bytes.length).toBe(258);
    expect(codeOf(() => enc({ kind: 'I', nad: 0, ns: 0, more: false, inf: new Uint8Array(255) }))).toBe('protocol/t1-bad-block');
  });
});

describe('decodeT1Block must-fail', () => {
  // The last column: the problem the error names (`detail.problem`), by ISO/IEC 7816-3 §11.3's rules.
  const bad: Array<[string, string, T1Edc, string]> = [
    ['empty', '', 'lrc', 'too-short'],
    ['3 bytes with LRC', '000000', 'lrc', 'too-short'],
    ['4 bytes with CRC', '00000000', 'crc', 'too-short'],
    ['bad LRC', '00000400A40400A5', 'lrc', 'wrong-edc'],
    ['LEN larger than the block', '00000500A40400A5', 'lrc', 'len-mismatch'],
    ['LEN smaller than the block', '00000300A40400A4', 'lrc', 'len-mismatch'],
    ['LEN FF', '00FFFF00', 'lrc', 'len-ff'],
    ['I-block with RFU bit', '00010001', 'lrc', 'pcb-rfu'],
    ['R-block with INF', '0080010180', 'lrc', 'r-block-inf'],
    ['R-block error code 3', '00830083', 'lrc', 'pcb-rfu'],
    ['R-block with bit 6 set', '00A000A0', 'lrc', 'pcb-rfu'],
    ['S-block unknown type 4', '00C400C4', 'lrc', 's-block-type'],
    ['S(IFS) with value 00', '00C10100C0', 'lrc', 's-block-inf'],
    ['S(IFS) with value FF', '00C101FF3F', 'lrc', 's-block-inf'],
    ['S(IFS) without INF', '00C100C1', 'lrc', 's-block-inf'],
    ['S(WTX) with two bytes', '00C3020102C2', 'lrc', 's-block-inf'],
    ['S(RESYNCH) with INF', '00C00101C0', 'lrc', 's-block-inf'],
    ['bad CRC', '00C000C000', 'crc', 'wrong-edc'],
  ];
  for (const [name, hexText, edc, problem] of bad) {
    it(`${name}: ${problem}`, () => {
      const e = thrown(() => decodeT1Block(fromHex(hexText), edc));
      expect(e.code).toBe('protocol/t1-bad-block');
      expect(e.detail['problem']).toBe(problem);
    });
  }

  it('encodeT1Block names what makes an S-block impossible', () => {
    expect(thrown(() => encodeT1Block({ kind: 'S', nad: 0, type: 'IFS', response: false, inf: Uint8Array.of(0) }, 'lrc')).detail['problem']).toBe('s-block-inf');
    expect(thrown(() => encodeT1Block({ kind: 'S', nad: 0, type: 'X' as 'IFS', response: false, inf: new Uint8Array(0) }, 'lrc')).detail['problem']).toBe('s-block-type');
  });

  it('hasT1EdcError tells an EDC error from other bad blocks', () => {
    expect(hasT1EdcError(fromHex('00000400A40400A5'), 'lrc')).toBe(true);
    expect(hasT1EdcError(fromHex('00000400A40400A4'), 'lrc')).toBe(false);
    expect(hasT1EdcError(fromHex('00C4'), 'lrc')).toBe(false);
  });
});

const arbBlock: fc.Arbitrary<T1Block> = fc.oneof(
  fc.record({
    kind: fc.constant('I' as const),
    nad: fc.integer({ min: 0, max: 255 }),
    ns: fc.constantFrom<0 | 1>(0, 1),
    more: fc.boolean(),
    inf: fc.uint8Array({ maxLength: 254 }),
  }),
  fc.record({ kind: fc.constant('R' as const), nad: fc.integer({ min: 0, max: 255 }), nr: fc.constantFrom<0 | 1>(0, 1), error: fc.constantFrom<0 | 1 | 2>(0, 1, 2) }),
  fc
    .record({
      nad: fc.integer({ min: 0, max: 255 }),
      type: fc.constantFrom('RESYNCH' as const, 'IFS' as const, 'ABORT' as const, 'WTX' as const),
      response: fc.boolean(),
      v: fc.integer({ min: 1, max: 254 }),
    })
    .map(({ nad, type, response, v }): T1Block => ({
      kind: 'S',
      nad,
      type,
      response,
      inf: type === 'IFS' || type === 'WTX' ? Uint8Array.of(v) : new Uint8Array(0),
    })),
);
const arbEdc = fc.constantFrom<T1Edc>('lrc', 'crc');

describe('T=1 codec properties', () => {
  it('decode(encode(block)) = block', () => {
    fc.assert(
      fc.property(arbBlock, arbEdc, (block, edc) => {
        expect(decodeT1Block(encodeT1Block(block, edc), edc)).toEqual(block);
      }),
      { numRuns: 1000 },
    );
  });

  it('decode(any bytes): a block that re-encodes to the same bytes, or ProtocolError(t1-bad-block)', () => {
    const arbBytes = fc.oneof(
      fc.uint8Array({ maxLength: 12 }),
      fc.uint8Array({ maxLength: 300 }),
      // Valid blocks with one byte changed.
      fc.tuple(arbBlock, arbEdc, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([b, edc, i, m]) => {
        const bytes = encodeT1Block(b, edc);
        bytes[i % bytes.length]! ^= m;
        return bytes;
      }),
    );
    fc.assert(
      fc.property(arbBytes, arbEdc, (bytes, edc) => {
        let block: T1Block;
        try {
          block = decodeT1Block(bytes, edc);
        } catch (e) {
          expect(e).toBeInstanceOf(ProtocolError);
          expect((e as ProtocolError).code).toBe('protocol/t1-bad-block');
          return;
        }
        expect(encodeT1Block(block, edc)).toEqual(bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it('a single changed byte is always detected', () => {
    fc.assert(
      fc.property(arbBlock, arbEdc, fc.nat(), fc.integer({ min: 1, max: 255 }), (b, edc, i, m) => {
        const bytes = encodeT1Block(b, edc);
        bytes[i % bytes.length]! ^= m;
        expect(() => decodeT1Block(bytes, edc)).toThrowError(ProtocolError);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('T1Host (scripted)', () => {
  const newHost = (over: Partial<ConstructorParameters<typeof T1Host>[0]> = {}) => new T1Host({ ifsc: 32, ifsd: 32, edc: 'lrc', ...over });

  it('single block exchange', () => {
    const host = newHost();
    expect(hex(sent(host.transmit(fromHex('00 A4 04 00'))))).toBe('00000400A40400A4');
    expect(host.receive(enc(I(0, false, '9000')))).toEqual({ kind: 'done', response: fromHex('90 00') });
    // Sequence numbers moved on.
    expect(hex(sent(host.transmit(fromHex('00 B0 00 00 00'))))).toBe(hex(enc(I(1, false, '00B0000000'))));
    expect(host.receive(enc(I(1, false, '6A82')))).toEqual({ kind: 'done', response: fromHex('6A 82') });
  });

  it('chains what it sends within IFSC, and acknowledges the card chain', () => {
    const host = newHost({ ifsc: 2 });
    expect(sent(host.transmit(fromHex('01 02 03 04 05')))).toEqual(enc(I(0, true, '0102')));
    expect(sent(host.receive(enc(R(1))))).toEqual(enc(I(1, true, '0304')));
    expect(sent(host.receive(enc(R(0))))).toEqual(enc(I(0, false, '05')));
    expect(sent(host.receive(enc(I(0, true, 'AABB'))))).toEqual(enc(R(1)));
    expect(sent(host.receive(enc(I(1, true, 'CC'))))).toEqual(enc(R(0)));
    expect(host.receive(enc(I(0, false, '9000')))).toEqual({ kind: 'done', response: fromHex('AA BB CC 90 00') });
  });

  it('R-block with N(R) = N(S) of our block: retransmits it', () => {
    const host = newHost();
    const first = sent(host.transmit(fromHex('00 A4 04 00')));
    expect(sent(host.receive(enc(R(0, 1))))).toEqual(first);
  });

  it('answers S(WTX request) with the same value and a stretched wait', () => {
    const host = newHost();
    host.transmit(fromHex('00 2A 9E 9A 00'));
    const a = host.receive(enc(S('WTX', false, '05')));
    expect(a).toEqual({ kind: 'send', block: enc(S('WTX', true, '05')), bwtMultiplier: 5 });
    expect(host.receive(enc(I(0, false, '9000')))).toEqual({ kind: 'done', response: fromHex('90 00') });
  });

  it('answers S(IFS request) and uses the new IFSC', () => {
    const host = newHost({ ifsc: 2 });
    host.transmit(fromHex('01 02 03 04 05'));
    expect(sent(host.receive(enc(S('IFS', false, '04'))))).toEqual(enc(S('IFS', true, '04')));
    expect(host.ifsc).toBe(4);
    expect(sent(host.receive(enc(R(1))))).toEqual(enc(I(1, false, '030405')));
  });

  it('negotiateIfsd sends S(IFS request) and takes the answer', () => {
    const host = newHost();
    expect(hex(sent(host.negotiateIfsd(254)))).toBe('00C101FE3E');
    expect(host.receive(fromHex('00 E1 01 FE 1E'))).toEqual({ kind: 'done', response: new Uint8Array(0) });
    expect(host.ifsd).toBe(254);
  });

  it('S(IFS request) is resent when not answered', () => {
    const host = newHost();
    const req = sent(host.negotiateIfsd(100));
    expect(sent(host.receive(null))).toEqual(req);
    expect(sent(host.receive(enc(S('IFS', true, '20'))))).toEqual(req); // wrong value
    expect(sent(host.receive(null))).toEqual(enc(S('RESYNCH', false)));
  });

  it('time-out -> R-block "other error"; bad EDC -> R-block "EDC error"', () => {
    const host = newHost();
    host.transmit(fromHex('00 A4 04 00'));
    expect(sent(host.receive(null))).toEqual(enc(R(0, 2)));
    const bad = enc(I(0, false, '9000'));
    bad[bad.length - 1]! ^= 0xff;
    expect(sent(host.receive(bad))).toEqual(enc(R(0, 1)));
  });

  it('three failed tries -> S(RESYNCH); a resynchronised exchange is not resent; failed resynch throws', () => {
    const host = newHost();
    sent(host.transmit(fromHex('00 A4 04 00')));
    host.receive(null);
    host.receive(null);
    expect(sent(host.receive(null))).toEqual(enc(S('RESYNCH', false)));
    // The card may have run the command: the host reports it instead of sending it again.
    expect(codeOf(() => host.receive(enc(S('RESYNCH', true))))).toBe('protocol/t1-resynchronised');
    expect(host.busy).toBe(false);
    const first = sent(host.transmit(fromHex('00 A4 04 00')));
    expect(first).toEqual(enc(I(0, false, '00 A4 04 00')));
    host.receive(null);
    host.receive(null);
    expect(sent(host.receive(null))).toEqual(enc(S('RESYNCH', false)));
    expect(sent(host.receive(null))).toEqual(enc(S('RESYNCH', false)));
    expect(sent(host.receive(null))).toEqual(enc(S('RESYNCH', false)));
    expect(codeOf(() => host.receive(null))).toBe('protocol/t1-unrecoverable');
    expect(host.busy).toBe(false);
  });

  it('sequence numbers reset after resynch', () => {
    const host = newHost();
    host.transmit(fromHex('00'));
    host.receive(enc(I(0, false, '9000')));
    expect(sent(host.resynch())).toEqual(enc(S('RESYNCH', false)));
    expect(host.receive(enc(S('RESYNCH', true)))).toEqual({ kind: 'done', response: new Uint8Array(0) });
    expect(sent(host.transmit(fromHex('00')))).toEqual(enc(I(0, false, '00')));
  });

  it('a negotiated IFSD is negotiated again after resynch', () => {
    const host = newHost();
    host.negotiateIfsd(200);
    host.receive(enc(S('IFS', true, 'C8')));
    const first = sent(host.transmit(fromHex('00 A4 04 00')));
    host.receive(null);
    host.receive(null);
    host.receive(null);
    expect(sent(host.receive(enc(S('RESYNCH', true))))).toEqual(enc(S('IFS', false, 'C8')));
    expect(codeOf(() => host.receive(enc(S('IFS', true, 'C8'))))).toBe('protocol/t1-resynchronised');
    expect(host.ifsd).toBe(200);
    expect(sent(host.transmit(fromHex('00 A4 04 00')))).toEqual(first);
  });

  it('S(ABORT request) is answered, then the exchange fails with t1-aborted', () => {
    const host = newHost();
    host.transmit(fromHex('00 A4 04 00'));
    expect(sent(host.receive(enc(S('ABORT', false))))).toEqual(enc(S('ABORT', true)));
    expect(codeOf(() => host.receive(null))).toBe('protocol/t1-aborted');
  });

  it('refuses an I-block longer than IFSD and an I-block with the wrong N(S)', () => {
    const host = newHost({ ifsd: 2 });
    host.transmit(fromHex('00'));
    expect(sent(host.receive(enc(I(0, false, '010203'))))).toEqual(enc(R(0, 2)));
    expect(sent(host.receive(enc(I(1, false, '9000'))))).toEqual(enc(R(0, 2)));
  });

  it('validates its options and receive without exchange', () => {
    expect(codeOf(() => new T1Host({ ifsc: 0, ifsd: 32, edc: 'lrc' }))).toBe('protocol/t1-bad-block');
    expect(codeOf(() => new T1Host({ ifsc: 32, ifsd: 255, edc: 'lrc' }))).toBe('protocol/t1-bad-block');
    expect(codeOf(() => newHost().negotiateIfsd(0))).toBe('protocol/t1-bad-block');
    // A NAD that is not a byte is refused when the host is made, not at its first block.
    expect(codeOf(() => newHost({ nad: 256 }))).toBe('protocol/t1-bad-block');
    expect(hex(sent(newHost({ nad: 0x21 }).transmit(fromHex('00'))))).toBe(hex(enc(I(0, false, '00', 0x21))));
    expect(codeOf(() => newHost().receive(null))).toBe('protocol/t1-unrecoverable');
  });
});

const echoHandler = (apdu: Uint8Array): Uint8Array => {
  // Deterministic: the same APDU always gets the same response (a resynch makes the card run it again).
  let h = apdu.length;
  for (const b of apdu) h = (h * 31 + b) >>> 0;
  const n = h % 600;
  const out = new Uint8Array(n + 2);
  for (let i = 0; i < n; i++) out[i] = (h >>> (i % 24)) + i;
  out[n] = 0x90;
  return out;
};

describe('T1Host bounds on a card that never ends the exchange', () => {
  it('empty I-blocks with M = 1: 8 in a row are taken, the 9th ends the exchange with t1-endless-exchange', () => {
    const host = new T1Host({ ifsc: 32, ifsd: 32, edc: 'lrc' });
    let a = host.transmit(fromHex('00A40400'));
    for (let i = 0; i < 8; i++) {
      a = host.receive(enc(I((i & 1) as 0 | 1, true, '')));
      expect(hex(sent(a))).toBe(hex(enc(R(((i + 1) & 1) as 0 | 1))));
    }
    expect(codeOf(() => host.receive(enc(I(0, true, ''))))).toBe('protocol/t1-endless-exchange');
    expect(host.busy).toBe(false);
  });

  it('a data block ends a run of empty ones', () => {
    const host = new T1Host({ ifsc: 32, ifsd: 32, edc: 'lrc', maxEmptyChained: 2 });
    host.transmit(fromHex('00A40400'));
    const blocks = [I(0, true, ''), I(1, true, ''), I(0, true, 'AA'), I(1, true, ''), I(0, true, ''), I(1, false, '9000')];
    let a: T1Action | undefined;
    for (const b of blocks) a = host.receive(enc(b));
    expect(a).toEqual({ kind: 'done', response: fromHex('AA9000') });
  });

  it('chained data beyond 65538 bytes (Ne 65536 + SW1 SW2): t1-endless-exchange', () => {
    const host = new T1Host({ ifsc: 32, ifsd: 254, edc: 'lrc' });
    host.transmit(fromHex('00B0000000'));
    const inf = 'AB'.repeat(254);
    let code: string | undefined;
    for (let i = 0; i < 300 && code === undefined; i++) code = codeOf(() => host.receive(enc(I((i & 1) as 0 | 1, true, inf))));
    expect(code).toBe('protocol/t1-endless-exchange');
  });

  it('S(WTX): the multipliers granted in one exchange are bounded by maxWtxBwt, counted afresh per exchange', () => {
    const host = new T1Host({ ifsc: 32, ifsd: 32, edc: 'lrc', maxWtxBwt: 10 });
    host.transmit(fromHex('00A40400'));
    expect(host.receive(enc(S('WTX', false, '06')))).toMatchObject({ bwtMultiplier: 6 });
    expect(host.receive(enc(S('WTX', false, '04')))).toMatchObject({ bwtMultiplier: 4 });
    expect(codeOf(() => host.receive(enc(S('WTX', false, '01'))))).toBe('protocol/t1-endless-exchange');
    host.resynch();
    host.receive(enc(S('RESYNCH', true)));
    host.transmit(fromHex('00A40400'));
    expect(host.receive(enc(S('WTX', false, '0A')))).toMatchObject({ bwtMultiplier: 10 });
  });
});

describe('T1Card (scripted)', () => {
  it('answers an I-block with the handler response', () => {
    const card = new T1Card({ ifsc: 32, edc: 'lrc', handle: () => fromHex('90 00') });
    expect(card.receive(enc(I(0, false, '00A40400')))).toEqual(enc(I(0, false, '9000')));
    expect(card.commands).toBe(1);
  });

  it('reassembles a chain and chains its response within IFSD', () => {
    let got: Uint8Array | undefined;
    const card = new T1Card({ ifsc: 2, ifsd: 2, edc: 'lrc', handle: (a) => ((got = a), fromHex('AA BB CC 90 00')) });
    expect(card.receive(enc(I(0, true, '0102')))).toEqual(enc(R(1)));
    expect(card.receive(enc(I(1, false, '03')))).toEqual(enc(I(0, true, 'AABB')));
    expect(got).toEqual(fromHex('01 02 03'));
    expect(card.receive(enc(R(1)))).toEqual(enc(I(1, true, 'CC90')));
    expect(card.receive(enc(R(1)))).toEqual(enc(I(1, true, 'CC90'))); // retransmission asked
    expect(card.receive(enc(R(0)))).toEqual(enc(I(0, false, '00')));
  });

  it('refuses an INF longer than its IFSC', () => {
    const card = new T1Card({ ifsc: 2, edc: 'lrc', handle: () => fromHex('90 00') });
    expect(card.receive(enc(I(0, false, '010203')))).toEqual(enc(R(0, 2)));
  });

  it('answers S(IFS request) and uses the new IFSD', () => {
    const card = new T1Card({ ifsc: 32, edc: 'lrc', handle: () => new Uint8Array(40) });
    expect(card.receive(enc(S('IFS', false, '10')))).toEqual(enc(S('IFS', true, '10')));
    expect(card.ifsd).toBe(16);
    const first = decodeT1Block(card.receive(enc(I(0, false, '00')))!, 'lrc');
    expect(first.kind === 'I' && first.inf.length).toBe(16);
  });

  it('requests WTX before answering and resends the request until answered', () => {
    const card = new T1Card({ ifsc: 32, edc: 'lrc', handle: () => fromHex('90 00'), wtxBeforeResponse: 3 });
    expect(card.receive(enc(I(0, false, '00')))).toEqual(enc(S('WTX', false, '03')));
    expect(card.receive(enc(R(0, 2)))).toEqual(enc(S('WTX', false, '03')));
    expect(card.receive(enc(S('WTX', true, '03')))).toEqual(enc(I(0, false, '9000')));
  });

  it('requestWtx and requestIfsc queue S requests', () => {
    const card = new T1Card({ ifsc: 32, edc: 'lrc', handle: () => fromHex('90 00') });
    card.requestWtx(2);
    card.requestIfsc(100);
    expect(card.receive(enc(I(0, false, '00')))).toEqual(enc(S('WTX', false, '02')));
    expect(card.receive(enc(S('WTX', true, '02')))).toEqual(enc(S('IFS', false, '64')));
    expect(card.receive(enc(S('IFS', true, '64')))).toEqual(enc(I(0, false, '9000')));
    expect(card.ifsc).toBe(100);
  });

  it('answers RESYNCH and resets; answers ABORT', () => {
    const card = new T1Card({ ifsc: 32, edc: 'crc', handle: () => fromHex('90 00') });
    card.receive(enc(I(0, false, '00'), 'crc'));
    expect(card.receive(enc(S('RESYNCH', false), 'crc'))).toEqual(enc(S('RESYNCH', true), 'crc'));
    expect(card.receive(enc(I(0, false, '00'), 'crc'))).toEqual(enc(I(0, false, '9000'), 'crc'));
    expect(card.receive(enc(S('ABORT', false), 'crc'))).toEqual(enc(S('ABORT', true), 'crc'));
  });

  it('invalid block -> R-block with EDC error; faults skip or corrupt the answer', () => {
    const card = new T1Card({ ifsc: 32, edc: 'lrc', handle: () => fromHex('90 00') });
    const bad = enc(I(0, false, '00'));
    bad[3]! ^= 1;
    expect(card.receive(bad)).toEqual(enc(R(0, 1)));
    card.skipNext();
    expect(card.receive(enc(I(0, false, '00')))).toBeNull();
    card.corruptNext();
    const c = card.receive(enc(R(0)))!;
    expect(() => decodeT1Block(c, 'lrc')).toThrowError(ProtocolError);
    expect(card.receive(enc(R(0)))).toEqual(enc(I(0, false, '9000')));
  });

  it('answers with the NAD addresses swapped', () => {
    const card = new T1Card({ ifsc: 32, edc: 'lrc', handle: () => fromHex('90 00') });
    const a = decodeT1Block(card.receive(enc(I(0, false, '00', 0x12)))!, 'lrc');
    expect(a.nad).toBe(0x21);
  });
});

// ---- Host and card wired together in memory ----

interface Fault {
  kind: 'drop' | 'corrupt';
  index: number;
  mask: number;
}

const STEP_LIMIT = 5000;

class Wire {
  transfers = 0;
  steps = 0;
  wtxChecked = 0;
  constructor(
    readonly host: T1Host,
    readonly card: T1Card,
    readonly edc: T1Edc,
    readonly faults: Map<number, Fault> = new Map(),
    readonly beforeStep?: (step: number) => void,
  ) {}

  private pass(block: Uint8Array): Uint8Array | null {
    const f = this.faults.get(this.transfers++);
    if (!f) return block;
    if (f.kind === 'drop') return null;
    const out = block.slice();
    out[f.index % out.length]! ^= f.mask;
    return out;
  }

  run(action: T1Action): Uint8Array {
    while (action.kind === 'send') {
      if (++this.steps > STEP_LIMIT) throw new Error('T=1 engines made no progress');
      this.beforeStep?.(this.steps);
      const s = decodeT1Block(action.block, this.edc);
      if (s.kind === 'S' && s.type === 'WTX' && s.response) {
        expect(action.bwtMultiplier).toBe(Math.max(1, s.inf[0]!));
        this.wtxChecked++;
      } else {
        expect(action.bwtMultiplier).toBe(1);
      }
      const toCard = this.pass(action.block);
      const answer = toCard === null ? null : this.card.receive(toCard);
      const toHost = answer === null ? null : this.pass(answer);
      action = this.host.receive(toHost);
    }
    return action.response;
  }
}

/** Sparse faults: at least `minGap` transfers apart. */
const arbFaults = (minGap: number, maxGap: number): fc.Arbitrary<Map<number, Fault>> =>
  fc
    .array(
      fc.record({
        gap: fc.integer({ min: minGap, max: maxGap }),
        kind: fc.constantFrom<'drop' | 'corrupt'>('drop', 'corrupt'),
        index: fc.nat(300),
        mask: fc.integer({ min: 1, max: 255 }),
      }),
      { maxLength: 40 },
    )
    .map((list) => {
      const m = new Map<number, Fault>();
      let at = 0;
      for (const f of list) {
        at += f.gap;
        m.set(at, { kind: f.kind, index: f.index, mask: f.mask });
      }
      return m;
    });

const arbSetup = fc.record({
  ifsc: fc.integer({ min: 1, max: 254 }),
  ifsd: fc.integer({ min: 1, max: 254 }),
  edc: arbEdc,
  apdus: fc.array(fc.oneof(fc.uint8Array({ maxLength: 4000 }), fc.uint8Array({ maxLength: 20 })), { minLength: 1, maxLength: 3 }),
  wtx: fc.array(fc.option(fc.integer({ min: 1, max: 255 }), { freq: 6 }), { maxLength: 60 }),
  ifsChanges: fc.array(fc.option(fc.integer({ min: 1, max: 254 }), { freq: 12 }), { maxLength: 60 }),
});

describe('T1Host <-> T1Card (properties)', () => {
  it('delivers exactly the handler response, with WTX, IFS changes and sparse faults', () => {
    fc.assert(
      fc.property(arbSetup, arbFaults(8, 40), ({ ifsc, ifsd, edc, apdus, wtx, ifsChanges }, faults) => {
        const card = new T1Card({ ifsc, edc, handle: echoHandler });
        const host = new T1Host({ ifsc, ifsd: 32, edc });
        const wire = new Wire(host, card, edc, faults, (step) => {
          const w = wtx[step % Math.max(1, wtx.length)];
          if (w !== undefined && w !== null && step % 3 === 0) card.requestWtx(w);
          const f = ifsChanges[step % Math.max(1, ifsChanges.length)];
          if (f !== undefined && f !== null && step % 7 === 0) card.requestIfsc(f);
        });
        expect(wire.run(host.negotiateIfsd(ifsd)).length).toBe(0);
        expect(host.ifsd).toBe(ifsd);
        for (const apdu of apdus) {
          // A resynchronised exchange is reported, not resent; this (idempotent) APDU is sent again, as an application would.
          let response: Uint8Array | undefined;
          for (let attempt = 0; response === undefined; attempt++) {
            try {
              response = wire.run(host.transmit(apdu));
            } catch (e) {
              if (attempt >= 3 || (e as ProtocolError).code !== 'protocol/t1-resynchronised') throw e;
            }
          }
          expect(hex(response)).toBe(hex(echoHandler(apdu)));
          expect(host.busy).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('without faults: no retransmission, the handler runs once per APDU', () => {
    fc.assert(
      fc.property(arbSetup, ({ ifsc, ifsd, edc, apdus }) => {
        const card = new T1Card({ ifsc, ifsd, edc, handle: echoHandler });
        const host = new T1Host({ ifsc, ifsd, edc });
        const wire = new Wire(host, card, edc);
        let blocks = 0;
        for (const apdu of apdus) {
          const before = wire.steps;
          expect(hex(wire.run(host.transmit(apdu)))).toBe(hex(echoHandler(apdu)));
          blocks += wire.steps - before;
          const expectedSteps = Math.max(1, Math.ceil(apdu.length / ifsc)) + Math.max(1, Math.ceil(echoHandler(apdu).length / ifsd)) - 1;
          expect(wire.steps - before).toBe(expectedSteps);
        }
        expect(card.commands).toBe(apdus.length);
        expect(blocks).toBeGreaterThan(0);
      }),
      { numRuns: 200 },
    );
  });

  it('card WTX before each response: the host stretches the wait by the same value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 255 }), fc.uint8Array({ maxLength: 600 }), arbEdc, (m, apdu, edc) => {
        const card = new T1Card({ ifsc: 32, edc, handle: echoHandler, wtxBeforeResponse: () => m });
        const host = new T1Host({ ifsc: 32, ifsd: 32, edc });
        const wire = new Wire(host, card, edc);
        expect(hex(wire.run(host.transmit(apdu)))).toBe(hex(echoHandler(apdu)));
        expect(wire.wtxChecked).toBe(1);
      }),
      { numRuns: 100 },
    );
  });

  it('dense faults: the right response, t1-unrecoverable or t1-resynchronised, never wrong data, never endless', () => {
    fc.assert(
      fc.property(arbSetup, arbFaults(1, 4), ({ ifsc, edc, apdus }, faults) => {
        const card = new T1Card({ ifsc, edc, handle: echoHandler });
        const host = new T1Host({ ifsc, ifsd: 32, edc });
        const wire = new Wire(host, card, edc, faults);
        for (const apdu of apdus) {
          let response: Uint8Array;
          try {
            response = wire.run(host.transmit(apdu));
          } catch (e) {
            expect(e).toBeInstanceOf(ProtocolError);
            expect(['protocol/t1-unrecoverable', 'protocol/t1-resynchronised']).toContain((e as ProtocolError).code);
            return;
          }
          expect(hex(response)).toBe(hex(echoHandler(apdu)));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('host never loops: arbitrary card answers, then silence -> ends within a bounded number of steps', () => {
    const arbAnswer = fc.oneof(
      fc.constant(null),
      fc.uint8Array({ maxLength: 10 }),
      fc.tuple(arbBlock, arbEdc).map(([b, e]) => encodeT1Block(b, e)),
    );
    fc.assert(
      fc.property(arbEdc, fc.uint8Array({ maxLength: 600 }), fc.array(arbAnswer, { maxLength: 80 }), (edc, apdu, answers) => {
        const host = new T1Host({ ifsc: 16, ifsd: 32, edc, maxCardRequests: 50 });
        let action: T1Action = host.transmit(apdu);
        let i = 0;
        let afterScript = 0;
        try {
          while (action.kind === 'send') {
            const a = i < answers.length ? answers[i]! : null;
            if (i >= answers.length) afterScript++;
            i++;
            // Silence alone: at most 3 tries x 3 resynch requests + the tries before.
            expect(afterScript).toBeLessThanOrEqual(3 + 3);
            action = host.receive(a);
          }
        } catch (e) {
          expect(e).toBeInstanceOf(ProtocolError);
          expect(['protocol/t1-unrecoverable', 'protocol/t1-aborted', 'protocol/t1-resynchronised', 'protocol/t1-endless-exchange']).toContain((e as ProtocolError).code);
        }
        expect(host.busy).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('card never throws on any input and always answers', () => {
    fc.assert(
      fc.property(
        arbEdc,
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 10 }), fc.tuple(arbBlock).map(([b]) => b)), { maxLength: 50 }),
        (edc, inputs) => {
          const card = new T1Card({ ifsc: 8, ifsd: 8, edc, handle: echoHandler });
          for (const input of inputs) {
            const bytes = input instanceof Uint8Array ? input : encodeT1Block(input, edc);
            const answer = card.receive(bytes);
            expect(answer).not.toBeNull();
            expect(() => decodeT1Block(answer!, edc)).not.toThrow();
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
