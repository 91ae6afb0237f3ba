/**
 * The reader's USB side: its endpoints, the device and configuration
 * descriptors (with the CCID class descriptor before or after the endpoints,
 * or none), string descriptors, and the answers to control-IN requests
 * (GET_DESCRIPTOR, GET_STATUS, GET_CONFIGURATION, and the CCID class requests
 * GET_CLOCK_FREQUENCIES / GET_DATA_RATES, which stall without a table).
 */
import { concatBytes, writeU16LE, writeU32LE } from '../../bytes.js';
import { CCID_REQUEST_GET_CLOCK_FREQUENCIES, CCID_REQUEST_GET_DATA_RATES } from '../../ccid/messages.js';
import { encodeConfigurationDescriptor } from '../../usb/config-descriptor-encode.js';
import type { ControlInAnswer, VirtualEndpointInit } from '../usb-device.js';

/** Endpoint numbers of the virtual reader. */
export const VIRTUAL_READER_ENDPOINTS = { bulkOut: 1, bulkIn: 2, interruptIn: 3 } as const;

/** Bulk-OUT, bulk-IN and (unless `hasInterrupt` is false) interrupt-IN, bInterval 16. */
export function readerEndpoints(bulkPacketSize: number, interruptPacketSize: number, hasInterrupt: boolean): VirtualEndpointInit[] {
  const E = VIRTUAL_READER_ENDPOINTS;
  return [
    { endpointNumber: E.bulkOut, direction: 'out', type: 'bulk', packetSize: bulkPacketSize },
    { endpointNumber: E.bulkIn, direction: 'in', type: 'bulk', packetSize: bulkPacketSize },
    ...(hasInterrupt ? [{ endpointNumber: E.interruptIn, direction: 'in' as const, type: 'interrupt' as const, packetSize: interruptPacketSize, interval: 16 }] : []),
  ];
}

/**
 * The configuration descriptor: one interface of `interfaceClass`, the class
 * descriptor before the endpoints (CCID 1.10 §5.1), after them (the buggy
 * readers), or absent (`classDescriptor` null).
 */
export function readerConfigurationDescriptor(init: {
  interfaceClass: number;
  endpoints: VirtualEndpointInit[];
  classDescriptor: Uint8Array | null;
  placement: 'before-endpoints' | 'after-endpoints';
}): Uint8Array {
  const epDescriptors = init.endpoints.map((e) => ({
    bEndpointAddress: e.endpointNumber | (e.direction === 'in' ? 0x80 : 0),
    bmAttributes: e.type === 'bulk' ? 0x02 : 0x03,
    wMaxPacketSize: e.packetSize,
    bInterval: e.interval ?? 0,
  }));
  const classDescriptor = init.classDescriptor;
  const after = classDescriptor !== null && init.placement === 'after-endpoints';
  let config = encodeConfigurationDescriptor({
    bConfigurationValue: 1,
    interfaces: [
      {
        bInterfaceNumber: 0,
        bAlternateSetting: 0,
        bInterfaceClass: init.interfaceClass,
        bInterfaceSubClass: 0,
        bInterfaceProtocol: 0,
        extra: after || classDescriptor === null ? [] : [classDescriptor],
        endpoints: epDescriptors,
      },
    ],
  });
  if (after) {
    config = concatBytes(config, classDescriptor);
    writeU16LE(config, 2, config.length);
  }
  return config;
}

/** The 18-byte device descriptor (USB 2.0, one configuration, string indices 1..3 when the strings exist). */
export function readerDeviceDescriptor(init: {
  vendorId: number;
  productId: number;
  bcdDevice: number;
  manufacturerName: string | null;
  productName: string | null;
  serialNumber: string | null;
}): Uint8Array {
  const dev = new Uint8Array(18);
  dev[0] = 18;
  dev[1] = 0x01;
  writeU16LE(dev, 2, 0x0200);
  dev[7] = 64;
  writeU16LE(dev, 8, init.vendorId);
  writeU16LE(dev, 10, init.productId);
  writeU16LE(dev, 12, init.bcdDevice);
  dev[14] = init.manufacturerName === null ? 0 : 1;
  dev[15] = init.productName === null ? 0 : 2;
  dev[16] = init.serialNumber === null ? 0 : 3;
  dev[17] = 1;
  return dev;
}

function utf16le(text: string): Uint8Array {
  const out = new Uint8Array(2 + text.length * 2);
  out[0] = out.length;
  out[1] = 0x03;
  for (let i = 0; i < text.length; i++) writeU16LE(out, 2 + 2 * i, text.charCodeAt(i));
  return out;
}

function dwordList(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  values.forEach((v, i) => writeU32LE(out, 4 * i, v >>> 0));
  return out;
}

/** What the control-IN answers are made of. */
export interface ControlInSource {
  readonly deviceDescriptor: Uint8Array;
  readonly configurationDescriptor: Uint8Array;
  /** Manufacturer, product, serial: string descriptors 1..3 ('' = none). */
  readonly strings: readonly string[];
  /** bConfigurationValue in force (0 = not configured). */
  readonly configurationValue: number;
  readonly clockFrequencies: readonly number[];
  readonly dataRates: readonly number[];
}

/** The answer to a control-IN request; anything the reader does not know stalls. */
export function answerControlIn(src: ControlInSource, setup: USBControlTransferParameters): ControlInAnswer {
  if (setup.requestType === 'standard') {
    if (setup.request === 0x06) {
      const type = setup.value >> 8;
      const index = setup.value & 0xff;
      if (type === 0x01) return { status: 'ok', data: src.deviceDescriptor };
      if (type === 0x02 && index === 0) return { status: 'ok', data: src.configurationDescriptor };
      if (type === 0x03) {
        if (index === 0) return { status: 'ok', data: Uint8Array.of(4, 3, 0x09, 0x04) };
        const text = src.strings[index - 1];
        if (text) return { status: 'ok', data: utf16le(text) };
      }
      return { status: 'stall' };
    }
    if (setup.request === 0x00) return { status: 'ok', data: new Uint8Array(2) };
    if (setup.request === 0x08) return { status: 'ok', data: Uint8Array.of(src.configurationValue) };
    return { status: 'stall' };
  }
  if (setup.requestType === 'class' && setup.recipient === 'interface') {
    if (setup.request === CCID_REQUEST_GET_CLOCK_FREQUENCIES && src.clockFrequencies.length > 0) {
      return { status: 'ok', data: dwordList(src.clockFrequencies) };
    }
    if (setup.request === CCID_REQUEST_GET_DATA_RATES && src.dataRates.length > 0) {
      return { status: 'ok', data: dwordList(src.dataRates) };
    }
  }
  return { status: 'stall' };
}
