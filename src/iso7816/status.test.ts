import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fromHex } from '../bytes.js';
import { ApduError, PinBlockedError, PinIncorrectError, ProtocolError } from '../errors.js';
import { checkResponse, statusError } from './status.js';
import { describeStatusWord } from './status-text.js';

const codes: Array<[number, string]> = [
  [0x6982, 'apdu/security-not-satisfied'],
  [0x6985, 'apdu/conditions-not-satisfied'],
  [0x6a82, 'apdu/file-not-found'],
  [0x6a86, 'apdu/wrong-p1p2'],
  [0x6b00, 'apdu/wrong-p1p2'],
  [0x6700, 'apdu/wrong-length'],
  [0x6c10, 'apdu/wrong-length'],
  [0x6d00, 'apdu/ins-not-supported'],
  [0x6e00, 'apdu/cla-not-supported'],
  [0x6a80, 'apdu/incorrect-data'],
  [0x6a81, 'apdu/func-not-supported'],
  [0x6a83, 'apdu/record-not-found'],
  [0x6a84, 'apdu/not-enough-memory'],
  [0x6581, 'apdu/memory-failure'],
  [0x6282, 'apdu/warning'],
  [0x6200, 'apdu/warning'],
  [0x6300, 'apdu/warning'],
  [0x6381, 'apdu/warning'],
  [0x6f00, 'apdu/status'],
  [0x6a88, 'apdu/status'],
  [0x9001, 'apdu/status'],
  [0x1234, 'apdu/status'],
];

describe('statusError', () => {
  it('no error for 9000 and 61xx', () => {
    expect(statusError(0x9000)).toBeUndefined();
    expect(statusError(0x6100)).toBeUndefined();
    expect(statusError(0x6120)).toBeUndefined();
  });

  for (const [sw, code] of codes) {
    it(`${sw.toString(16).toUpperCase()} -> ${code}`, () => {
      const data = Uint8Array.of(1, 2);
      const e = statusError(sw, data);
      expect(e).toBeInstanceOf(ApduError);
      expect(e!.code).toBe(code);
      expect(e!.sw).toBe(sw);
      expect(e!.data).toEqual(data);
      expect(e).not.toBeInstanceOf(PinIncorrectError);
      expect(e).not.toBeInstanceOf(PinBlockedError);
    });
  }

  it('63C1..63CF -> PinIncorrectError with the retries left', () => {
    for (let x = 1; x <= 15; x++) {
      const e = statusError(0x63c0 | x);
      expect(e).toBeInstanceOf(PinIncorrectError);
      expect(e!.code).toBe('apdu/pin-incorrect');
      expect((e as PinIncorrectError).retriesLeft).toBe(x);
    }
  });

  it('6983 and 63C0 -> PinBlockedError', () => {
    for (const sw of [0x6983, 0x63c0]) {
      const e = statusError(sw);
      expect(e).toBeInstanceOf(PinBlockedError);
      expect(e!.code).toBe('apdu/pin-blocked');
      expect(e!.sw).toBe(sw);
    }
  });

  it('any SW: undefined exactly for 9000 / 61xx, else an ApduError with that SW', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), (sw) => {
        const e = statusError(sw);
        if (sw === 0x9000 || sw >> 8 === 0x61) {
          expect(e).toBeUndefined();
        } else {
          expect(e).toBeInstanceOf(ApduError);
          expect(e!.sw).toBe(sw);
          expect(e!.code.startsWith('apdu/')).toBe(true);
        }
        expect(describeStatusWord(sw).length).toBeGreaterThan(0);
      }),
    );
  });
});

describe('describeStatusWord', () => {
  const rows: Array<[number, string]> = [
    [0x9000, 'Success.'],
    [0x6a82, 'File or application not found.'],
    [0x63c2, 'Verification failed; 2 tries left.'],
    [0x63c1, 'Verification failed; 1 try left.'],
    [0x63c0, 'Verification failed; no try left (blocked).'],
    [0x6983, 'Authentication method blocked (PIN blocked).'],
    [0x6110, 'Success; 16 more bytes available (GET RESPONSE).'],
    [0x6100, 'Success; 256 more bytes available (GET RESPONSE).'],
    [0x6c08, 'Wrong Le; 8 bytes available.'],
    [0x1234, 'Status 1234.'],
  ];
  for (const [sw, text] of rows) {
    it(sw.toString(16), () => expect(describeStatusWord(sw)).toBe(text));
  }
});

describe('checkResponse', () => {
  it('returns the data on 9000', () => {
    expect(checkResponse(fromHex('01 02 90 00'))).toEqual(Uint8Array.of(1, 2));
    expect(checkResponse(fromHex('90 00')).length).toBe(0);
  });
  it('throws the status error', () => {
    expect(() => checkResponse(fromHex('6A 82'))).toThrowError(ApduError);
    expect(() => checkResponse(fromHex('63 C2'))).toThrowError(PinIncorrectError);
    expect(() => checkResponse(fromHex('69 83'))).toThrowError(PinBlockedError);
  });
  it('refuses 61xx (incomplete answer) with apdu/status', () => {
    try {
      checkResponse(fromHex('AA 61 10'));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ApduError);
      expect((e as ApduError).code).toBe('apdu/status');
      expect((e as ApduError).data).toEqual(Uint8Array.of(0xaa));
    }
  });
  it('warning data is kept on the error', () => {
    try {
      checkResponse(fromHex('01 02 62 82'));
      expect.unreachable();
    } catch (e) {
      expect((e as ApduError).code).toBe('apdu/warning');
      expect((e as ApduError).data).toEqual(Uint8Array.of(1, 2));
    }
  });
  it('throws ProtocolError(bad-response) on < 2 bytes', () => {
    expect(() => checkResponse(new Uint8Array(1))).toThrowError(ProtocolError);
  });
});
