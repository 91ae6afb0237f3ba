/**
 * CCID rev 1.10 bulk and interrupt messages: constants, and the host's side of the codec
 * (encodes PC_to_RDR, decodes RDR_to_PC). The reader's side (decodes PC_to_RDR, encodes
 * RDR_to_PC) is in messages-device.ts; the public `ccidMessages` namespace (ccid-messages.ts)
 * holds both.
 *
 * Every message has a 10-byte header: bMessageType, dwLength (little-endian,
 * length of abData), bSlot, bSeq, then three message-specific bytes; abData
 * follows. Pure code, no I/O. Decoders check the header and that dwLength
 * matches the bytes given, and throw `CcidError` otherwise.
 */
import { CcidError, SlotError } from '../errors.js';
import { readU32LE } from '../bytes.js';
import { CCID_HEADER_LENGTH, checkField, checkFrame, dataRateAndClock, frame, hex, need8, notA } from './message-frame.js';

export { CCID_HEADER_LENGTH };

// PC_to_RDR (bulk-out), CCID 1.10 §6.1
export const PC_to_RDR_SetParameters = 0x61;
export const PC_to_RDR_IccPowerOn = 0x62;
export const PC_to_RDR_IccPowerOff = 0x63;
export const PC_to_RDR_GetSlotStatus = 0x65;
export const PC_to_RDR_Secure = 0x69;
export const PC_to_RDR_T0APDU = 0x6a;
export const PC_to_RDR_Escape = 0x6b;
export const PC_to_RDR_GetParameters = 0x6c;
export const PC_to_RDR_ResetParameters = 0x6d;
export const PC_to_RDR_IccClock = 0x6e;
export const PC_to_RDR_XfrBlock = 0x6f;
export const PC_to_RDR_Mechanical = 0x71;
export const PC_to_RDR_Abort = 0x72;
export const PC_to_RDR_SetDataRateAndClockFrequency = 0x73;

// RDR_to_PC (bulk-in), CCID 1.10 §6.2
export const RDR_to_PC_DataBlock = 0x80;
export const RDR_to_PC_SlotStatus = 0x81;
export const RDR_to_PC_Parameters = 0x82;
export const RDR_to_PC_Escape = 0x83;
export const RDR_to_PC_DataRateAndClockFrequency = 0x84;

// RDR_to_PC (interrupt-in), CCID 1.10 §6.3
export const RDR_to_PC_NotifySlotChange = 0x50;
export const RDR_to_PC_HardwareError = 0x51;

// Class-specific control requests, CCID 1.10 §5.3
export const CCID_REQUEST_ABORT = 0x01;
export const CCID_REQUEST_GET_CLOCK_FREQUENCIES = 0x02;
export const CCID_REQUEST_GET_DATA_RATES = 0x03;

// bStatus, CCID 1.10 §6.2.6
export const ICC_STATUS_ACTIVE = 0;
export const ICC_STATUS_INACTIVE = 1;
export const ICC_STATUS_ABSENT = 2;
export const COMMAND_STATUS_OK = 0;
export const COMMAND_STATUS_FAILED = 1;
export const COMMAND_STATUS_TIME_EXTENSION = 2;

// bError (slot error register), CCID 1.10 table 6.2-2
export const CCID_ERROR = {
  CMD_ABORTED: 0xff,
  ICC_MUTE: 0xfe,
  XFR_PARITY_ERROR: 0xfd,
  XFR_OVERRUN: 0xfc,
  HW_ERROR: 0xfb,
  BAD_ATR_TS: 0xf8,
  BAD_ATR_TCK: 0xf7,
  ICC_PROTOCOL_NOT_SUPPORTED: 0xf6,
  ICC_CLASS_NOT_SUPPORTED: 0xf5,
  PROCEDURE_BYTE_CONFLICT: 0xf4,
  DEACTIVATED_PROTOCOL: 0xf3,
  BUSY_WITH_AUTO_SEQUENCE: 0xf2,
  PIN_TIMEOUT: 0xf0,
  PIN_CANCELLED: 0xef,
  CMD_SLOT_BUSY: 0xe0,
  CMD_NOT_SUPPORTED: 0x00,
} as const;

