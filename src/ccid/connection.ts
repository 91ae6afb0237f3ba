/**
 * A powered card in one slot of a CCID reader: `transmit()` takes a command
 * APDU and returns response data + SW1 SW2, whatever the reader's exchange
 * level:
 *
 * - TPDU level, T=1: our T=1 engine, one block per PC_to_RDR_XfrBlock.
 * - TPDU level, T=0: our T=0 engine (61xx GET RESPONSE, 6Cxx resend).
 * - short APDU level: the whole APDU in one XfrBlock; extended APDUs are refused.
 * - extended APDU level: one XfrBlock, or wLevelParameter chaining when the
 *   APDU or the answer does not fit in dwMaxCCIDMessageLength.
 *
 * Every command's timeout comes from the card's timing at the negotiated
 * rate (ATR time, BWT, WWT, wire time) plus the reader's USB slack.
 * One exchange at a time per slot (a FIFO lock); `startTransaction` holds the
 * lock across several exchanges.
 */
import { AbortError, CcidError, ProtocolError, SlotError, TransportError } from '../errors.js';
import { concatBytes } from '../bytes.js';
import type { Atr } from '../iso7816/atr.js';
import { t0WorkWaitingTime, t1BlockWaitingTime, wireTimeSeconds } from '../iso7816/timing.js';
import { T1Host, type T1Action } from '../iso7816/t1.js';
import { T0Host } from '../iso7816/t0.js';
import { parseApdu } from '../iso7816/apdu.js';
import {
  CCID_ERROR,
  CCID_HEADER_LENGTH,
  ICC_STATUS_ABSENT,
  LEVEL_BEGIN,
  LEVEL_CONTINUE,
  LEVEL_EMPTY_CONTINUE,
  LEVEL_END,
  LEVEL_SINGLE,
  type CcidResponse,
} from './messages.js';
import type { CcidRequest } from './transport.js';
import type { PinpadOperation } from './pinpad.js';
import type { SlotPort } from './slot-port.js';
import type { Mutex } from '../mutex.js';
import { activate, powerOn, type ConnectOptions, type LinkParameters } from './activation.js';
import type { CardChannel, CardProtocol, SecurePinModifyRequest, SecurePinVerifyRequest } from '../card/channel.js';

export type { CardProtocol } from '../card/channel.js';
export type { ConnectOptions, LinkParameters } from './activation.js';

export interface TransmitOptions {
  signal?: AbortSignal;
}

export interface CardTransaction {
  transmit(apdu: Uint8Array, options?: TransmitOptions): Promise<Uint8Array>;
}

const MAX_EXTENDED_CHAIN = 4096; // bound on response chaining steps (16 MB at 4 KB a step)
/**
 * Waiting time a T=1 card may ask for by S(WTX) in one exchange. No standard
 * bounds it; 5 minutes is far beyond any on-card operation (an RSA-2048 key
 * generation takes well under 2 minutes) and ends a card that asks forever.
 */
const MAX_WTX_SECONDS = 300;

export class CcidConnection implements CardChannel {
  #valid = true;
  #removed = false;
  /** The T=1 engine, at TPDU level with T=1 only. */
  #t1: T1Host | undefined;
  #t1NeedsResynch = false;

  readonly #reader: SlotPort;
  readonly #lock: Mutex;
  /**
   * The card's timing at the negotiated rate, fixed for the connection: BWT (T=1), two work
   * waiting times (T=0: what an exchange may take on the card's side), and the wire time of one
   * character in the connection's protocol.
   */
  readonly #bwt: number;
  readonly #t0Wait: number;
  readonly #byteSeconds: number;

  private constructor(
    reader: SlotPort,
    readonly slot: number,
    lock: Mutex,
    readonly atr: Atr,
    readonly protocol: CardProtocol,
    readonly link: LinkParameters,
  ) {
    this.#reader = reader;
    this.#lock = lock;
    this.#bwt = t1BlockWaitingTime({ ...link, bwi: atr.bwi ?? 4 });
    this.#t0Wait = 2 * t0WorkWaitingTime({ ...link, wi: atr.wi ?? 10 });
    this.#byteSeconds = wireTimeSeconds({ ...link, bytes: 1, guardEtu: atr.extraGuardTime, protocol: protocol === 't1' ? 1 : 0 });
  }

