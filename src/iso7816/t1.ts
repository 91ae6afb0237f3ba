/**
 * T=1 (ISO/IEC 7816-3 §11): the block format and its checks, and the interface-device side as a
 * pure state machine (`T1Host`). Whole blocks as values (`encodeT1Block`, `decodeT1Block`, for
 * the card's side and tools) are in t1-block.ts: the host builds and checks its blocks itself.
 *
 * Block: NAD | PCB | LEN | INF (0..254 bytes) | EDC (LRC: 1 byte XOR; CRC: 2 bytes).
 * PCB: I-block 0 N(S) M 00000; R-block 10 0 N(R) e3..e0 (0 ok, 1 EDC/parity, 2 other);
 * S-block 11 response type (0 RESYNCH, 1 IFS, 2 ABORT, 3 WTX).
 *
 * CRC: the one libccid / OpenCT use for T=1: CRC-16 with polynomial x^16+x^12+x^5+1 processed
 * least significant bit first (reflected, 0x8408), initial value FFFF, no final XOR, sent
 * high byte first.
 */
import { concatBytes, xorBytes } from '../bytes.js';
import { ProtocolError } from '../errors.js';

export type T1Edc = 'lrc' | 'crc';
export type T1SType = 'RESYNCH' | 'IFS' | 'ABORT' | 'WTX';
export type T1Block =
  | { kind: 'I'; nad: number; ns: 0 | 1; more: boolean; inf: Uint8Array }
  | { kind: 'R'; nad: number; nr: 0 | 1; error: 0 | 1 | 2 /* 0 ok, 1 EDC/parity, 2 other */ }
  | { kind: 'S'; nad: number; type: T1SType; response: boolean; inf: Uint8Array };

/** Largest INF field (and IFSC / IFSD value). */
export const T1_MAX_INF = 254;
/** IFSC / IFSD before any negotiation (7816-3 §11.4.2). */
export const T1_DEFAULT_IFS = 32;

/** INF length of each S-block type (in the order of `SBlock`). */
const S_INF_LENGTH = [0, 1, 0, 1];
/*
 * PCB values: R-block 0x80 | N(R) << 4 | error; S request 0xC0 | type, S response 0xE0 | type.
 * So the block kind is a PCB range: I-block below PCB_R (b8 = 0), R-block from PCB_R to below
 * PCB_S_REQUEST (b8 b7 = 10), S-block from PCB_S_REQUEST (b8 b7 = 11), a response from PCB_S_RESPONSE.
 */
export const PCB_R = 0x80;
export const PCB_S_REQUEST = 0xc0;
export const PCB_S_RESPONSE = 0xe0;
/** S-block types: the low bits of the S-block PCB (T1SType's names in t1-block.ts, in this order). */
const enum SBlock {
  Resynch,
  Ifs,
  Abort,
  Wtx,
}
export const EMPTY = new Uint8Array(0);

/** Throws ProtocolError('protocol/t1-bad-block') unless `v` is an integer in min..max. */
export function checkRange(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new ProtocolError('protocol/t1-bad-block', { field: name, min, max });
}

/** LRC: XOR of every byte. */
export const lrc: (bytes: Uint8Array) => number = xorBytes;

/**
 * CRC-16 of T=1 (see the module comment); the block carries it high byte first. Computed a bit
 * at a time (the usual 256-entry table gives the same values, faster, for 512 bytes more).
 * Check value: '123456789' gives 0x6F91 (CRC-16/MCRF4XX in the CRC catalogues; X.25 differs
 * only by its final XOR FFFF, giving 0x906E).
 */
export function crc16(bytes: Uint8Array): number {
  let v = 0xffff;
  for (let i = 0; i < bytes.length; i++) {
    // Reflected: the byte enters at the low end, and each bit shifted out at bit 0 feeds 0x8408 back.
    v ^= bytes[i]!;
    for (let k = 0; k < 8; k++) v = v & 1 ? (v >>> 1) ^ 0x8408 : v >>> 1;
  }
  return v;
}

function edcLength(edc: T1Edc): number {
  return edc === 'crc' ? 2 : 1;
}

/** The EDC bytes of `body` (prologue and INF), as the block carries them. */
function edcBytes(body: Uint8Array, edc: T1Edc): number[] {
  if (edc === 'lrc') return [lrc(body)];
  const c = crc16(body);
  return [c >> 8, c & 0xff];
}

/**
 * True when `bytes` is long enough to hold a prologue and an EDC but the EDC does not match:
 * an EDC error (R-block error code 1) rather than another kind of invalid block.
 */
