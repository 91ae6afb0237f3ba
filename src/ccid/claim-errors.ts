/**
 * Plain-words explanations for the ways a browser or OS refuses a reader.
 * docs/design.md §2: Chrome protects interface class 0x0B on ordinary pages; the
 * OS's own smart-card stack may hold the reader; the page may lack permission.
 */
import { TransportError, WebCcidError } from '../errors.js';
import type { UsbDeviceLike } from '../usb/device.js';

const CLASS_SMART_CARD = 0x0b;

function deviceLabel(device: UsbDeviceLike): string {
  const id = `${hex4(device.vendorId)}:${hex4(device.productId)}`;
  return device.productName ? `${device.productName} (${id})` : id;
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

/**
 * Maps an error thrown by `open()` or `claimInterface()` to a TransportError
 * whose message names the cause and the fix:
 * - `transport/protected-class`: SecurityError on a class 0x0B interface.
 * - `transport/no-permission`: SecurityError otherwise (no user grant, or a
 *   permissions policy / non-secure context).
 * - `transport/os-held`: NetworkError / "Unable to claim interface" (Chrome),
 *   "interface is busy" / "permission denied" (the `usb` package 3.x, whose
 *   errors are nusb's messages: "claimInterface error: interface is busy
 *   (errno 16)"), libusb BUSY or ACCESS (`usb` 2.x): another driver (Windows'
 *   CCID driver, pcscd, macOS's smart-card daemon) has the reader, or udev
 *   gives no access.
 * - `transport/disconnected`: the device went away meanwhile (NotFoundError,
 *   nusb's "device disconnected", libusb NO_DEVICE).
 */
export function explainClaimError(e: unknown, device: UsbDeviceLike, stage: 'open' | 'claim', interfaceClass?: number): WebCcidError {
  if (e instanceof WebCcidError) return e;
  const name = (e as { name?: string } | null)?.name ?? '';
  const message = (e as { message?: string } | null)?.message ?? String(e);
  const label = deviceLabel(device);
  if (name === 'SecurityError' && (interfaceClass === CLASS_SMART_CARD || /protected class/i.test(message))) {
    return new TransportError(
      'transport/protected-class',
      `Chrome does not let ordinary web pages use smart-card readers (USB class 0x0B) such as ${label}. ` +
        'Use this page as an Isolated Web App with the usb-unrestricted permission (managed ChromeOS kiosk), ' +
        'use a reader whose interface is not class 0x0B (for example the Castles EZ100PU or a vendor-class CCID reader), ' +
        'or use the Web Smart Card API where it is available. See docs/deployment.md.',
      { cause: e },
    );
  }
  if (name === 'SecurityError' || name === 'NotAllowedError') {
    return new TransportError(
      'transport/no-permission',
      `This page has no permission to use ${label}. Choose the reader again in the browser's device chooser, ` +
        'make sure the page is served over HTTPS (or localhost), and that no permissions policy blocks "usb".',
      { cause: e },
    );
  }
  if (name === 'NotFoundError' || /NO_DEVICE|device disconnected/i.test(message)) {
    return new TransportError('transport/disconnected', `${label} was unplugged.`, { cause: e });
  }
  if (name === 'NetworkError' || name === 'InvalidStateError' || /unable to claim|BUSY|ACCESS|Access denied|permission denied/i.test(message)) {
    return new TransportError(
      'transport/os-held',
      `The operating system is using ${label}, so the browser cannot ${stage === 'open' ? 'open' : 'claim'} it. ` +
        'Windows: give the reader the WinUSB driver (Zadig, or the INF in docs/deployment.md). ' +
        'Linux: stop pcscd (sudo systemctl stop pcscd.socket pcscd) and add the udev rule from docs/deployment.md. ' +
        'macOS: the system smart-card service holds CCID readers; see docs/deployment.md.',
      { cause: e },
    );
  }
  return new TransportError('transport/failed', `Could not ${stage} ${label}: ${message}`, { cause: e });
}
