/**
 * Errors of the NHI card reader (`webccid/nhi`).
 *
 * Codes: `nhi/not-nhi-card` (the card refused SELECT of the NHI application), `nhi/read-failed`
 * (the card refused the basic-data read), `nhi/bad-data` (the basic data does not have the
 * public layout), `nhi/bad-date` (`rocDateToIso()`: not a valid ROC date), `nhi/no-big5`
 * (the platform's TextDecoder has no Big5).
 *
 * No card in the reader is not an NHI error: the channel reports it (`ccid/card-absent`).
 */
import { WebCcidError, type WebCcidErrorOptions } from '../errors.js';

/** See the module comment for the codes. */
export class NhiError extends WebCcidError {
  /** The status word the card answered, when the error is the card's answer. */
  readonly sw: number | undefined;

  constructor(code: string, message: string, options?: WebCcidErrorOptions & { sw?: number }) {
    super(code, message, options);
    this.sw = options?.sw;
  }
}
