import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { concatBytes, fromHex, toHex } from '../bytes.js';
import { ProtocolError } from '../errors.js';
import { encodeApdu } from './apdu.js';
import { T0Host } from './t0.js';
import type { T0Action } from './t0.js';

/**
 * A small T=0 card as a TPDU-level reader shows it (the reader consumed the procedure bytes):
 * it gets a TPDU (header + P3 [+ data]) and answers data + SW1 SW2.
 * INS 10: case 1. INS 20: case 2, returns `len` bytes. INS 30: case 3. INS 40: case 4, returns `len` bytes.
 * `style` '6C': a wrong P3 on an outgoing TPDU is answered 6Cxx; '61': outgoing commands answer 61xx first.
 */
class T0CardModel {
  private pending: Uint8Array | undefined;
  constructor(
    private readonly style: '6C' | '61',
    private readonly len: number,
  ) {}

  static content(len: number, seed: number): Uint8Array {
    return Uint8Array.from({ length: len }, (_, i) => (i * 7 + seed) & 0xff);
  }

  private outgoing(data: Uint8Array, p3: number): Uint8Array {
    const want = p3 === 0 ? 256 : p3;
    const avail = Math.min(data.length, 256);
    if (data.length === 0) return fromHex('90 00');
    if (this.style === '6C' && want !== avail) {
      this.pending = data;
      return Uint8Array.of(0x6c, avail & 0xff);
    }
    const n = Math.min(want, data.length);
    const rest = data.subarray(n);
    this.pending = rest.length ? rest : undefined;
    const sw = rest.length ? Uint8Array.of(0x61, Math.min(rest.length, 256) & 0xff) : fromHex('90 00');
    return concatBytes(data.subarray(0, n), sw);
  }

  answer(tpdu: Uint8Array): Uint8Array {
    const ins = tpdu[1]!;
    const p3 = tpdu[4]!;
    if (tpdu.length < 5) return fromHex('67 00');
    if (ins === 0xc0) {
      const data = this.pending;
      if (!data) return fromHex('69 85');
      return this.outgoing(data, p3);
    }
    this.pending = undefined;
    const body = tpdu.subarray(5);
    switch (ins) {
      case 0x10:
        return fromHex('90 00');
      case 0x20: {
        const data = T0CardModel.content(this.len, tpdu[2]!);
        if (this.style === '61' && data.length > 0) {
          this.pending = data;
          return Uint8Array.of(0x61, Math.min(data.length, 256) & 0xff);
        }
        return this.outgoing(data, p3);
      }
      case 0x30:
        return body.length === p3 ? fromHex('90 00') : fromHex('67 00');
      case 0x40: {
        if (body.length !== p3) return fromHex('67 00');
        const data = T0CardModel.content(this.len, body.length);
        if (data.length === 0) return fromHex('90 00');
        this.pending = data;
        return Uint8Array.of(0x61, Math.min(data.length, 256) & 0xff);
      }
      default:
        return fromHex('6D 00');
    }
  }
}

function run(host: T0Host, card: { answer(t: Uint8Array): Uint8Array }, apdu: Uint8Array, limit = 1000): { response: Uint8Array; steps: number; tpdus: Uint8Array[] } {
  let action: T0Action = host.transmit(apdu);
  const tpdus: Uint8Array[] = [];
  let steps = 0;
  while (action.kind === 'send') {
    if (++steps > limit) throw new Error('T0Host did not finish');
    tpdus.push(action.tpdu);
    action = host.receive(card.answer(action.tpdu));
  }
  return { response: action.response, steps, tpdus };
}

