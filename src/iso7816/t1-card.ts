/**
 * The card side of T=1 (ISO/IEC 7816-3 §11) as a pure state machine, for virtual cards and tests.
 *
 * `receive(block)` takes the bytes of the host's block and returns the card's answer (or null
 * when a fault says to stay silent). It reassembles chained I-blocks, calls `handle(apdu)`,
 * sends the response chained within IFSD, answers S(IFS request), S(RESYNCH request) and
 * S(ABORT request), and can send S(WTX request) / S(IFS request) of its own before an I-block.
 */
import { concatBytes } from '../bytes.js';
import { ProtocolError } from '../errors.js';
import { hasT1EdcError, T1_DEFAULT_IFS, T1_MAX_INF } from './t1.js';
import { decodeT1Block, encodeT1Block } from './t1-block.js';
import type { T1Block, T1Edc } from './t1.js';

/** Options of {@link T1Card}. */
export interface T1CardOptions {
  /** The card's IFSC (largest INF it accepts), 1..254. */
  ifsc: number;
  edc: T1Edc;
  /** Runs a command APDU, returns the response APDU (data + SW1 SW2). */
  handle(apdu: Uint8Array): Uint8Array;
  /** IFSD assumed until the host sends S(IFS request) (default 32). */
  ifsd?: number;
  /** Ask for a waiting time extension (this multiplier) before each response, or decide per APDU. */
  wtxBeforeResponse?: number | ((apdu: Uint8Array) => number | undefined);
}

type CardRequest = { type: 'WTX' | 'IFS'; value: number };

const EMPTY = new Uint8Array(0);

function checkByteValue(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new ProtocolError('protocol/t1-bad-block', { field: name, min, max });
  }
}

/** Swaps the source and destination addresses of a NAD, as an answer carries them. */
function answerNad(nad: number): number {
  return ((nad & 0x07) << 4) | ((nad >> 4) & 0x07);
}

/** Card side of T=1, a pure state machine. */
export class T1Card {
  private readonly initialIfsc: number;
  private readonly initialIfsd: number;
  private readonly edc: T1Edc;
  private readonly handle: (apdu: Uint8Array) => Uint8Array;
  private readonly wtxBeforeResponse: T1CardOptions['wtxBeforeResponse'];

  private _ifsc: number;
  private _ifsd: number;
  private ns: 0 | 1 = 0;
  private nr: 0 | 1 = 0;
  private nad = 0;
  private rx: Uint8Array[] = [];
  private tx: Uint8Array | undefined;
  private txOffset = 0;
  /** The I-block sent last, until it is acknowledged (chained) or a new command starts (last block). */
  private inFlight: { bytes: Uint8Array; seq: 0 | 1; more: boolean; length: number } | undefined;
  private pending: (CardRequest & { bytes: Uint8Array }) | undefined;
  private queue: CardRequest[] = [];
  private faults: Array<{ kind: 'skip' } | { kind: 'corrupt'; index?: number; mask?: number }> = [];
  private flood: { kind: 'empty-chain' } | { kind: 'wtx'; multiplier: number } | undefined;
  private _commands = 0;

  constructor(opts: T1CardOptions) {
    checkByteValue('IFSC', opts.ifsc, 1, T1_MAX_INF);
    checkByteValue('IFSD', opts.ifsd ?? T1_DEFAULT_IFS, 1, T1_MAX_INF);
    this.initialIfsc = opts.ifsc;
    this.initialIfsd = opts.ifsd ?? T1_DEFAULT_IFS;
    this._ifsc = this.initialIfsc;
    this._ifsd = this.initialIfsd;
    this.edc = opts.edc;
    this.handle = opts.handle;
    this.wtxBeforeResponse = opts.wtxBeforeResponse;
  }

  /** The card's current IFSC. */
  get ifsc(): number {
    return this._ifsc;
  }

  /** The host's IFSD as the card knows it. */
  get ifsd(): number {
    return this._ifsd;
  }

