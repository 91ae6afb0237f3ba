/**
 * The English sentences of the session layer's errors (src/session), as src/hca/error-text.ts
 * is for the HCA layer: part of `webccid/error-text`'s table, not of the pages (which show
 * their own localised text, chosen by `code`). No fact is ever a PIN, a PUK or a user code.
 */
import type { ErrorDetail } from '../errors.js';

/** code -> the English sentence(s) of the session layer's errors. */
export const SESSION_ERROR_TEXT = {
  // src/session/card-session.ts, auto-session.ts, smartcard-session.ts (`transport/disconnected`
  // and `transport/closed` use the driver's sentences).
  'transport/no-webusb': (d: ErrorDetail) =>
    d.reason === 'insecure-context'
      ? 'WebUSB needs a secure context: serve the page over HTTPS (or from localhost).'
      : d.reason === 'using-smart-card-api'
        ? 'This browser has no WebUSB: using the Web Smart Card API.'
        : 'This browser has no WebUSB: use Chrome or Edge (version 61 or later) on a desktop or Android.',
  'transport/no-reader': (d: ErrorDetail) =>
    d.backend === 'smartcard'
      ? 'No smart-card reader is connected (or the smart-card service sees none).'
      : d.cardSession === 'none' // <hca-bind-card> without a card session (src/components)
        ? 'No card session.'
        : 'No smart-card reader is connected: plug one in (or choose one).',
  'smartcard/failed': 'Smart card {operation} failed.',
  'smartcard/unavailable': 'The Web Smart Card API (navigator.smartCard) is not available here.',

  // src/session/puk-service.ts: the PUK service's answers (never the PUK, the card number or the user code).
  'unlock/wrong-user-code': 'The card number or the user code is wrong.',
  'unlock/card-locked': 'Too many wrong user codes: unlocking this card is suspended for a while.',
  'unlock/rate-limited': 'Too many attempts: wait before trying again.',
  'unlock/bad-card-number': 'The card number is missing or not 12 digits.',
  'unlock/bad-user-code': 'The user code is missing or malformed.',
  'unlock/network': 'The unlock service could not be reached.',
  'unlock/server-error': [
    'The unlock service answered without a PUK.',
    'The unlock service failed (HTTP {status}).',
    'The unlock service failed (HTTP {status}, {serverCode}).',
  ],
} satisfies Record<string, string | readonly string[] | ((d: ErrorDetail) => string)>;