describe('T0Host APDU to TPDU mapping', () => {
  const rows: Array<[string, string, string]> = [
    ['case 1 gets P3=00', '00A40000', '00A4000000'],
    ['case 2S Le=10', '00B000000A', '00B000000A'],
    ['case 2S Le=256 as P3=00', '00B0000000', '00B0000000'],
    ['case 3S', '00D6000002AABB', '00D6000002AABB'],
    ['case 4S sent as case 3', '0088000002AABB00', '0088000002AABB'],
    ['case 2E Le=1000 as P3=00', '00B0000000 03E8', '00B0000000'],
    ['case 2E Le=200 as P3=C8', '00B0000000 00C8', '00B00000C8'],
    ['case 3E Nc=2 as case 3S', '00D6000000 0002 AABB', '00D6000002AABB'],
    ['case 4E Nc=2 as case 3S', '0088000000 0002 AABB 0000', '0088000002AABB'],
  ];
  for (const [name, apdu, tpdu] of rows) {
    it(name, () => {
      const a = new T0Host().transmit(fromHex(apdu));
      expect(a.kind).toBe('send');
      expect(toHex((a as { tpdu: Uint8Array }).tpdu, '')).toBe(tpdu);
    });
  }

  it('Nc > 255 -> ProtocolError(apdu-too-long)', () => {
    const apdu = encodeApdu({ cla: 0, ins: 0xd6, p1: 0, p2: 0, data: new Uint8Array(256) });
    try {
      new T0Host().transmit(apdu);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ProtocolError);
      expect((e as ProtocolError).code).toBe('protocol/apdu-too-long');
    }
  });

  it('malformed APDU -> ProtocolError(bad-apdu)', () => {
    expect(() => new T0Host().transmit(fromHex('00 A4'))).toThrowError(ProtocolError);
  });
});

describe('T0Host status handling', () => {
  it('61xx -> GET RESPONSE with P3=xx, data concatenated', () => {
    const host = new T0Host();
    host.transmit(fromHex('00 88 00 00 01 AA 00'));
    const a1 = host.receive(fromHex('61 03'));
    expect(a1).toEqual({ kind: 'send', tpdu: fromHex('00 C0 00 00 03') });
    const a2 = host.receive(fromHex('01 02 61 00'));
    expect(a2).toEqual({ kind: 'send', tpdu: fromHex('00 C0 00 00 00') });
    const a3 = host.receive(fromHex('03 90 00'));
    expect(a3).toEqual({ kind: 'done', response: fromHex('01 02 03 90 00') });
    expect(host.busy).toBe(false);
  });

  it('GET RESPONSE CLA can be set', () => {
    const host = new T0Host({ getResponseCla: 0x00 });
    host.transmit(fromHex('80 CA 9F 7F 00'));
    expect(host.receive(fromHex('61 2D'))).toEqual({ kind: 'send', tpdu: fromHex('00 C0 00 00 2D') });
  });

  it('GET RESPONSE echoes the command CLA by default', () => {
    const host = new T0Host();
    host.transmit(fromHex('80 CA 9F 7F 00'));
    expect(host.receive(fromHex('61 2D'))).toEqual({ kind: 'send', tpdu: fromHex('80 C0 00 00 2D') });
  });

  it('6Cxx -> same header with P3=xx', () => {
    const host = new T0Host();
    host.transmit(fromHex('00 B0 00 00 10'));
    expect(host.receive(fromHex('6C 04'))).toEqual({ kind: 'send', tpdu: fromHex('00 B0 00 00 04') });
    expect(host.receive(fromHex('01 02 03 04 90 00'))).toEqual({ kind: 'done', response: fromHex('01 02 03 04 90 00') });
  });

  it('6Cxx to an incoming (case 3) TPDU is the final answer', () => {
    const host = new T0Host();
    host.transmit(fromHex('00 D6 00 00 01 AA'));
    expect(host.receive(fromHex('6C 04'))).toEqual({ kind: 'done', response: fromHex('6C 04') });
  });

  it('errors and warnings are handed over as they are', () => {
    const host = new T0Host();
    host.transmit(fromHex('00 A4 04 00 02 3F 00'));
    expect(host.receive(fromHex('6A 82'))).toEqual({ kind: 'done', response: fromHex('6A 82') });
  });

  it('a GET RESPONSE loop is bounded', () => {
    const host = new T0Host({ maxGetResponse: 10 });
    host.transmit(fromHex('00 B0 00 00 00'));
    let err: unknown;
    let steps = 0;
    try {
      for (;;) {
        steps++;
        host.receive(fromHex('AA 61 01'));
      }
    } catch (e) {
      err = e;
    }
    expect(steps).toBe(11);
    expect((err as ProtocolError).code).toBe('protocol/t0-bad-response');
    expect(host.busy).toBe(false);
  });

  it('a 6Cxx loop is bounded', () => {
    const host = new T0Host();
    host.transmit(fromHex('00 B0 00 00 00'));
    expect(() => {
      for (let i = 0; i < 10; i++) host.receive(fromHex('6C 05'));
    }).toThrowError(ProtocolError);
  });

  it('more than 65536 bytes of response is refused', () => {
    const host = new T0Host({ maxGetResponse: 10_000 });
    host.transmit(fromHex('00 B0 00 00 00'));
    const chunk = concatBytes(new Uint8Array(256), fromHex('61 00'));
    expect(() => {
      for (let i = 0; i < 300; i++) host.receive(chunk);
    }).toThrowError(ProtocolError);
  });

  it('receive without an exchange, or with < 2 bytes, throws t0-bad-response', () => {
    const host = new T0Host();
    expect(() => host.receive(fromHex('90 00'))).toThrowError(ProtocolError);
    host.transmit(fromHex('00 A4 00 00'));
    expect(() => host.receive(fromHex('90'))).toThrowError(ProtocolError);
  });
});

