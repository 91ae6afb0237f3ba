/**
 * The reader's side of PC_to_RDR_Secure (CCID rev 1.10 §6.1.11; the structures' layout is in
 * secure.ts): decodes the PIN verification and modification structures, spells out their format
 * bytes, and puts the digits keyed on a pinpad into the APDU template the way a pinpad reader does
 * (PC/SC part 10 §2.5). The virtual pinpad uses it; the driver, which only builds and encodes the
 * structures (secure.ts), does not load it.
 *
 * Pure code: no I/O, no timers. Nothing here sees a PIN except `insertPin`, which writes the keyed
 * digits into a buffer the caller owns (and wipes).
 */
import { CcidError } from '../errors.js';
import { readU16LE } from '../bytes.js';
import {
  modifyMessageIndexCount,
  PIN_OPERATION,
  PIN_VERIFY_HEADER_LENGTH,
  type PinVerifyStructure,
  type SecurePinData,
} from './secure.js';

/** bmFormatString / bmPINBlockString / bmPINLengthFormat spelled out. */
export interface PinFormatFields {
  /** Units of `pinPosition`: bytes or bits. */
  units: 'bytes' | 'bits';
  /** Position of the PIN after Lc, in `units`. */
  pinPosition: number;
  justify: 'left' | 'right';
  /** 'binary' = one digit a byte (value 0..9); 'bcd' = two digits a byte; 'ascii' = '0'..'9'. */
  encoding: 'binary' | 'bcd' | 'ascii' | 'reserved';
  /** Size in bits of the PIN length written into the APDU (0 = not written). */
  lengthBits: number;
  /** PIN block size in bytes. */
  blockBytes: number;
  lengthUnits: 'bytes' | 'bits';
  /** Position of the PIN length after Lc, in `lengthUnits`. */
  lengthPosition: number;
}

const ENCODINGS = ['binary', 'bcd', 'ascii', 'reserved'] as const;

/** Spells out the three format bytes. */
export function describePinFormat(s: Pick<PinVerifyStructure, 'bmFormatString' | 'bmPINBlockString' | 'bmPINLengthFormat'>): PinFormatFields {
  return {
    units: s.bmFormatString & 0x80 ? 'bytes' : 'bits',
    pinPosition: (s.bmFormatString >> 3) & 0x0f,
    justify: s.bmFormatString & 0x04 ? 'right' : 'left',
    encoding: ENCODINGS[s.bmFormatString & 0x03]!,
    lengthBits: (s.bmPINBlockString >> 4) & 0x0f,
    blockBytes: s.bmPINBlockString & 0x0f,
    lengthUnits: s.bmPINLengthFormat & 0x10 ? 'bytes' : 'bits',
    lengthPosition: s.bmPINLengthFormat & 0x0f,
  };
}

/** Minimum and maximum digits of wPINMaxExtraDigit. */
export function pinLengthRange(wPINMaxExtraDigit: number): { min: number; max: number } {
  return { min: (wPINMaxExtraDigit >> 8) & 0xff, max: wPINMaxExtraDigit & 0xff };
}

/**
 * Decodes abData of a PC_to_RDR_Secure (verify or modify). Throws
 * CcidError('ccid/malformed-frame') when it is too short,
 * CcidError('ccid/bad-field') for another bPINOperation.
 */
