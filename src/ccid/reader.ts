/**
 * A CCID reader: opens a USB device, finds its CCID interface and class
 * descriptor, claims it, watches interrupt-in for card insertion and removal,
 * and hands out one connection per slot.
 *
 * Events (an `EventTarget`; `event.detail` carries `{ slot }` or the error):
 *   `cardinserted`, `cardremoved`, `hardwareerror` ({ slot, code }),
 *   `disconnect` ({ error }) — reported once.
 */
import { bytesOf, readU16LE, readU32LE } from '../bytes.js';
import { CcidError, TransportError, type WebCcidError } from '../errors.js';
import { parseCcidClassDescriptor, type CcidClassDescriptor } from './descriptor.js';
import {
  CCID_REQUEST_GET_CLOCK_FREQUENCIES,
  CCID_REQUEST_GET_DATA_RATES,
  decodeNotification,
  iccStatus,
  ICC_STATUS_ABSENT,
  ICC_STATUS_ACTIVE,
} from './messages.js';
import { CcidTransport, type CcidRequest, type ExchangeOptions } from './transport.js';
import { mapUsbError, type UsbErrorContext } from '../usb/errors.js';
import { CcidConnection } from './connection.js';
import type { ConnectOptions } from './activation.js';
import type { SlotPort, SlotStatus } from './slot-port.js';
import { findCcidInterface, parseConfigurationDescriptor, type CcidInterfaceInfo, type EndpointDescriptor } from '../usb/config-descriptor.js';
import type { UsbBackendLike, UsbDeviceLike } from '../usb/device.js';
import { applyDescriptorQuirks, findQuirkedCcidInterface, resolveReaderQuirks, type ReaderQuirks } from './quirks.js';
import { Mutex } from '../mutex.js';

export interface CcidReaderOptions {
  /**
   * The backend the device came from (`navigator.usb`, the Node backend or
   * the virtual one). When given, its `disconnect` event ends the reader.
   */
  backend?: UsbBackendLike;
  /** Extra time allowed for every command on top of the protocol timing (USB and reader firmware), ms. Default 300. */
  usbSlackMs?: number;
  /** Multiplies every protocol-derived timeout and the 2 s allowed for an ABORT sequence (slow readers). Default 1. */
  timeoutFactor?: number;
  /** Watch interrupt-in for slot changes (default true). */
  watchInterrupt?: boolean;
  /** Wire-level trace hook: every CCID frame sent and received. */
  trace?: (direction: 'out' | 'in', frame: Uint8Array) => void;
  /**
   * Reader quirks (quirks.ts): merged over the table's entry for this VID:PID
   * (a field set here wins; `false` turns a flag off). `false` ignores the table.
   */
  quirks?: ReaderQuirks | false;
}

/** `event.detail` of `cardinserted` and `cardremoved`. */
export interface CardEventDetail {
  slot: number;
}

/** `event.detail` of `hardwareerror` (RDR_to_PC_HardwareError). */
export interface HardwareErrorDetail {
  slot: number;
  /** bHardwareErrorCode: 0x01 overcurrent. */
  code: number;
}

/** `event.detail` of `disconnect`. */
export interface DisconnectDetail {
  error: TransportError;
}

/** The reader's events and their `CustomEvent` details. */
export interface CcidReaderEventMap {
  cardinserted: CustomEvent<CardEventDetail>;
  cardremoved: CustomEvent<CardEventDetail>;
  hardwareerror: CustomEvent<HardwareErrorDetail>;
  disconnect: CustomEvent<DisconnectDetail>;
}

export type { SlotStatus } from './slot-port.js';

/** Fields of the reader as the USB device describes it. */
export interface ReaderIdentity {
  vendorId: number;
  productId: number;
  productName: string | undefined;
  manufacturerName: string | undefined;
  serialNumber: string | undefined;
  interfaceClass: number;
  interfaceNumber: number;
}