  /** @internal Used by CcidReader.connect: activates the card under the slot's lock. */
  static establish(port: SlotPort, slot: number, lock: Mutex, options: ConnectOptions): Promise<CcidConnection> {
    return lock.run(async () => {
      const { atr, protocol, link } = await activate(port, slot, options);
      const c = new CcidConnection(port, slot, lock, atr, protocol, link);
      if (port.descriptor.exchangeLevel === 'tpdu' && protocol === 't1') await c.#setUpT1(options.signal);
      return c;
    }, options.signal);
  }

  /** The exchange level the reader works at. */
  get exchangeLevel() {
    return this.#reader.descriptor.exchangeLevel;
  }

  /** Negotiated IFSC / IFSD (TPDU-level T=1 only). */
  get t1Sizes(): { ifsc: number; ifsd: number } | undefined {
    return this.#t1 ? { ifsc: this.#t1.ifsc, ifsd: this.#t1.ifsd } : undefined;
  }

  /**
   * The largest short Le (1..256) whose answer, data plus SW1 SW2, comes back
   * in one CCID message and, at TPDU level with T=1, in one block of IFSD
   * bytes: an exchange of such an APDU costs one bulk-out and one bulk-in
   * transfer. A larger Le makes the card chain its answer (one more
   * R-block and I-block round trip per IFSD bytes) or, at extended APDU
   * level, the reader chain its message.
   */
  get maxUnchainedLe(): number {
    const d = this.#reader.descriptor;
    let n = d.dwMaxCCIDMessageLength - CCID_HEADER_LENGTH - 2;
    if (this.#t1) {
      // prologue (3) and EDC (1 or 2) around the INF field in the same message
      n = Math.min(this.#t1.ifsd - 2, n - 3 - (this.atr.edc === 'crc' ? 2 : 1));
    }
    return Math.max(1, Math.min(256, n));
  }

  /** Sends a command APDU; resolves with response data followed by SW1 SW2. Status words are not checked here. */
  transmit(apdu: Uint8Array, options: TransmitOptions = {}): Promise<Uint8Array> {
    return this.#run(() => this.#transmitLocked(apdu, options.signal), options.signal);
  }

  /**
   * Runs `fn` with the slot to itself: no other caller's APDU comes between
   * the ones `fn` sends through `tx`.
   */
  startTransaction<T>(fn: (tx: CardTransaction) => Promise<T>): Promise<T> {
    return this.#run(() => fn({ transmit: (apdu, options = {}) => this.#transmitLocked(apdu, options.signal) }));
  }

  /** Runs `fn` under the slot's lock, unless the reader is closing. */
  #run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.#reader.isClosing ? Promise.reject(this.#reader.closedError()) : this.#lock.run(fn, signal);
  }

