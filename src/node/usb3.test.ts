import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BULK_IN_SLICE_MS, INTERRUPT_IN_SLICE_MS, INTERRUPT_QUIET_MS, wrapNodeUsbBackend, wrapNodeUsbDevice } from './usb3.js';
import type { UsbBackendLike, UsbDeviceLike } from '../usb/device.js';
import { onTheClock as onFakeClock } from '../../test/helpers/fake-clock.js';
import { CcidReader } from '../ccid/reader.js';
import { concatBytes } from '../bytes.js';
import { createHcaLikeCard, createVirtualReader, HCA_LIKE_LAYOUT, VirtualUsb } from '../virtual/index.js';

/**
 * A stand-in for a device of the `usb` package 3.1.0, with the behaviours read in its source
 * (node-usb-rs, tsc/index.ts and src/webusb_device.rs) and met in the QEMU lab:
 * - transferIn/transferOut(endpoint, ..., timeout = 1000): the transfer is cancelled at the
 *   timeout and the promise rejects with `transferIn error: Cancelled` (nusb's TransferError, Debug);
 * - a stall rejects with `transferIn error: Stall`; an unplug with `transferIn error: Disconnected`;
 *   control transfers with nusb's Display text (`controlTransferIn error: endpoint stalled`);
 * - the `&mut self` members (open, claim, release, close, the configuration and string getters)
 *   throw "The same native value cannot be borrowed mutably while another borrow is active"
 *   while any other call is in flight;
 * - a transfer on an endpoint (number and direction) that has one in flight rejects at once with
 *   `transferOut error: endpoint not found` (`get_endpoint` in src/webusb_device.rs drops nusb's
 *   "endpoint already in use": the endpoint is claimed for the length of a transfer).
 * It keeps time with setTimeout and Date.now(), and every test here runs on vitest's fake clock:
 * a test moves the clock itself and reads the device's log of posted reads, never the machine's time.
 */
class FakeUsb3Device {
  vendorId = 0x08e6;
  productId = 0x4433;
  deviceVersionMajor = 1;
  deviceVersionMinor = 0;
  deviceVersionSubminor = 0;
  inFlight = 0;
  isOpened = false;
  /** Bytes the device will send on the next IN transfer of an endpoint, and when (ms after the call). */
  pendingIn = new Map<number, { at: number; data?: Uint8Array; fail?: string }>();
  timeoutsSeen: number[] = [];
  /** Endpoints of the IN transfers posted, in order. */
  postedIn: number[] = [];
  /** The IN transfers posted, in order: endpoint, timeout, and when (ms of the clock since the device was made). */
  postedLog: Array<{ endpoint: number; timeout: number; at: number }> = [];
  /** When each bulk transfer (IN on endpoint 2, or OUT) settled (ms since the device was made). */
  bulkEndedAt: number[] = [];
  /** How long a write takes (ms). */
  writeMs = 0;
  /** The writes done, in order: endpoint, first byte, and when posted and ended (ms since the device was made). */
  written: Array<{ endpoint: number; first: number | undefined; posted: number; ended: number }> = [];
  /** Endpoints with a transfer in flight: 0x80 | number for IN, the number for OUT. */
  private claimed = new Set<number>();
  private readonly born = Date.now();

  /** nusb's `Interface::endpoint`, as node-usb-rs 3.1.0 calls it: one transfer per endpoint at a time. */
  private onEndpoint<T>(address: number, what: string, run: () => Promise<T>): Promise<T> {
    if (this.claimed.has(address)) return Promise.reject(new Error(`${what} error: endpoint not found`));
    this.claimed.add(address);
    return run().finally(() => this.claimed.delete(address));
  }

  private borrowMut(): void {
    if (this.inFlight > 0) {
      const e = new Error('The same native value cannot be borrowed mutably while another borrow is active');
      (e as Error & { code: string }).code = 'InvalidArg';
      throw e;
    }
  }

