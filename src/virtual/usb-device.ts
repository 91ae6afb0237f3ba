/// <reference types="w3c-web-usb" preserve="true" />
// WebUSB types (USBDevice, USBDeviceFilter...) for this file and its .d.ts: see docs/packaging.md.
/**
 * A virtual USB device behind the USB seam: it implements the members of the
 * W3C `USBDevice` interface that `UsbDeviceLike` picks, with the state rules
 * and DOMException names of Chromium's implementation:
 *
 * - every call after an unplug rejects `NotFoundError`; transfers in flight at
 *   the unplug reject `NotFoundError` too (at once, or one endpoint per task in
 *   a given order, as a host controller reports them: `unplug({ order })`);
 * - `selectConfiguration` before `open` rejects `InvalidStateError`;
 *   `claimInterface` / transfers need an opened, configured device
 *   (`InvalidStateError`), a known interface (`NotFoundError`) and an
 *   endpoint of a claimed interface (`NotFoundError`); a control transfer to
 *   an interface that is not claimed rejects `InvalidStateError`;
 * - a failed transfer rejects `NetworkError`; a halted endpoint answers
 *   `{ status: 'stall' }` until `clearHalt`;
 * - Chrome's protected interface classes (0x0B smart card among them) can be
 *   simulated: `claimInterface` then rejects `SecurityError`; an interface
 *   held by the operating system makes it reject `NetworkError`.
 *
 * Bulk and interrupt IN data is a queue of frames (one device answer each).
 * A `transferIn` that arrives before the data stays pending, like real USB;
 * packetisation as in usb-in-endpoint.ts. The declared configuration is
 * usb-config.ts; the steps of an unplug usb-unplug.ts.
 *
 * The subclass supplies the behaviour (`handleControlIn`, `handleControlOut`,
 * `handleTransferOut`) and pushes IN data with `queueIn`.
 */
import { VirtualConfiguration, type VirtualConfigurationInit } from './usb-config.js';
import { InEndpointState, inResult } from './usb-in-endpoint.js';
import { createUsbError, USB_ERROR_MESSAGES as MSG, type UsbErrorName } from './usb-errors.js';

import { runStepsStaggered, stepCovers, unplugSteps, type UnplugOptions, type UnplugStep } from './usb-unplug.js';

export type { VirtualConfigurationInit, VirtualEndpointInit, VirtualInterfaceInit } from './usb-config.js';
export type { UnplugOptions, UnplugStep } from './usb-unplug.js';

/** How the device refuses `claimInterface` (see the class JSDoc). */
export type ClaimRefusal = 'protected-class' | 'os-held';

export interface VirtualUsbDeviceInit {
  vendorId: number;
  productId: number;
  /** bcdDevice, e.g. 0x0110 for 1.1.0. */
  bcdDevice?: number;
  /** bcdUSB, default 0x0200. */
  bcdUSB?: number;
  manufacturerName?: string | null;
  productName?: string | null;
  serialNumber?: string | null;
  configurations: VirtualConfigurationInit[];
  /** Value of the configuration active at plug-in (the OS usually sets the first); `null` for none. */
  activeConfiguration?: number | null;
  /** Delay added to every USB transfer, in (modelled) milliseconds. Default 0. */
  latencyMs?: number;
  /** Multiplies every modelled delay: 0 = instant (tests), 1 = real time (benchmarks). Default 0. */
  timeScale?: number;
  /**
   * Refuse `claimInterface`: `'protected-class'` = Chrome's protected class rule for a class 0x0B
   * interface (`SecurityError`, also for class control transfers to it); `'os-held'` = another driver
   * holds the interface (`NetworkError`, "Unable to claim interface.").
   */
  claimRefusal?: ClaimRefusal;
  /** `open()` rejects `SecurityError` ("Access denied.", e.g. Linux without a udev rule). */
  accessDenied?: boolean;
}

/** Counters of USB traffic, readable by benchmarks. */
export interface UsbTrafficStats {
  transfersIn: number;
  transfersOut: number;
  controlTransfers: number;
  bytesIn: number;
  bytesOut: number;
  /** Modelled USB latency, in seconds (independent of `timeScale`). */
  usbSeconds: number;
}

