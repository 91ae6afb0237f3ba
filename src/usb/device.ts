/// <reference types="w3c-web-usb" preserve="true" />
// WebUSB types (USBDevice, USBDeviceFilter...) for this file and its .d.ts: see docs/packaging.md.
/**
 * The USB seam: the driver takes any object with these members of the W3C
 * `USBDevice` interface. `navigator.usb` devices, the `usb` package's
 * `WebUSBDevice` in Node and the virtual reader all fit.
 */
export type UsbDeviceLike = Pick<
  USBDevice,
  | 'vendorId'
  | 'productId'
  | 'productName'
  | 'manufacturerName'
  | 'serialNumber'
  | 'deviceVersionMajor'
  | 'deviceVersionMinor'
  | 'deviceVersionSubminor'
  | 'opened'
  | 'configuration'
  | 'configurations'
  | 'open'
  | 'close'
  | 'selectConfiguration'
  | 'claimInterface'
  | 'releaseInterface'
  | 'controlTransferIn'
  | 'controlTransferOut'
  | 'transferIn'
  | 'transferOut'
  | 'clearHalt'
>;

/**
 * The part of `navigator.usb` (or the `usb` package's `WebUSB`, or the
 * virtual backend) that the driver uses: listing permitted devices, asking
 * for one, and hearing about disconnects.
 */
export interface UsbBackendLike {
  getDevices(): Promise<UsbDeviceLike[]>;
  requestDevice?(options: USBDeviceRequestOptions): Promise<UsbDeviceLike>;
  addEventListener(type: 'connect' | 'disconnect', listener: (event: { device: UsbDeviceLike }) => void): void;
  removeEventListener(type: 'connect' | 'disconnect', listener: (event: { device: UsbDeviceLike }) => void): void;
}