// wLevelParameter (extended APDU level and short APDU chaining), CCID 1.10 §6.1.4
export const LEVEL_SINGLE = 0x0000;
export const LEVEL_BEGIN = 0x0001;
export const LEVEL_END = 0x0002;
export const LEVEL_CONTINUE = 0x0003;
export const LEVEL_EMPTY_CONTINUE = 0x0010;

interface Header {
  bSlot: number;
  bSeq: number;
}

/** A PC_to_RDR message. `abData` is empty where the message has no data. */
export type CcidCommand = Header &
  (
    | { name: 'IccPowerOn'; bPowerSelect: number; abData?: Uint8Array }
    | { name: 'IccPowerOff'; abData?: Uint8Array }
    | { name: 'GetSlotStatus'; abData?: Uint8Array }
    | { name: 'XfrBlock'; bBWI: number; wLevelParameter: number; abData: Uint8Array }
    | { name: 'GetParameters'; abData?: Uint8Array }
    | { name: 'ResetParameters'; abData?: Uint8Array }
    | { name: 'SetParameters'; bProtocolNum: number; abData: Uint8Array }
    | { name: 'Escape'; abData: Uint8Array }
    | { name: 'IccClock'; bClockCommand: number; abData?: Uint8Array }
    | { name: 'T0APDU'; bmChanges: number; bClassGetResponse: number; bClassEnvelope: number; abData?: Uint8Array }
    | { name: 'Secure'; bBWI: number; wLevelParameter: number; abData: Uint8Array }
    | { name: 'Mechanical'; bFunction: number; abData?: Uint8Array }
    | { name: 'Abort'; abData?: Uint8Array }
    | { name: 'SetDataRateAndClockFrequency'; dwClockFrequency: number; dwDataRate: number; abData?: Uint8Array }
  );

/** A RDR_to_PC bulk-in message. */
export type CcidResponse = Header & {
  bStatus: number;
  bError: number;
  abData: Uint8Array;
} & (
    | { name: 'DataBlock'; bChainParameter: number }
    | { name: 'SlotStatus'; bClockStatus: number }
    | { name: 'Parameters'; bProtocolNum: number }
    | { name: 'Escape' }
    | { name: 'DataRateAndClockFrequency'; dwClockFrequency: number; dwDataRate: number }
  );

/** An interrupt-in message. */
export type CcidNotification =
  | {
      name: 'NotifySlotChange';
      /** One entry a slot, slot 0 first, for as many slots as the bytes carry. */
      slots: Array<{ present: boolean; changed: boolean }>;
    }
  | { name: 'HardwareError'; bSlot: number; bSeq: number; bHardwareErrorCode: number };

export type CcidCommandName = CcidCommand['name'];
export type CcidResponseName = CcidResponse['name'];

/**
 * Each PC_to_RDR message (CCID 1.10 §6.1): its bMessageType, the RDR_to_PC message that answers
 * it (§6.2), and the fields in header bytes 7, 8 and 9, in order (a `w` field takes two bytes,
 * little-endian; unnamed bytes are RFU, sent as 0). The encoder (here) and the decoder (the
 * reader's side, messages-device.ts) both read it.
 */
export const COMMANDS: Readonly<Record<CcidCommandName, readonly [type: number, answer: CcidResponseName, ...fields: string[]]>> = {
  IccPowerOn: [PC_to_RDR_IccPowerOn, 'DataBlock', 'bPowerSelect'],
  IccPowerOff: [PC_to_RDR_IccPowerOff, 'SlotStatus'],
  GetSlotStatus: [PC_to_RDR_GetSlotStatus, 'SlotStatus'],
  XfrBlock: [PC_to_RDR_XfrBlock, 'DataBlock', 'bBWI', 'wLevelParameter'],
  GetParameters: [PC_to_RDR_GetParameters, 'Parameters'],
  ResetParameters: [PC_to_RDR_ResetParameters, 'Parameters'],
  SetParameters: [PC_to_RDR_SetParameters, 'Parameters', 'bProtocolNum'],
  Escape: [PC_to_RDR_Escape, 'Escape'],
  IccClock: [PC_to_RDR_IccClock, 'SlotStatus', 'bClockCommand'],
  T0APDU: [PC_to_RDR_T0APDU, 'SlotStatus', 'bmChanges', 'bClassGetResponse', 'bClassEnvelope'],
  Secure: [PC_to_RDR_Secure, 'DataBlock', 'bBWI', 'wLevelParameter'],
  Mechanical: [PC_to_RDR_Mechanical, 'SlotStatus', 'bFunction'],
  Abort: [PC_to_RDR_Abort, 'SlotStatus'],
  SetDataRateAndClockFrequency: [PC_to_RDR_SetDataRateAndClockFrequency, 'DataRateAndClockFrequency'],
};

