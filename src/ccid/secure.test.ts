import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../bytes.js';
import { CcidError, WebCcidError } from '../errors.js';
import type { PinBlockFormat } from '../card/channel.js';
import {
  buildPinModify,
  buildPinVerify,
  encodePinModify,
  encodePinVerify,
  modifyMessageIndexCount,
  type PinModifyStructure,
  type PinVerifyStructure,
} from './secure.js';
import { decodeSecurePinData, describePinFormat, insertPin, pinLengthRange } from './secure-device.js';

const ASCII8: PinBlockFormat = { encoding: 'ascii', minLength: 6, maxLength: 8, blockLength: 8, padByte: 0xff };
const PUK8: PinBlockFormat = { encoding: 'ascii', minLength: 8, maxLength: 8, blockLength: 8, padByte: 0xff };
const VERIFY_HEADER = fromHex('00 20 00 81');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WebCcidError);
    return (e as WebCcidError).code;
  }
  return undefined;
}

const digits = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

describe('PIN verification structure', () => {
  it('builds the HCA VERIFY structure byte for byte', () => {
    const s = buildPinVerify({ header: VERIFY_HEADER, format: ASCII8, timeoutSeconds: 45 });
    expect(toHex(encodePinVerify(s))).toBe(
      // op  TO fmt blk len  max min  val msg  lang   idx prologue  APDU template
      '00 2D 82 08 00 08 06 02 01 09 04 00 00 00 00 00 20 00 81 08 FF FF FF FF FF FF FF FF',
    );
  });

  it('defaults: 30 s, English prompts, zero prologue; options override', () => {
    const s = buildPinVerify({ header: VERIFY_HEADER, format: ASCII8 });
    expect(s.bTimeOut).toBe(30);
    expect(s.wLangId).toBe(0x0409);
    const t = buildPinVerify(
      { header: VERIFY_HEADER, format: { ...ASCII8, encoding: 'bcd', blockLength: 4 }, timeoutSeconds: 0 },
      { wLangId: 0x0404, teoPrologue: fromHex('00 40 09'), bEntryValidationCondition: 3 },
    );
    expect(t.bTimeOut).toBe(0);
    expect(t.bmFormatString).toBe(0x81);
    expect(t.bmPINBlockString).toBe(0x04);
    expect(t.wLangId).toBe(0x0404);
    expect(t.bEntryValidationCondition).toBe(3);
    expect(toHex(t.bTeoPrologue)).toBe('00 40 09');
    expect(toHex(t.abPINApdu)).toBe('00 20 00 81 04 FF FF FF FF');
  });

  it('decodes what it encodes', () => {
    const s = buildPinVerify({ header: VERIFY_HEADER, format: ASCII8, timeoutSeconds: 20 }, { teoPrologue: fromHex('00 00 0D') });
    const d = decodeSecurePinData(encodePinVerify(s));
    expect(d).toEqual({ operation: 'verify', ...s });
  });

  it('refuses bad requests with ccid/bad-field', () => {
    expect(codeOf(() => buildPinVerify({ header: fromHex('00 20 00'), format: ASCII8 }))).toBe('ccid/bad-field');
    expect(codeOf(() => buildPinVerify({ header: VERIFY_HEADER, format: { ...ASCII8, minLength: 9 } }))).toBe('ccid/bad-field');
    expect(codeOf(() => buildPinVerify({ header: VERIFY_HEADER, format: { ...ASCII8, blockLength: 6 } }))).toBe('ccid/bad-field');
    expect(codeOf(() => buildPinVerify({ header: VERIFY_HEADER, format: { ...ASCII8, blockLength: 16, maxLength: 8 } }))).toBe(
      'ccid/bad-field',
    );
    expect(codeOf(() => buildPinVerify({ header: VERIFY_HEADER, format: { ...ASCII8, padByte: 256 } }))).toBe('ccid/bad-field');
    const s = buildPinVerify({ header: VERIFY_HEADER, format: ASCII8 });
    expect(codeOf(() => encodePinVerify({ ...s, bTeoPrologue: new Uint8Array(2) }))).toBe('ccid/bad-field');
    expect(codeOf(() => encodePinVerify({ ...s, abPINApdu: fromHex('00 20 00') }))).toBe('ccid/bad-field');
    expect(codeOf(() => encodePinVerify({ ...s, bTimeOut: 256 }))).toBe('ccid/bad-field');
    expect(codeOf(() => encodePinVerify({ ...s, wLangId: -1 }))).toBe('ccid/bad-field');
  });
});

