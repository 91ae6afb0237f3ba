/**
 * The demo's virtual hardware: a virtual CCID reader on a virtual `navigator.usb` (VirtualUsb)
 * with a virtual HCA card, switchable into every situation the flows must handle (the demo panel
 * drives it; tests can too, through `window.webccidDemo`).
 */
import {
  confirmedForVirtualCard,
  createVirtualHcaCard,
  createVirtualNhiCard,
  createVirtualPinpad,
  createVirtualReader,
  T0_CARD_ATR,
  VIRTUAL_HCA_DEFAULTS,
  VirtualCard,
  VirtualUsb,
  type PinpadEntry,
  type PinpadPrompt,
  type VirtualHcaCard,
  type VirtualPinpad,
  type VirtualReader,
  type VirtualReaderOptions,
} from '../../src/virtual/index.js';
import { encodeBase64 } from '../../src/server/base64.js';
import type { HcaProfile } from '../../src/hca/profile.js';

import { isDemoState, type DemoState } from './demo-states.js';

export { DEMO_STATES, isDemoState, type DemoState } from './demo-states.js';

/** The virtual card's PUK in the 'wrong-puk' state: the reference server hands out 12345678 for the demo user code. */
const OTHER_PUK = '87654321';

type ReaderKind = 'plain' | 'pinpad' | 'slow';

/**
 * The virtual card's memory, carried from page to page: the state it was made in, and what the
 * flows can change on it (PIN, PUK, their tries; a PIN with no tries left is the lock). The card
 * lives in the page, so the next page makes a new card with this memory.
 */
export interface DemoCardMemory {
  state: DemoState;
  pin: string;
  puk: string;
  pinTriesLeft: number;
  pukTriesLeft: number;
}

/** The virtual card as the demo panel shows it. */
export interface DemoCardStatus {
  /** 'usable', 'pin-blocked' (locked: unlock it), 'puk-blocked' (cannot be unlocked any more). */
  lock: 'usable' | 'pin-blocked' | 'puk-blocked';
  pinTriesLeft: number;
  pukTriesLeft: number;
  /** The PIN is still the demo's 123456 (the panel may say so; a PIN the user set is never shown). */
  defaultPin: boolean;
}

/** The sessionStorage entry of the virtual card on its way to the next page. */
const SAVED_CARD = 'webccid-demo-card';

/**
 * The virtual card goes from page to page as one whole (state, PIN, PUK, tries): written to
 * sessionStorage when the page is left and taken out again by the next page as it starts, so
 * it sits in storage only between two pages of this tab. It is the demo card's test data; the
 * demo never asks for a real card's PIN. Pages with a real reader leave the entry alone.
 */
function takeSavedCard(): { state: DemoState; memory?: DemoCardMemory } | undefined {
  try {
    const raw = sessionStorage.getItem(SAVED_CARD);
    sessionStorage.removeItem(SAVED_CARD);
    if (!raw) return undefined;
    const v = JSON.parse(raw) as Partial<Record<keyof DemoCardMemory, unknown>>;
    if (
      isDemoState(v.state) &&
      typeof v.pin === 'string' &&
      typeof v.puk === 'string' &&
      typeof v.pinTriesLeft === 'number' &&
      typeof v.pukTriesLeft === 'number'
    ) {
      return { state: v.state, memory: { state: v.state, pin: v.pin, puk: v.puk, pinTriesLeft: v.pinTriesLeft, pukTriesLeft: v.pukTriesLeft } };
    }
    if (isDemoState(v.state)) return { state: v.state }; // a card other than an HCA card
  } catch {
    // Ignore a damaged entry.
  }
  return undefined;
}

function saveCard(env: DemoEnvironment): void {
  // The NHI card is the NHI and field-kit pages' own: the HCA pages keep the last HCA card.
  if (env.state === 'nhi') return;
  try {
    const memory = env.cardMemory();
    if (memory) sessionStorage.setItem(SAVED_CARD, JSON.stringify(memory));
    else sessionStorage.setItem(SAVED_CARD, JSON.stringify({ state: env.state }));
  } catch {
    // Not saved: the next page starts with a fresh card.
  }
}

function readerKindOf(state: DemoState): ReaderKind {
  return state === 'pinpad' ? 'pinpad' : state === 'slow' ? 'slow' : 'plain';
}

/** See the module comment. Fires `change` whenever something shown in the demo panel changes. */
export class DemoEnvironment extends EventTarget {
  readonly usb = new VirtualUsb({ devices: [], granted: true });
  readonly pinpad: VirtualPinpad;
  state: DemoState = 'normal';
  reader: VirtualReader | undefined;
  /** The card of the current state (in the reader, or held out after "remove"). */
  card: VirtualCard | undefined;
  cardInserted = true;
  readerPlugged = true;
  /** A state is being prepared (the first one makes the test PKI: RSA keys take a moment). */
  preparing = false;
  /** What the reader's keypad is asked for now (pinpad reader only). */
  keypadPrompt: PinpadPrompt | undefined;
  private keypadAnswer: ((entry: PinpadEntry) => void) | undefined;
  private readerKind: ReaderKind | undefined;
  private anchorsSent = new Set<string>();
  private queue: Promise<void> = Promise.resolve();

