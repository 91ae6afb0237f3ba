/**
 * A powered card in one slot of a CCID reader: `transmit()` takes a command
 * APDU and returns response data + SW1 SW2, whatever the reader's exchange
 * level:
 *
 * - short APDU level: the whole APDU in one XfrBlock; extended APDUs are refused.
 * - extended APDU level: one XfrBlock, or wLevelParameter chaining when the
 *   APDU or the answer does not fit in dwMaxCCIDMessageLength.
 * - TPDU level: the reader passes TPDUs, and we run the card protocol: our
 *   T=1 engine (one block per PC_to_RDR_XfrBlock) or T=0 engine (61xx GET
 *   RESPONSE, 6Cxx resend), in tpdu-link.ts. That module is loaded with a
 *   dynamic import when a TPDU-level reader connects, so an application whose
 *   readers all work at APDU level does not load it.
 *
 * Every command's timeout comes from the card's timing at the negotiated
 * rate (ATR time, BWT, WWT, wire time) plus the reader's USB slack.
 * One exchange at a time per slot (a FIFO lock); `startTransaction` holds the
 * lock across several exchanges.
 */
import { CcidError, ProtocolError, SlotError } from '../errors.js';
import { concatBytes } from '../bytes.js';
import type { Atr } from '../iso7816/atr.js';
import { t0WorkWaitingTime, t1BlockWaitingTime, wireTimeSeconds } from '../iso7816/timing.js';
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
import type { TpduLink } from './tpdu-link.js';
import { loadTpduLink } from './tpdu-loader.js';
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
 * A part of the driver loaded on first use (the TPDU link, the pinpad exchange): a browser
 * fetches it then. A failed fetch (the network dropped since the page loaded) is CcidError
 * 'ccid/module-load-failed', with the browser's error as its cause.
 */
function loadPart<T>(load: () => Promise<T>, part: string): Promise<T> {
  return load().catch((cause: unknown) => {
    throw new CcidError('ccid/module-load-failed', { part }, { cause });
  });
}

export class CcidConnection implements CardChannel {
  #valid = true;
  #removed = false;
  /** At TPDU level, our T=0 or T=1 host (tpdu-link.ts); undefined at the APDU levels. */
  #tpdu: TpduLink | undefined;

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
      // The seam between the exchange levels: an APDU-level reader takes the whole APDU in an
      // XfrBlock (#transmitApdu); a TPDU-level reader goes through our PPS and T=0 / T=1 host,
      // loaded here on first use, before the first command (a failed load sends nothing).
      const tpdu = port.descriptor.exchangeLevel === 'tpdu' ? await loadPart(loadTpduLink, 'TPDU link') : undefined;
      const { atr, protocol, link } = await activate(port, slot, options, tpdu?.exchangePps);
      const c = new CcidConnection(port, slot, lock, atr, protocol, link);
      if (tpdu) {
        const xfr = (abData: Uint8Array, cardSeconds: number, signal?: AbortSignal) => c.#xfr(abData, 0, cardSeconds, signal);
        const timing = { bwt: c.#bwt, t0Wait: c.#t0Wait, byteSeconds: c.#byteSeconds };
        c.#tpdu = await tpdu.TpduLink.open(xfr, port.descriptor, atr, protocol, timing, options.signal);
      }
      return c;
    }, options.signal);
  }

  /** The exchange level the reader works at. */
  get exchangeLevel() {
    return this.#reader.descriptor.exchangeLevel;
  }

  /** Negotiated IFSC / IFSD (TPDU-level T=1 only). */
  get t1Sizes(): { ifsc: number; ifsd: number } | undefined {
    const t1 = this.#tpdu?.t1;
    return t1 ? { ifsc: t1.ifsc, ifsd: t1.ifsd } : undefined;
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
    const t1 = this.#tpdu?.t1;
    if (t1) {
      // prologue (3) and EDC (1 or 2) around the INF field in the same message
      n = Math.min(t1.ifsd - 2, n - 3 - (this.atr.edc === 'crc' ? 2 : 1));
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
      throw new SlotError('ccid/card-absent', { slot: this.slot }, 0x42, CCID_ERROR.ICC_MUTE);
    }
    if (!this.#valid) throw new CcidError('ccid/not-connected', {});
  }

  async #transmitLocked(apdu: Uint8Array, signal: AbortSignal | undefined): Promise<Uint8Array> {
    this.#checkUsable();
    if (apdu.length < 4) throw new ProtocolError('protocol/bad-apdu', { length: apdu.length });
    try {
      return this.#tpdu ? await this.#tpdu.transmit(apdu, signal) : await this.#transmitApdu(apdu, signal);
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
      const { securePinExchange } = await loadPart(() => import('./pinpad.js'), 'pinpad exchange');
      return securePinExchange(
        {
          slot: this.slot,
          pinpad: this.pinpad,
          link: this.#tpdu,
          signal,
          checkUsable: () => this.#checkUsable(),
          markRemoved: () => this.markRemoved(),
          apduSeconds: (n, m) => this.#apduSeconds(n, m),
          command: (request, cardSeconds) => this.#command(request, cardSeconds, signal),
        },
        op,
      );
    }, signal);
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
      throw new ProtocolError('protocol/apdu-too-long', { nc: parsed.data?.length ?? 0, ne: parsed.le ?? 0 });
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
          throw new CcidError('ccid/unexpected-message', { sent: end, length: apdu.length });
        }
      }
    }
    const parts: Uint8Array[] = [r.abData.slice()];
    for (let steps = 0; extended && r.name === 'DataBlock' && (r.bChainParameter === LEVEL_BEGIN || r.bChainParameter === LEVEL_CONTINUE); steps++) {
      if (steps > MAX_EXTENDED_CHAIN) throw new CcidError('ccid/malformed-frame', { chainedParts: steps });
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
