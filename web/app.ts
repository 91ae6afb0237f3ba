/**
 * The demo page's state and actions. The view (view.ts) renders `DemoApp`
 * with lit-html; every action updates the state and asks for a render. The
 * view is handed in (main.ts), so this module does not import it: view.ts
 * depends on this one, not the other way round.
 *
 * One reader at a time: the virtual one (a byte-level CCID device in the
 * page, `webccid/virtual`) or a real one from `navigator.usb`.
 */
import { render, type TemplateResult } from 'lit';
import {
  CCID_REQUEST_FILTERS,
  CcidReader,
  describeStatusWord,
  fromHex,
  toHex,
  type CcidConnection,
  type UsbBackendLike,
  type UsbDeviceLike,
} from '../src/index.js';
import {
  createHcaLikeCard,
  createVirtualNhiCard,
  createT0Card,
  createVirtualReader,
  VirtualUsb,
  type VirtualCard,
  type VirtualFault,
  type VirtualReader,
  type VirtualReaderPresetName,
} from '../src/virtual/index.js';
import { explainError, explainNoWebUsb, type Explained } from './explain.js';
import { describeFrame, formatBaud, hex4 } from './format.js';
import { S } from './strings.js';

export type Source = 'virtual' | 'usb';
export type CardKind = 'hca' | 'nhi' | 't0' | 'none';
export type Refusal = 'none' | 'protected-class' | 'os-held' | 'no-permission';
export type FaultKind = keyof typeof S.faults;
export type SlotView = 'absent' | 'present' | 'active' | 'unknown';

export type LogEntry = { id: number; time: string } & (
  | {
      kind: 'apdu';
      command: Uint8Array;
      response?: Uint8Array;
      sw?: number;
      /** Wall-clock time in this page. */
      ms?: number;
      /** Virtual reader only: the time a real reader and card would take at the negotiated rate (USB, wire, processing). */
      modelledMs?: number;
      error?: Explained;
    }
  | { kind: 'event'; text: string }
  | { kind: 'frame'; direction: 'out' | 'in'; bytes: Uint8Array; summary: string }
  | { kind: 'error'; explained: Explained }
);

/** Settings a URL can preset: `?preset=…&card=…&refusal=…&realtime=0&trace=1&autoconnect=1&apdu=hex,hex&source=usb`. */
export interface StartOptions {
  source: Source;
  preset: VirtualReaderPresetName;
  card: CardKind;
  refusal: Refusal;
  realTime: boolean;
  trace: boolean;
  autoconnect: boolean;
  apdus: string[];
}

const MAX_LOG = 300;

export class DemoApp {
  // ---- state read by the view
  source: Source;
  preset: VirtualReaderPresetName;
  cardKind: CardKind;
  refusal: Refusal;
  realTime: boolean;
  trace: boolean;
  fault: FaultKind = 'time-extension';
  apduText: string = S.quick[0]!.hex;
  /** What is running now (buttons are disabled meanwhile). */
  busy: string | undefined;
  /** The aria-live status line. */
  status: string = S.statusReady;
  /** The problem shown in the alert box, cleared by the next action. */
  problem: Explained | undefined;
  reader: CcidReader | undefined;
  connection: CcidConnection | undefined;
  slot = 0;
  slots: SlotView[] = [];
  /** The reader was unplugged (the panel says so until it comes back). */
  unplugged = false;
  log: LogEntry[] = [];
  /** The virtual hardware, when the virtual reader is in use. */
  virtual: { device: VirtualReader; usb: VirtualUsb; card: VirtualCard | null } | undefined;
  readonly webUsb: boolean = typeof navigator !== 'undefined' && 'usb' in navigator && navigator.usb !== undefined;

  private nextId = 1;
  private renderQueued = false;
  /** The real device we lost to an unplug, to reopen when it comes back. */
  private lostUsbDevice: { vendorId: number; productId: number; serialNumber: string | undefined } | undefined;
  private usbListening = false;

  constructor(
    private readonly root: HTMLElement,
    options: StartOptions,
    /** Renders the whole page from this state (view.ts `renderApp`). */
    private readonly view: (app: DemoApp) => TemplateResult,
  ) {
    this.source = options.source;
    this.preset = options.preset;
    this.cardKind = options.card;
    this.refusal = options.refusal;
    this.realTime = options.realTime;
    this.trace = options.trace;
  }

  /** Opens the default reader (and, for URL-driven runs, powers on and sends APDUs). */
  async start(options: StartOptions): Promise<void> {
    if (this.source === 'usb') {
      if (!this.webUsb) this.problem = explainNoWebUsb();
      this.update();
      return;
    }
    await this.openVirtual();
    if (!options.autoconnect || !this.reader) return;
    await this.powerOn();
    for (const hex of options.apdus) {
      if (!this.connection) break;
      this.apduText = spaced(hex);
      await this.send();
    }
  }

