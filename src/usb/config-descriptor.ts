/**
 * USB configuration descriptors (USB 2.0 §9.6.3, §9.6.5, §9.6.6).
 *
 * WebUSB does not expose class-specific descriptors, so the driver reads the
 * whole configuration descriptor with a standard GET_DESCRIPTOR(CONFIGURATION)
 * control transfer and finds the CCID class descriptor (type 0x21) here.
 *
 * Parsing rules (what is accepted, what throws `CcidError('ccid/bad-descriptor')`):
 * - fewer than 9 bytes (or than the first descriptor's bLength), a first
 *   descriptor that is not a configuration descriptor (type 0x02, bLength >= 9),
 *   or wTotalLength < bLength: throws;
 * - any descriptor with bLength < 2 (0 would loop for ever): throws;
 * - an interface descriptor shorter than 9 bytes or an endpoint descriptor
 *   shorter than 7 bytes: throws;
 * - a descriptor that runs past wTotalLength while the buffer holds all of
 *   wTotalLength: throws (the device's own lengths disagree);
 * - bytes after wTotalLength are ignored;
 * - a buffer shorter than wTotalLength (the host asked for fewer bytes, or the
 *   device sent fewer): every whole descriptor in it is parsed, a partial last
 *   one is dropped, and the result has `truncated: true`.
 *
 * Every descriptor after an interface descriptor that is not an endpoint
 * descriptor (class descriptors, SuperSpeed companions, IADs, vendor
 * descriptors) goes whole into that interface's `extra`, in order; so a CCID
 * class descriptor that a buggy reader places after its endpoints is still
 * in `extra`. Descriptors before the first interface go into the
 * configuration's `extra`.
 *
 * The encoder (the virtual reader's side) is in config-descriptor-encode.ts: the driver only parses.
 */
import { CcidError } from '../errors.js';
import { readU16LE } from '../bytes.js';

/** bDescriptorType values used here and by the encoder (USB 2.0 table 9-5; CCID 1.10 §5.1). */
export const TYPE_CONFIGURATION = 0x02;
export const TYPE_INTERFACE = 0x04;
export const TYPE_ENDPOINT = 0x05;
const TYPE_CCID_CLASS = 0x21;

/** bInterfaceClass of a CCID (and ICCD) interface. */
export const USB_CLASS_CCID = 0x0b;
/** bInterfaceClass of a vendor-specific interface (some CCID readers use it). */
export const USB_CLASS_VENDOR = 0xff;
/** bLength of the CCID class descriptor (CCID 1.10 table 5.1-1). */
const CCID_CLASS_DESCRIPTOR_LENGTH = 0x36;

/** A standard endpoint descriptor (USB 2.0 §9.6.6) with its decoded address and type. */
export interface EndpointDescriptor {
  bEndpointAddress: number;
  bmAttributes: number;
  wMaxPacketSize: number;
  bInterval: number;
  direction: 'in' | 'out';
  endpointNumber: number;
  type: 'control' | 'isochronous' | 'bulk' | 'interrupt';
}

/** One interface descriptor (one alternate setting) with what follows it. */
export interface InterfaceDescriptor {
  bInterfaceNumber: number;
  bAlternateSetting: number;
  /** As declared; `endpoints.length` is what was actually found. */
  bNumEndpoints: number;
  bInterfaceClass: number;
  bInterfaceSubClass: number;
  bInterfaceProtocol: number;
  iInterface: number;
  endpoints: EndpointDescriptor[];
  /** Every other descriptor after the interface descriptor, each whole (bLength, bDescriptorType, ...). */
  extra: Uint8Array[];
}

/** A parsed configuration; `interfaces` holds every alternate setting, in descriptor order. */
export interface ConfigurationDescriptor {
  wTotalLength: number;
  bNumInterfaces: number;
  bConfigurationValue: number;
  bmAttributes: number;
  bMaxPower: number;
  interfaces: InterfaceDescriptor[];
  /** Descriptors before the first interface descriptor (set by the parser). */
  extra?: Uint8Array[];
  /** True when the buffer held fewer than wTotalLength bytes (set by the parser). */
  truncated?: boolean;
}

