/** Which USB devices may be CCID readers, judged from their descriptors alone (no filter list). */
import type { UsbDeviceLike } from './device.js';
import { USB_CLASS_CCID, USB_CLASS_VENDOR } from './config-descriptor.js';

/** True when one of the device's interfaces is class 0x0B, or vendor class 0xFF (which may be CCID; opening tells). */
export function mayBeCcid(device: UsbDeviceLike): boolean {
  return device.configurations.some((c) =>
    c.interfaces.some((i) => i.alternates.some((a) => a.interfaceClass === USB_CLASS_CCID || a.interfaceClass === USB_CLASS_VENDOR)),
  );
}
