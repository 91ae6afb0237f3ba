import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HCA_PROFILE } from '../../hca/profile.js';
import { checkPin, checkPinChange, pinRuleOf, pinpadStatusCode, secretBytes, usesPinpad } from './pin-entry.js';

const RULE = pinRuleOf();
const DIGITS_ONLY = { ...RULE, charset: 'digits' as const };

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
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), fc.boolean(), (text, partial) => {
        expect(codes.has(checkPin(text, RULE, { partial }))).toBe(true);
      }),
    );
  });

  it('accepts exactly the strings of 6..8 ASCII letters and digits (digits only under a digits rule)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), (text) => {
        expect(checkPin(text, RULE) === undefined).toBe(/^[0-9A-Za-z]{6,8}$/.test(text));
        expect(checkPin(text, DIGITS_ONLY) === undefined).toBe(/^[0-9]{6,8}$/.test(text));
      }),
    );
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