export function decodeSecurePinData(abData: Uint8Array): SecurePinData {
  if (abData.length < 1) throw new CcidError('ccid/malformed-frame', { secureBytes: abData.length });
  const op = abData[0]!;
  const s = abData.subarray(1);
  const short = (structure: string) => new CcidError('ccid/malformed-frame', { structure, length: s.length });
  if (op === PIN_OPERATION.VERIFY) {
    if (s.length < PIN_VERIFY_HEADER_LENGTH + 4) throw short('verification');
    return {
      operation: 'verify',
      bTimeOut: s[0]!,
      bmFormatString: s[1]!,
      bmPINBlockString: s[2]!,
      bmPINLengthFormat: s[3]!,
      wPINMaxExtraDigit: readU16LE(s, 4),
      bEntryValidationCondition: s[6]!,
      bNumberMessage: s[7]!,
      wLangId: readU16LE(s, 8),
      bMsgIndex: s[10]!,
      bTeoPrologue: s.slice(11, 14),
      abPINApdu: s.slice(14),
    };
  }
  if (op === PIN_OPERATION.MODIFY) {
    if (s.length < 11) throw short('modification');
    const count = modifyMessageIndexCount(s[10]!);
    const prologueAt = 13 + count;
    if (s.length < prologueAt + 3 + 4) throw short('modification');
    return {
      operation: 'modify',
      bTimeOut: s[0]!,
      bmFormatString: s[1]!,
      bmPINBlockString: s[2]!,
      bmPINLengthFormat: s[3]!,
      bInsertionOffsetOld: s[4]!,
      bInsertionOffsetNew: s[5]!,
      wPINMaxExtraDigit: readU16LE(s, 6),
      bConfirmPIN: s[8]!,
      bEntryValidationCondition: s[9]!,
      bNumberMessage: s[10]!,
      wLangId: readU16LE(s, 11),
      bMsgIndex1: s[13]!,
      ...(count >= 2 ? { bMsgIndex2: s[14]! } : {}),
      ...(count === 3 ? { bMsgIndex3: s[15]! } : {}),
      bTeoPrologue: s.slice(prologueAt, prologueAt + 3),
      abPINApdu: s.slice(prologueAt + 3),
    };
  }
  throw new CcidError('ccid/bad-field', { bPINOperation: `0x${op.toString(16).padStart(2, '0')}` });
}

/**
 * Writes keyed digits into `apdu` (a copy of abPINApdu the caller owns) the
 * way a pinpad reader does. `digits` are ASCII '0'..'9'. `extraOffset` is the
 * modification's bInsertionOffsetOld / New (bytes, added to the position of
 * bmFormatString). Bytes and nibbles of the block the digits do not cover
 * keep the template's value (the pad). Writes the PIN length when
 * bmPINBlockString asks for it. Returns false (and leaves `apdu` unchanged) when
 * the structure cannot be applied: short header, block outside the APDU,
 * digits not fitting the block, reserved encoding, block size 0.
 */
export function insertPin(
  apdu: Uint8Array,
  digits: Uint8Array,
  format: PinFormatFields,
  extraOffset = 0,
): boolean {
  if (apdu.length < 5 || format.encoding === 'reserved' || format.blockBytes === 0) return false;
  for (const d of digits) if (d < 0x30 || d > 0x39) return false;
  const dataStart = 5; // CLA INS P1 P2 Lc: the seam's templates are short APDUs
  const positionBits = (format.units === 'bytes' ? format.pinPosition * 8 : format.pinPosition) + extraOffset * 8;
  if (positionBits % 8 !== 0) return false;
  const blockStart = dataStart + positionBits / 8;
  const blockEnd = blockStart + format.blockBytes;
  if (blockEnd > apdu.length) return false;
  const n = digits.length;
  const nibbles = format.encoding === 'bcd';
  const needed = nibbles ? Math.ceil(n / 2) : n;
  if (needed > format.blockBytes) return false;
  let lengthBitAt = -1;
  if (format.lengthBits > 0) {
    lengthBitAt = dataStart * 8 + (format.lengthUnits === 'bytes' ? format.lengthPosition * 8 : format.lengthPosition);
    if (lengthBitAt + format.lengthBits > apdu.length * 8 || n >= 2 ** format.lengthBits) return false;
  }
  if (nibbles) {
    const totalNibbles = format.blockBytes * 2;
    const first = format.justify === 'left' ? 0 : totalNibbles - n;
    for (let i = 0; i < n; i++) {
      const k = first + i;
      const at = blockStart + (k >> 1);
      const v = digits[i]! - 0x30;
      apdu[at] = k % 2 === 0 ? (apdu[at]! & 0x0f) | (v << 4) : (apdu[at]! & 0xf0) | v;
    }
  } else {
    const first = format.justify === 'left' ? blockStart : blockEnd - n;
    for (let i = 0; i < n; i++) apdu[first + i] = format.encoding === 'ascii' ? digits[i]! : digits[i]! - 0x30;
  }
  if (lengthBitAt >= 0) {
    for (let i = 0; i < format.lengthBits; i++) {
      const bit = (n >> (format.lengthBits - 1 - i)) & 1;
      const pos = lengthBitAt + i;
      const byte = pos >> 3;
      const mask = 0x80 >> (pos & 7);
      apdu[byte] = bit ? apdu[byte]! | mask : apdu[byte]! & ~mask;
    }
  }
  return true;
}
