/**
 * The CCID bulk pipe: sends PC_to_RDR messages and matches RDR_to_PC answers
 * to them by bSlot and bSeq.
 *
 * - One bulk-in read is outstanding at a time and is shared: WebUSB cannot
 *   cancel a transfer, so a read left over from a timed-out command stays in
 *   flight and whatever it brings is dispatched like any other frame. A
 *   frame whose bSeq does not match its slot's waiting command is stale and
 *   dropped (at most `maxStaleFrames` for one command).
 * - Read lengths are dwMaxCCIDMessageLength rounded up to a multiple of
 *   wMaxPacketSize, so a reader's full last packet never overflows ("babble").
 * - A zero-length read is not an answer (QEMU's reader sends one after an
 *   answer that fills its last packet): read again.
 * - bmCommandStatus = 2 (time extension) restarts the command's timer,
 *   multiplied by bError when non-zero.
 * - On timeout or cancellation the command is aborted the CCID way (the ABORT
 *   class request, then PC_to_RDR_Abort with the same bSlot and bSeq), so the
 *   reader is ready for the next command. A failed ABORT request is tried
 *   again (3 tries). A reader keeps the slot busy until it has both halves, so
 *   when a slot answers CMD_SLOT_BUSY and no exchange went through on it since
 *   the last abort (or since this transport was opened: an earlier session may
 *   have left it busy), the sequence is repeated and the command sent again
 *   once.
 * - At most bMaxCCIDBusySlots commands are in flight at once; callers keep
 *   one command per slot (see CcidReader).
 *
 * The path of every command is short on purpose (on a real reader each step costs time, under
 * QEMU's emulation many times over: docs/testing.md, "QEMU round trips"): one object and one
 * promise per command, the bulk-in read posted (before the command goes out) and handled by
 * callbacks made once per transport, no await between the call and the command on the wire.
 */
import { bytesOf } from '../bytes.js';
import { AbortError, CcidError, TransportError, WebCcidError } from '../errors.js';
import {
  CCID_ERROR,
  CCID_HEADER_LENGTH,
  CCID_REQUEST_ABORT,
  COMMAND_STATUS_FAILED,
  COMMAND_STATUS_TIME_EXTENSION,
  RESPONSE_FOR,
  commandStatus,
  decodeResponse,
  encodeCommand,
  slotErrorFrom,
  type CcidCommandName,
  type CcidRequest,
  type CcidResponse,
} from './messages.js';
import type { UsbDeviceLike } from '../usb/device.js';
import { mapUsbError } from '../usb/errors.js';
import { adaptIncomingFrame, adaptOutgoingFrame, type ReaderQuirks } from './quirks.js';

export type { CcidRequest } from './messages.js';

export interface ExchangeOptions {
  /** How long to wait for the answer, in ms; restarted by each time extension. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Return a failed answer instead of throwing its SlotError (for callers that inspect bError). */
  allowFailure?: boolean;
}

export interface TransportOptions {
  interfaceNumber: number;
  bulkIn: number;
  bulkOut: number;
  wMaxPacketSizeIn: number;
  dwMaxCCIDMessageLength: number;
  bMaxCCIDBusySlots: number;
  /** Stale frames tolerated while waiting for one answer (default 8). */
  maxStaleFrames?: number;
  /** Time allowed for the ABORT sequence after a timeout (default 2000 ms). */
  abortTimeoutMs?: number;
  /** Tries of the ABORT class request in one abort sequence (default 3). */
  abortControlTries?: number;
  /** Called once when a transfer says the device is gone. */
  onDisconnect?: (error: TransportError) => void;
  /** Wire-level trace hook (frames as sent and received). */
  trace?: (direction: 'out' | 'in', frame: Uint8Array) => void;
  /** The reader's framing quirks (big-endian dwLength, a 0x00 before the ATR), applied at the wire (see quirks.ts). */
  quirks?: ReaderQuirks;
}

/**
 * One command from the call to its answer: the transport's only object per command. It is
 * settled by callbacks (the answer, a failed write, the timer, an abort, an unplug), never by
 * an await, and sent again (new bSeq) once when the slot answers busy after an abort.
 */
