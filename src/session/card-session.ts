/// <reference types="w3c-web-usb" preserve="true" />
// WebUSB types (USBDevice, USBDeviceFilter...) for this file and its .d.ts: see docs/packaging.md.
/**
 * `UsbCardSession`: the one place the components get a card from. It works over any
 * `UsbBackendLike` (`navigator.usb`, or `VirtualUsb` from `webccid/virtual`), keeps one CCID
 * reader open, follows the reader being plugged / unplugged (reopens it by itself on replug) and
 * the card being inserted / removed, and hands a flow a powered card (`connect()`) that the flow
 * gives back with `release()` (the card is powered off then, so no verified-PIN state outlives
 * the flow).
 *
 * ```ts
 * const session = new UsbCardSession();            // navigator.usb
 * session.addEventListener('statechange', () => render(session.state));
 * await session.start();                            // permitted readers only (kiosk: pre-granted)
 * button.onclick = () => session.choose();          // the browser's chooser (needs a user gesture)
 * const { channel, pinpad } = await session.connect();
 * try { const card = await HcaCard.open(channel); ... } finally { await session.release(); }
 * ```
 *
 * Errors keep their WebCcidError codes: `transport/no-webusb`, `transport/no-reader`,
 * `transport/no-permission`, `ccid/card-absent`, and whatever the driver throws.
 */
import { SlotError, TransportError, WebCcidError } from '../errors.js';
import type { CardChannel } from '../card/channel.js';
import { CcidReader, type CcidReaderOptions } from '../ccid/reader.js';
import type { CcidConnection, ConnectOptions } from '../ccid/connection.js';
import { mapUsbError } from '../usb/errors.js';
import { Mutex } from '../mutex.js';
import { CCID_REQUEST_FILTERS } from '../ccid/filters.js';
import type { UsbBackendLike, UsbDeviceLike } from '../usb/device.js';

/** Which API a session reaches the card through. */
export type CardBackendKind = 'webusb' | 'smartcard';

/** What the session can tell the user about reader and card. */
export type SessionStateKind = 'no-webusb' | 'no-reader' | 'no-card' | 'card' | 'busy' | 'error';

export interface SessionState {
  /**
   * - `no-webusb`: no WebUSB here (see `detectWebUsb()` for why);
   * - `no-reader`: no permitted reader is plugged in (or it was unplugged: `error` says so);
   * - `no-card`: a reader without a card (after a removal during use, `error` is `ccid/card-absent`);
   * - `card`: a card is in the reader, free;
   * - `busy`: a flow holds the card (between `connect()` and `release()`);
   * - `error`: the reader could not be opened or the card not powered (`error`).
   */
  kind: SessionStateKind;
  /** The reader's product name (or manufacturer, or VID:PID). */
  readerName?: string;
  /** The reader has a pinpad (PIN entry on the reader: PC_to_RDR_Secure). */
  pinpad?: boolean;
  /** Why the state is what it is, when it was caused by a failure. */
  error?: WebCcidError;
  /** True when the card was removed (or the reader unplugged) while a flow held it. */
  lostDuringUse?: boolean;
  /** The API the session uses: `webusb` (our CCID driver) or `smartcard` (the Web Smart Card API). */
  backend?: CardBackendKind;
}

/** `event.detail` of `statechange`. */
export interface SessionStateChangeDetail {
  state: SessionState;
  previous: SessionState;
}

/** The events of every card session. */
export interface CardSessionEventMap {
  statechange: CustomEvent<SessionStateChangeDetail>;
}

/** The events of `UsbCardSession`. */
export type UsbCardSessionEventMap = CardSessionEventMap;

/**
 * What the components need from a card session, whichever API it uses (`UsbCardSession`,
 * `SmartCardSession`, or the session of `createCardSession()` that picks one).
 */