  // ---- rendering ----------------------------------------------------------

  /** Schedules a render (coalesced to one per frame). */
  update(): void {
    if (this.renderQueued) return;
    this.renderQueued = true;
    queueMicrotask(() => {
      this.renderQueued = false;
      const log = this.root.querySelector<HTMLElement>('#log');
      const atBottom = !log || log.scrollHeight - log.scrollTop - log.clientHeight < 24;
      render(this.view(this), this.root);
      const after = this.root.querySelector<HTMLElement>('#log');
      if (after && atBottom) after.scrollTop = after.scrollHeight;
    });
  }

  private say(status: string): void {
    this.status = status;
    this.update();
  }

  private fail(error: unknown): Explained {
    const explained = explainError(error);
    this.problem = explained;
    this.status = S.statusFailed(explained.title);
    this.update();
    return explained;
  }

  private addLog(entry: DistributiveOmit<LogEntry, 'id' | 'time'>): LogEntry {
    const full = { ...entry, id: this.nextId++, time: clock() } as LogEntry;
    this.log.push(full);
    if (this.log.length > MAX_LOG) this.log.splice(0, this.log.length - MAX_LOG);
    this.update();
    return full;
  }

  private event(text: string): void {
    this.addLog({ kind: 'event', text });
  }

  /** Runs an action with the buttons disabled; errors end up in the alert box and the log. */
  private async run(what: string, action: () => Promise<void>): Promise<void> {
    if (this.busy) return;
    this.busy = what;
    this.problem = undefined;
    this.update();
    try {
      await action();
    } catch (e) {
      this.addLog({ kind: 'error', explained: this.fail(e) });
    } finally {
      this.busy = undefined;
      this.update();
    }
  }

  // ---- settings -----------------------------------------------------------

  async setSource(source: Source): Promise<void> {
    if (source === this.source || this.busy) return;
    this.source = source;
    await this.run(S.statusClosed, () => this.closeReaderNow());
    this.problem = source === 'usb' && !this.webUsb ? explainNoWebUsb() : undefined;
    this.say(S.statusReady);
    if (source === 'virtual') await this.openVirtual();
  }

  async setPreset(preset: VirtualReaderPresetName): Promise<void> {
    this.preset = preset;
    await this.openVirtual();
  }

  async setRefusal(refusal: Refusal): Promise<void> {
    this.refusal = refusal;
    await this.openVirtual();
  }

  async setRealTime(on: boolean): Promise<void> {
    this.realTime = on;
    await this.openVirtual();
  }

  /** Changing the card swaps it in the virtual slot (the page hears the removal and the insertion). */
  setCardKind(kind: CardKind): void {
    this.cardKind = kind;
    const v = this.virtual;
    if (v) {
      if (v.device.cardIn(0)) v.device.removeCard(0);
      v.card = makeCard(kind);
      if (v.card) v.device.insertCard(v.card, 0);
    }
    this.update();
  }

  setTrace(on: boolean): void {
    this.trace = on;
    this.update();
  }

  setSlot(slot: number): void {
    this.slot = slot;
    this.connection = this.slots[slot] === 'active' ? this.connection : undefined;
    this.update();
  }

  clearLog(): void {
    this.log = [];
    this.update();
  }

  // ---- opening readers ----------------------------------------------------

  /** (Re)creates the virtual reader with the chosen preset, card and refusal, and opens it. */
  openVirtual(): Promise<void> {
    return this.run(S.statusOpening, async () => {
      await this.closeReaderNow();
      const card = makeCard(this.cardKind);
      const device = createVirtualReader({
        preset: this.preset,
        card,
        // Modelled times are counted whatever the scale; realTime also waits for them.
        timeScale: this.realTime ? 1 : 0,
        latencyMs: 0.5,
        processingMs: 2,
        ...(this.refusal === 'protected-class' || this.refusal === 'os-held' ? { claimRefusal: this.refusal } : {}),
        ...(this.refusal === 'no-permission' ? { accessDenied: true } : {}),
      });
      const usb = new VirtualUsb({ devices: [device] });
      usb.addEventListener('connect', ({ device: d }) => {
        if (this.virtual?.usb === usb && this.unplugged) {
          this.event(S.eventPlugged);
          void this.openDevice(d, usb);
        }
      });
      this.virtual = { device, usb, card };
      const [first] = await usb.getDevices();
      if (first) await this.openDeviceNow(first, usb);
    });
  }

