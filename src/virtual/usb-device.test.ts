import { describe, expect, it, vi } from 'vitest';
import { bytesOf, fromHex } from '../bytes.js';
import { encodeCommand } from '../ccid/messages.js';
import type { UsbDeviceLike } from '../usb/device.js';
import { VirtualUsb } from './backend.js';
import { createHcaLikeCard } from './card.js';
import { RawCcidSession } from './raw-session.js';
import { createVirtualReader } from './reader/index.js';

async function rejectsWith(p: Promise<unknown>, name: string): Promise<void> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeDefined();
  expect((caught as Error).name).toBe(name);
  if (typeof DOMException === 'function') expect(caught).toBeInstanceOf(DOMException);
}

const slotStatus = (seq: number) => encodeCommand({ name: 'GetSlotStatus', bSlot: 0, bSeq: seq });

describe('USBDevice state rules (Chromium behaviour)', () => {
  it('is a UsbDeviceLike with W3C-shaped configuration objects', () => {
    const reader = createVirtualReader({ preset: 'castles-ezccid' });
    const device: UsbDeviceLike = reader;
    expect(device.vendorId).toBe(0x0ca6);
    expect(device.productId).toBe(0x00a0);
    expect(device.deviceVersionMajor).toBe(0);
    expect(device.deviceVersionMinor).toBe(1);
    expect(device.deviceVersionSubminor).toBe(0);
    expect(device.productName).toBe('EZCCID Smart Card Reader');
    expect(device.opened).toBe(false);
    const config = device.configuration!;
    expect(config.configurationValue).toBe(1);
    expect(device.configurations).toHaveLength(1);
    const iface = config.interfaces[0]!;
    expect(iface.interfaceNumber).toBe(0);
    expect(iface.claimed).toBe(false);
    expect(iface.alternates).toEqual([iface.alternate]);
    expect(iface.alternate.interfaceClass).toBe(0x0b);
    expect(iface.alternate.endpoints.map((e) => [e.endpointNumber, e.direction, e.type, e.packetSize])).toEqual([
      [1, 'out', 'bulk', 64],
      [2, 'in', 'bulk', 64],
      [3, 'in', 'interrupt', 8],
    ]);
  });

  it('rejects InvalidStateError before open, NotFoundError for unknown things, IndexSizeError for endpoint 0', async () => {
    const d = createVirtualReader();
    await rejectsWith(d.selectConfiguration(1), 'InvalidStateError');
    await rejectsWith(d.claimInterface(0), 'InvalidStateError');
    await rejectsWith(d.transferIn(2, 64), 'InvalidStateError');
    await d.open();
    await d.open(); // already open: fine
    expect(d.opened).toBe(true);
    await rejectsWith(d.selectConfiguration(2), 'NotFoundError');
    await rejectsWith(d.claimInterface(4), 'NotFoundError');
    await rejectsWith(d.transferIn(2, 64), 'NotFoundError'); // not claimed
    await rejectsWith(
      d.controlTransferIn({ requestType: 'class', recipient: 'interface', request: 2, value: 0, index: 0 }, 4),
      'InvalidStateError',
    );
    await d.claimInterface(0);
    expect(d.configuration!.interfaces[0]!.claimed).toBe(true);
    await rejectsWith(d.transferIn(0, 64), 'IndexSizeError');
    await rejectsWith(d.transferOut(2, new Uint8Array(1)), 'NotFoundError'); // 2 is IN only
    await d.releaseInterface(0);
    await rejectsWith(d.transferOut(1, new Uint8Array(1)), 'NotFoundError');
    await d.close();
    expect(d.opened).toBe(false);
  });

  it('simulates the protected class (SecurityError), an OS-held interface (NetworkError) and access denied', async () => {
    const p = createVirtualReader({ claimRefusal: 'protected-class' });
    await p.open();
    await rejectsWith(p.claimInterface(0), 'SecurityError');
    const vendor = createVirtualReader({ claimRefusal: 'protected-class', interfaceClass: 0xff });
    await vendor.open();
    await vendor.claimInterface(0); // class 0xFF is not protected
    const held = createVirtualReader({ claimRefusal: 'os-held' });
    await held.open();
    await rejectsWith(held.claimInterface(0), 'NetworkError');
    const denied = createVirtualReader({ accessDenied: true });
    await rejectsWith(denied.open(), 'SecurityError');
  });

  it('a transferIn that comes first stays pending until the answer exists', async () => {
    const reader = createVirtualReader({ card: createHcaLikeCard(), initialNotification: false });
    const s = await RawCcidSession.open(reader);
    vi.useFakeTimers();
    try {
      let done = false;
      const pending = s.receive().then((r) => {
        done = true;
        return r;
      });
      // Every timer the device could have set fires, and every promise settles: still pending.
      await vi.runAllTimersAsync();
      expect(done).toBe(false);
      expect(reader.stats.answers).toBe(0);
      await s.send(slotStatus(9));
      const r = await pending;
      expect(r.status).toBe('ok');
      expect(bytesOf(r.data)[6]).toBe(9);
    } finally {
      vi.useRealTimers();
    }
  });

  it('packetisation: shorter reads that are multiples of 64 split the answer; other short reads babble', async () => {
    const reader = createVirtualReader({ card: createHcaLikeCard() });
    const s = await RawCcidSession.open(reader);
    await s.send(encodeCommand({ name: 'IccPowerOn', bSlot: 0, bSeq: 1, bPowerSelect: 0 })); // 10 + 19 bytes
    const babble = await s.receive(16);
    expect(babble.status).toBe('babble');
    expect(bytesOf(babble.data).length).toBe(16);
    // 100-byte answer read as 64 + rest.
    await s.send(encodeCommand({ name: 'XfrBlock', bSlot: 0, bSeq: 2, bBWI: 0, wLevelParameter: 0, abData: fromHex('80 EE 80 58 00') }));
    const a = await s.receive(64);
    expect(a.status).toBe('ok');
    expect(bytesOf(a.data).length).toBe(64);
    const b = await s.receive(64);
    expect(b.status).toBe('ok');
    expect(bytesOf(b.data).length).toBe(10 + 0x58 + 2 - 64);
  });

  it('zero-length packet quirk: an answer filling its last packet is followed by an empty read', async () => {
    const reader = createVirtualReader({ card: createHcaLikeCard(), zeroLengthPacket: true });
    const s = await RawCcidSession.open(reader);
    await s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 0 });
    // 10 + 52 + 2 = 64 bytes.
    await s.send(encodeCommand({ name: 'XfrBlock', bSlot: 0, bSeq: 5, bBWI: 0, wLevelParameter: 0, abData: fromHex('80 EE 80 34 00') }));
    const full = await s.receive(4096);
    expect(bytesOf(full.data).length).toBe(64);
    const zlp = await s.receive(4096);
    expect(zlp.status).toBe('ok');
    expect(bytesOf(zlp.data).length).toBe(0);
  });

  it('latency and timeScale: modelled always, slept only when timeScale > 0', async () => {
    const reader = createVirtualReader({ card: createHcaLikeCard(), latencyMs: 20, timeScale: 0 });
    const s = await RawCcidSession.open(reader);
    const before = reader.stats.usbSeconds;
    vi.useFakeTimers();
    try {
      let settled = false;
      const instant = s.command({ name: 'GetSlotStatus', bSlot: 0 }).then(() => (settled = true));
      // timeScale 0: the command completes with the clock standing still and no timer left behind.
      await vi.advanceTimersByTimeAsync(0);
      expect(settled).toBe(true);
      await instant;
      expect(vi.getTimerCount()).toBe(0);
      expect(reader.stats.usbSeconds - before).toBeCloseTo(0.04, 9); // bulk-OUT + bulk-IN, 20 ms each, modelled
      // timeScale 1: the same command takes exactly 40 ms of the (fake) clock.
      reader.timeScale = 1;
      settled = false;
      const slept = s.command({ name: 'GetSlotStatus', bSlot: 0 }).then(() => (settled = true));
      await vi.advanceTimersByTimeAsync(39);
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(settled).toBe(true);
      await slept;
      expect(reader.stats.usbSeconds - before).toBeCloseTo(0.08, 9);
    } finally {
      vi.useRealTimers();
    }
  });

  it('unplug: pending and later calls reject NotFoundError; plug gives a fresh closed device', async () => {
    const reader = createVirtualReader({ card: createHcaLikeCard(), initialNotification: false });
    const s = await RawCcidSession.open(reader);
    const pending = s.receive();
    const pendingInt = s.interrupt();
    reader.unplug();
    await rejectsWith(pending, 'NotFoundError');
    await rejectsWith(pendingInt, 'NotFoundError');
    await rejectsWith(s.send(slotStatus(1)), 'NotFoundError');
    await rejectsWith(reader.open(), 'NotFoundError');
    expect(reader.opened).toBe(false);
    reader.plug();
    expect(reader.opened).toBe(false);
    const s2 = await RawCcidSession.open(reader);
    const r = await s2.command({ name: 'GetSlotStatus', bSlot: 0 });
    expect(r.bStatus).toBe(0x01);
  });

  it('unplug with an order: each step fails its pending transfers in a task of its own, the event where named', async () => {
    const reader = createVirtualReader({ card: createHcaLikeCard(), initialNotification: false, latencyMs: 50, timeScale: 1 });
    const usb = new VirtualUsb({ devices: [reader] });
    const s = await RawCcidSession.open(reader);
    const seen: string[] = [];
    const note = (what: string, p: Promise<unknown>) =>
      p.then(
        () => seen.push(`${what} ok`),
        (e: Error) => seen.push(`${what} ${e.name}`),
      );
    usb.addEventListener('disconnect', () => seen.push('event'));
    const all = Promise.all([note('bulk-in', s.receive()), note('interrupt', s.interrupt()), note('bulk-out', s.send(slotStatus(1)))]);
    reader.unplug({ order: [{ direction: 'out' }, 'disconnect-event', { direction: 'in', endpointNumber: 3 }] });
    expect(seen).toEqual([]); // nothing inside unplug() itself
    await rejectsWith(s.send(slotStatus(2)), 'NotFoundError'); // later calls fail at once
    await all;
    expect(seen).toEqual(['bulk-out NotFoundError', 'event', 'interrupt NotFoundError', 'bulk-in NotFoundError']);
  });
});

