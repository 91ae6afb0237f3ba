/**
 * Abort (CCID 1.10 §5.3.1): the ABORT class request on the control pipe
 * (wValue = bSeq << 8 | bSlot) and PC_to_RDR_Abort with the same bSeq on
 * bulk-OUT, in either order. The command in progress (or muted) on the slot
 * is answered CMD_ABORTED, other commands to the slot meanwhile get
 * CMD_ABORTED (reader.ts), and the Abort is answered with a SlotStatus once
 * both halves arrived.
 */
import { CCID_ERROR, type CcidCommand } from '../../ccid/messages.js';
import { clockStatus, type ReaderContext, type SlotState } from './slot.js';

/** The control-pipe half. */
export function abortControl(reader: ReaderContext, slot: SlotState, bSeq: number): void {
  const bulk = slot.abort?.bulk;
  slot.abort = { bSeq, control: true, ...(bulk ? { bulk } : {}) };
  if (slot.inFlight) slot.inFlight.aborted = true;
  const muted = slot.muted;
  if (muted) {
    slot.muted = undefined;
    slot.busy = false;
    if (muted.answerOnAbort) reader.answer(muted.cmd, slot, { status: 1, error: CCID_ERROR.CMD_ABORTED });
  }
  if (bulk && bulk.bSeq === bSeq) finishAbort(reader, slot, bulk);
}

/** The bulk half (PC_to_RDR_Abort). */
export function abortBulk(reader: ReaderContext, slot: SlotState, cmd: CcidCommand): void {
  if (slot.abort?.control && slot.abort.bSeq === cmd.bSeq) {
    finishAbort(reader, slot, cmd);
    return;
  }
  slot.abort = { bSeq: cmd.bSeq, control: false, bulk: cmd };
}

/** Both halves arrived: the SlotStatus answer to the Abort. */
function finishAbort(reader: ReaderContext, slot: SlotState, cmd: CcidCommand): void {
  slot.abort = undefined;
  slot.xfrChain = undefined;
  slot.responseRest = undefined;
  reader.answer(cmd, slot, { clockStatus: clockStatus(slot) });
}

