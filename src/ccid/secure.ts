/**
 * PC_to_RDR_Secure (CCID rev 1.10 §6.1.11): the PIN verification and PIN
 * modification data structures, built from the APDU seam's requests and
 * encoded. The reader's side (decoding them, and the rules for putting the
 * digits keyed on a pinpad into the APDU template, PC/SC part 10 §2.5) is in
 * secure-device.ts.
 *
 * `abData` of PC_to_RDR_Secure = bPINOperation (0x00 verify, 0x01 modify)
 * followed by the structure. Multi-byte fields are little-endian.
 *
 * Verification (offsets in the structure, after bPINOperation):
 *   0 bTimeOut, 1 bmFormatString, 2 bmPINBlockString, 3 bmPINLengthFormat,
 *   4 wPINMaxExtraDigit (XXYY: XX = min digits, YY = max digits), 6 bEntryValidationCondition,
 *   7 bNumberMessage, 8 wLangId, 10 bMsgIndex, 11 bTeoPrologue[3], 14 abPINApdu.
 * Modification:
 *   0 bTimeOut, 1 bmFormatString, 2 bmPINBlockString, 3 bmPINLengthFormat,
 *   4 bInsertionOffsetOld, 5 bInsertionOffsetNew, 6 wPINMaxExtraDigit, 8 bConfirmPIN,
 *   9 bEntryValidationCondition, 10 bNumberMessage, 11 wLangId, 13 bMsgIndex1,
 *   [bMsgIndex2 when bNumberMessage != 0], [bMsgIndex3 when bNumberMessage == 3],
 *   bTeoPrologue[3], abPINApdu.
 *
 * bmFormatString: bit 7 system units (1 bytes, 0 bits); bits 6-3 PIN position
 * after Lc, in those units; bit 2 right-justify; bits 1-0 format (00 binary,
 * 01 BCD, 10 ASCII). bmPINBlockString: bits 7-4 size in bits of the PIN
 * length inserted in the APDU (0 = none), bits 3-0 PIN block size in bytes.
 * bmPINLengthFormat: bit 4 system units (1 bytes, 0 bits), bits 3-0 position
 * of the PIN length after Lc.
 *
 * Pure code: no I/O, no timers, and no PIN: the pinpad takes the digits.
 */
import { CcidError } from '../errors.js';
import { concatBytes, writeU16LE } from '../bytes.js';
import type { PinBlockFormat, SecurePinModifyRequest, SecurePinVerifyRequest } from '../card/channel.js';

/** bPINOperation values (CCID 1.10 §6.1.11). Only verify and modify are built here. */
export const PIN_OPERATION = {
  VERIFY: 0x00,
  MODIFY: 0x01,
  TRANSFER: 0x02,
  WAIT_ICC_RESPONSE: 0x03,
  CANCEL: 0x04,
  RESEND_I_BLOCK: 0x05,
  SEND_NEXT_APDU: 0x06,
} as const;

/** bEntryValidationCondition bits. */
export const ENTRY_VALIDATION = { MAX_SIZE_REACHED: 0x01, VALIDATION_KEY: 0x02, TIMEOUT: 0x04 } as const;

/** bConfirmPIN bits (modification). */
export const CONFIRM_PIN = { CONFIRM_NEW: 0x01, ENTER_CURRENT: 0x02 } as const;

/** wLangId values used by the builders. */
export const LANG_ID = { EN_US: 0x0409, ZH_TW: 0x0404 } as const;

/** Size of the verification structure before abPINApdu. */
export const PIN_VERIFY_HEADER_LENGTH = 14;

/** Status words a pinpad reader answers itself (PC/SC part 10), not the card. */
export const PINPAD_SW = {
  TIMEOUT: 0x6400,
  CANCELLED: 0x6401,
  NEW_PIN_MISMATCH: 0x6402,
  PIN_LENGTH: 0x6403,
  INVALID_PARAMETER: 0x6b80,
} as const;