export function hasT1EdcError(bytes: Uint8Array, edc: T1Edc): boolean {
  const end = bytes.length - edcLength(edc);
  return end >= 3 && edcBytes(bytes.subarray(0, end), edc).some((b, i) => b !== bytes[end + i]);
}

/**
 * What makes bytes an invalid block (`Problem.None`: nothing), as a number: `blockProblem` and
 * `sInfProblem` return these, and t1-block.ts names them in this order for its errors (the host
 * needs no names).
 */
const enum Problem {
  None,
  TooShort,
  LenFF,
  LenMismatch,
  Edc,
  PcbRfu,
  RWithInf,
  SType,
  SInf,
}

/** Problem.SInf unless `inf` is right for an S-block of `type` (an `SBlock`). */
export function sInfProblem(type: number, inf: Uint8Array): number {
  const ok = type === SBlock.Ifs ? inf.length === 1 && inf[0] !== 0 && inf[0] !== 0xff : inf.length === S_INF_LENGTH[type];
  return ok ? Problem.None : Problem.SInf;
}

/**
 * What makes `bytes` an invalid T=1 block: a wrong length, LEN = FF, a bad EDC, a PCB with
 * RFU bits set, an R-block with INF or an unknown error code, an S-block of unknown type or
 * with a wrong INF.
 */
export function blockProblem(bytes: Uint8Array, edc: T1Edc): number {
  const n = bytes.length;
  if (n < 3 + edcLength(edc)) return Problem.TooShort;
  const len = bytes[2]!;
  if (len === 0xff) return Problem.LenFF;
  if (n !== 3 + len + edcLength(edc)) return Problem.LenMismatch;
  if (hasT1EdcError(bytes, edc)) return Problem.Edc;
  const pcb = bytes[1]!;
  if (pcb < PCB_R) return pcb & 0x1f ? Problem.PcbRfu : Problem.None;
  if (pcb < PCB_S_REQUEST) {
    if (pcb & 0x20 || (pcb & 0x0f) > 2) return Problem.PcbRfu;
    return len ? Problem.RWithInf : Problem.None;
  }
  const type = pcb & 0x1f;
  return type > SBlock.Wtx ? Problem.SType : sInfProblem(type, bytes.subarray(3, 3 + len));
}

/** A block with its EDC, from a PCB and INF already checked. */
export function frame(nad: number, pcb: number, inf: Uint8Array, edc: T1Edc): Uint8Array {
  const n = inf.length;
  const out = new Uint8Array(3 + n + edcLength(edc));
  out.set([nad, pcb, n]);
  out.set(inf, 3);
  out.set(edcBytes(out.subarray(0, 3 + n), edc), 3 + n);
  return out;
}


/** What the host must do next: send a block and wait (BWT x bwtMultiplier), or hand over the response. */
export type T1Action =
  | { kind: 'send'; block: Uint8Array; bwtMultiplier: number /* 1, or WTX value for the wait of this block's answer */ }
  | { kind: 'done'; response: Uint8Array };

/** Options of {@link T1Host}. */
export interface T1HostOptions {
  /** Card's IFSC (ATR), 1..254: the largest INF we send. */
  ifsc: number;
  /** Our IFSD, 1..254: the largest INF we accept (32 until negotiated with the card). */
  ifsd: number;
  edc: T1Edc;
  /** NAD of our blocks (default 0). */
  nad?: number;
  /** Tries of one block before resynchronising (default 3: the first send and 2 retransmissions). */
  maxTries?: number;
  /** S(RESYNCH request)s in one exchange before giving up (default 3). */
  maxResynch?: number;
  /** Card S(WTX) / S(IFS) requests in one exchange before giving up (default 1024). */
  maxCardRequests?: number;
  /** Empty I-blocks with M = 1 in a row the card may send before the exchange is ended (default 8). */
  maxEmptyChained?: number;
  /**
   * Waiting time the card may ask for by S(WTX) in one exchange, in BWT units
   * (the sum of the multipliers granted; default unbounded: the caller converts
   * its time budget, see CcidConnection).
   */
  maxWtxBwt?: number;
}

const enum Phase {
  Idle,
  /** Our I-block (chain) is out: waiting for an acknowledgement or the card's first I-block. */
  Sending,
  /** Receiving the card's chain. */
  Receiving,
  /** S(IFS request) is out. */
  Negotiating,
  /** S(RESYNCH request) is out. */
  Resynching,
  /** The card aborted: the next `receive` throws. */
  Aborted,
}

/** Largest response assembled (Ne 65536 + SW1 SW2, ISO/IEC 7816-4 §5.1): a chain carrying more can only be a faulty card. */
const MAX_RESPONSE = 65538;

