/**
 * Plain-words explanations for the ways a browser or OS refuses a reader.
 * docs/design.md §2: Chrome protects interface class 0x0B on ordinary pages; the
 * OS's own smart-card stack may hold the reader; the page may lack permission.
 */
import type { WebCcidError } from '../errors.js';
import type { UsbDeviceLike } from '../usb/device.js';
import { mapUsbError } from '../usb/errors.js';

/**
 * Maps an error thrown by `open()` or `claimInterface()` to a TransportError whose message
 * names the device, the cause and the fix: `transport/protected-class`, `transport/no-permission`,
 * `transport/os-held`, `transport/disconnected` or `transport/failed`. The mapping is the one of
 * `mapUsbError` (src/usb/errors.ts) for the `open` and `claim` stages.
 */
export function explainClaimError(e: unknown, device: UsbDeviceLike, stage: 'open' | 'claim', interfaceClass?: number): WebCcidError {
  return mapUsbError(e, { stage, device, ...(interfaceClass === undefined ? {} : { interfaceClass }) });
}