export interface PinVerifyStructure {
  bTimeOut: number;
  bmFormatString: number;
  bmPINBlockString: number;
  bmPINLengthFormat: number;
  /** XXYY: XX = minimum, YY = maximum number of digits. */
  wPINMaxExtraDigit: number;
  bEntryValidationCondition: number;
  bNumberMessage: number;
  wLangId: number;
  bMsgIndex: number;
  /** NAD PCB LEN of the T=1 I-block (TPDU-level T=1 readers), else 00 00 00. */
  bTeoPrologue: Uint8Array;
  /** The command APDU template (header, Lc, data with the PIN block prefilled with pad bytes). */
  abPINApdu: Uint8Array;
}

export interface PinModifyStructure {
  bTimeOut: number;
  bmFormatString: number;
  bmPINBlockString: number;
  bmPINLengthFormat: number;
  /** Offset (bytes, after Lc) of the current PIN. */
  bInsertionOffsetOld: number;
  /** Offset (bytes, after Lc) of the new PIN. */
  bInsertionOffsetNew: number;
  wPINMaxExtraDigit: number;
  /** Bit 0: enter the new PIN twice; bit 1: enter the current PIN. */
  bConfirmPIN: number;
  bEntryValidationCondition: number;
  bNumberMessage: number;
  wLangId: number;
  bMsgIndex1: number;
  /** Present when bNumberMessage != 0. */
  bMsgIndex2?: number;
  /** Present when bNumberMessage == 3. */
  bMsgIndex3?: number;
  bTeoPrologue: Uint8Array;
  abPINApdu: Uint8Array;
}

export type SecurePinData = ({ operation: 'verify' } & PinVerifyStructure) | ({ operation: 'modify' } & PinModifyStructure);


// ---- encode -------------------------------------------------------------------

/** `v` if it is an unsigned integer of `bits` bits, else CcidError('ccid/bad-field'). */
function checkUint(pinField: string, v: number, bits: 8 | 16): number {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) throw new CcidError('ccid/bad-field', { pinField, bits, value: v });
  return v;
}

function checkByte(name: string, v: number): number {
  return checkUint(name, v, 8);
}

function checkWord(name: string, v: number): number {
  return checkUint(name, v, 16);
}

function checkCommon(s: { bTeoPrologue: Uint8Array; abPINApdu: Uint8Array }): void {
  if (s.bTeoPrologue.length !== 3) throw new CcidError('ccid/bad-field', { bTeoPrologueLength: s.bTeoPrologue.length });
  if (s.abPINApdu.length < 4) throw new CcidError('ccid/bad-field', { abPINApduLength: s.abPINApdu.length });
}

/** abData of a PC_to_RDR_Secure for PIN verification (bPINOperation 0x00 + structure). */
export function encodePinVerify(s: PinVerifyStructure): Uint8Array {
  checkCommon(s);
  const b = new Uint8Array(1 + PIN_VERIFY_HEADER_LENGTH);
  b[0] = PIN_OPERATION.VERIFY;
  b[1] = checkByte('bTimeOut', s.bTimeOut);
  b[2] = checkByte('bmFormatString', s.bmFormatString);
  b[3] = checkByte('bmPINBlockString', s.bmPINBlockString);
  b[4] = checkByte('bmPINLengthFormat', s.bmPINLengthFormat);
  writeU16LE(b, 5, checkWord('wPINMaxExtraDigit', s.wPINMaxExtraDigit));
  b[7] = checkByte('bEntryValidationCondition', s.bEntryValidationCondition);
  b[8] = checkByte('bNumberMessage', s.bNumberMessage);
  writeU16LE(b, 9, checkWord('wLangId', s.wLangId));
  b[11] = checkByte('bMsgIndex', s.bMsgIndex);
  b.set(s.bTeoPrologue, 12);
  return concatBytes(b, s.abPINApdu);
}