export class CcidReader extends EventTarget implements SlotPort {
  readonly identity: ReaderIdentity;
  /** @internal */ readonly transport: CcidTransport;
  readonly #usbSlackMs: number;
  readonly #timeoutFactor: number;
  readonly #slotLocks: Mutex[];
  readonly #connections = new Map<number, CcidConnection>();
  /** Whether each slot holds a card, as last seen (undefined: not known yet). */
  readonly #present: Array<boolean | undefined> = [];
  #disconnected = false;
  #closing = false;
  #closed = false;
  readonly #backend: UsbBackendLike | undefined;
  readonly #onBackendDisconnect = (event: { device: UsbDeviceLike }): void => {
    if (event.device === this.device) this.#reportDisconnect(new TransportError('transport/disconnected', {}));
  };

  private constructor(
    readonly device: UsbDeviceLike,
    info: CcidInterfaceInfo,
    readonly descriptor: CcidClassDescriptor,
    /** The quirks in force for this reader (the table's entry plus `options.quirks`). */
    readonly quirks: ReaderQuirks,
    /** GET_DATA_RATES answer in bps, when the reader lists them. */
    readonly dataRates: number[] | undefined,
    /** GET_CLOCK_FREQUENCIES answer in kHz, when the reader lists them. */
    readonly clockFrequenciesKHz: number[] | undefined,
    options: CcidReaderOptions,
  ) {
    super();
    const { iface, bulkIn, bulkOut, interruptIn } = info;
    this.#backend = options.backend;
    this.#usbSlackMs = options.usbSlackMs ?? 300;
    this.#timeoutFactor = options.timeoutFactor ?? quirks.timeoutFactor ?? 1;
    this.identity = {
      vendorId: device.vendorId,
      productId: device.productId,
      productName: device.productName ?? undefined,
      manufacturerName: device.manufacturerName ?? undefined,
      serialNumber: device.serialNumber ?? undefined,
      interfaceClass: iface.bInterfaceClass,
      interfaceNumber: iface.bInterfaceNumber,
    };
    this.#slotLocks = Array.from({ length: this.slotCount }, () => new Mutex());
    this.transport = new CcidTransport(device, {
      interfaceNumber: iface.bInterfaceNumber,
      bulkIn: bulkIn.endpointNumber,
      bulkOut: bulkOut.endpointNumber,
      wMaxPacketSizeIn: bulkIn.wMaxPacketSize,
      dwMaxCCIDMessageLength: descriptor.dwMaxCCIDMessageLength,
      bMaxCCIDBusySlots: Math.max(1, descriptor.bMaxCCIDBusySlots),
      abortTimeoutMs: Math.ceil(2000 * this.#timeoutFactor),
      onDisconnect: (error) => this.#reportDisconnect(error),
      trace: options.trace,
      quirks,
    });
    this.#backend?.addEventListener('disconnect', this.#onBackendDisconnect);
    if ((options.watchInterrupt ?? true) && interruptIn) this.#watchInterrupt(interruptIn);
  }

  /** Typed `addEventListener` for the reader's events (see CcidReaderEventMap). */
  on<K extends keyof CcidReaderEventMap>(type: K, listener: (event: CcidReaderEventMap[K]) => void): () => void {
    const l = listener as EventListener;
    this.addEventListener(type, l);
    return () => this.removeEventListener(type, l);
  }

  /**
   * Opens `device` as a CCID reader. Reads the raw configuration descriptor
   * (WebUSB does not expose class descriptors), finds the CCID interface
   * (class 0x0B, or vendor class 0xFF carrying a CCID descriptor) and claims
   * it. A refusal is explained: Chrome's protected class, the OS holding the
   * reader, or a missing permission (see `mapUsbError`, stages `open` and
   * `claim`). The reader's quirks (quirks.ts) are resolved here once and passed down.
   */
  static async open(device: UsbDeviceLike, options: CcidReaderOptions = {}): Promise<CcidReader> {
    if (!device.opened) await setUp(() => device.open(), { stage: 'open', device });
    try {
      if (!device.configuration) await device.selectConfiguration(device.configurations[0]?.configurationValue ?? 1);
      const quirks = resolveReaderQuirks(device, options.quirks);
      const config = parseConfigurationDescriptor(await readConfigurationDescriptor(device));
      const info = findQuirkedCcidInterface(config, quirks) ?? findCcidInterface(config);
      const descriptor = applyDescriptorQuirks(parseCcidClassDescriptor(info.classDescriptor), quirks);
      if (descriptor.exchangeLevel === 'character') {
        throw new CcidError('ccid/unsupported-level', { exchangeLevel: descriptor.exchangeLevel });
      }
      const { bInterfaceNumber, bInterfaceClass } = info.iface;
      await setUp(() => device.claimInterface(bInterfaceNumber), { stage: 'claim', device, interfaceClass: bInterfaceClass });
      if (quirks.startupCommand) await sendStartupCommand(device, info, quirks.startupCommand, quirks.startupTimeoutMs ?? 1000);
      const list = (request: number, count: number) => readU32List(device, request, bInterfaceNumber, count);
      return new CcidReader(
        device,
        info,
        descriptor,
        quirks,
        await list(CCID_REQUEST_GET_DATA_RATES, descriptor.bNumDataRatesSupported),
        await list(CCID_REQUEST_GET_CLOCK_FREQUENCIES, descriptor.bNumClockSupported),
        options,
      );
    } catch (e) {
      await device.close().catch(() => undefined);
      throw mapUsbError(e, 'open'); // (our own errors pass through)
    }
  }

  get slotCount(): number {
    return this.descriptor.maxSlots;
  }

  /** True once the reader is unplugged or closed. */
  get isClosed(): boolean {
    return this.#closed || this.#disconnected;
  }

  /** True from the moment `close()` is called: no new exchange is accepted. */
  get isClosing(): boolean {
    return this.#closing || this.isClosed;
  }

  /** Asks the reader whether a card is in `slot` and powered. */
  async status(slot = 0, options: { signal?: AbortSignal } = {}): Promise<SlotStatus> {
    this.#checkSlot(slot);
    return this.#slotLocks[slot]!.run(async () => {
      const r = await this.command({ name: 'GetSlotStatus', bSlot: slot }, { timeoutMs: this.commandTimeout(0), allowFailure: true, ...options });
      const icc = iccStatus(r.bStatus);
      this.#present[slot] = icc !== ICC_STATUS_ABSENT;
      return { slot, state: icc === ICC_STATUS_ABSENT ? 'absent' : icc === ICC_STATUS_ACTIVE ? 'active' : 'present' };
    }, options.signal);
  }

  /**
   * Powers the card in `slot`, reads its ATR, picks the protocol and the
   * fastest rate both sides allow, and returns the connection. One connection
   * per slot: connecting again replaces (and invalidates) the previous one.
   */
  async connect(slot = 0, options: ConnectOptions = {}): Promise<CcidConnection> {
    this.#checkSlot(slot);
    if (this.isClosing) throw this.closedError();
    this.#connections.get(slot)?.invalidate();
    const connection = await CcidConnection.establish(this, slot, this.#slotLocks[slot]!, options);
    this.#connections.set(slot, connection);
    return connection;
  }

  /**
   * Waits for the command in flight on each slot, powers nothing down (use
   * `connection.disconnect('unpower')` for that), releases the interface and
   * closes the device.
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    await Promise.all(this.#slotLocks.map((m) => m.run(async () => undefined)));
    this.#closed = true;
    this.#shutDown(this.closedError());
    if (!this.#disconnected) {
      await this.device.releaseInterface(this.identity.interfaceNumber).catch(() => undefined);
      await this.device.close().catch(() => undefined);
    }
  }

  /** @internal One CCID command (the caller holds the slot's lock). */
  command(request: CcidRequest, options: ExchangeOptions) {
    if (this.isClosed) return Promise.reject(this.closedError());
    return this.transport.exchange(request, options);
  }

  /** @internal Timeout for a command whose card-side work takes `cardSeconds`. */
  commandTimeout(cardSeconds: number): number {
    return Math.ceil(cardSeconds * 1000 * 1.5 * this.#timeoutFactor + this.#usbSlackMs * this.#timeoutFactor);
  }

  /** @internal */
  closedError(): WebCcidError {
    return this.transport.closedBy ?? new TransportError('transport/closed', {});
  }

  #checkSlot(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slotCount) {
      throw new CcidError('ccid/bad-slot', { slot, slots: this.slotCount });
    }
  }

  /** Ends the transport with `error`, invalidates the connections and stops listening to the backend. */
  #shutDown(error: WebCcidError): void {
    this.transport.shutDown(error);
    for (const c of this.#connections.values()) c.invalidate();
    this.#backend?.removeEventListener('disconnect', this.#onBackendDisconnect);
  }

  #reportDisconnect(error: TransportError): void {
    if (this.#disconnected || this.#closed) return;
    this.#disconnected = true;
    this.#shutDown(error);
    this.#emit('disconnect', { error });
  }

  #emit<K extends keyof CcidReaderEventMap>(type: K, detail: CcidReaderEventMap[K]['detail']): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  #watchInterrupt({ endpointNumber, wMaxPacketSize }: EndpointDescriptor): void {
    const length = Math.max(wMaxPacketSize, 8);
    void (async () => {
      while (!this.isClosed) {
        let bytes: Uint8Array;
        try {
          const r = await this.device.transferIn(endpointNumber, length);
          if (r.status === 'stall') {
            await this.device.clearHalt('in', endpointNumber).catch(() => undefined);
            continue;
          }
          bytes = bytesOf(r.data);
        } catch (e) {
          const err = mapUsbError(e, 'interrupt-in transfer');
          if (err.code === 'transport/disconnected') this.#reportDisconnect(err as TransportError);
          return;
        }
        if (bytes.length === 0) continue;
        let n;
        try {
          n = decodeNotification(bytes);
        } catch {
          continue; // a malformed notification is dropped; slot state is re-read on the next command
        }
        if (n.name === 'HardwareError') {
          this.#emit('hardwareerror', { slot: n.bSlot, code: n.bHardwareErrorCode });
          continue;
        }
        n.slots.slice(0, this.slotCount).forEach((s, slot) => {
          const was = this.#present[slot];
          this.#present[slot] = s.present;
          // An unchanged slot is news only when it contradicts what we knew; a first report just sets the state.
          if (!s.changed && (was === undefined || was === s.present)) return;
          if (!s.present) this.#connections.get(slot)?.markRemoved();
          this.#emit(s.present ? 'cardinserted' : 'cardremoved', { slot });
        });
      }
    })();
  }
}

