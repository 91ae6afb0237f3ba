/**
 * The Node wrapper answers GET_DESCRIPTOR(CONFIGURATION) from the descriptors the Linux kernel read
 * at enumeration (sysfs `descriptors`), as libusb does for libccid, instead of two control
 * transfers on every open. The sysfs folder is a temporary one laid out as the kernel's
 * (the kernel's Documentation/ABI: `<bus>-<port chain>/{busnum,devnum,descriptors}`), the
 * device a virtual reader behind the fields the `usb` package 3.x gives a device (`bus`,
 * `address`, `ports`); its own answer to GET_DESCRIPTOR is what the kernel read.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { useUsbDevicesDir, wrapNodeUsbDevice } from './usb3.js';
import { CcidReader } from '../ccid/reader.js';
import { concatBytes } from '../bytes.js';
import type { UsbDeviceLike } from '../usb/device.js';
import { createHcaLikeCard, createVirtualReader, type VirtualReader } from '../virtual/index.js';

/** The device as the `usb` package 3.x shows it: the virtual reader plus its place on the bus. */
function onBus(virtual: VirtualReader, place: { bus: string; address: number; ports: number[] }): UsbDeviceLike {
  return new Proxy(virtual as unknown as UsbDeviceLike, {
    get(target, key) {
      if (key in place) return place[key as keyof typeof place];
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** What the kernel keeps: the device descriptor (18 bytes, one configuration), then the configuration's descriptors as the device gave them. */
async function kernelDescriptors(virtual: VirtualReader): Promise<Uint8Array> {
  const read = async (length: number) => {
    const r = await virtual.controlTransferIn({ requestType: 'standard', recipient: 'device', request: 0x06, value: 0x0200, index: 0 }, length);
    return new Uint8Array(r.data!.buffer, r.data!.byteOffset, r.data!.byteLength);
  };
  await virtual.open();
  const header = await read(9);
  const configuration = await read(header[2]! | (header[3]! << 8));
  await virtual.close();
  const device = Uint8Array.of(18, 0x01, 0x00, 0x02, 0, 0, 0, 64, 0xe6, 0x08, 0x33, 0x44, 0x00, 0x01, 1, 2, 3, 1);
  return concatBytes(device, configuration);
}

let sysfs: string;
beforeEach(() => {
  sysfs = mkdtempSync(path.join(tmpdir(), 'webccid-sysfs-'));
  useUsbDevicesDir(sysfs);
});
afterEach(() => {
  useUsbDevicesDir(process.platform === 'linux' ? '/sys/bus/usb/devices' : undefined);
  rmSync(sysfs, { recursive: true, force: true });
});

/** Writes the kernel's folder for a device at `name` (bus 3, device 7 unless said otherwise). */
function publish(name: string, descriptors: Uint8Array, devnum = 7): void {
  mkdirSync(path.join(sysfs, name));
  writeFileSync(path.join(sysfs, name, 'busnum'), '3\n');
  writeFileSync(path.join(sysfs, name, 'devnum'), `${devnum}\n`);
  writeFileSync(path.join(sysfs, name, 'descriptors'), descriptors);
}

/** Opens the reader through the wrapper; returns how many control transfers reached the device, and the reader's class descriptor. */
async function openCounting(virtual: VirtualReader, device: UsbDeviceLike) {
  const before = virtual.usbStats.controlTransfers;
  const reader = await CcidReader.open(wrapNodeUsbDevice(device), { watchInterrupt: false });
  const controlTransfers = virtual.usbStats.controlTransfers - before;
  try {
    const c = await reader.connect(0);
    const answer = await c.transmit(Uint8Array.of(0x00, 0xa4, 0x04, 0x00, 0x00));
    return { controlTransfers, descriptor: reader.descriptor, sw: Array.from(answer.subarray(-2)) };
  } finally {
    await reader.close();
  }
}

describe('usb3.ts: configuration descriptors from the kernel (Linux sysfs)', () => {
  it('opens a reader with no control transfer when the kernel has its descriptors, and reads the same class descriptor', async () => {
    const virtual = createVirtualReader({ cards: [createHcaLikeCard()] });
    publish('3-1.4', await kernelDescriptors(virtual));
    const fromKernel = await openCounting(virtual, onBus(virtual, { bus: '3', address: 7, ports: [1, 4] }));
    expect(fromKernel.controlTransfers).toBe(0);

    useUsbDevicesDir(undefined); // no sysfs: the two reads of GET_DESCRIPTOR (9 bytes, then wTotalLength)
    const fromDevice = await openCounting(virtual, onBus(virtual, { bus: '3', address: 7, ports: [1, 4] }));
    expect(fromDevice.controlTransfers).toBe(2);
    expect(fromKernel.descriptor).toEqual(fromDevice.descriptor);
    expect(fromKernel.sw).toEqual(fromDevice.sw);
  });

  it('asks the device when the folder holds another device (device number differs) or no well-formed copy', async () => {
    const virtual = createVirtualReader({ cards: [createHcaLikeCard()] });
    const descriptors = await kernelDescriptors(virtual);
    publish('3-2', descriptors, 9); // another device since plugged into that port
    expect((await openCounting(virtual, onBus(virtual, { bus: '3', address: 7, ports: [2] }))).controlTransfers).toBe(2);

    const cut = descriptors.slice(0, descriptors.length - 5); // shorter than its wTotalLength
    publish('3-5', cut);
    expect((await openCounting(virtual, onBus(virtual, { bus: '3', address: 7, ports: [5] }))).controlTransfers).toBe(2);

    // no folder for that port at all
    expect((await openCounting(virtual, onBus(virtual, { bus: '3', address: 7, ports: [6] }))).controlTransfers).toBe(2);
  });

  it('a closed device is not answered from the copy: the request goes to the device, which refuses it (as WebUSB does)', async () => {
    const virtual = createVirtualReader({ cards: [createHcaLikeCard()] });
    publish('3-7', await kernelDescriptors(virtual));
    const device = wrapNodeUsbDevice(onBus(virtual, { bus: '3', address: 7, ports: [7] }));
    const setup = { requestType: 'standard', recipient: 'device', request: 0x06, value: 0x0200, index: 0 } as const;
    await expect(device.controlTransferIn(setup, 9)).rejects.toMatchObject({ name: 'InvalidStateError' });
    await device.open();
    const before = virtual.usbStats.controlTransfers;
    const r = await device.controlTransferIn(setup, 9);
    expect(r.status).toBe('ok');
    expect(r.data?.byteLength).toBe(9);
    expect(virtual.usbStats.controlTransfers).toBe(before);
    await device.close();
  });
});
