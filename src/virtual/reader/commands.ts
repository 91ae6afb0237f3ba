/**
 * What each PC_to_RDR message does to a slot (CCID 1.10 §6.1), once the
 * reader (reader.ts) has checked the slot, busy state, abort and faults.
 */
import { concatBytes } from '../../bytes.js';
import { CCID_ERROR, type CcidCommand } from '../../ccid/messages.js';
import { xfrBlock, type ExtendTime } from './exchange.js';
import { parametersAnswer, powerOn, setDataRateAndClock, setDefaultParams, setParameters } from './parameters.js';
import { secure } from './secure.js';
import { clockStatus, resetCardState, type Answer, type ReaderContext, type SlotState } from './slot.js';

/** The answer to one command (`wtx`: a WTX the card is made to request; `extend`: sends a time extension). */
export async function executeCommand(
  reader: ReaderContext,
  slot: SlotState,
  cmd: CcidCommand,
  wtx: number | undefined,
  extend: ExtendTime,
): Promise<Answer> {
  const absent = { status: 1 as const, error: CCID_ERROR.ICC_MUTE };
  switch (cmd.name) {
    case 'IccPowerOn': {
      const on = await powerOn(reader, slot, cmd.bPowerSelect);
      if (!reader.quirks.atrLeadingZero || on.status || !on.data) return on;
      return { ...on, data: concatBytes(Uint8Array.of(0x00), on.data) };
    }
    case 'IccPowerOff':
      resetCardState(slot, reader.descriptor);
      return { clockStatus: 0 };
    case 'GetSlotStatus':
      return { clockStatus: clockStatus(slot) };
    case 'XfrBlock': {
      if (!slot.card || !slot.powered) return absent;
      return xfrBlock(reader, slot, cmd.abData, cmd.wLevelParameter, wtx, extend);
    }
    case 'GetParameters':
      if (!slot.card) return absent;
      return parametersAnswer(slot);
    case 'ResetParameters':
      if (!slot.card) return absent;
      setDefaultParams(reader, slot, false);
      return parametersAnswer(slot);
    case 'SetParameters':
      if (!slot.card) return absent;
      return setParameters(reader, slot, cmd.bProtocolNum, cmd.abData);
    case 'Escape': {
      const out = reader.onEscape?.(cmd.abData, slot.index);
      return out === undefined ? { status: 1, error: CCID_ERROR.CMD_NOT_SUPPORTED } : { data: out };
    }
    case 'IccClock':
      if (cmd.bClockCommand > 1) return { status: 1, error: 7 };
      if (!slot.card) return absent;
      slot.clockStopped = cmd.bClockCommand === 1;
      return { clockStatus: clockStatus(slot) };
    case 'T0APDU':
      if (reader.exchangeLevel === 'tpdu' || reader.exchangeLevel === 'character') return { status: 1, error: CCID_ERROR.CMD_NOT_SUPPORTED };
      if (cmd.bmChanges & 0x01) slot.classGetResponse = cmd.bClassGetResponse;
      if (cmd.bmChanges & 0x02) slot.classEnvelope = cmd.bClassEnvelope;
      return { clockStatus: clockStatus(slot) };
    case 'Secure':
      return secure(reader, slot, cmd.bBWI, cmd.wLevelParameter, cmd.abData);
    case 'Mechanical':
      return { status: 1, error: CCID_ERROR.CMD_NOT_SUPPORTED };
    case 'SetDataRateAndClockFrequency':
      return setDataRateAndClock(reader, slot, cmd.dwClockFrequency, cmd.dwDataRate);
    case 'Abort':
      return { clockStatus: 0 };
  }
}
