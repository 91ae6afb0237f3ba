/**
 * `SmartCardSession`: the `CardSession` of the components over the Web Smart Card API
 * (`navigator.smartCard`: PC/SC in the browser, ChromeOS / Isolated Web Apps). The operating
 * system's smart-card service drives the reader; this session watches its readers
 * (`watchSmartCardReaders`), hands a flow a `SmartCardChannel` (`connect()`) and takes it back
 * with a "reset" disconnect (`release()`), so no verified PIN outlives the flow.
 *
 * ```ts
 * const session = new SmartCardSession();            // navigator.smartCard
 * session.on('statechange', () => render(session.state));
 * await session.start();
 * const { channel } = await session.connect();
 * try { const card = await HcaCard.open(channel); ... } finally { await session.release(); }
 * ```
 *
 * States are those of `UsbCardSession` (`backend: 'smartcard'`; never `no-webusb`). The
 * situations both backends share get the same codes, so the components read them alike: no
 * reader `transport/no-reader`, no card (or the card removed while held) `ccid/card-absent`,
 * the reader unplugged while held `transport/disconnected`. Everything else keeps its
 * `smartcard/*` code (see docs/errors.md), e.g. `smartcard/unavailable` (state `error`),
 * `smartcard/not-allowed`, `smartcard/no-service`, `smartcard/sharing-violation`. While the
 * smart-card service fails (the watcher's `retry` events) the state is `error` with that failure;
 * it goes back to the reader state by itself once the service answers again.
 *
 * There is no chooser (`canChoose` is false): which readers an app may use is decided by the
 * platform (policy, the Isolated Web App's permissions policy, the user's prompt at connect).
 * The readers have no pinpad as far as this API tells (`pinpad: false`).
 */
import { TransportError, WebCcidError } from '../errors.js';
import { openSmartCardChannel, resolveSmartCard, type SmartCardChannel, type SmartCardReaderInfo } from '../smartcard/channel.js';
import { watchSmartCardReaders, type SmartCardReaderWatcher } from '../smartcard/watcher.js';
import type { SmartCardResourceManager } from '../smartcard/types.js';
import { Mutex } from '../mutex.js';
import { cardAbsentError, type CardSession, type CardSessionEventMap, type SessionCard, type SessionState, type SessionStateChangeDetail } from './card-session.js';

/** Options of {@link SmartCardSession}. */
export interface SmartCardSessionOptions {
  /** The API object. Default `navigator.smartCard`; `null`: none (state `error`, `smartcard/unavailable`). */
  smartCard?: SmartCardResourceManager | null;
  /** The reader to use. Default: the first reader holding a card, else the first reader. */
  readerName?: string;
  /** How often the watcher lists the readers again while nothing happens (ms). Default 1000. */
  pollIntervalMs?: number;
  /** Default 'shared' (see `openSmartCardChannel`). */
  accessMode?: 'shared' | 'exclusive';
}

/** Session-level codes for what both backends report alike (the original error is the cause). */
function sessionError(error: WebCcidError): WebCcidError {
  switch (error.code) {
    case 'smartcard/no-reader':
      return new TransportError('transport/no-reader', { backend: 'smartcard' }, { cause: error });
    case 'smartcard/no-card':
    case 'smartcard/card-removed':
      return cardAbsentError({ cause: error });
    default:
      return error;
  }
}

function toError(e: unknown, operation: string): WebCcidError {
  if (e instanceof WebCcidError) return e;
  return new TransportError('smartcard/failed', { operation }, { cause: e });
}

function unavailableError(cause: unknown): WebCcidError {
  return cause instanceof WebCcidError
    ? cause
    : new TransportError('smartcard/unavailable', {}, { cause });
}

/** See the module comment. */
export class SmartCardSession extends EventTarget implements CardSession {
  private readonly smartCard: SmartCardResourceManager | undefined;
  private readonly unavailable: WebCcidError | undefined;
  private readonly preferredReader: string | undefined;
  private readonly pollIntervalMs: number | undefined;
  private readonly accessMode: 'shared' | 'exclusive';
  private readonly lock = new Mutex();
  private watcher: SmartCardReaderWatcher | undefined;
  private watcherError: WebCcidError | undefined;
  private holder: SmartCardChannel | undefined;
  /** Set while a flow holds the card: the reader it is in. */
  private heldReader: string | undefined;
  private closed = false;
  private current_state: SessionState;

