/**
 * T=1 (ISO/IEC 7816-3 §11): block codec and the interface-device side as a pure state machine.
 *
 * Block: NAD | PCB | LEN | INF (0..254 bytes) | EDC (LRC: 1 byte XOR; CRC: 2 bytes).
 * PCB: I-block 0 N(S) M 00000; R-block 10 0 N(R) e3..e0 (0 ok, 1 EDC/parity, 2 other);
 * S-block 11 response type (0 RESYNCH, 1 IFS, 2 ABORT, 3 WTX).
 *
 * CRC: the one libccid / OpenCT use for T=1: CRC-16 with polynomial x^16+x^12+x^5+1 processed
 * least significant bit first (reflected, 0x8408), initial value FFFF, no final XOR, sent
 * high byte first.
 */
import { concatBytes } from '../bytes.js';
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

const S_TYPES: readonly T1SType[] = ['RESYNCH', 'IFS', 'ABORT', 'WTX'];
const EMPTY = new Uint8Array(0);

function badBlock(message: string): ProtocolError {
  return new ProtocolError('protocol/t1-bad-block', message);
}

/** LRC: XOR of every byte. */
export function lrc(bytes: Uint8Array): number {
  let x = 0;
  for (let i = 0; i < bytes.length; i++) x ^= bytes[i]!;
  return x;
}

const CRC_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x8408 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

/** CRC-16 of T=1 (see the module comment); the block carries it high byte first. */
export function crc16(bytes: Uint8Array): number {
  let v = 0xffff;
  for (let i = 0; i < bytes.length; i++) v = (v >>> 8) ^ CRC_TABLE[(v ^ bytes[i]!) & 0xff]!;
  return v;
}

function edcLength(edc: T1Edc): number {
  return edc === 'crc' ? 2 : 1;
}

/**
 * True when `bytes` is long enough to hold a prologue and an EDC but the EDC does not match:
 * an EDC error (R-block error code 1) rather than another kind of invalid block.
 */
export function hasT1EdcError(bytes: Uint8Array, edc: T1Edc): boolean {
  const el = edcLength(edc);
  if (bytes.length < 3 + el) return false;
  const body = bytes.subarray(0, bytes.length - el);
  if (edc === 'lrc') return lrc(body) !== bytes[bytes.length - 1];
  const c = crc16(body);
  return bytes[bytes.length - 2] !== c >> 8 || bytes[bytes.length - 1] !== (c & 0xff);
}

function checkSInf(type: T1SType, inf: Uint8Array): void {
  if (type === 'IFS') {
    if (inf.length !== 1 || inf[0] === 0 || inf[0] === 0xff) throw badBlock('S(IFS) carries one byte, 1..254.');
  } else if (type === 'WTX') {
    if (inf.length !== 1) throw badBlock('S(WTX) carries one byte.');
  } else if (inf.length !== 0) {
    throw badBlock(`S(${type}) carries no INF.`);
  }
}

/** Encodes a T=1 block with its EDC. Throws ProtocolError('protocol/t1-bad-block') on a block that cannot exist. */
export function encodeT1Block(block: T1Block, edc: T1Edc): Uint8Array {
  const nad = block.nad;
  if (!Number.isInteger(nad) || nad < 0 || nad > 0xff) throw badBlock('NAD must be a byte.');
  let pcb: number;
  let inf: Uint8Array;
  switch (block.kind) {
    case 'I':
      if (block.inf.length > T1_MAX_INF) throw badBlock(`I-block INF too long: ${block.inf.length} (at most ${T1_MAX_INF}).`);
      pcb = ((block.ns & 1) << 6) | (block.more ? 0x20 : 0);
      inf = block.inf;
      break;
    case 'R':
      if (block.error !== 0 && block.error !== 1 && block.error !== 2) throw badBlock('R-block error code must be 0, 1 or 2.');
      pcb = 0x80 | ((block.nr & 1) << 4) | block.error;
      inf = EMPTY;
      break;
    case 'S': {
      const t = S_TYPES.indexOf(block.type);
      if (t < 0) throw badBlock('Unknown S-block type.');
      checkSInf(block.type, block.inf);
      pcb = 0xc0 | (block.response ? 0x20 : 0) | t;
      inf = block.inf;
      break;
    }
  }
  const n = inf.length;
  const out = new Uint8Array(3 + n + edcLength(edc));
  out[0] = nad;
  out[1] = pcb;
  out[2] = n;
  out.set(inf, 3);
  const body = out.subarray(0, 3 + n);
  if (edc === 'lrc') {
    out[3 + n] = lrc(body);
  } else {
    const c = crc16(body);
    out[3 + n] = c >> 8;
    out[4 + n] = c & 0xff;
  }
  return out;
}

