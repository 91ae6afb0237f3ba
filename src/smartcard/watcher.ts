/**
 * Watches the smart-card readers of the Web Smart Card API for readers coming and going and
 * cards being inserted and removed. It holds its own `SmartCardContext` (a context runs one
 * operation at a time, and getStatusChange waits), so it never blocks a channel.
 *
 * Loop: listReaders, then getStatusChange on them with the last known state (and count) and
 * a timeout of `pollIntervalMs`. A change resolves it at once; a timeout just lists the readers
 * again, to see readers plugged in meanwhile. With no reader at all it waits `pollIntervalMs`
 * and lists again. `stop()` (or the signal) cancels the outstanding getStatusChange through
 * its AbortSignal.
 *
 * A timeout is told from a failure by what the platform says AND when: PC/SC's SCARD_E_TIMEOUT
 * has no response code; the spec maps it, like every other code it does not name
 * (SCARD_F_INTERNAL_ERROR, SCARD_F_COMM_ERROR, SCARD_E_NO_MEMORY, ...), to an "UnknownError"
 * DOMException, and current Chromium rejects it with a "TimeoutError" instead. So a
 * "TimeoutError" is a timeout, and an "UnknownError" is one only when it came after the timeout
 * asked for (less a small tolerance); an "UnknownError" earlier is a failing service.
 *
 * A failure (any rejection but a timeout or our own abort) is not retried at once: the watcher
 * drops its context (after a service restart the old one is invalid), reports a `retry` event
 * and waits, 500 ms after the first failure, doubling up to 30 s (`retryDelayMs`), then
 * establishes a new context. The delay starts again from the beginning after a round that
 * worked. Only refusals that waiting cannot change stop it (`smartcard/not-allowed`: the
 * permissions policy; `smartcard/permission-denied`), with an `error` event.
 *
 * Events (`CustomEvent`): `readeradded` / `readerremoved` {reader}, `cardinserted` /
 * `cardremoved` {reader}, `change` {readers} after every update, `retry` {error, attempt,
 * delayMs} when a failure makes it wait, `error` {error} when the loop stops on an error.
 */
import { TransportError, type WebCcidError } from '../errors.js';
import { readerInfoFrom, resolveSmartCard, type SmartCardReaderInfo } from './channel.js';
import { smartCardErrorFrom } from './errors.js';
import type { SmartCardContext, SmartCardReaderStateIn, SmartCardReaderStateOut, SmartCardResourceManager } from './types.js';

export interface SmartCardReaderEventDetail {
  reader: SmartCardReaderInfo;
}

export interface SmartCardReadersEventDetail {
  readers: SmartCardReaderInfo[];
}

export interface SmartCardWatcherErrorDetail {
  error: WebCcidError;
}

/** `retry`: the platform failed; the watcher tries again (with a new context) after `delayMs`. */
export interface SmartCardWatcherRetryDetail {
  /** The failure, mapped (e.g. `smartcard/no-service`, or `smartcard/failed` for an UnknownError). */
  error: WebCcidError;
  /** Failures in a row so far (1 for the first). */
  attempt: number;
  /** How long the watcher waits before it tries again. */
  delayMs: number;
}

/** The watcher's events and their details. */
export interface SmartCardReaderWatcherEventMap {
  readeradded: CustomEvent<SmartCardReaderEventDetail>;
  readerremoved: CustomEvent<SmartCardReaderEventDetail>;
  cardinserted: CustomEvent<SmartCardReaderEventDetail>;
  cardremoved: CustomEvent<SmartCardReaderEventDetail>;
  change: CustomEvent<SmartCardReadersEventDetail>;
  retry: CustomEvent<SmartCardWatcherRetryDetail>;
  error: CustomEvent<SmartCardWatcherErrorDetail>;
}

/** Options of {@link watchSmartCardReaders}. */
export interface WatchSmartCardReadersOptions {
  smartCard?: SmartCardResourceManager;
  /** Stops the watcher. */
  signal?: AbortSignal;
  /** How often the reader list is refreshed while nothing happens (ms). Default 1000. */
  pollIntervalMs?: number;
  /** The wait after a failure: `initial` (default 500 ms), doubled per failure in a row up to `max` (default 30 000 ms). */
  retryDelayMs?: { initial?: number; max?: number };
}

