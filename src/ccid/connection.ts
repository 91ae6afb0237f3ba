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
import { AbortError, CcidError, ProtocolError, SlotError, TransportError, WebCcidError } from '../errors.js';
import { concatBytes } from '../bytes.js';
import { parseAtr, type Atr } from '../iso7816/atr.js';
import { chooseRate, baudRate } from '../iso7816/rates.js';
import { encodePpsRequest, checkPpsResponse } from '../iso7816/pps.js';
import { encodeProtocolParams, paramsFromAtr } from '../iso7816/params.js';
import { atrTimeoutSeconds, t0WorkWaitingTime, t1BlockWaitingTime, wireTimeSeconds } from '../iso7816/timing.js';
import { T1Host, type T1Action } from '../iso7816/t1.js';
import { T0Host } from '../iso7816/t0.js';
import { parseApdu } from '../iso7816/apdu.js';
import {
  CCID_ERROR,
  CCID_HEADER_LENGTH,
  COMMAND_STATUS_FAILED,
  ICC_STATUS_ABSENT,
  LEVEL_BEGIN,
  LEVEL_CONTINUE,
  LEVEL_EMPTY_CONTINUE,
  LEVEL_END,
  LEVEL_SINGLE,
  commandStatus,
  iccStatus,
  slotErrorFrom,
  type CcidResponse,
} from './messages.js';
import type { CcidRequest } from './transport.js';
import type { CcidReader } from './reader.js';
import type { Mutex } from './mutex.js';
import type { CardChannel, SecurePinModifyRequest, SecurePinVerifyRequest } from '../card/channel.js';

export type CardProtocol = 't0' | 't1';

export interface ConnectOptions {
  /** Protocols the caller accepts (default both). T=1 is chosen when both remain. */
  preferredProtocols?: CardProtocol[];
  /** Negotiate the fastest rate card and reader allow (default true). */
  pps?: boolean;
  signal?: AbortSignal;
}

export interface TransmitOptions {
  signal?: AbortSignal;
}

/** The link as negotiated: clock, Fi/Di and the resulting bit rate. */
export interface LinkParameters {
  fHz: number;
  fi: number;
  di: number;
  baud: number;
  /** How the rate was set: PPS by us, by the reader itself, specific mode, or left at the default. */
  negotiation: 'pps' | 'reader' | 'specific' | 'default' | 'pps-failed';
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
  private valid = true;
  private removed = false;
  private t1: T1Host | undefined;
  private t1NeedsResynch = false;

  private constructor(
    private readonly reader: CcidReader,
    readonly slot: number,
    private readonly lock: Mutex,
    readonly atr: Atr,
    readonly protocol: CardProtocol,
    readonly link: LinkParameters,
  ) {}

  /** @internal Used by CcidReader.connect. */
  static establish(reader: CcidReader, slot: number, lock: Mutex, options: ConnectOptions): Promise<CcidConnection> {
    return lock.run(async () => {
      const signal = options.signal;
      let atr = await powerOn(reader, slot, signal);
      let protocol: CardProtocol;
      try {
        protocol = chooseProtocol(reader, atr, options.preferredProtocols);
      } catch (e) {
        // Leave no card powered behind a failed connect.
        await reader.command({ name: 'IccPowerOff', bSlot: slot }, { timeoutMs: reader.commandTimeout(0) }).catch(() => undefined);
        throw e;
      }
      let link: LinkParameters;
      try {
        link = await negotiate(reader, slot, atr, protocol, options.pps ?? true, signal);
      } catch (e) {
        if (!(e instanceof WebCcidError) || e instanceof TransportError || e instanceof AbortError) throw e;
        // A failed PPS or SetParameters is not fatal (ISO 7816-3 §9.3):
        // power-cycle and go on at the default rate.
        await reader.command({ name: 'IccPowerOff', bSlot: slot }, { timeoutMs: reader.commandTimeout(0), ...(signal ? { signal } : {}) });
        atr = await powerOn(reader, slot, signal);
        link = { ...(await negotiate(reader, slot, atr, protocol, false, signal)), negotiation: 'pps-failed' };
      }
      const c = new CcidConnection(reader, slot, lock, atr, protocol, link);
      if (reader.descriptor.exchangeLevel === 'tpdu' && protocol === 't1') await c.setUpT1(signal);
      return c;
    }, options.signal);
  }

