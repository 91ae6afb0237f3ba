/**
 * Makes the `usb` package 3.x behave as WebUSB where a CCID driver depends on it.
 *
 * `usb` 3 is a rewrite over the Rust `nusb` library (no libusb). Its devices have the WebUSB
 * members, but (read in node-usb-rs 3.1.0: `tsc/index.ts`, `src/webusb_device.rs`):
 *
 * 1. `transferIn` / `transferOut` take a third, non-standard `timeout` argument that defaults to
 *    1000 ms; when it runs out the transfer is cancelled and the promise REJECTS
 *    (`transferIn error: Cancelled`). WebUSB transfers never time out, and a CCID driver needs
 *    that: the interrupt endpoint stays silent until a card moves, and a bulk answer may come many
 *    seconds late (time extensions, a PIN typed on a pinpad, an RSA signature on a slow card).
 *    The driver has its own timeouts (per command, stretched by time extensions).
 * 2. A stalled endpoint rejects (`transferIn error: Stall`, `controlTransferIn error: endpoint
 *    stalled`) where WebUSB resolves with `status: 'stall'`.
 * 3. An unplugged device rejects with `Disconnected` / `device disconnected` where WebUSB rejects
 *    with a `NotFoundError`.
 * 4. A call that needs the native object alone (its `&mut self` methods: `open`, `claimInterface`,
 *    `releaseInterface`, `close`, and the getters `configuration`, `configurations`,
 *    `productName`, `manufacturerName`, `serialNumber`) throws "The same native value cannot be
 *    borrowed mutably while another borrow is active" while any transfer is in flight, and a CCID
 *    driver always has one in flight (the interrupt-in read). Seen in the QEMU lab
 *    (test/qemu/): the first bulk read failed this way.
 * 5. A transfer on an endpoint that already has one in flight (same number and direction) fails
 *    at once with `transferOut error: endpoint not found` (or `transferIn ...`), where WebUSB
 *    (Chromium) queues it behind the first. `src/webusb_device.rs`, `nativeTransferOut` /
 *    `nativeTransferIn`, get their endpoint from `get_endpoint`, which calls nusb's
 *    `Interface::endpoint` (nusb 0.2: it claims the endpoint exclusively until the `Endpoint` is
 *    dropped, at the end of the transfer; otherwise `endpoint already in use`) and drops that
 *    error with `.ok()`, so a busy endpoint reads as a missing one. Seen in the QEMU lab; the
 *    transport posts one bulk-in read at a time, but on a reader with several busy slots
 *    (bMaxCCIDBusySlots > 1) two commands on different slots may write at the same time.
 *
 * `wrapNodeUsbDevice` answers with WebUSB's behaviour: a read is re-posted each time the
 * package's timeout runs out (so it waits as long as a browser's would); a stall becomes
 * `status: 'stall'`; a disconnect a `NotFoundError`; a read still waiting when the interface is
 * released or the device closed ends with an `AbortError` (as WebUSB's do); the getters are read
 * while nothing runs and kept; open, claim, release and close wait for the transfers in flight
 * (at most one read slice) and hold new ones back until done; a transfer on an endpoint that is
 * busy waits for the ones queued on it before (`EndpointQueue`: nothing is added while the
 * endpoint is idle).
 *
 * On Linux, GET_DESCRIPTOR(CONFIGURATION) is answered from the copy the kernel read at enumeration
 * (sysfs `descriptors`, the device checked by its bus and device numbers), as libusb answers it
 * for libccid: `CcidReader.open` reads the configuration descriptor (WebUSB has no class
 * descriptors) with two control transfers that took about 10 to 20 ms of a cold open in the QEMU
 * lab. Elsewhere, or when the copy cannot be read for sure, the request goes to the device.
 *
 * The interrupt-in read (the card-event watch) is kept off the command exchanges: it is posted in
 * short slices, and a slice is posted only once the bulk pipe has been quiet (and the interface
 * claimed) for `INTERRUPT_QUIET_MS`. In the QEMU lab an interrupt read pending beside the exchanges made each
 * APDU about 10 to 20 % slower (`npm run bench:qemu`, docs/testing.md). A notification the reader
 * has while no read is posted waits in the reader until the next one (USB interrupt endpoints are
 * polled by the host), so card events are reported late during a run of commands, never lost; a
 * removed card also fails the command itself (ICC status absent).
 *
 * Why re-post rather than pass one huge timeout: a transfer cannot be cancelled from
 * JavaScript, and a pending one keeps the interface (and Node's event loop) busy until its
 * timeout. Slices bound that to one slice after `close()`. The cost: when a slice ends while a
 * multi-packet bulk answer is arriving, the package drops the packets already received and the
 * driver sees a truncated frame (a typed CCID error, never silently wrong data). Bulk slices are
 * long (the window is about a millisecond in each slice); interrupt messages are one packet,
 * which is never split.
 */