describe('PIN modification structure', () => {
  it('builds CHANGE REFERENCE DATA with confirmation: three messages, offsets 0 / 8', () => {
    const s = buildPinModify({ header: fromHex('00 24 00 81'), oldFormat: ASCII8, newFormat: ASCII8, confirm: true, timeoutSeconds: 30 });
    expect(toHex(encodePinModify(s))).toBe(
      // op TO fmt blk len old new max min cnf val num  lang  i1 i2 i3 prologue  APDU
      '01 1E 82 08 00 00 08 08 06 03 02 03 09 04 00 01 02 00 00 00 00 24 00 81 10 ' + 'FF '.repeat(15) + 'FF',
    );
  });

  it('unblock: PUK 8 + new PIN 6..8 gives one range 6..8 and two messages without confirmation', () => {
    const s = buildPinModify({ header: fromHex('00 2C 00 81'), oldFormat: PUK8, newFormat: ASCII8, confirm: false });
    expect(pinLengthRange(s.wPINMaxExtraDigit)).toEqual({ min: 6, max: 8 });
    expect(s.bConfirmPIN).toBe(0x02);
    expect(s.bNumberMessage).toBe(2);
    const bytes = encodePinModify(s);
    expect(bytes.length).toBe(14 + 2 + 3 + 5 + 16);
    expect(decodeSecurePinData(bytes)).toEqual({ operation: 'modify', ...s });
  });

  it('bMsgIndex2 is present unless bNumberMessage is 0; bMsgIndex3 only for 3', () => {
    expect([0, 1, 2, 3, 0xff].map(modifyMessageIndexCount)).toEqual([1, 2, 2, 3, 2]);
    const base = buildPinModify({ header: fromHex('00 24 00 81'), oldFormat: ASCII8, newFormat: ASCII8, confirm: true });
    for (const [n, extra] of [[0, 0], [1, 1], [0xff, 1], [3, 2]] as const) {
      const s: PinModifyStructure = { ...base, bNumberMessage: n };
      const bytes = encodePinModify(s);
      expect(bytes.length).toBe(14 + 1 + extra + 3 + base.abPINApdu.length);
      const d = decodeSecurePinData(bytes);
      expect(d.operation).toBe('modify');
      if (d.operation !== 'modify') return;
      expect(d.bMsgIndex2 !== undefined).toBe(extra >= 1);
      expect(d.bMsgIndex3 !== undefined).toBe(extra === 2);
      expect(toHex(d.abPINApdu)).toBe(toHex(base.abPINApdu));
    }
  });

  it('refuses old and new formats a single structure cannot express', () => {
    const h = fromHex('00 24 00 81');
    expect(codeOf(() => buildPinModify({ header: h, oldFormat: ASCII8, newFormat: { ...ASCII8, padByte: 0x00 }, confirm: true }))).toBe(
      'ccid/bad-field',
    );
    expect(
      codeOf(() =>
        buildPinModify({ header: h, oldFormat: { ...ASCII8, encoding: 'bcd', blockLength: 8 }, newFormat: ASCII8, confirm: true }),
      ),
    ).toBe('ccid/bad-field');
  });
});

describe('decodeSecurePinData must-fail inputs', () => {
  const cases: Array<[string, string, string]> = [
    ['empty', '', 'ccid/malformed-frame'],
    ['verify header only', '00 1E 82 08 00 08 06 02 01 09 04 00 00 00 00', 'ccid/malformed-frame'],
    ['verify with a 3-byte APDU', '00 1E 82 08 00 08 06 02 01 09 04 00 00 00 00 00 20 00', 'ccid/malformed-frame'],
    ['modify truncated', '01 1E 82 08 00 00 08 08 06 03 02', 'ccid/malformed-frame'],
    ['transfer PIN (02) is not built or decoded here', '02 00 00', 'ccid/bad-field'],
    ['unknown operation', '7F', 'ccid/bad-field'],
  ];
  for (const [name, hex, code] of cases) {
    it(name, () => {
      expect(codeOf(() => decodeSecurePinData(fromHex(hex)))).toBe(code);
    });
  }
});

describe('describePinFormat', () => {
  it('spells out the format bytes', () => {
    expect(describePinFormat({ bmFormatString: 0x89, bmPINBlockString: 0x47, bmPINLengthFormat: 0x04 })).toEqual({
      units: 'bytes',
      pinPosition: 1,
      justify: 'left',
      encoding: 'bcd',
      lengthBits: 4,
      blockBytes: 7,
      lengthUnits: 'bits',
      lengthPosition: 4,
    });
    expect(describePinFormat({ bmFormatString: 0x06, bmPINBlockString: 0x08, bmPINLengthFormat: 0x10 })).toMatchObject({
      units: 'bits',
      justify: 'right',
      encoding: 'ascii',
      lengthUnits: 'bytes',
    });
  });
});

