/**
 * Errors of the HCA card operations (`webccid/hca`).
 *
 * - `HcaError`: the operation could not be done for a reason on our side of the card: not an HCA
 *   card, a PIN / PUK of the wrong format (checked before anything is sent), an absent
 *   certificate, a file whose content does not parse, no pinpad, a bad profile.
 * - `PukIncorrectError` / `PukBlockedError`: the card refused the PUK while unblocking the PIN
 *   (they are `ApduError`s: the card answered with a status word).
 * - `ProfileUnconfirmedError` (`hca/profile-unconfirmed`): a PIN or PUK was not sent (or not sent
 *   again) because the profile's PIN format is not confirmed (src/hca/pin-guard.ts).
 *
 * Like every error of webccid, none of them ever carries a PIN or a PUK (not in the message, not
 * in a property).
 */
import { ApduError, PinBlockedError, PinIncorrectError, WebCcidError, type ErrorDetail, type WebCcidErrorOptions } from '../errors.js';
import { statusError } from '../iso7816/status.js';
import { isBlocked, isCounter } from './apdu.js';

/**
 * Codes: `hca/not-hca-card`, `hca/bad-pin-format`, `hca/bad-puk-format`, `hca/certificate-absent`,
 * `hca/bad-file`, `hca/bad-response`, `hca/no-pinpad`, `hca/bad-argument`, `hca/bad-profile`,
 * `hca/no-webcrypto`.
 */
export class HcaError extends WebCcidError {
  constructor(code: string, message: string | ErrorDetail, options?: WebCcidErrorOptions) {
    super(code, message, options);
  }
}

/** A status word as the errors' facts carry it: 4 hex digits (`63C2`). */
export function swHex(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}

/** 63C1..63CF answering an unblock: the PUK was wrong; `retriesLeft` = x. Code `hca/puk-incorrect`. */
export class PukIncorrectError extends ApduError {
  readonly retriesLeft: number;

  constructor(sw: number) {
    const retriesLeft = sw & 0x0f;
    super('hca/puk-incorrect', { retriesLeft }, sw);
    this.retriesLeft = retriesLeft;
  }
}

/** 6983 or 63C0 answering an unblock: the PUK is blocked. Code `hca/puk-blocked`. */
export class PukBlockedError extends ApduError {
  constructor(sw: number) {
    super('hca/puk-blocked', {}, sw);
  }
}

/** Why a PIN-carrying command was not sent (or not trusted) on a profile that is not confirmed. */
export type ProfileUnconfirmedReason =
  /** The profile's PIN encoding needs the vendor's keys (a wrapped VERIFY): never implemented here. Nothing was sent. */
  | 'not-implementable'
  /** The card did not answer the free status check (VERIFY without data) as the profile expects. No PIN was sent. */
  | 'status-unexpected'
  /** The card refused the first PIN-carrying command: the PIN may have been right and only our encoding wrong. */
  | 'refused'
  /** A PIN-carrying command was already refused on this card with this profile: no second one is sent. */
  | 'earlier-refusal';

/**
 * `hca/profile-unconfirmed`: the card profile's PIN format is assumed (not confirmed on a real
 * card), and sending a PIN now could spend one of the holder's tries on a guess. The holder should
 * stop and send a field report (docs/hca-profile.md); `retriesLeft` is the counter as the card
 * reported it without spending a try, when known. `cause` holds the card's own answer (e.g. the
 * `PinIncorrectError` of a refused first try).
 */
export class ProfileUnconfirmedError extends HcaError {
  readonly reason: ProfileUnconfirmedReason;
  /** The profile in use. */
  readonly profileId: string;
  /** The operation that was stopped. */
  readonly operation: 'verify' | 'change' | 'unblock';
  /** The PIN-carrying profile fields that are assumed (or not implementable), e.g. `pin.encoding`. */
  readonly fields: readonly string[];
  /** Tries left of the PIN (or PUK, for an unblock), when the card said so. */
  readonly retriesLeft: number | undefined;
  /** The status word that made the profile doubtful, when there was one. */
  readonly sw: number | undefined;

  constructor(init: {
    reason: ProfileUnconfirmedReason;
    profileId: string;
    operation: 'verify' | 'change' | 'unblock';
    fields: readonly string[];
    retriesLeft?: number | undefined;
    sw?: number | undefined;
    cause?: unknown;
  }) {
    const { reason, operation, profileId, retriesLeft, sw } = init;
    // The facts name the profile and what the card said; never the PIN or PUK (src/hca/error-text.ts words them).
    super(
      'hca/profile-unconfirmed',
      {
        reason,
        operation,
        profileId,
        ...(retriesLeft === undefined ? {} : { retriesLeft }),
        ...(sw === undefined ? {} : { sw: swHex(sw) }),
      },
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.reason = init.reason;
    this.profileId = init.profileId;
    this.operation = init.operation;
    this.fields = [...init.fields];
    this.retriesLeft = init.retriesLeft;
    this.sw = init.sw;
  }
}

// ---- the card's answers as errors ----------------------------------------------------------

/** The error for a status word answering a PIN command (VERIFY / CHANGE REFERENCE DATA). */
export function pinStatusError(sw: number, data: Uint8Array): ApduError {
  if (isBlocked(sw)) return new PinBlockedError(sw);
  if (isCounter(sw)) return new PinIncorrectError(sw);
  return cardStatusError(sw, data);
}

/** The error for a status word answering the PUK (RESET RETRY COUNTER, or VERIFY of the PUK). */
export function pukStatusError(sw: number, data: Uint8Array): ApduError {
  if (isBlocked(sw)) return new PukBlockedError(sw);
  if (isCounter(sw)) return new PukIncorrectError(sw);
  return cardStatusError(sw, data);
}

/** The error for any other answer that is not 9000 (`statusError`, else `apdu/status`). */
export function cardStatusError(sw: number, data: Uint8Array): ApduError {
  return statusError(sw, data) ?? new ApduError('apdu/status', { sw: swHex(sw) }, sw, data);
}
