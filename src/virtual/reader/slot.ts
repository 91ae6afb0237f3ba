/**
 * A slot of the virtual reader: its state (card, power, the protocol and rate
 * on each side of the card's wire, the command in flight), its status bits,
 * and the card's wire time (characters at the rate in force, block waiting
 * time when the card stays mute, card processing time).
 *
 * The slot-level modules (parameters.ts, exchange.ts, secure.ts, abort.ts)
 * are functions over a `SlotState` and the `ReaderContext` of their reader.
 */
import type { CcidClassDescriptorInit, CcidExchangeLevel } from '../../ccid/descriptor.js';
import { CCID_ERROR, type CcidCommand } from '../../ccid/messages.js';
import type { Atr } from '../../iso7816/atr.js';
import type { ProtocolParams } from '../../iso7816/params.js';
import { DI_TABLE, FI_TABLE } from '../../iso7816/rates.js';
import type { T1Host } from '../../iso7816/t1.js';
import type { T1Card } from '../../iso7816/t1-card.js';
import { t1BlockWaitingTime, wireTimeSeconds } from '../../iso7816/timing.js';
import type { VirtualCard } from '../card.js';
import type { T0CardEngine } from '../t0-card.js';
import type { VirtualReaderQuirks } from '../presets.js';
import type { ReaderCounters, VirtualReaderOptions } from './options.js';

/** Fi and Di as indices of ISO 7816-3 tables 7 and 8. */
export interface Rate {
  fiIndex: number;
  diIndex: number;
}

export interface SlotState {
  index: number;
  card: VirtualCard | null;
  lastCard: VirtualCard | null;
  powered: boolean;
  atr?: Atr;
  /** Reader side: protocol and parameters in force. */
  params?: ProtocolParams;
  readerRate: Rate;
  /** Card side: the protocol it runs and its rate. */
  cardProtocol: 0 | 1;
  cardRate: Rate;
  ppsAllowed: boolean;
  clockKHz: number;
  dataRate: number;
  clockStopped: boolean;
  t1?: T1Card;
  t0?: T0CardEngine;
  t1Host?: T1Host;
  busy: boolean;
  inFlight?: { cmd: CcidCommand; aborted: boolean };
  muted?: { cmd: CcidCommand; answerOnAbort: boolean };
  abort?: { bSeq: number; control: boolean; bulk?: CcidCommand };
  changed: boolean;
  xfrChain?: Uint8Array[];
  responseRest?: Uint8Array;
  classGetResponse: number;
  classEnvelope: number;
  lastAnswer?: Uint8Array;
  /** card-mute fault on a T=0 card: the next TPDU goes unanswered. */
  cardMuteNext?: boolean;
}

/** What a command's RDR_to_PC answer says (frames.ts encodes it). */
export interface Answer {
  status?: 0 | 1 | 2;
  error?: number;
  data?: Uint8Array;
  chain?: number;
  clockStatus?: number;
  protocolNum?: number;
  clockKHz?: number;
  rate?: number;
}

/**
 * What the slot-level modules need from their reader. The reader builds one;
 * `strict`, `processingMs`, `onSecure` and `onEscape` are read live (they may be changed
 * on the reader between commands).
 */
export interface ReaderContext {
  readonly descriptor: CcidClassDescriptorInit;
  readonly exchangeLevel: CcidExchangeLevel;
  readonly clockFrequencies: readonly number[];
  readonly dataRates: readonly number[];
  readonly strict: boolean;
  readonly processingMs: number;
  readonly onSecure: VirtualReaderOptions['onSecure'];
  readonly onEscape: VirtualReaderOptions['onEscape'];
  readonly quirks: VirtualReaderQuirks;
  readonly counters: ReaderCounters;
  /** Waits modelled seconds (scaled by the reader's `timeScale`). */
  sleep(seconds: number): Promise<void>;
  /** Queues the RDR_to_PC answer to `cmd` on bulk-IN. */
  answer(cmd: CcidCommand, slot: SlotState, a: Answer): void;
}

