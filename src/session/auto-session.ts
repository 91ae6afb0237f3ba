/**
 * `createCardSession()`: the card session the components should be given when the page may run
 * both where WebUSB can claim the reader and where it cannot (ChromeOS, Isolated Web Apps).
 *
 * It starts on WebUSB (`UsbCardSession`: our CCID driver, pinpad support, the reader chooser)
 * and moves to the Web Smart Card API (`SmartCardSession`) when `navigator.smartCard` (or the
 * injected `smartCard`) exists and
 * - there is no WebUSB at all, or
 * - the reader is refused: `transport/protected-class` (Chrome keeps class 0x0B readers from
 *   ordinary pages), `transport/os-held` (the OS's smart-card service holds it),
 *   `transport/no-permission` (WebUSB blocked by policy).
 *
 * The move happens once and is final for the session. The refused state is not shown: the
 * next `statechange` is already the smart-card session's. `state.backend` says which API is in
 * use, `fallbackReason` why the session left WebUSB. Without the Web Smart Card API it is a
 * plain `UsbCardSession` (the refusal is shown as it is).
 *
 * ```ts
 * const session = createCardSession();
 * element.session = session;
 * await session.start();
 * console.log(session.state.backend); // 'webusb' or 'smartcard'
 * ```
 */
import { TransportError, type WebCcidError } from '../errors.js';
import { isSmartCardApiAvailable } from '../smartcard/channel.js';
import type { SmartCardResourceManager } from '../smartcard/types.js';
import {
  CLAIM_REFUSALS,
  detectWebUsb,
  UsbCardSession,
  type CardBackendKind,
  type CardSession,
  type CardSessionEventMap,
  type SessionCard,
  type SessionState,
  type SessionStateChangeDetail,
  type UsbCardSessionOptions,
} from './card-session.js';
import { SmartCardSession, type SmartCardSessionOptions } from './smartcard-session.js';

/** Options of {@link createCardSession}: those of both sessions. */
export interface CardSessionOptions extends UsbCardSessionOptions {
  /** The Web Smart Card API object. Default `navigator.smartCard` (when there is one); `null`: never use it. */
  smartCard?: SmartCardResourceManager | null;
  /** Passed to `SmartCardSession` (reader name, poll interval, access mode). */
  smartCardOptions?: Omit<SmartCardSessionOptions, 'smartCard'>;
}

function defaultSmartCard(): SmartCardResourceManager | undefined {
  const nav = (globalThis as { navigator?: unknown }).navigator;
  return isSmartCardApiAvailable(nav) ? (nav as { smartCard: SmartCardResourceManager }).smartCard : undefined;
}

function hasWebUsb(options: CardSessionOptions): boolean {
  if (options.usb === null) return false;
  if (options.usb !== undefined) return true;
  return detectWebUsb().supported;
}

/** The error of a WebUSB state that means the reader is there but cannot be claimed. */
function refusalOf(state: SessionState): WebCcidError | undefined {
  return state.kind === 'error' && state.error !== undefined && CLAIM_REFUSALS.has(state.error.code) ? state.error : undefined;
}

/** A card session that picks its API (see the module comment). Made by {@link createCardSession}. */
export class AutoCardSession extends EventTarget implements CardSession {
  private readonly smartCard: SmartCardResourceManager | undefined;
  private readonly smartCardOptions: Omit<SmartCardSessionOptions, 'smartCard'>;
  private active: CardSession;
  private off: () => void;
  private switching: Promise<void> | undefined;
  private reason: WebCcidError | undefined;
  private closed = false;
  private current_state: SessionState;

  constructor(options: CardSessionOptions = {}) {
    super();
    this.smartCard = options.smartCard === null ? undefined : (options.smartCard ?? defaultSmartCard());
    this.smartCardOptions = options.smartCardOptions ?? {};
    if (!hasWebUsb(options) && this.smartCard) {
      this.reason = new TransportError('transport/no-webusb', { reason: 'using-smart-card-api' });
      this.active = this.newSmartCardSession();
    } else {
      this.active = new UsbCardSession(options);
    }
    this.off = this.follow(this.active);
    this.current_state = this.active.state;
  }

