/**
 * The CCID message frame (CCID 1.10 §6): the 10-byte header and the checks that both sides of
 * the bulk pipe make, shared by the host's codec (messages.ts) and the reader's (messages-device.ts).
 * Not part of the public `ccidMessages` namespace.
 */
import { CcidError } from '../errors.js';
import { readU32LE, writeU32LE } from '../bytes.js';

/** bMessageType, dwLength (4 bytes, little-endian), bSlot, bSeq and three message-specific bytes. */
export const CCID_HEADER_LENGTH = 10;

/** A byte as 0xNN. */
export function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, '0')}`;
}

/** Checks that a field's value fits its width: 8 bits (b...), 16 (w...) or 32 (dw...). */
export function checkField(field: string, v: number, bits = 8): void {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) throw new CcidError('ccid/bad-field', { field, bits, value: v });
}

/** A message: the 10-byte header (bMessageType, dwLength, bSlot, bSeq, bytes 7..9) and `data`. */
export function frame(type: number, slot: number, seq: number, b7: number, b8: number, b9: number, data: Uint8Array): Uint8Array {
  checkField('bSlot', slot);
  checkField('bSeq', seq);
  const out = new Uint8Array(CCID_HEADER_LENGTH + data.length);
  out[0] = type;
  writeU32LE(out, 1, data.length);
  out[5] = slot;
  out[6] = seq;
  out[7] = b7;
  out[8] = b8;
  out[9] = b9;
  out.set(data, CCID_HEADER_LENGTH);
  return out;
}

/** The 8 data bytes of a (Set)DataRateAndClockFrequency message: dwClockFrequency, dwDataRate. */
export function dataRateAndClock(clock: number, rate: number): Uint8Array {
  checkField('dwClockFrequency', clock, 32);
  checkField('dwDataRate', rate, 32);
  const d = new Uint8Array(8);
  writeU32LE(d, 0, clock);
  writeU32LE(d, 4, rate);
  return d;
}

/** Checks that a frame is complete and that dwLength matches the bytes (and `maxLength`, when given). */
export function checkFrame(bytes: Uint8Array, maxLength?: number): void {
  if (bytes.length < CCID_HEADER_LENGTH) {
    throw new CcidError('ccid/malformed-frame', { length: bytes.length });
  }
  const dwLength = readU32LE(bytes, 1);
  if (maxLength !== undefined && dwLength > maxLength) {
    throw new CcidError('ccid/length-mismatch', { dwLength, max: maxLength });
  }
  if (dwLength !== bytes.length - CCID_HEADER_LENGTH) {
    throw new CcidError('ccid/length-mismatch', { dwLength, carried: bytes.length - CCID_HEADER_LENGTH });
  }
}

/** `kind`: 'PC_to_RDR', 'RDR_to_PC', 'interrupt'. */
export function notA(kind: string, type: number): CcidError {
  return new CcidError('ccid/unexpected-message', { bMessageType: hex(type), expected: kind });
}

/** Checks that `name`'s data is 8 bytes (a DataRateAndClockFrequency message). */
export function need8(name: string, data: Uint8Array): void {
  if (data.length !== 8) throw new CcidError('ccid/malformed-frame', { message: name, dataBytes: data.length });
}