  /** The exchange level the reader works at. */
  get exchangeLevel() {
    return this.reader.descriptor.exchangeLevel;
  }

  /** Negotiated IFSC / IFSD (TPDU-level T=1 only). */
  get t1Sizes(): { ifsc: number; ifsd: number } | undefined {
    return this.t1 ? { ifsc: this.t1.ifsc, ifsd: this.t1.ifsd } : undefined;
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
    const d = this.reader.descriptor;
    let n = d.dwMaxCCIDMessageLength - CCID_HEADER_LENGTH - 2;
    if (d.exchangeLevel === 'tpdu' && this.protocol === 't1' && this.t1) {
      // prologue (3) and EDC (1 or 2) around the INF field in the same message
      n = Math.min(this.t1.ifsd - 2, n - 3 - (this.atr.edc === 'crc' ? 2 : 1));
    }
    return Math.max(1, Math.min(256, n));
  }

  /** Sends a command APDU; resolves with response data followed by SW1 SW2. Status words are not checked here. */
  transmit(apdu: Uint8Array, options: TransmitOptions = {}): Promise<Uint8Array> {
    if (this.reader.isClosing) return Promise.reject(this.reader.closedError());
    return this.lock.run(() => this.transmitLocked(apdu, options), options.signal);
  }

  /**
   * Runs `fn` with the slot to itself: no other caller's APDU comes between
   * the ones `fn` sends through `tx`.
   */
  startTransaction<T>(fn: (tx: CardTransaction) => Promise<T>): Promise<T> {
    if (this.reader.isClosing) return Promise.reject(this.reader.closedError());
    return this.lock.run(() => fn({ transmit: (apdu, options = {}) => this.transmitLocked(apdu, options) }));
  }

  /** PC_to_RDR_Escape: a vendor command to the reader; returns its answer's data. */
  control(data: Uint8Array, options: TransmitOptions = {}): Promise<Uint8Array> {
    return this.lock.run(async () => {
      this.checkUsable();
      const r = await this.command({ name: 'Escape', bSlot: this.slot, abData: data }, 0, options.signal);
      return r.abData.slice();
    }, options.signal);
  }

  /** The reader's pinpad (bPINSupport), or undefined when it has none. */
  get pinpad(): { verify: boolean; modify: boolean } | undefined {
    const p = this.reader.descriptor.pinpad;
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
    if (this.reader.isClosing) return Promise.reject(this.reader.closedError());
    return this.lock.run(() => this.secureLocked({ kind: 'verify', request }, options.signal), options.signal);
  }

  /**
   * PIN modification on the reader's keypad (bPINOperation 1): CHANGE
   * REFERENCE DATA, or unblock (RESET RETRY COUNTER) with the PUK as the
   * "current" value. As {@link verifyPinSecure}, plus CcidError
   * 'ccid/pin-mismatch' (6402: the two new PIN entries differed).
   */
  modifyPinSecure(request: SecurePinModifyRequest, options: TransmitOptions = {}): Promise<Uint8Array> {
    if (this.reader.isClosing) return Promise.reject(this.reader.closedError());
    return this.lock.run(() => this.secureLocked({ kind: 'modify', request }, options.signal), options.signal);
  }

  /** The slot's state as the reader reports it now. */
  async status(options: TransmitOptions = {}): Promise<{ state: 'absent' | 'present' | 'active'; atr: Atr; protocol: CardProtocol }> {
    const s = await this.reader.status(this.slot, options);
    return { state: s.state, atr: this.atr, protocol: this.protocol };
  }

  /**
   * Ends the connection: `leave` the card powered, `reset` it (power cycle)
   * or `unpower` it. The connection is unusable afterwards.
   */
  disconnect(disposition: 'leave' | 'reset' | 'unpower' = 'leave', options: TransmitOptions = {}): Promise<void> {
    return this.lock.run(async () => {
      if (!this.valid) return;
      this.valid = false;
      if (disposition === 'leave' || this.removed || this.reader.isClosed) return;
      await this.reader.command({ name: 'IccPowerOff', bSlot: this.slot }, this.opts(0, options.signal));
      if (disposition === 'reset') await powerOn(this.reader, this.slot, options.signal);
    }, options.signal);
  }

  /** @internal The reader replaced, closed or lost this connection. */
  invalidate(): void {
    this.valid = false;
  }