export const EMPTY = new Uint8Array(0);

/** A slot as the reader starts it: unpowered, default rate, clock and data rate. */
export function newSlotState(index: number, card: VirtualCard | null, descriptor: CcidClassDescriptorInit): SlotState {
  return {
    index,
    card,
    lastCard: card,
    powered: false,
    readerRate: { fiIndex: 1, diIndex: 1 },
    cardProtocol: 0,
    cardRate: { fiIndex: 1, diIndex: 1 },
    ppsAllowed: false,
    clockKHz: descriptor.dwDefaultClock,
    dataRate: descriptor.dwDataRate,
    clockStopped: false,
    busy: false,
    changed: card !== null,
    classGetResponse: descriptor.bClassGetResponse,
    classEnvelope: descriptor.bClassEnvelope,
  };
}

/** Forgets the card's session (power off, card in or out). */
export function resetCardState(s: SlotState, descriptor: CcidClassDescriptorInit): void {
  s.powered = false;
  s.atr = undefined;
  s.params = undefined;
  s.t1 = undefined;
  s.t0 = undefined;
  s.t1Host = undefined;
  s.readerRate = { fiIndex: 1, diIndex: 1 };
  s.cardRate = { fiIndex: 1, diIndex: 1 };
  s.cardProtocol = 0;
  s.ppsAllowed = false;
  s.xfrChain = undefined;
  s.responseRest = undefined;
  s.clockKHz = descriptor.dwDefaultClock;
  s.dataRate = descriptor.dwDataRate;
}

/** bmICCStatus: 0 present and active, 1 present and inactive, 2 no card. */
export function iccStatus(s: SlotState): 0 | 1 | 2 {
  if (!s.card) return 2;
  return s.powered ? 0 : 1;
}

/** bClockStatus of a SlotStatus. */
export function clockStatus(s: SlotState): number {
  if (!s.card || !s.powered) return 0;
  return s.clockStopped ? 1 : 0;
}

// ---- the card's wire ----------------------------------------------------------------

/** Card wire time for `bytes` characters at a rate (default: the card's current one). */
export async function wire(reader: ReaderContext, slot: SlotState, bytes: number, rate?: Rate): Promise<void> {
  const r = rate ?? slot.cardRate;
  const fi = FI_TABLE[r.fiIndex] ?? 372;
  const di = DI_TABLE[r.diIndex] ?? 1;
  const seconds = wireTimeSeconds({
    bytes,
    fi,
    di,
    fHz: slot.clockKHz * 1000,
    guardEtu: slot.atr?.extraGuardTime ?? 0,
    protocol: slot.cardProtocol,
  });
  reader.counters.wireBytes += bytes;
  reader.counters.wireSeconds += seconds;
  await reader.sleep(seconds);
}

/** The reader waits the card's block waiting time, then reports it mute. */
export async function muteWait(reader: ReaderContext, slot: SlotState): Promise<Answer> {
  const r = slot.cardRate;
  const seconds = t1BlockWaitingTime({
    bwi: slot.atr?.bwi ?? 4,
    fi: FI_TABLE[r.fiIndex] ?? 372,
    di: DI_TABLE[r.diIndex] ?? 1,
    fHz: slot.clockKHz * 1000,
  });
  await reader.sleep(seconds);
  return { status: 1, error: CCID_ERROR.ICC_MUTE };
}

/** An APDU to the card, counted. */
export function cardTransmit(reader: ReaderContext, card: VirtualCard, apdu: Uint8Array): Uint8Array {
  reader.counters.apdus++;
  return card.transmit(apdu);
}

/** The card's processing time for one command (`processingMs`). */
export async function processing(reader: ReaderContext): Promise<void> {
  const s = reader.processingMs / 1000;
  if (s <= 0) return;
  reader.counters.processingSeconds += s;
  await reader.sleep(s);
}

