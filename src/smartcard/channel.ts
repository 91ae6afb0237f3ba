/**
 * A `CardChannel` over the Web Smart Card API (`navigator.smartCard`, PC/SC in the browser:
 * Chrome on ChromeOS, Isolated Web Apps). The operating system's PC/SC stack and reader driver
 * do the CCID and T=1 work; this channel sends APDUs. For T=0 it handles 61xx / 6Cxx itself
 * (the `T0Host` engine of the CCID driver), as PC/SC leaves GET RESPONSE to the application.
 *
 * One operation at a time: a `SmartCardContext` refuses a second concurrent call
 * (InvalidStateError), so every call on the channel is queued. `withTransaction()` runs
 * several exchanges inside a PC/SC transaction (no other application gets in between) and
 * ends it with "leave" so a verified PIN stays verified.
 *
 * Card resets. After a reset of the card PC/SC answers SCARD_W_RESET_CARD ("reset-card") on
 * every later call of the connection until SCardReconnect (pcsc-lite: only SCardReconnect
 * clears a handle's reset mark, and a reset by a "reset" disposition marks the handle that
 * asked for it too). The Web Smart Card API has no reconnect, so this channel makes a new
 * connection instead. It counts a reset (`resetCount`) when the API answers "reset-card" (the
 * call fails with `smartcard/card-reset`) and when a `withTransaction()` body fails (the API
 * then ends the transaction with "reset", spec "process the result of a BeginTransaction"), and
 * connects again before its next command (outside a transaction). What the card held is gone
 * after a reset: the selected application, a verified PIN. Card code that keeps such state
 * compares `resetCount` before each command (HcaCard selects its application again); a caller
 * holding a verified PIN must ask for it again.
 *
 * Rejections of the API are mapped by `smartCardErrorFrom` (errors.ts).
 */
import { AbortError, isWebCcidError, ProtocolError, TransportError } from '../errors.js';
import { parseAtr, type Atr } from '../iso7816/atr.js';
import { T0Host } from '../iso7816/t0.js';
import type { CardChannel, CardProtocol } from '../card/channel.js';
import { smartCardErrorFrom } from './errors.js';
import type {
  SmartCardAccessMode,
  SmartCardConnection,
  SmartCardConnectionState,
  SmartCardContext,
  SmartCardDisposition,
  SmartCardProtocol,
  SmartCardReaderStateOut,
  SmartCardResourceManager,
} from './types.js';

/** True when this page can use the Web Smart Card API (`navigator.smartCard` exists). */
export function isSmartCardApiAvailable(nav: unknown = (globalThis as { navigator?: unknown }).navigator): boolean {
  if (typeof nav !== 'object' || nav === null) return false;
  const sc = (nav as { smartCard?: unknown }).smartCard;
  return typeof sc === 'object' && sc !== null && typeof (sc as { establishContext?: unknown }).establishContext === 'function';
}

/** `navigator.smartCard`, or TransportError('smartcard/unavailable'). */
export function resolveSmartCard(smartCard?: SmartCardResourceManager): SmartCardResourceManager {
  if (smartCard) return smartCard;
  const nav = (globalThis as { navigator?: unknown }).navigator;
  if (isSmartCardApiAvailable(nav)) return (nav as { smartCard: SmartCardResourceManager }).smartCard;
  throw new TransportError(
    'smartcard/unavailable',
    'The Web Smart Card API (navigator.smartCard) is not available here: it needs Chrome on ChromeOS (or a Chrome with the API) running this app as an Isolated Web App.',
  );
}

/** A reader as the smart-card service reports it. */
export interface SmartCardReaderInfo {
  name: string;
  /** A card is in the reader (and not mute). */
  cardPresent: boolean;
  /** The card does not answer. */
  mute: boolean;
  /** Another application holds the card exclusively. */
  exclusive: boolean;
  /** The card's ATR, when the service reports it. */
  atr?: Uint8Array;
  /** Card insertions + removals so far (0 when the platform does not count). */
  eventCount: number;
}