import { readFileSync } from 'node:fs';
import type { UsbBackendLike, UsbDeviceLike } from '../usb/device.js';

/** How long one bulk-in read waits before it is posted again (ms). */
export const BULK_IN_SLICE_MS = 5_000;
/** How long one interrupt-in read waits before it is posted again (ms). */
export const INTERRUPT_IN_SLICE_MS = 100;
/**
 * An interrupt-in read is (re)posted only once no bulk transfer has run for this long (ms): the
 * card-event watch stays off the command exchanges (see `interruptQuiet`).
 */
export const INTERRUPT_QUIET_MS = 50;
/** How long a bulk-out write may take (ms): a reader that takes no data for this long is broken. */
export const BULK_OUT_TIMEOUT_MS = 60_000;

/**
 * Where Linux publishes each USB device's descriptors as the kernel read them when it enumerated
 * the device (sysfs, described in the kernel's Documentation/ABI): `<bus>-<port chain>/descriptors`
 * holds the device descriptor followed by every configuration's descriptors, in index order, and
 * `busnum` and `devnum` say which device the folder is. libusb reads its descriptors there (so
 * libccid does, with no control transfer); undefined off Linux.
 */
let usbDevicesDir: string | undefined = process.platform === 'linux' ? '/sys/bus/usb/devices' : undefined;

/** @internal For tests: a folder laid out as Linux's `/sys/bus/usb/devices` (undefined: none). */
export function useUsbDevicesDir(dir: string | undefined): void {
  usbDevicesDir = dir;
}

/** GET_DESCRIPTOR(CONFIGURATION) (USB 2.0 §9.4.3): its descriptor index, else undefined. */
function configurationDescriptorIndex(setup: USBControlTransferParameters): number | undefined {
  const standardToDevice = setup.requestType === 'standard' && setup.recipient === 'device';
  return standardToDevice && setup.request === 0x06 && setup.value >> 8 === 0x02 && setup.index === 0 ? setup.value & 0xff : undefined;
}

/**
 * The configuration descriptors (each with its interfaces, endpoints and class descriptors) the
 * kernel read from `device` at enumeration, by index; undefined when they cannot be read for sure:
 * no such folder, another device in it (bus or device number differ), or not the device
 * descriptor followed by bNumConfigurations well-formed configurations.
 */
function kernelConfigurationDescriptors(device: { bus?: unknown; address?: unknown; ports?: unknown }): Uint8Array[] | undefined {
  const { bus, address, ports } = device;
  const busNumber = Number(bus);
  if (!usbDevicesDir || !Number.isInteger(busNumber) || typeof address !== 'number' || !Array.isArray(ports) || ports.length === 0) return undefined;
  const dir = `${usbDevicesDir}/${busNumber}-${ports.join('.')}`;
  try {
    if (Number(readFileSync(`${dir}/busnum`, 'latin1')) !== busNumber || Number(readFileSync(`${dir}/devnum`, 'latin1')) !== address) return undefined;
    const raw = new Uint8Array(readFileSync(`${dir}/descriptors`));
    if (raw[0] !== 18 || raw[1] !== 0x01) return undefined;
    const configurations: Uint8Array[] = [];
    for (let o = 18; o < raw.length; ) {
      const total = raw[o + 2]! | (raw[o + 3]! << 8);
      if (raw[o]! < 9 || raw[o + 1] !== 0x02 || total < 9 || o + total > raw.length) return undefined;
      configurations.push(raw.slice(o, o + total));
      o += total;
    }
    return configurations.length === raw[17] ? configurations : undefined;
  } catch {
    return undefined;
  }
}

