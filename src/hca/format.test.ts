import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { toHex, fromHex } from '../bytes.js';
import { WebCcidError } from '../errors.js';
import { HcaError } from './errors.js';
import { encodePinBlock, normalizeCardNumber, parseCardDate, parseCardInfo, secretDigits } from './format.js';
import { derTotalLength, digestInfo, MAX_CERTIFICATE_LENGTH, parseBasicData } from './card-format.js';

const ascii = (s: string) => new TextEncoder().encode(s);
const PIN_RULE = { minLength: 6, maxLength: 8, code: 'hca/bad-pin-format', what: 'PIN' } as const;
const PUK_RULE = { minLength: 8, maxLength: 8, code: 'hca/bad-puk-format', what: 'PUK' } as const;

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof WebCcidError) return e.code;
    throw e;
  }
  return undefined;
}

describe('secretDigits', () => {
  it.each([
    ['123456', '31 32 33 34 35 36'],
    ['12345678', '31 32 33 34 35 36 37 38'],
    ['000000', '30 30 30 30 30 30'],
  ])('accepts %s', (pin, hex) => {
    expect(toHex(secretDigits(pin, PIN_RULE))).toBe(hex);
    expect(toHex(secretDigits(ascii(pin), PIN_RULE))).toBe(hex);
  });

  it('with letters (the HCA PIN rule): ASCII letters and digits, nothing else', () => {
    const rule = { minLength: 6, maxLength: 8, code: 'hca/bad-pin-format', what: 'PIN', letters: true } as const;
    expect([...secretDigits('Ab12cD', rule)]).toEqual([...new TextEncoder().encode('Ab12cD')]);
    for (const bad of ['Ab12c', 'Ab12cD!', 'Ab 12cD', 'Äb12cD', '１２３４５６']) {
      expect(() => secretDigits(bad, rule)).toThrow(expect.objectContaining({ code: 'hca/bad-pin-format', message: 'The PIN must be 6 to 8 letters or digits (A-Z, a-z, 0-9).' }));
    }
  });

  it.each(['12345', '123456789', '12345a', '12 3456', '１２３４５６', '', '-12345'])('refuses %j with hca/bad-pin-format, without echoing it', (pin) => {
    try {
      secretDigits(pin, PIN_RULE);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(HcaError);
      expect((e as HcaError).code).toBe('hca/bad-pin-format');
      expect((e as HcaError).message).toBe('The PIN must be 6 to 8 digits (0-9).');
    }
  });

  it('PUK rule: exactly 8 digits, hca/bad-puk-format', () => {
    expect(codeOf(() => secretDigits('1234567', PUK_RULE))).toBe('hca/bad-puk-format');
    expect(codeOf(() => secretDigits('123456789', PUK_RULE))).toBe('hca/bad-puk-format');
    expect(new TextDecoder().decode(secretDigits('87654321', PUK_RULE))).toBe('87654321');
  });

  it('returns a copy: the caller buffer is untouched', () => {
    const mine = ascii('123456');
    const out = secretDigits(mine, PIN_RULE);
    out.fill(0);
    expect(new TextDecoder().decode(mine)).toBe('123456');
  });

  it('refuses non-string, non-bytes input with the typed error', () => {
    expect(codeOf(() => secretDigits(123456 as unknown as string, PIN_RULE))).toBe('hca/bad-pin-format');
    expect(codeOf(() => secretDigits(null as unknown as string, PIN_RULE))).toBe('hca/bad-pin-format');
  });

  it('property: a PIN of 6 to 8 digits gives its ASCII digits; anything else is hca/bad-pin-format', () => {
    // Valid PINs, near misses (one digit too few or too many, one character that is not an ASCII
    // digit: a letter, a full-width or Arabic-Indic digit, a space) and any string, as text or bytes.
    const valid = fc.stringMatching(/^[0-9]{6,8}$/);
    const notDigit = fc.constantFrom('a', 'Z', ' ', '\uff11', '\u0661', '-', '\u00e9');
    const nearMiss = fc.oneof(
      fc.stringMatching(/^[0-9]{5}$/),
      fc.stringMatching(/^[0-9]{9}$/),
      fc.tuple(valid, notDigit, fc.nat()).map(([v, c, at]) => v.slice(0, at % v.length) + c + v.slice((at % v.length) + 1)),
    );
    const input = fc.oneof({ arbitrary: valid, weight: 2 }, { arbitrary: nearMiss, weight: 1 }, { arbitrary: fc.string({ maxLength: 12 }), weight: 1 });
    let accepted = 0;
    let refused = 0;
    const lengths = new Set<number>();
    fc.assert(
      fc.property(input, fc.boolean(), (s, asBytes) => {
        const ok = /^[0-9]{6,8}$/.test(s);
        const value = asBytes ? ascii(s) : s;
        if (ok) {
          expect(new TextDecoder().decode(secretDigits(value, PIN_RULE))).toBe(s);
          lengths.add(s.length);
          accepted++;
        } else {
          expect(codeOf(() => secretDigits(value, PIN_RULE))).toBe('hca/bad-pin-format');
          refused++;
        }
      }),
      { numRuns: 1000 },
    );
    // Both branches were reached: valid PINs (every length 6, 7 and 8 among them) and refusals.
    expect(accepted).toBeGreaterThan(300);
    expect([...lengths].sort()).toEqual([6, 7, 8]);
    expect(refused).toBeGreaterThan(200);
  });
});

