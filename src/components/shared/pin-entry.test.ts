import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HCA_PROFILE } from '../../hca/profile.js';
import { checkPin, checkPinChange, pinRuleOf, pinpadStatusCode, secretBytes, usesPinpad } from './pin-entry.js';

const RULE = pinRuleOf();
const DIGITS_ONLY = { ...RULE, charset: 'digits' as const };

const DIGITS = [...'0123456789'];
const ALNUM = [...DIGITS, ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'];
/** Characters no PIN has: ASCII punctuation and space, controls, full-width digits, accented letters. */
const BAD_CHAR = fc.constantFrom(' ', '-', '.', '*', '\t', '\n', '\u0000', '１', '٣', 'é', 'Ａ', '中');

/** Strings of `chars` with a length in [min, max]. */
function textOf(chars: readonly string[], min: number, max: number): fc.Arbitrary<string> {
  return fc.string({ unit: fc.constantFrom(...chars), minLength: min, maxLength: max });
}

/**
 * Text around the HCA rule's edges (6 to 8 characters): a valid PIN of `chars`, one too short
 * (or empty), one too long, a PIN of the right length with one bad character somewhere.
 */
function pinText(chars: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    textOf(chars, 6, 8),
    textOf(chars, 0, 5),
    textOf(chars, 9, 12),
    fc.tuple(textOf(chars, 5, 7), BAD_CHAR, fc.nat()).map(([pin, bad, at]) => {
      const i = at % (pin.length + 1);
      return pin.slice(0, i) + bad + pin.slice(i);
    }),
  );
}

describe('pinRuleOf', () => {
  it('takes the PIN rule from the profile (HCA: 6..8 letters and digits)', () => {
    expect(RULE).toEqual({ minLength: 6, maxLength: 8, charset: 'letters-and-digits' });
  });
});

describe('checkPin', () => {
  it.each([
    ['', false, 'input/pin-empty'],
    ['', true, undefined],
    ['12a', true, undefined],
    ['Ab12cD', false, undefined],
    ['12-', true, 'input/pin-bad-character'],
    ['12 345', false, 'input/pin-bad-character'],
    ['１２３４５６', false, 'input/pin-bad-character'],
    ['12345é', false, 'input/pin-bad-character'],
    ['123', true, undefined],
    ['123', false, 'input/pin-too-short'],
    ['12345', false, 'input/pin-too-short'],
    ['123456', false, undefined],
    ['12345678', false, undefined],
    ['123456789', true, 'input/pin-too-long'],
    ['123456789', false, 'input/pin-too-long'],
  ])('%j (partial %s) -> %s', (text, partial, expected) => {
    expect(checkPin(text, RULE, { partial })).toBe(expected);
  });

  it.each([
    ['12a', true, 'input/pin-not-digits'],
    ['12 345', false, 'input/pin-not-digits'],
    ['123456', false, undefined],
  ])('digits-only rule: %j (partial %s) -> %s', (text, partial, expected) => {
    expect(checkPin(text, DIGITS_ONLY, { partial })).toBe(expected);
  });

  it('any text gives undefined or one of its codes, never throws', () => {
    const codes = new Set([undefined, 'input/pin-empty', 'input/pin-bad-character', 'input/pin-too-short', 'input/pin-too-long']);
    const seen = new Set<string | undefined>();
    fc.assert(
      fc.property(fc.oneof(pinText(ALNUM), fc.string({ maxLength: 20 })), fc.boolean(), (text, partial) => {
        const problem = checkPin(text, RULE, { partial });
        expect(codes.has(problem)).toBe(true);
        seen.add(problem);
      }),
      { numRuns: 500 },
    );
    // The texts reach every answer, a valid PIN (undefined) included.
    expect([...seen].sort()).toEqual([...codes].sort());
  });

  it.each([
    ['letters and digits', RULE, ALNUM, /^[0-9A-Za-z]{6,8}$/],
    ['digits only', DIGITS_ONLY, DIGITS, /^[0-9]{6,8}$/],
  ] as const)('%s: accepts exactly the strings of 6..8 of its characters, and their bytes are the ASCII codes', (_name, rule, chars, valid) => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.oneof(pinText(chars), pinText(ALNUM)), (text) => {
        const ok = checkPin(text, rule) === undefined;
        expect(ok).toBe(valid.test(text));
        if (ok) {
          accepted++;
          expect([...secretBytes(text)]).toEqual([...text].map((c) => c.charCodeAt(0)));
        } else {
          refused++;
        }
      }),
      { numRuns: 500 },
    );
    // Both answers were reached many times (about a fifth of the texts are valid PINs).
    expect(accepted).toBeGreaterThan(40);
    expect(refused).toBeGreaterThan(40);
  });
});

