/**
 * What a WebUSB call (or the `usb` package's, made to look like one by `webccid/node`) rejected
 * with, as one of our typed errors.
 */
import { TransportError, WebCcidError } from '../errors.js';

/** Turns what a WebUSB call threw into one of our errors. */
export function mapUsbError(e: unknown, what: string): WebCcidError {
  if (e instanceof WebCcidError) return e;
  const name = (e as { name?: string } | null)?.name;
  const message = (e as { message?: string } | null)?.message ?? String(e);
  if (name === 'NotFoundError' || /LIBUSB_ERROR_NO_DEVICE|No such device/i.test(message)) {
    return new TransportError('transport/disconnected', `The reader was unplugged (${what}).`, { cause: e });
  }
  if (name === 'AbortError') return new TransportError('transport/closed', `The reader was closed during ${what}.`, { cause: e });
  if (name === 'InvalidStateError') return new TransportError('transport/closed', `The reader is not open (${what}).`, { cause: e });
  return new TransportError('transport/failed', `USB ${what} failed: ${message}`, { cause: e });
}