describe('encodePinBlock', () => {
  it.each([
    { digits: '123456', enc: { encoding: 'ascii', blockLength: 8, padByte: 0xff }, hex: '31 32 33 34 35 36 FF FF' },
    { digits: '12345678', enc: { encoding: 'ascii', blockLength: 8, padByte: 0xff }, hex: '31 32 33 34 35 36 37 38' },
    { digits: '123456', enc: { encoding: 'ascii', blockLength: 8, padByte: 0x00 }, hex: '31 32 33 34 35 36 00 00' },
    { digits: '123456', enc: { encoding: 'bcd', blockLength: 8, padByte: 0xff }, hex: '12 34 56 FF FF FF FF FF' },
    { digits: '1234567', enc: { encoding: 'bcd', blockLength: 4, padByte: 0xff }, hex: '12 34 56 7F' },
    { digits: '1234567', enc: { encoding: 'bcd', blockLength: 5, padByte: 0x00 }, hex: '12 34 56 70 00' },
  ] as const)('$digits $enc.encoding -> $hex', ({ digits, enc, hex }) => {
    expect(toHex(encodePinBlock(ascii(digits), enc))).toBe(hex);
  });

  it('refuses digits that do not fit the block (hca/bad-profile)', () => {
    expect(codeOf(() => encodePinBlock(ascii('123456789'), { encoding: 'ascii', blockLength: 8, padByte: 0xff }))).toBe('hca/bad-profile');
    expect(codeOf(() => encodePinBlock(ascii('123'), { encoding: 'bcd', blockLength: 1, padByte: 0xff }))).toBe('hca/bad-profile');
  });

  it('property: BCD round trip (digits recovered from the nibbles, padding after)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{1,16}$/), (d) => {
        const block = encodePinBlock(ascii(d), { encoding: 'bcd', blockLength: 8, padByte: 0xff });
        const nibbles = [...block].flatMap((b) => [b >> 4, b & 0x0f]);
        expect(nibbles.slice(0, d.length).join('')).toBe(d);
        expect(nibbles.slice(d.length).every((n) => n === 0x0f)).toBe(true);
      }),
    );
  });
});