describe('T0Host against a T=0 card model (properties)', () => {
  it('delivers the whole response for cases 1..4, 2E and 4E with Nc <= 255', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<'6C' | '61'>('6C', '61'),
        fc.constantFrom(1, 2, 3, 4),
        fc.integer({ min: 0, max: 2000 }),
        fc.uint8Array({ minLength: 1, maxLength: 255 }),
        fc.integer({ min: 1, max: 65536 }),
        fc.integer({ min: 0, max: 255 }),
        (style, kase, len, data, le, p1) => {
          const card = new T0CardModel(style, len);
          let apdu: Uint8Array;
          let expected: Uint8Array;
          switch (kase) {
            case 1:
              apdu = encodeApdu({ cla: 0, ins: 0x10, p1, p2: 0 });
              expected = fromHex('90 00');
              break;
            case 2:
              apdu = encodeApdu({ cla: 0, ins: 0x20, p1, p2: 0, le });
              expected = concatBytes(T0CardModel.content(len, p1), fromHex('90 00'));
              break;
            case 3:
              apdu = encodeApdu({ cla: 0, ins: 0x30, p1, p2: 0, data });
              expected = fromHex('90 00');
              break;
            default:
              apdu = encodeApdu({ cla: 0, ins: 0x40, p1, p2: 0, data, le });
              expected = concatBytes(T0CardModel.content(len, data.length), fromHex('90 00'));
          }
          const { response, steps } = run(new T0Host(), card, apdu);
          expect(toHex(response)).toBe(toHex(expected));
          expect(steps).toBeLessThanOrEqual(3 + Math.ceil(len / 256) * 2);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never loops: any answers -> done or ProtocolError within a bounded number of steps', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 4, maxLength: 20 }),
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 8 }),
            fc.tuple(fc.uint8Array({ maxLength: 4 }), fc.constantFrom(0x61, 0x6c), fc.integer({ min: 0, max: 255 })).map(([d, a, b]) =>
              concatBytes(d, Uint8Array.of(a, b)),
            ),
          ),
          { minLength: 1, maxLength: 50 },
        ),
        (apdu, answers) => {
          const host = new T0Host({ maxGetResponse: 20 });
          let action: T0Action;
          try {
            action = host.transmit(apdu);
          } catch (e) {
            expect(e).toBeInstanceOf(ProtocolError);
            return;
          }
          let steps = 0;
          try {
            while (action.kind === 'send') {
              const answer = answers[steps % answers.length]!;
              steps++;
              expect(steps).toBeLessThanOrEqual((20 + 1) * (3 + 1) + 1);
              action = host.receive(answer);
            }
          } catch (e) {
            expect(e).toBeInstanceOf(ProtocolError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
