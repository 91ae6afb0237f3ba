import { describe, expect, it } from 'vitest';
import { explainClaimError } from '../index.js';
import type { UsbDeviceLike } from '../usb/device.js';

const device = { vendorId: 0x0ca6, productId: 0x00a0, productName: 'EZCCID Smart Card Reader' } as UsbDeviceLike;

// What the `usb` package 3.x rejects with on Linux: its own prefix, then nusb's message and errno
// (nusb src/platform/linux_usbfs/device.rs: EBUSY -> "interface is busy", EACCES on open ->
// "permission denied", ENODEV -> "device disconnected"; the code printed as "errno N").
describe('explainClaimError with the usb package 3.x (nusb) messages', () => {
  it.each([
    ['claimInterface error: interface is busy (errno 16)', 'claim', 'transport/os-held'],
    ['open error: permission denied (errno 13)', 'open', 'transport/os-held'],
    ['claimInterface error: device disconnected (errno 19)', 'claim', 'transport/disconnected'],
    // usb 2.x (libusb) messages still map the same way
    ['LIBUSB_ERROR_BUSY', 'claim', 'transport/os-held'],
    ['LIBUSB_ERROR_NO_DEVICE', 'open', 'transport/disconnected'],
  ] as const)('%s -> %s', (message, stage, code) => {
    const e = explainClaimError(new Error(message), device, stage);
    expect(e.code).toBe(code);
    expect(e.message).toContain('EZCCID Smart Card Reader (0CA6:00A0)');
  });
});