/**
 * Host (interface device) side of T=1 as a pure state machine (no I/O, no timers).
 *
 * Call `transmit(apdu)` (or `negotiateIfsd`, `resynch`), send the block of each 'send' action
 * and pass what came back to `receive` (null when nothing valid arrived within BWT x
 * bwtMultiplier), until a 'done' action. Error handling follows 7816-3 §11.6.3: an invalid block
 * or a time-out is answered with an R-block (N(R) = expected N(S), error 1 for an EDC error,
 * 2 otherwise); an R-block asking for our I-block again gets it; an S request is resent until
 * its response comes; after `maxTries` failed tries S(RESYNCH request) is sent (up to
 * `maxResynch` times), after which ProtocolError('protocol/t1-unrecoverable') is thrown.
 * After S(RESYNCH response) both sequence numbers are 0, IFSC is min(ATR IFSC, current), a
 * negotiated IFSD is negotiated again, and, when an exchange was under way, `receive` throws
 * ProtocolError('protocol/t1-resynchronised'): the command is not sent again, since the card may
 * already have executed it (a VERIFY must never be retried automatically).
 * S(ABORT request) from the card is answered with S(ABORT response); the next `receive` then
 * throws ProtocolError('protocol/t1-aborted').
 * A card that would keep an exchange going without end gets
 * ProtocolError('protocol/t1-endless-exchange'): a chained response beyond 65538 bytes (Ne 65536
 * + SW1 SW2), more than `maxEmptyChained` empty I-blocks with M = 1 in a row (they carry nothing,
 * so nothing bounds a run of them but this), or more S(WTX) time than `maxWtxBwt`.
 * After a throw the card's state is unknown: call `resynch()` before the next exchange.
 */
export class T1Host {
  #ifsc: number;
  #ifsd: number;
  readonly #atrIfsc: number;
  readonly edc: T1Edc;
  readonly nad: number;
  readonly #maxTries: number;
  readonly #maxResynch: number;
  readonly #maxCardRequests: number;
  readonly #maxEmptyChained: number;
  readonly #maxWtxBwt: number;

  /** N(S) of our next (or in-flight) I-block. */
  #ns = 0;
  /** N(S) we expect in the card's next I-block. */
  #nr = 0;
  #phase = Phase.Idle;
  /** What the exchange is for, to finish after a resynchronisation: Sending (an APDU), Negotiating or Idle. */
  #purpose = Phase.Idle;

  #apdu: Uint8Array = EMPTY;
  /** End of the APDU part in our in-flight I-block. */
  #sentTo = 0;
  #more = false;
  #rx: Uint8Array[] = [];
  #rxLength = 0;
  #lastI: Uint8Array = EMPTY;
  #lastBlock: Uint8Array = EMPTY;
  #lastMultiplier = 1;
  #retries = 0;
  #resynchRequests = 0;
  #cardRequests = 0;
  #emptyChained = 0;
  #wtxGranted = 0;
  #requestedIfsd = 0;
  #ifsdNegotiated = false;

  constructor(opts: T1HostOptions) {
    checkRange('IFSC', opts.ifsc, 1, T1_MAX_INF);
    checkRange('IFSD', opts.ifsd, 1, T1_MAX_INF);
    this.nad = opts.nad ?? 0;
    checkRange('NAD', this.nad, 0, 0xff);
    this.#ifsc = this.#atrIfsc = opts.ifsc;
    this.#ifsd = opts.ifsd;
    this.edc = opts.edc;
    this.#maxTries = opts.maxTries ?? 3;
    this.#maxResynch = opts.maxResynch ?? 3;
    this.#maxCardRequests = opts.maxCardRequests ?? 1024;
    this.#maxEmptyChained = opts.maxEmptyChained ?? 8;
    this.#maxWtxBwt = opts.maxWtxBwt ?? Infinity;
  }

  /** Current IFSC (the card may change it with S(IFS request)). */
  get ifsc(): number {
    return this.#ifsc;
  }

  /** Current IFSD (changed by a successful {@link negotiateIfsd}). */
  get ifsd(): number {
    return this.#ifsd;
  }

  /** True while an exchange waits for {@link receive}. */
  get busy(): boolean {
    return this.#phase !== Phase.Idle;
  }

  /** Starts an exchange: returns the first I-block of `apdu` (chained within IFSC). */
  transmit(apdu: Uint8Array): T1Action {
    this.#start(Phase.Sending);
    this.#apdu = apdu.slice();
    return this.#sendChunk(0);
  }