export interface CardSession extends EventTarget {
  /** The current state (a fresh object on every change; listen to `statechange`). */
  readonly state: SessionState;
  /** Whether `choose()` can be offered (the API has a reader chooser). */
  readonly canChoose: boolean;
  /** Typed `addEventListener`; returns a function that removes the listener. */
  on<K extends keyof CardSessionEventMap>(type: K, listener: (event: CardSessionEventMap[K]) => void): () => void;
  /** Finds the reader and follows reader and card; resolves with the state, never rejects. */
  start(): Promise<SessionState>;
  /** Lets the user pick a reader (a user gesture), where the API can; never rejects. */
  choose(): Promise<SessionState>;
  /** Hands the card to a flow (state `busy` until `release()`); rejects with our errors. */
  connect(): Promise<SessionCard>;
  /** Takes the card back, clearing any verified PIN. Safe to call more than once. */
  release(): Promise<void>;
  /** Stops following readers and closes what is open. */
  close(): Promise<void>;
}

export interface UsbCardSessionOptions {
  /** The USB backend. Default: `navigator.usb` (when there is one). `null`: none (state `no-webusb`). */
  usb?: UsbBackendLike | null;
  /** Filters for `choose()` (the browser's chooser). Default `CCID_REQUEST_FILTERS` (class 0x0B). */
  filters?: USBDeviceFilter[];
  /** Reader slot holding the card. Default 0. */
  slot?: number;
  /** Passed to `CcidReader.open` (the session sets `backend` itself). */
  readerOptions?: Omit<CcidReaderOptions, 'backend'>;
  /** Passed to `reader.connect`. */
  connectOptions?: ConnectOptions;
}

/** A powered card, handed to a flow by `connect()`. */
export interface SessionCard {
  channel: CardChannel;
  /** The reader has a pinpad (see `channel.pinpad` for verify / modify). */
  pinpad: boolean;
}

/** Why WebUSB is missing, if it is. */
export type WebUsbSupport = { supported: true } | { supported: false; reason: 'insecure-context' | 'unsupported-browser' };

/**
 * Whether this page can use WebUSB. Without it: `insecure-context` (a WebUSB browser, but the
 * page is not served over HTTPS or from localhost) or `unsupported-browser` (Firefox, Safari,
 * or not a browser). `env` defaults to `globalThis` (for tests).
 */
export function detectWebUsb(env: { navigator?: unknown; isSecureContext?: boolean } = globalThis): WebUsbSupport {
  const nav = env.navigator as { usb?: unknown } | undefined;
  if (nav && typeof nav === 'object' && 'usb' in nav && nav.usb) return { supported: true };
  if (env.isSecureContext === false) return { supported: false, reason: 'insecure-context' };
  return { supported: false, reason: 'unsupported-browser' };
}

function defaultBackend(): UsbBackendLike | undefined {
  const nav = (globalThis as { navigator?: { usb?: USB } }).navigator;
  return nav?.usb ? (nav.usb as unknown as UsbBackendLike) : undefined;
}

function noWebUsbError(): TransportError {
  const support = detectWebUsb();
  return new TransportError('transport/no-webusb', { reason: support.supported ? 'unsupported-browser' : support.reason });
}

function readerNameOf(device: UsbDeviceLike): string {
  const hex = (n: number) => n.toString(16).padStart(4, '0').toUpperCase();
  return device.productName || device.manufacturerName || `USB ${hex(device.vendorId)}:${hex(device.productId)}`;
}

/** Smart-card class first, vendor class next, the rest last (they are tried in this order). */
function deviceRank(device: UsbDeviceLike): number {
  const classes = device.configurations.flatMap((c) => c.interfaces.flatMap((i) => i.alternates.map((a) => a.interfaceClass)));
  if (classes.includes(0x0b)) return 0;
  if (classes.includes(0xff)) return 1;
  return 2;
}

function isCancel(e: unknown): boolean {
  return (e as { name?: unknown } | null)?.name === 'NotFoundError';
}