  /** @internal The reader saw the card leave. */
  markRemoved(): void {
    this.removed = true;
  }

  private checkUsable(): void {
    if (this.reader.isClosed) throw this.reader.closedError();
    if (this.removed) {
      throw new SlotError('ccid/card-absent', 'The card was removed; insert it and connect again.', 0x42, CCID_ERROR.ICC_MUTE);
    }
    if (!this.valid) throw new CcidError('ccid/not-connected', 'This connection was closed; connect to the card again.');
  }

  private async transmitLocked(apdu: Uint8Array, options: TransmitOptions): Promise<Uint8Array> {
    this.checkUsable();
    if (apdu.length < 4) throw new ProtocolError('protocol/bad-apdu', `A command APDU has at least 4 bytes; got ${apdu.length}.`);
    try {
      switch (this.reader.descriptor.exchangeLevel) {
        case 'tpdu':
          return this.protocol === 't1' ? await this.transmitT1(apdu, options.signal) : await this.transmitT0(apdu, options.signal);
        case 'short-apdu':
          return await this.transmitShortApdu(apdu, options.signal);
        default:
          return await this.transmitExtendedApdu(apdu, options.signal);
      }
    } catch (e) {
      if (e instanceof SlotError && e.iccStatus === ICC_STATUS_ABSENT) this.removed = true;
      throw e;
    }
  }

  // ---- PC_to_RDR_Secure ------------------------------------------------