  /** The current state (`state.backend`: the API in use). */
  get state(): SessionState {
    return this.current_state;
  }

  /** The API in use now. */
  get backend(): CardBackendKind {
    return this.active instanceof SmartCardSession ? 'smartcard' : 'webusb';
  }

  /** Why the session uses the Web Smart Card API (no WebUSB, or the refused reader's error). */
  get fallbackReason(): WebCcidError | undefined {
    return this.reason;
  }

  /** The session in use now (`UsbCardSession` or `SmartCardSession`). */
  get session(): CardSession {
    return this.active;
  }

  /** The chooser is WebUSB's: false once on the Web Smart Card API. */
  get canChoose(): boolean {
    return this.active.canChoose;
  }

  /** Typed `addEventListener`; returns a function that removes the listener. */
  on<K extends keyof CardSessionEventMap>(type: K, listener: (event: CardSessionEventMap[K]) => void): () => void {
    const l = listener as EventListener;
    this.addEventListener(type, l);
    return () => this.removeEventListener(type, l);
  }

  /** Starts the session in use; after a refused reader, the Web Smart Card one. Never rejects. */
  async start(): Promise<SessionState> {
    if (this.closed) return this.state;
    await this.active.start();
    await this.switching;
    return this.state;
  }

  /** WebUSB's chooser (call it in a user gesture); refusing the chosen reader moves to the Web Smart Card API. */
  choose(): Promise<SessionState> {
    // No await before the inner choose(): the user gesture must still count.
    const chosen = this.active.choose();
    return chosen.then(async () => {
      await this.switching;
      return this.state;
    });
  }

  /** Hands the card to a flow (see `UsbCardSession.connect` / `SmartCardSession.connect`). */
  async connect(): Promise<SessionCard> {
    await this.switching;
    return this.active.connect();
  }

  /** Takes the card back (powered off / reset: no verified PIN survives). */
  async release(): Promise<void> {
    await this.active.release();
  }

  /** Closes the session in use. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.switching; // a switch under way finishes first (its smart-card session is not started)
    await this.active.close();
  }

  // ---- internals ------------------------------------------------------------------------------

  private newSmartCardSession(): SmartCardSession {
    return new SmartCardSession({ ...this.smartCardOptions, ...(this.smartCard ? { smartCard: this.smartCard } : {}) });
  }

  private follow(session: CardSession): () => void {
    return session.on('statechange', (event) => {
      if (session !== this.active) return;
      const state = event.detail.state;
      const refusal = session instanceof UsbCardSession && this.smartCard && !this.switching && !this.closed ? refusalOf(state) : undefined;
      if (refusal && session instanceof UsbCardSession) {
        // Not shown: the next state is the Web Smart Card session's.
        this.switching = this.switchToSmartCard(session, refusal);
        return;
      }
      this.setState(state);
    });
  }

  private async switchToSmartCard(usb: UsbCardSession, reason: WebCcidError): Promise<void> {
    this.reason = reason;
    this.off();
    const smartCard = this.newSmartCardSession();
    this.active = smartCard;
    this.off = this.follow(smartCard);
    this.setState(smartCard.state);
    await usb.close().catch(() => undefined);
    if (!this.closed) await smartCard.start();
  }

  private setState(next: SessionState): void {
    const previous = this.current_state;
    this.current_state = next;
    this.dispatchEvent(new CustomEvent<SessionStateChangeDetail>('statechange', { detail: { state: next, previous } }));
  }
}

/**
 * A card session on WebUSB that moves to the Web Smart Card API when WebUSB is missing or
 * refuses the reader and `navigator.smartCard` exists (see the module comment).
 */
export function createCardSession(options: CardSessionOptions = {}): AutoCardSession {
  return new AutoCardSession(options);
}
