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
  if (d.missing) return `Enter the ${d.what}.`;
  const span = d.minLength === d.maxLength ? `${d.minLength}` : `${d.minLength} to ${d.maxLength}`;
  return d.letters ? `The ${d.what} must be ${span} letters or digits (A-Z, a-z, 0-9).` : `The ${d.what} must be ${span} digits (0-9).`;
}

/** Facts whose value is a name: the words a sentence shows for it (part of FACT_WORDS, src/error-text.ts). */
export const HCA_FACT_WORDS = {
  // hca/bad-profile (src/hca/check-profile.ts): the rule a caller's profile field broke.
  profileRule: {
    'not-hex': 'not a hex string',
    'aid-length': 'an AID has 5 to 16 bytes',
    'select-by': "selectBy must be 'aid' or 'fid'",
    'fid': 'fid must be 0..FFFF',
    'class-byte': 'a class byte without chaining or secure messaging (00..03, 80..FE)',
    'protection': "must be 'plain' or 'vendor-wrapped'",
    'not-list': 'not a list',
    'four-fids': 'four file IDs 0..FFFF',
    'not-byte': 'not a byte',
    'pin-lengths': 'need 1 <= min <= max <= 16',
    'puk-length': 'need 1..16',
    'encoding': "encoding must be 'ascii' or 'bcd'",
    'block-length': 'blockLength must be 1..255',
    'pad-byte': 'padByte must be a byte',
    'charset': "must be 'digits' or 'letters-and-digits'",
    'max-tries': 'need 1..15',
    'status-method': "only 'verify-without-data' is implemented",
    'method': 'unknown method',
    'signing-input': "only 'digest-info' is implemented",
    'hash': 'unsupported hash',
    'key-bits': 'need a multiple of 8 in 512..8192',
  },
  // hca/bad-file (src/hca/card-format.ts, derTotalLength): what is wrong with a certificate file's DER header.
  derProblem: {
    'no-sequence': 'it does not start with a SEQUENCE',
    'header-truncated': 'the header is truncated',
    'indefinite-length': 'indefinite length',
    'length-too-large': 'length too large',
    'not-minimal': 'length not in minimal DER form',
  },
} satisfies Record<string, Record<string, string>>;

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
  'hca/bad-argument': [
    'No candidate profile to open the card with.',
    // src/hca/card.ts, card-format.ts
    'Certificate index must be 0 (HCA CA), 1 (signature), 2 (encryption) or 3 (GRCA root), not {certificateIndex}.',
    'The data to sign must be a Uint8Array, not {dataType}.',
    'A {hash} digest has {expectedBytes} bytes, not {digestBytes}.',
  ],
  // src/hca/card.ts: certificates, signing.
  'hca/certificate-absent': (d: ErrorDetail) =>
    `Certificate ${d.index} (${d.name}) is not on this card${Number(d.index) >= 2 ? ' (version 1 cards have only certificates 0 and 1)' : ''}.`,
  'hca/no-webcrypto': 'WebCrypto (crypto.subtle) is not available: hash the data yourself and pass { digest: true }.',
  'hca/bad-response': 'The card returned a {signatureBytes}-byte signature; a {keyBits}-bit key gives {expectedBytes} bytes.',
  // src/hca/report.ts
  'report/unredacted-secret':
    'Session {session}, entry {entry}: the data of an instruction {ins} is not redacted; this report may hold a PIN and must not be shared or committed.',
  'hca/bad-profile': [
    "The profile's PIN block ({blockLength} bytes) cannot hold {pinLength} digits.",
    'Hash {hash} is not supported (SHA-1, SHA-256, SHA-384, SHA-512).',
    // src/hca/check-profile.ts
    'HCA profile field {field}: {profileRule}.',
    'HCA profile field {field}: a block of {blockLength} bytes cannot hold {pinLength} digits.',
  ],
  'hca/bad-file': [
    'The card info file does not start with a card number (two letters and 12 digits).',
    'The {file} file is longer than {maxBytes} bytes.',
    "The {file} file does not have {fields} '|'-separated fields.",
    'The {dateIn} file has a date that is not YYYYMMDD.',
    // src/hca/card.ts, card-format.ts
    'The {emptyFile} file is empty.',
    'The {file} file has an empty name or ID number.',
    'Certificate {certificate} ({name}) is shorter than its DER header says.',
    'The certificate file is not a DER certificate: {derProblem}.',
    'The certificate file is not a DER certificate: longer than {derMaxBytes} bytes.',
    // src/components/hca-bind-card/bind-flow.ts
    'The {notX509} certificate on the card is not a DER X.509 certificate.',
  ],
} satisfies Record<string, string | readonly string[] | ((d: ErrorDetail) => string)>;
