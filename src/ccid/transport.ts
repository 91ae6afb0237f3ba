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
  peekHeader,
  slotErrorFrom,
  type CcidCommand,
  type CcidResponse,
} from './messages.js';
import type { UsbDeviceLike } from '../usb/device.js';
import { mapUsbError } from '../usb/errors.js';
import { adaptIncomingFrame, adaptOutgoingFrame, type ReaderQuirks } from './quirks.js';

/** A command as callers give it: everything but bSeq, which the transport assigns. */
export type CcidRequest = CcidCommand extends infer C ? (C extends CcidCommand ? Omit<C, 'bSeq'> : never) : never;

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

interface Waiter {
  slot: number;
  seq: number;
  expect: CcidResponse['name'];
  stale: number;
  /**
   * When the answer is due (performance.now() ms: monotonic, so setting the wall clock moves no
   * deadline); moved on by time extensions.
   */
  deadline: number;
  deliver(frame: Uint8Array): void;
  fail(error: WebCcidError): void;
  /** The deadline passed without an answer. */
  expire(): void;
}

/** Exchanges between two turns given to the event loop (see `exchange`). */
const YIELD_EVERY = 16;

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

function isSlotBusy(r: CcidResponse): boolean {
  return commandStatus(r.bStatus) === COMMAND_STATUS_FAILED && r.bError === CCID_ERROR.CMD_SLOT_BUSY;
}