/** The CCID interface of a configuration and the endpoints the driver uses. */
export interface CcidInterfaceInfo {
  iface: InterfaceDescriptor;
  /** The whole CCID class descriptor (54 bytes or more), as found in `iface.extra`. */
  classDescriptor: Uint8Array;
  bulkIn: EndpointDescriptor;
  bulkOut: EndpointDescriptor;
  interruptIn?: EndpointDescriptor;
}

const ENDPOINT_TYPES = ['control', 'isochronous', 'bulk', 'interrupt'] as const;

function decodeEndpoint(d: Uint8Array): EndpointDescriptor {
  const bEndpointAddress = d[2]!;
  const bmAttributes = d[3]!;
  return {
    bEndpointAddress,
    bmAttributes,
    wMaxPacketSize: readU16LE(d, 4),
    bInterval: d[6]!,
    direction: bEndpointAddress & 0x80 ? 'in' : 'out',
    endpointNumber: bEndpointAddress & 0x0f,
    type: ENDPOINT_TYPES[bmAttributes & 0x03]!,
  };
}

function decodeInterface(d: Uint8Array): InterfaceDescriptor {
  return {
    bInterfaceNumber: d[2]!,
    bAlternateSetting: d[3]!,
    bNumEndpoints: d[4]!,
    bInterfaceClass: d[5]!,
    bInterfaceSubClass: d[6]!,
    bInterfaceProtocol: d[7]!,
    iInterface: d[8]!,
    endpoints: [],
    extra: [],
  };
}

/**
 * Parses a raw configuration descriptor (the answer to GET_DESCRIPTOR(CONFIGURATION)).
 * See the module comment for what is tolerated. Throws `CcidError('ccid/bad-descriptor')`.
 */
export function parseConfigurationDescriptor(bytes: Uint8Array): ConfigurationDescriptor {
  const [bLength = 0, type] = bytes;
  const wTotalLength = readU16LE(bytes, 2);
  if (bytes.length < Math.max(9, bLength) || type !== TYPE_CONFIGURATION || bLength < 9 || wTotalLength < bLength) {
    throw new CcidError('ccid/bad-descriptor', { length: bytes.length, bLength, bDescriptorType: type ?? 'none', wTotalLength });
  }
  const truncated = bytes.length < wTotalLength;
  const end = Math.min(wTotalLength, bytes.length);

  const config: ConfigurationDescriptor = {
    wTotalLength,
    bNumInterfaces: bytes[4]!,
    bConfigurationValue: bytes[5]!,
    bmAttributes: bytes[7]!,
    bMaxPower: bytes[8]!,
    interfaces: [],
    extra: [],
    truncated,
  };
  let current: InterfaceDescriptor | undefined;
  let offset = bLength;
  while (offset < end) {
    const len = bytes[offset]!;
    const type = bytes[offset + 1]!;
    // A lone last byte, or a descriptor longer than what is left (a bLength below 2 counts as 2).
    if (offset + Math.max(len, 2) > end) {
      if (truncated) break;
      throw new CcidError('ccid/bad-descriptor', { offset, bLength: len, wTotalLength });
    }
    // An endpoint descriptor belongs to the interface before it (one before any interface is just "extra").
    const endpointOwner = type === TYPE_ENDPOINT && current;
    const min = type === TYPE_INTERFACE ? 9 : endpointOwner ? 7 : 2;
    if (len < min) throw new CcidError('ccid/bad-descriptor', { offset, bDescriptorType: type, bLength: len, min });
    const d = bytes.slice(offset, offset + len);
    if (type === TYPE_INTERFACE) config.interfaces.push((current = decodeInterface(d)));
    else if (endpointOwner) endpointOwner.endpoints.push(decodeEndpoint(d));
    // Any other descriptor (the CCID class descriptor among them) goes with the interface it
    // follows, or with the configuration when no interface came yet.
    else (current ?? config).extra!.push(d);
    offset += len;
  }
  return config;
}

