/// <reference types="w3c-web-usb" preserve="true" />
// WebUSB types (USBDevice, USBDeviceFilter...) for this file and its .d.ts: see docs/packaging.md.
/**
 * `navigator.usb.requestDevice` filters for smart-card readers, and the same
 * test applied to devices the page already holds:
 * - any interface of class 0x0B (smart card; usable on a plain page only from
 *   an Isolated Web App with `usb-unrestricted`, or in Node),
 * - the vendor-class (0xFF) CCID readers of libccid's fixtures (generated lists:
 *   their VID:PID in vendor-class-reader-ids.ts, with their names in
 *   vendor-class-readers.ts, which no page needs),
 * - the readers the quirk table gives a built-in class descriptor (the
 *   Castles EZ100PU, 0CA6:0010, vendor class, not CCID-compliant).
 */
import { VENDOR_CLASS_CCID_READER_IDS } from '../usb/vendor-class-reader-ids.js';
import { USB_CLASS_CCID } from '../usb/config-descriptor.js';

/** The Castles EZ100PU. */
export const EZ100PU_FILTER: Readonly<USBDeviceFilter> = Object.freeze({ vendorId: 0x0ca6, productId: 0x0010 });

/**
 * VID:PID filters of the non-compliant readers the quirk table can drive (no class descriptor of
 * their own): the table's rows with a built-in `descriptor`, which is the EZ100PU's alone
 * (quirks.test.ts checks this list against the table). Not derived from the table here: the
 * filters are part of every page, the table's code and readers' names only of an open quirked reader.
 */
export const NON_COMPLIANT_READER_FILTERS: readonly USBDeviceFilter[] = Object.freeze([EZ100PU_FILTER]);

/** VID:PID filters of the vendor-class CCID readers. */
export const VENDOR_CLASS_READER_FILTERS: readonly USBDeviceFilter[] = Object.freeze(
  VENDOR_CLASS_CCID_READER_IDS.map(([vendorId, productId]) => ({ vendorId, productId })),
);

/** Every reader this driver can open: class 0x0B, the vendor-class CCID readers, the EZ100PU. */
export const CCID_REQUEST_FILTERS: USBDeviceFilter[] = [
  { classCode: USB_CLASS_CCID },
  ...VENDOR_CLASS_READER_FILTERS,
  ...NON_COMPLIANT_READER_FILTERS,
];

/** The device fields the filters look at (a `USBDevice` has them). */
export interface FilterableDevice {
  vendorId: number;
  productId: number;
  deviceClass?: number;
  configurations?: ReadonlyArray<{ interfaces: ReadonlyArray<{ alternates: ReadonlyArray<{ interfaceClass: number }> }> }>;
}

/** True when `device` matches `filter` the way WebUSB matches (vendorId, productId, classCode on the device or an interface). */
export function deviceMatchesFilter(device: FilterableDevice, filter: USBDeviceFilter): boolean {
  if (filter.vendorId !== undefined && filter.vendorId !== device.vendorId) return false;
  if (filter.productId !== undefined && filter.productId !== device.productId) return false;
  if (filter.classCode !== undefined) {
    const classes = [device.deviceClass, ...(device.configurations ?? []).flatMap((c) => c.interfaces.flatMap((i) => i.alternates.map((a) => a.interfaceClass)))];
    if (!classes.includes(filter.classCode)) return false;
  }
  return true;
}

/** True when `device` is a reader `CCID_REQUEST_FILTERS` would offer. */
export function isCcidReaderCandidate(device: FilterableDevice, filters: readonly USBDeviceFilter[] = CCID_REQUEST_FILTERS): boolean {
  return filters.some((f) => deviceMatchesFilter(device, f));
}
