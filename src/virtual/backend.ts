/// <reference types="w3c-web-usb" preserve="true" />
// WebUSB types (USBDevice, USBDeviceFilter...) for this file and its .d.ts: see docs/packaging.md.
/**
 * `VirtualUsb`: a stand-in for `navigator.usb` (the `UsbBackendLike` part)
 * that serves virtual devices. `getDevices()` lists the plugged-in devices the
 * page has permission for; `requestDevice()` plays the chooser (the first
 * plugged-in device that matches a filter is "picked" and permitted);
 * 'connect' / 'disconnect' events carry `{ device }` and fire when a device is
 * plugged / unplugged (`reader.unplug()`, the unplug fault, `usb.detach()`).
 */
import type { UsbBackendLike, UsbDeviceLike } from '../usb/device.js';
import { createUsbError, USB_ERROR_MESSAGES as MSG } from './usb-errors.js';
import type { VirtualUsbDevice } from './usb-device.js';

type Listener = (event: { device: UsbDeviceLike }) => void;

export interface VirtualUsbOptions {
  /** Devices plugged in from the start. */
  devices?: VirtualUsbDevice[];
  /** Whether devices are permitted without a `requestDevice()` (pre-granted, like a kiosk policy). Default true. */
  granted?: boolean;
  /** Chooser outcome: 'first' (default) picks the first match; 'cancel' rejects `NotFoundError` like a user cancel. */
  chooser?: 'first' | 'cancel';
}

function matchesFilter(device: VirtualUsbDevice, filter: USBDeviceFilter): boolean {
  if (filter.vendorId !== undefined && filter.vendorId !== device.vendorId) return false;
  if (filter.productId !== undefined && filter.productId !== device.productId) return false;
  if (filter.serialNumber !== undefined && filter.serialNumber !== device.serialNumber) return false;
  if (filter.classCode === undefined && filter.subclassCode === undefined && filter.protocolCode === undefined) return true;
  const alternates = device.configurations.flatMap((c) => c.interfaces.map((i) => i.alternate));
  const classes = [{ interfaceClass: device.deviceClass, interfaceSubclass: device.deviceSubclass, interfaceProtocol: device.deviceProtocol }, ...alternates];
  return classes.some(
    (a) =>
      (filter.classCode === undefined || filter.classCode === a.interfaceClass) &&
      (filter.subclassCode === undefined || filter.subclassCode === a.interfaceSubclass) &&
      (filter.protocolCode === undefined || filter.protocolCode === a.interfaceProtocol),
  );
}

/** A virtual `navigator.usb`. */
export class VirtualUsb implements UsbBackendLike {
  /** Chooser outcome, may be changed at any time. */
  chooser: 'first' | 'cancel';
  private readonly devices: VirtualUsbDevice[] = [];
  private readonly permitted = new Set<VirtualUsbDevice>();
  private readonly granted: boolean;
  private readonly listeners = { connect: new Set<Listener>(), disconnect: new Set<Listener>() };
  private readonly onConnection = (event: 'connect' | 'disconnect', device: VirtualUsbDevice): void => {
    if (event === 'connect' && this.granted) this.permitted.add(device);
    if (!this.permitted.has(device)) return;
    for (const l of [...this.listeners[event]]) l({ device: device as unknown as UsbDeviceLike });
  };

  constructor(options: VirtualUsbOptions = {}) {
    this.granted = options.granted ?? true;
    this.chooser = options.chooser ?? 'first';
    for (const d of options.devices ?? []) this.attach(d, { silent: true });
  }

  /** Adds a device to the bus (fires 'connect' unless `silent`, and only for a permitted device). */
  attach(device: VirtualUsbDevice, options: { silent?: boolean } = {}): void {
    if (this.devices.includes(device)) return;
    this.devices.push(device);
    device.addConnectionListener(this.onConnection);
    if (this.granted) this.permitted.add(device);
    if (!options.silent && device.connectedState) this.onConnection('connect', device);
  }

  /** Unplugs a device and forgets it. */
  detach(device: VirtualUsbDevice): void {
    const i = this.devices.indexOf(device);
    if (i < 0) return;
    device.unplug();
    device.removeConnectionListener(this.onConnection);
    this.devices.splice(i, 1);
    this.permitted.delete(device);
  }

  async getDevices(): Promise<UsbDeviceLike[]> {
    return this.devices.filter((d) => d.connectedState && this.permitted.has(d)) as unknown as UsbDeviceLike[];
  }

  async requestDevice(options: USBDeviceRequestOptions): Promise<UsbDeviceLike> {
    const filters = options?.filters ?? [];
    const exclusions = options?.exclusionFilters ?? [];
    const match = this.devices.find(
      (d) =>
        d.connectedState &&
        (filters.length === 0 || filters.some((f) => matchesFilter(d, f))) &&
        !exclusions.some((f) => matchesFilter(d, f)),
    );
    if (!match || this.chooser === 'cancel') throw createUsbError('NotFoundError', MSG.noDeviceSelected);
    this.permitted.add(match);
    return match as unknown as UsbDeviceLike;
  }

  addEventListener(type: 'connect' | 'disconnect', listener: Listener): void {
    this.listeners[type].add(listener);
  }

  removeEventListener(type: 'connect' | 'disconnect', listener: Listener): void {
    this.listeners[type].delete(listener);
  }
}
