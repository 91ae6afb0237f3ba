/**
 * A `navigator.smartCard`-shaped object for tests and demos, following the Web Smart Card API
 * spec's method steps: one operation per context at a time (InvalidStateError otherwise),
 * transactions that block other connections of the context, `SmartCardError`s with the spec's
 * response codes, getStatusChange with `changed` flags, event counts, timeout and AbortSignal.
 * Behind each reader sits an in-memory card (our virtual HCA card, or any `MemoryCard`).
 *
 * Platform behaviour the spec leaves to PC/SC is modelled on pcsc-lite: a T=0 card gets the
 * command bytes as a TPDU (case 4 answered with 61xx, see `T0CardEngine`) when it is a
 * `VirtualCard`; an unknown reader name is reported `unknown` + `changed`.
 *
 * - A getStatusChange timeout (SCARD_E_TIMEOUT) rejects with an "UnknownError" DOMException, as
 *   the spec's error mapping gives it (it has no response code: "otherwise UnknownError"), or
 *   with "TimeoutError" (`timeoutException: 'TimeoutError'`), as current Chromium does (blink's
 *   smart_card_error.cc maps its kTimeout to TimeoutError). Either way only after the timeout.
 * - Any other platform failure the spec has no response code for (SCARD_F_INTERNAL_ERROR,
 *   SCARD_F_COMM_ERROR, SCARD_E_NO_MEMORY, ...) is also an "UnknownError", but at once:
 *   `failNext` / `failAlways` with `{ exception: 'UnknownError' }`.
 * - A reset of the card (another application's, the reader's, or a "reset" / "unpower"
 *   disposition of any connection, this one's included) marks every connection open on that
 *   reader: each later call on it answers `reset-card`, every time, until the connection is
 *   closed. pcsc-lite's RFSetReaderEventState marks all handles of the reader and only
 *   SCardReconnect clears a handle's mark; the Web Smart Card API has no reconnect, so a new
 *   `connect()` is the way out.
 *
 * Test controls: insertCard / removeCard / resetCard / addReader / removeReader, the user's
 * answer to the permission prompt, a permissions-policy switch, `failNext` / `failAlways` /
 * `recover` to inject failures, `holdExclusive` for another application, and `log` of the
 * calls made.
 */
import { parseAtr } from '../iso7816/atr.js';
import type { MemoryCard } from '../card/memory.js';
import { T0CardEngine } from './t0-card.js';
import { VirtualCard } from './card.js';
import type {
  SmartCardAccessMode,
  SmartCardConnectOptions,
  SmartCardConnectResult,
  SmartCardConnection,
  SmartCardConnectionStatus,
  SmartCardContext,
  SmartCardDisposition,
  SmartCardGetStatusChangeOptions,
  SmartCardProtocol,
  SmartCardReaderStateFlagsIn,
  SmartCardReaderStateFlagsOut,
  SmartCardReaderStateIn,
  SmartCardReaderStateOut,
  SmartCardResourceManager,
  SmartCardResponseCode,
  SmartCardTransactionCallback,
  SmartCardTransactionOptions,
  SmartCardTransmitOptions,
} from '../smartcard/types.js';

/** The spec's `SmartCardError`: a DOMException with a `responseCode`. */
export class FakeSmartCardError extends DOMException {
  readonly responseCode: SmartCardResponseCode;

  constructor(message: string, options: { responseCode: SmartCardResponseCode }) {
    super(message, 'SmartCardError');
    this.responseCode = options.responseCode;
  }
}

function domError(name: string, message: string): DOMException {
  return new DOMException(message, name);
}

function scError(responseCode: SmartCardResponseCode): FakeSmartCardError {
  return new FakeSmartCardError(`PC/SC: ${responseCode}`, { responseCode });
}

/**
 * A failure the fake can inject: a response code (a `SmartCardError`), or a plain exception the
 * spec maps PC/SC codes without a response code to (e.g. `UnknownError` for SCARD_F_INTERNAL_ERROR).
 */
export type FakeSmartCardFailure = SmartCardResponseCode | { exception: 'UnknownError' | 'InvalidStateError' | 'AbortError' | 'TypeError' };

