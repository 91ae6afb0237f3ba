/**
 * Maps what the Web Smart Card API rejects with (a `SmartCardError` with a `responseCode`, or a
 * plain DOMException / TypeError, spec §6 "corresponding exception") to our errors. The original
 * exception is kept as `cause`. Detection is by `responseCode` and DOMException `name`, never by
 * message text.
 *
 * | API rejection | Our error |
 * | --- | --- |
 * | `no-service` | TransportError `smartcard/no-service` |
 * | `unknown-reader` | TransportError `smartcard/no-reader` |
 * | `reader-unavailable` | TransportError `transport/disconnected` |
 * | `no-smartcard` | TransportError `smartcard/no-card` |
 * | `removed-card` | TransportError `smartcard/card-removed` |
 * | `reset-card` | TransportError `smartcard/card-reset` |
 * | `unresponsive-card`, `unpowered-card` | TransportError `smartcard/card-unresponsive` |
 * | `unsupported-card` | TransportError `smartcard/unsupported-card` |
 * | `proto-mismatch` | ProtocolError `protocol/no-common-protocol` |
 * | `sharing-violation` | TransportError `smartcard/sharing-violation` |
 * | `not-ready`, `not-transacted`, `server-too-busy`, `system-cancelled`, `unsupported-feature` | TransportError `smartcard/failed` |
 * | DOMException `SecurityError` | TransportError `smartcard/not-allowed` |
 * | DOMException `NotAllowedError` | TransportError `smartcard/permission-denied` |
 * | the caller's signal fired (any rejection) | AbortError `aborted` |
 * | anything else (`InvalidStateError`, `UnknownError`, `TypeError`, ...) | TransportError `smartcard/failed` |
 */
import { AbortError, ProtocolError, TransportError, WebCcidError } from '../errors.js';
import { SMART_CARD_RESPONSE_CODES, type SmartCardErrorLike, type SmartCardResponseCode } from './types.js';

/** True when `e` looks like a Web Smart Card API `SmartCardError` (has a known `responseCode`). */
export function isSmartCardError(e: unknown): e is SmartCardErrorLike {
  if (typeof e !== 'object' || e === null) return false;
  const code = (e as { responseCode?: unknown }).responseCode;
  return typeof code === 'string' && (SMART_CARD_RESPONSE_CODES as readonly string[]).includes(code);
}

function exceptionName(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const name = (e as { name?: unknown }).name;
  return typeof name === 'string' ? name : undefined;
}

/** Where the failure happened, for the message. */
export interface SmartCardErrorContext {
  /** The API call, e.g. 'connect', 'transmit'. */
  operation: string;
  readerName?: string;
  /** The caller's signal: when it has fired, every rejection becomes AbortError. */
  signal?: AbortSignal | undefined;
}

function responseCodeError(code: SmartCardResponseCode, where: string, cause: unknown): WebCcidError {
  const o = { cause };
  switch (code) {
    case 'no-service':
      return new TransportError(
        'smartcard/no-service',
        `${where}: the operating system's smart-card service is not running (Windows: the "Smart Card" service; Linux: pcscd; ChromeOS: the smart-card connector app).`,
        o,
      );
    case 'unknown-reader':
      return new TransportError('smartcard/no-reader', `${where}: the smart-card service does not know this reader (unplugged?).`, o);
    case 'reader-unavailable':
      return new TransportError('transport/disconnected', `${where}: the reader is no longer available (unplugged).`, o);
    case 'no-smartcard':
      return new TransportError('smartcard/no-card', `${where}: there is no card in the reader.`, o);
    case 'removed-card':
      return new TransportError('smartcard/card-removed', `${where}: the card was removed.`, o);
    case 'reset-card':
      return new TransportError(
        'smartcard/card-reset',
        `${where}: the card was reset (by another application, or the reader): its PIN state is lost; connect again.`,
        o,
      );
    case 'unresponsive-card':
    case 'unpowered-card':
      return new TransportError('smartcard/card-unresponsive', `${where}: the card does not answer (inserted the wrong way round, dirty contacts, or not a chip card).`, o);
    case 'unsupported-card':
      return new TransportError('smartcard/unsupported-card', `${where}: the reader cannot talk to this card (its ATR is not supported).`, o);
    case 'proto-mismatch':
      return new ProtocolError('protocol/no-common-protocol', `${where}: the card offers none of the requested protocols (T=0, T=1).`, o);
    case 'sharing-violation':
      return new TransportError(
        'smartcard/sharing-violation',
        `${where}: another application holds the card exclusively (close other smart-card software, or try again).`,
        o,
      );
    default:
      return new TransportError('smartcard/failed', `${where}: the smart-card service answered "${code}".`, o);
  }
}

/**
 * Our error for a rejection of the Web Smart Card API. Already ours: returned as is (unless the
 * signal fired, which always gives AbortError).
 */
export function smartCardErrorFrom(e: unknown, context: SmartCardErrorContext): WebCcidError {
  const where = context.readerName === undefined ? `Smart card ${context.operation}` : `Smart card ${context.operation} on "${context.readerName}"`;
  if (context.signal?.aborted) return e instanceof AbortError ? e : new AbortError(undefined, { cause: e });
  if (e instanceof WebCcidError) return e;
  if (isSmartCardError(e)) return responseCodeError(e.responseCode, where, e);
  switch (exceptionName(e)) {
    case 'SecurityError':
      return new TransportError(
        'smartcard/not-allowed',
        `${where}: this page may not use the Web Smart Card API (it needs an Isolated Web App whose permissions policy allows "smart-card").`,
        { cause: e },
      );
    case 'NotAllowedError':
      return new TransportError('smartcard/permission-denied', `${where}: the user (or a policy) refused access to the smart card.`, { cause: e });
    default:
      return new TransportError('smartcard/failed', `${where} failed (${exceptionName(e) ?? typeof e}).`, { cause: e });
  }
}