/** What a `handleControlIn` answers. */
export type ControlInAnswer = { status: 'ok'; data: Uint8Array } | { status: 'stall' };

function toBytes(data: BufferSource | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  if (data instanceof ArrayBuffer) return new Uint8Array(data.slice(0));
  const view = data as ArrayBufferView;
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
}

function outResult(status: USBTransferStatus, bytesWritten: number): USBOutTransferResult {
  return { status, bytesWritten } as USBOutTransferResult;
}

/** Listener for plug / unplug of one device (the backend uses it). */
export type ConnectionListener = (event: 'connect' | 'disconnect', device: VirtualUsbDevice) => void;

/** A USB device whose behaviour a subclass supplies. */
export abstract class VirtualUsbDevice {
  readonly vendorId: number;
  readonly productId: number;
  readonly deviceVersionMajor: number;
  readonly deviceVersionMinor: number;
  readonly deviceVersionSubminor: number;
  readonly usbVersionMajor: number;
  readonly usbVersionMinor: number;
  readonly usbVersionSubminor: number;
  readonly deviceClass = 0;
  readonly deviceSubclass = 0;
  readonly deviceProtocol = 0;
  readonly manufacturerName: string | null;
  readonly productName: string | null;
  readonly serialNumber: string | null;
  readonly configurations: USBConfiguration[];
  /** USB-level counters (the reader adds its own on top). */
  readonly usbStats: UsbTrafficStats = { transfersIn: 0, transfersOut: 0, controlTransfers: 0, bytesIn: 0, bytesOut: 0, usbSeconds: 0 };

  /** Modelled latency per transfer (ms). May be changed at any time. */
  latencyMs: number;
  /** Scale of modelled delays: 0 instant, 1 real time. May be changed at any time. */
  timeScale: number;
  /** See `VirtualUsbDeviceInit.claimRefusal`; may be changed at any time. */
  claimRefusal: ClaimRefusal | undefined;
  /** See `VirtualUsbDeviceInit.accessDenied`. */
  accessDenied: boolean;

  private connected = true;
  private isOpened = false;
  private activeConfigurationValue: number | null;
  private readonly initialConfiguration: number | null;
  private readonly claimedInterfaces = new Set<number>();
  private readonly inEndpoints = new Map<number, InEndpointState>();
  private readonly haltedOut = new Set<number>();
  /** Rejects of tracked transfers in progress, with what they are (`in 2`, `out 1`, `control`). */
  private readonly pendingRejects = new Map<(e: unknown) => void, string>();
  private readonly connectionListeners = new Set<ConnectionListener>();
  private readonly failNext: Array<{ direction: USBDirection | 'control'; endpointNumber?: number }> = [];
  /** Runs the remaining steps of a staggered unplug at once. */
  private unplugInProgress: (() => void) | undefined;

  protected constructor(init: VirtualUsbDeviceInit) {
    this.vendorId = init.vendorId;
    this.productId = init.productId;
    const bcd = init.bcdDevice ?? 0x0100;
    this.deviceVersionMajor = ((bcd >> 12) & 0xf) * 10 + ((bcd >> 8) & 0xf);
    this.deviceVersionMinor = (bcd >> 4) & 0xf;
    this.deviceVersionSubminor = bcd & 0xf;
    const usb = init.bcdUSB ?? 0x0200;
    this.usbVersionMajor = ((usb >> 12) & 0xf) * 10 + ((usb >> 8) & 0xf);
    this.usbVersionMinor = (usb >> 4) & 0xf;
    this.usbVersionSubminor = usb & 0xf;
    this.manufacturerName = init.manufacturerName ?? null;
    this.productName = init.productName ?? null;
    this.serialNumber = init.serialNumber ?? null;
    const isClaimed = (n: number): boolean => this.claimedInterfaces.has(n);
    this.configurations = init.configurations.map((c) => new VirtualConfiguration(c, isClaimed));
    this.initialConfiguration =
      init.activeConfiguration === undefined ? (init.configurations[0]?.configurationValue ?? null) : init.activeConfiguration;
    this.activeConfigurationValue = this.initialConfiguration;
    this.latencyMs = init.latencyMs ?? 0;
    this.timeScale = init.timeScale ?? 0;
    this.claimRefusal = init.claimRefusal;
    this.accessDenied = init.accessDenied ?? false;
    this.resetEndpoints();
  }