/**
 * Which response type answers each command (CCID 1.10 §6.2). Used to reject
 * a frame of the wrong kind.
 */
export const RESPONSE_FOR: Record<CcidCommandName, CcidResponseName> = /* @__PURE__ */ (() => {
  const out = {} as Record<CcidCommandName, CcidResponseName>;
  for (const k of Object.keys(COMMANDS) as CcidCommandName[]) out[k] = COMMANDS[k][1];
  return out;
})();

const EMPTY = new Uint8Array(0);

/** A command as the transport's callers give it: everything but bSeq, which the transport assigns. */
export type CcidRequest = CcidCommand extends infer C ? (C extends CcidCommand ? Omit<C, 'bSeq'> : never) : never;

/**
 * Encodes a PC_to_RDR message, with `bSeq` (default: the command's own). Throws
 * `CcidError('ccid/bad-field')` for out-of-range fields.
 */
export function encodeCommand(cmd: CcidRequest & { bSeq?: number }, bSeq = cmd.bSeq!): Uint8Array {
  const spec = COMMANDS[cmd.name];
  const b = [0, 0, 0];
  for (let i = 0, k = 2; k < spec.length; k++) {
    const f = spec[k] as string;
    const v = (cmd as unknown as Record<string, number>)[f]!;
    if (f[0] === 'w') {
      checkField(f, v, 16);
      b[i++] = v & 0xff;
      b[i++] = v >> 8;
    } else {
      checkField(f, v);
      b[i++] = v;
    }
  }
  const data =
    cmd.name === 'SetDataRateAndClockFrequency' ? dataRateAndClock(cmd.dwClockFrequency, cmd.dwDataRate) : (cmd.abData ?? EMPTY);
  return frame(spec[0], cmd.bSlot, bSeq, b[0]!, b[1]!, b[2]!, data);
}

/**
 * Decodes a RDR_to_PC bulk-in message. `maxDataLength` (the reader's
 * dwMaxCCIDMessageLength minus the header) bounds dwLength. `abData` is a
 * view into `bytes`, not a copy. Every message gets its one object (of the
 * same shape for a DataBlock every time: the answer to each APDU).
 */
export function decodeResponse(bytes: Uint8Array, options?: { maxDataLength?: number }): CcidResponse {
  checkFrame(bytes, options?.maxDataLength);
  const type = bytes[0]!;
  const abData = bytes.subarray(CCID_HEADER_LENGTH);
  const bSlot = bytes[5]!;
  const bSeq = bytes[6]!;
  const bStatus = bytes[7]!;
  const bError = bytes[8]!;
  const b9 = bytes[9]!;
  switch (type) {
    case RDR_to_PC_DataBlock:
      return { name: 'DataBlock', bSlot, bSeq, bStatus, bError, bChainParameter: b9, abData };
    case RDR_to_PC_SlotStatus:
      return { name: 'SlotStatus', bSlot, bSeq, bStatus, bError, bClockStatus: b9, abData };
    case RDR_to_PC_Parameters:
      return { name: 'Parameters', bSlot, bSeq, bStatus, bError, bProtocolNum: b9, abData };
    case RDR_to_PC_Escape:
      return { name: 'Escape', bSlot, bSeq, bStatus, bError, abData };
    case RDR_to_PC_DataRateAndClockFrequency: {
      // A failed command may carry no data; only a successful one must carry 8 bytes.
      if (commandStatus(bStatus) === COMMAND_STATUS_OK) need8('DataRateAndClockFrequency', abData);
      const full = abData.length >= 8;
      const dwClockFrequency = full ? readU32LE(abData, 0) : 0;
      const dwDataRate = full ? readU32LE(abData, 4) : 0;
      return { name: 'DataRateAndClockFrequency', bSlot, bSeq, bStatus, bError, dwClockFrequency, dwDataRate, abData };
    }
  }
  throw notA('RDR_to_PC', type);
}

