/**
 * Watches the smart-card readers of the Web Smart Card API for readers coming and going and
 * cards being inserted and removed. It holds its own `SmartCardContext` (a context runs one
 * operation at a time, and getStatusChange waits), so it never blocks a channel.
 *
 * Loop: listReaders, then getStatusChange on them with the last known state (and count) and
 * a timeout of `pollIntervalMs`. A change resolves it at once; the timeout (the spec maps
 * PC/SC's SCARD_E_TIMEOUT to an "UnknownError" DOMException) just lists the readers again, to
 * see readers plugged in meanwhile. With no reader at all it waits `pollIntervalMs` and lists
 * again. `stop()` (or the signal) cancels the outstanding getStatusChange through its AbortSignal.
 *
 * Events (`CustomEvent`): `readeradded` / `readerremoved` {reader}, `cardinserted` /
 * `cardremoved` {reader}, `change` {readers} after every update, `error` {error} when the
 * loop stops on an error (for example 'smartcard/no-service').
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

/** The watcher's events and their details. */
export interface SmartCardReaderWatcherEventMap {
  readeradded: CustomEvent<SmartCardReaderEventDetail>;
  readerremoved: CustomEvent<SmartCardReaderEventDetail>;
  cardinserted: CustomEvent<SmartCardReaderEventDetail>;
  cardremoved: CustomEvent<SmartCardReaderEventDetail>;
  change: CustomEvent<SmartCardReadersEventDetail>;
  error: CustomEvent<SmartCardWatcherErrorDetail>;
}

/** Options of {@link watchSmartCardReaders}. */
export interface WatchSmartCardReadersOptions {
  smartCard?: SmartCardResourceManager;
  /** Stops the watcher. */
  signal?: AbortSignal;
  /** How often the reader list is refreshed while nothing happens (ms). Default 1000. */
  pollIntervalMs?: number;
}

function isTimeout(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'UnknownError' && !('responseCode' in e);
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
  /** Resolves after the first reader list was taken (or the watcher stopped). */
  readonly ready: Promise<void> = new Promise((resolve) => (this.firstUpdate = resolve));
  /** Resolves when the loop has ended. */
  readonly done: Promise<void>;
  private stoppedFlag = false;

  constructor(
    private readonly smartCard: SmartCardResourceManager,
    private readonly pollIntervalMs: number,
    signal?: AbortSignal,
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
    try {
      const context = await this.smartCard.establishContext().catch((e: unknown) => {
        throw smartCardErrorFrom(e, { operation: 'establishContext' });
      });
      while (!signal.aborted) {
        const names = await context.listReaders().catch((e: unknown) => {
          throw smartCardErrorFrom(e, { operation: 'listReaders' });
        });
        if (signal.aborted) break;
        if (names.length === 0) {
          this.update([], names);
          await sleep(this.pollIntervalMs, signal);
          continue;
        }
        const states = await this.waitForChange(context, names, signal);
        if (states) this.update(states, names);
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
    const readerStates: SmartCardReaderStateIn[] = names.map((readerName) => {
      const k = this.known.get(readerName);
      if (!k) return { readerName, currentState: { unaware: true } };
      const f = k.state.eventState;
      return {
        readerName,
        currentState: { unavailable: f.unavailable, empty: f.empty, present: f.present, exclusive: f.exclusive, inuse: f.inuse, mute: f.mute, unpowered: f.unpowered },
        currentCount: k.state.eventCount,
      };
    });
    // A reader whose state we do not know yet: answer at once, no timeout needed.
    try {
      return await context.getStatusChange(readerStates, { timeout: this.pollIntervalMs, signal });
    } catch (e) {
      if (signal.aborted || isTimeout(e)) return undefined;
      throw e;
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
 * TransportError('smartcard/unavailable') without the API; later failures arrive as an
 * `error` event (and the watcher stops).
 */
export function watchSmartCardReaders(options: WatchSmartCardReadersOptions = {}): SmartCardReaderWatcher {
  const smartCard = resolveSmartCard(options.smartCard);
  const interval = options.pollIntervalMs ?? 1000;
  if (!(interval > 0)) throw new TransportError('smartcard/failed', 'pollIntervalMs must be a positive number of milliseconds.');
  return new SmartCardReaderWatcher(smartCard, interval, options.signal);
}