  /** How many command APDUs the handler has run. */
  get commands(): number {
    return this._commands;
  }

  /** Makes the card send S(WTX request) with `multiplier` (1..255) before its next I-block. */
  requestWtx(multiplier: number): void {
    checkByteValue('WTX multiplier', multiplier, 1, 255);
    this.queue.push({ type: 'WTX', value: multiplier });
  }

  /** Makes the card send S(IFS request) with a new IFSC before its next I-block. */
  requestIfsc(ifsc: number): void {
    checkByteValue('IFSC', ifsc, 1, T1_MAX_INF);
    this.queue.push({ type: 'IFS', value: ifsc });
  }

  /** The next answer is not sent (`receive` returns null): a lost block. */
  skipNext(): void {
    this.faults.push({ kind: 'skip' });
  }

  /** The next answer has one byte XORed with `mask` (default: the last byte, 0x01). */
  corruptNext(opts: { index?: number; mask?: number } = {}): void {
    this.faults.push({ kind: 'corrupt', ...opts });
  }

  /**
   * An adversarial card, until `reset()`: the response to every complete
   * command is an empty I-block with M = 1 (the right N(S)), and every
   * R-block is answered with the next one: a chain that never ends.
   */
  floodEmptyChain(): void {
    this.flood = { kind: 'empty-chain' };
  }

  /**
   * An adversarial card, until `reset()`: every block but S(RESYNCH) and
   * S(ABORT) requests is answered with S(WTX request) with `multiplier`.
   */
  floodWtx(multiplier = 1): void {
    checkByteValue('WTX multiplier', multiplier, 1, 255);
    this.flood = { kind: 'wtx', multiplier };
  }

  /** Back to the state after the ATR (sequence numbers 0, IFS values from the options, no fault). */
  reset(): void {
    this.resetProtocol();
    this.queue = [];
    this.faults = [];
    this.flood = undefined;
  }

  /** Takes the host's block bytes; returns the card's answer, or null when a fault says to stay silent. */
  receive(blockBytes: Uint8Array): Uint8Array | null {
    const answer = this.answer(blockBytes);
    const fault = this.faults.shift();
    if (!fault) return answer;
    if (fault.kind === 'skip') return null;
    const out = answer.slice();
    const i = fault.index === undefined ? out.length - 1 : Math.min(Math.max(0, fault.index), out.length - 1);
    out[i] = out[i]! ^ ((fault.mask ?? 1) & 0xff || 1);
    return out;
  }

  private resetProtocol(): void {
    this.ns = 0;
    this.nr = 0;
    this._ifsc = this.initialIfsc;
    this._ifsd = this.initialIfsd;
    this.rx = [];
    this.tx = undefined;
    this.txOffset = 0;
    this.inFlight = undefined;
    this.pending = undefined;
  }

  private encode(block: T1Block): Uint8Array {
    return encodeT1Block(block, this.edc);
  }

  private sendR(error: 0 | 1 | 2): Uint8Array {
    return this.encode({ kind: 'R', nad: this.nad, nr: this.nr, error });
  }

  private sendS(type: 'RESYNCH' | 'IFS' | 'ABORT' | 'WTX', response: boolean, inf: Uint8Array = EMPTY): Uint8Array {
    return this.encode({ kind: 'S', nad: this.nad, type, response, inf });
  }