/** The members of a `usb` 3.x device used here: WebUSB's, with the extra `timeout` argument. */
type NativeDevice = UsbDeviceLike & {
  transferIn(endpointNumber: number, length: number, timeout?: number): Promise<USBInTransferResult>;
  transferOut(endpointNumber: number, data: BufferSource, timeout?: number): Promise<USBOutTransferResult>;
};

const messageOf = (e: unknown): string => String((e as { message?: unknown } | null)?.message ?? e);
const isTimeout = (e: unknown): boolean => /\bCancelled\b|transfer was cancelled/i.test(messageOf(e));
const isStall = (e: unknown): boolean => /\bStall\b|endpoint stalled/i.test(messageOf(e));
const isDisconnect = (e: unknown): boolean => /\bDisconnected\b|device disconnected/i.test(messageOf(e));

function domError(message: string, name: string, cause: unknown): Error {
  const e = new DOMException(message, name);
  Object.defineProperty(e, 'cause', { value: cause, enumerable: false });
  return e;
}

/** A rejection of the package, as WebUSB would have rejected; stalls are handled by the callers. */
/** How WebUSB ends a read still waiting when the interface is released or the device closed. */
const released = (): Error => domError('transferIn: the interface was released or the device closed.', 'AbortError', undefined);

function asWebUsbError(e: unknown, what: string): unknown {
  if (isDisconnect(e)) return domError(`${what}: the device was disconnected.`, 'NotFoundError', e);
  return e;
}

/**
 * WebUSB's per-endpoint transfer queue (header, point 5): at most one transfer of an endpoint is
 * given to the package at a time, the others wait their turn in order. One WebUSB transfer holds
 * its turn across all the slices it is posted in.
 */
class EndpointQueue {
  /** A transfer holds this endpoint (running, or between two slices, or waiting for `alone`). */
  busy = false;
  private waiting: Array<() => void> = [];

  /** Ends a native transfer that ended the WebUSB one with a result (passes it through). */
  readonly ended: <T>(result: T) => T;

  constructor(transferEnded: () => void) {
    this.ended = (result) => {
      transferEnded();
      this.done();
      return result;
    };
  }