function failureError(failure: FakeSmartCardFailure): Error {
  if (typeof failure === 'string') return scError(failure);
  if (failure.exception === 'TypeError') return new TypeError('PC/SC: invalid parameter');
  return domError(failure.exception, `PC/SC failure (${failure.exception})`);
}

/** "In parallel": the result comes back in a later task, as from the platform's PC/SC service. */
function later(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function toBytes(source: BufferSource): Uint8Array {
  if (source instanceof ArrayBuffer) return new Uint8Array(source.slice(0));
  return new Uint8Array(source.buffer.slice(source.byteOffset, source.byteOffset + source.byteLength));
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(bytes.length);
  new Uint8Array(out).set(bytes);
  return out;
}

/** SCARD_ATTR_ATR_STRING (the only attribute the fake answers). */
export const SCARD_ATTR_ATR_STRING = 0x00090303;

interface FakeReader {
  name: string;
  card: MemoryCard | undefined;
  /** Card insertions + removals (the high word of EventState). */
  eventCount: number;
  /** Bumped on every power-up / reset: connections made before answer reset-card until closed. */
  powerGeneration: number;
  /** Another application holds the card exclusively. */
  heldExclusive: boolean;
  /** Connections open on this reader (exclusive ones counted separately). */
  shared: number;
  exclusive: number;
  t0: T0CardEngine | undefined;
}

/** Options of {@link createFakeSmartCard}. */
export interface FakeSmartCardOptions {
  /** Readers, each with an optional card in it. */
  readers?: Array<{ name: string; card?: MemoryCard }>;
  /** The user's answer to the connect() permission prompt. Default 'granted'. */
  permission?: 'granted' | 'denied';
  /** The "smart-card" permissions policy allows this document. Default true (else SecurityError). */
  policyAllowed?: boolean;
  /**
   * How a getStatusChange timeout rejects: 'UnknownError' (default: the spec's mapping, and
   * Chromium before it mapped kTimeout itself) or 'TimeoutError' (current Chromium).
   */
  timeoutException?: 'UnknownError' | 'TimeoutError';
}

/** A fake `navigator.smartCard` (see the file comment). */
export class FakeSmartCard implements SmartCardResourceManager {
  permission: 'granted' | 'denied';
  policyAllowed: boolean;
  timeoutException: 'UnknownError' | 'TimeoutError';
  /** Calls made, e.g. "connect Reader 0 shared t0,t1", "transmit", "beginTransaction", "endTransaction leave". */
  readonly log: string[] = [];
  /** @internal */ readonly readers = new Map<string, FakeReader>();
  private readonly failures: Array<{ operation: string; failure: FakeSmartCardFailure; times: number }> = [];
  private readonly waiters = new Set<() => void>();

  constructor(options: FakeSmartCardOptions = {}) {
    this.permission = options.permission ?? 'granted';
    this.policyAllowed = options.policyAllowed ?? true;
    this.timeoutException = options.timeoutException ?? 'UnknownError';
    for (const r of options.readers ?? []) this.addReader(r.name, r.card);
  }

  // ---- the API ----------------------------------------------------------------------------

  async establishContext(): Promise<SmartCardContext> {
    if (!this.policyAllowed) throw domError('SecurityError', 'The "smart-card" permissions policy does not allow this document.');
    await later();
    this.log.push('establishContext');
    const failure = this.takeFailure('establishContext');
    if (failure) throw failureError(failure);
    return new FakeSmartCardContext(this);
  }

  // ---- test controls ----------------------------------------------------------------------

  addReader(name: string, card?: MemoryCard): void {
    this.readers.set(name, { name, card, eventCount: card ? 1 : 0, powerGeneration: 0, heldExclusive: false, shared: 0, exclusive: 0, t0: undefined });
    this.notify();
  }

  removeReader(name: string): void {
    this.readers.delete(name);
    this.notify();
  }

  insertCard(name: string, card: MemoryCard): void {
    const r = this.reader(name);
    r.card = card;
    r.t0 = undefined;
    r.eventCount++;
    r.powerGeneration++;
    this.notify();
  }

  removeCard(name: string): void {
    const r = this.reader(name);
    r.card = undefined;
    r.t0 = undefined;
    r.eventCount++;
    r.powerGeneration++;
    this.notify();
  }

  /** Another application resets the card: open connections answer reset-card until closed. */
  resetCard(name: string): void {
    const r = this.reader(name);
    this.powerCycle(r);
    this.notify();
  }

  /** Another application takes (or releases) the card exclusively. */
  holdExclusive(name: string, held: boolean): void {
    this.reader(name).heldExclusive = held;
    this.notify();
  }

  /** The next call of `operation` ('establishContext', 'listReaders', 'getStatusChange', 'connect', 'transmit', 'status', 'beginTransaction', 'disconnect') fails with `failure`. */
  failNext(operation: string, failure: FakeSmartCardFailure): void {
    this.failures.push({ operation, failure, times: 1 });
  }

  /** Every call of `operation` fails with `failure` (a service that keeps failing) until `recover()`. */
  failAlways(operation: string, failure: FakeSmartCardFailure): void {
    this.failures.push({ operation, failure, times: Infinity });
  }

  /** Drops the injected failures (of `operation`, or all). */
  recover(operation?: string): void {
    for (let i = this.failures.length - 1; i >= 0; i--) if (operation === undefined || this.failures[i]!.operation === operation) this.failures.splice(i, 1);
  }

  // ---- internals used by the context and connections --------------------------------------

  /** @internal */ reader(name: string): FakeReader {
    const r = this.readers.get(name);
    if (!r) throw new Error(`fake: no reader ${name}`);
    return r;
  }

  /** @internal */ takeFailure(operation: string): FakeSmartCardFailure | undefined {
    const i = this.failures.findIndex((f) => f.operation === operation);
    if (i < 0) return undefined;
    const f = this.failures[i]!;
    if (--f.times <= 0) this.failures.splice(i, 1);
    return f.failure;
  }

  /** @internal */ powerCycle(r: FakeReader): void {
    r.powerGeneration++;
    if (r.card instanceof VirtualCard) r.card.reset();
    r.t0?.reset();
  }

  /** @internal */ notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** @internal */ onChange(w: () => void): () => void {
    this.waiters.add(w);
    return () => this.waiters.delete(w);
  }

  /** @internal */ stateOf(readerName: string): { flags: SmartCardReaderStateFlagsOut; count: number; atr?: Uint8Array } {
    const flags: SmartCardReaderStateFlagsOut = {
      ignore: false,
      changed: false,
      unavailable: false,
      unknown: false,
      empty: false,
      present: false,
      exclusive: false,
      inuse: false,
      mute: false,
      unpowered: false,
    };
    const r = this.readers.get(readerName);
    if (!r) {
      flags.unknown = true;
      return { flags, count: 0 };
    }
    if (!r.card) {
      flags.empty = true;
      return { flags, count: r.eventCount };
    }
    flags.present = true;
    flags.exclusive = r.heldExclusive || r.exclusive > 0;
    flags.inuse = r.shared > 0 || flags.exclusive;
    return { flags, count: r.eventCount, atr: r.card.atr };
  }
}

const FLAG_NAMES = ['unavailable', 'empty', 'present', 'exclusive', 'inuse', 'mute', 'unpowered'] as const;

function differs(current: SmartCardReaderStateFlagsIn, currentCount: number | undefined, out: SmartCardReaderStateFlagsOut, count: number): boolean {
  if (current.unaware) return true;
  if (out.unknown) return true;
  if (currentCount !== undefined && currentCount !== count) return true;
  return FLAG_NAMES.some((f) => (current[f] ?? false) !== out[f]);
}

class FakeSmartCardContext implements SmartCardContext {
  /** @internal */ operationInProgress = false;
  /** @internal */ readonly activeReaderTransactions = new Map<string, FakeSmartCardConnection>();
  /** @internal */ readonly connections = new Set<FakeSmartCardConnection>();

  constructor(readonly fake: FakeSmartCard) {}

  /** @internal */ begin(): void {
    if (this.operationInProgress) throw domError('InvalidStateError', 'Another operation is in progress on this context.');
    this.operationInProgress = true;
  }

  /** @internal */ clear(): void {
    this.operationInProgress = false;
    for (const c of this.connections) {
      c.endAnySettledTransaction();
      if (this.operationInProgress) return;
    }
  }

  async listReaders(): Promise<string[]> {
    this.begin();
    await later();
    this.clear();
    this.fake.log.push('listReaders');
    const failure = this.fake.takeFailure('listReaders');
    if (failure) throw failureError(failure);
    return [...this.fake.readers.keys()];
  }

  async getStatusChange(readerStates: SmartCardReaderStateIn[], options: SmartCardGetStatusChangeOptions = {}): Promise<SmartCardReaderStateOut[]> {
    const { signal } = options;
    if (this.operationInProgress) throw domError('InvalidStateError', 'Another operation is in progress on this context.');
    if (signal?.aborted) throw signal.reason;
    this.begin();
    this.fake.log.push('getStatusChange');
    const compute = (): { out: SmartCardReaderStateOut[]; changed: boolean } => {
      let changed = false;
      const out = readerStates.map((s) => {
        const { flags, count, atr } = this.fake.stateOf(s.readerName);
        if (s.currentState.ignore) {
          flags.ignore = true;
        } else if (differs(s.currentState, s.currentCount, flags, count)) {
          flags.changed = true;
          changed = true;
        }
        return { readerName: s.readerName, eventState: flags, eventCount: count, ...(atr ? { answerToReset: toArrayBuffer(atr) } : {}) };
      });
      return { out, changed };
    };
    let outcome: 'ok' | 'timeout' | 'cancelled' | { failure: FakeSmartCardFailure } = 'ok';
    await later();
    const failure = this.fake.takeFailure('getStatusChange');
    let result = compute();
    if (failure) {
      outcome = { failure };
    } else if (!result.changed) {
      outcome = await new Promise<'ok' | 'timeout' | 'cancelled'>((resolve) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const finish = (v: 'ok' | 'timeout' | 'cancelled') => {
          if (timer !== undefined) clearTimeout(timer);
          off();
          signal?.removeEventListener('abort', onAbort);
          resolve(v);
        };
        const off = this.fake.onChange(() => {
          result = compute();
          if (result.changed) finish('ok');
        });
        const onAbort = () => finish('cancelled');
        if (signal?.aborted) return finish('cancelled');
        signal?.addEventListener('abort', onAbort);
        if (options.timeout !== undefined) timer = setTimeout(() => finish('timeout'), options.timeout);
      });
    }
    this.clear();
    if (outcome === 'cancelled') throw signal?.reason ?? scError('system-cancelled');
    if (outcome === 'timeout') throw domError(this.fake.timeoutException, 'SCARD_E_TIMEOUT');
    if (outcome !== 'ok') throw failureError(outcome.failure);
    return result.out;
  }

  async connect(readerName: string, accessMode: SmartCardAccessMode, options: SmartCardConnectOptions = {}): Promise<SmartCardConnectResult> {
    if (this.operationInProgress) throw domError('InvalidStateError', 'Another operation is in progress on this context.');
    if (this.activeReaderTransactions.has(readerName)) throw domError('InvalidStateError', 'A transaction is active on this reader.');
    this.begin();
    await later();
    this.clear();
    const preferred = options.preferredProtocols ?? [];
    this.fake.log.push(`connect ${readerName} ${accessMode} ${preferred.join(',')}`);
    if (this.fake.permission === 'denied') throw domError('NotAllowedError', 'The user denied access to the smart card reader.');
    const failure = this.fake.takeFailure('connect');
    if (failure) throw failureError(failure);
    const r = this.fake.readers.get(readerName);
    if (!r) throw scError('unknown-reader');
    if (!r.card && accessMode !== 'direct') throw scError('no-smartcard');
    if (r.heldExclusive || r.exclusive > 0 || (accessMode !== 'shared' && r.shared > 0)) throw scError('sharing-violation');
    let activeProtocol: SmartCardProtocol | undefined;
    if (r.card && preferred.length > 0) {
      const offered = parseAtr(r.card.atr).protocols;
      activeProtocol = preferred.find((p) => (p === 't0' && offered.includes(0)) || (p === 't1' && offered.includes(1)));
      if (!activeProtocol) throw scError('proto-mismatch');
    }
    if (accessMode === 'shared') r.shared++;
    else r.exclusive++;
    if (activeProtocol === 't0' && r.card instanceof VirtualCard && !r.t0) r.t0 = new T0CardEngine(r.card);
    const connection = new FakeSmartCardConnection(this, r, accessMode, activeProtocol);
    this.connections.add(connection);
    return activeProtocol ? { connection, activeProtocol } : { connection };
  }
}