  get productName(): string | null {
    this.borrowMut();
    return 'QEMU USB CCID';
  }
  get manufacturerName(): string | null {
    this.borrowMut();
    return 'QEMU';
  }
  get serialNumber(): string | null {
    this.borrowMut();
    return '1';
  }
  get opened(): boolean {
    return this.isOpened;
  }
  get configuration(): USBConfiguration {
    this.borrowMut();
    return CONFIGURATION;
  }
  get configurations(): USBConfiguration[] {
    this.borrowMut();
    return [CONFIGURATION];
  }

  private async mut<T>(run: () => T): Promise<T> {
    this.borrowMut();
    this.inFlight++;
    try {
      await new Promise((r) => setTimeout(r, 1));
      return run();
    } finally {
      this.inFlight--;
    }
  }
  private async shared<T>(run: () => Promise<T>): Promise<T> {
    this.inFlight++;
    try {
      return await run();
    } finally {
      this.inFlight--;
    }
  }

  open() {
    return this.mut(() => void (this.isOpened = true));
  }
  close() {
    return this.mut(() => void (this.isOpened = false));
  }
  selectConfiguration() {
    return this.shared(async () => undefined);
  }
  claimInterface() {
    return this.mut(() => undefined);
  }
  releaseInterface() {
    return this.mut(() => undefined);
  }
  clearHalt() {
    return this.shared(async () => undefined);
  }
  controlTransferIn(setup: USBControlTransferParameters): Promise<USBInTransferResult> {
    return this.shared(async () => {
      if (setup.request === 0x03) throw new Error('controlTransferIn error: endpoint stalled');
      return { status: 'ok', data: new DataView(new Uint8Array([1, 2]).buffer) } as USBInTransferResult;
    });
  }
  controlTransferOut(): Promise<USBOutTransferResult> {
    return this.shared(async () => ({ status: 'ok', bytesWritten: 0 }) as USBOutTransferResult);
  }
  transferIn(endpointNumber: number, length: number, timeout = 1000): Promise<USBInTransferResult> {
    this.timeoutsSeen.push(timeout);
    this.postedIn.push(endpointNumber);
    this.postedLog.push({ endpoint: endpointNumber, timeout, at: Date.now() - this.born });
    const read = this.onEndpoint(0x80 | endpointNumber, 'transferIn', () => this.shared(async () => {
      const started = Date.now() - this.born;
      const next = this.pendingIn.get(endpointNumber);
      const wait = next ? Math.max(0, next.at - started) : Infinity;
      if (wait >= timeout) {
        await new Promise((r) => setTimeout(r, timeout));
        throw new Error('transferIn error: Cancelled');
      }
      await new Promise((r) => setTimeout(r, wait));
      this.pendingIn.delete(endpointNumber);
      if (next?.fail) throw new Error(`transferIn error: ${next.fail}`);
      const data = (next?.data ?? new Uint8Array(0)).slice(0, length);
      return { status: 'ok', data: new DataView(data.buffer) } as USBInTransferResult;
    }));
    return endpointNumber === 2 ? read.finally(() => this.bulkEndedAt.push(Date.now() - this.born)) : read;
  }
  transferOut(endpointNumber: number, data: BufferSource, timeout = 1000): Promise<USBOutTransferResult> {
    this.timeoutsSeen.push(timeout);
    const bytes = data as Uint8Array;
    return this.onEndpoint(endpointNumber, 'transferOut', () =>
      this.shared(async () => {
        const posted = this.now();
        if (this.writeMs > 0) await new Promise((r) => setTimeout(r, this.writeMs));
        this.written.push({ endpoint: endpointNumber, first: bytes[0], posted, ended: this.now() });
        return { status: 'ok', bytesWritten: bytes.byteLength } as USBOutTransferResult;
      }),
    ).finally(() => this.bulkEndedAt.push(Date.now() - this.born));
  }

  /** Milliseconds of the clock since the device was made. */
  now(): number {
    return Date.now() - this.born;
  }

