/**
 * DOMException-like errors with the `name` and message a browser's WebUSB
 * implementation (Chromium) uses, so code written against `navigator.usb`
 * sees the same thing from the virtual reader.
 */

/** The DOMException names WebUSB rejects with. */
export type UsbErrorName =
  | 'NotFoundError'
  | 'InvalidStateError'
  | 'NetworkError'
  | 'SecurityError'
  | 'IndexSizeError'
  | 'TypeMismatchError'
  | 'AbortError'
  | 'TimeoutError'
  | 'DataError';

/** Chromium's messages, kept for familiarity (callers must branch on `name`, never on text). */
export const USB_ERROR_MESSAGES = {
  deviceUnavailable: 'Device unavailable.',
  openRequired: 'The device must be opened first.',
  noConfiguration: 'The device must have a configuration selected.',
  configurationNotFound: 'The configuration value provided is not supported by the device.',
  interfaceNotFound: 'The interface number provided is not supported by the device in its current configuration.',
  interfaceNotClaimed: 'The specified interface has not been claimed.',
  endpointOutOfRange: 'The specified endpoint number is out of range.',
  endpointNotAvailable: 'The specified endpoint is not part of a claimed and selected alternate interface.',
  transferError: 'A transfer error has occurred.',
  claimFailed: 'Unable to claim interface.',
  protectedClass: 'The requested interface implements a protected class.',
  accessDenied: 'Access denied.',
  noDeviceSelected: 'No device selected.',
} as const;

/**
 * Builds a `DOMException` (present in browsers and Node >= 17) with the given
 * name; where `DOMException` is missing, an `Error` whose `name` is set.
 */
export function createUsbError(name: UsbErrorName, message: string): Error {
  const Ctor = (globalThis as { DOMException?: new (message?: string, name?: string) => Error }).DOMException;
  if (typeof Ctor === 'function') return new Ctor(message, name);
  const e = new Error(message);
  e.name = name;
  return e;
}
