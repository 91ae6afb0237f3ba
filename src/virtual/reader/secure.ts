/**
 * PC_to_RDR_Secure (CCID 1.10 §6.1.11): secure PIN entry. The reader has no
 * keypad of its own; the `onSecure` hook (e.g. `createVirtualPinpad`) plays
 * the user and builds the APDU, and gets a `transmit` to the card in the slot.
 */
import { CCID_ERROR } from '../../ccid/messages.js';
import { decodeSecurePinData } from '../../ccid/secure-device.js';
import { decodeT1Block, encodeT1Block } from '../../iso7816/t1-block.js';
import { cardTransmit, muteWait, type Answer, type ReaderContext, type SlotState } from './slot.js';

/** Secure: bPINSupport 0 answers "not supported"; without a hook the user cancels (bError 0xEF). */
export async function secure(reader: ReaderContext, slot: SlotState, bBWI: number, wLevelParameter: number, abData: Uint8Array): Promise<Answer> {
  if (reader.descriptor.bPINSupport === 0) return { status: 1, error: CCID_ERROR.CMD_NOT_SUPPORTED };
  const card = slot.card;
  if (!card || !slot.powered) return { status: 1, error: CCID_ERROR.ICC_MUTE };
  const hook = reader.onSecure;
  if (!hook) return { status: 1, error: CCID_ERROR.PIN_CANCELLED };
  // TPDU level with T=1: the reader wraps the APDU in the I-block whose prologue
  // (NAD PCB) the host gave in bTeoPrologue, and answers the card's block as is.
  const t1Card = reader.exchangeLevel === 'tpdu' && slot.cardProtocol === 1 ? slot.t1 : undefined;
  let rawBlock: Uint8Array | null | undefined;
  const transmit = (apdu: Uint8Array): Uint8Array => {
    if (!t1Card) return cardTransmit(reader, card, apdu);
    const edc = slot.atr?.edc ?? 'lrc';
    let prologue = Uint8Array.of(0, 0, 0);
    try {
      prologue = decodeSecurePinData(abData).bTeoPrologue.slice();
    } catch {
      // The hook decides about bad structures; an undecodable one gets the default prologue.
    }
    const pcb = prologue[1]!;
    const block = encodeT1Block({ kind: 'I', nad: prologue[0]!, ns: ((pcb >> 6) & 1) as 0 | 1, more: false, inf: apdu }, edc);
    rawBlock = t1Card.receive(block);
    block.fill(0);
    if (!rawBlock) return new Uint8Array(0);
    try {
      const answer = decodeT1Block(rawBlock, edc);
      if (answer.kind === 'I' && !answer.more) return answer.inf.slice();
    } catch {
      // garbled: the host's T=1 engine sees the raw block
    }
    return new Uint8Array(0);
  };
  const outcome = await hook({ slot: slot.index, bBWI, wLevelParameter, abData: abData.slice(), transmit });
  if ('error' in outcome) {
    if (outcome.error === 'bad-parameter') return { status: 1, error: Math.min(0x7f, Math.max(1, outcome.offset)) };
    return { status: 1, error: outcome.error === 'timeout' ? CCID_ERROR.PIN_TIMEOUT : CCID_ERROR.PIN_CANCELLED };
  }
  if (t1Card && rawBlock !== undefined) {
    if (rawBlock === null) return muteWait(reader, slot);
    return { data: rawBlock, chain: 0 };
  }
  return { data: outcome.response, chain: 0 };
}