class Waiter {
  // (set by each send)
  stale!: number;
  seq!: number;
  allowedMs!: number;
  /**
   * When the answer is due (performance.now() ms: monotonic, so setting the wall clock moves no
   * deadline); moved on by time extensions.
   */
  deadline!: number;
  /** The bulk-out transfer has completed. */
  sent!: boolean;
  done?: boolean;
  /** Holds one of the bMaxCCIDBusySlots places (a caller's command; the ABORT sequence's does not). */
  place?: boolean;
  /** Sent again after a busy answer (once at most). */
  retried?: boolean;
  /** The answer, when it came before the bulk-out transfer completed. */
  early: CcidResponse | undefined;
  /** Its signal's listener: while it waits for a place in the queue, then while it is in flight. */
  onAbort: (() => void) | undefined;
  resolve!: (response: CcidResponse) => void;
  reject!: (error: unknown) => void;
  readonly answer = new Promise<CcidResponse>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });
  constructor(
    readonly request: CcidRequest,
    readonly options: ExchangeOptions,
  ) {}

  get slot(): number {
    return this.request.bSlot;
  }
}

/** Exchanges between two turns given to the event loop (see `exchange`). */
const YIELD_EVERY = 16;

const ignore = (): void => undefined;

/** Resolves in a later task (setImmediate where it exists, else setTimeout 0), after pending timers and I/O. */
function yieldToEventLoop(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
  return new Promise((resolve) => (immediate ? immediate(resolve) : setTimeout(resolve, 0)));
}

/**
 * In Node, whether the transport's timer keeps the process alive: only while a command waits (as
 * a per-command timer did); a timer left running while nothing waits must not delay exit.
 * Browsers' timers have no such notion (a number: nothing to do).
 */
function holdEventLoop(timer: ReturnType<typeof setTimeout> | undefined, hold: boolean): void {
  const t = timer as { ref?: () => void; unref?: () => void } | undefined;
  if (typeof t === 'object') {
    if (hold) t.ref?.();
    else t.unref?.();
  }
}

/** The error after a stalled bulk endpoint was cleared. */
function stalled(direction: 'in' | 'out'): TransportError {
  return new TransportError('transport/stall', { direction });
}

function isSlotBusy(r: CcidResponse): boolean {
  return commandStatus(r.bStatus) === COMMAND_STATUS_FAILED && r.bError === CCID_ERROR.CMD_SLOT_BUSY;
}

export class CcidTransport {
  readonly readLength: number;
  #seq = 0;
  /** The command waiting on each slot (indexed by bSlot), and how many wait. */
  readonly #waiters: Array<Waiter | undefined> = [];
  #waiting = 0;
  /** Of those, answered before their write completed: they need no more reads. */
  #answered = 0;
  /** ABORT sequences in progress, by slot: the next command on the slot waits for it. */
  readonly #aborting = new Map<number, Promise<void>>();
  #reading = false;
  #busy = 0;
  /** Commands waiting for one of the bMaxCCIDBusySlots places. */
  readonly #queue: Waiter[] = [];
  #dead: WebCcidError | undefined;
  readonly #opts: Required<Omit<TransportOptions, 'onDisconnect' | 'trace' | 'quirks'>> & Pick<TransportOptions, 'onDisconnect' | 'trace'>;
  readonly #quirks: ReaderQuirks;
  readonly #decodeLimit: { maxDataLength: number };
  /** Counters for diagnostics and benchmarks. */
  readonly stats = {
    transfersOut: 0,
    transfersIn: 0,
    staleFrames: 0,
    timeExtensions: 0,
    zeroLengthReads: 0,
    aborts: 0,
    abortControlFailures: 0,
  };
  /**
   * Slots known not to be left busy: an exchange went through since this
   * transport opened or since the last ABORT sequence on the slot. A busy
   * answer on any other slot is taken for a leftover and aborted.
   */
  readonly #settled = new Set<number>();
  #exchangesSinceYield = 0;
  /**
   * One timer for all the waiters' deadlines, set for the earliest and left running when that
   * command is answered: a later command re-arms it only when it fires early. Per command this
   * saves a setTimeout and a clearTimeout, measurable on the real-USB path (docs/testing.md).
   */
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  readonly #onTimer = (): void => {
    this.#stopTimer();
    const now = performance.now();
    for (const w of this.#waiters) if (w && w.deadline <= now) this.#expire(w);
    this.#scheduleTimer();
  };

  readonly #device: UsbDeviceLike;

