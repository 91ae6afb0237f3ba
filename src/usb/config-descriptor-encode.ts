/**
 * Builds USB configuration descriptors (USB 2.0 §9.6.3, §9.6.5, §9.6.6): the virtual reader's
 * side of config-descriptor.ts, kept apart so that the driver, which only parses them, does not
 * carry it.
 */
import { CcidError } from '../errors.js';
import { concatBytes, writeU16LE } from '../bytes.js';
import { TYPE_CONFIGURATION, TYPE_ENDPOINT, TYPE_INTERFACE, type EndpointDescriptor, type InterfaceDescriptor } from './config-descriptor.js';

/** What `encodeConfigurationDescriptor` takes for one interface (alternate setting). */
export type InterfaceDescriptorInit = Omit<InterfaceDescriptor, 'bNumEndpoints' | 'iInterface' | 'endpoints'> & {
  iInterface?: number;
  endpoints: Array<Pick<EndpointDescriptor, 'bEndpointAddress' | 'bmAttributes' | 'wMaxPacketSize' | 'bInterval'>>;
};

function checkByte(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new CcidError('ccid/bad-descriptor', { field: name, max: 255, value: v });
}

/**
 * Builds a configuration descriptor (for the virtual reader): computes
 * wTotalLength, bNumInterfaces (distinct interface numbers) and each
 * bNumEndpoints. Each interface's `extra` descriptors (e.g. the CCID class
 * descriptor) are written whole, in order, after its interface descriptor and
 * before its endpoints. Defaults: bmAttributes 0x80 (bus powered), bMaxPower 50
 * (100 mA). Throws `CcidError('ccid/bad-descriptor')` on out-of-range values or
 * an `extra` entry whose bLength is not its length.
 */
export function encodeConfigurationDescriptor(config: {
  bConfigurationValue: number;
  bmAttributes?: number;
  bMaxPower?: number;
  interfaces: InterfaceDescriptorInit[];
}): Uint8Array {
  const bmAttributes = config.bmAttributes ?? 0x80;
  const bMaxPower = config.bMaxPower ?? 50;
  checkByte('bConfigurationValue', config.bConfigurationValue);
  checkByte('bmAttributes', bmAttributes);
  checkByte('bMaxPower', bMaxPower);
  const parts: Uint8Array[] = [];
  const numbers = new Set<number>();
  for (const iface of config.interfaces) {
    const iInterface = iface.iInterface ?? 0;
    for (const [name, v] of [
      ['bInterfaceNumber', iface.bInterfaceNumber],
      ['bAlternateSetting', iface.bAlternateSetting],
      ['bInterfaceClass', iface.bInterfaceClass],
      ['bInterfaceSubClass', iface.bInterfaceSubClass],
      ['bInterfaceProtocol', iface.bInterfaceProtocol],
      ['iInterface', iInterface],
      ['bNumEndpoints', iface.endpoints.length],
    ] as const) {
      checkByte(name, v);
    }
    numbers.add(iface.bInterfaceNumber);
    parts.push(
      Uint8Array.of(
        9,
        TYPE_INTERFACE,
        iface.bInterfaceNumber,
        iface.bAlternateSetting,
        iface.endpoints.length,
        iface.bInterfaceClass,
        iface.bInterfaceSubClass,
        iface.bInterfaceProtocol,
        iInterface,
      ),
    );
    for (const d of iface.extra) {
      if (d.length < 2 || d.length > 0xff || d[0] !== d.length) {
        throw new CcidError('ccid/bad-descriptor', { extraBLength: d[0] ?? 'none', length: d.length });
      }
      parts.push(d.slice());
    }
    for (const ep of iface.endpoints) {
      checkByte('bEndpointAddress', ep.bEndpointAddress);
      checkByte('bmAttributes', ep.bmAttributes);
      checkByte('bInterval', ep.bInterval);
      if (!Number.isInteger(ep.wMaxPacketSize) || ep.wMaxPacketSize < 0 || ep.wMaxPacketSize > 0xffff) {
        throw new CcidError('ccid/bad-descriptor', { field: 'wMaxPacketSize', max: 65535, value: ep.wMaxPacketSize });
      }
      const e = Uint8Array.of(7, TYPE_ENDPOINT, ep.bEndpointAddress, ep.bmAttributes, 0, 0, ep.bInterval);
      writeU16LE(e, 4, ep.wMaxPacketSize);
      parts.push(e);
    }
  }
  checkByte('bNumInterfaces', numbers.size);
  const header = Uint8Array.of(9, TYPE_CONFIGURATION, 0, 0, numbers.size, config.bConfigurationValue, 0, bmAttributes, bMaxPower);
  const out = concatBytes(header, ...parts);
  if (out.length > 0xffff) throw new CcidError('ccid/bad-descriptor', { totalLength: out.length });
  writeU16LE(out, 2, out.length);
  return out;
}