/** How many bMsgIndex fields a modification structure carries for a bNumberMessage (CCID 1.10: 2 unless 0 or 3). */
export function modifyMessageIndexCount(bNumberMessage: number): 1 | 2 | 3 {
  if (bNumberMessage === 0) return 1;
  return bNumberMessage === 3 ? 3 : 2;
}

/** abData of a PC_to_RDR_Secure for PIN modification (bPINOperation 0x01 + structure). */
export function encodePinModify(s: PinModifyStructure): Uint8Array {
  checkCommon(s);
  const count = modifyMessageIndexCount(checkByte('bNumberMessage', s.bNumberMessage));
  const b = new Uint8Array(14 + count + 3);
  b[0] = PIN_OPERATION.MODIFY;
  b[1] = checkByte('bTimeOut', s.bTimeOut);
  b[2] = checkByte('bmFormatString', s.bmFormatString);
  b[3] = checkByte('bmPINBlockString', s.bmPINBlockString);
  b[4] = checkByte('bmPINLengthFormat', s.bmPINLengthFormat);
  b[5] = checkByte('bInsertionOffsetOld', s.bInsertionOffsetOld);
  b[6] = checkByte('bInsertionOffsetNew', s.bInsertionOffsetNew);
  writeU16LE(b, 7, checkWord('wPINMaxExtraDigit', s.wPINMaxExtraDigit));
  b[9] = checkByte('bConfirmPIN', s.bConfirmPIN);
  b[10] = checkByte('bEntryValidationCondition', s.bEntryValidationCondition);
  b[11] = s.bNumberMessage;
  writeU16LE(b, 12, checkWord('wLangId', s.wLangId));
  b[14] = checkByte('bMsgIndex1', s.bMsgIndex1);
  if (count >= 2) b[15] = checkByte('bMsgIndex2', s.bMsgIndex2 ?? 0);
  if (count === 3) b[16] = checkByte('bMsgIndex3', s.bMsgIndex3 ?? 0);
  b.set(s.bTeoPrologue, 15 + count - 1);
  return concatBytes(b, s.abPINApdu);
}

// ---- build from the APDU seam's requests ---------------------------------------

/** Options of the structure builders: reader display and T=1 prologue. */
export interface PinStructureOptions {
  /** NAD PCB LEN for TPDU-level T=1 readers (the connection fills it); default 00 00 00. */
  teoPrologue?: Uint8Array;
  /** Language of the reader's prompts (default 0x0409, English: most pinpads have no zh-TW table). */
  wLangId?: number;
  /** bEntryValidationCondition (default 0x02: the validation key; the one value every pinpad accepts). */
  bEntryValidationCondition?: number;
}

function checkFormat(name: string, f: PinBlockFormat): void {
  const ok =
    Number.isInteger(f.minLength) &&
    Number.isInteger(f.maxLength) &&
    Number.isInteger(f.blockLength) &&
    f.minLength >= 1 &&
    f.maxLength >= f.minLength &&
    f.maxLength <= 0xff &&
    f.blockLength >= 1 &&
    f.blockLength <= 15 &&
    Number.isInteger(f.padByte) &&
    f.padByte >= 0 &&
    f.padByte <= 0xff;
  if (!ok) throw new CcidError('ccid/bad-field', { format: name });
  const needed = f.encoding === 'ascii' ? f.maxLength : Math.ceil(f.maxLength / 2);
  if (needed > f.blockLength) {
    throw new CcidError('ccid/bad-field', { format: name, maxLength: f.maxLength, blockLength: f.blockLength, encoding: f.encoding });
  }
}

function checkHeader(header: Uint8Array): void {
  if (header.length !== 4) throw new CcidError('ccid/bad-field', { headerLength: header.length });
}

/** bmFormatString for a fixed block at data offset 0, left-justified, units bytes. */
function formatString(f: PinBlockFormat): number {
  return 0x80 | (f.encoding === 'ascii' ? 0x02 : 0x01);
}