/** Failures that waiting does not change: the watcher stops on them. */
const FATAL_CODES: ReadonlySet<string> = new Set(['smartcard/not-allowed', 'smartcard/permission-denied', 'smartcard/unavailable']);

/**
 * Whether a getStatusChange rejection is its timeout (see the module comment): "TimeoutError",
 * or "UnknownError" (no response code) no earlier than the timeout, less 10 % (at most 50 ms)
 * for the timer granularity of the platform (Windows ticks in 15.6 ms).
 */
function isTimeout(e: unknown, elapsedMs: number, timeoutMs: number): boolean {
  if (typeof e !== 'object' || e === null || 'responseCode' in e) return false;
  const name = (e as { name?: unknown }).name;
  if (name === 'TimeoutError') return true;
  return name === 'UnknownError' && elapsedMs >= timeoutMs - Math.min(50, timeoutMs * 0.1);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

/** Reader and card events of the Web Smart Card API. Made by {@link watchSmartCardReaders}. */
export class SmartCardReaderWatcher extends EventTarget {
  private readonly controller = new AbortController();
  private readonly known = new Map<string, { info: SmartCardReaderInfo; state: SmartCardReaderStateOut }>();
  private firstUpdate!: () => void;
  /** Resolves after the first reader list was taken, the first failure was reported (`retry`), or the watcher stopped. */
  readonly ready: Promise<void> = new Promise((resolve) => (this.firstUpdate = resolve));
  /** Resolves when the loop has ended. */
  readonly done: Promise<void>;
  private stoppedFlag = false;
  /** Set by a failure: the next getStatusChange asks for the current state at once. */
  private resync = false;

  constructor(
    private readonly smartCard: SmartCardResourceManager,
    private readonly pollIntervalMs: number,
    signal?: AbortSignal,
    private readonly retryDelay: { initial: number; max: number } = { initial: 500, max: 30_000 },
  ) {
    super();
    if (signal?.aborted) this.controller.abort();
    signal?.addEventListener('abort', () => this.stop(), { once: true });
    this.done = this.run();
  }

  /** The readers as last seen. */
  get readers(): SmartCardReaderInfo[] {
    return [...this.known.values()].map((k) => k.info);
  }

  /** True once stopped (by `stop()`, the signal, or an error). */
  get stopped(): boolean {
    return this.stoppedFlag;
  }

  /** Stops watching; `done` resolves once the outstanding call is cancelled. */
  stop(): void {
    this.controller.abort();
  }

  override addEventListener<K extends keyof SmartCardReaderWatcherEventMap>(
    type: K,
    listener: ((ev: SmartCardReaderWatcherEventMap[K]) => void) | EventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void {
    super.addEventListener(type, listener, options);
  }

  private emit<K extends keyof SmartCardReaderWatcherEventMap>(type: K, detail: SmartCardReaderWatcherEventMap[K]['detail']): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  private async run(): Promise<void> {
    const signal = this.controller.signal;
    let context: SmartCardContext | undefined;
    let failures = 0;
    try {
      while (!signal.aborted) {
        try {
          context ??= await this.smartCard.establishContext().catch((e: unknown) => {
            throw smartCardErrorFrom(e, { operation: 'establishContext' });
          });
          const ctx = context;
          const names = await ctx.listReaders().catch((e: unknown) => {
            throw smartCardErrorFrom(e, { operation: 'listReaders' });
          });
          if (signal.aborted) break;
          if (names.length === 0) {
            failures = 0;
            this.update([], names);
            await sleep(this.pollIntervalMs, signal);
            continue;
          }
          const states = await this.waitForChange(ctx, names, signal);
          failures = 0;
          if (states) this.update(states, names);
          // A reader unplugged between listReaders and getStatusChange is not in the list asked
          // about, so a timeout says nothing of it: report its removal from the list.
          else if (!signal.aborted && [...this.known.keys()].some((n) => !names.includes(n))) this.update([], names);
        } catch (e) {
          if (signal.aborted) break;
          const error = smartCardErrorFrom(e, { operation: 'watch' });
          if (FATAL_CODES.has(error.code)) throw error;
          context = undefined;
          this.resync = true;
          failures++;
          const delayMs = Math.min(this.retryDelay.max, this.retryDelay.initial * 2 ** Math.min(failures - 1, 30));
          this.emit('retry', { error, attempt: failures, delayMs });
          this.firstUpdate();
          await sleep(delayMs, signal);
        }
      }
    } catch (e) {
      if (!signal.aborted) {
        const error = smartCardErrorFrom(e, { operation: 'watch' });
        this.emit('error', { error });
      }
    } finally {
      this.stoppedFlag = true;
      this.firstUpdate();
    }
  }

  /** One getStatusChange; undefined on timeout or stop. */
  private async waitForChange(context: SmartCardContext, names: string[], signal: AbortSignal): Promise<SmartCardReaderStateOut[] | undefined> {
    // After a failure: ask for the current state at once (unaware), so the first round that works
    // reports a `change` even when the readers are as before.
    const resync = this.resync;
    this.resync = false;
    const readerStates: SmartCardReaderStateIn[] = names.map((readerName) => {
      const k = this.known.get(readerName);
      if (!k || resync) return { readerName, currentState: { unaware: true } };
      const f = k.state.eventState;
      return {
        readerName,
        currentState: { unavailable: f.unavailable, empty: f.empty, present: f.present, exclusive: f.exclusive, inuse: f.inuse, mute: f.mute, unpowered: f.unpowered },
        currentCount: k.state.eventCount,
      };
    });
    const started = performance.now();
    try {
      return await context.getStatusChange(readerStates, { timeout: this.pollIntervalMs, signal });
    } catch (e) {
      if (signal.aborted || isTimeout(e, performance.now() - started, this.pollIntervalMs)) return undefined;
      throw smartCardErrorFrom(e, { operation: 'getStatusChange' });
    }
  }

  private update(states: SmartCardReaderStateOut[], names: string[]): void {
    const seen = new Set(names);
    for (const [name, k] of [...this.known]) {
      if (!seen.has(name)) {
        this.known.delete(name);
        this.emit('readerremoved', { reader: k.info });
      }
    }
    for (const state of states) {
      if (state.eventState.unknown || state.eventState.ignore) {
        const k = this.known.get(state.readerName);
        if (k) {
          this.known.delete(state.readerName);
          this.emit('readerremoved', { reader: k.info });
        }
        continue;
      }
      const info = readerInfoFrom(state);
      const before = this.known.get(state.readerName);
      this.known.set(state.readerName, { info, state });
      if (!before) {
        this.emit('readeradded', { reader: info });
        if (info.cardPresent) this.emit('cardinserted', { reader: info });
        continue;
      }
      const swapped = before.info.cardPresent && info.cardPresent && state.eventCount > before.state.eventCount + 1;
      if (before.info.cardPresent && (!info.cardPresent || swapped)) this.emit('cardremoved', { reader: before.info });
      if (info.cardPresent && (!before.info.cardPresent || swapped)) this.emit('cardinserted', { reader: info });
    }
    this.emit('change', { readers: this.readers });
    this.firstUpdate();
  }
}

/**
 * Starts watching readers and cards through the Web Smart Card API. Throws
 * TransportError('smartcard/unavailable') without the API; later failures arrive as `retry`
 * events (the watcher waits and tries again) or, for a refusal, an `error` event (it stops).
 */
export function watchSmartCardReaders(options: WatchSmartCardReadersOptions = {}): SmartCardReaderWatcher {
  const smartCard = resolveSmartCard(options.smartCard);
  const interval = options.pollIntervalMs ?? 1000;
  if (!(interval > 0)) throw new TransportError('smartcard/failed', 'pollIntervalMs must be a positive number of milliseconds.');
  const initial = options.retryDelayMs?.initial ?? 500;
  const max = options.retryDelayMs?.max ?? 30_000;
  if (!(initial > 0) || !(max >= initial)) throw new TransportError('smartcard/failed', 'retryDelayMs needs 0 < initial <= max (milliseconds).');
  return new SmartCardReaderWatcher(smartCard, interval, options.signal, { initial, max });
}