  /**
   * The profile the flow components get while the virtual reader is in use: `HCA_PROFILE` with its
   * PIN format confirmed (`confirmedForVirtualCard`: the virtual card implements the profile), so
   * the demo shows a wrong PIN's tries left, the lock and the unlock. Undefined with `profile:
   * 'assumed'` (`?profile=assumed`): the components then treat the virtual card as a real one whose
   * PIN format is not confirmed, and a refused PIN stops the flow (`hca/profile-unconfirmed`).
   * Real readers never get this profile.
   */
  readonly profile: HcaProfile | undefined;

  constructor(
    private readonly apiBase = '/api',
    options: { profile?: 'confirmed' | 'assumed' } = {},
  ) {
    super();
    this.profile = options.profile === 'assumed' ? undefined : confirmedForVirtualCard();
    this.pinpad = createVirtualPinpad({
      onEntry: (prompt, { signal }) =>
        new Promise<PinpadEntry>((resolve) => {
          this.keypadPrompt = prompt;
          this.keypadAnswer = resolve;
          // The reader gave up waiting (its bTimeOut): the keypad stops asking.
          signal.addEventListener('abort', () => {
            if (this.keypadAnswer !== resolve) return;
            this.keypadAnswer = undefined;
            this.keypadPrompt = undefined;
            this.changed();
          });
          this.changed();
        }),
    });
  }

  /** The virtual HCA card, when the current card is one. */
  get hcaCard(): VirtualHcaCard | undefined {
    const c = this.card as VirtualHcaCard | undefined;
    return c && 'pinTriesLeft' in c ? c : undefined;
  }

  private changed(): void {
    this.dispatchEvent(new Event('change'));
  }

  /**
   * Switches to a situation: a new card in that state, and the reader it needs. `memory` carries
   * the card over from the previous page (the virtual card lives in the page).
   */
  setState(state: DemoState, memory?: DemoCardMemory): Promise<void> {
    this.queue = this.queue.then(() => this.apply(state, memory)).catch((e: unknown) => console.error('demo state', e));
    return this.queue;
  }

  /**
   * The first state of a page's demo: `requested` (`?state=`) when it names one; else, on the HCA
   * pages (`cards: 'hca'`), the card the previous page left (see `takeSavedCard`) or a normal one;
   * on the NHI and field-kit pages (`cards: 'nhi'`) the NHI card, leaving the HCA card in storage
   * for the next HCA page. From then on the card is saved for the next page when this one is left,
   * and the copy dropped when the page comes back from the back-forward cache (its card is the
   * live one).
   */
  async startOnPage(cards: 'hca' | 'nhi', requested: string | null): Promise<void> {
    addEventListener('pagehide', () => saveCard(this));
    addEventListener('pageshow', (event) => {
      if (!event.persisted) return;
      try {
        sessionStorage.removeItem(SAVED_CARD);
      } catch {
        // Nothing to drop.
      }
    });
    const saved = cards === 'nhi' ? undefined : takeSavedCard();
    if (isDemoState(requested)) await this.setState(requested);
    else if (cards === 'nhi') await this.setState('nhi');
    else if (saved) await this.setState(saved.state, saved.memory);
    else await this.setState('normal');
  }

  /** The current HCA card's memory, to carry over to the next page. */
  cardMemory(): DemoCardMemory | undefined {
    const c = this.hcaCard;
    return c ? { state: this.state, ...c.memory() } : undefined;
  }

  /** The current HCA card's lock, tries and whether its PIN is still the demo's. */
  get cardStatus(): DemoCardStatus | undefined {
    const c = this.hcaCard;
    if (!c) return undefined;
    const m = c.memory();
    const defaultPin = m.pin === VIRTUAL_HCA_DEFAULTS.pin;
    m.pin = m.puk = '';
    return {
      lock: m.pukTriesLeft === 0 && m.pinTriesLeft === 0 ? 'puk-blocked' : m.pinTriesLeft === 0 ? 'pin-blocked' : 'usable',
      pinTriesLeft: m.pinTriesLeft,
      pukTriesLeft: m.pukTriesLeft,
      defaultPin,
    };
  }