interface TransactionState {
  pendingDisposition: SmartCardDisposition | null;
  pendingException: unknown;
  settle: { resolve: () => void; reject: (e: unknown) => void };
}

class FakeSmartCardConnection implements SmartCardConnection {
  /** @internal */ comm: boolean = true;
  /** @internal */ transactionState: TransactionState | null = null;
  private readonly generation: number;

  constructor(
    private readonly context: FakeSmartCardContext,
    private readonly reader: FakeReader,
    private readonly accessMode: SmartCardAccessMode,
    private readonly activeProtocol: SmartCardProtocol | undefined,
  ) {
    this.generation = reader.powerGeneration;
  }

  private get fake(): FakeSmartCard {
    return this.context.fake;
  }

  /** The common first steps of transmit, status, control, getAttribute, setAttribute, disconnect. */
  private check(): void {
    if (this.context.operationInProgress) throw domError('InvalidStateError', 'Another operation is in progress on this context.');
    const holder = this.context.activeReaderTransactions.get(this.reader.name);
    if (holder && holder !== this) throw domError('InvalidStateError', 'Another connection holds a transaction on this reader.');
    if (!this.comm) throw domError('InvalidStateError', 'The connection is closed.');
  }

  /**
   * reset-card / removed-card as PC/SC reports them to a connection whose card changed: every
   * time, until the connection is closed (see the file comment).
   */
  private cardCondition(): SmartCardResponseCode | undefined {
    if (!this.fake.readers.has(this.reader.name)) return 'reader-unavailable';
    if (!this.reader.card) return 'removed-card';
    if (this.reader.powerGeneration !== this.generation) return 'reset-card';
    return undefined;
  }

