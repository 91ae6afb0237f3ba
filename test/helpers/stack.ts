/**
 * Builds the whole stack for a test: a virtual reader (with its card), the
 * virtual `navigator.usb`, and our driver's CcidReader on top.
 */
import { afterEach } from 'vitest';
import { CcidReader, type CcidReaderOptions } from '../../src/ccid/reader.js';
import { createVirtualReader, VirtualUsb, type VirtualReader, type VirtualReaderOptions } from '../../src/virtual/index.js';
import { HCA_ATR, HCA_LIKE_LAYOUT } from '../../src/virtual/index.js';
import { concatBytes } from '../../src/bytes.js';

/** SELECT of the HCA-like card's application by its AID (case 3: P2 0C, no answer data). */
export const SELECT_HCA = concatBytes(Uint8Array.of(0x00, 0xa4, 0x04, 0x0c, HCA_LIKE_LAYOUT.aid.length), HCA_LIKE_LAYOUT.aid);

export interface Stack {
  device: VirtualReader;
  usb: VirtualUsb;
  reader: CcidReader;
  /** CCID frames the driver sent, by message type byte. */
  sent: Uint8Array[];
}

export async function openStack(options: VirtualReaderOptions, driver: CcidReaderOptions = {}): Promise<Stack> {
  const device = createVirtualReader(options);
  const usb = new VirtualUsb({ devices: [device] });
  const sent: Uint8Array[] = [];
  const reader = await CcidReader.open(device, {
    backend: usb,
    trace: (direction, frame) => {
      if (direction === 'out') sent.push(frame.slice());
    },
    ...driver,
  });
  return { device, usb, reader, sent };
}

/**
 * `openStack` for a test file whose readers are closed after each test: registers that
 * `afterEach` where it is called (the file's top level) and returns the opener to use.
 */
export function openStacksClosedAfterEach(): typeof openStack {
  let open: Stack[] = [];
  afterEach(async () => {
    for (const s of open) await s.reader.close();
    open = [];
  });
  return async (...args) => {
    const s = await openStack(...args);
    open.push(s);
    return s;
  };
}

/** The HCA ATR with another IFSC in TA3 (and the TCK recomputed). */
export function hcaAtrWithIfsc(ifsc: number): Uint8Array {
  const atr = HCA_ATR.slice();
  // 3B F9 18 00 00 81 31 [TA3=FE] 45 ... TCK: TA3 is at index 7.
  atr[7] = ifsc;
  let tck = 0;
  for (let i = 1; i < atr.length - 1; i++) tck ^= atr[i]!;
  atr[atr.length - 1] = tck;
  return atr;
}

/** CLA 80 INS EE P1 00: the virtual card echoes the data. */
export function echoApdu(data: Uint8Array, le: number): Uint8Array {
  const extended = data.length > 255 || le > 256;
  if (!extended) return concatBytes(Uint8Array.of(0x80, 0xee, 0x00, 0x00, data.length), data, Uint8Array.of(le & 0xff));
  return concatBytes(
    Uint8Array.of(0x80, 0xee, 0x00, 0x00, 0x00, data.length >> 8, data.length & 0xff),
    data,
    Uint8Array.of((le >> 8) & 0xff, le & 0xff),
  );
}

/** CLA 80 INS EE P1 >= 80: the card returns n bytes, byte i = i & 0xFF. */
export function generateApdu(n: number, le: number): Uint8Array {
  const p1 = 0x80 | (n >> 8);
  const p2 = n & 0xff;
  if (le <= 256) return Uint8Array.of(0x80, 0xee, p1, p2, le & 0xff);
  return Uint8Array.of(0x80, 0xee, p1, p2, 0x00, (le >> 8) & 0xff, le & 0xff);
}

export function pattern(n: number, seed = 0): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
}

export function sw(response: Uint8Array): number {
  return (response[response.length - 2]! << 8) | response[response.length - 1]!;
}

export function data(response: Uint8Array): Uint8Array {
  return response.subarray(0, response.length - 2);
}
