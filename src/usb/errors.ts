/**
 * The one mapping from what a WebUSB call rejected with (or the `usb` package's, made to look
 * like WebUSB by `webccid/node`) to our typed `TransportError`s. The driver's transport, its
 * reader opening (`explainClaimError`) and the card sessions all use it.
 *
 * A DOMException's name means different things at different moments, so the caller says where
 * the call was (`stage`):
 *
 * | rejected with | `open` / `claim` | `transfer` (default) | `request` (getDevices, requestDevice) |
 * |---|---|---|---|
 * | `SecurityError` on a class 0x0B interface, or "protected class" | `transport/protected-class` | `transport/failed` | `transport/no-permission` |
 * | `SecurityError`, `NotAllowedError` | `transport/no-permission` | `transport/failed` | `transport/no-permission` |
 * | `NotFoundError`, or an unplugged device's message | `transport/disconnected` | `transport/disconnected` | `transport/disconnected` |
 * | `NetworkError`, `InvalidStateError`, a busy / access-denied message | `transport/os-held` | `transport/failed` (`InvalidStateError`: `transport/closed`) | as `transfer` |
 * | `AbortError` | `transport/failed` | `transport/closed` | `transport/closed` |
 * | anything else | `transport/failed` | `transport/failed` | `transport/failed` |
 *
 * Where these come from (docs/design.md §2): Chromium's WebUSB rejects `open()` with
 * SecurityError "Access denied.", `claimInterface()` with SecurityError "The requested interface
 * implements a protected class." or NetworkError "Unable to claim interface.", a transfer with
 * NetworkError "A transfer error has occurred." or AbortError "The transfer was cancelled.", any
 * call on an unplugged device with NotFoundError "The device was disconnected.", and a call that
 * needs an open device with InvalidStateError "The device must be opened first.". The `usb`
 * package 3.x rejects with nusb's messages ("interface is busy (errno 16)", "permission denied
 * (errno 13)", "device disconnected (errno 19)"), the 2.x package with libusb's names
 * (`LIBUSB_ERROR_BUSY`, `LIBUSB_ERROR_ACCESS`, `LIBUSB_ERROR_NO_DEVICE`). Only names are branched
 * on for a browser; messages only for the `usb` package, which has no names.
 */
import { TransportError, WebCcidError } from '../errors.js';
import type { UsbDeviceLike } from './device.js';
import { USB_CLASS_CCID } from './config-descriptor.js';

/** Where the call that failed was. */
export type UsbStage =
  /** `device.open()`. */
  | 'open'
  /** `selectConfiguration()` / `claimInterface()`. */
  | 'claim'
  /** A transfer or control request on an open, claimed device. */
  | 'transfer'
  /** `navigator.usb.getDevices()` / `requestDevice()`. */
  | 'request';

export interface UsbErrorContext {
  stage: UsbStage;
  /** What was being done, for the message (`'bulk-in transfer'`, `'the reader chooser'`). Default: the stage. */
  what?: string;
  /** The device, named in the messages of `open` and `claim`. */
  device?: UsbDeviceLike;
  /** bInterfaceClass of the interface being claimed (a SecurityError on class 0x0B is Chrome's protected class). */
  interfaceClass?: number;
}

/** An unplugged device, as the `usb` package says it (libusb, nusb, the OS). */
const UNPLUGGED = /NO_DEVICE|No such device|device disconnected/i;
/** Another driver holds the device, or the OS gives no access to it (the `usb` package). */
const HELD = /unable to claim|BUSY|ACCESS|permission denied/i;

const hex4 = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');

/**
 * Turns what a WebUSB call (or the `usb` package) rejected with into one of our errors (see the
 * module comment). `context` is where the call was; a string is the `what` of a transfer. Our
 * own errors are returned as they are. While opening or claiming, the facts (`detail`) name the
 * device (`reader`) and the stage, and the English sentences (webccid/error-text) the cause and
 * the fix; otherwise the facts name what was being done (`what`).
 */
export function mapUsbError(e: unknown, context: string | UsbErrorContext): WebCcidError {
  if (e instanceof WebCcidError) return e;
  const { stage, what = stage, device, interfaceClass }: UsbErrorContext = typeof context === 'string' ? { stage: 'transfer', what: context } : context;
  const { name = '', message = String(e) } = (e ?? {}) as { name?: string; message?: string };
  const setup = stage === 'open' || stage === 'claim';
  const id = device && `${hex4(device.vendorId)}:${hex4(device.productId)}`;
  const label = !device ? 'the reader' : device.productName ? `${device.productName} (${id})` : id!;
  const cause = { cause: e };
  if ((name === 'SecurityError' || name === 'NotAllowedError') && stage !== 'transfer') {
    if (setup && name === 'SecurityError' && (interfaceClass === USB_CLASS_CCID || /protected class/i.test(message))) {
      return new TransportError('transport/protected-class', { reader: label }, cause);
    }
    return new TransportError('transport/no-permission', { reader: label }, cause);
  }
  if (name === 'NotFoundError' || UNPLUGGED.test(message)) {
    return setup
      ? new TransportError('transport/disconnected', { reader: label }, cause)
      : new TransportError('transport/disconnected', { what }, cause);
  }
  if (setup) {
    if (name === 'NetworkError' || name === 'InvalidStateError' || HELD.test(message)) {
      return new TransportError('transport/os-held', { reader: label, stage }, cause);
    }
    return new TransportError('transport/failed', { stage, reader: label, message }, cause);
  }
  if (name === 'AbortError') return new TransportError('transport/closed', { during: what }, cause);
  if (name === 'InvalidStateError') return new TransportError('transport/closed', { notOpen: what }, cause);
  return new TransportError('transport/failed', { what, message }, cause);
}