  constructor(options: SmartCardSessionOptions = {}) {
    super();
    let smartCard: SmartCardResourceManager | undefined;
    let unavailable: WebCcidError | undefined;
    if (options.smartCard === null) {
      unavailable = unavailableError(undefined);
    } else {
      try {
        smartCard = resolveSmartCard(options.smartCard);
      } catch (e) {
        unavailable = unavailableError(e);
      }
    }
    this.smartCard = smartCard;
    this.unavailable = unavailable;
    this.preferredReader = options.readerName;
    this.pollIntervalMs = options.pollIntervalMs;
    this.accessMode = options.accessMode ?? 'shared';
    this.current_state = unavailable ? { kind: 'error', error: unavailable, backend: 'smartcard' } : { kind: 'no-reader', backend: 'smartcard' };
  }

  /** The current state (a fresh object on every change; listen to `statechange`). */
  get state(): SessionState {
    return this.current_state;
  }

  /** Always false: the Web Smart Card API has no reader chooser. */
  get canChoose(): boolean {
    return false;
  }

  /** The readers as last seen by the watcher. */
  get readers(): SmartCardReaderInfo[] {
    return this.watcher?.readers ?? [];
  }

  /** Typed `addEventListener`; returns a function that removes the listener. */
  on<K extends keyof CardSessionEventMap>(type: K, listener: (event: CardSessionEventMap[K]) => void): () => void {
    const l = listener as EventListener;
    this.addEventListener(type, l);
    return () => this.removeEventListener(type, l);
  }

  /**
   * Starts watching the readers (again, if the watcher stopped on an error) and resolves with
   * the state once the first reader list is in. Never rejects (failures are in `state.error`).
   */
  start(): Promise<SessionState> {
    return this.lock.run(async () => {
      if (this.closed) return this.state;
      const smartCard = this.smartCard;
      if (!smartCard) {
        this.setState({ kind: 'error', error: this.unavailable ?? unavailableError(undefined) });
        return this.state;
      }
      if (!this.watcher || this.watcher.stopped) {
        this.watcherError = undefined;
        const watcher = watchSmartCardReaders({ smartCard, ...(this.pollIntervalMs === undefined ? {} : { pollIntervalMs: this.pollIntervalMs }) });
        this.watcher = watcher;
        watcher.addEventListener('change', () => this.onReaders(watcher));
        watcher.addEventListener('cardremoved', (e) => this.onLost(watcher, e.detail.reader.name, 'card'));
        watcher.addEventListener('readerremoved', (e) => this.onLost(watcher, e.detail.reader.name, 'reader'));
        const failed = (error: WebCcidError) => {
          if (this.watcher !== watcher) return;
          this.watcherError = error;
          if (!this.heldReader) this.setState({ kind: 'error', error });
        };
        // retry: the service fails and the watcher waits (state error until it answers again);
        // error: a refusal, the watcher stopped.
        watcher.addEventListener('retry', (e) => failed(e.detail.error));
        watcher.addEventListener('error', (e) => failed(e.detail.error));
        await watcher.ready;
      }
      if (!this.heldReader) this.setState(this.idleState());
      return this.state;
    });
  }

  /** No chooser here: lists the readers again (as `start()`). */
  choose(): Promise<SessionState> {
    return this.start();
  }

  /**
   * Connects to the card (`pinpad: false`; state `busy` until `release()`). A second
   * `connect()` replaces the first holder's connection. Rejects with `smartcard/unavailable`,
   * `transport/no-reader`, `ccid/card-absent`, or the API's mapped errors
   * (`smartcard/permission-denied`, `smartcard/sharing-violation`, ...).
   */
  connect(): Promise<SessionCard> {
    return this.lock.run(async () => {
      const smartCard = this.smartCard;
      if (!smartCard) throw this.unavailable ?? unavailableError(undefined);
      if (this.closed) throw new TransportError('transport/closed', {});
      await this.dropHolder();
      const readerName = this.pickReader()?.name;
      this.setState({ kind: 'busy', pinpad: false, ...(readerName === undefined ? {} : { readerName }) });
      let channel: SmartCardChannel;
      try {
        channel = await openSmartCardChannel({ smartCard, accessMode: this.accessMode, ...(readerName === undefined ? {} : { readerName }) });
      } catch (e) {
        const error = sessionError(toError(e, 'connect'));
        if (error.code === 'ccid/card-absent') this.setState({ kind: 'no-card', pinpad: false, ...(readerName === undefined ? {} : { readerName }) });
        else if (error.code === 'transport/no-reader') this.setState({ kind: 'no-reader' });
        else this.setState({ kind: 'error', error, pinpad: false, ...(readerName === undefined ? {} : { readerName }) });
        throw error;
      }
      if (this.closed) {
        await channel.disconnect({ disposition: 'reset' }).catch(() => undefined);
        throw new TransportError('transport/closed', { during: 'connect' });
      }
      this.holder = channel;
      this.heldReader = channel.readerName;
      if (this.state.kind === 'busy' && this.state.readerName !== channel.readerName) {
        this.setState({ kind: 'busy', pinpad: false, readerName: channel.readerName });
      }
      return { channel, pinpad: false };
    });
  }