describe('checkPinChange', () => {
  it.each([
    [{ oldPin: '', newPin: '654321', confirm: '654321' }, { field: 'old-pin', code: 'input/pin-empty' }],
    [{ oldPin: '12345', newPin: '654321', confirm: '654321' }, { field: 'old-pin', code: 'input/pin-too-short' }],
    [{ oldPin: '123456', newPin: '65432-', confirm: '65432-' }, { field: 'new-pin', code: 'input/pin-bad-character' }],
    [{ oldPin: '123456', newPin: '65432x', confirm: '65432x' }, undefined],
    [{ oldPin: '123456', newPin: '654321', confirm: '' }, { field: 'new-pin-confirm', code: 'input/pin-empty' }],
    [{ oldPin: '123456', newPin: '654321', confirm: '654322' }, { field: 'new-pin-confirm', code: 'input/pin-mismatch' }],
    [{ oldPin: '123456', newPin: 'Abcdef', confirm: 'abcdef' }, { field: 'new-pin-confirm', code: 'input/pin-mismatch' }],
    [{ oldPin: '123456', newPin: '654321', confirm: '654321' }, undefined],
    [{ newPin: '654321', confirm: '654321' }, undefined],
    [{ newPin: '1234567', confirm: '12345678' }, { field: 'new-pin-confirm', code: 'input/pin-mismatch' }],
  ])('%j -> %j', (values, expected) => {
    expect(checkPinChange(values, RULE)).toEqual(expected);
  });
});

describe('secretBytes', () => {
  it('gives the ASCII bytes in a new buffer', () => {
    expect([...secretBytes('0129')]).toEqual([0x30, 0x31, 0x32, 0x39]);
    expect(secretBytes('').length).toBe(0);
  });
});

describe('usesPinpad', () => {
  const both = { verify: true, modify: true };
  const verifyOnly = { verify: true, modify: false };
  const verifyThenReset = { ...HCA_PROFILE, unblock: { ...HCA_PROFILE.unblock, value: { method: 'verify-puk-then-reset' as const } } };
  it.each([
    [undefined, 'change', HCA_PROFILE, false],
    [undefined, 'unblock', HCA_PROFILE, false],
    [both, 'change', HCA_PROFILE, true],
    [verifyOnly, 'change', HCA_PROFILE, false],
    [verifyOnly, 'verify', HCA_PROFILE, true],
    [verifyOnly, 'unblock', HCA_PROFILE, HCA_PROFILE.unblock.value.method !== 'reset-retry-counter'],
    [verifyOnly, 'unblock', verifyThenReset, true],
    [both, 'unblock', HCA_PROFILE, true],
  ] as const)('%j %s -> %s', (pinpad, op, profile, expected) => {
    expect(usesPinpad(pinpad, op, profile)).toBe(expected);
  });
});

describe('pinpadStatusCode', () => {
  it.each([
    [0x6400, 'ccid/pin-timeout'],
    [0x6401, 'ccid/pin-cancelled'],
    [0x6402, 'ccid/pin-mismatch'],
    [0x6403, 'ccid/pin-length'],
    [0x63c2, undefined],
    [0x9000, undefined],
  ])('%s -> %s', (sw, code) => {
    expect(pinpadStatusCode(sw)).toBe(code);
  });
});