  // ---- hooks for the subclass ------------------------------------------------

  /** A control IN request (standard GET_DESCRIPTOR, class requests...). */
  protected abstract handleControlIn(setup: USBControlTransferParameters, length: number): ControlInAnswer;
  /** A control OUT request; return `'stall'` to refuse it. */
  protected abstract handleControlOut(setup: USBControlTransferParameters, data: Uint8Array): 'ok' | 'stall';
  /** Data arrived on an OUT endpoint (after the transfer's latency). */
  protected abstract handleTransferOut(endpointNumber: number, data: Uint8Array): void;
  /** The host cleared a halt (optional hook). */
  protected handleClearHalt(_direction: USBDirection, _endpointNumber: number): void {}
  /** The device was unplugged (optional hook: stop work in progress). */
  protected handleUnplug(): void {}
  /** The device was plugged in again (optional hook). */
  protected handlePlug(): void {}

  /** Queues one frame for an IN endpoint; wakes a pending `transferIn`. No-op when unplugged. */
  protected queueIn(endpointNumber: number, frame: Uint8Array): void {
    if (!this.connected) return;
    const ep = this.inEndpoints.get(endpointNumber);
    if (!ep) return;
    ep.frames.push(frame.slice());
    ep.service();
  }

  /** Drops everything queued on an IN endpoint. */
  protected clearIn(endpointNumber: number): void {
    const ep = this.inEndpoints.get(endpointNumber);
    if (!ep) return;
    ep.frames.length = 0;
    ep.offset = 0;
  }

  /** Number of frames waiting on an IN endpoint. */
  protected queuedIn(endpointNumber: number): number {
    return this.inEndpoints.get(endpointNumber)?.frames.length ?? 0;
  }

  /** Halts an endpoint: IN reads (pending and later) answer `'stall'`, OUT writes answer `'stall'`, until `clearHalt`. */
  haltEndpoint(direction: USBDirection, endpointNumber: number): void {
    if (direction === 'out') {
      this.haltedOut.add(endpointNumber);
      return;
    }
    const ep = this.inEndpoints.get(endpointNumber);
    if (!ep) return;
    ep.halted = true;
    ep.service();
  }

  /** True while an endpoint is halted. */
  isHalted(direction: USBDirection, endpointNumber: number): boolean {
    return direction === 'out' ? this.haltedOut.has(endpointNumber) : (this.inEndpoints.get(endpointNumber)?.halted ?? false);
  }

  /** The next transfer in that direction (on that endpoint, if given) rejects `NetworkError`. */
  failNextTransfer(direction: USBDirection | 'control', endpointNumber?: number): void {
    this.failNext.push(endpointNumber === undefined ? { direction } : { direction, endpointNumber });
  }

  /** Forgets the failures `failNextTransfer` queued and no transfer used yet. */
  clearTransferFailures(): void {
    this.failNext.length = 0;
  }

  // ---- plug / unplug ---------------------------------------------------------

  /** True while plugged in. */
  get connectedState(): boolean {
    return this.connected;
  }