  /** The USB chooser, then the driver. */
  chooseUsb(): Promise<void> {
    if (!this.webUsb) {
      this.problem = explainNoWebUsb();
      this.update();
      return Promise.resolve();
    }
    return this.run(S.statusOpening, async () => {
      // requestDevice must run in the click's user activation: call it before any other await.
      const chosen = navigator.usb.requestDevice({ filters: CCID_REQUEST_FILTERS });
      const device = await chosen;
      await this.closeReaderNow();
      this.listenToNavigatorUsb();
      await this.openDeviceNow(device, navigator.usb);
    });
  }

  private listenToNavigatorUsb(): void {
    if (this.usbListening) return;
    this.usbListening = true;
    navigator.usb.addEventListener('connect', (event: USBConnectionEvent) => {
      const lost = this.lostUsbDevice;
      const d = event.device;
      if (this.source !== 'usb' || !lost || this.reader) return;
      if (d.vendorId === lost.vendorId && d.productId === lost.productId && (d.serialNumber ?? undefined) === lost.serialNumber) {
        this.event(S.eventPlugged);
        void this.openDevice(d, navigator.usb);
      }
    });
  }

  private openDevice(device: UsbDeviceLike, backend: UsbBackendLike): Promise<void> {
    return this.run(S.statusOpening, () => this.openDeviceNow(device, backend));
  }

  private async openDeviceNow(device: UsbDeviceLike, backend: UsbBackendLike): Promise<void> {
    this.say(S.statusOpening);
    this.unplugged = false;
    const reader = await CcidReader.open(device, {
      backend,
      trace: (direction, frame) => {
        if (this.trace) this.addLog({ kind: 'frame', direction, bytes: frame.slice(), summary: describeFrame(direction, frame) });
      },
    });
    this.reader = reader;
    this.connection = undefined;
    this.slot = Math.min(this.slot, reader.slotCount - 1);
    this.slots = Array.from({ length: reader.slotCount }, () => 'unknown');
    this.lostUsbDevice = undefined;
    reader.addEventListener('cardinserted', (e) => this.onSlotChange(reader, slotOf(e), true));
    reader.addEventListener('cardremoved', (e) => this.onSlotChange(reader, slotOf(e), false));
    reader.addEventListener('hardwareerror', (e) => {
      const d = (e as CustomEvent<{ slot: number; code: number }>).detail;
      this.event(S.eventHardware(d.slot, d.code));
    });
    reader.addEventListener('disconnect', () => this.onDisconnect(reader));
    const name = reader.identity.productName ?? `${hex4(reader.identity.vendorId)}:${hex4(reader.identity.productId)}`;
    this.event(S.statusOpened(name));
    this.say(S.statusOpened(name));
    for (let slot = 0; slot < reader.slotCount; slot++) {
      const s = await reader.status(slot);
      if (this.reader !== reader) return;
      this.slots[slot] = s.state;
    }
    this.update();
  }

  /** Closes the reader (user action). */
  closeReader(): Promise<void> {
    return this.run(S.statusClosed, async () => {
      await this.closeReaderNow();
      this.say(S.statusClosed);
    });
  }

  private async closeReaderNow(): Promise<void> {
    const reader = this.reader;
    this.reader = undefined;
    this.connection = undefined;
    this.slots = [];
    this.unplugged = false;
    if (reader) await reader.close();
    if (this.virtual) {
      // The old virtual device goes away with its reader.
      this.virtual.device.unplug();
      this.virtual = undefined;
    }
    this.update();
  }

  // ---- events from the reader ------------------------------------------

  private onSlotChange(reader: CcidReader, slot: number, present: boolean): void {
    if (reader !== this.reader || slot >= this.slots.length) return;
    const before = this.slots[slot];
    const now: SlotView = present ? (before === 'active' ? 'active' : 'present') : 'absent';
    this.slots[slot] = now;
    if (!present && slot === this.slot) this.connection = undefined;
    // The reader's first notification reports the initial state; only changes go to the log.
    if (before !== 'unknown' && (before === 'absent') !== !present) {
      const text = present ? S.eventInserted(slot) : S.eventRemoved(slot);
      this.event(text);
      this.say(text);
    }
    this.update();
  }

  private onDisconnect(reader: CcidReader): void {
    if (reader !== this.reader) return;
    this.reader = undefined;
    this.connection = undefined;
    this.slots = [];
    this.unplugged = true;
    if (this.source === 'usb') {
      const id = reader.identity;
      this.lostUsbDevice = { vendorId: id.vendorId, productId: id.productId, serialNumber: id.serialNumber };
    }
    this.event(S.eventUnplugged);
    this.say(S.eventUnplugged);
  }

