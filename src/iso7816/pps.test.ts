import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../bytes.js';
import { ProtocolError, WebCcidError } from '../errors.js';
import { checkPpsResponse, decodePpsRequest, encodePpsRequest } from './pps.js';

function expectPpsFailed(fn: () => unknown): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ProtocolError);
  expect((caught as ProtocolError).code).toBe('protocol/pps-failed');
}

describe('encodePpsRequest', () => {
  const table: Array<[Parameters<typeof encodePpsRequest>[0], string]> = [
    [{ protocol: 1, fiIndex: 1, diIndex: 8 }, 'FF 11 18 F6'], // HCA: T=1, TA1 18
    [{ protocol: 0, fiIndex: 1, diIndex: 3 }, 'FF 10 13 FC'],
    [{ protocol: 1 }, 'FF 01 FE'],
    [{ protocol: 0 }, 'FF 00 FF'],
    [{ protocol: 1, fiIndex: 9, diIndex: 5 }, 'FF 11 95 7B'],
    [{ protocol: 1, diIndex: 8 }, 'FF 11 18 F6'], // missing Fi index defaults to 1
    [{ protocol: 0, fiIndex: 1, diIndex: 1, pps2: 0x02, pps3: 0x03 }, 'FF 70 11 02 03 9F'],
  ];
  for (const [opts, hex] of table) {
    it(`${JSON.stringify(opts)} -> ${hex}`, () => {
      expect(toHex(encodePpsRequest(opts))).toBe(hex);
      const decoded = decodePpsRequest(fromHex(hex));
      expect(decoded.protocol).toBe(opts.protocol);
      if (opts.fiIndex !== undefined || opts.diIndex !== undefined) {
        expect(decoded.fiIndex).toBe(opts.fiIndex ?? 1);
        expect(decoded.diIndex).toBe(opts.diIndex ?? 1);
      } else {
        expect(decoded.fiIndex).toBeUndefined();
      }
      expect(decoded.pps2).toBe(opts.pps2);
      expect(decoded.pps3).toBe(opts.pps3);
    });
  }

  it('rejects out-of-range arguments', () => {
    expectPpsFailed(() => encodePpsRequest({ protocol: 15 }));
    expectPpsFailed(() => encodePpsRequest({ protocol: 16 }));
    expectPpsFailed(() => encodePpsRequest({ protocol: 1, fiIndex: 16, diIndex: 1 }));
    expectPpsFailed(() => encodePpsRequest({ protocol: 1, fiIndex: 1, diIndex: -1 }));
    expectPpsFailed(() => encodePpsRequest({ protocol: 1, pps2: 256 }));
    expectPpsFailed(() => encodePpsRequest({ protocol: 1, pps3: 1.5 }));
  });

  it('round-trips every protocol and Fi/Di pair', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 14 }),
        fc.option(fc.record({ fiIndex: fc.integer({ min: 0, max: 15 }), diIndex: fc.integer({ min: 0, max: 15 }) }), { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
        (protocol, rate, pps2, pps3) => {
          const req = encodePpsRequest({ protocol, ...rate, pps2, pps3 });
          expect(decodePpsRequest(req)).toEqual({
            protocol,
            ...(rate ?? {}),
            ...(pps2 === undefined ? {} : { pps2 }),
            ...(pps3 === undefined ? {} : { pps3 }),
          });
          expect(checkPpsResponse(req, req).accepted).toBe(true);
        },
      ),
    );
  });
});

describe('decodePpsRequest: must fail', () => {
  const cases: Array<[string, string]> = [
    ['empty', ''],
    ['too short', 'FF 11'],
    ['PPSS not FF', 'FE 11 18 F7'],
    ['PPS0 bit 8', 'FF 81 18 66'],
    ['bad PCK', 'FF 11 18 F7'],
    ['PPS1 announced, missing', 'FF 11 EE'],
    ['extra byte', 'FF 01 FE 00'],
  ];
  for (const [name, hex] of cases) {
    it(name, () => expectPpsFailed(() => decodePpsRequest(fromHex(hex))));
  }
});

describe('checkPpsResponse', () => {
  const req = fromHex('FF 11 18 F6');

  it('accepts an echo', () => {
    expect(checkPpsResponse(req, fromHex('FF 11 18 F6'))).toEqual({ accepted: true, fiIndex: 1, diIndex: 8 });
  });

  it('accepts PPS0 without PPS1: default Fi/Di', () => {
    expect(checkPpsResponse(req, fromHex('FF 01 FE'))).toEqual({ accepted: true, fiIndex: 1, diIndex: 1 });
  });

  it('accepts a response that drops PPS2 we sent', () => {
    const r = encodePpsRequest({ protocol: 1, fiIndex: 1, diIndex: 8, pps2: 0x05 });
    expect(checkPpsResponse(r, fromHex('FF 11 18 F6'))).toEqual({ accepted: true, fiIndex: 1, diIndex: 8 });
  });

  it('rejects a different protocol or different PPS1', () => {
    expect(checkPpsResponse(req, fromHex('FF 10 18 F7'))).toEqual({ accepted: false, fiIndex: 1, diIndex: 1 });
    expect(checkPpsResponse(req, fromHex('FF 11 13 FD'))).toEqual({ accepted: false, fiIndex: 1, diIndex: 1 });
  });

  it('rejects a PPS1 or PPS2 we did not send', () => {
    expect(checkPpsResponse(fromHex('FF 01 FE'), fromHex('FF 11 18 F6')).accepted).toBe(false);
    expect(checkPpsResponse(req, encodePpsRequest({ protocol: 1, fiIndex: 1, diIndex: 8, pps2: 1 })).accepted).toBe(false);
  });

  it('throws on a malformed response or request', () => {
    expectPpsFailed(() => checkPpsResponse(req, fromHex('')));
    expectPpsFailed(() => checkPpsResponse(req, fromHex('FF 11 18 F7')));
    expectPpsFailed(() => checkPpsResponse(req, fromHex('3B 11 18 F6')));
    expectPpsFailed(() => checkPpsResponse(fromHex('FF'), req));
  });

  it('properties: any bytes give a result or protocol/pps-failed', () => {
    const ours = (fn: () => unknown): void => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(WebCcidError);
        expect((e as WebCcidError).code).toBe('protocol/pps-failed');
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 8 }), (b) => ours(() => decodePpsRequest(b))), { numRuns: 2000 });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), (a, b) => ours(() => checkPpsResponse(a, b))),
      { numRuns: 2000 },
    );
    // Responses that at least start right, to reach the comparison paths.
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x7f }), fc.uint8Array({ maxLength: 3 }), (pps0, rest) => {
        const body = [0xff, pps0, ...rest];
        let x = 0;
        for (const v of body) x ^= v;
        ours(() => {
          const r = checkPpsResponse(req, Uint8Array.of(...body, x));
          expect(typeof r.accepted).toBe('boolean');
        });
      }),
      { numRuns: 2000 },
    );
  });
});
