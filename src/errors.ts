/**
 * Errors of every layer. One base class with a stable string `code`; callers
 * branch on `code` (or `instanceof`), never on message text. docs/errors.md is
 * the complete list (test/error-codes.test.ts keeps it in step with the code);
 * the lists below name the codes of this file's classes. The HCA layer adds
 * its own classes in src/hca/errors.ts.
 *
 * Rule for all layers: no PIN, PUK or key material ever goes into a message,
 * a `detail` or any other property of an error.
 *
 * Two ways to build an error:
 * - from a code and facts (the driver layers: src/ccid, src/iso7816, src/usb,
 *   bytes.ts, mutex.ts): `new CcidError('ccid/length-mismatch', { dwLength: 12, carried: 10 })`.
 *   The facts become `detail`; `message` is made at construction by the
 *   registered formatter, by default the compact form `ccid/length-mismatch
 *   (dwLength 12, carried 10)`. The English sentences are a table
 *   (src/error-text.ts, code -> template with `{fact}` placeholders) that the
 *   driver core does not contain; `useEnglishErrorText()` registers it
 *   (webccid/node does), `errorText(err)` reads it for one error.
 *   To convert a throw site: name the facts the sentence used (numbers,
 *   strings, booleans; never PIN/PUK bytes), pass them instead of the text,
 *   and move the sentence into the table under the code with the facts as
 *   placeholders. Sites of one code that say different things carry different
 *   fact names; the table's template with exactly those names is used.
 *   test/error-codes.test.ts checks codes, table entries and placeholders.
 *   The layers above the driver that the flow pages load do the same (src/hca, src/session,
 *   src/components: their tables are src/hca/error-text.ts and the like).
 * - from a code and a message (the other layers: smartcard, nhi, server, probe, cli, virtual):
 *   `detail` is then empty.
 */

/** The named facts of an error (never PIN/PUK material). */
export type ErrorDetail = Readonly<Record<string, number | string | boolean>>;

export interface WebCcidErrorOptions {
  cause?: unknown;
}

/** Makes the `message` of an error built from a code and facts; undefined: the compact form. */
export type ErrorMessageFormatter = (code: string, detail: ErrorDetail) => string | undefined;

let formatter: ErrorMessageFormatter | undefined;

/**
 * Sets (or, with undefined, removes) the formatter of the messages of errors created from now on.
 * `useEnglishErrorText()` (webccid/error-text) sets the English one.
 */
export function setErrorMessageFormatter(f: ErrorMessageFormatter | undefined): void {
  formatter = f;
}

/** The compact message: the code and the facts, e.g. `ccid/length-mismatch (dwLength 12, carried 10)`. */
export function compactErrorMessage(code: string, detail: ErrorDetail): string {
  const facts = Object.entries(detail).map(([k, v]) => `${k} ${v}`);
  return facts.length ? `${code} (${facts.join(', ')})` : code;
}

/**
 * Base class. Thrown directly (no subclass) only for helper, tool and server
 * input codes: `bytes/bad-hex` (fromHex), `virtual/*` (virtual reader and card
 * set-up), `cli/*` (the probe command line), `server/*` (bad verifier input).
 */
export class WebCcidError extends Error {
  /** Stable machine-readable identifier, `layer/what`, e.g. `ccid/icc-mute`. */
  readonly code: string;
  /** The facts of this error (empty for errors built from a message). */
  readonly detail: ErrorDetail;

  /** `message`: the text itself, or the facts (the message is then formatted, see above). */
  constructor(code: string, message: string | ErrorDetail, options?: WebCcidErrorOptions) {
    const detail = typeof message === 'string' ? {} : message;
    const text = typeof message === 'string' ? message : (formatter?.(code, detail) ?? compactErrorMessage(code, detail));
    super(text, options?.cause === undefined ? undefined : options);
    this.code = code;
    this.detail = detail;
    this.name = new.target.name;
  }
}

/**
 * USB transport problems: the device is gone, a transfer stalled or timed
 * out, or the browser / operating system would not let us have the device.
 *
 * Codes: `transport/disconnected`, `transport/timeout`, `transport/stall`,
 * `transport/babble`, `transport/protected-class`, `transport/os-held`,
 * `transport/no-permission`, `transport/no-webusb` (Node: no `usb` package),
 * `transport/no-reader` (Node: no matching device), `transport/closed`, `transport/failed`.
 */
export class TransportError extends WebCcidError {}

/**
 * CCID framing and reader-level problems: malformed frames, a reader that is
 * not CCID, an exchange level we cannot drive.
 *
 * Codes: `ccid/malformed-frame`, `ccid/length-mismatch`, `ccid/unexpected-message`,
 * `ccid/no-class-descriptor`, `ccid/bad-descriptor`, `ccid/unsupported-level`,
 * `ccid/no-interface`, `ccid/bad-slot`, `ccid/message-too-long`, `ccid/stale-limit`, `ccid/bad-field`,
 * `ccid/slot-busy` (the driver's own check, not bError 0xE0), `ccid/not-connected`,
 * `ccid/pinpad-unsupported`, `ccid/pin-length`, `ccid/pin-mismatch` (the pinpad reader's own answers),
 * `ccid/module-load-failed` (a part of the driver loaded on first use could not be fetched).
 * Reader-reported failures are SlotError (below).
 */