  constructor(device: UsbDeviceLike, options: TransportOptions) {
    this.#device = device;
    const { quirks, ...rest } = options;
    this.#opts = { maxStaleFrames: 8, abortTimeoutMs: 2000, abortControlTries: 3, ...rest };
    this.#quirks = quirks ?? {};
    this.#decodeLimit = { maxDataLength: options.dwMaxCCIDMessageLength - CCID_HEADER_LENGTH };
    const packet = Math.max(8, options.wMaxPacketSizeIn);
    this.readLength = Math.ceil(Math.max(options.dwMaxCCIDMessageLength, CCID_HEADER_LENGTH) / packet) * packet;
  }

  /** The error that ended this transport, if any (disconnect, close). */
  get closedBy(): WebCcidError | undefined {
    return this.#dead;
  }

  /** Sends one command and returns its answer. */
  exchange(request: CcidRequest, options: ExchangeOptions): Promise<CcidResponse> {
    const w = new Waiter(request, options);
    // A device that answers at once (a virtual one, a card flooding blocks)
    // would let a loop of exchanges run on promise jobs alone and starve
    // timers and events: give the event loop a turn now and then.
    if (++this.#exchangesSinceYield >= YIELD_EVERY) {
      this.#exchangesSinceYield = 0;
      void yieldToEventLoop().then(() => this.#acquire(w));
    } else {
      this.#acquire(w);
    }
    return w.answer;
  }

  /**
   * Puts the command on the wire (a caller's once its slot is not being aborted); its answer
   * settles `w`.
   */
  #send(w: Waiter, seq?: number): void {
    const { request, options } = w;
    const slot = request.bSlot;
    const aborting = w.place && this.#aborting.get(slot);
    if (aborting) {
      void aborting.then(() => this.#send(w));
      return;
    }
    if (this.#dead) return this.#settle(w, this.#dead);
    if (options.signal?.aborted) return this.#settle(w, new AbortError());
    seq ??= this.#nextSeq();
    let wire: Uint8Array;
    try {
      const frame = encodeCommand(request, seq);
      if (frame.length > this.#opts.dwMaxCCIDMessageLength) {
        throw new CcidError('ccid/message-too-long', { length: frame.length, dwMaxCCIDMessageLength: this.#opts.dwMaxCCIDMessageLength });
      }
      if (this.#waiters[slot]) throw new CcidError('ccid/slot-busy', { slot });
      wire = adaptOutgoingFrame(frame, this.#quirks);
    } catch (e) {
      return this.#settle(w, e);
    }
    w.seq = seq;
    w.stale = 0;
    w.sent = false;
    w.early = undefined;
    w.allowedMs = options.timeoutMs;
    w.deadline = performance.now() + options.timeoutMs;
    this.#waiters[slot] = w;
    this.#waiting++;
    const signal = options.signal;
    if (signal) {
      w.onAbort = () => {
        this.#settle(w, new AbortError());
        this.#startAbort(slot);
      };
      signal.addEventListener('abort', w.onAbort, { once: true });
    }
    this.#scheduleTimer();
    // the read first: it is waiting when the answer comes
    this.#pump();
    const writeFailed = (e: unknown) => {
      const error = mapUsbError(e, 'bulk-out transfer');
      this.#settle(w, error);
      if (error.code === 'transport/disconnected') this.#markDead(error);
    };
    try {
      this.#opts.trace?.('out', wire);
      this.#device.transferOut(this.#opts.bulkOut, wire as Uint8Array<ArrayBuffer>).then((r) => {
        this.stats.transfersOut++;
        if (r.status === 'stall') {
          void this.#device
            .clearHalt('out', this.#opts.bulkOut)
            .catch(ignore)
            .then(() => this.#settle(w, stalled('out')));
        } else if (r.bytesWritten !== wire.length) {
          this.#settle(w, new TransportError('transport/failed', { written: r.bytesWritten, length: wire.length }));
        } else {
          w.sent = true;
          if (w.early) this.#complete(w, w.early);
        }
      }, writeFailed);
    } catch (e) {
      writeFailed(e);
    }
  }

  /** Takes the waiter off its slot and its signal. */
  #unregister(w: Waiter): void {
    if (this.#waiters[w.slot] === w) {
      this.#waiters[w.slot] = undefined;
      if (w.early) this.#answered--;
      if (--this.#waiting === 0) holdEventLoop(this.#timer, false);
    }
    if (w.onAbort) w.options.signal!.removeEventListener('abort', w.onAbort);
    w.onAbort = undefined;
  }

  /** Settles the command (once: with its answer, else its error) and gives its place to the next. */
  #settle(w: Waiter, error: unknown, response?: CcidResponse): void {
    if (w.done) return;
    w.done = true;
    this.#unregister(w);
    if (w.place) this.#release();
    if (response) w.resolve(response);
    else w.reject(error);
  }

  /**
   * The command's answer, written and read. A slot answering busy after an ABORT sequence that
   * did not complete (or left busy by whoever had the reader before this transport): the reader
   * still runs, or waits for the other half of, an abort. Repeat the sequence (CCID 1.10
   * §5.3.1), then send the command once more.
   */
  #complete(w: Waiter, response: CcidResponse): void {
    if (w.place) {
      const slot = w.slot;
      const busy = isSlotBusy(response);
      if (busy && !w.retried && !this.#settled.has(slot)) {
        w.retried = true;
        this.#unregister(w);
        this.#startAbort(slot);
        return this.#send(w);
      }
      if (!busy) this.#settled.add(slot);
      if (commandStatus(response.bStatus) === COMMAND_STATUS_FAILED && !w.options.allowFailure) {
        return this.#settle(w, slotErrorFrom(response.bStatus, response.bError));
      }
    }
    this.#settle(w, undefined, response);
  }

  /** The deadline passed without an answer. */
  #expire(w: Waiter): void {
    this.#settle(w, new TransportError('transport/timeout', { command: w.request.name, ms: Math.round(w.allowedMs) }));
    this.#startAbort(w.slot);
  }

  /** The answer to `w`'s command (bSlot and bSeq matched). */
  #deliver(w: Waiter, wire: Uint8Array): void {
    const name = w.request.name;
    let response: CcidResponse;
    try {
      response = decodeResponse(adaptIncomingFrame(wire, this.#quirks, name), this.#decodeLimit);
    } catch (e) {
      this.#settle(w, e);
      return;
    }
    const expect = RESPONSE_FOR[name];
    if (response.name !== expect) {
      this.#settle(w, new CcidError('ccid/unexpected-message', { command: name, answer: response.name, expected: expect }));
    } else if (commandStatus(response.bStatus) === COMMAND_STATUS_TIME_EXTENSION) {
      this.stats.timeExtensions++;
      w.allowedMs *= Math.max(1, response.bError);
      w.deadline = performance.now() + w.allowedMs;
      this.#scheduleTimer();
    } else if (!w.sent) {
      // The caller gets the answer once the write has completed too: the next command's write
      // must not start before (the `usb` package allows one transfer at a time per endpoint).
      w.early = response;
      this.#answered++;
    } else {
      this.#complete(w, response);
    }
  }

  /** Sets the timer for the earliest deadline, unless it is set for that or earlier. */
  #scheduleTimer(): void {
    let next = Infinity;
    for (const w of this.#waiters) if (w && w.deadline < next) next = w.deadline;
    if (next === Infinity) return;
    if (next < this.#timerAt) {
      clearTimeout(this.#timer);
      this.#timerAt = next;
      this.#timer = setTimeout(this.#onTimer, Math.max(0, next - performance.now()));
    } else {
      holdEventLoop(this.#timer, true);
    }
  }

  #stopTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  /** Keeps exactly one bulk-in read outstanding while a command waits for its answer. */
  #pump(): void {
    if (this.#reading || this.#dead || this.#waiting === this.#answered) return;
    this.#reading = true;
    this.#device.transferIn(this.#opts.bulkIn, this.readLength).then(this.#onRead, this.#onReadError);
  }

  readonly #onReadError = (e: unknown): void => this.#readFailed(mapUsbError(e, 'bulk-in transfer'));

  #readFailed(error: WebCcidError): void {
    this.#reading = false;
    this.#failAll(error);
    this.#pump();
  }

  readonly #onRead = (result: USBInTransferResult): void => {
    this.stats.transfersIn++;
    if (result.status === 'stall') {
      // (reading stays set: no read is posted until the endpoint is cleared)
      void this.#device
        .clearHalt('in', this.#opts.bulkIn)
        .catch(ignore)
        .then(() => this.#readFailed(stalled('in')));
      return;
    }
    this.#reading = false;
    if (result.status === 'babble') {
      this.#failAll(new TransportError('transport/babble', {}));
    } else {
      const bytes = bytesOf(result.data);
      if (bytes.length === 0) {
        this.stats.zeroLengthReads++;
      } else {
        this.#opts.trace?.('in', bytes);
        this.#dispatch(bytes);
      }
    }
    this.#pump();
  };

  #dispatch(bytes: Uint8Array): void {
    if (bytes.length < CCID_HEADER_LENGTH) {
      // Cannot tell whose answer this was: every waiting command gets the error.
      this.#failAll(new CcidError('ccid/malformed-frame', { length: bytes.length }));
      return;
    }
    const slot = bytes[5]!;
    const w = this.#waiters[slot];
    if (!w) {
      this.stats.staleFrames++;
    } else if (bytes[6] !== w.seq) {
      this.stats.staleFrames++;
      if (++w.stale > this.#opts.maxStaleFrames) {
        this.#settle(w, new CcidError('ccid/stale-limit', { slot }));
      }
    } else {
      this.#deliver(w, bytes);
    }
  }

  #failAll(error: WebCcidError): void {
    for (const w of this.#waiters) if (w) this.#settle(w, error);
    if (error.code === 'transport/disconnected') this.#markDead(error);
  }

  #markDead(error: WebCcidError): void {
    if (this.#dead) return;
    this.#dead = error;
    this.#stopTimer();
    this.#failAll(error);
    for (const w of this.#queue.splice(0)) this.#settle(w, error);
    if (error instanceof TransportError && error.code === 'transport/disconnected') this.#opts.onDisconnect?.(error);
  }

  /** Called by the reader when the backend reports the device gone, or on close. */
  shutDown(error: WebCcidError): void {
    this.#markDead(error);
  }

  #nextSeq(): number {
    const s = this.#seq;
    this.#seq = (this.#seq + 1) & 0xff;
    return s;
  }

  #startAbort(slot: number): void {
    if (this.#aborting.has(slot)) return;
    const done = this.#abort(slot).finally(() => this.#aborting.delete(slot));
    this.#aborting.set(slot, done);
  }

  /**
   * CCID 1.10 §5.3.1: the ABORT class request and PC_to_RDR_Abort, with the
   * same bSlot and bSeq; the reader answers the Abort once it has both. The
   * class request is tried up to `abortControlTries` times (a failed control
   * transfer is usually a passing USB error); PC_to_RDR_Abort is sent even
   * when every try failed, since a reader that did get the request needs it.
   * Failures are not thrown (the next command reports what is wrong) but are
   * remembered: until an exchange on the slot goes through, a busy answer
   * makes the next command repeat the whole sequence first. A disconnect is
   * noticed.
   */
  async #abort(slot: number): Promise<void> {
    if (this.#dead) return;
    this.stats.aborts++;
    this.#settled.delete(slot);
    const seq = this.#nextSeq();
    for (let tries = 1; ; tries++) {
      try {
        const r = await this.#device.controlTransferOut({
          requestType: 'class',
          recipient: 'interface',
          request: CCID_REQUEST_ABORT,
          value: (seq << 8) | slot,
          index: this.#opts.interfaceNumber,
        });
        if (r.status === 'ok') break;
      } catch (e) {
        const error = mapUsbError(e, 'abort');
        if (error.code === 'transport/disconnected') return this.#markDead(error);
        if (error.code === 'transport/closed') return;
      }
      this.stats.abortControlFailures++;
      if (tries >= this.#opts.abortControlTries) break;
    }
    // (a failed write or a disconnect settles the answer: see send)
    const w = new Waiter({ name: 'Abort', bSlot: slot }, { timeoutMs: this.#opts.abortTimeoutMs });
    this.#send(w, seq);
    await w.answer.catch(ignore);
  }

  /** Takes a place among bMaxCCIDBusySlots for `w` (at once when one is free), then sends it. */
  #acquire(w: Waiter): void {
    if (this.#busy < this.#opts.bMaxCCIDBusySlots) return this.#take(w);
    const signal = w.options.signal;
    if (signal) {
      // (#release takes the listener off before the command leaves the queue, so w is in it)
      w.onAbort = () => {
        this.#queue.splice(this.#queue.indexOf(w), 1);
        this.#settle(w, new AbortError());
      };
      signal.addEventListener('abort', w.onAbort, { once: true });
    }
    this.#queue.push(w);
  }

  #take(w: Waiter): void {
    this.#busy++;
    w.place = true;
    this.#send(w);
  }

  #release(): void {
    this.#busy--;
    const next = this.#queue.shift();
    if (next) {
      this.#unregister(next); // (its signal's listener while queued)
      this.#take(next);
    }
  }
}