  /**
   * Unplugs the device: later calls reject `NotFoundError` at once; transfers pending at the
   * unplug reject `NotFoundError` too, and listeners hear 'disconnect': all inside this call, or
   * one step per task in `options.order` (e.g. bulk-out before bulk-in, the event first).
   */
  unplug(options: UnplugOptions = {}): void {
    if (!this.connected) return;
    this.connected = false;
    this.isOpened = false;
    this.claimedInterfaces.clear();
    this.handleUnplug();
    const error = createUsbError('NotFoundError', MSG.deviceUnavailable);
    const steps = unplugSteps(options.order);
    const run = (step: UnplugStep): void => {
      if (step === 'disconnect-event') {
        for (const l of [...this.connectionListeners]) l('disconnect', this);
        return;
      }
      for (const [n, ep] of this.inEndpoints) {
        if (stepCovers(step, `in ${n}`)) for (const w of ep.waiters.splice(0)) w.reject(error);
      }
      for (const [reject, key] of [...this.pendingRejects]) {
        if (!stepCovers(step, key)) continue;
        this.pendingRejects.delete(reject);
        reject(error);
      }
    };
    if (!options.order) {
      for (const step of steps) run(step);
      return;
    }
    this.unplugInProgress = runStepsStaggered(steps, run, () => {
      this.unplugInProgress = undefined;
    });
  }

  /** Plugs the device in again (fresh state: closed, first configuration active); listeners hear 'connect'. */
  plug(): void {
    if (this.connected) return;
    this.unplugInProgress?.(); // a staggered unplug still reporting: report the rest now
    this.connected = true;
    this.isOpened = false;
    this.activeConfigurationValue = this.initialConfiguration;
    this.claimedInterfaces.clear();
    this.haltedOut.clear();
    this.resetEndpoints();
    this.handlePlug();
    for (const l of [...this.connectionListeners]) l('connect', this);
  }

  /** For the backend: hear plug / unplug. */
  addConnectionListener(listener: ConnectionListener): void {
    this.connectionListeners.add(listener);
  }

  removeConnectionListener(listener: ConnectionListener): void {
    this.connectionListeners.delete(listener);
  }

  // ---- USBDevice -------------------------------------------------------------

  get opened(): boolean {
    return this.isOpened;
  }

  get configuration(): USBConfiguration | null {
    if (this.activeConfigurationValue === null) return null;
    return this.configurations.find((c) => c.configurationValue === this.activeConfigurationValue) ?? null;
  }

  async open(): Promise<void> {
    this.ensureConnected();
    await this.usbDelay();
    this.ensureConnected();
    if (this.isOpened) return;
    if (this.accessDenied) throw createUsbError('SecurityError', MSG.accessDenied);
    this.isOpened = true;
  }

  async close(): Promise<void> {
    this.ensureConnected();
    if (!this.isOpened) return;
    await this.usbDelay();
    this.ensureConnected();
    this.isOpened = false;
    this.claimedInterfaces.clear();
  }

  async forget(): Promise<void> {
    await this.close();
  }

  async reset(): Promise<void> {
    this.ensureConnected();
    if (!this.isOpened) throw createUsbError('InvalidStateError', MSG.openRequired);
    await this.usbDelay();
  }

  async selectConfiguration(configurationValue: number): Promise<void> {
    this.ensureConnected();
    if (!this.isOpened) throw createUsbError('InvalidStateError', MSG.openRequired);
    if (!this.configurations.some((c) => c.configurationValue === configurationValue)) {
      throw createUsbError('NotFoundError', MSG.configurationNotFound);
    }
    if (this.activeConfigurationValue === configurationValue) return;
    await this.usbDelay();
    this.ensureConnected();
    this.activeConfigurationValue = configurationValue;
    this.claimedInterfaces.clear();
    this.resetEndpoints();
  }

  async claimInterface(interfaceNumber: number): Promise<void> {
    const iface = this.ensureInterface(interfaceNumber);
    if (this.claimedInterfaces.has(interfaceNumber)) return;
    if (this.claimRefusal === 'protected-class' && iface.alternate.interfaceClass === 0x0b) {
      throw createUsbError('SecurityError', MSG.protectedClass);
    }
    await this.usbDelay();
    this.ensureConnected();
    if (this.claimRefusal === 'os-held') throw createUsbError('NetworkError', MSG.claimFailed);
    this.claimedInterfaces.add(interfaceNumber);
  }