  /** Resolves when this endpoint is the caller's (at once if it is idle). */
  turn(): Promise<void> {
    if (!this.busy) {
      this.busy = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** The transfer holding the endpoint ended: the next one in line gets it. */
  done(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.busy = false;
  }
}

class NodeUsbDevice implements UsbDeviceLike {
  /** Bumped by `releaseInterface()` / `close()`: a read posted before stops at the end of its slice. */
  private generation = 0;
  /** Native calls that hold the device shared (transfers) and are not finished. */
  private shared = 0;
  /** A native call that needs the device alone (open, claim, release, close) is waiting or running. */
  private exclusive: Promise<void> | undefined;
  private idle: Array<() => void> = [];
  private isOpen = false;
  /** Bulk transfers in flight, and when the last one ended (performance.now()). */
  private bulkInFlight = 0;
  private bulkQuietSince = 0;
  /** Endpoint types by (0x80 for IN) | endpoint number, read from the configuration once. */
  private endpointTypes: Map<number, USBEndpointType> | undefined;
  private cachedConfiguration: USBConfiguration | null | undefined;
  private cachedConfigurations: USBConfiguration[] | undefined;
  /** The configuration descriptors as the kernel read them (null: not available), read once. */
  private kernelConfigurations: Uint8Array[] | null | undefined;
  /** Endpoint queues by (0x10 for IN) | endpoint number (0 to 15). */
  private readonly queues: EndpointQueue[] = [];
  readonly vendorId: number;
  readonly productId: number;
  readonly deviceVersionMajor: number;
  readonly deviceVersionMinor: number;
  readonly deviceVersionSubminor: number;
  readonly productName: string | null;
  readonly manufacturerName: string | null;
  readonly serialNumber: string | null;

  constructor(readonly native: NativeDevice) {
    this.vendorId = native.vendorId;
    this.productId = native.productId;
    this.deviceVersionMajor = native.deviceVersionMajor;
    this.deviceVersionMinor = native.deviceVersionMinor;
    this.deviceVersionSubminor = native.deviceVersionSubminor;
    // Getters of the package that may fail while a transfer runs: read once, before any.
    this.productName = readOr(() => native.productName, null);
    this.manufacturerName = readOr(() => native.manufacturerName, null);
    this.serialNumber = readOr(() => native.serialNumber, null);
    this.isOpen = readOr(() => native.opened, false);
  }

  get opened(): boolean {
    return this.isOpen;
  }

  get configuration(): USBConfiguration | null {
    if (this.cachedConfiguration === undefined) this.cachedConfiguration = readOr(() => this.native.configuration ?? null, null);
    return this.cachedConfiguration;
  }

  get configurations(): USBConfiguration[] {
    this.cachedConfigurations ??= readOr(() => this.native.configurations, []);
    return this.cachedConfigurations;
  }

  async open(): Promise<void> {
    await this.alone(async () => {
      try {
        await this.native.open();
      } catch (e) {
        throw asWebUsbError(e, 'open');
      }
      this.isOpen = true;
      this.cachedConfiguration = undefined;
      this.cachedConfigurations = undefined;
      this.endpointTypes = undefined;
      // read now, while nothing else runs
      void this.configuration;
      void this.configurations;
    });
  }

  async close(): Promise<void> {
    this.generation++;
    await this.alone(async () => {
      await this.native.close();
      this.isOpen = false;
    });
  }

  async selectConfiguration(configurationValue: number): Promise<void> {
    await this.alone(async () => {
      await this.native.selectConfiguration(configurationValue);
      this.cachedConfiguration = undefined;
      this.endpointTypes = undefined;
      void this.configuration;
    });
  }

  async claimInterface(interfaceNumber: number): Promise<void> {
    await this.alone(async () => {
      try {
        await this.native.claimInterface(interfaceNumber);
      } catch (e) {
        throw asWebUsbError(e, 'claimInterface');
      }
      // commands usually follow a claim at once: the interrupt read waits for a quiet pipe
      this.bulkQuietSince = performance.now();
    });
  }

  async releaseInterface(interfaceNumber: number): Promise<void> {
    this.generation++;
    await this.alone(() => this.native.releaseInterface(interfaceNumber));
  }

  async controlTransferIn(setup: USBControlTransferParameters, length: number): Promise<USBInTransferResult> {
    // GET_DESCRIPTOR(CONFIGURATION) on an open device is answered from the kernel's copy where there
    // is one (Linux: the bytes the device gave at enumeration), as libusb answers it: no control
    // transfer (a closed device's request goes on, to be refused as WebUSB refuses it)
    const index = configurationDescriptorIndex(setup);
    if (index !== undefined && this.isOpen) {
      this.kernelConfigurations ??= kernelConfigurationDescriptors(this.native as object) ?? null;
      const descriptor = this.kernelConfigurations?.[index];
      if (descriptor) return { status: 'ok', data: new DataView(descriptor.slice(0, length).buffer) } as USBInTransferResult;
    }
    try {
      return await this.together(() => this.native.controlTransferIn(setup, length));
    } catch (e) {
      if (isStall(e)) return { status: 'stall' } as USBInTransferResult;
      throw asWebUsbError(e, 'controlTransferIn');
    }
  }

  async controlTransferOut(setup: USBControlTransferParameters, data?: BufferSource): Promise<USBOutTransferResult> {
    try {
      return await this.together(() => this.native.controlTransferOut(setup, data));
    } catch (e) {
      if (isStall(e)) return { status: 'stall', bytesWritten: 0 } as USBOutTransferResult;
      throw asWebUsbError(e, 'controlTransferOut');
    }
  }

  transferIn(endpointNumber: number, length: number): Promise<USBInTransferResult> {
    const queue = this.queue(endpointNumber, 0x10);
    if (this.endpointType(endpointNumber, 'in') === 'interrupt') return this.interruptIn(queue, endpointNumber, length);
    if (queue.busy || this.exclusive || !this.isOpen) return this.bulkInLater(queue, endpointNumber, length, this.generation, false);
    queue.busy = true;
    return this.bulkIn(queue, endpointNumber, length, this.generation);
  }

  /**
   * A bulk-in read, as WebUSB's: posted again each time the package's timeout runs out. Written
   * with callbacks, not as an async function: this runs for every command's answer.
   */
  private bulkIn(queue: EndpointQueue, endpointNumber: number, length: number, generation: number): Promise<USBInTransferResult> {
    this.bulkInFlight++;
    this.shared++;
    return this.native.transferIn(endpointNumber, length, BULK_IN_SLICE_MS).then(queue.ended, (e: unknown) => {
      this.bulkEnded();
      // a slice ran out: the read keeps its turn on the endpoint and is posted again
      if (isTimeout(e)) return this.bulkInLater(queue, endpointNumber, length, generation, true);
      queue.done();
      if (isStall(e)) return { status: 'stall' } as USBInTransferResult;
      throw asWebUsbError(e, 'transferIn');
    });
  }

  /**
   * A bulk-in read once its endpoint is free (unless it already `holds` it) and the device is not
   * held alone (open, claim, release, close).
   */
  private async bulkInLater(
    queue: EndpointQueue,
    endpointNumber: number,
    length: number,
    generation: number,
    holds: boolean,
  ): Promise<USBInTransferResult> {
    if (!holds) await queue.turn();
    while (this.exclusive) await this.exclusive;
    if (generation !== this.generation || !this.isOpen) {
      queue.done();
      throw released();
    }
    return this.bulkIn(queue, endpointNumber, length, generation);
  }

  /** Ends a bulk transfer's share of the device (passes a result through). */
  private readonly bulkEnded = <T>(result?: T): T => {
    this.leaveShared();
    this.bulkDone();
    return result as T;
  };

  private async interruptIn(queue: EndpointQueue, endpointNumber: number, length: number): Promise<USBInTransferResult> {
    const generation = this.generation;
    await queue.turn();
    try {
      for (;;) {
        await this.interruptQuiet(generation);
        if (generation !== this.generation || !this.isOpen) throw released();
        try {
          return await this.together(() => this.native.transferIn(endpointNumber, length, INTERRUPT_IN_SLICE_MS));
        } catch (e) {
          if (isStall(e)) return { status: 'stall' } as USBInTransferResult;
          if (!isTimeout(e)) throw asWebUsbError(e, 'transferIn');
        }
      }
    } finally {
      queue.done();
    }
  }

  transferOut(endpointNumber: number, data: BufferSource): Promise<USBOutTransferResult> {
    const queue = this.queue(endpointNumber, 0);
    if (queue.busy || this.exclusive) return this.bulkOutLater(queue, endpointNumber, data);
    queue.busy = true;
    return this.bulkOut(queue, endpointNumber, data);
  }

  /** A write once its endpoint is free and the device is not held alone. */
  private async bulkOutLater(queue: EndpointQueue, endpointNumber: number, data: BufferSource): Promise<USBOutTransferResult> {
    await queue.turn();
    while (this.exclusive) await this.exclusive;
    return this.bulkOut(queue, endpointNumber, data);
  }

  private bulkOut(queue: EndpointQueue, endpointNumber: number, data: BufferSource): Promise<USBOutTransferResult> {
    this.bulkInFlight++;
    this.shared++;
    return this.native.transferOut(endpointNumber, data, BULK_OUT_TIMEOUT_MS).then(queue.ended, (e: unknown) => {
      this.bulkEnded();
      queue.done();
      if (isStall(e)) return { status: 'stall', bytesWritten: 0 } as USBOutTransferResult;
      if (isTimeout(e)) throw domError(`transferOut: the device took no data for ${BULK_OUT_TIMEOUT_MS / 1000} s.`, 'TimeoutError', e);
      throw asWebUsbError(e, 'transferOut');
    });
  }

  private bulkDone(): void {
    if (--this.bulkInFlight === 0) this.bulkQuietSince = performance.now();
  }

  /**
   * Resolves once no bulk transfer has run for INTERRUPT_QUIET_MS (or the interface was released
   * or the device closed: the caller checks), so that an interrupt-in read is never posted in the
   * middle of a run of command exchanges.
   */
  private async interruptQuiet(generation: number): Promise<void> {
    for (;;) {
      if (generation !== this.generation || !this.isOpen) return;
      const wait = this.bulkInFlight > 0 ? INTERRUPT_QUIET_MS : this.bulkQuietSince + INTERRUPT_QUIET_MS - performance.now();
      if (wait <= 0) return;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  clearHalt(direction: USBDirection, endpointNumber: number): Promise<void> {
    return this.together(() => this.native.clearHalt(direction, endpointNumber));
  }

  /**
   * The package refuses a call that needs the device alone (its `&mut self` methods: open,
   * claim, release, close, and the getters) while another call runs ("The same native value
   * cannot be borrowed mutably while another borrow is active"). Such calls wait here for the
   * transfers in flight (reads end within one slice once `generation` moved on), and new
   * transfers wait for them.
   */
  private async alone<T>(run: () => Promise<T>): Promise<T> {
    while (this.exclusive) await this.exclusive;
    let done!: () => void;
    this.exclusive = new Promise<void>((resolve) => (done = resolve));
    try {
      while (this.shared > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
      return await run();
    } finally {
      this.exclusive = undefined;
      done();
    }
  }

  /** A call that may run beside other transfers (the package's `&self` methods). */
  private async together<T>(run: () => Promise<T>): Promise<T> {
    while (this.exclusive) await this.exclusive;
    this.shared++;
    try {
      return await run();
    } finally {
      this.leaveShared();
    }
  }

  private leaveShared(): void {
    if (--this.shared === 0 && this.idle.length > 0) for (const wake of this.idle.splice(0)) wake();
  }

  /** The queue of endpoint `endpointNumber` (direction: 0x10 for IN, 0 for OUT). */
  private queue(endpointNumber: number, direction: 0x10 | 0): EndpointQueue {
    const key = direction | (endpointNumber & 0x0f);
    return (this.queues[key] ??= new EndpointQueue(this.bulkEnded));
  }

  private endpointType(endpointNumber: number, direction: USBDirection): USBEndpointType | undefined {
    if (!this.endpointTypes) {
      const types = new Map<number, USBEndpointType>();
      for (const iface of this.configuration?.interfaces ?? []) {
        for (const ep of iface.alternate?.endpoints ?? []) types.set((ep.direction === 'in' ? 0x80 : 0) | ep.endpointNumber, ep.type);
      }
      if (this.configuration) this.endpointTypes = types;
      else return undefined;
    }
    return this.endpointTypes.get((direction === 'in' ? 0x80 : 0) | endpointNumber);
  }
}

function readOr<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

const wrapped = new WeakMap<object, NodeUsbDevice>();

/** The WebUSB-faithful view of one `usb` 3.x device (the same object for the same device). */
export function wrapNodeUsbDevice(device: UsbDeviceLike): UsbDeviceLike {
  if (device instanceof NodeUsbDevice) return device;
  let w = wrapped.get(device);
  if (!w) {
    w = new NodeUsbDevice(device as NativeDevice);
    wrapped.set(device, w);
  }
  return w;
}

/** The WebUSB-faithful view of the package's `WebUSB` object: its devices and events carry wrapped devices. */
export function wrapNodeUsbBackend(native: UsbBackendLike): UsbBackendLike {
  type Listener = (event: { device: UsbDeviceLike }) => void;
  const listeners = new Map<Listener, Listener>();
  return {
    async getDevices() {
      return (await native.getDevices()).map(wrapNodeUsbDevice);
    },
    ...(native.requestDevice
      ? { requestDevice: async (options: USBDeviceRequestOptions) => wrapNodeUsbDevice(await native.requestDevice!(options)) }
      : {}),
    addEventListener(type, listener) {
      let inner = listeners.get(listener);
      if (!inner) {
        inner = (event) => listener({ device: wrapNodeUsbDevice(event.device) });
        listeners.set(listener, inner);
      }
      native.addEventListener(type, inner);
    },
    removeEventListener(type, listener) {
      const inner = listeners.get(listener);
      if (inner) native.removeEventListener(type, inner);
    },
  };
}
