/**
 * Turns whatever an action threw into plain words for the page. Branches on
 * the driver's `error.code` (and, for the browser's own DOMExceptions from
 * `requestDevice`, on `error.name`), never on message text.
 */
import { WebCcidError } from '../src/index.js';
import { errorText } from '../src/error-text.js';
import { DOCS_BASE, S } from './strings.js';

export interface Explained {
  title: string;
  body: string;
  /** The driver's error code, shown small for support. */
  code?: string;
  /** A guide to link to. */
  docs?: { href: string; label: string };
}

const deployment = { href: `${DOCS_BASE}deployment.md`, label: S.docsLink };

/** Why `navigator.usb` is missing: not a secure context, or a browser without WebUSB. */
export function explainNoWebUsb(): Explained {
  const insecure = typeof window !== 'undefined' && !window.isSecureContext;
  const e = insecure ? S.errors.noWebUsbInsecure : S.errors.noWebUsb;
  return { title: e.title, body: e.body, docs: deployment };
}

/** Plain words for an error thrown by `requestDevice`, `CcidReader.open`, `connect` or `transmit`. */
export function explainError(error: unknown): Explained {
  if (error instanceof WebCcidError) return explainDriverError(error);
  // The browser's own errors (requestDevice happens before the driver is involved).
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'NotFoundError') return { ...S.errors.noReaderChosen };
  if (name === 'SecurityError' || name === 'NotAllowedError') return { ...S.errors.chooserBlocked, docs: deployment };
  console.error(error);
  return { ...S.errors.unexpected };
}

function withMessage(e: WebCcidError, t: { title: string; body?: string }, docs?: Explained['docs']): Explained {
  // The driver's English sentences (webccid/error-text: the cause and the fix, e.g. for a
  // protected-class reader); the fixed text, when there is one, comes first. The driver's own
  // message is the compact form (code and facts), as this page does not register the English text.
  const body = t.body ? t.body : errorText(e);
  return { title: t.title, body, code: e.code, ...(docs ? { docs } : {}) };
}

function explainDriverError(e: WebCcidError): Explained {
  const E = S.errors;
  switch (e.code) {
    case 'transport/protected-class':
      return withMessage(e, E.protectedClass, deployment);
    case 'transport/os-held':
      return withMessage(e, E.osHeld, deployment);
    case 'transport/no-permission':
      return withMessage(e, E.noPermission, deployment);
    case 'transport/no-webusb':
      return explainNoWebUsb();
    case 'transport/no-reader':
      return { ...E.noReaderChosen, code: e.code };
    case 'transport/disconnected':
      return withMessage(e, E.disconnected);
    case 'transport/closed':
      return withMessage(e, E.closed);
    case 'transport/timeout':
      return withMessage(e, E.timeout);
    case 'transport/stall':
    case 'transport/babble':
    case 'transport/failed':
      return withMessage(e, E.usbFailed);
    case 'ccid/no-interface':
    case 'ccid/no-class-descriptor':
      return withMessage(e, E.notCcid);
    case 'ccid/bad-descriptor':
      return withMessage(e, E.badDescriptor);
    case 'ccid/unsupported-level':
      return withMessage(e, E.unsupportedLevel);
    case 'ccid/card-absent':
      return withMessage(e, E.cardAbsent);
    case 'ccid/icc-mute':
      return withMessage(e, E.cardMute);
    case 'ccid/not-connected':
      return withMessage(e, E.notConnected);
    case 'protocol/bad-atr':
    case 'ccid/bad-atr-ts':
    case 'ccid/bad-atr-tck':
      return withMessage(e, E.badAtr);
    case 'protocol/no-common-protocol':
    case 'ccid/icc-protocol-not-supported':
      return withMessage(e, E.noCommonProtocol);
    case 'protocol/pps-failed':
      return withMessage(e, E.ppsFailed);
    case 'bytes/bad-hex':
      return withMessage(e, E.badHex);
    case 'protocol/bad-apdu':
      return withMessage(e, E.badApdu);
    case 'protocol/apdu-too-long':
    case 'ccid/message-too-long':
      return withMessage(e, E.apduTooLong);
    case 'aborted':
      return withMessage(e, E.aborted);
    default:
      if (e.code.startsWith('protocol/')) return withMessage(e, E.protocol);
      if (e.code.startsWith('ccid/')) return withMessage(e, E.slotError);
      return withMessage(e, E.generic);
  }
}
