/**
 * The `startupCommand` reader quirk (quirks.ts), sent by `CcidReader.open` before any CCID
 * command. A module of its own, loaded only when the quirk is set: no table entry sets it.
 */
import type { CcidInterfaceInfo } from '../usb/config-descriptor.js';
import type { UsbDeviceLike } from '../usb/device.js';

/**
 * The `startupCommand` quirk: writes the vendor frame, reads one answer and
 * ignores it. Best effort: a failure or no answer within `timeoutMs` is not
 * fatal (a late answer is taken by the still-pending read and dropped).
 */
export async function sendStartupCommand(device: UsbDeviceLike, { bulkIn, bulkOut }: CcidInterfaceInfo, frame: Uint8Array, timeoutMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const w = await device.transferOut(bulkOut.endpointNumber, frame.slice() as Uint8Array<ArrayBuffer>);
    if (w.status !== 'ok') return;
    const packet = Math.max(8, bulkIn.wMaxPacketSize);
    const read = device.transferIn(bulkIn.endpointNumber, Math.ceil(512 / packet) * packet).catch(() => undefined);
    await Promise.race([read, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  } catch {
    // not fatal: the standard commands follow
  } finally {
    clearTimeout(timer);
  }
}
