/**
 * Errors of the HCA card operations (`webccid/hca`).
 *
 * - `HcaError`: the operation could not be done for a reason on our side of the card: not an HCA
 *   card, a PIN / PUK of the wrong format (checked before anything is sent), an absent
 *   certificate, a file whose content does not parse, no pinpad, a bad profile.
 * - `PukIncorrectError` / `PukBlockedError`: the card refused the PUK while unblocking the PIN
 *   (they are `ApduError`s: the card answered with a status word).
 *
 * Like every error of webccid, none of them ever carries a PIN or a PUK (not in the message, not
 * in a property).
 */
import { ApduError, WebCcidError, type WebCcidErrorOptions } from '../errors.js';

/**
 * Codes: `hca/not-hca-card`, `hca/bad-pin-format`, `hca/bad-puk-format`, `hca/certificate-absent`,
 * `hca/bad-file`, `hca/bad-response`, `hca/no-pinpad`, `hca/bad-argument`, `hca/bad-profile`,
 * `hca/no-webcrypto`.
 */
export class HcaError extends WebCcidError {
  constructor(code: string, message: string, options?: WebCcidErrorOptions) {
    super(code, message, options);
  }
}

/** 63C1..63CF answering an unblock: the PUK was wrong; `retriesLeft` = x. Code `hca/puk-incorrect`. */
export class PukIncorrectError extends ApduError {
  readonly retriesLeft: number;

  constructor(sw: number) {
    const retriesLeft = sw & 0x0f;
    super('hca/puk-incorrect', `Wrong PUK: ${retriesLeft} ${retriesLeft === 1 ? 'try' : 'tries'} left. The PIN was not changed.`, sw);
    this.retriesLeft = retriesLeft;
  }
}

/** 6983 or 63C0 answering an unblock: the PUK is blocked. Code `hca/puk-blocked`. */
export class PukBlockedError extends ApduError {
  constructor(sw: number) {
    super('hca/puk-blocked', 'The PUK is blocked: this card can no longer be unlocked; the holder must apply to the HCA for a new card.', sw);
  }
}