/** Builds a `SmartCardReaderInfo` from a `SmartCardReaderStateOut`. */
export function readerInfoFrom(state: SmartCardReaderStateOut): SmartCardReaderInfo {
  const f = state.eventState;
  return {
    name: state.readerName,
    cardPresent: f.present && !f.mute,
    mute: f.mute,
    exclusive: f.exclusive,
    ...(state.answerToReset && state.answerToReset.byteLength > 0 ? { atr: new Uint8Array(state.answerToReset.slice(0)) } : {}),
    eventCount: state.eventCount,
  };
}

async function call<T>(fn: () => Promise<T>, operation: string, readerName: string | undefined, signal: AbortSignal | undefined): Promise<T> {
  if (signal?.aborted) throw new AbortError();
  try {
    return await fn();
  } catch (e) {
    throw smartCardErrorFrom(e, { operation, ...(readerName === undefined ? {} : { readerName }), signal });
  }
}

/** Lists the readers and their card state (one context, released by the garbage collector like the spec's). */
export async function listSmartCardReaders(options: { smartCard?: SmartCardResourceManager; signal?: AbortSignal } = {}): Promise<SmartCardReaderInfo[]> {
  const smartCard = resolveSmartCard(options.smartCard);
  const context = await call(() => smartCard.establishContext(), 'establishContext', undefined, options.signal);
  return queryReaders(context, options.signal);
}

async function queryReaders(context: SmartCardContext, signal: AbortSignal | undefined): Promise<SmartCardReaderInfo[]> {
  const names = await call(() => context.listReaders(), 'listReaders', undefined, signal);
  if (names.length === 0) return [];
  const states = await call(
    () => context.getStatusChange(names.map((readerName) => ({ readerName, currentState: { unaware: true } }))),
    'getStatusChange',
    undefined,
    signal,
  );
  return states.map(readerInfoFrom);
}

/** Options of {@link openSmartCardChannel}. */
export interface OpenSmartCardChannelOptions {
  /** The API object; default `navigator.smartCard`. */
  smartCard?: SmartCardResourceManager;
  /** Reader to use; default the first reader with a card in it. */
  readerName?: string;
  /** Default 'shared' (other applications may use the card between transactions); 'exclusive' locks them out. */
  accessMode?: Exclude<SmartCardAccessMode, 'direct'>;
  /** Default ['t0', 't1']: the PC/SC stack picks what the card offers. */
  preferredProtocols?: SmartCardProtocol[];
  signal?: AbortSignal;
}

/**
 * Connects to the card in a reader through the Web Smart Card API. Throws
 * TransportError('smartcard/unavailable') without the API, 'smartcard/no-reader' when no (such)
 * reader is connected, 'smartcard/no-card' when no reader holds a card; the API's own
 * rejections as mapped in errors.ts (e.g. 'smartcard/permission-denied' when the user refuses).
 */
export async function openSmartCardChannel(options: OpenSmartCardChannelOptions = {}): Promise<SmartCardChannel> {
  const smartCard = resolveSmartCard(options.smartCard);
  const { signal } = options;
  const context = await call(() => smartCard.establishContext(), 'establishContext', undefined, signal);
  const readers = await queryReaders(context, signal);
  let reader: SmartCardReaderInfo | undefined;
  if (options.readerName !== undefined) {
    reader = readers.find((r) => r.name === options.readerName);
    if (!reader) {
      throw new TransportError('smartcard/no-reader', `There is no smart-card reader named "${options.readerName}" (readers: ${readers.map((r) => `"${r.name}"`).join(', ') || 'none'}).`);
    }
  } else {
    if (readers.length === 0) throw new TransportError('smartcard/no-reader', 'No smart-card reader is connected (or the smart-card service sees none).');
    reader = readers.find((r) => r.cardPresent);
    if (!reader) throw new TransportError('smartcard/no-card', `There is no card in ${readers.length === 1 ? 'the reader' : 'any reader'}: insert the card.`);
  }
  const readerName = reader.name;
  const result = await call(
    () => context.connect(readerName, options.accessMode ?? 'shared', { preferredProtocols: options.preferredProtocols ?? ['t0', 't1'] }),
    'connect',
    readerName,
    signal,
  );
  const connection = result.connection;
  try {
    const status = await call(() => connection.status(), 'status', readerName, signal);
    const atrBytes = status.answerToReset && status.answerToReset.byteLength > 0 ? new Uint8Array(status.answerToReset.slice(0)) : reader.atr;
    if (!atrBytes) throw new ProtocolError('protocol/bad-atr', `The smart-card service reported no ATR for the card in "${readerName}".`);
    const atr = parseAtr(atrBytes);
    const protocol = protocolName(result.activeProtocol, status.state, atr);
    return new SmartCardChannel({
      context,
      connection,
      readerName,
      atr,
      protocol,
      accessMode: options.accessMode ?? 'shared',
      preferredProtocols: options.preferredProtocols ?? ['t0', 't1'],
    });
  } catch (e) {
    await connection.disconnect('leave').catch(() => undefined);
    throw e;
  }
}