/** What `getDevices()` / `requestDevice()` rejected with, as our error. */
function browserError(e: unknown, what: string): WebCcidError {
  return mapUsbError(e, { stage: 'request', what });
}

/** The codes of a reader that is there but cannot be claimed through WebUSB. */
export const CLAIM_REFUSALS: ReadonlySet<string> = new Set(['transport/protected-class', 'transport/os-held', 'transport/no-permission']);

/**
 * The session's "no card" error (`ccid/card-absent`, as the reader reports an absent card:
 * bmICCStatus 2, ICC_MUTE), for sessions that learn of the removal some other way.
 */
export function cardAbsentError(options?: { cause?: unknown }): SlotError {
  return new SlotError('ccid/card-absent', {}, 0x42, 0xfe, options);
}

interface OpenReader {
  reader: CcidReader;
  device: UsbDeviceLike;
  off: Array<() => void>;
}

/** See the module comment. */
export class UsbCardSession extends EventTarget implements CardSession {
  private readonly backend: UsbBackendLike | undefined;
  private readonly filters: USBDeviceFilter[];
  private readonly slot: number;
  private readonly readerOptions: Omit<CcidReaderOptions, 'backend'>;
  private readonly connectOptions: ConnectOptions;
  private readonly lock = new Mutex();
  private current: OpenReader | undefined;
  private holder: CcidConnection | undefined;
  private present = false;
  private started = false;
  private closed = false;
  private current_state: SessionState;
  private readonly onUsbConnect = (event: { device: UsbDeviceLike }): void => {
    if (!this.started || this.closed || this.current) return;
    void this.lock
      .run(() => this.openReader(event.device))
      .catch((e: unknown) => {
        // A reader plugged in that cannot be claimed (protected class, held by the OS): say so.
        const error = e instanceof WebCcidError ? e : mapUsbError(e, 'open');
        if (!this.closed && !this.current && CLAIM_REFUSALS.has(error.code)) this.setState({ kind: 'error', error });
      });
  };

  constructor(options: UsbCardSessionOptions = {}) {
    super();
    this.backend = options.usb === null ? undefined : (options.usb ?? defaultBackend());
    this.filters = options.filters ?? CCID_REQUEST_FILTERS;
    this.slot = options.slot ?? 0;
    this.readerOptions = options.readerOptions ?? {};
    this.connectOptions = options.connectOptions ?? {};
    this.current_state = this.backend ? { kind: 'no-reader', backend: 'webusb' } : { kind: 'no-webusb', error: noWebUsbError(), backend: 'webusb' };
  }

  /** The current state (a fresh object on every change; listen to `statechange`). */
  get state(): SessionState {
    return this.current_state;
  }

  /** The open reader, if any (for diagnostics: descriptor, identity). */
  get reader(): CcidReader | undefined {
    return this.current?.reader;
  }

  /** Whether `choose()` can be offered (the backend has a chooser). */
  get canChoose(): boolean {
    return typeof this.backend?.requestDevice === 'function';
  }

  /** Typed `addEventListener`; returns a function that removes the listener. */
  on<K extends keyof UsbCardSessionEventMap>(type: K, listener: (event: UsbCardSessionEventMap[K]) => void): () => void {
    const l = listener as EventListener;
    this.addEventListener(type, l);
    return () => this.removeEventListener(type, l);
  }