  async releaseInterface(interfaceNumber: number): Promise<void> {
    this.ensureInterface(interfaceNumber);
    if (!this.claimedInterfaces.has(interfaceNumber)) return;
    await this.usbDelay();
    this.ensureConnected();
    this.claimedInterfaces.delete(interfaceNumber);
  }

  async selectAlternateInterface(interfaceNumber: number, alternateSetting: number): Promise<void> {
    this.ensureInterface(interfaceNumber);
    if (!this.claimedInterfaces.has(interfaceNumber)) throw createUsbError('InvalidStateError', MSG.interfaceNotClaimed);
    if (alternateSetting !== 0) {
      throw createUsbError('NotFoundError', 'The alternate setting provided is not supported by the device in its current configuration.');
    }
    await this.usbDelay();
  }

  async controlTransferIn(setup: USBControlTransferParameters, length: number): Promise<USBInTransferResult> {
    this.ensureControl(setup);
    this.usbStats.controlTransfers++;
    await this.tracked(this.usbDelay(), 'control');
    this.ensureConnected();
    this.consumeFailure('control');
    const answer = this.handleControlIn(setup, length);
    if (answer.status === 'stall') return inResult('stall', new Uint8Array(0));
    const data = answer.data.length > length ? answer.data.subarray(0, length) : answer.data;
    this.usbStats.bytesIn += data.length;
    return inResult('ok', data);
  }

  async controlTransferOut(setup: USBControlTransferParameters, data?: BufferSource): Promise<USBOutTransferResult> {
    this.ensureControl(setup);
    const bytes = toBytes(data);
    this.usbStats.controlTransfers++;
    await this.tracked(this.usbDelay(), 'control');
    this.ensureConnected();
    this.consumeFailure('control');
    const status = this.handleControlOut(setup, bytes);
    if (status === 'stall') return outResult('stall', 0);
    this.usbStats.bytesOut += bytes.length;
    return outResult('ok', bytes.length);
  }

  async clearHalt(direction: USBDirection, endpointNumber: number): Promise<void> {
    this.ensureEndpoint(direction, endpointNumber);
    await this.tracked(this.usbDelay(), 'control');
    this.ensureConnected();
    if (direction === 'out') this.haltedOut.delete(endpointNumber);
    else {
      const ep = this.inEndpoints.get(endpointNumber);
      if (ep) ep.halted = false;
    }
    this.handleClearHalt(direction, endpointNumber);
    if (direction === 'in') {
      const ep = this.inEndpoints.get(endpointNumber);
      if (ep) ep.service();
    }
  }

  async transferOut(endpointNumber: number, data: BufferSource): Promise<USBOutTransferResult> {
    this.ensureEndpoint('out', endpointNumber);
    const bytes = toBytes(data);
    this.usbStats.transfersOut++;
    await this.tracked(this.usbDelay(), `out ${endpointNumber}`);
    this.ensureConnected();
    this.consumeFailure('out', endpointNumber);
    if (this.haltedOut.has(endpointNumber)) return outResult('stall', 0);
    this.usbStats.bytesOut += bytes.length;
    this.handleTransferOut(endpointNumber, bytes);
    return outResult('ok', bytes.length);
  }

  async transferIn(endpointNumber: number, length: number): Promise<USBInTransferResult> {
    this.ensureEndpoint('in', endpointNumber);
    const ep = this.inEndpoints.get(endpointNumber)!;
    this.usbStats.transfersIn++;
    const result = await new Promise<USBInTransferResult>((resolve, reject) => {
      ep.waiters.push({ length, resolve, reject });
      ep.service();
    });
    await this.tracked(this.usbDelay(), `in ${endpointNumber}`);
    this.ensureConnected();
    this.consumeFailure('in', endpointNumber);
    this.usbStats.bytesIn += result.data?.byteLength ?? 0;
    return result;
  }

  // ---- internals -------------------------------------------------------------