/**
 * Decodes a T=1 block. Throws ProtocolError('protocol/t1-bad-block') on a wrong length, LEN = FF,
 * a bad EDC, a PCB with RFU bits set, an R-block with INF or an unknown error code, and S-blocks of
 * unknown type or with a wrong INF.
 */
export function decodeT1Block(bytes: Uint8Array, edc: T1Edc): T1Block {
  const el = edcLength(edc);
  if (bytes.length < 3 + el) throw badBlock(`T=1 block too short: ${bytes.length} bytes.`);
  const len = bytes[2]!;
  if (len === 0xff) throw badBlock('LEN = FF is reserved.');
  if (bytes.length !== 3 + len + el) throw badBlock(`T=1 block of ${bytes.length} bytes does not match LEN ${len}.`);
  if (hasT1EdcError(bytes, edc)) throw badBlock(`T=1 block ${edc.toUpperCase()} mismatch.`);
  const nad = bytes[0]!;
  const pcb = bytes[1]!;
  const inf = bytes.slice(3, 3 + len);
  if ((pcb & 0x80) === 0) {
    if (pcb & 0x1f) throw badBlock('I-block PCB has RFU bits set.');
    return { kind: 'I', nad, ns: ((pcb >> 6) & 1) as 0 | 1, more: (pcb & 0x20) !== 0, inf };
  }
  if ((pcb & 0xc0) === 0x80) {
    const error = pcb & 0x0f;
    if (pcb & 0x20 || error > 2) throw badBlock('R-block PCB has RFU bits set.');
    if (len !== 0) throw badBlock('R-block with INF.');
    return { kind: 'R', nad, nr: ((pcb >> 4) & 1) as 0 | 1, error: error as 0 | 1 | 2 };
  }
  const type = S_TYPES[pcb & 0x1f];
  if (type === undefined) throw badBlock('Unknown S-block type.');
  checkSInf(type, inf);
  return { kind: 'S', nad, type, response: (pcb & 0x20) !== 0, inf };
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

type HostPhase = 'idle' | 'send' | 'receive' | 'ifs' | 'resynch' | 'aborted';

/** Largest response assembled (Ne 65536 + SW1 SW2, ISO/IEC 7816-4 §5.1): a chain carrying more can only be a faulty card. */
const MAX_RESPONSE = 65538;

function endless(message: string): ProtocolError {
  return new ProtocolError('protocol/t1-endless-exchange', message);
}

function checkIfs(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1 || v > T1_MAX_INF) throw badBlock(`${name} must be 1..${T1_MAX_INF}.`);
}

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
  #_ifsc: number;
  #_ifsd: number;
  readonly #initialIfsc: number;
  readonly edc: T1Edc;
  readonly nad: number;
  readonly #maxTries: number;
  readonly #maxResynch: number;
  readonly #maxCardRequests: number;
  readonly #maxEmptyChained: number;
  readonly #maxWtxBwt: number;

  /** N(S) of our next (or in-flight) I-block. */
  #ns: 0 | 1 = 0;
  /** N(S) we expect in the card's next I-block. */
  #nr: 0 | 1 = 0;
  #phase: HostPhase = 'idle';
  #resume: 'send' | 'ifs' | 'idle' = 'idle';

  #apdu: Uint8Array = EMPTY;
  #offset = 0;
  #chunkLen = 0;
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
  #requestedIfsd = T1_DEFAULT_IFS;
  #ifsdNegotiated = false;

  constructor(opts: T1HostOptions) {
    checkIfs('IFSC', opts.ifsc);
    checkIfs('IFSD', opts.ifsd);
    this.#_ifsc = opts.ifsc;
    this.#initialIfsc = opts.ifsc;
    this.#_ifsd = opts.ifsd;
    this.edc = opts.edc;
    this.nad = opts.nad ?? 0;
    this.#maxTries = opts.maxTries ?? 3;
    this.#maxResynch = opts.maxResynch ?? 3;
    this.#maxCardRequests = opts.maxCardRequests ?? 1024;
    this.#maxEmptyChained = opts.maxEmptyChained ?? 8;
    this.#maxWtxBwt = opts.maxWtxBwt ?? Number.POSITIVE_INFINITY;
  }

  /** Current IFSC (the card may change it with S(IFS request)). */
  get ifsc(): number {
    return this.#_ifsc;
  }

  /** Current IFSD (changed by a successful {@link negotiateIfsd}). */
  get ifsd(): number {
    return this.#_ifsd;
  }

  /** True while an exchange waits for {@link receive}. */
  get busy(): boolean {
    return this.#phase !== 'idle';
  }

  /** Starts an exchange: returns the first I-block of `apdu` (chained within IFSC). */
  transmit(apdu: Uint8Array): T1Action {
    this.#startExchange('send');
    this.#apdu = apdu.slice();
    return this.#sendChunk(0);
  }

  /** Sends S(IFS request) with `ifsd` (1..254); 'done' (empty response) once the card agreed. */
  negotiateIfsd(ifsd: number): T1Action {
    checkIfs('IFSD', ifsd);
    this.#startExchange('ifs');
    this.#requestedIfsd = ifsd;
    return this.#sendIfsRequest();
  }

  /** Sends S(RESYNCH request); 'done' (empty response) once the card answered. */
  resynch(): T1Action {
    this.#startExchange('idle');
    return this.#startResynch();
  }

  /**
   * Takes the card's block, or null when nothing valid arrived in time. Throws
   * ProtocolError('protocol/t1-unrecoverable') when resynchronisation failed,
   * ProtocolError('protocol/t1-aborted') after the card aborted.
   */
  receive(block: Uint8Array | null): T1Action {
    if (this.#phase === 'idle') throw new ProtocolError('protocol/t1-unrecoverable', 'No T=1 exchange in progress.');
    if (this.#phase === 'aborted') {
      this.#phase = 'idle';
      throw new ProtocolError('protocol/t1-aborted', 'The card aborted the T=1 chain (S(ABORT)).');
    }
    let parsed: T1Block | undefined;
    let errorCode: 1 | 2 = 2;
    if (block !== null) {
      try {
        parsed = decodeT1Block(block, this.edc);
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
        if (hasT1EdcError(block, this.edc)) errorCode = 1;
      }
    }
    switch (this.#phase) {
      case 'resynch':
        return this.#onResynchAnswer(parsed);
      case 'ifs':
        return this.#onIfsAnswer(parsed);
      default:
        return this.#onDataAnswer(parsed, errorCode);
    }
  }

  #startExchange(resume: 'send' | 'ifs' | 'idle'): void {
    this.#resume = resume;
    this.#retries = 0;
    this.#resynchRequests = 0;
    this.#cardRequests = 0;
    this.#emptyChained = 0;
    this.#wtxGranted = 0;
    this.#rx = [];
    this.#rxLength = 0;
  }

  #encode(block: T1Block): Uint8Array {
    return encodeT1Block(block, this.edc);
  }

  #send(block: Uint8Array, bwtMultiplier = 1): T1Action {
    this.#lastBlock = block;
    this.#lastMultiplier = bwtMultiplier;
    return { kind: 'send', block, bwtMultiplier };
  }

  #finish(response: Uint8Array): T1Action {
    this.#phase = 'idle';
    this.#rx = [];
    this.#rxLength = 0;
    return { kind: 'done', response };
  }

  #sendChunk(offset: number): T1Action {
    this.#phase = 'send';
    this.#offset = offset;
    this.#chunkLen = Math.min(this.#_ifsc, this.#apdu.length - offset);
    this.#more = offset + this.#chunkLen < this.#apdu.length;
    const inf = this.#apdu.subarray(offset, offset + this.#chunkLen);
    this.#lastI = this.#encode({ kind: 'I', nad: this.nad, ns: this.#ns, more: this.#more, inf });
    return this.#send(this.#lastI);
  }

  #sendIfsRequest(): T1Action {
    this.#phase = 'ifs';
    return this.#send(this.#encode({ kind: 'S', nad: this.nad, type: 'IFS', response: false, inf: Uint8Array.of(this.#requestedIfsd) }));
  }

  #startResynch(): T1Action {
    if (this.#resynchRequests >= this.#maxResynch) {
      this.#phase = 'idle';
      throw new ProtocolError('protocol/t1-unrecoverable', 'T=1 resynchronisation failed.');
    }
    this.#resynchRequests++;
    this.#retries = 0;
    this.#phase = 'resynch';
    return this.#send(this.#encode({ kind: 'S', nad: this.nad, type: 'RESYNCH', response: false, inf: EMPTY }));
  }

  /** Counts a failed try; resynchronises after `maxTries`. */
  #failedTry(): boolean {
    return ++this.#retries >= this.#maxTries;
  }

  #onResynchAnswer(block: T1Block | undefined): T1Action {
    if (block?.kind === 'S' && block.type === 'RESYNCH' && block.response) {
      this.#ns = 0;
      this.#nr = 0;
      this.#_ifsc = Math.min(this.#_ifsc, this.#initialIfsc);
      this.#retries = 0;
      this.#rx = [];
      this.#rxLength = 0;
      // The card is back to its initial IFSD: negotiate ours again before going on.
      if (this.#resume === 'ifs') return this.#sendIfsRequest();
      if (this.#ifsdNegotiated) {
        this.#requestedIfsd = this.#_ifsd;
        return this.#sendIfsRequest();
      }
      if (this.#resume === 'send') return this.#lostCommand();
      return this.#finish(EMPTY);
    }
    return this.#startResynch();
  }

  /**
   * The link is resynchronised but the command's fate is unknown: the card may
   * have executed it before the error. It is not sent again (a VERIFY must
   * never be retried behind the caller's back); the caller decides.
   */
  #lostCommand(): never {
    this.#phase = 'idle';
    throw new ProtocolError(
      'protocol/t1-resynchronised',
      'The T=1 link failed and was resynchronised; the command may or may not have reached the card. Send it again only if that is safe.',
    );
  }

  #onIfsAnswer(block: T1Block | undefined): T1Action {
    if (block?.kind === 'S' && block.type === 'IFS' && block.response && block.inf[0] === this.#requestedIfsd) {
      this.#_ifsd = this.#requestedIfsd;
      this.#ifsdNegotiated = true;
      this.#retries = 0;
      if (this.#resume === 'send') return this.#lostCommand(); // renegotiated after a resynch
      return this.#finish(EMPTY);
    }
    // An S request not answered by its response is sent again (7816-3 §11.6.3.2).
    if (this.#failedTry()) return this.#startResynch();
    return this.#sendIfsRequest();
  }

  #error(code: 1 | 2): T1Action {
    if (this.#failedTry()) return this.#startResynch();
    return this.#send(this.#encode({ kind: 'R', nad: this.nad, nr: this.#nr, error: code }));
  }

  #onDataAnswer(block: T1Block | undefined, errorCode: 1 | 2): T1Action {
    if (!block) return this.#error(errorCode);
    switch (block.kind) {
      case 'S':
        return this.#onCardRequest(block);
      case 'R':
        return this.#onR(block.nr);
      case 'I':
        return this.#onI(block);
    }
  }

  #onCardRequest(block: Extract<T1Block, { kind: 'S' }>): T1Action {
    if (block.response || block.type === 'RESYNCH') return this.#error(2); // only we send S requests of RESYNCH
    if (block.type === 'ABORT') {
      this.#phase = 'aborted';
      return this.#send(this.#encode({ kind: 'S', nad: this.nad, type: 'ABORT', response: true, inf: EMPTY }));
    }
    if (++this.#cardRequests > this.#maxCardRequests) {
      this.#phase = 'idle';
      throw new ProtocolError('protocol/t1-unrecoverable', `The card sent more than ${this.#maxCardRequests} S requests in one exchange.`);
    }
    const value = block.inf[0]!;
    if (block.type === 'WTX') {
      this.#wtxGranted += Math.max(1, value);
      if (this.#wtxGranted > this.#maxWtxBwt) {
        this.#phase = 'idle';
        throw endless(`S(WTX) asked for more than ${this.#maxWtxBwt} BWT in one exchange.`);
      }
    }
    if (block.type === 'IFS') this.#_ifsc = value;
    const answer = this.#encode({ kind: 'S', nad: this.nad, type: block.type, response: true, inf: Uint8Array.of(value) });
    return this.#send(answer, block.type === 'WTX' ? Math.max(1, value) : 1);
  }

  #onR(nr: 0 | 1): T1Action {
    if (this.#phase === 'send') {
      if (nr !== this.#ns && this.#more) {
        // Acknowledgement of a chained block: send the next one.
        this.#ns = nr;
        this.#retries = 0;
        return this.#sendChunk(this.#offset + this.#chunkLen);
      }
      if (nr === this.#ns) {
        if (this.#failedTry()) return this.#startResynch();
        return this.#send(this.#lastI);
      }
      return this.#error(2);
    }
    // Receiving the card's chain: the card did not get our last block.
    if (this.#failedTry()) return this.#startResynch();
    return this.#send(this.#lastBlock, this.#lastMultiplier);
  }

  #onI(block: Extract<T1Block, { kind: 'I' }>): T1Action {
    if (this.#phase === 'send' && this.#more) return this.#error(2); // a chained block is acknowledged by an R-block
    if (block.ns !== this.#nr || block.inf.length > this.#_ifsd) return this.#error(2);
    if (this.#rxLength + block.inf.length > MAX_RESPONSE) {
      this.#phase = 'idle';
      throw endless(`The card chained more than ${MAX_RESPONSE} bytes, longer than any APDU response.`);
    }
    if (block.more && block.inf.length === 0) {
      if (++this.#emptyChained > this.#maxEmptyChained) {
        this.#phase = 'idle';
        throw endless(`The card sent more than ${this.#maxEmptyChained} empty chained I-blocks in a row.`);
      }
    } else {
      this.#emptyChained = 0;
    }
    if (this.#phase === 'send') {
      // The card's I-block acknowledges our last I-block.
      this.#ns = (this.#ns ^ 1) as 0 | 1;
      this.#phase = 'receive';
    }
    this.#rx.push(block.inf);
    this.#rxLength += block.inf.length;
    this.#nr = (this.#nr ^ 1) as 0 | 1;
    this.#retries = 0;
    if (block.more) return this.#send(this.#encode({ kind: 'R', nad: this.nad, nr: this.#nr, error: 0 }));
    return this.#finish(concatBytes(...this.#rx));
  }
}