describe('VirtualUsb backend', () => {
  it('lists permitted devices, plays the chooser, fires connect / disconnect with { device }', async () => {
    const a = createVirtualReader({ preset: 'castles-ezccid' });
    const b = createVirtualReader({ preset: 'inmax-dwr18-hpc' });
    const usb = new VirtualUsb({ devices: [a], granted: false });
    expect(await usb.getDevices()).toEqual([]);
    const picked = await usb.requestDevice({ filters: [{ vendorId: 0x0ca6 }] });
    expect(picked).toBe(a);
    expect(await usb.getDevices()).toEqual([a]);
    await rejectsWith(usb.requestDevice({ filters: [{ vendorId: 0x1234 }] }), 'NotFoundError');
    const byClass = await usb.requestDevice({ filters: [{ classCode: 0x0b }] });
    expect(byClass).toBe(a);

    const events: string[] = [];
    const onConnect = (e: { device: UsbDeviceLike }) => events.push(`connect ${e.device.productId.toString(16)}`);
    const onDisconnect = (e: { device: UsbDeviceLike }) => events.push(`disconnect ${e.device.productId.toString(16)}`);
    usb.addEventListener('connect', onConnect);
    usb.addEventListener('disconnect', onDisconnect);
    a.unplug();
    expect(await usb.getDevices()).toEqual([]);
    a.plug();
    usb.attach(b); // not permitted (granted: false): no event
    const granted = new VirtualUsb({ devices: [b] });
    const seen: UsbDeviceLike[] = [];
    granted.addEventListener('disconnect', (e) => seen.push(e.device));
    b.unplug();
    expect(seen).toEqual([b]);
    usb.removeEventListener('disconnect', onDisconnect);
    a.unplug();
    expect(events).toEqual(['disconnect a0', 'connect a0']);
    const cancel = new VirtualUsb({ devices: [a], chooser: 'cancel' });
    a.plug();
    await rejectsWith(cancel.requestDevice({ filters: [] }), 'NotFoundError');
  });

  it('detach unplugs and forgets the device', async () => {
    const a = createVirtualReader();
    const usb = new VirtualUsb({ devices: [a] });
    const seen: UsbDeviceLike[] = [];
    usb.addEventListener('disconnect', (e) => seen.push(e.device));
    usb.detach(a);
    expect(seen).toEqual([a]);
    expect(await usb.getDevices()).toEqual([]);
    expect(a.connectedState).toBe(false);
  });
});