  /** Sleeps for the modelled duration scaled by `timeScale` (instant at 0). */
  protected sleep(seconds: number): Promise<void> {
    const ms = seconds * 1000 * this.timeScale;
    if (!(ms > 0)) return Promise.resolve();
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  private usbDelay(): Promise<void> {
    const seconds = this.latencyMs / 1000;
    this.usbStats.usbSeconds += seconds;
    return this.sleep(seconds);
  }

  /** Makes a delay rejectable by an unplug. */
  private tracked(p: Promise<void>, key: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pendingRejects.set(reject, key);
      p.then(
        () => {
          this.pendingRejects.delete(reject);
          resolve();
        },
        (e: unknown) => {
          this.pendingRejects.delete(reject);
          reject(e);
        },
      );
    });
  }

  private consumeFailure(direction: USBDirection | 'control', endpointNumber?: number): void {
    const i = this.failNext.findIndex(
      (f) => f.direction === direction && (f.endpointNumber === undefined || f.endpointNumber === endpointNumber),
    );
    if (i < 0) return;
    this.failNext.splice(i, 1);
    throw createUsbError('NetworkError', MSG.transferError);
  }

  private resetEndpoints(): void {
    for (const ep of this.inEndpoints.values()) {
      for (const w of ep.waiters.splice(0)) w.reject(createUsbError('NotFoundError', MSG.deviceUnavailable));
    }
    this.inEndpoints.clear();
    const config = this.configuration;
    if (!config) return;
    for (const iface of config.interfaces) {
      for (const e of iface.alternate.endpoints) {
        if (e.direction === 'in') this.inEndpoints.set(e.endpointNumber, new InEndpointState(e.packetSize));
      }
    }
  }

  private ensureConnected(): void {
    if (!this.connected) throw createUsbError('NotFoundError', MSG.deviceUnavailable);
  }

  private ensureConfigured(): USBConfiguration {
    this.ensureConnected();
    if (!this.isOpened) throw createUsbError('InvalidStateError', MSG.openRequired);
    const config = this.configuration;
    if (!config) throw createUsbError('InvalidStateError', MSG.noConfiguration);
    return config;
  }

  private ensureInterface(interfaceNumber: number): USBInterface {
    const config = this.ensureConfigured();
    const iface = config.interfaces.find((i) => i.interfaceNumber === interfaceNumber);
    if (!iface) throw createUsbError('NotFoundError', MSG.interfaceNotFound);
    return iface;
  }

  private ensureEndpoint(direction: USBDirection, endpointNumber: number): void {
    const config = this.ensureConfigured();
    if (endpointNumber <= 0 || endpointNumber >= 16) throw createUsbError('IndexSizeError', MSG.endpointOutOfRange);
    const ok = config.interfaces.some(
      (i) =>
        this.claimedInterfaces.has(i.interfaceNumber) &&
        i.alternate.endpoints.some((e) => e.endpointNumber === endpointNumber && e.direction === direction),
    );
    if (!ok) throw createUsbError('NotFoundError', MSG.endpointNotAvailable);
  }

  private ensureControl(setup: USBControlTransferParameters): void {
    const config = this.ensureConfigured();
    if (setup.recipient === 'interface') {
      const n = setup.index & 0xff;
      const iface = config.interfaces.find((i) => i.interfaceNumber === n);
      if (!iface) throw createUsbError('NotFoundError', MSG.interfaceNotFound);
      if (this.claimRefusal === 'protected-class' && iface.alternate.interfaceClass === 0x0b) {
        throw createUsbError('SecurityError', MSG.protectedClass);
      }
      if (!this.claimedInterfaces.has(n)) throw createUsbError('InvalidStateError', MSG.interfaceNotClaimed);
    } else if (setup.recipient === 'endpoint') {
      this.ensureEndpoint(setup.index & 0x80 ? 'in' : 'out', setup.index & 0x0f);
    } else if (setup.recipient !== 'device' && setup.recipient !== 'other') {
      throw createUsbError('TypeMismatchError', 'The control transfer recipient parameter is invalid.');
    }
    if (setup.requestType !== 'standard' && setup.requestType !== 'class' && setup.requestType !== 'vendor') {
      throw createUsbError('TypeMismatchError', 'The control transfer requestType parameter is invalid.');
    }
  }
}

export type { UsbErrorName };