describe('insertPin (the reader side)', () => {
  const fmt = (bmFormatString: number, bmPINBlockString: number, bmPINLengthFormat = 0) =>
    describePinFormat({ bmFormatString, bmPINBlockString, bmPINLengthFormat });
  const table: Array<[string, string, string, ReturnType<typeof fmt>, number, string]> = [
    ['ASCII left, FF pad', '00 20 00 81 08 FF FF FF FF FF FF FF FF', '123456', fmt(0x82, 0x08), 0, '00 20 00 81 08 31 32 33 34 35 36 FF FF'],
    ['ASCII right', '00 20 00 81 08 FF FF FF FF FF FF FF FF', '123456', fmt(0x86, 0x08), 0, '00 20 00 81 08 FF FF 31 32 33 34 35 36'],
    ['BCD left, odd count keeps the pad nibble', '00 20 00 81 04 FF FF FF FF', '12345', fmt(0x81, 0x04), 0, '00 20 00 81 04 12 34 5F FF'],
    ['BCD right, odd count', '00 20 00 81 04 FF FF FF FF', '12345', fmt(0x85, 0x04), 0, '00 20 00 81 04 FF F1 23 45'],
    ['binary: a digit a byte', '00 20 00 81 04 FF FF FF FF', '1234', fmt(0x80, 0x04), 0, '00 20 00 81 04 01 02 03 04'],
    ['modify offset 8 (new PIN)', '00 24 00 81 10 ' + 'FF '.repeat(15) + 'FF', '654321', fmt(0x82, 0x08), 8, '00 24 00 81 10 FF FF FF FF FF FF FF FF 36 35 34 33 32 31 FF FF'],
    // ISO 9564 format 2 block: 2N PP PP .. FF, length in the low nibble of byte 0 (bit position 4)
    ['format-2 block with length nibble', '00 20 00 81 08 20 FF FF FF FF FF FF FF', '1234', fmt(0x89, 0x47, 0x04), 0, '00 20 00 81 08 24 12 34 FF FF FF FF FF'],
    ['bit units, position 8 bits', '00 20 00 81 03 00 FF FF', '12', fmt(0x42, 0x02), 0, '00 20 00 81 03 00 31 32'],
  ];
  for (const [name, template, pin, f, offset, expected] of table) {
    it(name, () => {
      const apdu = fromHex(template);
      expect(insertPin(apdu, digits(pin), f, offset)).toBe(true);
      expect(toHex(apdu)).toBe(expected);
    });
  }

  it('refuses (and leaves the APDU alone) when the PIN cannot be placed', () => {
    const t = '00 20 00 81 04 FF FF FF FF';
    const refused: Array<[string, Uint8Array, ReturnType<typeof fmt>, number]> = [
      ['too many ASCII digits', digits('12345'), fmt(0x82, 0x04), 0],
      ['too many BCD digits', digits('123456789'), fmt(0x81, 0x04), 0],
      ['block past the end', digits('12'), fmt(0x82 | (2 << 3), 0x04), 0],
      ['offset past the end', digits('12'), fmt(0x82, 0x04), 1],
      ['reserved encoding', digits('12'), fmt(0x83, 0x04), 0],
      ['block size 0', digits('12'), fmt(0x82, 0x00), 0],
      ['bit position not on a byte', digits('12'), fmt(0x02 | (3 << 3), 0x02), 0],
      ['not a digit', Uint8Array.of(0x31, 0x41), fmt(0x82, 0x04), 0],
      ['length does not fit its bits', digits('1234'), fmt(0x82, 0x24), 0],
    ];
    for (const [name, d, f, offset] of refused) {
      const apdu = fromHex(t);
      expect(insertPin(apdu, d, f, offset), name).toBe(false);
      expect(toHex(apdu), name).toBe(t);
    }
  });
});