export class CcidTransport {
  readonly readLength: number;
  private seq = 0;
  private readonly waiters = new Map<number, Waiter>();
  /** ABORT sequences in progress, by slot: the next command on the slot waits for it. */
  private readonly aborting = new Map<number, Promise<void>>();
  private reading = false;
  private busy = 0;
  private readonly queue: Array<() => void> = [];
  private dead: WebCcidError | undefined;
  private readonly opts: Required<Omit<TransportOptions, 'onDisconnect' | 'trace' | 'quirks'>> & Pick<TransportOptions, 'onDisconnect' | 'trace'>;
  private readonly quirks: ReaderQuirks;
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
  private readonly settled = new Set<number>();
  private exchangesSinceYield = 0;
  /**
   * One timer for all the waiters' deadlines, set for the earliest and left running when that
   * command is answered: a later command re-arms it only when it fires early. Per command this
   * saves a setTimeout and a clearTimeout, measurable on the real-USB path (docs/testing.md).
   */
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Infinity;
  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = performance.now();
    for (const w of [...this.waiters.values()]) if (w.deadline <= now) w.expire();
    this.scheduleTimer();
  };

  constructor(
    private readonly device: UsbDeviceLike,
    options: TransportOptions,
  ) {
    const { quirks, ...rest } = options;
    this.opts = { maxStaleFrames: 8, abortTimeoutMs: 2000, abortControlTries: 3, ...rest };
    this.quirks = quirks ?? {};
    const packet = Math.max(8, options.wMaxPacketSizeIn);
    this.readLength = Math.ceil(Math.max(options.dwMaxCCIDMessageLength, CCID_HEADER_LENGTH) / packet) * packet;
  }

  /** The error that ended this transport, if any (disconnect, close). */
  get closedBy(): WebCcidError | undefined {
    return this.dead;
  }

  /** Sends one command and returns its answer. */
  async exchange(request: CcidRequest, options: ExchangeOptions): Promise<CcidResponse> {
    // A device that answers at once (a virtual one, a card flooding blocks)
    // would let a loop of exchanges run on promise jobs alone and starve
    // timers and events: give the event loop a turn now and then.
    if (++this.exchangesSinceYield >= YIELD_EVERY) {
      this.exchangesSinceYield = 0;
      await yieldToEventLoop();
    }
    const queued = this.acquire(options.signal);
    if (queued) await queued; // (no await when a place is free: this runs for every command)
    try {
      return await this.exchangeUnlocked(request, options);
    } finally {
      this.release();
    }
  }

  private async exchangeUnlocked(request: CcidRequest, options: ExchangeOptions): Promise<CcidResponse> {
    let response = await this.sendOnce(request, options);
    const slot = request.bSlot;
    if (isSlotBusy(response) && !this.settled.has(slot)) {
      // A slot answering busy after an ABORT sequence that did not complete
      // (or left busy by whoever had the reader before this transport): the
      // reader still runs, or waits for the other half of, an abort. Repeat
      // the sequence (CCID 1.10 §5.3.1), then send the command once more.
      this.startAbort(slot);
      response = await this.sendOnce(request, options);
    }
    if (!isSlotBusy(response)) this.settled.add(slot);
    if (commandStatus(response.bStatus) === COMMAND_STATUS_FAILED && !options.allowFailure) {
      throw slotErrorFrom(response.bStatus, response.bError);
    }
    return response;
  }

  /** One command on the wire and its answer, failed or not. */
  private async sendOnce(request: CcidRequest, options: ExchangeOptions): Promise<CcidResponse> {
    const aborting = this.aborting.get(request.bSlot);
    if (aborting) await aborting;
    if (this.dead) throw this.dead;
    if (options.signal?.aborted) throw new AbortError();
    const seq = this.nextSeq();
    const command = { ...request, bSeq: seq } as CcidCommand;
    const frame = encodeCommand(command);
    if (frame.length > this.opts.dwMaxCCIDMessageLength) {
      throw new CcidError(
        'ccid/message-too-long',
        `A ${frame.length}-byte message exceeds the reader's dwMaxCCIDMessageLength (${this.opts.dwMaxCCIDMessageLength}).`,
      );
    }
    if (this.waiters.has(command.bSlot)) {
      throw new CcidError('ccid/slot-busy', `Slot ${command.bSlot} already has a command in flight.`);
    }
    const answer = this.waitFor(command, options);
    // The answer can fail (an unplug seen on bulk-in or interrupt-in, a stall)
    // while the write is still pending: observe it now so that the failure is
    // never an unhandled rejection; it is awaited below.
    answer.catch(() => undefined);
    try {
      await this.write(frame);
    } catch (e) {
      const error = mapUsbError(e, 'bulk-out transfer');
      this.waiters.get(command.bSlot)?.fail(error);
      if (error.code === 'transport/disconnected') this.markDead(error);
    }
    return await answer;
  }

  /** Registers a waiter for `command`'s answer and keeps the bulk-in pump going. */
  private waitFor(command: CcidCommand, options: ExchangeOptions): Promise<CcidResponse> {
    return new Promise<CcidResponse>((resolve, reject) => {
      const cleanup = () => {
        if (options.signal) options.signal.removeEventListener('abort', onAbort);
        if (this.waiters.get(command.bSlot) === waiter) this.waiters.delete(command.bSlot);
        if (this.waiters.size === 0) holdEventLoop(this.timer, false);
      };
      const onAbort = () => {
        cleanup();
        reject(new AbortError());
        this.startAbort(command.bSlot);
      };
      let allowedMs = options.timeoutMs;
      const waiter: Waiter = {
        slot: command.bSlot,
        seq: command.bSeq,
        expect: RESPONSE_FOR[command.name],
        stale: 0,
        deadline: performance.now() + allowedMs,
        deliver: (wire) => {
          let response: CcidResponse;
          try {
            const bytes = adaptIncomingFrame(wire, this.quirks, command.name);
            response = decodeResponse(bytes, { maxDataLength: this.opts.dwMaxCCIDMessageLength - CCID_HEADER_LENGTH });
          } catch (e) {
            waiter.fail(e as WebCcidError);
            return;
          }
          if (response.name !== waiter.expect) {
            waiter.fail(
              new CcidError('ccid/unexpected-message', `${command.name} was answered with ${response.name}, not ${waiter.expect}.`),
            );
            return;
          }
          if (commandStatus(response.bStatus) === COMMAND_STATUS_TIME_EXTENSION) {
            this.stats.timeExtensions++;
            allowedMs = options.timeoutMs * Math.max(1, response.bError);
            waiter.deadline = performance.now() + allowedMs;
            this.scheduleTimer();
            return;
          }
          cleanup();
          resolve(response);
        },
        fail: (error) => {
          cleanup();
          reject(error);
        },
        expire: () => {
          cleanup();
          reject(new TransportError('transport/timeout', `The reader did not answer ${command.name} within ${Math.round(allowedMs)} ms.`));
          this.startAbort(command.bSlot);
        },
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.set(command.bSlot, waiter);
      this.scheduleTimer();
      this.pump();
    });
  }

  /** Sets the timer for the earliest deadline, unless it is set for that or earlier. */
  private scheduleTimer(): void {
    let next = Infinity;
    for (const w of this.waiters.values()) if (w.deadline < next) next = w.deadline;
    if (next === Infinity) return;
    if (next < this.timerAt) {
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timerAt = next;
      this.timer = setTimeout(this.onTimer, Math.max(0, next - performance.now()));
    } else {
      holdEventLoop(this.timer, true);
    }
  }

  /** Keeps exactly one bulk-in read outstanding while anybody waits. */
  private pump(): void {
    if (this.reading || this.dead) return;
    this.reading = true;
    void (async () => {
      try {
        while (this.waiters.size > 0 && !this.dead) {
          let result: USBInTransferResult;
          try {
            result = await this.device.transferIn(this.opts.bulkIn, this.readLength);
          } catch (e) {
            this.failAll(mapUsbError(e, 'bulk-in transfer'));
            return;
          }
          this.stats.transfersIn++;
          if (result.status === 'stall') {
            await this.device.clearHalt('in', this.opts.bulkIn).catch(() => undefined);
            this.failAll(new TransportError('transport/stall', 'The reader stalled its bulk-in endpoint; it was reset.'));
            continue;
          }
          if (result.status === 'babble') {
            this.failAll(new TransportError('transport/babble', 'The reader sent more data than a CCID message can hold.'));
            continue;
          }
          const bytes = bytesOf(result.data);
          if (bytes.length === 0) {
            this.stats.zeroLengthReads++;
            continue;
          }
          this.opts.trace?.('in', bytes);
          this.dispatch(bytes);
        }
      } finally {
        this.reading = false;
        // A waiter may have registered between the loop's last check and now.
        if (this.waiters.size > 0 && !this.dead) this.pump();
      }
    })();
  }

  private dispatch(bytes: Uint8Array): void {
    if (bytes.length < CCID_HEADER_LENGTH) {
      // Cannot tell whose answer this was: every waiting command gets the error.
      this.failAll(new CcidError('ccid/malformed-frame', `The reader sent a ${bytes.length}-byte frame, shorter than a CCID header.`));
      return;
    }
    const h = peekHeader(bytes);
    const waiter = this.waiters.get(h.bSlot);
    if (!waiter) {
      this.stats.staleFrames++;
      return;
    }
    if (h.bSeq !== waiter.seq) {
      this.stats.staleFrames++;
      if (++waiter.stale > this.opts.maxStaleFrames) {
        waiter.fail(new CcidError('ccid/stale-limit', `Too many out-of-sequence answers on slot ${h.bSlot}.`));
      }
      return;
    }
    waiter.deliver(bytes);
  }

  private failAll(error: WebCcidError): void {
    for (const w of [...this.waiters.values()]) w.fail(error);
    if (error.code === 'transport/disconnected') this.markDead(error);
  }

  private markDead(error: WebCcidError): void {
    if (this.dead) return;
    this.dead = error;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    for (const w of [...this.waiters.values()]) w.fail(error);
    for (const go of this.queue.splice(0)) go();
    if (error instanceof TransportError && error.code === 'transport/disconnected') this.opts.onDisconnect?.(error);
  }

  /** Called by the reader when the backend reports the device gone, or on close. */
  shutDown(error: WebCcidError): void {
    this.markDead(error);
  }

  private async write(message: Uint8Array): Promise<void> {
    const frame = adaptOutgoingFrame(message, this.quirks);
    this.opts.trace?.('out', frame);
    const r = await this.device.transferOut(this.opts.bulkOut, frame as Uint8Array<ArrayBuffer>);
    this.stats.transfersOut++;
    if (r.status === 'stall') {
      await this.device.clearHalt('out', this.opts.bulkOut).catch(() => undefined);
      throw new TransportError('transport/stall', 'The reader stalled its bulk-out endpoint; it was reset.');
    }
    if (r.bytesWritten !== frame.length) {
      throw new TransportError('transport/failed', `Only ${r.bytesWritten} of ${frame.length} bytes reached the reader.`);
    }
  }

  private nextSeq(): number {
    const s = this.seq;
    this.seq = (this.seq + 1) & 0xff;
    return s;
  }

  private startAbort(slot: number): void {
    if (this.aborting.has(slot)) return;
    const done = this.abort(slot).finally(() => this.aborting.delete(slot));
    this.aborting.set(slot, done);
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
  private async abort(slot: number): Promise<void> {
    if (this.dead) return;
    this.stats.aborts++;
    this.settled.delete(slot);
    const seq = this.nextSeq();
    try {
      for (let tries = 1; ; tries++) {
        try {
          const r = await this.device.controlTransferOut({
            requestType: 'class',
            recipient: 'interface',
            request: CCID_REQUEST_ABORT,
            value: (seq << 8) | slot,
            index: this.opts.interfaceNumber,
          });
          if (r.status === 'ok') break;
        } catch (e) {
          const error = mapUsbError(e, 'abort');
          if (error.code === 'transport/disconnected' || error.code === 'transport/closed') throw e;
        }
        this.stats.abortControlFailures++;
        if (tries >= this.opts.abortControlTries) break;
      }
      const command: CcidCommand = { name: 'Abort', bSlot: slot, bSeq: seq };
      const answer = this.waitFor(command, { timeoutMs: this.opts.abortTimeoutMs, allowFailure: true }).catch(() => undefined);
      await this.write(encodeCommand(command));
      await answer;
    } catch (e) {
      const err = mapUsbError(e, 'abort');
      if (err.code === 'transport/disconnected') this.markDead(err);
    }
  }

  /** Takes a place among bMaxCCIDBusySlots: at once (undefined) when one is free, else a promise of one. */
  private acquire(signal?: AbortSignal): Promise<void> | undefined {
    if (this.busy < this.opts.bMaxCCIDBusySlots) {
      this.busy++;
      return undefined;
    }
    return new Promise((resolve, reject) => {
      const go = () => {
        signal?.removeEventListener('abort', onAbort);
        this.busy++;
        resolve();
      };
      const onAbort = () => {
        const i = this.queue.indexOf(go);
        if (i >= 0) this.queue.splice(i, 1);
        reject(new AbortError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(go);
    });
  }

  private release(): void {
    this.busy--;
    const next = this.queue.shift();
    if (next) next();
  }
}
