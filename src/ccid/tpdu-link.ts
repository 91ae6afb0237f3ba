/**
 * The host side of the card protocol for a TPDU-level reader (CCID rev 1.10 §5.1, dwFeatures
 * 0x00010000; §6.1.4): the reader passes each TPDU or T=1 block between us and the card, and we run
 * T=1 (our `T1Host`: chaining, IFSC / IFSD, WTX, R-block recovery, S(RESYNCH)) or T=0 (our
 * `T0Host`: 61xx GET RESPONSE, 6Cxx resend) ourselves, one PC_to_RDR_XfrBlock per block or TPDU,
 * and we send the PPS, unless the reader negotiates the rate itself (activation.ts, `HostPps`).
 *
 * Loaded by `CcidConnection` with a dynamic import when it connects to a TPDU-level reader, before
 * the first command: a short or extended APDU-level reader runs T=0 / T=1 itself and never loads
 * it. It sees the connection only through `TpduXfr` (no import of connection.ts).
 */
import { AbortError, ProtocolError, SlotError, TransportError } from '../errors.js';
import type { Atr } from '../iso7816/atr.js';
import type { ChosenRate } from '../iso7816/rates.js';
import { checkPpsResponse, encodePpsRequest } from '../iso7816/pps.js';
import { T1Host, type T1Action } from '../iso7816/t1.js';
import { T0Host } from '../iso7816/t0.js';
import type { CardProtocol } from '../card/channel.js';
import type { CcidClassDescriptor } from './descriptor.js';
import type { CcidResponse } from './messages.js';
import type { SlotPort } from './slot-port.js';

/**
 * Waiting time a T=1 card may ask for by S(WTX) in one exchange. No standard
 * bounds it; 5 minutes is far beyond any on-card operation (an RSA-2048 key
 * generation takes well under 2 minutes) and ends a card that asks forever.
 */
const MAX_WTX_SECONDS = 300;

/**
 * What the link needs of its connection: PC_to_RDR_XfrBlock (wLevelParameter 0) carrying
 * `abData`, with `cardSeconds` of card-side time (the caller holds the slot's lock).
 */
export type TpduXfr = (abData: Uint8Array, cardSeconds: number, signal: AbortSignal | undefined) => Promise<CcidResponse>;

/** The card's timing at the negotiated rate, as the connection computed it. */
export interface TpduTiming {
  /** T=1 block waiting time (s). */
  bwt: number;
  /** T=0: what one exchange may take on the card's side (two work waiting times, s). */
  t0Wait: number;
  /** Wire time of one character in the connection's protocol (s). */
  byteSeconds: number;
}

/**
 * Our PPS exchange (ISO/IEC 7816-3 §9) in an XfrBlock, for activation.ts (`HostPps`): selects
 * protocol `t` and, when given, the rate. Resolves true when the card took the rate, false when
 * it accepted the protocol but kept the default rate (PPS1 left out of its answer); throws
 * ProtocolError 'protocol/pps-failed' when it refused.
 */
export async function exchangePps(
  port: SlotPort,
  slot: number,
  t: 0 | 1,
  rate: ChosenRate | undefined,
  options: { timeoutMs: number; signal: AbortSignal | undefined },
): Promise<boolean> {
  const request = encodePpsRequest({ protocol: t, fiIndex: rate?.fiIndex, diIndex: rate?.diIndex });
  const r = await port.command({ name: 'XfrBlock', bSlot: slot, bBWI: 0, wLevelParameter: 0, abData: request }, options);
  const verdict = checkPpsResponse(request, r.abData);
  if (!verdict.accepted) {
    throw rate
      ? new ProtocolError('protocol/pps-failed', { protocol: t, fi: rate.fi, di: rate.di })
      : new ProtocolError('protocol/pps-failed', { protocol: t });
  }
  return rate !== undefined && verdict.fiIndex === rate.fiIndex && verdict.diIndex === rate.diIndex;
}

/**
 * The host of a connection at TPDU level: T=1 (one block per XfrBlock; after an exchange that
 * failed midway, S(RESYNCH) first) or T=0 (one TPDU per XfrBlock).
 */
export class TpduLink {
  /** The T=1 engine (IFSC, IFSD, sequence numbers), with T=1 only; the pinpad's Secure uses it. */
  readonly t1: T1Host | undefined;
  #t1NeedsResynch = false;
  readonly #xfr: TpduXfr;
  readonly #timing: TpduTiming;

