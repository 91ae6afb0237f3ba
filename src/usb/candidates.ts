/** Which USB devices may be CCID readers, judged from their descriptors alone (no filter list). */
import type { UsbDeviceLike } from './device.js';

const CLASS_SMART_CARD = 0x0b;
const CLASS_VENDOR = 0xff;

/** True when one of the device's interfaces is class 0x0B, or vendor class 0xFF (which may be CCID; opening tells). */
export function mayBeCcid(device: UsbDeviceLike): boolean {
  return device.configurations.some((c) =>
    c.interfaces.some((i) => i.alternates.some((a) => a.interfaceClass === CLASS_SMART_CARD || a.interfaceClass === CLASS_VENDOR)),
  );
}