function timeOut(t: number | undefined): number {
  return Math.min(0xff, Math.max(0, Math.round(t ?? 30)));
}

/**
 * The verification structure for the APDU seam's request: the template is
 * header, Lc = block length, and the block filled with the pad byte; the
 * reader writes the digits at the start of the block (left-justified).
 */
export function buildPinVerify(request: SecurePinVerifyRequest, options: PinStructureOptions = {}): PinVerifyStructure {
  checkHeader(request.header);
  const f = request.format;
  checkFormat('format', f);
  return {
    bTimeOut: timeOut(request.timeoutSeconds),
    bmFormatString: formatString(f),
    bmPINBlockString: f.blockLength,
    bmPINLengthFormat: 0x00,
    wPINMaxExtraDigit: (f.minLength << 8) | f.maxLength,
    bEntryValidationCondition: options.bEntryValidationCondition ?? ENTRY_VALIDATION.VALIDATION_KEY,
    bNumberMessage: 0x01,
    wLangId: options.wLangId ?? LANG_ID.EN_US,
    bMsgIndex: 0x00,
    bTeoPrologue: options.teoPrologue?.slice() ?? new Uint8Array(3),
    abPINApdu: concatBytes(request.header, Uint8Array.of(f.blockLength), new Uint8Array(f.blockLength).fill(f.padByte)),
  };
}

/**
 * The modification structure: the template's data = old block || new block,
 * bInsertionOffsetOld = 0, bInsertionOffsetNew = old block length. One
 * structure has one format and one length range, so old and new must share
 * encoding, block length and pad byte; the range is the union of both
 * (e.g. PUK 8 + new PIN 6..8 -> 6..8: the reader cannot tell them apart).
 * Messages: 1 enter current, 2 enter new, 3 confirm new (bNumberMessage 3
 * with confirmation, else 2).
 */
export function buildPinModify(request: SecurePinModifyRequest, options: PinStructureOptions = {}): PinModifyStructure {
  checkHeader(request.header);
  const o = request.oldFormat;
  const n = request.newFormat;
  checkFormat('oldFormat', o);
  checkFormat('newFormat', n);
  if (o.encoding !== n.encoding || o.blockLength !== n.blockLength || o.padByte !== n.padByte) {
    throw new CcidError('ccid/bad-field', {
      oldEncoding: o.encoding,
      newEncoding: n.encoding,
      oldBlockLength: o.blockLength,
      newBlockLength: n.blockLength,
      oldPadByte: o.padByte,
      newPadByte: n.padByte,
    });
  }
  const min = Math.min(o.minLength, n.minLength);
  const max = Math.max(o.maxLength, n.maxLength);
  const dataLength = o.blockLength + n.blockLength;
  return {
    bTimeOut: timeOut(request.timeoutSeconds),
    bmFormatString: formatString(n),
    bmPINBlockString: n.blockLength,
    bmPINLengthFormat: 0x00,
    bInsertionOffsetOld: 0,
    bInsertionOffsetNew: o.blockLength,
    wPINMaxExtraDigit: (min << 8) | max,
    bConfirmPIN: CONFIRM_PIN.ENTER_CURRENT | (request.confirm ? CONFIRM_PIN.CONFIRM_NEW : 0),
    bEntryValidationCondition: options.bEntryValidationCondition ?? ENTRY_VALIDATION.VALIDATION_KEY,
    bNumberMessage: request.confirm ? 3 : 2,
    wLangId: options.wLangId ?? LANG_ID.EN_US,
    bMsgIndex1: 0x00,
    bMsgIndex2: 0x01,
    ...(request.confirm ? { bMsgIndex3: 0x02 } : {}),
    bTeoPrologue: options.teoPrologue?.slice() ?? new Uint8Array(3),
    abPINApdu: concatBytes(request.header, Uint8Array.of(dataLength), new Uint8Array(dataLength).fill(n.padByte)),
  };
}

// ---- the reader's side: formatting keyed digits ---------------------------------