describe('properties', () => {
  const byte = fc.integer({ min: 0, max: 255 });
  const word = fc.integer({ min: 0, max: 0xffff });
  const prologue = fc.uint8Array({ minLength: 3, maxLength: 3 });
  const apdu = fc.uint8Array({ minLength: 4, maxLength: 40 });

  it('verify structures round-trip', () => {
    fc.assert(
      fc.property(byte, byte, byte, byte, word, byte, byte, word, byte, prologue, apdu, (a, b, c, d, w, e, f, l, m, p, x) => {
        const s: PinVerifyStructure = {
          bTimeOut: a,
          bmFormatString: b,
          bmPINBlockString: c,
          bmPINLengthFormat: d,
          wPINMaxExtraDigit: w,
          bEntryValidationCondition: e,
          bNumberMessage: f,
          wLangId: l,
          bMsgIndex: m,
          bTeoPrologue: p,
          abPINApdu: x,
        };
        expect(decodeSecurePinData(encodePinVerify(s))).toEqual({ operation: 'verify', ...s });
      }),
    );
  });

  it('modify structures round-trip', () => {
    fc.assert(
      fc.property(
        fc.record({
          bTimeOut: byte,
          bmFormatString: byte,
          bmPINBlockString: byte,
          bmPINLengthFormat: byte,
          bInsertionOffsetOld: byte,
          bInsertionOffsetNew: byte,
          wPINMaxExtraDigit: word,
          bConfirmPIN: byte,
          bEntryValidationCondition: byte,
          bNumberMessage: fc.constantFrom(0, 1, 2, 3, 0xff),
          wLangId: word,
          bMsgIndex1: byte,
          i2: byte,
          i3: byte,
          bTeoPrologue: prologue,
          abPINApdu: apdu,
        }),
        ({ i2, i3, ...r }) => {
          const count = modifyMessageIndexCount(r.bNumberMessage);
          const s: PinModifyStructure = { ...r, ...(count >= 2 ? { bMsgIndex2: i2 } : {}), ...(count === 3 ? { bMsgIndex3: i3 } : {}) };
          expect(decodeSecurePinData(encodePinModify(s))).toEqual({ operation: 'modify', ...s });
        },
      ),
    );
  });

  it('any input decodes or throws a CcidError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          const d = decodeSecurePinData(bytes);
          expect(d.abPINApdu.length).toBeGreaterThanOrEqual(4);
        } catch (e) {
          expect(e).toBeInstanceOf(CcidError);
        }
      }),
    );
  });

  it('built structures always decode to the same request fields', () => {
    const format = fc
      .record({
        encoding: fc.constantFrom('ascii' as const, 'bcd' as const),
        minLength: fc.integer({ min: 1, max: 12 }),
        extra: fc.integer({ min: 0, max: 4 }),
        padByte: byte,
        slack: fc.integer({ min: 0, max: 3 }),
      })
      .map(({ encoding, minLength, extra, padByte, slack }) => {
        const maxLength = minLength + extra;
        const need = encoding === 'ascii' ? maxLength : Math.ceil(maxLength / 2);
        return { encoding, minLength, maxLength, padByte, blockLength: Math.min(15, need + slack) };
      })
      .filter((f) => (f.encoding === 'ascii' ? f.maxLength : Math.ceil(f.maxLength / 2)) <= f.blockLength);
    fc.assert(
      fc.property(format, fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.boolean(), (f, header, confirm) => {
        const v = decodeSecurePinData(encodePinVerify(buildPinVerify({ header, format: f })));
        expect(pinLengthRange(v.wPINMaxExtraDigit)).toEqual({ min: f.minLength, max: f.maxLength });
        expect(describePinFormat(v).blockBytes).toBe(f.blockLength);
        const m = decodeSecurePinData(encodePinModify(buildPinModify({ header, oldFormat: f, newFormat: f, confirm })));
        expect(m.operation).toBe('modify');
        if (m.operation !== 'modify') return;
        expect(m.bInsertionOffsetNew).toBe(f.blockLength);
        expect(m.abPINApdu[4]).toBe(2 * f.blockLength);
        expect(m.bConfirmPIN).toBe(confirm ? 3 : 2);
      }),
    );
  });

  it('insertPin: a PIN within the block is readable back and nothing outside the block changes', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('ascii' as const, 'bcd' as const),
        fc.boolean(),
        fc.stringMatching(/^[0-9]{1,8}$/),
        fc.integer({ min: 0, max: 3 }),
        (encoding, right, pin, position) => {
          const block = encoding === 'ascii' ? 8 : 4;
          const template = new Uint8Array(5 + position + block + 2).fill(0xff);
          template.set([0, 0x20, 0, 0x81, position + block + 2]);
          const apdu = template.slice();
          const f = describePinFormat({
            bmFormatString: 0x80 | (position << 3) | (right ? 0x04 : 0) | (encoding === 'ascii' ? 2 : 1),
            bmPINBlockString: block,
            bmPINLengthFormat: 0,
          });
          expect(insertPin(apdu, digits(pin), f)).toBe(true);
          const start = 5 + position;
          for (let i = 0; i < apdu.length; i++) if (i < start || i >= start + block) expect(apdu[i]).toBe(template[i]);
          const blockHex = toHex(apdu.subarray(start, start + block), '');
          expect(blockHex.replace(/F/g, '')).toBe(encoding === 'ascii' ? toHex(digits(pin), '').replace(/F/g, '') : pin);
        },
      ),
    );
  });
});