  // ---- card ---------------------------------------------------------------

  powerOn(): Promise<void> {
    return this.run(S.statusPowering, async () => {
      const reader = this.reader;
      if (!reader) return;
      const slot = this.slot;
      this.connection = undefined;
      this.event(S.eventPowerOn(slot));
      this.say(S.statusPowering);
      const connection = await reader.connect(slot);
      if (this.reader !== reader) return;
      this.connection = connection;
      this.slots[slot] = 'active';
      const protocol = connection.protocol === 't1' ? 'T=1' : 'T=0';
      this.say(S.statusPowered(protocol, formatBaud(connection.link.baud)));
    });
  }

  powerOff(): Promise<void> {
    return this.run(S.statusPoweredOff, async () => {
      const c = this.connection;
      if (!c) return;
      this.connection = undefined;
      await c.disconnect('unpower');
      if (this.slots[c.slot] === 'active') this.slots[c.slot] = 'present';
      this.event(S.statusPoweredOff);
      this.say(S.statusPoweredOff);
    });
  }

  /** Sends the APDU in the input. */
  send(): Promise<void> {
    return this.run(S.statusSending, async () => {
      const connection = this.connection;
      if (!connection) {
        this.problem = { ...S.errors.notConnected };
        this.say(S.statusFailed(S.errors.notConnected.title));
        return;
      }
      let command: Uint8Array;
      try {
        command = fromHex(this.apduText);
      } catch (e) {
        this.fail(e);
        return;
      }
      const entry = this.addLog({ kind: 'apdu', command }) as Extract<LogEntry, { kind: 'apdu' }>;
      const virtual = this.virtual?.device;
      const modelledBefore = virtual?.stats.modelledSeconds ?? 0;
      const started = performance.now();
      try {
        const response = await connection.transmit(command);
        entry.ms = performance.now() - started;
        if (virtual) entry.modelledMs = (virtual.stats.modelledSeconds - modelledBefore) * 1000;
        entry.response = response;
        if (response.length >= 2) {
          const sw = (response[response.length - 2]! << 8) | response[response.length - 1]!;
          entry.sw = sw;
          this.say(S.statusAnswered(hex4(sw), describeStatusWord(sw), S.ms(entry.ms)));
        }
      } catch (e) {
        entry.ms = performance.now() - started;
        entry.error = this.fail(e);
        if (this.slots[this.slot] === 'active' && !this.reader?.isClosed) {
          // A removed card or a dead reader ends the connection; other errors leave it usable.
          const code = (e as { code?: string }).code;
          if (code === 'ccid/card-absent') {
            this.connection = undefined;
            this.slots[this.slot] = 'absent';
          }
        }
      }
      this.update();
    });
  }

  // ---- virtual hardware -----------------------------------------------------

  toggleCard(): void {
    const v = this.virtual;
    if (!v) return;
    if (v.device.cardIn(0)) {
      v.device.removeCard(0);
    } else {
      v.card = v.card ?? makeCard(this.cardKind === 'none' ? 'hca' : this.cardKind);
      if (this.cardKind === 'none') this.cardKind = 'hca';
      if (v.card) v.device.insertCard(v.card, 0);
    }
    this.update();
  }

  togglePlug(): void {
    const v = this.virtual;
    if (!v) return;
    if (v.device.connectedState) v.device.unplug();
    else v.device.plug();
    this.update();
  }

  injectFault(): void {
    const v = this.virtual;
    if (!v) return;
    const fault: VirtualFault =
      this.fault === 'time-extension' ? { kind: 'time-extension', count: 2 } :
      this.fault === 'mute' ? { kind: 'mute' } :
      { kind: this.fault };
    v.device.injectFault(fault);
    this.event(S.faultArmed(S.faults[this.fault]));
    this.say(S.faultArmed(S.faults[this.fault]));
  }

  /** Whether the virtual slot 0 holds a card now. */
  get virtualCardIn(): boolean {
    return this.virtual?.device.cardIn(0) != null;
  }

  get virtualPlugged(): boolean {
    return this.virtual?.device.connectedState ?? false;
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** "00A40400" -> "00 A4 04 00" when it is hex; the text as given otherwise (send() explains). */
function spaced(text: string): string {
  try {
    return toHex(fromHex(text));
  } catch {
    return text;
  }
}

function makeCard(kind: CardKind): VirtualCard | null {
  return kind === 'hca' ? createHcaLikeCard() : kind === 'nhi' ? createVirtualNhiCard() : kind === 't0' ? createT0Card() : null;
}

function slotOf(e: Event): number {
  return (e as CustomEvent<{ slot: number }>).detail.slot;
}

function clock(): string {
  const d = new Date();
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}
