/**
 * RDR_to_PC frames (CCID 1.10 §6.2): the answer to a command from what the
 * slot-level code decided (`Answer`), with bStatus built from the slot.
 */
import {
  CCID_HEADER_LENGTH,
  RDR_to_PC_DataRateAndClockFrequency,
  RDR_to_PC_SlotStatus,
  RESPONSE_FOR,
  type CcidCommand,
  type CcidCommandName,
  type CcidResponse,
} from '../../ccid/messages.js';
import { encodeResponse } from '../../ccid/messages-device.js';
import { encodeProtocolParams } from '../../iso7816/params.js';
import { clockStatus, EMPTY, iccStatus, type Answer, type SlotState } from './slot.js';

/** A SlotStatus frame written byte by byte (also for messages the reader could not decode). */
export function rawSlotStatus(bSlot: number, bSeq: number, bStatus: number, bError: number): Uint8Array {
  const out = new Uint8Array(CCID_HEADER_LENGTH);
  out[0] = RDR_to_PC_SlotStatus;
  out[5] = bSlot;
  out[6] = bSeq;
  out[7] = bStatus;
  out[8] = bError;
  return out;
}

/** The answer frame for a command. */
export function frame(cmd: CcidCommand, slot: SlotState | undefined, a: Answer, icc?: 0 | 1 | 2): Uint8Array {
  const name = RESPONSE_FOR[cmd.name as CcidCommandName];
  const bmIccStatus = icc ?? (slot ? iccStatus(slot) : 2);
  const bStatus = ((a.status ?? 0) << 6) | bmIccStatus;
  const bError = a.error ?? 0;
  const base = { bSlot: cmd.bSlot, bSeq: cmd.bSeq, bStatus, bError, abData: a.status ? EMPTY : (a.data ?? EMPTY) };
  let r: CcidResponse;
  switch (name) {
    case 'DataBlock':
      r = { name, ...base, bChainParameter: a.chain ?? 0 };
      break;
    case 'SlotStatus':
      r = { name, ...base, bClockStatus: a.clockStatus ?? (slot ? clockStatus(slot) : 0) };
      break;
    case 'Parameters': {
      const p = slot?.params;
      const ok = !a.status;
      r = {
        name,
        ...base,
        bProtocolNum: a.protocolNum ?? p?.protocol ?? 0,
        abData: ok ? (a.data ?? (p ? encodeProtocolParams(p) : EMPTY)) : EMPTY,
      };
      break;
    }
    case 'Escape':
      r = { name, ...base };
      break;
    case 'DataRateAndClockFrequency':
      if (a.status) {
        // A failed answer carries no data (encodeResponse would write the 8 bytes).
        const out = rawSlotStatus(cmd.bSlot, cmd.bSeq, bStatus, bError);
        out[0] = RDR_to_PC_DataRateAndClockFrequency;
        return out;
      }
      r = { name, ...base, dwClockFrequency: a.clockKHz ?? slot?.clockKHz ?? 0, dwDataRate: a.rate ?? slot?.dataRate ?? 0 };
      break;
  }
  return encodeResponse(r);
}