describe('parseCardInfo', () => {
  it.each([
    ['GH000012345678|20240101|20281231', { cardNumber: '000012345678', printedNumber: 'GH000012345678', validFrom: '2024-01-01', validTo: '2028-12-31' }],
    ['GH000012345678|2024-01-01|2028/12/31', { cardNumber: '000012345678', printedNumber: 'GH000012345678', validFrom: '2024-01-01', validTo: '2028-12-31' }],
    ['HC123456789012|1130101|1171231\u0000\u0000', { cardNumber: '123456789012', printedNumber: 'HC123456789012', validFrom: '2024-01-01', validTo: '2028-12-31' }],
    ['GH000012345678|20240229|20281231|extra   ', { cardNumber: '000012345678', printedNumber: 'GH000012345678', validFrom: '2024-02-29', validTo: '2028-12-31' }],
  ])('%j', (text, expected) => {
    expect(parseCardInfo(ascii(text))).toEqual(expected);
  });

  it('ignores trailing FF padding', () => {
    const bytes = new Uint8Array([...ascii('GH000012345678|20240101|20281231'), 0xff, 0xff, 0xff]);
    expect(parseCardInfo(bytes).validTo).toBe('2028-12-31');
  });

  it.each([
    '',
    'GH000012345678',
    'GH000012345678|20240101',
    'GH00001234567|20240101|20281231',
    'gh000012345678|20240101|20281231',
    '000012345678|20240101|20281231',
    'GH000012345678|20241301|20281231',
    'GH000012345678|20230229|20281231',
    'GH000012345678|20240431|20281231',
    'GH000012345678|2024011|20281231',
    'GH000012345678|yesterday|20281231',
  ])('refuses %j with hca/bad-file', (text) => {
    expect(codeOf(() => parseCardInfo(ascii(text)))).toBe('hca/bad-file');
  });

  it('refuses a file over 4096 bytes', () => {
    expect(codeOf(() => parseCardInfo(new Uint8Array(5000).fill(0x31)))).toBe('hca/bad-file');
  });

  it('property: any bytes -> a CardInfo or hca/bad-file', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const code = codeOf(() => parseCardInfo(bytes));
        expect([undefined, 'hca/bad-file']).toContain(code);
      }),
    );
  });

  it('property: well-formed texts parse back', () => {
    const day = fc.record({ y: fc.integer({ min: 1990, max: 2099 }), m: fc.integer({ min: 1, max: 12 }), d: fc.integer({ min: 1, max: 28 }) });
    const fmt = ({ y, m, d }: { y: number; m: number; d: number }) => `${y}${String(m).padStart(2, '0')}${String(d).padStart(2, '0')}`;
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{12}$/), day, day, (n, a, b) => {
        const info = parseCardInfo(ascii(`GH${n}|${fmt(a)}|${fmt(b)}`));
        expect(info.cardNumber).toBe(n);
        expect(info.validFrom.replaceAll('-', '')).toBe(fmt(a));
        expect(info.validTo.replaceAll('-', '')).toBe(fmt(b));
      }),
    );
  });
});

describe('parseCardDate', () => {
  it('Minguo (ROC) 7-digit dates add 1911', () => {
    expect(parseCardDate('1150630')).toBe('2026-06-30');
  });
  it('leap years', () => {
    expect(parseCardDate('20000229')).toBe('2000-02-29');
    expect(codeOf(() => parseCardDate('19000229'))).toBe('hca/bad-file');
  });
});

describe('parseBasicData', () => {
  it('UTF-8 name, ID, category', () => {
    expect(parseBasicData(ascii('王小明|A123456789|醫師'))).toEqual({ name: '王小明', idNumber: 'A123456789', category: '醫師' });
  });
  it('keeps an empty category, trims padding', () => {
    expect(parseBasicData(new Uint8Array([...ascii('VIRTUAL HOLDER|A123456789|'), 0, 0]))).toEqual({ name: 'VIRTUAL HOLDER', idNumber: 'A123456789', category: '' });
  });
  it.each(['', 'name only', 'a|b', '|A123456789|doctor', 'name||doctor'])('refuses %j', (text) => {
    expect(codeOf(() => parseBasicData(ascii(text)))).toBe('hca/bad-file');
  });
  it('property: any bytes -> BasicData or hca/bad-file', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect([undefined, 'hca/bad-file']).toContain(codeOf(() => parseBasicData(bytes)));
      }),
    );
  });
});