/** Runs a USB set-up step (open, claim); a refusal becomes the explained TransportError of `mapUsbError`. */
async function setUp(step: () => Promise<unknown>, context: UsbErrorContext): Promise<void> {
  try {
    await step();
  } catch (e) {
    throw mapUsbError(e, context);
  }
}

/**
 * GET_DESCRIPTOR(CONFIGURATION) of the active configuration: first the 9-byte header for
 * wTotalLength, then the whole. wValue's low byte is the configuration's index (USB 2.0 §9.4.3),
 * found by `configurationValue`: the `usb` package hands out new objects on every read.
 */
async function readConfigurationDescriptor(device: UsbDeviceLike): Promise<Uint8Array> {
  const value = device.configuration?.configurationValue;
  const index = Math.max(0, device.configurations.findIndex((c) => c.configurationValue === value));
  const read = async (length: number): Promise<Uint8Array> => {
    const r = await device.controlTransferIn({ requestType: 'standard', recipient: 'device', request: 0x06, value: 0x0200 | index, index: 0 }, length);
    const b = bytesOf(r.data);
    if (r.status !== 'ok' || b.length < 4) throw new CcidError('ccid/bad-descriptor', { status: r.status, length: b.length });
    return b;
  };
  return (await read(Math.max(readU16LE(await read(9), 2), 9))).slice();
}

