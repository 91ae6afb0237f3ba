/**
 * `navigator.usb.requestDevice` filters for CCID readers: any interface of
 * class 0x0B (smart card). Vendor-class readers and the non-compliant
 * EZ100PU need VID:PID filters (added with the reader quirk table).
 */
export const CCID_REQUEST_FILTERS: USBDeviceFilter[] = [{ classCode: 0x0b }];