  async transmit(sendBuffer: BufferSource, options: SmartCardTransmitOptions = {}): Promise<ArrayBuffer> {
    this.check();
    const protocol = options.protocol ?? this.activeProtocol;
    if (protocol !== 't0' && protocol !== 't1' && protocol !== 'raw') throw domError('InvalidStateError', 'No valid protocol for transmit.');
    const bytes = toBytes(sendBuffer);
    this.context.begin();
    await later();
    this.context.clear();
    this.fake.log.push('transmit');
    const failure = this.fake.takeFailure('transmit') ?? this.cardCondition();
    if (failure) throw failureError(failure);
    const card = this.reader.card!;
    if (protocol === 't0' && this.reader.t0) {
      const r = this.reader.t0.exchange(bytes);
      if (!r) throw scError('unresponsive-card');
      return toArrayBuffer(r.response);
    }
    return toArrayBuffer(card.transmit(bytes));
  }

  async startTransaction(transaction: SmartCardTransactionCallback, options: SmartCardTransactionOptions = {}): Promise<void> {
    const { signal } = options;
    if (this.context.operationInProgress) throw domError('InvalidStateError', 'Another operation is in progress on this context.');
    if (this.context.activeReaderTransactions.has(this.reader.name)) throw domError('InvalidStateError', 'A transaction is already active on this reader.');
    if (!this.comm) throw domError('InvalidStateError', 'The connection is closed.');
    if (this.transactionState) throw domError('InvalidStateError', 'A transaction is already active on this connection.');
    if (signal?.aborted) throw signal.reason;
    this.context.begin();
    await later();
    this.context.clear();
    this.fake.log.push('beginTransaction');
    const failure = this.fake.takeFailure('beginTransaction') ?? this.cardCondition();
    if (failure) throw failureError(failure);
    if (signal?.aborted) throw signal.reason;
    return new Promise<void>((resolve, reject) => {
      const state: TransactionState = { pendingDisposition: null, pendingException: null, settle: { resolve, reject } };
      this.transactionState = state;
      this.context.activeReaderTransactions.set(this.reader.name, this);
      let callbackPromise: Promise<SmartCardDisposition | null | undefined>;
      try {
        callbackPromise = Promise.resolve(transaction());
      } catch (e) {
        callbackPromise = Promise.reject(e);
      }
      callbackPromise.then(
        (v) => {
          const disposition = v ?? 'reset';
          if (this.context.operationInProgress) {
            state.pendingException = domError('InvalidStateError', 'The transaction ended while an operation was in progress.');
            state.pendingDisposition = disposition;
          } else {
            void this.endTransaction(disposition);
          }
        },
        (r: unknown) => {
          state.pendingException = r;
          if (this.context.operationInProgress) state.pendingDisposition = 'reset';
          else void this.endTransaction('reset');
        },
      );
    });
  }