  /**
   * Gives the card back: disconnects with "reset" (the card forgets a verified PIN) and returns
   * to `card` / `no-card` as the watcher sees it. Safe to call more than once, and after the
   * card or reader is gone.
   */
  release(): Promise<void> {
    return this.lock.run(async () => {
      const held = this.heldReader !== undefined;
      await this.dropHolder();
      if (this.state.kind === 'busy' || (held && this.state.kind === 'error')) this.setState(this.idleState());
    });
  }

  /** Stops watching and disconnects a held card (with "reset"). */
  close(): Promise<void> {
    return this.lock.run(async () => {
      if (this.closed) return;
      this.closed = true;
      const watcher = this.watcher;
      this.watcher = undefined;
      watcher?.stop();
      await this.dropHolder();
      await watcher?.done;
      this.setState(this.unavailable ? { kind: 'error', error: this.unavailable } : { kind: 'no-reader' });
    });
  }

  // ---- internals ------------------------------------------------------------------------------

  /** The reader the session follows: the preferred one, else the first with a card, else the first. */
  private pickReader(): SmartCardReaderInfo | undefined {
    const readers = this.watcher?.readers ?? [];
    if (this.preferredReader !== undefined) return readers.find((r) => r.name === this.preferredReader);
    return readers.find((r) => r.cardPresent) ?? readers[0];
  }

  /** The state the reader list gives when no flow holds the card. */
  private readerState(): SessionState {
    const reader = this.pickReader();
    if (!reader) return { kind: 'no-reader' };
    return { kind: reader.cardPresent ? 'card' : 'no-card', readerName: reader.name, pinpad: false };
  }

  /** The state when no flow holds the card: the watcher's failure, or what the reader list gives. */
  private idleState(): SessionState {
    return this.watcherError ? { kind: 'error', error: this.watcherError } : this.readerState();
  }

  private onReaders(watcher: SmartCardReaderWatcher): void {
    if (this.watcher !== watcher || this.closed) return;
    this.watcherError = undefined; // the service answers (again)
    if (this.heldReader !== undefined) return;
    if (this.state.kind === 'busy') return; // connect() is running: it sets the state
    const next = this.readerState();
    const now = this.state;
    // Same reader, same card state: keep what the state says (e.g. why the card was lost).
    if (now.kind === next.kind && now.readerName === next.readerName) return;
    this.setState(next);
  }

  /** The held card was removed, or its reader unplugged: the flow lost it. */
  private onLost(watcher: SmartCardReaderWatcher, readerName: string, what: 'card' | 'reader'): void {
    if (this.watcher !== watcher || this.closed || this.heldReader !== readerName) return;
    this.heldReader = undefined;
    // The channel is dead; disconnect it when the next operation runs under the lock.
    if (what === 'card') {
      this.setState({ kind: 'no-card', readerName, pinpad: false, error: cardAbsentError(), lostDuringUse: true });
    } else {
      this.setState({ kind: 'no-reader', error: new TransportError('transport/disconnected', { reader: readerName }), lostDuringUse: true });
    }
  }

  private async dropHolder(): Promise<void> {
    const holder = this.holder;
    this.holder = undefined;
    this.heldReader = undefined;
    if (holder) await holder.disconnect({ disposition: 'reset' }).catch(() => undefined);
  }

  private setState(next: SessionState): void {
    const previous = this.current_state;
    const state: SessionState = { ...next, backend: 'smartcard' };
    this.current_state = state;
    this.dispatchEvent(new CustomEvent<SessionStateChangeDetail>('statechange', { detail: { state, previous } }));
  }
}