/** Decodes an interrupt-in message. */
export function decodeNotification(bytes: Uint8Array): CcidNotification {
  if (bytes.length === 0) throw new CcidError('ccid/malformed-frame', { interruptBytes: 0 });
  if (bytes[0] === RDR_to_PC_NotifySlotChange) {
    if (bytes.length < 2) throw new CcidError('ccid/malformed-frame', { notifySlotChangeBytes: bytes.length });
    const slots: Array<{ present: boolean; changed: boolean }> = [];
    for (let i = 0; i < (bytes.length - 1) * 4; i++) {
      const bits = (bytes[1 + (i >> 2)]! >> ((i & 3) * 2)) & 3;
      slots.push({ present: (bits & 1) !== 0, changed: (bits & 2) !== 0 });
    }
    return { name: 'NotifySlotChange', slots };
  }
  if (bytes[0] === RDR_to_PC_HardwareError) {
    if (bytes.length !== 4) throw new CcidError('ccid/malformed-frame', { hardwareErrorBytes: bytes.length });
    return { name: 'HardwareError', bSlot: bytes[1]!, bSeq: bytes[2]!, bHardwareErrorCode: bytes[3]! };
  }
  throw notA('interrupt', bytes[0]!);
}

/** bmCommandStatus: 0 ok, 1 failed, 2 time extension requested. */
export function commandStatus(bStatus: number): number {
  return (bStatus >> 6) & 0x03;
}

/** bmICCStatus: 0 active, 1 present and inactive, 2 absent. */
export function iccStatus(bStatus: number): number {
  return bStatus & 0x03;
}

/**
 * The failed commands' errors by bError (CCID 1.10 table 6.2-2, the values of CCID_ERROR, each
 * code its name: messages.test.ts checks the two agree).
 */
const ERROR_CODES: Record<number, string> = {
  0xff: 'ccid/cmd-aborted',
  0xfe: 'ccid/icc-mute',
  0xfd: 'ccid/xfr-parity-error',
  0xfc: 'ccid/xfr-overrun',
  0xfb: 'ccid/hw-error',
  0xf8: 'ccid/bad-atr-ts',
  0xf7: 'ccid/bad-atr-tck',
  0xf6: 'ccid/icc-protocol-not-supported',
  0xf5: 'ccid/icc-class-not-supported',
  0xf4: 'ccid/procedure-byte-conflict',
  0xf3: 'ccid/deactivated-protocol',
  0xf2: 'ccid/busy-with-auto-sequence',
  0xf0: 'ccid/pin-timeout',
  0xef: 'ccid/pin-cancelled',
  0xe0: 'ccid/cmd-slot-busy',
  0x00: 'ccid/command-not-supported',
};

/** The typed error for a failed command's bStatus / bError (CCID 1.10 table 6.2-2). */
export function slotErrorFrom(bStatus: number, bError: number): SlotError {
  const icc = iccStatus(bStatus);
  if (icc === ICC_STATUS_ABSENT) {
    return new SlotError('ccid/card-absent', {}, bStatus, bError);
  }
  const known = ERROR_CODES[bError];
  if (known) return new SlotError(known, {}, bStatus, bError);
  if (bError >= 0x01 && bError <= 0x7f) {
    return new SlotError('ccid/bad-parameter', { offset: bError }, bStatus, bError);
  }
  return new SlotError(
    'ccid/slot-error',
    { bError: hex(bError), range: bError >= 0x81 && bError <= 0xc0 ? 'vendor-defined' : 'reserved' },
    bStatus,
    bError,
  );
}