  /** @internal */ endAnySettledTransaction(): void {
    const state = this.transactionState;
    if (!state || state.pendingDisposition === null) return;
    const d = state.pendingDisposition;
    state.pendingDisposition = null;
    void this.endTransaction(d);
  }

  private async endTransaction(disposition: SmartCardDisposition): Promise<void> {
    const state = this.transactionState!;
    if (!this.comm) {
      this.transactionState = null;
      state.settle.reject(domError('InvalidStateError', 'The connection is closed.'));
      return;
    }
    this.context.begin();
    await later();
    this.fake.log.push(`endTransaction ${disposition}`);
    // pcsc-lite's SCardEndTransaction with a reset marks every handle of the reader, ours too.
    if (disposition !== 'leave' && this.reader.card) this.fake.powerCycle(this.reader);
    this.context.activeReaderTransactions.delete(this.reader.name);
    this.transactionState = null;
    this.context.clear();
    if (state.pendingException === null) state.settle.resolve();
    else state.settle.reject(state.pendingException);
  }

  async status(): Promise<SmartCardConnectionStatus> {
    this.check();
    this.context.begin();
    await later();
    this.context.clear();
    this.fake.log.push('status');
    const failure = this.fake.takeFailure('status') ?? this.cardCondition();
    if (failure === 'removed-card') return { readerName: this.reader.name, state: 'absent' };
    if (failure) throw failureError(failure);
    const card = this.reader.card;
    if (!card) return { readerName: this.reader.name, state: 'absent' };
    const state = this.activeProtocol ?? 'powered';
    return { readerName: this.reader.name, state, answerToReset: toArrayBuffer(card.atr) };
  }