export class CcidError extends WebCcidError {}

/**
 * A CCID command that the reader answered with bmCommandStatus = 1 (failed).
 * `bError` is the reader's error code; `iccStatus` tells whether a card is
 * present (0 active, 1 present but inactive, 2 absent).
 *
 * Codes (slotErrorFrom): `ccid/card-absent` (iccStatus 2, whatever bError; also thrown by a
 * connection whose card was removed), else from bError: `ccid/cmd-aborted` (FF), `ccid/icc-mute` (FE),
 * `ccid/xfr-parity-error` (FD), `ccid/xfr-overrun` (FC), `ccid/hw-error` (FB), `ccid/bad-atr-ts` (F8),
 * `ccid/bad-atr-tck` (F7), `ccid/icc-protocol-not-supported` (F6), `ccid/icc-class-not-supported` (F5),
 * `ccid/procedure-byte-conflict` (F4), `ccid/deactivated-protocol` (F3), `ccid/busy-with-auto-sequence` (F2),
 * `ccid/pin-timeout` (F0), `ccid/pin-cancelled` (EF), `ccid/cmd-slot-busy` (E0),
 * `ccid/command-not-supported` (00), `ccid/bad-parameter` (01..7F: offset of the bad field),
 * `ccid/slot-error` (anything else: 80, vendor 81..C0, reserved).
 */
export class SlotError extends CcidError {
  readonly bStatus: number;
  readonly bError: number;
  readonly iccStatus: 0 | 1 | 2;

  constructor(code: string, message: string | ErrorDetail, bStatus: number, bError: number, options?: WebCcidErrorOptions) {
    super(code, message, options);
    this.bStatus = bStatus;
    this.bError = bError;
    this.iccStatus = (bStatus & 0x03) as 0 | 1 | 2;
  }
}

/**
 * Card-protocol problems (ISO/IEC 7816-3): bad ATR, failed PPS, T=0/T=1
 * errors the engine could not recover from.
 *
 * Codes: `protocol/bad-atr`, `protocol/no-common-protocol`, `protocol/pps-failed`,
 * `protocol/t1-unrecoverable`, `protocol/t1-resynchronised` (the command may or may not have run),
 * `protocol/t1-aborted`, `protocol/t1-bad-block`, `protocol/t0-bad-response`, `protocol/bad-apdu`,
 * `protocol/bad-response`, `protocol/apdu-too-long`, `protocol/bad-parameters`.
 */
export class ProtocolError extends WebCcidError {}

/**
 * The card answered, with a status word other than success. `sw` is
 * SW1 << 8 | SW2; `data` is the response data that came with it (may be empty).
 *
 * Codes (src/iso7816/status.ts): `apdu/status` (anything not listed, and 61xx from checkResponse),
 * `apdu/security-not-satisfied` (6982), `apdu/file-not-found` (6A82),
 * `apdu/wrong-length` (6700, 6Cxx), `apdu/ins-not-supported` (6D00), `apdu/cla-not-supported` (6E00),
 * `apdu/wrong-p1p2` (6A86/6B00), `apdu/conditions-not-satisfied` (6985), `apdu/func-not-supported` (6A81),
 * `apdu/incorrect-data` (6A80), `apdu/record-not-found` (6A83), `apdu/memory-failure` (6581),
 * `apdu/not-enough-memory` (6A84), `apdu/warning` (62xx/63xx other than 63Cx).
 * 6983 and 63C0 are always PinBlockedError, 63C1..63CF PinIncorrectError (subclasses below).
 */
export class ApduError extends WebCcidError {
  readonly sw: number;
  readonly data: Uint8Array;

  constructor(code: string, message: string | ErrorDetail, sw: number, data: Uint8Array = new Uint8Array(0), options?: WebCcidErrorOptions) {
    super(code, message, options);
    this.sw = sw;
    this.data = data;
  }

  get sw1(): number {
    return this.sw >> 8;
  }

  get sw2(): number {
    return this.sw & 0xff;
  }
}

/** 63C1..63CF: the PIN (or PUK) was wrong; `retriesLeft` = x. Code `apdu/pin-incorrect`. */
export class PinIncorrectError extends ApduError {
  readonly retriesLeft: number;

  constructor(sw: number, message?: string) {
    const retriesLeft = sw & 0x0f;
    super('apdu/pin-incorrect', message ?? { retriesLeft }, sw);
    this.retriesLeft = retriesLeft;
  }
}

/** 6983 (or 63C0): the PIN is blocked. Code `apdu/pin-blocked`. */
export class PinBlockedError extends ApduError {
  constructor(sw: number, message?: string) {
    super('apdu/pin-blocked', message ?? {}, sw);
  }
}

/** The caller's AbortSignal fired. Code `aborted`. */
export class AbortError extends WebCcidError {
  constructor(message?: string, options?: WebCcidErrorOptions) {
    super('aborted', message ?? {}, options);
  }
}

/** True when `e` is one of ours with the given code. */
export function isWebCcidError(e: unknown, code?: string): e is WebCcidError {
  return e instanceof WebCcidError && (code === undefined || e.code === code);
}