  /**
   * Opens the first permitted reader (`getDevices()`: no chooser, so a kiosk's pre-granted
   * reader opens by itself) and starts following plug / unplug. Resolves with the new state;
   * never rejects (failures are in `state.error`). Calling it again re-reads the devices
   * when no reader is open.
   */
  start(): Promise<SessionState> {
    return this.lock.run(async () => {
      if (this.closed) return this.state;
      const backend = this.backend;
      if (!backend) {
        this.setState({ kind: 'no-webusb', error: noWebUsbError() });
        return this.state;
      }
      if (!this.started) {
        this.started = true;
        backend.addEventListener('connect', this.onUsbConnect);
      }
      if (this.current) return this.state;
      let devices: UsbDeviceLike[];
      try {
        devices = await backend.getDevices();
      } catch (e) {
        this.setState({ kind: 'error', error: browserError(e, 'the list of readers') });
        return this.state;
      }
      const ordered = [...devices].sort((a, b) => deviceRank(a) - deviceRank(b));
      let firstError: WebCcidError | undefined;
      for (const device of ordered) {
        try {
          await this.openReader(device);
          return this.state;
        } catch (e) {
          firstError ??= e instanceof WebCcidError ? e : mapUsbError(e, 'open');
        }
      }
      this.setState(firstError ? { kind: 'error', error: firstError } : { kind: 'no-reader' });
      return this.state;
    });
  }

  /**
   * Shows the browser's reader chooser (must run in a user gesture, e.g. a click) and opens the
   * chosen reader instead of the current one. A cancelled chooser leaves the state as it was.
   * Resolves with the new state; never rejects (failures are in `state.error`).
   */
  async choose(): Promise<SessionState> {
    const backend = this.backend;
    if (!backend?.requestDevice) {
      this.setState({ kind: 'no-webusb', error: noWebUsbError() });
      return this.state;
    }
    // requestDevice is called before any await so that the user gesture still counts.
    const chosen = backend.requestDevice({ filters: this.filters });
    return this.lock.run(async () => {
      if (!this.started && !this.closed) {
        this.started = true;
        backend.addEventListener('connect', this.onUsbConnect);
      }
      let device: UsbDeviceLike;
      try {
        device = await chosen;
      } catch (e) {
        if (isCancel(e)) return this.state;
        this.setState({ ...this.readerFields(), kind: 'error', error: browserError(e, 'the reader chooser') });
        return this.state;
      }
      if (this.closed) return this.state;
      if (this.current?.device === device && !this.current.reader.isClosed) return this.state;
      await this.closeReader();
      try {
        await this.openReader(device);
      } catch (e) {
        this.setState({ kind: 'error', error: e instanceof WebCcidError ? e : mapUsbError(e, 'open') });
      }
      return this.state;
    });
  }

  /**
   * Powers the card and hands it to the caller (state `busy` until `release()`). A second
   * `connect()` replaces the first holder's connection. Rejects with the driver's error:
   * `transport/no-webusb`, `transport/no-reader`, `ccid/card-absent`, `ccid/icc-mute`, ...
   */
  connect(): Promise<SessionCard> {
    return this.lock.run(async () => {
      if (!this.backend) throw noWebUsbError();
      const open = this.current;
      if (!open || open.reader.isClosed) {
        throw this.state.error?.code === 'transport/disconnected'
          ? this.state.error
          : new TransportError('transport/no-reader', {});
      }
      this.holder = undefined;
      this.setState({ ...this.readerFields(), kind: 'busy' });
      let connection: CcidConnection;
      try {
        connection = await open.reader.connect(this.slot, this.connectOptions);
      } catch (e) {
        const error = e instanceof WebCcidError ? e : mapUsbError(e, 'connect');
        if (this.current !== open) throw error; // unplugged meanwhile: the state already says so
        if (error.code === 'ccid/card-absent') {
          this.present = false;
          this.setState({ ...this.readerFields(), kind: 'no-card' });
        } else {
          this.setState({ ...this.readerFields(), kind: 'error', error });
        }
        throw error;
      }
      if (this.current !== open) {
        throw this.state.error ?? new TransportError('transport/disconnected', {});
      }
      this.present = true;
      this.holder = connection;
      return { channel: connection, pinpad: connection.pinpad !== undefined };
    });
  }

