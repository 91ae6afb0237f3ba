import { describe, expect, it } from 'vitest';
import { mapUsbError, TransportError, type UsbStage } from '../index.js';
import type { UsbDeviceLike } from './device.js';

const device = { vendorId: 0x0ca6, productId: 0x00a0, productName: 'EZCCID Smart Card Reader' } as UsbDeviceLike;

/** A rejection the way a browser makes it: a DOMException with a name. */
const dom = (name: string, message: string): Error => new DOMException(message, name);
/** A rejection of the `usb` package: a plain Error, no name but 'Error'. */
const plain = (message: string): Error => new Error(message);

// What Chromium's WebUSB rejects with (third_party/blink/renderer/modules/webusb/usb_device.cc
// and usb.cc: the names and messages of AsyncOpen, AsyncClaimInterface, CheckFatalTransferStatus,
// the kOpenRequired / kDeviceDisconnected / kDeviceStateChangeInProgress checks, requestDevice).
const CHROMIUM: Array<[label: string, stage: UsbStage, error: Error, interfaceClass: number | undefined, code: string]> = [
  ['open(): access denied (Linux without a udev rule)', 'open', dom('SecurityError', 'Access denied.'), undefined, 'transport/no-permission'],
  ['claimInterface(): protected class 0x0B', 'claim', dom('SecurityError', 'The requested interface implements a protected class.'), 0x0b, 'transport/protected-class'],
  ['claimInterface(): protected class, class not given', 'claim', dom('SecurityError', 'The requested interface implements a protected class.'), undefined, 'transport/protected-class'],
  ['claimInterface(): another driver holds it', 'claim', dom('NetworkError', 'Unable to claim interface.'), 0x0b, 'transport/os-held'],
  ['claimInterface(): device state change in progress', 'claim', dom('InvalidStateError', 'An operation that changes the device state is in progress.'), 0x0b, 'transport/os-held'],
  ['claimInterface(): unplugged', 'claim', dom('NotFoundError', 'The device was disconnected.'), 0x0b, 'transport/disconnected'],
  ['open(): unplugged', 'open', dom('NotFoundError', 'The device was disconnected.'), undefined, 'transport/disconnected'],
  ['transferIn(): transfer error', 'transfer', dom('NetworkError', 'A transfer error has occurred.'), undefined, 'transport/failed'],
  ['transferIn(): unplugged', 'transfer', dom('NotFoundError', 'The device was disconnected.'), undefined, 'transport/disconnected'],
  ['transferIn(): cancelled by close()', 'transfer', dom('AbortError', 'The transfer was cancelled.'), undefined, 'transport/closed'],
  ['transferOut(): device not open', 'transfer', dom('InvalidStateError', 'The device must be opened first.'), undefined, 'transport/closed'],
  ['transferIn(): timed out', 'transfer', dom('TimeoutError', 'The transfer timed out.'), undefined, 'transport/failed'],
  ['controlTransferOut(): not allowed', 'transfer', dom('SecurityError', 'The transfer was not allowed.'), undefined, 'transport/failed'],
  ['getDevices(): blocked by permissions policy', 'request', dom('SecurityError', 'Access to the feature "usb" is disallowed by permissions policy.'), undefined, 'transport/no-permission'],
  ['requestDevice(): no user gesture', 'request', dom('SecurityError', 'Must be handling a user gesture to show a permission request.'), undefined, 'transport/no-permission'],
  ['requestDevice(): refused by the user agent', 'request', dom('NotAllowedError', 'Permission denied.'), undefined, 'transport/no-permission'],
];

// What the `usb` package rejects with on Linux. 3.x: its prefix, then nusb's message and errno
// (nusb src/platform/linux_usbfs: EBUSY "interface is busy", EACCES "permission denied", ENODEV
// "device disconnected"); 2.x: libusb's error names. webccid/node turns nusb's disconnects on
// transfers into NotFoundError; the rest arrive as they are.
const USB_PACKAGE: Array<[message: string, stage: UsbStage, code: string]> = [
  ['claimInterface error: interface is busy (errno 16)', 'claim', 'transport/os-held'],
  ['open error: permission denied (errno 13)', 'open', 'transport/os-held'],
  ['claimInterface error: device disconnected (errno 19)', 'claim', 'transport/disconnected'],
  ['LIBUSB_ERROR_BUSY', 'claim', 'transport/os-held'],
  ['LIBUSB_ERROR_ACCESS', 'open', 'transport/os-held'],
  ['LIBUSB_ERROR_NO_DEVICE', 'open', 'transport/disconnected'],
  ['LIBUSB_ERROR_NO_DEVICE', 'transfer', 'transport/disconnected'],
  ['LIBUSB_TRANSFER_NO_DEVICE', 'transfer', 'transport/disconnected'],
  ['LIBUSB_ERROR_IO', 'transfer', 'transport/failed'],
  ['LIBUSB_ERROR_IO', 'claim', 'transport/failed'],
];

describe('mapUsbError: one mapping for every stage', () => {
  it.each(CHROMIUM)('Chromium, %s (%s)', (_label, stage, error, interfaceClass, code) => {
    const mapped = mapUsbError(error, { stage, device, what: 'the call', ...(interfaceClass === undefined ? {} : { interfaceClass }) });
    expect(mapped).toBeInstanceOf(TransportError);
    expect(mapped.code).toBe(code);
    expect(mapped.cause).toBe(error);
  });

  it.each(USB_PACKAGE)('usb package, %s (%s) -> %s', (message, stage, code) => {
    const error = plain(message);
    const mapped = mapUsbError(error, { stage, device });
    expect(mapped.code).toBe(code);
    expect(mapped.cause).toBe(error);
  });

  it('names the device, the cause and the fix while opening or claiming', () => {
    const held = mapUsbError(dom('NetworkError', 'Unable to claim interface.'), { stage: 'claim', device });
    expect(held.message).toContain('EZCCID Smart Card Reader (0CA6:00A0)');
    expect(held.message).toMatch(/cannot claim it/);
    expect(held.message).toMatch(/pcscd/);
    const denied = mapUsbError(dom('SecurityError', 'Access denied.'), { stage: 'open', device });
    expect(denied.message).toContain('0CA6:00A0');
    expect(denied.message).toMatch(/HTTPS/);
    expect(mapUsbError(plain('LIBUSB_ERROR_IO'), { stage: 'open', device }).message).toBe('Could not open EZCCID Smart Card Reader (0CA6:00A0): LIBUSB_ERROR_IO');
  });

  it('a string context is a transfer, named in the message', () => {
    const mapped = mapUsbError(dom('NetworkError', 'A transfer error has occurred.'), 'bulk-in transfer');
    expect(mapped.code).toBe('transport/failed');
    expect(mapped.message).toBe('USB bulk-in transfer failed: A transfer error has occurred.');
    expect(mapUsbError(dom('AbortError', 'The transfer was cancelled.'), 'abort').message).toBe('The reader was closed during abort.');
    expect(mapUsbError(dom('InvalidStateError', 'The device must be opened first.'), 'abort').message).toBe('The reader is not open (abort).');
  });

  it('keeps our own errors as they are', () => {
    const ours = new TransportError('transport/stall', 'stalled');
    for (const stage of ['open', 'claim', 'transfer', 'request'] as const) expect(mapUsbError(ours, { stage })).toBe(ours);
  });

  it('a value that is not an Error: its text, transport/failed', () => {
    const mapped = mapUsbError('weird', 'bulk-out transfer');
    expect(mapped.code).toBe('transport/failed');
    expect(mapped.message).toBe('USB bulk-out transfer failed: weird');
  });
});