/**
 * The `startupCommand` quirk: writes the vendor frame, reads one answer and
 * ignores it. Best effort: a failure or no answer within `timeoutMs` is not
 * fatal (a late answer is taken by the still-pending read and dropped).
 */
async function sendStartupCommand(device: UsbDeviceLike, { bulkIn, bulkOut }: CcidInterfaceInfo, frame: Uint8Array, timeoutMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const w = await device.transferOut(bulkOut.endpointNumber, frame.slice() as Uint8Array<ArrayBuffer>);
    if (w.status !== 'ok') return;
    const packet = Math.max(8, bulkIn.wMaxPacketSize);
    const read = device.transferIn(bulkIn.endpointNumber, Math.ceil(512 / packet) * packet).catch(() => undefined);
    await Promise.race([read, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  } catch {
    // not fatal: the standard commands follow
  } finally {
    clearTimeout(timer);
  }
}

/**
 * GET_DATA_RATES / GET_CLOCK_FREQUENCIES: `count` little-endian 32-bit values. Not asked when the
 * descriptor announces none; a failure or an empty answer is not fatal (undefined).
 */
async function readU32List(device: UsbDeviceLike, request: number, iface: number, count: number): Promise<number[] | undefined> {
  if (count === 0) return undefined;
  try {
    const r = await device.controlTransferIn({ requestType: 'class', recipient: 'interface', request, value: 0, index: iface }, count * 4);
    if (r.status !== 'ok') return undefined;
    const b = bytesOf(r.data);
    const out: number[] = [];
    for (let o = 0; o + 4 <= b.length; o += 4) out.push(readU32LE(b, o));
    return out.length > 0 ? out : undefined;
  } catch {
    return undefined;
  }
}