  /**
   * Gives the card back: powers it off (clearing any verified PIN) and returns to `card` (or
   * `no-card`). Safe to call more than once, and after the card or reader is gone.
   */
  release(): Promise<void> {
    return this.lock.run(async () => {
      const holder = this.holder;
      this.holder = undefined;
      if (holder) await holder.disconnect('unpower').catch(() => undefined);
      if (this.state.kind === 'busy' || (holder && this.state.kind === 'error')) {
        this.setState({ ...this.readerFields(), kind: this.present ? 'card' : 'no-card' });
      }
    });
  }

  /** Stops following the USB bus and closes the reader (the card is powered off first). */
  close(): Promise<void> {
    return this.lock.run(async () => {
      if (this.closed) return;
      this.closed = true;
      this.backend?.removeEventListener('connect', this.onUsbConnect);
      await this.closeReader();
      this.setState(this.backend ? { kind: 'no-reader' } : { kind: 'no-webusb', error: noWebUsbError() });
    });
  }

  // ---- internals (run under the lock) --------------------------------------------------------

  private readerFields(): Pick<SessionState, 'readerName' | 'pinpad'> {
    const open = this.current;
    if (!open) return {};
    const p = open.reader.descriptor.pinpad;
    return { readerName: readerNameOf(open.device), pinpad: p.verify || p.modify };
  }

  private async openReader(device: UsbDeviceLike): Promise<void> {
    const reader = await CcidReader.open(device, { ...this.readerOptions, ...(this.backend ? { backend: this.backend } : {}) });
    if (this.closed) {
      await reader.close();
      return;
    }
    const open: OpenReader = { reader, device, off: [] };
    this.current = open;
    this.present = false;
    open.off.push(
      reader.on('cardinserted', (event) => {
        if (this.current !== open || event.detail.slot !== this.slot) return;
        this.present = true;
        if (this.state.kind !== 'busy') this.setState({ ...this.readerFields(), kind: 'card' });
      }),
      reader.on('cardremoved', (event) => {
        if (this.current !== open || event.detail.slot !== this.slot) return;
        this.present = false;
        const inUse = this.holder !== undefined || this.state.kind === 'busy';
        this.holder = undefined;
        this.setState({ ...this.readerFields(), kind: 'no-card', ...(inUse ? { error: cardAbsentError(), lostDuringUse: true } : {}) });
      }),
      reader.on('disconnect', (event) => {
        if (this.current !== open) return;
        const inUse = this.holder !== undefined || this.state.kind === 'busy';
        this.dropReader(open);
        this.setState({ kind: 'no-reader', error: event.detail.error, ...(inUse ? { lostDuringUse: true } : {}) });
      }),
    );
    let present: boolean;
    try {
      present = (await reader.status(this.slot)).state !== 'absent';
    } catch (e) {
      if (this.current !== open) return; // unplugged meanwhile: the state already says so
      this.dropReader(open);
      await reader.close().catch(() => undefined);
      throw e;
    }
    if (this.current !== open) return;
    // A notification may have arrived while status() ran; both say the same thing by now.
    this.present = present;
    this.setState({ ...this.readerFields(), kind: present ? 'card' : 'no-card' });
  }

  private dropReader(open: OpenReader): void {
    for (const off of open.off) off();
    open.off.length = 0;
    if (this.current === open) {
      this.current = undefined;
      this.holder = undefined;
      this.present = false;
    }
  }

  private async closeReader(): Promise<void> {
    const open = this.current;
    if (!open) return;
    const holder = this.holder;
    this.dropReader(open);
    if (holder) await holder.disconnect('unpower').catch(() => undefined);
    await open.reader.close().catch(() => undefined);
  }

  private setState(next: SessionState): void {
    const previous = this.current_state;
    const state: SessionState = { ...next, backend: 'webusb' };
    this.current_state = state;
    this.dispatchEvent(new CustomEvent<SessionStateChangeDetail>('statechange', { detail: { state, previous } }));
  }
}