  /** Sends S(IFS request) with `ifsd` (1..254); 'done' (empty response) once the card agreed. */
  negotiateIfsd(ifsd: number): T1Action {
    checkRange('IFSD', ifsd, 1, T1_MAX_INF);
    this.#start(Phase.Negotiating);
    this.#requestedIfsd = ifsd;
    return this.#sendIfsRequest();
  }

  /** Sends S(RESYNCH request); 'done' (empty response) once the card answered. */
  resynch(): T1Action {
    this.#start(Phase.Idle);
    return this.#startResynch();
  }

  /**
   * Takes the card's block, or null when nothing valid arrived in time. Throws
   * ProtocolError('protocol/t1-unrecoverable') when resynchronisation failed,
   * ProtocolError('protocol/t1-aborted') after the card aborted.
   */
  receive(block: Uint8Array | null): T1Action {
    const phase = this.#phase;
    if (phase === Phase.Idle) throw new ProtocolError('protocol/t1-unrecoverable', {});
    if (phase === Phase.Aborted) throw this.#end(new ProtocolError('protocol/t1-aborted', {}));
    const valid = block !== null && blockProblem(block, this.edc) === Problem.None;
    // PCB of a valid block, -1 when nothing valid arrived.
    const pcb = valid ? block[1]! : -1;
    const inf = valid ? block.slice(3, 3 + block[2]!) : EMPTY;
    if (phase === Phase.Resynching) return pcb === (PCB_S_RESPONSE | SBlock.Resynch) ? this.#resynchronised() : this.#startResynch();
    if (phase === Phase.Negotiating) {
      if (pcb === (PCB_S_RESPONSE | SBlock.Ifs) && inf[0] === this.#requestedIfsd) return this.#negotiated();
      // An S request not answered by its response is sent again (7816-3 §11.6.3.2).
      return this.#tryAgain(this.#lastBlock);
    }
    if (pcb < 0) return this.#error(block !== null && hasT1EdcError(block, this.edc) ? 1 : 2);
    if (pcb >= PCB_S_REQUEST) return this.#onCardRequest(pcb, inf);
    if (pcb >= PCB_R) return this.#onR((pcb >> 4) & 1);
    return this.#onI((pcb >> 6) & 1, (pcb & 0x20) !== 0, inf);
  }

  #start(purpose: Phase): void {
    this.#purpose = purpose;
    this.#retries = 0;
    this.#resynchRequests = 0;
    this.#cardRequests = 0;
    this.#emptyChained = 0;
    this.#wtxGranted = 0;
    this.#rx = [];
    this.#rxLength = 0;
  }