  private async secureLocked(
    op: { kind: 'verify'; request: SecurePinVerifyRequest } | { kind: 'modify'; request: SecurePinModifyRequest },
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array> {
    // The PIN structures are loaded when a pinpad is first used: applications that never use one
    // (most) do not ship them in their start-up bundle.
    const { buildPinModify, buildPinVerify, encodePinModify, encodePinVerify, PINPAD_SW } = await import('./secure.js');
    this.checkUsable();
    if (!this.pinpad?.[op.kind]) {
      throw new CcidError(
        'ccid/pinpad-unsupported',
        `This reader has no pinpad for PIN ${op.kind === 'verify' ? 'verification' : 'modification'} (bPINSupport); enter the PIN on screen instead.`,
      );
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
    const t1 = this.reader.descriptor.exchangeLevel === 'tpdu' && this.protocol === 't1' ? this.t1 : undefined;
    let prologue = new Uint8Array(3);
    if (t1) {
      if (this.t1NeedsResynch) {
        await this.runT1(t1.resynch(), signal);
        this.t1NeedsResynch = false;
      }
      if (template.length > t1.ifsc) {
        throw new ProtocolError('protocol/apdu-too-long', `The PIN command (${template.length} bytes) does not fit in one T=1 block (IFSC ${t1.ifsc}).`);
      }
      const first = t1.transmit(template);
      if (first.kind !== 'send') throw new ProtocolError('protocol/t1-unrecoverable', 'The T=1 engine did not produce the PIN command block.');
      prologue = first.block.slice(0, 3);
    }
    const abData = encode(prologue);
    const entries = op.kind === 'verify' ? 1 : op.request.confirm ? 3 : 2;
    const perEntry = bTimeOut === 0 ? 90 : bTimeOut;
    const cardSeconds = entries * perEntry + this.apduSeconds(template.length, 2);
    let r: CcidResponse;
    try {
      r = await this.command({ name: 'Secure', bSlot: this.slot, bBWI: 0, wLevelParameter: 0, abData }, cardSeconds, signal);
    } catch (e) {
      if (e instanceof SlotError && e.iccStatus === ICC_STATUS_ABSENT) this.removed = true;
      // A reader failure other than a user event may have left the card mid-block.
      if (t1 && !(e instanceof SlotError && (e.code === 'ccid/pin-cancelled' || e.code === 'ccid/pin-timeout'))) this.t1NeedsResynch = true;
      throw e;
    }
    const answer = r.abData.slice();
    if (answer.length === 2) this.checkPinpadStatus(r, ((answer[0]! << 8) | answer[1]!) >>> 0, PINPAD_SW);
    if (!t1) return answer;
    return this.finishSecureT1(t1, answer, signal);
  }

  /** The PC/SC part 10 statuses a pinpad reader answers itself (the card saw nothing). */
  private checkPinpadStatus(r: CcidResponse, sw: number, PINPAD_SW: typeof import('./secure.js').PINPAD_SW): void {
    switch (sw) {
      case PINPAD_SW.TIMEOUT:
        throw new SlotError('ccid/pin-timeout', 'No PIN was entered on the reader in time.', r.bStatus, CCID_ERROR.PIN_TIMEOUT);
      case PINPAD_SW.CANCELLED:
        throw new SlotError('ccid/pin-cancelled', 'PIN entry was cancelled on the reader.', r.bStatus, CCID_ERROR.PIN_CANCELLED);
      case PINPAD_SW.NEW_PIN_MISMATCH:
        throw new CcidError('ccid/pin-mismatch', 'The new PIN and its confirmation keyed on the reader differ; nothing was changed.');
      case PINPAD_SW.PIN_LENGTH:
        throw new CcidError('ccid/pin-length', 'The PIN keyed on the reader was too short or too long; the card was not asked.');
    }
  }

  /**
   * The Secure answer of a TPDU-level T=1 reader is the card's first block.
   * The T=1 engine takes it (WTX, chained answers and R-blocks continue
   * through XfrBlock); it must never send our I-block again, since the
   * reader's copy held the PIN and ours only the pad: resynchronise instead.
   */
  private async finishSecureT1(t1: T1Host, block: Uint8Array, signal: AbortSignal | undefined): Promise<Uint8Array> {
    let answer: Uint8Array | null = block;
    for (;;) {
      let action: T1Action;
      try {
        action = t1.receive(answer);
      } catch (e) {
        this.t1NeedsResynch = true;
        throw e;
      }
      if (action.kind === 'done') return action.response;
      if ((action.block[1]! & 0x80) === 0) {
        this.t1NeedsResynch = true;
        throw new ProtocolError(
          'protocol/t1-unrecoverable',
          'The card did not take the PIN command block from the pinpad; it is not sent again (ask the user to enter the PIN again).',
        );
      }
      try {
        answer = await this.sendT1Block(action, signal);
      } catch (e) {
        this.t1NeedsResynch = true;
        throw e;
      }
    }
  }

  // ---- TPDU level, T=1 ------------------------------------------------

  private async setUpT1(signal: AbortSignal | undefined): Promise<void> {
    const d = this.reader.descriptor;
    this.t1 = new T1Host({
      ifsc: this.atr.ifsc ?? 32,
      ifsd: 32,
      edc: this.atr.edc ?? 'lrc',
      maxWtxBwt: Math.max(1, Math.floor(MAX_WTX_SECONDS / this.bwt())),
    });
    const wanted = Math.min(254, d.dwMaxIFSD || 254);
    if (!d.features.autoIfsd && wanted !== 32) {
      try {
        await this.runT1(this.t1.negotiateIfsd(wanted), signal);
      } catch (e) {
        // IFSD stays 32 (the card's default).
        if (e instanceof TransportError || e instanceof AbortError) throw e;
      }
    }
  }

  private async transmitT1(apdu: Uint8Array, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const t1 = this.t1!;
    if (this.t1NeedsResynch) {
      await this.runT1(t1.resynch(), signal);
      this.t1NeedsResynch = false;
    }
    try {
      return await this.runT1(t1.transmit(apdu), signal);
    } catch (e) {
      // After a transport or reader error the card may be mid-chain: resynchronise first next time.
      this.t1NeedsResynch = true;
      throw e;
    }
  }

  /**
   * One T=1 block in an XfrBlock, waiting BWT (times the WTX multiplier) plus
   * the wire time. Resolves with the card's block, or null when the card was
   * silent or garbled its answer: the T=1 engine then decides (R-block,
   * retransmission, resynchronisation).
   */
  private async sendT1Block(action: Extract<T1Action, { kind: 'send' }>, signal: AbortSignal | undefined): Promise<Uint8Array | null> {
    const cardSeconds = this.bwt() * action.bwtMultiplier + this.wire(action.block.length + this.t1!.ifsd + 4, 1);
    try {
      const r = await this.command({ name: 'XfrBlock', bSlot: this.slot, bBWI: 0, wLevelParameter: 0, abData: action.block }, cardSeconds, signal);
      return r.abData;
    } catch (e) {
      const silent =
        (e instanceof SlotError && (e.code === 'ccid/icc-mute' || e.code === 'ccid/xfr-parity-error' || e.code === 'ccid/xfr-overrun')) ||
        (e instanceof TransportError && e.code === 'transport/timeout');
      if (silent) return null;
      throw e;
    }
  }

  private async runT1(first: T1Action, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const t1 = this.t1!;
    let action = first;
    for (;;) {
      if (action.kind === 'done') return action.response;
      action = t1.receive(await this.sendT1Block(action, signal));
    }
  }

  // ---- TPDU level, T=0 ------------------------------------------------

  private async transmitT0(apdu: Uint8Array, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const t0 = new T0Host();
    let action = t0.transmit(apdu);
    for (;;) {
      if (action.kind === 'done') return action.response;
      const tpdu = action.tpdu;
      const wwt = t0WorkWaitingTime({ wi: this.atr.wi ?? 10, fi: this.link.fi, di: this.link.di, fHz: this.link.fHz });
      const cardSeconds = 2 * wwt + this.wire(tpdu.length + 258, 0);
      const r = await this.command({ name: 'XfrBlock', bSlot: this.slot, bBWI: 0, wLevelParameter: 0, abData: tpdu }, cardSeconds, signal);
      action = t0.receive(r.abData);
    }
  }

  // ---- APDU levels ----------------------------------------------------

  private async transmitShortApdu(apdu: Uint8Array, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const parsed = parseApdu(apdu);
    if (parsed.extended) {
      throw new ProtocolError(
        'protocol/apdu-too-long',
        'This reader exchanges short APDUs only; an extended APDU (more than 255 data bytes or Le over 256) cannot be sent through it.',
      );
    }
    const cardSeconds = this.apduSeconds(apdu.length, (parsed.le ?? 0) + 2);
    const r = await this.command({ name: 'XfrBlock', bSlot: this.slot, bBWI: 0, wLevelParameter: 0, abData: apdu }, cardSeconds, signal);
    return r.abData.slice();
  }

  private async transmitExtendedApdu(apdu: Uint8Array, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const maxData = this.reader.descriptor.dwMaxCCIDMessageLength - CCID_HEADER_LENGTH;
    const cardSeconds = this.apduSeconds(apdu.length, (parseApdu(apdu).le ?? 0) + 2);
    let r: CcidResponse;
    if (apdu.length <= maxData) {
      r = await this.command({ name: 'XfrBlock', bSlot: this.slot, bBWI: 0, wLevelParameter: LEVEL_SINGLE, abData: apdu }, cardSeconds, signal);
    } else {
      let offset = 0;
      let level = LEVEL_BEGIN;
      for (;;) {
        const end = Math.min(apdu.length, offset + maxData);
        if (end === apdu.length) level = LEVEL_END;
        r = await this.command(
          { name: 'XfrBlock', bSlot: this.slot, bBWI: 0, wLevelParameter: level, abData: apdu.subarray(offset, end) },
          cardSeconds,
          signal,
        );
        offset = end;
        if (level === LEVEL_END) break;
        level = LEVEL_CONTINUE;
        if (r.name !== 'DataBlock' || r.bChainParameter !== LEVEL_EMPTY_CONTINUE) {
          throw new CcidError('ccid/unexpected-message', 'The reader did not ask for the rest of a chained APDU (bChainParameter 0x10).');
        }
      }
    }
    const parts: Uint8Array[] = [r.abData.slice()];
    let chain = r.name === 'DataBlock' ? r.bChainParameter : 0;
    for (let steps = 0; chain === LEVEL_BEGIN || chain === LEVEL_CONTINUE; steps++) {
      if (steps > MAX_EXTENDED_CHAIN) throw new CcidError('ccid/malformed-frame', 'The reader chained its answer without end.');
      r = await this.command(
        { name: 'XfrBlock', bSlot: this.slot, bBWI: 0, wLevelParameter: LEVEL_EMPTY_CONTINUE, abData: new Uint8Array(0) },
        cardSeconds,
        signal,
      );
      parts.push(r.abData.slice());
      chain = r.name === 'DataBlock' ? r.bChainParameter : 0;
    }
    return concatBytes(...parts);
  }

  // ---- timing ---------------------------------------------------------

  private bwt(): number {
    return t1BlockWaitingTime({ bwi: this.atr.bwi ?? 4, fi: this.link.fi, di: this.link.di, fHz: this.link.fHz });
  }

  private wire(bytes: number, protocol: 0 | 1): number {
    return wireTimeSeconds({ bytes, fi: this.link.fi, di: this.link.di, fHz: this.link.fHz, guardEtu: this.atr.extraGuardTime, protocol });
  }

  /**
   * Card time for a whole APDU run by the reader: wire time both ways and one
   * waiting time per T=1 block (command blocks of IFSC, answer blocks of the
   * reader's IFSD), or two work waiting times for T=0. A card that needs
   * longer asks for it (WTX, NULL bytes) and the reader sends time extensions.
   */
  private apduSeconds(commandLength: number, maxResponse: number): number {
    const protocol = this.protocol === 't1' ? 1 : 0;
    const ifsc = this.atr.ifsc ?? 32;
    const ifsd = Math.min(254, this.reader.descriptor.dwMaxIFSD || 32);
    const blocks = Math.ceil(commandLength / ifsc) + Math.ceil(maxResponse / ifsd);
    const wait =
      protocol === 1
        ? this.bwt() * blocks
        : 2 * t0WorkWaitingTime({ wi: this.atr.wi ?? 10, fi: this.link.fi, di: this.link.di, fHz: this.link.fHz });
    return wait + this.wire(commandLength + maxResponse + blocks * 4, protocol);
  }

  private opts(cardSeconds: number, signal: AbortSignal | undefined) {
    return { timeoutMs: this.reader.commandTimeout(cardSeconds), ...(signal ? { signal } : {}) };
  }

  private command(request: CcidRequest, cardSeconds: number, signal: AbortSignal | undefined): Promise<CcidResponse> {
    return this.reader.command(request, this.opts(cardSeconds, signal));
  }
}

// ---- connect steps ------------------------------------------------------

function defaultLink(reader: CcidReader): Omit<LinkParameters, 'negotiation'> {
  const fHz = reader.descriptor.dwDefaultClock * 1000;
  return { fHz, fi: 372, di: 1, baud: Math.floor(baudRate({ fi: 372, di: 1, fHz })) };
}

/** bPowerSelect: automatic when the reader chooses, else 5 V, 3 V, 1.8 V in the order the reader supports them. */
function voltageChoices(reader: CcidReader): number[] {
  const d = reader.descriptor;
  if (d.features.autoVoltage) return [0];
  const choices: number[] = [];
  if (d.bVoltageSupport & 0x01) choices.push(1);
  if (d.bVoltageSupport & 0x02) choices.push(2);
  if (d.bVoltageSupport & 0x04) choices.push(3);
  return choices.length > 0 ? choices : [0];
}

async function powerOn(reader: CcidReader, slot: number, signal: AbortSignal | undefined): Promise<Atr> {
  const fHz = reader.descriptor.dwDefaultClock * 1000 || 4_000_000;
  const timeoutMs = reader.commandTimeout(atrTimeoutSeconds(fHz));
  const choices = voltageChoices(reader);
  for (let i = 0; ; i++) {
    const r = await reader.command(
      { name: 'IccPowerOn', bSlot: slot, bPowerSelect: choices[i]! },
      { timeoutMs, allowFailure: true, ...(signal ? { signal } : {}) },
    );
    if (commandStatus(r.bStatus) === COMMAND_STATUS_FAILED) {
      const retry = r.bError === CCID_ERROR.ICC_CLASS_NOT_SUPPORTED && i + 1 < choices.length && iccStatus(r.bStatus) !== ICC_STATUS_ABSENT;
      if (retry) continue;
      throw slotErrorFrom(r.bStatus, r.bError);
    }
    return parseAtr(r.abData.slice());
  }
}

/** The protocol a card in negotiable mode runs after its ATR: T of TD1, T=0 without TD1 (ISO/IEC 7816-3 §8.2.3). */
function defaultProtocol(atr: Atr): number {
  return atr.groups[0]?.protocol ?? 0;
}

function chooseProtocol(reader: CcidReader, atr: Atr, preferred: CardProtocol[] | undefined): CardProtocol {
  const readerSupports = (t: number) => (reader.descriptor.dwProtocols & (1 << t)) !== 0;
  const allowed = (preferred ?? ['t0', 't1']).map((p) => (p === 't0' ? 0 : 1));
  const candidates = atr.protocols.filter((t) => (t === 0 || t === 1) && readerSupports(t) && allowed.includes(t));
  if (atr.specificMode) {
    const t = atr.specificMode.protocol;
    if (candidates.includes(t)) return t === 1 ? 't1' : 't0';
  } else if (candidates.length > 0) {
    return candidates.includes(1) ? 't1' : 't0';
  }
  throw new ProtocolError(
    'protocol/no-common-protocol',
    `The card offers T=${atr.protocols.join(', T=')}; the reader supports ${[0, 1].filter(readerSupports).map((t) => `T=${t}`).join(' and ') || 'neither T=0 nor T=1'}` +
      (preferred ? ` and the caller accepts ${preferred.join(', ')}` : '') +
      '.',
  );
}

/**
 * ISO 7816-3 §9 and docs/design.md §4.5: the fastest rate both card and reader
 * allow, by PPS (ours at TPDU level, or the reader's own when it says it does
 * PPS), then SetParameters so the reader uses it.
 */
async function negotiate(
  reader: CcidReader,
  slot: number,
  atr: Atr,
  protocol: CardProtocol,
  wantPps: boolean,
  signal: AbortSignal | undefined,
): Promise<LinkParameters> {
  const d = reader.descriptor;
  const base = defaultLink(reader);
  const t = protocol === 't1' ? 1 : 0;
  const chosen = wantPps
    ? chooseRate({ ta1: atr.groups[0]?.ta, specificMode: atr.specificMode !== undefined, clockKHz: d.dwDefaultClock, maxDataRate: d.dwMaxDataRate, ...(reader.dataRates ? { dataRates: reader.dataRates } : {}) })
    : undefined;
  const timeoutMs = reader.commandTimeout(0.5);
  const opts = { timeoutMs, ...(signal ? { signal } : {}) };
  let link: LinkParameters = { ...base, negotiation: 'default' };
  let rate: { fiIndex: number; diIndex: number } | undefined;
  if (chosen) {
    const at = { fHz: base.fHz, fi: chosen.fi, di: chosen.di, baud: chosen.baud };
    if (atr.specificMode) {
      link = { ...at, negotiation: 'specific' };
    } else if (d.features.autoPps) {
      link = { ...at, negotiation: 'reader' };
    } else if (d.exchangeLevel === 'tpdu') {
      const request = encodePpsRequest({ protocol: t, fiIndex: chosen.fiIndex, diIndex: chosen.diIndex });
      const r = await reader.command({ name: 'XfrBlock', bSlot: slot, bBWI: 0, wLevelParameter: 0, abData: request }, opts);
      const verdict = checkPpsResponse(request, r.abData);
      if (!verdict.accepted) throw new ProtocolError('protocol/pps-failed', 'The card answered the PPS with something else than it was asked.');
      // A card may accept the protocol but keep the default rate (PPS1 left out of its answer).
      if (verdict.fiIndex === chosen.fiIndex && verdict.diIndex === chosen.diIndex) link = { ...at, negotiation: 'pps' };
    }
    if (link.negotiation !== 'default') rate = { fiIndex: chosen.fiIndex, diIndex: chosen.diIndex };
  } else if (d.exchangeLevel === 'tpdu' && !atr.specificMode && !d.features.autoPps && t !== defaultProtocol(atr)) {
    // ISO/IEC 7816-3 §9.1: in negotiable mode the card runs the first protocol
    // it offers (TD1) until a PPS selects another, even at the default rate
    // (libccid does the same: PPS when the protocol is not the default one).
    const request = encodePpsRequest({ protocol: t });
    const r = await reader.command({ name: 'XfrBlock', bSlot: slot, bBWI: 0, wLevelParameter: 0, abData: request }, opts);
    if (!checkPpsResponse(request, r.abData).accepted) {
      throw new ProtocolError('protocol/pps-failed', `The card refused to switch to T=${t} (PPS).`);
    }
  }
  if (!d.features.autoPpsProprietary) {
    const params = paramsFromAtr(atr, t, rate);
    const r = await reader.command({ name: 'SetParameters', bSlot: slot, bProtocolNum: t, abData: encodeProtocolParams(params) }, { ...opts, allowFailure: true });
    if (commandStatus(r.bStatus) === COMMAND_STATUS_FAILED && link.negotiation !== 'default') {
      // The card runs at the new rate but the reader would not follow.
      throw new ProtocolError('protocol/pps-failed', 'The reader refused the negotiated parameters (SetParameters).');
    }
  }
  return link;
}