  private constructor(xfr: TpduXfr, atr: Atr, protocol: CardProtocol, timing: TpduTiming) {
    this.#xfr = xfr;
    this.#timing = timing;
    if (protocol === 't1') {
      this.t1 = new T1Host({
        ifsc: atr.ifsc ?? 32,
        ifsd: 32,
        edc: atr.edc ?? 'lrc',
        maxWtxBwt: Math.max(1, Math.floor(MAX_WTX_SECONDS / timing.bwt)),
      });
    }
  }

  /**
   * The link for the protocol activation chose. For T=1, S(IFS request) for the reader's
   * dwMaxIFSD (at most 254) unless the reader negotiates IFSD itself: a card that refuses keeps
   * IFSD 32 (its default); a USB failure or an abort ends the connect.
   */
  static async open(xfr: TpduXfr, d: CcidClassDescriptor, atr: Atr, protocol: CardProtocol, timing: TpduTiming, signal: AbortSignal | undefined): Promise<TpduLink> {
    const link = new TpduLink(xfr, atr, protocol, timing);
    const wanted = Math.min(254, d.dwMaxIFSD || 254);
    if (link.t1 && !d.features.autoIfsd && wanted !== 32) {
      try {
        await link.#runT1(link.t1.negotiateIfsd(wanted), signal);
      } catch (e) {
        if (e instanceof TransportError || e instanceof AbortError) throw e;
      }
    }
    return link;
  }

  transmit(apdu: Uint8Array, signal: AbortSignal | undefined): Promise<Uint8Array> {
    return this.t1 ? this.#transmitT1(apdu, signal) : this.#transmitT0(apdu, signal);
  }

  // ---- T=1 ------------------------------------------------------------

  async #transmitT1(apdu: Uint8Array, signal: AbortSignal | undefined): Promise<Uint8Array> {
    await this.resynchIfNeeded(signal);
    try {
      return await this.#runT1(this.t1!.transmit(apdu), signal);
    } catch (e) {
      // After a transport or reader error the card may be mid-chain: resynchronise first next time.
      this.#t1NeedsResynch = true;
      throw e;
    }
  }

  /** S(RESYNCH) when an exchange failed midway since the last one. */
  async resynchIfNeeded(signal: AbortSignal | undefined): Promise<void> {
    if (!this.#t1NeedsResynch) return;
    await this.#runT1(this.t1!.resynch(), signal);
    this.#t1NeedsResynch = false;
  }

  /** After a failure outside `transmit` (the pinpad's): the card may be mid-block. */
  needResynch(): void {
    this.#t1NeedsResynch = true;
  }

  /**
   * One T=1 block in an XfrBlock, waiting BWT (times the WTX multiplier) plus
   * the wire time. Resolves with the card's block, or null when the card was
   * silent or garbled its answer: the T=1 engine then decides (R-block,
   * retransmission, resynchronisation).
   */
  async sendT1Block(action: Extract<T1Action, { kind: 'send' }>, signal: AbortSignal | undefined): Promise<Uint8Array | null> {
    const cardSeconds = this.#timing.bwt * action.bwtMultiplier + this.#timing.byteSeconds * (action.block.length + this.t1!.ifsd + 4);
    try {
      const r = await this.#xfr(action.block, cardSeconds, signal);
      return r.abData;
    } catch (e) {
      if (e instanceof SlotError ? /^ccid\/(icc-mute|xfr-parity-error|xfr-overrun)$/.test(e.code) : e instanceof TransportError && e.code === 'transport/timeout') {
        return null;
      }
      throw e;
    }
  }

  async #runT1(first: T1Action, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const t1 = this.t1!;
    let action = first;
    for (;;) {
      if (action.kind === 'done') return action.response;
      action = t1.receive(await this.sendT1Block(action, signal));
    }
  }

  // ---- T=0 ------------------------------------------------------------

  async #transmitT0(apdu: Uint8Array, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const t0 = new T0Host();
    let action = t0.transmit(apdu);
    while (action.kind === 'send') {
      const tpdu = action.tpdu;
      const cardSeconds = this.#timing.t0Wait + this.#timing.byteSeconds * (tpdu.length + 258);
      const r = await this.#xfr(tpdu, cardSeconds, signal);
      action = t0.receive(r.abData);
    }
    return action.response;
  }
}
