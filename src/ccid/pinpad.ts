/**
 * PIN entry on the reader's keypad (PC_to_RDR_Secure, CCID rev 1.10 §6.1.11)
 * for a connection: the structures of secure.ts, the TPDU-level T=1 prologue,
 * the pinpad's own PC/SC part 10 statuses, and the card's T=1 answer.
 *
 * Loaded by `CcidConnection` with a dynamic import when a pinpad is first
 * used, so applications that never use one do not ship it at start. It sees
 * the connection only through `PinpadHost` (no import of connection.ts).
 */
import { CcidError, ProtocolError, SlotError } from '../errors.js';
import type { SecurePinModifyRequest, SecurePinVerifyRequest } from '../card/channel.js';
import type { T1Action, T1Host } from '../iso7816/t1.js';
import type { TpduLink } from './tpdu-link.js';
import { CCID_ERROR, ICC_STATUS_ABSENT, type CcidResponse } from './messages.js';
import type { CcidRequest } from './transport.js';
import { buildPinModify, buildPinVerify, encodePinModify, encodePinVerify, PINPAD_SW } from './secure.js';

export type PinpadOperation = { kind: 'verify'; request: SecurePinVerifyRequest } | { kind: 'modify'; request: SecurePinModifyRequest };

/** What the pinpad exchange needs of its connection (the caller holds the slot's lock). */
export interface PinpadHost {
  slot: number;
  pinpad: { verify: boolean; modify: boolean } | undefined;
  /** The connection's T=0 / T=1 host at TPDU level (its T=1 engine, resynchronisation, blocks), else undefined. */
  link: TpduLink | undefined;
  /** The caller's signal, for the T=1 blocks exchanged through `link`. */
  signal: AbortSignal | undefined;
  /** Throws when the connection cannot be used (closed, card removed). */
  checkUsable(): void;
  /** The card left the slot. */
  markRemoved(): void;
  apduSeconds(commandLength: number, maxResponse: number): number;
  command(request: CcidRequest, cardSeconds: number): Promise<CcidResponse>;
}

/** One PIN verification or modification on the keypad; resolves with the card's answer (data + SW1 SW2). */
export async function securePinExchange(host: PinpadHost, op: PinpadOperation): Promise<Uint8Array> {
  host.checkUsable();
  if (!host.pinpad?.[op.kind]) {
    throw new CcidError('ccid/pinpad-unsupported', { operation: op.kind === 'verify' ? 'verification' : 'modification' });
  }
  let template: Uint8Array;
  let bTimeOut: number;
  let encode: (bTeoPrologue: Uint8Array) => Uint8Array;
  if (op.kind === 'verify') {
    const s = buildPinVerify(op.request);
    [template, bTimeOut] = [s.abPINApdu, s.bTimeOut];
    encode = (bTeoPrologue) => encodePinVerify({ ...s, bTeoPrologue });
  } else {
    const s = buildPinModify(op.request);
    [template, bTimeOut] = [s.abPINApdu, s.bTimeOut];
    encode = (bTeoPrologue) => encodePinModify({ ...s, bTeoPrologue });
  }
  // TPDU-level T=1: the reader builds the I-block from our prologue and answers the card's block.
  const link = host.link!; // used only with t1, which only a link has
  const t1 = host.link?.t1;
  let prologue = new Uint8Array(3);
  if (t1) {
    // Resynchronise first when an earlier failure left the T=1 link unsure.
    await link.resynchIfNeeded(host.signal);
    if (template.length > t1.ifsc) {
      throw new ProtocolError('protocol/apdu-too-long', { pinCommandLength: template.length, ifsc: t1.ifsc });
    }
    const first = t1.transmit(template);
    if (first.kind !== 'send') throw new ProtocolError('protocol/t1-unrecoverable', { t1Action: first.kind });
    prologue = first.block.slice(0, 3);
  }
  const abData = encode(prologue);
  const entries = op.kind === 'verify' ? 1 : op.request.confirm ? 3 : 2;
  const perEntry = bTimeOut === 0 ? 90 : bTimeOut;
  const cardSeconds = entries * perEntry + host.apduSeconds(template.length, 2);
  let r: CcidResponse;
  try {
    r = await host.command({ name: 'Secure', bSlot: host.slot, bBWI: 0, wLevelParameter: 0, abData }, cardSeconds);
  } catch (e) {
    if (e instanceof SlotError && e.iccStatus === ICC_STATUS_ABSENT) host.markRemoved();
    // A reader failure other than a user event may have left the card mid-block.
    if (t1 && !(e instanceof SlotError && (e.code === 'ccid/pin-cancelled' || e.code === 'ccid/pin-timeout'))) link.needResynch();
    throw e;
  }
  const answer = r.abData.slice();
  if (answer.length === 2) checkPinpadStatus(r, ((answer[0]! << 8) | answer[1]!) >>> 0);
  if (!t1) return answer;
  return finishSecureT1(link, t1, answer, host.signal);
}

/** The PC/SC part 10 statuses a pinpad reader answers itself (the card saw nothing). */
function checkPinpadStatus(r: CcidResponse, sw: number): void {
  switch (sw) {
    case PINPAD_SW.TIMEOUT:
      throw new SlotError('ccid/pin-timeout', {}, r.bStatus, CCID_ERROR.PIN_TIMEOUT);
    case PINPAD_SW.CANCELLED:
      throw new SlotError('ccid/pin-cancelled', {}, r.bStatus, CCID_ERROR.PIN_CANCELLED);
    case PINPAD_SW.NEW_PIN_MISMATCH:
      throw new CcidError('ccid/pin-mismatch', {});
    case PINPAD_SW.PIN_LENGTH:
      throw new CcidError('ccid/pin-length', {});
  }
}

/**
 * The Secure answer of a TPDU-level T=1 reader is the card's first block.
 * The T=1 engine takes it (WTX, chained answers and R-blocks continue
 * through XfrBlock); it must never send our I-block again, since the
 * reader's copy held the PIN and ours only the pad: resynchronise instead.
 */
async function finishSecureT1(link: TpduLink, t1: T1Host, block: Uint8Array, signal: AbortSignal | undefined): Promise<Uint8Array> {
  let answer: Uint8Array | null = block;
  for (;;) {
    let action: T1Action;
    try {
      action = t1.receive(answer);
    } catch (e) {
      link.needResynch();
      throw e;
    }
    if (action.kind === 'done') return action.response;
    if ((action.block[1]! & 0x80) === 0) {
      link.needResynch();
      throw new ProtocolError('protocol/t1-unrecoverable', { pcb: action.block[1]! });
    }
    try {
      answer = await link.sendT1Block(action, signal);
    } catch (e) {
      link.needResynch();
      throw e;
    }
  }
}
