/**
 * Pure helpers of the PIN flows (`<hca-change-pin>`, `<hca-unlock-card>`): checks of what the user
 * typed (as typed and on submit), turning a typed PIN into bytes to send and wipe, and the choice
 * between the reader's pinpad and on-screen entry. No DOM, no I/O, no timers.
 *
 * Problems are reported as codes (`input/...`), never with the value.
 */
import { HCA_PROFILE_VALUES, pinCharAllowed, pinCharsetOf, type HcaProfileValues, type PinCharset } from '../../hca/profile-data.js';

/** What a PIN typed on the screen must be: length bounds and characters (from the card profile). */
export interface PinRule {
  minLength: number;
  maxLength: number;
  charset: PinCharset;
}

/**
 * The PIN rule of a card profile (default `HCA_PROFILE_VALUES`), read from its `pinRule` field as the card
 * operations check it (HCA cards: 6 to 8 letters and digits; `pinCharsetOf`: digits only when the PIN
 * block is not ASCII). Screen entry accepts what the card accepts; a pinpad reader takes digits only.
 */
export function pinRuleOf(profile: HcaProfileValues = HCA_PROFILE_VALUES): PinRule {
  return { minLength: profile.pin.minLength.value, maxLength: profile.pin.maxLength.value, charset: pinCharsetOf(profile) };
}

/**
 * What is wrong with a typed PIN: `input/pin-empty`, `input/pin-not-digits` (a digits-only rule:
 * anything but 0-9), `input/pin-bad-character` (a letters-and-digits rule: anything but A-Z, a-z,
 * 0-9), `input/pin-too-short`, `input/pin-too-long`.
 */
export type PinProblem = 'input/pin-empty' | 'input/pin-not-digits' | 'input/pin-bad-character' | 'input/pin-too-short' | 'input/pin-too-long';

/** Which input a problem belongs to. */
export type PinField = 'old-pin' | 'new-pin' | 'new-pin-confirm';

/** A problem with what the user typed, tied to the input (its data-testid). */
export interface InputProblem<F extends string = string> {
  field: F;
  code: string;
}

/**
 * Checks a PIN as typed so far (`partial`: a PIN still too short is not a problem yet) or as
 * submitted. Undefined when fine.
 */
export function checkPin(text: string, rule: PinRule, options: { partial?: boolean } = {}): PinProblem | undefined {
  if (text.length === 0) return options.partial ? undefined : 'input/pin-empty';
  for (let i = 0; i < text.length; i++) {
    if (!pinCharAllowed(text.charCodeAt(i), rule.charset)) return rule.charset === 'digits' ? 'input/pin-not-digits' : 'input/pin-bad-character';
  }
  if (text.length > rule.maxLength) return 'input/pin-too-long';
  if (text.length < rule.minLength && !options.partial) return 'input/pin-too-short';
  return undefined;
}

/**
 * Checks a new PIN and its confirmation on submit: the new PIN's own problem first, then the
 * confirmation (`input/pin-mismatch` when they differ). `oldPin`, when given, is checked first.
 */
export function checkPinChange(
  values: { oldPin?: string; newPin: string; confirm: string },
  rule: PinRule,
): InputProblem<PinField> | undefined {
  if (values.oldPin !== undefined) {
    const p = checkPin(values.oldPin, rule);
    if (p) return { field: 'old-pin', code: p };
  }
  const p = checkPin(values.newPin, rule);
  if (p) return { field: 'new-pin', code: p };
  if (values.confirm.length === 0) return { field: 'new-pin-confirm', code: 'input/pin-empty' };
  if (values.confirm !== values.newPin) return { field: 'new-pin-confirm', code: 'input/pin-mismatch' };
  return undefined;
}

/**
 * The ASCII bytes of a typed PIN / PUK, in a new buffer the caller wipes after use (`wipe` from
 * src/bytes.ts). Characters other than digits are kept as their low byte; the card operations
 * check the format before sending anything.
 */
export function secretBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** What a card operation needs of the reader's pinpad. */
export type PinpadOperation = 'verify' | 'change' | 'unblock';

/**
 * True when the operation can be keyed on the reader's pinpad (`pinpad` as a `CardChannel` reports
 * it; undefined: no pinpad). Change needs PIN modification; unblock needs modification with the
 * profile's 'reset-retry-counter' method and verification with 'verify-puk-then-reset'.
 */
export function usesPinpad(
  pinpad: { verify: boolean; modify: boolean } | undefined,
  operation: PinpadOperation,
  profile: HcaProfileValues = HCA_PROFILE_VALUES,
): boolean {
  if (!pinpad) return false;
  switch (operation) {
    case 'verify':
      return pinpad.verify;
    case 'change':
      return pinpad.modify;
    case 'unblock':
      return profile.unblock.value.method === 'reset-retry-counter' ? pinpad.modify : pinpad.verify;
  }
}

/**
 * Status words a pinpad reader puts in its answer instead of the card's (PC/SC part 10 practice):
 * 6400 timeout, 6401 cancel, 6402 the two new PINs differ, 6403 wrong length. Returns the code
 * the CCID driver gives them (for channels that pass them through), or undefined.
 */
export function pinpadStatusCode(sw: number): string | undefined {
  switch (sw) {
    case 0x6400:
      return 'ccid/pin-timeout';
    case 0x6401:
      return 'ccid/pin-cancelled';
    case 0x6402:
      return 'ccid/pin-mismatch';
    case 0x6403:
      return 'ccid/pin-length';
    default:
      return undefined;
  }
}