describe('normalizeCardNumber', () => {
  it.each([
    ['000012345678', '000012345678'],
    ['GH000012345678', '000012345678'],
    [' gh000012345678 ', '000012345678'],
    ['00001234567', undefined],
    ['GH00001234567X', undefined],
  ])('%j -> %j', (input, expected) => {
    expect(normalizeCardNumber(input)).toBe(expected);
  });
});

describe('derTotalLength', () => {
  it.each([
    ['30 03 02 01 05', 5],
    ['30 81 80', 3 + 0x80],
    ['30 82 04 B0', 4 + 0x4b0],
    ['30 82 08 30', 4 + 0x830],
  ])('%s -> %d', (hex, total) => {
    expect(derTotalLength(fromHex(hex))).toBe(total);
  });
  it.each(['', '00 00', 'FF FF FF'])('%j -> erased', (hex) => {
    expect(derTotalLength(fromHex(hex))).toBe('erased');
  });
  it.each([
    '31 03 02 01 05', // SET, not SEQUENCE
    '30', // truncated
    '30 80', // indefinite
    '30 84 00 00 01 00', // 4 length bytes
    '30 82 01', // truncated length
    '30 81 05', // not minimal
    '30 82 00 90', // not minimal
    '30 83 01 00 00', // over the maximum
  ])('%s -> hca/bad-file', (hex) => {
    expect(codeOf(() => derTotalLength(fromHex(hex)))).toBe('hca/bad-file');
  });
  it('largest accepted length is MAX_CERTIFICATE_LENGTH', () => {
    const n = MAX_CERTIFICATE_LENGTH - 4;
    expect(derTotalLength(Uint8Array.of(0x30, 0x82, n >> 8, n & 0xff))).toBe(MAX_CERTIFICATE_LENGTH);
  });
  it('property: any bytes -> length, erased, or hca/bad-file', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), (bytes) => {
        let r: number | 'erased' | undefined;
        const code = codeOf(() => {
          r = derTotalLength(bytes);
        });
        if (code === undefined) expect(r === 'erased' || (typeof r === 'number' && r >= 2 && r <= MAX_CERTIFICATE_LENGTH)).toBe(true);
        else expect(code).toBe('hca/bad-file');
      }),
    );
  });
});

describe('digestInfo', () => {
  it('SHA-256 DigestInfo (RFC 8017 §9.2)', () => {
    const d = new Uint8Array(32).fill(0xab);
    const info = digestInfo('SHA-256', d);
    expect(info.length).toBe(51);
    expect(toHex(info.subarray(0, 19))).toBe('30 31 30 0D 06 09 60 86 48 01 65 03 04 02 01 05 00 04 20');
    expect(toHex(info.subarray(19))).toBe(toHex(d));
  });
  it('SHA-1 prefix for old cards', () => {
    expect(toHex(digestInfo('SHA-1', new Uint8Array(20)).subarray(0, 15))).toBe('30 21 30 09 06 05 2B 0E 03 02 1A 05 00 04 14');
  });
  it('wrong digest length -> hca/bad-argument; unknown hash -> hca/bad-profile', () => {
    expect(codeOf(() => digestInfo('SHA-256', new Uint8Array(31)))).toBe('hca/bad-argument');
    expect(codeOf(() => digestInfo('MD5', new Uint8Array(16)))).toBe('hca/bad-profile');
    expect(codeOf(() => digestInfo('toString', new Uint8Array(16)))).toBe('hca/bad-profile');
  });
});