function protocolName(active: SmartCardProtocol | undefined, state: SmartCardConnectionState, atr: Atr): CardProtocol {
  if (active === 't0' || active === 't1') return active;
  if (state === 't0' || state === 't1') return state;
  return atr.protocols.includes(1) ? 't1' : 't0';
}

/** FIFO lock with explicit release (a transaction holds it only around begin and end). */
class Lock {
  private tail: Promise<void> = Promise.resolve();

  acquire(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const previous = this.tail;
    this.tail = previous.then(() => held);
    return previous.then(() => release);
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

interface SmartCardChannelInit {
  context: SmartCardContext;
  connection: SmartCardConnection;
  readerName: string;
  atr: Atr;
  protocol: CardProtocol;
  /** How to connect again after a reset (as the first connect). Default 'shared', ['t0', 't1']. */
  accessMode?: Exclude<SmartCardAccessMode, 'direct'>;
  preferredProtocols?: SmartCardProtocol[];
}

/** The APDU seam over a `SmartCardConnection` (a new one after a card reset). Made by {@link openSmartCardChannel}. */
export class SmartCardChannel implements CardChannel {
  readonly atr: Atr;
  readonly protocol: CardProtocol;
  readonly readerName: string;
  /** The API objects, for what this class does not wrap (control, attributes). */
  readonly context: SmartCardContext;
  private current: SmartCardConnection;
  private readonly accessMode: Exclude<SmartCardAccessMode, 'direct'>;
  private readonly preferredProtocols: SmartCardProtocol[];
  private readonly lock = new Lock();
  private closed = false;
  private resets = 0;
  /** The connection answers reset-card (or the card was reset through it): connect again before the next command. */
  private stale = false;
  private inTransaction = false;

  constructor(init: SmartCardChannelInit) {
    this.context = init.context;
    this.current = init.connection;
    this.readerName = init.readerName;
    this.atr = init.atr;
    this.protocol = init.protocol;
    this.accessMode = init.accessMode ?? 'shared';
    this.preferredProtocols = init.preferredProtocols ?? ['t0', 't1'];
  }

  /** The `SmartCardConnection` in use (a new one after a card reset). */
  get connection(): SmartCardConnection {
    return this.current;
  }

  /** False after `disconnect()`. */
  get connected(): boolean {
    return !this.closed;
  }

  /** Card resets seen since the channel was opened (see the module comment). */
  get resetCount(): number {
    return this.resets;
  }

  private checkOpen(): void {
    if (this.closed) throw new TransportError('transport/closed', `The smart-card connection to "${this.readerName}" was closed.`);
  }

  private markReset(): void {
    this.resets++;
    this.stale = true;
  }

  /** An API call on the connection; "reset-card" marks the reset. */
  private async op<T>(fn: () => Promise<T>, operation: string, signal: AbortSignal | undefined): Promise<T> {
    try {
      return await call(fn, operation, this.readerName, signal);
    } catch (e) {
      if (isWebCcidError(e, 'smartcard/card-reset')) this.markReset();
      throw e;
    }
  }

  /**
   * After a reset: a new connection (the API has no SCardReconnect), the old one closed with
   * "leave" (the card was reset already). Not inside a transaction: it belongs to the connection.
   */
  private async reconnect(signal: AbortSignal | undefined): Promise<void> {
    if (!this.stale || this.inTransaction) return;
    const old = this.current;
    await old.disconnect('leave').catch(() => undefined);
    const result = await call(
      () => this.context.connect(this.readerName, this.accessMode, { preferredProtocols: this.preferredProtocols }),
      'connect',
      this.readerName,
      signal,
    );
    this.current = result.connection;
    this.stale = false;
  }

  private async send(bytes: Uint8Array, signal: AbortSignal | undefined): Promise<Uint8Array> {
    this.checkOpen();
    const copy = bytes.slice();
    try {
      const connection = this.current;
      const answer = await this.op(() => connection.transmit(copy), 'transmit', signal);
      return new Uint8Array(answer.slice(0));
    } finally {
      copy.fill(0);
    }
  }

  private async exchange(apdu: Uint8Array, signal: AbortSignal | undefined): Promise<Uint8Array> {
    if (this.protocol === 't1') return this.send(apdu, signal);
    const t0 = new T0Host();
    let action = t0.transmit(apdu);
    for (;;) {
      if (action.kind === 'done') return action.response;
      if (signal?.aborted) throw new AbortError();
      const tpdu = action.tpdu;
      try {
        action = t0.receive(await this.send(tpdu, signal));
      } finally {
        tpdu.fill(0);
      }
    }
  }

  /**
   * Sends a command APDU; resolves with response data + SW1 SW2 (status words not checked).
   * The signal is checked before each exchange; one already handed to the smart-card service
   * cannot be recalled (the API has no cancel for transmit).
   */
  transmit(apdu: Uint8Array, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    const { signal } = options;
    return this.lock.run(async () => {
      if (signal?.aborted) throw new AbortError();
      this.checkOpen();
      await this.reconnect(signal);
      return this.exchange(apdu, signal);
    });
  }

  /**
   * Runs `fn` inside a PC/SC transaction: no other application reaches the card until it
   * settles. Ends with "leave" (the card keeps its state, e.g. a verified PIN) when `fn`
   * resolves. When `fn` rejects, the API ends the transaction with "reset": the card forgets
   * its state, `resetCount` goes up and the channel connects again before its next command.
   * `fn` may call `transmit`.
   */
  async withTransaction<T>(fn: () => Promise<T>, options: { signal?: AbortSignal } = {}): Promise<T> {
    const { signal } = options;
    this.checkOpen();
    let release: (() => void) | undefined = await this.lock.acquire();
    let outcome: { value: T } | undefined;
    let bodyFailed = false;
    try {
      this.checkOpen();
      await this.reconnect(signal);
      const connection = this.current;
      this.inTransaction = true;
      await this.op(
        () =>
          connection.startTransaction(
            async () => {
              release?.();
              release = undefined;
              try {
                outcome = { value: await fn() };
              } catch (e) {
                bodyFailed = true;
                throw e;
              } finally {
                // Hold the queue while the API ends the transaction (EndTransaction is an operation of the context).
                release = await this.lock.acquire();
              }
              return 'leave' as SmartCardDisposition;
            },
            signal ? { signal } : {},
          ),
        'startTransaction',
        signal,
      );
    } finally {
      this.inTransaction = false;
      // The API ended the transaction with "reset" (the body failed): the card was reset.
      if (bodyFailed && !this.stale) this.markReset();
      release?.();
    }
    if (!outcome) throw new TransportError('smartcard/failed', 'The smart-card transaction ended without running.');
    return outcome.value;
  }

  /** The connection's state as the service reports it (e.g. 't1', or 'absent' after removal). */
  async status(options: { signal?: AbortSignal } = {}): Promise<SmartCardConnectionState> {
    return this.lock.run(async () => {
      this.checkOpen();
      await this.reconnect(options.signal);
      const connection = this.current;
      return (await this.op(() => connection.status(), 'status', options.signal)).state;
    });
  }

  /**
   * Ends the connection. Default disposition "reset" (the card forgets the verified PIN, so
   * nobody else inherits it); "leave" keeps the card as it is. Idempotent.
   */
  async disconnect(options: { disposition?: SmartCardDisposition } = {}): Promise<void> {
    await this.lock.run(async () => {
      if (this.closed) return;
      this.closed = true;
      const connection = this.current;
      await call(() => connection.disconnect(options.disposition ?? 'reset'), 'disconnect', this.readerName, undefined);
    });
  }
}
