/**
 * The English sentences of the HCA layer's errors (src/hca), kept out of the pages as the
 * driver's are (src/error-text.ts, whose `ERROR_TEXT` includes this table): an HCA error is
 * built from a code and named facts, and pages show their own localised text chosen by `code`.
 * Same form as the driver's table: code -> template(s) with `{fact}` placeholders, told apart by
 * their fact names, or a function of the facts (plural forms, the profile check's reasons).
 * No fact is ever a PIN, a PUK or part of one (src/errors.ts).
 */
import type { ErrorDetail } from '../errors.js';

const tries = (n: unknown): string => `${n} ${n === 1 ? 'try' : 'tries'}`;

/** `hca/profile-unconfirmed`: why nothing (more) was sent, for each `reason` (src/hca/pin-guard.ts). */
function profileUnconfirmed(d: ErrorDetail): string {
  const what = d.operation === 'unblock' ? 'PUK' : 'PIN';
  const sw = d.sw === undefined ? '' : ` (status ${d.sw})`;
  const why: Record<string, string> = {
    'not-implementable': `The card profile ${d.profileId} sends the ${what} wrapped under the card vendor's keys, which this software does not have: nothing was sent.`,
    'status-unexpected': `The card did not answer the ${what} status check as the profile ${d.profileId} expects${sw}: no ${what} was sent.`,
    refused: `The card refused the ${what}${sw}. The ${what} may have been right: the format of this card (profile ${d.profileId}) is not confirmed yet.`,
    'earlier-refusal': `The card already refused a ${what} in a format that is not confirmed (profile ${d.profileId}): no second ${what} is sent.`,
  };
  const left = d.retriesLeft === undefined ? '' : ` The card reports ${d.retriesLeft} ${what} ${d.retriesLeft === 1 ? 'try' : 'tries'} left.`;
  return `${why[String(d.reason)] ?? String(d.reason)}${left} Stop here and send a field report (docs/field-test.md) so the card format can be confirmed.`;
}

/** `hca/bad-pin-format`, `hca/bad-puk-format`: the rule the value broke (src/hca/format.ts, secretDigits). */
function secretRule(d: ErrorDetail): string {
  const span = d.minLength === d.maxLength ? `${d.minLength}` : `${d.minLength} to ${d.maxLength}`;
  return d.letters ? `The ${d.what} must be ${span} letters or digits (A-Z, a-z, 0-9).` : `The ${d.what} must be ${span} digits (0-9).`;
}

/** code -> the English sentence(s) of the HCA layer's errors. */
export const HCA_ERROR_TEXT = {
  // src/hca/errors.ts
  'hca/puk-incorrect': (d: ErrorDetail) => `Wrong PUK: ${tries(d.retriesLeft)} left. The PIN was not changed.`,
  'hca/puk-blocked': 'The PUK is blocked: this card can no longer be unlocked; the holder must apply to the HCA for a new card.',
  'hca/profile-unconfirmed': profileUnconfirmed,

  // src/hca/format.ts, read-binary.ts: the PIN / PUK rule (never the value), the card's text files.
  'hca/bad-pin-format': secretRule,
  'hca/bad-puk-format': secretRule,
  // src/hca/card-base.ts: opening the card, the pinpad.
  'hca/not-hca-card': (d: ErrorDetail) =>
    d.atrKnown
      ? 'This card has an HCA ATR but no HCA application answered SELECT: the profile\'s AID may be wrong (check with "npx webccid probe").'
      : 'This is not an HCA card (unknown ATR, and no HCA application). Insert the healthcare card (醫事人員卡 / 醫事機構卡).',
  'hca/no-pinpad': (d: ErrorDetail) =>
    d.operation === 'change'
      ? 'This reader has no pinpad for PIN changes: type the PINs on the screen instead.'
      : 'This reader has no pinpad for PIN verification: type the PIN on the screen instead.',
  'hca/bad-argument': ['No candidate profile to open the card with.'],
  'hca/bad-profile': ["The profile's PIN block ({blockLength} bytes) cannot hold {pinLength} digits."],
  'hca/bad-file': [
    'The card info file does not start with a card number (two letters and 12 digits).',
    'The {file} file is longer than {maxBytes} bytes.',
    "The {file} file does not have {fields} '|'-separated fields.",
    'The {dateIn} file has a date that is not YYYYMMDD.',
  ],
} satisfies Record<string, string | readonly string[] | ((d: ErrorDetail) => string)>;