  private answer(bytes: Uint8Array): Uint8Array {
    let block: T1Block | undefined;
    let errorCode: 1 | 2 = 2;
    try {
      block = decodeT1Block(bytes, this.edc);
      this.nad = answerNad(block.nad);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      if (hasT1EdcError(bytes, this.edc)) errorCode = 1;
    }
    if (block?.kind === 'S' && !block.response) {
      if (block.type === 'RESYNCH') {
        this.resetProtocol();
        return this.sendS('RESYNCH', true);
      }
      if (block.type === 'ABORT') {
        this.rx = [];
        this.tx = undefined;
        this.inFlight = undefined;
        this.pending = undefined;
        return this.sendS('ABORT', true);
      }
    }
    if (this.flood) return this.floodAnswer(block);
    if (this.pending) {
      const p = this.pending;
      if (block?.kind === 'S' && block.response && block.type === p.type && block.inf[0] === p.value) {
        if (p.type === 'IFS') this._ifsc = p.value;
        this.pending = undefined;
        return this.nextBlock();
      }
      // An S request not answered by its response is sent again.
      return p.bytes;
    }
    if (!block) return this.sendR(errorCode);
    switch (block.kind) {
      case 'S':
        if (!block.response && block.type === 'IFS') {
          this._ifsd = block.inf[0]!;
          return this.sendS('IFS', true, Uint8Array.of(this._ifsd));
        }
        return this.sendR(2);
      case 'R':
        return this.onR(block.nr);
      case 'I':
        return this.onI(block);
    }
  }

  private floodAnswer(block: T1Block | undefined): Uint8Array {
    const flood = this.flood!;
    if (flood.kind === 'wtx') return this.sendS('WTX', false, Uint8Array.of(flood.multiplier));
    if (block?.kind === 'I') {
      if (block.ns !== this.nr) return this.sendR(2);
      this.nr = (this.nr ^ 1) as 0 | 1;
      if (block.more) return this.sendR(0);
      this._commands++;
    } else if (block?.kind !== 'R') {
      return this.sendR(2);
    }
    const seq = this.ns;
    this.ns = (seq ^ 1) as 0 | 1;
    return this.encode({ kind: 'I', nad: this.nad, ns: seq, more: true, inf: EMPTY });
  }

  private onR(nr: 0 | 1): Uint8Array {
    const f = this.inFlight;
    if (f) {
      if (nr === f.seq) return f.bytes; // the host asks for our I-block again
      if (f.more) {
        // Acknowledged: next part of the response.
        this.txOffset += f.length;
        this.inFlight = undefined;
        return this.nextBlock();
      }
    }
    // Ask the host for the I-block we expect.
    return this.sendR(0);
  }

  private onI(block: Extract<T1Block, { kind: 'I' }>): Uint8Array {
    if (this.inFlight?.more || (this.tx && !this.inFlight)) return this.sendR(2); // we hold the chain
    if (block.ns !== this.nr || block.inf.length > this._ifsc) return this.sendR(2);
    this.nr = (this.nr ^ 1) as 0 | 1;
    this.inFlight = undefined;
    this.tx = undefined;
    this.rx.push(block.inf);
    if (block.more) return this.sendR(0);
    const apdu = concatBytes(...this.rx);
    this.rx = [];
    this._commands++;
    this.tx = this.handle(apdu).slice();
    this.txOffset = 0;
    const w = typeof this.wtxBeforeResponse === 'function' ? this.wtxBeforeResponse(apdu) : this.wtxBeforeResponse;
    if (w !== undefined && w > 0) this.queue.unshift({ type: 'WTX', value: Math.min(255, Math.floor(w)) });
    return this.nextBlock();
  }

  /** Sends a queued S request, or the next I-block of the response. */
  private nextBlock(): Uint8Array {
    const request = this.queue.shift();
    if (request) {
      const bytes = this.sendS(request.type, false, Uint8Array.of(request.value));
      this.pending = { ...request, bytes };
      return bytes;
    }
    const tx = this.tx;
    if (!tx) return this.sendR(0);
    const length = Math.min(this._ifsd, tx.length - this.txOffset);
    const more = this.txOffset + length < tx.length;
    const seq = this.ns;
    const bytes = this.encode({ kind: 'I', nad: this.nad, ns: seq, more, inf: tx.subarray(this.txOffset, this.txOffset + length) });
    this.ns = (seq ^ 1) as 0 | 1;
    this.inFlight = { bytes, seq, more, length };
    if (!more) this.tx = undefined;
    return bytes;
  }
}