/** The CCID class descriptor in `iface.extra`, if any: bLength >= 0x36 and type 0x21 preferred, else exactly 0x36 with type 0xFF (old readers). */
export function findCcidClassDescriptor(iface: InterfaceDescriptor): Uint8Array | undefined {
  const found = iface.extra.filter(
    (d) => d.length >= CCID_CLASS_DESCRIPTOR_LENGTH && d[0]! >= CCID_CLASS_DESCRIPTOR_LENGTH && (d[1] === TYPE_CCID_CLASS || (d[1] === 0xff && d[0] === CCID_CLASS_DESCRIPTOR_LENGTH)),
  );
  return found.find((d) => d[1] === TYPE_CCID_CLASS) ?? found[0];
}

/**
 * The endpoints a CCID driver uses: the first bulk-in, the first bulk-out and
 * the first interrupt-in endpoint of the interface. `undefined` when a bulk pair
 * is missing (e.g. an ICCD token that works with control transfers).
 */
export function findBulkEndpoints(
  iface: InterfaceDescriptor,
): { bulkIn: EndpointDescriptor; bulkOut: EndpointDescriptor; interruptIn?: EndpointDescriptor } | undefined {
  const find = (type: EndpointDescriptor['type'], direction: EndpointDescriptor['direction']) =>
    iface.endpoints.find((e) => e.type === type && e.direction === direction);
  const bulkIn = find('bulk', 'in');
  const bulkOut = find('bulk', 'out');
  const interruptIn = find('interrupt', 'in');
  return bulkIn && bulkOut ? { bulkIn, bulkOut, ...(interruptIn && { interruptIn }) } : undefined;
}

/** Class 0x0B, or vendor class 0xFF: the classes a CCID interface may have. */
function mayBeCcidClass(iface: InterfaceDescriptor): boolean {
  return iface.bInterfaceClass === USB_CLASS_CCID || iface.bInterfaceClass === USB_CLASS_VENDOR;
}

/**
 * Every usable CCID interface of a configuration, in descriptor order: class
 * 0x0B, or vendor class 0xFF, that carries a CCID class descriptor (anywhere in
 * its `extra`, also after the endpoints) and has a bulk-in and a bulk-out
 * endpoint. At most one alternate setting per interface number (the first that
 * qualifies).
 */
export function findCcidInterfaces(config: ConfigurationDescriptor): CcidInterfaceInfo[] {
  const out: CcidInterfaceInfo[] = [];
  for (const iface of config.interfaces) {
    const classDescriptor = mayBeCcidClass(iface) && findCcidClassDescriptor(iface);
    const eps = classDescriptor && findBulkEndpoints(iface);
    if (eps && !out.some((c) => c.iface.bInterfaceNumber === iface.bInterfaceNumber)) out.push({ iface, classDescriptor, ...eps });
  }
  return out;
}

/**
 * Finds the CCID interface: class 0x0B, or class 0xFF with a 54-byte 0x21
 * descriptor (also accepted when placed after the endpoints). With several
 * (dual readers), the first one, or the one numbered `opts.interfaceNumber`.
 *
 * Throws `CcidError('ccid/no-class-descriptor')` when a class 0x0B interface
 * exists but none carries a class descriptor, and `CcidError('ccid/no-interface')`
 * when there is no CCID interface at all or only ICCD-style ones (no bulk
 * endpoints: ICCD tokens use control transfers, which this driver does not speak).
 */
export function findCcidInterface(config: ConfigurationDescriptor, { interfaceNumber: n }: { interfaceNumber?: number } = {}): CcidInterfaceInfo {
  const wanted = (i: InterfaceDescriptor): boolean => n === undefined || i.bInterfaceNumber === n;
  const found = findCcidInterfaces(config).find((c) => wanted(c.iface));
  if (found) return found;
  const candidates = config.interfaces.filter(wanted);
  const iccd = candidates.find((i) => mayBeCcidClass(i) && findCcidClassDescriptor(i));
  if (iccd) throw new CcidError('ccid/no-interface', { withoutBulkPair: iccd.bInterfaceNumber });
  const bare = candidates.find((i) => i.bInterfaceClass === USB_CLASS_CCID);
  if (bare) throw new CcidError('ccid/no-class-descriptor', { interfaceNumber: bare.bInterfaceNumber });
  if (n === undefined) throw new CcidError('ccid/no-interface', {});
  throw new CcidError('ccid/no-interface', { interfaceNumber: n });
}