  async control(_controlCode: number, _data: BufferSource): Promise<ArrayBuffer> {
    this.check();
    this.context.begin();
    await later();
    this.context.clear();
    throw scError('unsupported-feature');
  }

  async getAttribute(tag: number): Promise<ArrayBuffer> {
    this.check();
    this.context.begin();
    await later();
    this.context.clear();
    if (tag === SCARD_ATTR_ATR_STRING && this.reader.card) return toArrayBuffer(this.reader.card.atr);
    throw scError('unsupported-feature');
  }

  async setAttribute(_tag: number, _value: BufferSource): Promise<void> {
    this.check();
    this.context.begin();
    await later();
    this.context.clear();
    throw scError('unsupported-feature');
  }

  async disconnect(disposition: SmartCardDisposition = 'leave'): Promise<void> {
    this.check();
    this.context.begin();
    await later();
    this.context.clear();
    this.fake.log.push(`disconnect ${disposition}`);
    const failure = this.fake.takeFailure('disconnect');
    if (failure) throw failureError(failure);
    this.comm = false;
    if (this.accessMode === 'shared') this.reader.shared--;
    else this.reader.exclusive--;
    this.context.connections.delete(this);
    if (disposition !== 'leave' && this.reader.card && this.fake.readers.has(this.reader.name)) {
      this.fake.powerCycle(this.reader);
      // Our own reset: this (closed) connection does not need to hear about it.
    }
    this.fake.notify();
  }
}

/** A fake `navigator.smartCard` with the given readers and cards. */
export function createFakeSmartCard(options: FakeSmartCardOptions = {}): FakeSmartCard {
  return new FakeSmartCard(options);
}