  /** Ends the exchange with `error` (the caller throws it). */
  #end(error: ProtocolError): ProtocolError {
    this.#phase = Phase.Idle;
    return error;
  }

  /** Records and returns a send action for `block`. */
  #emit(block: Uint8Array, bwtMultiplier = 1): T1Action {
    this.#lastBlock = block;
    this.#lastMultiplier = bwtMultiplier;
    return { kind: 'send', block, bwtMultiplier };
  }

  #send(pcb: number, inf: Uint8Array = EMPTY, bwtMultiplier = 1): T1Action {
    return this.#emit(frame(this.nad, pcb, inf, this.edc), bwtMultiplier);
  }

  /** Counts a failed try: sends `block`, or S(RESYNCH request) once `maxTries` tries failed. */
  #tryAgain(block: Uint8Array, bwtMultiplier = 1): T1Action {
    return ++this.#retries >= this.#maxTries ? this.#startResynch() : this.#emit(block, bwtMultiplier);
  }

  /** Answers an invalid or unexpected block with R(N(R) = the N(S) we expect, `code`). */
  #error(code: 1 | 2): T1Action {
    return this.#tryAgain(frame(this.nad, PCB_R | (this.#nr << 4) | code, EMPTY, this.edc));
  }

  #finish(response: Uint8Array): T1Action {
    this.#phase = Phase.Idle;
    this.#rx = [];
    return { kind: 'done', response };
  }

  #sendChunk(offset: number): T1Action {
    this.#phase = Phase.Sending;
    this.#sentTo = Math.min(offset + this.#ifsc, this.#apdu.length);
    this.#more = this.#sentTo < this.#apdu.length;
    this.#lastI = frame(this.nad, (this.#ns << 6) | (this.#more ? 0x20 : 0), this.#apdu.subarray(offset, this.#sentTo), this.edc);
    return this.#emit(this.#lastI);
  }

  #sendIfsRequest(): T1Action {
    this.#phase = Phase.Negotiating;
    return this.#send(PCB_S_REQUEST | SBlock.Ifs, Uint8Array.of(this.#requestedIfsd));
  }

  #startResynch(): T1Action {
    if (this.#resynchRequests++ >= this.#maxResynch) throw this.#end(new ProtocolError('protocol/t1-unrecoverable', { maxResynch: this.#maxResynch }));
    this.#retries = 0;
    this.#phase = Phase.Resynching;
    return this.#send(PCB_S_REQUEST | SBlock.Resynch);
  }

  /** S(RESYNCH response) came: both sequence numbers are 0, IFSC is min(ATR IFSC, current). */
  #resynchronised(): T1Action {
    this.#ns = this.#nr = 0;
    this.#ifsc = Math.min(this.#ifsc, this.#atrIfsc);
    this.#retries = 0;
    // The card is back to its initial IFSD: negotiate ours again before going on.
    if (this.#purpose === Phase.Negotiating) return this.#sendIfsRequest();
    if (this.#ifsdNegotiated) {
      this.#requestedIfsd = this.#ifsd;
      return this.#sendIfsRequest();
    }
    return this.#linkReady();
  }

  #negotiated(): T1Action {
    this.#ifsd = this.#requestedIfsd;
    this.#ifsdNegotiated = true;
    this.#retries = 0;
    return this.#linkReady();
  }

  /**
   * The resynchronisation or IFS negotiation is done. When it interrupted a command, the
   * command's fate is unknown: the card may have executed it before the error. It is not sent
   * again (a VERIFY must never be retried behind the caller's back); the caller decides.
   */
  #linkReady(): T1Action {
    if (this.#purpose !== Phase.Sending) return this.#finish(EMPTY);
    throw this.#end(new ProtocolError('protocol/t1-resynchronised', {}));
  }

  /** An S-block from the card (PCB `pcb`, checked). */
  #onCardRequest(pcb: number, inf: Uint8Array): T1Action {
    const type = pcb & 0x1f;
    if (pcb >= PCB_S_RESPONSE || type === SBlock.Resynch) return this.#error(2); // only we send S(RESYNCH request)s
    if (type === SBlock.Abort) {
      this.#phase = Phase.Aborted;
      return this.#send(PCB_S_RESPONSE | SBlock.Abort);
    }
    if (++this.#cardRequests > this.#maxCardRequests) {
      throw this.#end(new ProtocolError('protocol/t1-unrecoverable', { maxCardRequests: this.#maxCardRequests }));
    }
    let multiplier = 1;
    if (type === SBlock.Wtx) {
      multiplier = Math.max(1, inf[0]!);
      if ((this.#wtxGranted += multiplier) > this.#maxWtxBwt) {
        throw this.#end(new ProtocolError('protocol/t1-endless-exchange', { maxWtxBwt: this.#maxWtxBwt }));
      }
    } else {
      this.#ifsc = inf[0]!; // S(IFS request)
    }
    return this.#send(PCB_S_RESPONSE | type, inf, multiplier);
  }

  #onR(nr: number): T1Action {
    if (this.#phase !== Phase.Sending) {
      // Receiving the card's chain: the card did not get our last block.
      return this.#tryAgain(this.#lastBlock, this.#lastMultiplier);
    }
    if (nr === this.#ns) return this.#tryAgain(this.#lastI); // the card asks for our I-block again
    if (!this.#more) return this.#error(2);
    // Acknowledgement of a chained block: send the next one.
    this.#ns = nr;
    this.#retries = 0;
    return this.#sendChunk(this.#sentTo);
  }

  #onI(ns: number, more: boolean, inf: Uint8Array): T1Action {
    const sending = this.#phase === Phase.Sending;
    // A chained block of ours is acknowledged by an R-block; the card's N(S) must be the one we expect.
    if ((sending && this.#more) || ns !== this.#nr || inf.length > this.#ifsd) return this.#error(2);
    if ((this.#rxLength += inf.length) > MAX_RESPONSE) {
      throw this.#end(new ProtocolError('protocol/t1-endless-exchange', { maxResponse: MAX_RESPONSE }));
    }
    if (!more || inf.length) {
      this.#emptyChained = 0;
    } else if (++this.#emptyChained > this.#maxEmptyChained) {
      throw this.#end(new ProtocolError('protocol/t1-endless-exchange', { maxEmptyChained: this.#maxEmptyChained }));
    }
    if (sending) {
      // The card's I-block acknowledges our last I-block.
      this.#ns ^= 1;
      this.#phase = Phase.Receiving;
    }
    this.#rx.push(inf);
    this.#nr ^= 1;
    this.#retries = 0;
    return more ? this.#send(PCB_R | (this.#nr << 4)) : this.#finish(concatBytes(...this.#rx));
  }
}
