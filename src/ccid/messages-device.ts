/**
 * The reader's side of the CCID messages (CCID 1.10 §6): decodes what the host sends (PC_to_RDR)
 * and encodes what the reader answers (RDR_to_PC, bulk-in and interrupt-in). Used by the virtual
 * reader and to read a recorded exchange (the driver console); the driver itself only needs the
 * host's side (messages.ts). Both are in the public `ccidMessages` namespace (ccid-messages.ts).
 */
import { CcidError } from '../errors.js';
import { readU32LE } from '../bytes.js';
import { CCID_HEADER_LENGTH, checkField, checkFrame, dataRateAndClock, frame, need8, notA } from './message-frame.js';
import {
  COMMANDS,
  RDR_to_PC_DataBlock,
  RDR_to_PC_DataRateAndClockFrequency,
  RDR_to_PC_Escape,
  RDR_to_PC_HardwareError,
  RDR_to_PC_NotifySlotChange,
  RDR_to_PC_Parameters,
  RDR_to_PC_SlotStatus,
  type CcidCommand,
  type CcidNotification,
  type CcidResponse,
  type CcidResponseName,
} from './messages.js';

/**
 * Each RDR_to_PC bulk-in message (CCID 1.10 §6.2): its bMessageType and the field in header
 * byte 9 (bytes 7 and 8 are bStatus and bError in every one).
 */
const RESPONSES: Record<CcidResponseName, readonly [type: number, field?: string]> = {
  DataBlock: [RDR_to_PC_DataBlock, 'bChainParameter'],
  SlotStatus: [RDR_to_PC_SlotStatus, 'bClockStatus'],
  Parameters: [RDR_to_PC_Parameters, 'bProtocolNum'],
  Escape: [RDR_to_PC_Escape],
  DataRateAndClockFrequency: [RDR_to_PC_DataRateAndClockFrequency],
};

function invert<K extends string>(table: Record<K, readonly [number, ...unknown[]]>): Map<number, K> {
  const m = new Map<number, K>();
  for (const k of Object.keys(table) as K[]) m.set(table[k][0], k);
  return m;
}

const COMMAND_NAMES = /* @__PURE__ */ invert(COMMANDS);

/** Decodes a PC_to_RDR message (used by the virtual reader). */
export function decodeCommand(bytes: Uint8Array): CcidCommand {
  checkFrame(bytes);
  const name = COMMAND_NAMES.get(bytes[0]!);
  if (name === undefined) throw notA('PC_to_RDR', bytes[0]!);
  const data = bytes.subarray(CCID_HEADER_LENGTH);
  const out: Record<string, unknown> = { name, bSlot: bytes[5], bSeq: bytes[6], abData: data };
  let i = 7;
  for (const field of COMMANDS[name].slice(2) as string[]) {
    out[field] = field[0] === 'w' ? bytes[i++]! | (bytes[i++]! << 8) : bytes[i++];
  }
  if (name === 'SetDataRateAndClockFrequency') {
    need8(name, data);
    out['dwClockFrequency'] = readU32LE(data, 0);
    out['dwDataRate'] = readU32LE(data, 4);
  }
  return out as unknown as CcidCommand;
}

/** Encodes a RDR_to_PC bulk-in message (used by the virtual reader). */
export function encodeResponse(r: CcidResponse): Uint8Array {
  const [type, field] = RESPONSES[r.name];
  checkField('bStatus', r.bStatus);
  checkField('bError', r.bError);
  const b9 = field === undefined ? 0 : (r as unknown as Record<string, number>)[field]!;
  if (field !== undefined) checkField(field, b9);
  const data = r.name === 'DataRateAndClockFrequency' ? dataRateAndClock(r.dwClockFrequency, r.dwDataRate) : r.abData;
  return frame(type, r.bSlot, r.bSeq, r.bStatus, r.bError, b9, data);
}

/** Reads the header fields a dispatcher needs without decoding the rest. */
export function peekHeader(bytes: Uint8Array): { bMessageType: number; dwLength: number; bSlot: number; bSeq: number } {
  if (bytes.length < CCID_HEADER_LENGTH) {
    throw new CcidError('ccid/malformed-frame', { length: bytes.length });
  }
  return { bMessageType: bytes[0]!, dwLength: readU32LE(bytes, 1), bSlot: bytes[5]!, bSeq: bytes[6]! };
}

/** Encodes an interrupt-in message (used by the virtual reader). */
export function encodeNotification(n: CcidNotification): Uint8Array {
  if (n.name === 'HardwareError') {
    checkField('bSlot', n.bSlot);
    checkField('bSeq', n.bSeq);
    checkField('bHardwareErrorCode', n.bHardwareErrorCode);
    return Uint8Array.of(RDR_to_PC_HardwareError, n.bSlot, n.bSeq, n.bHardwareErrorCode);
  }
  if (n.slots.length === 0) throw new CcidError('ccid/bad-field', { slots: 0 });
  const out = new Uint8Array(1 + Math.ceil(n.slots.length / 4));
  out[0] = RDR_to_PC_NotifySlotChange;
  n.slots.forEach((s, i) => {
    const bits = (s.present ? 1 : 0) | (s.changed ? 2 : 0);
    out[1 + (i >> 2)]! |= bits << ((i & 3) * 2);
  });
  return out;
}