  /** Schedules what the device sends on `endpoint`, `afterMs` from now. */
  willSend(endpoint: number, afterMs: number, what: { data?: Uint8Array; fail?: string }): void {
    this.pendingIn.set(endpoint, { at: Date.now() - this.born + afterMs, ...what });
  }
}

/**
 * The virtual reader as the package would show it: a transfer on an endpoint (number and
 * direction) that has one in flight rejects with `... error: endpoint not found`, as in FakeUsb3Device.
 */
function likeUsb3(virtual: UsbDeviceLike): UsbDeviceLike {
  const claimed = new Set<number>();
  const onEndpoint = <T>(address: number, what: string, run: () => Promise<T>): Promise<T> => {
    if (claimed.has(address)) return Promise.reject(new Error(`${what} error: endpoint not found`));
    claimed.add(address);
    return run().finally(() => claimed.delete(address));
  };
  return new Proxy(virtual, {
    get(target, key) {
      if (key === 'transferOut')
        return (n: number, data: BufferSource) => onEndpoint(n, 'transferOut', () => target.transferOut(n, data));
      if (key === 'transferIn') return (n: number, length: number) => onEndpoint(0x80 | n, 'transferIn', () => target.transferIn(n, length));
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

const endpoint = (endpointNumber: number, direction: USBDirection, type: USBEndpointType) =>
  ({ endpointNumber, direction, type, packetSize: 64 }) as USBEndpoint;
const CONFIGURATION = {
  configurationValue: 1,
  configurationName: null,
  interfaces: [
    {
      interfaceNumber: 0,
      claimed: false,
      alternate: {
        alternateSetting: 0,
        interfaceClass: 0x0b,
        interfaceSubclass: 0,
        interfaceProtocol: 0,
        interfaceName: null,
        endpoints: [endpoint(1, 'out', 'bulk'), endpoint(2, 'in', 'bulk'), endpoint(3, 'in', 'interrupt')],
      },
      alternates: [],
    },
  ],
} as unknown as USBConfiguration;

/** The fake clock moved 1 ms at a time: the tests check the exact fake time of each transfer. */
const onTheClock = <T>(work: Promise<T>) => onFakeClock(work, { stepMs: 1 });

async function opened(): Promise<{ fake: FakeUsb3Device; device: UsbDeviceLike }> {
  const fake = new FakeUsb3Device();
  const device = wrapNodeUsbDevice(fake as unknown as UsbDeviceLike);
  await onTheClock(device.open());
  await onTheClock(device.selectConfiguration(1));
  await onTheClock(device.claimInterface(0));
  return { fake, device };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the usb 3.x device, seen as WebUSB', () => {
  it("a bulk read waits past the package's 1-second timeout for a late answer: re-posted when a slice runs out, it gets the answer", async () => {
    const { fake, device } = await opened();
    // Later than one whole slice: the first read is cancelled by the package, the second gets it.
    const late = BULK_IN_SLICE_MS + 1500;
    const answer = [0x80, 0, 0, 0, 0, 0, 1, 0, 0, 0];
    fake.willSend(2, late, { data: Uint8Array.from(answer) });
    const started = fake.now();
    let settledAt: number | undefined;
    const read = device.transferIn(2, 64).finally(() => (settledAt = fake.now()));
    await vi.advanceTimersByTimeAsync(1001); // past the package's default timeout: still waiting
    expect(settledAt).toBeUndefined();
    const r = await onTheClock(read);
    expect(r.status).toBe('ok');
    expect(Array.from(new Uint8Array(r.data!.buffer))).toEqual(answer);
    // resolved when the device answered, by a read posted again after the first slice ran out
    expect(settledAt! - started).toBe(late);
    expect(fake.postedLog.map((p) => [p.endpoint, p.at - started])).toEqual([
      [2, 0],
      [2, BULK_IN_SLICE_MS],
    ]);
    // every read was posted with an explicit slice, never the package's 1000 ms default
    expect(fake.timeoutsSeen.every((t) => t > 1000)).toBe(true);
  });

  it('an interrupt read keeps waiting across slices', async () => {
    const { fake, device } = await opened();
    fake.willSend(3, 2200, { data: new Uint8Array([0x50, 0x03]) });
    const r = await onTheClock(device.transferIn(3, 8));
    expect(Array.from(new Uint8Array(r.data!.buffer))).toEqual([0x50, 0x03]);
    // posted again each time a slice ran out, until the device answered
    const posts = fake.postedLog.filter((p) => p.endpoint === 3);
    expect(posts.length).toBeGreaterThanOrEqual(Math.floor(2200 / INTERRUPT_IN_SLICE_MS));
    expect(posts.every((p) => p.timeout === INTERRUPT_IN_SLICE_MS)).toBe(true);
  });

  it('the interrupt read is not posted while bulk transfers run, only once the bulk pipe has been quiet for a while', async () => {
    const { fake, device } = await opened();
    fake.willSend(2, 150, { data: new Uint8Array([0x80, 0, 0, 0, 0, 0, 1, 0, 0, 0]) });
    const bulk = device.transferIn(2, 64);
    fake.willSend(3, 0, { data: new Uint8Array([0x50, 0x02]) }); // a card removal, ready at once
    const notification = device.transferIn(3, 8);
    await vi.advanceTimersByTimeAsync(100);
    expect(fake.postedIn).toEqual([2]);
    await onTheClock(bulk);
    await onTheClock(device.transferOut(1, new Uint8Array(10)));
    const r = await onTheClock(notification);
    // held back during the exchange, not lost: delivered once the pipe was quiet
    expect(Array.from(new Uint8Array(r.data!.buffer))).toEqual([0x50, 0x02]);
    expect(fake.postedIn).toEqual([2, 3]);
    const lastBulkEnded = Math.max(...fake.bulkEndedAt);
    const interruptPosted = fake.postedLog.find((p) => p.endpoint === 3)!.at;
    expect(interruptPosted - lastBulkEnded).toBeGreaterThanOrEqual(INTERRUPT_QUIET_MS);
  });

  it('a stall is status "stall", on bulk and control transfers, as in WebUSB', async () => {
    const { fake, device } = await opened();
    fake.willSend(2, 10, { fail: 'Stall' });
    expect((await onTheClock(device.transferIn(2, 64))).status).toBe('stall');
    const setup = { requestType: 'class', recipient: 'interface', request: 0x03, value: 0, index: 0 } as const;
    expect((await onTheClock(device.controlTransferIn(setup, 4))).status).toBe('stall');
  });

  it('an unplugged device rejects with NotFoundError', async () => {
    const { fake, device } = await opened();
    fake.willSend(2, 10, { fail: 'Disconnected' });
    await expect(onTheClock(device.transferIn(2, 64))).rejects.toMatchObject({ name: 'NotFoundError' });
  });

  it('getters, release and close work while the interrupt read is in flight; the read ends with AbortError', async () => {
    const { device } = await opened();
    const pending = device.transferIn(3, 8);
    // the package's own getters throw here; the wrapped ones answer from what was read before
    expect(device.productName).toBe('QEMU USB CCID');
    expect(device.configuration?.interfaces[0]?.alternate.endpoints).toHaveLength(3);
    const released = device.releaseInterface(0);
    await expect(onTheClock(pending)).rejects.toMatchObject({ name: 'AbortError' });
    await onTheClock(released);
    await onTheClock(device.close());
    expect(device.opened).toBe(false);
  });

  it('two writes on one endpoint at the same time both succeed, one after the other, in order (WebUSB queues them; usb 3.1.0 refuses the second)', async () => {
    const { fake, device } = await opened();
    fake.writeMs = 5;
    const first = device.transferOut(1, Uint8Array.of(0x6f, 1));
    const second = device.transferOut(1, Uint8Array.of(0x65, 2));
    const third = device.transferOut(1, Uint8Array.of(0x62, 3));
    const results = await onTheClock(Promise.all([first, second, third]));
    expect(results.map((r) => [r.status, r.bytesWritten])).toEqual([
      ['ok', 2],
      ['ok', 2],
      ['ok', 2],
    ]);
    expect(fake.written.map((w) => w.first)).toEqual([0x6f, 0x65, 0x62]);
    // each posted once the one before had ended
    for (let i = 1; i < fake.written.length; i++) expect(fake.written[i]!.posted).toBeGreaterThanOrEqual(fake.written[i - 1]!.ended);
  });

  it('a queued read keeps its place: two reads on one endpoint get the answers in order, a write on another endpoint does not wait', async () => {
    const { fake, device } = await opened();
    fake.writeMs = 5;
    const start = fake.now();
    fake.willSend(2, 20, { data: Uint8Array.of(0x80, 1) });
    const firstRead = device.transferIn(2, 64).then((r) => new Uint8Array(r.data!.buffer)[1]);
    const secondRead = device.transferIn(2, 64).then((r) => new Uint8Array(r.data!.buffer)[1]);
    const write = device.transferOut(1, Uint8Array.of(0x6f));
    await onTheClock(write);
    // the write ran beside the first read (different endpoint), not after it
    expect(fake.written[0]!.ended).toBeLessThan(20);
    expect(await onTheClock(firstRead)).toBe(1);
    fake.willSend(2, 10, { data: Uint8Array.of(0x80, 2) });
    expect(await onTheClock(secondRead)).toBe(2);
    // the second read was posted only once the first had its answer
    const reads = fake.postedLog.filter((p) => p.endpoint === 2);
    expect(reads[1]!.at - start).toBeGreaterThanOrEqual(20);
  });

  it('through the driver: two slots of a reader with bMaxCCIDBusySlots 2 exchange APDUs at the same time', async () => {
    // no interrupt endpoint: the proxy passes the package's slice timeout by, and a read that never ends would hold close()
    const virtual = createVirtualReader({ slots: 2, busySlots: 2, cards: [createHcaLikeCard(), createHcaLikeCard()], interruptEndpoint: false });
    const reader = await onTheClock(CcidReader.open(wrapNodeUsbDevice(likeUsb3(virtual)), { backend: new VirtualUsb({ devices: [virtual] }) }));
    try {
      const select = concatBytes(Uint8Array.of(0x00, 0xa4, 0x04, 0x0c, HCA_LIKE_LAYOUT.aid.length), HCA_LIKE_LAYOUT.aid);
      const [a, b] = await onTheClock(Promise.all([reader.connect(0), reader.connect(1)]));
      const answers = await onTheClock(Promise.all([a!.transmit(select), b!.transmit(select), a!.transmit(select), b!.transmit(select)]));
      expect(answers.map((r) => Array.from(r.subarray(-2)))).toEqual([
        [0x90, 0],
        [0x90, 0],
        [0x90, 0],
        [0x90, 0],
      ]);
    } finally {
      await onTheClock(reader.close());
    }
  });

  it('the backend hands out one wrapped object per device, in getDevices and in disconnect events', async () => {
    const fake = new FakeUsb3Device();
    const listeners: Array<(e: { device: UsbDeviceLike }) => void> = [];
    const native: UsbBackendLike = {
      getDevices: async () => [fake as unknown as UsbDeviceLike],
      addEventListener: (_t, l) => void listeners.push(l),
      removeEventListener: (_t, l) => void listeners.splice(listeners.indexOf(l), 1),
    };
    const backend = wrapNodeUsbBackend(native);
    const [first] = await backend.getDevices();
    const [again] = await backend.getDevices();
    expect(again).toBe(first);
    const got: UsbDeviceLike[] = [];
    const listener = (e: { device: UsbDeviceLike }) => got.push(e.device);
    backend.addEventListener('disconnect', listener);
    listeners.forEach((l) => l({ device: fake as unknown as UsbDeviceLike }));
    expect(got).toEqual([first]);
    backend.removeEventListener('disconnect', listener);
    expect(listeners).toHaveLength(0);
  });
});