  /** PC_to_RDR_Escape: a vendor command to the reader; returns its answer's data. */
  control(data: Uint8Array, options: TransmitOptions = {}): Promise<Uint8Array> {
    return this.#lock.run(async () => {
      this.#checkUsable();
      const r = await this.#command({ name: 'Escape', bSlot: this.slot, abData: data }, 0, options.signal);
      return r.abData.slice();
    }, options.signal);
  }

  /** The reader's pinpad (bPINSupport), or undefined when it has none. */
  get pinpad(): { verify: boolean; modify: boolean } | undefined {
    const p = this.#reader.descriptor.pinpad;
    return p.verify || p.modify ? { verify: p.verify, modify: p.modify } : undefined;
  }

  /**
   * PIN verification on the reader's keypad (PC_to_RDR_Secure, bPINOperation 0).
   * Resolves with the card's answer (data + SW1 SW2, not checked). The user's
   * events are errors: SlotError 'ccid/pin-cancelled' / 'ccid/pin-timeout'
   * (bError 0xEF / 0xF0, or the PC/SC part 10 statuses 6401 / 6400 some
   * readers answer instead), CcidError 'ccid/pin-length' (6403: the keyed PIN
   * was too short or too long; the card saw nothing). Never retried.
   */
  verifyPinSecure(request: SecurePinVerifyRequest, options: TransmitOptions = {}): Promise<Uint8Array> {
    return this.#secure({ kind: 'verify', request }, options.signal);
  }

  /**
   * PIN modification on the reader's keypad (bPINOperation 1): CHANGE
   * REFERENCE DATA, or unblock (RESET RETRY COUNTER) with the PUK as the
   * "current" value. As {@link verifyPinSecure}, plus CcidError
   * 'ccid/pin-mismatch' (6402: the two new PIN entries differed).
   */
  modifyPinSecure(request: SecurePinModifyRequest, options: TransmitOptions = {}): Promise<Uint8Array> {
    return this.#secure({ kind: 'modify', request }, options.signal);
  }

  /** The slot's state as the reader reports it now. */
  async status(options: TransmitOptions = {}): Promise<{ state: 'absent' | 'present' | 'active'; atr: Atr; protocol: CardProtocol }> {
    const s = await this.#reader.status(this.slot, options);
    return { state: s.state, atr: this.atr, protocol: this.protocol };
  }

  /**
   * Ends the connection: `leave` the card powered, `reset` it (power cycle)
   * or `unpower` it. The connection is unusable afterwards.
   */
  disconnect(disposition: 'leave' | 'reset' | 'unpower' = 'leave', options: TransmitOptions = {}): Promise<void> {
    return this.#lock.run(async () => {
      if (!this.#valid) return;
      this.#valid = false;
      if (disposition === 'leave' || this.#removed || this.#reader.isClosed) return;
      await this.#command({ name: 'IccPowerOff', bSlot: this.slot }, 0, options.signal);
      if (disposition === 'reset') await powerOn(this.#reader, this.slot, options.signal);
    }, options.signal);
  }

  /** @internal The reader replaced, closed or lost this connection. */
  invalidate(): void {
    this.#valid = false;
  }

  /** @internal The reader saw the card leave. */
  markRemoved(): void {
    this.#removed = true;
  }

  #checkUsable(): void {
    if (this.#reader.isClosed) throw this.#reader.closedError();
    if (this.#removed) {
      throw new SlotError('ccid/card-absent', 'The card was removed; insert it and connect again.', 0x42, CCID_ERROR.ICC_MUTE);
    }
    if (!this.#valid) throw new CcidError('ccid/not-connected', 'This connection was closed; connect to the card again.');
  }

  async #transmitLocked(apdu: Uint8Array, signal: AbortSignal | undefined): Promise<Uint8Array> {
    this.#checkUsable();
    if (apdu.length < 4) throw new ProtocolError('protocol/bad-apdu', `A command APDU has at least 4 bytes; got ${apdu.length}.`);
    try {
      return this.#reader.descriptor.exchangeLevel !== 'tpdu'
        ? await this.#transmitApdu(apdu, signal)
        : this.protocol === 't1'
          ? await this.#transmitT1(apdu, signal)
          : await this.#transmitT0(apdu, signal);
    } catch (e) {
      if (e instanceof SlotError && e.iccStatus === ICC_STATUS_ABSENT) this.#removed = true;
      throw e;
    }
  }

  // ---- PC_to_RDR_Secure ------------------------------------------------

  #secure(op: PinpadOperation, signal: AbortSignal | undefined): Promise<Uint8Array> {
    return this.#run(async () => {
      // The pinpad code (pinpad.ts, secure.ts) is loaded when a pinpad is first used: applications
      // that never use one (most) do not ship it in their start-up bundle.
      const { securePinExchange } = await import('./pinpad.js');
      const t1 = this.#t1;
      return securePinExchange(
        {
          slot: this.slot,
          pinpad: this.pinpad,
          t1,
          checkUsable: () => this.#checkUsable(),
          resynchIfNeeded: async () => {
            if (t1 && this.#t1NeedsResynch) await this.#resynch(signal);
          },
          needResynch: () => (this.#t1NeedsResynch = true),
          markRemoved: () => this.markRemoved(),
          apduSeconds: (n, m) => this.#apduSeconds(n, m),
          command: (request, cardSeconds) => this.#command(request, cardSeconds, signal),
          sendT1Block: (action) => this.#sendT1Block(action, signal),
        },
        op,
      );
    }, signal);
  }

  // ---- TPDU level, T=1 ------------------------------------------------

  async #setUpT1(signal: AbortSignal | undefined): Promise<void> {
    const d = this.#reader.descriptor;
    this.#t1 = new T1Host({
      ifsc: this.atr.ifsc ?? 32,
      ifsd: 32,
      edc: this.atr.edc ?? 'lrc',
      maxWtxBwt: Math.max(1, Math.floor(MAX_WTX_SECONDS / this.#bwt)),
    });
    const wanted = Math.min(254, d.dwMaxIFSD || 254);
    if (!d.features.autoIfsd && wanted !== 32) {
      try {
        await this.#runT1(this.#t1.negotiateIfsd(wanted), signal);
      } catch (e) {
        // IFSD stays 32 (the card's default).
        if (e instanceof TransportError || e instanceof AbortError) throw e;
      }
    }
  }

  async #transmitT1(apdu: Uint8Array, signal: AbortSignal | undefined): Promise<Uint8Array> {
    if (this.#t1NeedsResynch) await this.#resynch(signal);
    try {
      return await this.#runT1(this.#t1!.transmit(apdu), signal);
    } catch (e) {
      // After a transport or reader error the card may be mid-chain: resynchronise first next time.
      this.#t1NeedsResynch = true;
      throw e;
    }
  }

  /** S(RESYNCH) after an exchange that failed midway. */
  async #resynch(signal: AbortSignal | undefined): Promise<void> {
    await this.#runT1(this.#t1!.resynch(), signal);
    this.#t1NeedsResynch = false;
  }

  /**
   * One T=1 block in an XfrBlock, waiting BWT (times the WTX multiplier) plus
   * the wire time. Resolves with the card's block, or null when the card was
   * silent or garbled its answer: the T=1 engine then decides (R-block,
   * retransmission, resynchronisation).
   */
  async #sendT1Block(action: Extract<T1Action, { kind: 'send' }>, signal: AbortSignal | undefined): Promise<Uint8Array | null> {
    const cardSeconds = this.#bwt * action.bwtMultiplier + this.#byteSeconds * (action.block.length + this.#t1!.ifsd + 4);
    try {
      const r = await this.#xfr(action.block, 0, cardSeconds, signal);
      return r.abData;
    } catch (e) {
      if (e instanceof SlotError ? /^ccid\/(icc-mute|xfr-parity-error|xfr-overrun)$/.test(e.code) : e instanceof TransportError && e.code === 'transport/timeout') {
        return null;
      }
      throw e;
    }
  }

  async #runT1(first: T1Action, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const t1 = this.#t1!;
    let action = first;
    for (;;) {
      if (action.kind === 'done') return action.response;
      action = t1.receive(await this.#sendT1Block(action, signal));
    }
  }

  // ---- TPDU level, T=0 ------------------------------------------------

  async #transmitT0(apdu: Uint8Array, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const t0 = new T0Host();
    let action = t0.transmit(apdu);
    while (action.kind === 'send') {
      const tpdu = action.tpdu;
      const cardSeconds = this.#t0Wait + this.#byteSeconds * (tpdu.length + 258);
      const r = await this.#xfr(tpdu, 0, cardSeconds, signal);
      action = t0.receive(r.abData);
    }
    return action.response;
  }

  // ---- APDU levels ----------------------------------------------------

  /**
   * The whole APDU in one XfrBlock. At extended APDU level, one that does not fit in
   * dwMaxCCIDMessageLength goes in parts (wLevelParameter 1, 3..., 2; the reader asks for each
   * next part with bChainParameter 0x10), and an answer the reader chains (bChainParameter 1 or 3)
   * is fetched part by part with wLevelParameter 0x10.
   */
  async #transmitApdu(apdu: Uint8Array, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const d = this.#reader.descriptor;
    const extended = d.exchangeLevel === 'extended-apdu';
    const parsed = parseApdu(apdu);
    if (parsed.extended && !extended) {
      throw new ProtocolError('protocol/apdu-too-long', 'Extended APDU (Nc > 255 or Ne > 256) on a short-APDU reader.');
    }
    const maxData = d.dwMaxCCIDMessageLength - CCID_HEADER_LENGTH;
    const cardSeconds = this.#apduSeconds(apdu.length, (parsed.le ?? 0) + 2);
    let r: CcidResponse;
    if (!extended || apdu.length <= maxData) {
      r = await this.#xfr(apdu, LEVEL_SINGLE, cardSeconds, signal);
    } else {
      let offset = 0;
      let level = LEVEL_BEGIN;
      for (;;) {
        const end = Math.min(apdu.length, offset + maxData);
        if (end === apdu.length) level = LEVEL_END;
        r = await this.#xfr(apdu.subarray(offset, end), level, cardSeconds, signal);
        offset = end;
        if (level === LEVEL_END) break;
        level = LEVEL_CONTINUE;
        if (r.name !== 'DataBlock' || r.bChainParameter !== LEVEL_EMPTY_CONTINUE) {
          throw new CcidError('ccid/unexpected-message', 'The reader did not ask for the rest of a chained APDU (bChainParameter 0x10).');
        }
      }
    }
    const parts: Uint8Array[] = [r.abData.slice()];
    for (let steps = 0; extended && r.name === 'DataBlock' && (r.bChainParameter === LEVEL_BEGIN || r.bChainParameter === LEVEL_CONTINUE); steps++) {
      if (steps > MAX_EXTENDED_CHAIN) throw new CcidError('ccid/malformed-frame', 'The reader chained its answer without end.');
      r = await this.#xfr(new Uint8Array(0), LEVEL_EMPTY_CONTINUE, cardSeconds, signal);
      parts.push(r.abData.slice());
    }
    return parts.length === 1 ? parts[0]! : concatBytes(...parts);
  }

  /**
   * Card time for a whole APDU run by the reader: wire time both ways and one
   * waiting time per T=1 block (command blocks of IFSC, answer blocks of the
   * reader's IFSD), or two work waiting times for T=0. A card that needs
   * longer asks for it (WTX, NULL bytes) and the reader sends time extensions.
   */
  #apduSeconds(commandLength: number, maxResponse: number): number {
    const ifsc = this.atr.ifsc ?? 32;
    const ifsd = Math.min(254, this.#reader.descriptor.dwMaxIFSD || 32);
    const blocks = Math.ceil(commandLength / ifsc) + Math.ceil(maxResponse / ifsd);
    const wait = this.protocol === 't1' ? this.#bwt * blocks : this.#t0Wait;
    return wait + this.#byteSeconds * (commandLength + maxResponse + blocks * 4);
  }

  /** PC_to_RDR_XfrBlock: a TPDU, an APDU or a part of one (wLevelParameter), to the card. */
  #xfr(abData: Uint8Array, wLevelParameter: number, cardSeconds: number, signal: AbortSignal | undefined): Promise<CcidResponse> {
    return this.#command({ name: 'XfrBlock', bSlot: this.slot, bBWI: 0, wLevelParameter, abData }, cardSeconds, signal);
  }

  #command(request: CcidRequest, cardSeconds: number, signal: AbortSignal | undefined): Promise<CcidResponse> {
    return this.#reader.command(request, { timeoutMs: this.#reader.commandTimeout(cardSeconds), signal });
  }
}
