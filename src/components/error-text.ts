/**
 * The English sentences of the components' own errors (src/components), as src/hca/error-text.ts
 * is for the HCA layer: part of `webccid/error-text`'s table, not of the pages (which show their
 * own localised text, chosen by `code`). No fact is ever a PIN, a PUK, a user code or a card number.
 */
import type { ErrorDetail } from '../errors.js';

/** A refusal by the server (bindVerdictError, src/components/hca-bind-card/bind-api.ts): `verdict` is its own code. */
const REFUSED = 'The server refused the binding ({verdict}).';

/** code -> the English sentence(s) of the components' errors. */
export const COMPONENTS_ERROR_TEXT = {
  // src/components/locale.ts
  'components/bad-locale': ['Unknown locale: {locale} (use {known}).', 'No templates for locale {noTemplates}.'],
  // src/components/hca-bind-card/bind-api.ts: the server's answers; `verdict` is the server's own code.
  'bind/wrong-card-type-server': REFUSED,
  'bind/origin-not-allowed': ["The server does not accept binding from this page's origin (HTTP {status}).", REFUSED],
  'bind/origin-mismatch': REFUSED,
  'bind/challenge-expired': REFUSED,
  'bind/challenge-unknown': REFUSED,
  'bind/challenge-replayed': REFUSED,
  'bind/bad-signature': REFUSED,
  'bind/unsupported-key': REFUSED,
  'bind/untrusted-chain': REFUSED,
  'bind/certificate-expired': ['The signature certificate on the card has expired: it cannot be bound.', REFUSED],
  'bind/certificate-not-yet-valid': ['The signature certificate on the card is not valid yet.', REFUSED],
  'bind/certificate-not-for-signing': REFUSED,
  'bind/card-number-mismatch': REFUSED,
  'bind/already-bound': REFUSED,
  'bind/no-account': REFUSED,
  'bind/bad-account': REFUSED,
  'bind/rejected': REFUSED,
  'bind/network': 'The server at {url} could not be reached.',
  'bind/challenge-failed': 'The server gave no challenge (HTTP {status}, {serverCode}).',
  // src/components/hca-bind-card/bind-flow.ts: the component's own checks of the card's certificate.
  'bind/unknown-card-type': 'The signature certificate has no HCA card-type policy: this card cannot be bound.',
  'bind/wrong-card-type': (d: ErrorDetail) =>
    d.inserted === 'institution'
      ? 'The inserted card is an institution card (醫事機構卡), but personnel card (醫事人員卡) was selected.'
      : 'The inserted card is a personnel card (醫事人員卡), but institution card (醫事機構卡) was selected.',
  // src/components/hca-unlock-card/unlock-flow.ts
  'unlock/card-mismatch': 'The card in the reader does not carry the card number typed: nothing was asked of the service or sent to the card.',
} satisfies Record<string, string | readonly string[] | ((d: ErrorDetail) => string)>;