  /**
   * Puts the demo back as it started: a fresh card in the current situation (PIN 123456, tries
   * reset) and, on the demo server, the demo card's unlock state (lockout after wrong user codes,
   * rate-limit window: `POST {apiBase}/demo/reset`, dev server only). Resolves with whether the
   * server part worked (false without a demo server, e.g. the static build).
   */
  async resetDemo(): Promise<boolean> {
    let server = false;
    try {
      const res = await fetch(`${this.apiBase}/demo/reset`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
      server = res.ok;
    } catch {
      // No demo server: only the card is reset.
    }
    await this.setState(this.state);
    this.lastReset = server ? 'card-and-server' : 'card';
    this.changed();
    return server;
  }

  /** What the last `resetDemo()` reset (the panel says so). */
  lastReset: 'card' | 'card-and-server' | undefined;

  private async apply(state: DemoState, memory?: DemoCardMemory): Promise<void> {
    this.state = state;
    this.preparing = true;
    this.changed();
    try {
      this.releaseKeypad();
      const card = await this.makeCard(state, memory);
      await this.registerTrustAnchors(card);
      const kind = readerKindOf(state);
      if (!this.reader || this.readerKind !== kind) {
        if (this.reader) this.usb.detach(this.reader);
        this.readerKind = kind;
        this.reader = createVirtualReader(this.readerOptions(kind, card));
        this.card = card;
        this.cardInserted = true;
        this.readerPlugged = true;
        this.usb.attach(this.reader);
      } else {
        if (this.cardInserted) this.reader.removeCard();
        this.card = card;
        this.cardInserted = true;
        this.reader.insertCard(card);
        if (!this.readerPlugged) {
          this.readerPlugged = true;
          this.reader.plug();
        }
      }
    } finally {
      this.preparing = false;
      this.changed();
    }
  }

  private readerOptions(kind: ReaderKind, card: VirtualCard): VirtualReaderOptions {
    switch (kind) {
      case 'pinpad':
        return { preset: 'gemplus-gempc-pinpad', pinpad: true, card, onSecure: this.pinpad.onSecure };
      case 'slow':
        return { preset: 'castles-ezccid', card, timeScale: 1, latencyMs: 40, processingMs: 350 };
      default:
        return { preset: 'castles-ezccid', card };
    }
  }

  private async makeCard(state: DemoState, memory?: DemoCardMemory): Promise<VirtualCard> {
    if (state === 'nhi') return createVirtualNhiCard();
    if (memory && state !== 'not-hca') {
      return createVirtualHcaCard({
        pin: memory.pin,
        puk: memory.puk,
        pinTriesLeft: memory.pinTriesLeft,
        pukTriesLeft: memory.pukTriesLeft,
        ...(state === 'institution' ? { kind: 'institution' as const } : {}),
        ...(state === 'version1' ? { version: 1 as const } : {}),
        ...(state === 'expired' ? { expired: true } : {}),
      });
    }
    switch (state) {
      case 'locked':
        return createVirtualHcaCard({ locked: true });
      case 'puk-blocked':
        return createVirtualHcaCard({ locked: true, pukBlocked: true });
      case 'wrong-puk':
        return createVirtualHcaCard({ locked: true, puk: OTHER_PUK });
      case 'not-hca':
        return new VirtualCard({ atr: T0_CARD_ATR, label: 'not an HCA card' });
      case 'version1':
        return createVirtualHcaCard({ version: 1 });
      case 'institution':
        return createVirtualHcaCard({ kind: 'institution' });
      case 'expired':
        return createVirtualHcaCard({ expired: true });
      default:
        return createVirtualHcaCard();
    }
  }

  /** The virtual card's test PKI is made in the page: the demo server must trust its root to verify bindings. */
  private async registerTrustAnchors(card: VirtualCard): Promise<void> {
    const pki = (card as Partial<VirtualHcaCard>).pki;
    if (!pki) return;
    const root = encodeBase64(pki.root.der);
    if (this.anchorsSent.has(root)) return;
    try {
      const res = await fetch(`${this.apiBase}/demo/trust-anchors`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ certificates: [root, encodeBase64(pki.ca.der)] }),
      });
      if (res.ok) this.anchorsSent.add(root);
    } catch {
      // No demo server (e.g. the static build): binding will say the chain is untrusted.
    }
  }

  removeCard(): void {
    if (!this.reader || !this.cardInserted) return;
    this.releaseKeypad();
    this.reader.removeCard();
    this.cardInserted = false;
    this.changed();
  }

  insertCard(): void {
    if (!this.reader || this.cardInserted || !this.card) return;
    this.reader.insertCard(this.card);
    this.cardInserted = true;
    this.changed();
  }

  unplug(): void {
    if (!this.reader || !this.readerPlugged) return;
    this.releaseKeypad();
    this.reader.unplug();
    this.readerPlugged = false;
    this.changed();
  }

  plug(): void {
    if (!this.reader || this.readerPlugged) return;
    this.reader.plug();
    this.readerPlugged = true;
    this.changed();
  }

  /** Answers the reader keypad's current prompt (digits + OK, cancel, or nothing until the time-out). */
  answerKeypad(entry: PinpadEntry): void {
    const answer = this.keypadAnswer;
    this.keypadAnswer = undefined;
    this.keypadPrompt = undefined;
    answer?.(entry);
    this.changed();
  }

  private releaseKeypad(): void {
    if (this.keypadAnswer) this.answerKeypad({ cancel: true });
    this.pinpad.clear();
  }
}
