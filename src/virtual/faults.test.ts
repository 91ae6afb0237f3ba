import { afterEach, describe, expect, it, vi } from 'vitest';
import { bytesOf, fromHex, toHex } from '../bytes.js';
import { CCID_ERROR, decodeNotification, decodeResponse, encodeCommand } from '../ccid/messages.js';
import { isWebCcidError } from '../errors.js';
import { decodeT1Block, encodeT1Block } from '../iso7816/t1-block.js';
import type { UsbDeviceLike } from '../usb/device.js';
import { VirtualUsb } from './backend.js';
import { createHcaLikeCard, createT0Card } from './card.js';
import { RawCcidSession } from './raw-session.js';
import { createVirtualReader, type VirtualReaderOptions } from './reader/index.js';

async function powered(options: VirtualReaderOptions = {}) {
  const reader = createVirtualReader({ card: createHcaLikeCard(), initialNotification: false, ...options });
  const s = await RawCcidSession.open(reader);
  const on = await s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 0 });
  expect(on.bStatus).toBe(0);
  return { reader, s };
}

const challenge = fromHex('00 84 00 00 08');
const xfr = (abData: Uint8Array, bSlot = 0) => ({ name: 'XfrBlock' as const, bSlot, bBWI: 0, wLevelParameter: 0, abData });

/**
 * True when `p` is still pending once every timer has fired and every promise has settled: an
 * answer that never comes, proven without waiting on the wall clock. Needs `vi.useFakeTimers()`
 * from the start of the test, so that a late answer on any timer would be run too.
 */
async function stillPending(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await vi.runAllTimersAsync();
  return !settled;
}

async function rejectionName(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).name;
  }
  return 'resolved';
}

describe('faults', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('time-extension: N frames with bmCommandStatus 2 and the multiplier, then the answer', async () => {
    const { reader, s } = await powered();
    reader.injectFault({ kind: 'time-extension', count: 2, multiplier: 5, command: 'XfrBlock', intervalMs: 0 });
    const seq = await s.sendCommand(xfr(challenge));
    for (let i = 0; i < 2; i++) {
      const te = await s.receiveResponse();
      expect(te.name).toBe('DataBlock');
      expect(te.bSeq).toBe(seq);
      expect(te.bStatus).toBe(0x80);
      expect(te.bError).toBe(5);
      expect(te.abData.length).toBe(0);
    }
    const r = await s.receiveResponse();
    expect(r.bStatus).toBe(0);
    expect(r.abData.length).toBe(10);
    expect(reader.stats.timeExtensions).toBe(2);
  });

  it('wtx at TPDU level: the card sends S(WTX request), then its I-block after S(WTX response)', async () => {
    const { reader, s } = await powered({ preset: 'castles-ezccid' });
    await s.command({ name: 'SetParameters', bSlot: 0, bProtocolNum: 1, abData: fromHex('11 10 00 45 00 FE 00') });
    reader.injectFault({ kind: 'wtx', multiplier: 3 });
    const r = await s.command(xfr(encodeT1Block({ kind: 'I', nad: 0, ns: 0, more: false, inf: challenge }, 'lrc')));
    const wtx = decodeT1Block(r.abData, 'lrc');
    expect(wtx).toMatchObject({ kind: 'S', type: 'WTX', response: false });
    expect(toHex((wtx as { inf: Uint8Array }).inf)).toBe('03');
    const r2 = await s.command(xfr(encodeT1Block({ kind: 'S', nad: 0, type: 'WTX', response: true, inf: Uint8Array.of(3) }, 'lrc')));
    const i = decodeT1Block(r2.abData, 'lrc');
    expect(i.kind).toBe('I');
    expect((i as { inf: Uint8Array }).inf.length).toBe(10);
  });

  it('wtx at APDU level: the reader answers it and sends the host a time extension', async () => {
    const { reader, s } = await powered({ preset: 'inmax-dwr18-hpc' });
    reader.injectFault({ kind: 'wtx', multiplier: 4 });
    const seq = await s.sendCommand(xfr(challenge));
    const te = await s.receiveResponse();
    expect(te.bSeq).toBe(seq);
    expect(te.bStatus).toBe(0x80);
    expect(te.bError).toBe(4);
    const r = await s.receiveResponse();
    expect(toHex(r.abData.subarray(-2))).toBe('90 00');
  });

  it('card-removal: NotifySlotChange, then "ICC absent" answers', async () => {
    const { reader, s } = await powered();
    reader.injectFault({ kind: 'card-removal', command: 'XfrBlock' });
    const r = await s.command(xfr(challenge));
    expect(r.bStatus).toBe(0x42);
    expect(r.bError).toBe(CCID_ERROR.ICC_MUTE);
    const note = decodeNotification(await s.interrupt());
    expect(note.name === 'NotifySlotChange' && note.slots[0]).toEqual({ present: false, changed: true });
    const st = await s.command({ name: 'GetSlotStatus', bSlot: 0 });
    expect(st.bStatus).toBe(0x02);
    const on = await s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 0 });
    expect(on.bStatus).toBe(0x42);
    expect(reader.cardIn(0)).toBeNull();
  });

  it('card-insertion: NotifySlotChange present + changed, then the card can be powered', async () => {
    const reader = createVirtualReader({ initialNotification: false });
    const s = await RawCcidSession.open(reader);
    expect((await s.command({ name: 'GetSlotStatus', bSlot: 0 })).bStatus).toBe(0x02);
    reader.injectFault({ kind: 'card-insertion', card: createHcaLikeCard(), command: 'GetSlotStatus' });
    expect((await s.command({ name: 'GetSlotStatus', bSlot: 0 })).bStatus).toBe(0x01);
    expect(toHex(await s.interrupt())).toBe('50 03');
    expect((await s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 0 })).bStatus).toBe(0);
  });

  it('removeCard / insertCard act at once', async () => {
    const reader = createVirtualReader({ card: createHcaLikeCard() });
    const s = await RawCcidSession.open(reader);
    expect(toHex(await s.interrupt())).toBe('50 03');
    const card = reader.removeCard();
    expect(toHex(await s.interrupt())).toBe('50 02');
    reader.insertCard(card!);
    expect(toHex(await s.interrupt())).toBe('50 03');
  });

  it('unplug mid-transfer: the pending read rejects NotFoundError, the backend fires disconnect', async () => {
    const { reader, s } = await powered();
    const usb = new VirtualUsb({ devices: [reader] });
    const gone: UsbDeviceLike[] = [];
    usb.addEventListener('disconnect', (e) => gone.push(e.device));
    reader.injectFault({ kind: 'unplug', command: 'XfrBlock' });
    const pending = s.receive();
    await s.sendCommand(xfr(challenge));
    expect(await rejectionName(pending)).toBe('NotFoundError');
    expect(gone).toEqual([reader]);
    expect(await rejectionName(s.send(new Uint8Array(10)))).toBe('NotFoundError');
    expect(await usb.getDevices()).toEqual([]);
  });

  it('stall (bulk-IN): reads stall until clearHalt, then the answer comes', async () => {
    const { reader, s } = await powered();
    reader.injectFault({ kind: 'stall' });
    const seq = await s.sendCommand({ name: 'GetSlotStatus', bSlot: 0 });
    expect((await s.receive()).status).toBe('stall');
    expect((await s.receive()).status).toBe('stall');
    await reader.clearHalt('in', 2);
    const r = await s.receiveResponse();
    expect(r.bSeq).toBe(seq);
  });

  it('stall with dropAnswer loses the answer; stall on bulk-OUT refuses the write until clearHalt', async () => {
    vi.useFakeTimers();
    const { reader, s } = await powered();
    reader.injectFault({ kind: 'stall', dropAnswer: true });
    await s.sendCommand({ name: 'GetSlotStatus', bSlot: 0 });
    expect((await s.receive()).status).toBe('stall');
    await reader.clearHalt('in', 2);
    expect(await stillPending(s.receive())).toBe(true);
    reader.injectFault({ kind: 'stall', endpoint: 'out' });
    const w = await s.send(encodeCommand({ name: 'GetSlotStatus', bSlot: 0, bSeq: 50 }));
    expect(w.status).toBe('stall');
    await reader.clearHalt('out', 1);
    const w2 = await s.send(encodeCommand({ name: 'GetSlotStatus', bSlot: 0, bSeq: 51 }));
    expect(w2.status).toBe('ok');
  });

  it('stale-seq: an old answer comes first', async () => {
    const { reader, s } = await powered();
    const first = await s.command({ name: 'GetSlotStatus', bSlot: 0 });
    reader.injectFault({ kind: 'stale-seq' });
    const seq = await s.sendCommand({ name: 'GetSlotStatus', bSlot: 0 });
    const stale = await s.receiveResponse();
    expect(stale.bSeq).toBe(first.bSeq);
    expect(stale.bSeq).not.toBe(seq);
    expect((await s.receiveResponse()).bSeq).toBe(seq);
  });

  it('hardware-error: interrupt HardwareError and bError HW_ERROR', async () => {
    const { reader, s } = await powered();
    reader.injectFault({ kind: 'hardware-error', command: 'XfrBlock' });
    const seq = await s.sendCommand(xfr(challenge));
    const r = await s.receiveResponse();
    expect(r.bStatus).toBe(0x40);
    expect(r.bError).toBe(CCID_ERROR.HW_ERROR);
    expect(decodeNotification(await s.interrupt())).toEqual({ name: 'HardwareError', bSlot: 0, bSeq: seq, bHardwareErrorCode: 1 });
  });

  it('garbage: a malformed frame before the answer (or instead of it)', async () => {
    vi.useFakeTimers();
    const { reader, s } = await powered();
    reader.injectFault({ kind: 'garbage', bytes: fromHex('01 02 03') });
    const seq = await s.sendCommand({ name: 'GetSlotStatus', bSlot: 0 });
    const junk = await s.receiveFrame();
    expect(toHex(junk)).toBe('01 02 03');
    let code = '';
    try {
      decodeResponse(junk);
    } catch (e) {
      code = isWebCcidError(e) ? e.code : 'other';
    }
    expect(code).toBe('ccid/malformed-frame');
    expect((await s.receiveResponse()).bSeq).toBe(seq);
    reader.injectFault({ kind: 'garbage', replace: true });
    await s.sendCommand({ name: 'GetSlotStatus', bSlot: 0 });
    expect((await s.receiveFrame()).length).toBe(5);
    expect(await stillPending(s.receive())).toBe(true);
  });

  it('wrong-length: dwLength does not match the data', async () => {
    const { reader, s } = await powered();
    reader.injectFault({ kind: 'wrong-length', delta: 3, command: 'XfrBlock' });
    await s.sendCommand(xfr(challenge));
    const f = await s.receiveFrame();
    expect(f[1]).toBe(10 + 3);
    expect(f.length).toBe(20);
    expect(() => decodeResponse(f)).toThrow(expect.objectContaining({ code: 'ccid/length-mismatch' }));
  });

  it('transfer-error: the next transfer rejects NetworkError', async () => {
    const { reader, s } = await powered();
    reader.injectFault({ kind: 'transfer-error', direction: 'out' });
    expect(await rejectionName(s.send(encodeCommand({ name: 'GetSlotStatus', bSlot: 0, bSeq: 1 })))).toBe('NetworkError');
    reader.injectFault({ kind: 'transfer-error' });
    await s.send(encodeCommand({ name: 'GetSlotStatus', bSlot: 0, bSeq: 2 }));
    expect(await rejectionName(s.receive())).toBe('NetworkError');
  });

  it('mute, then ABORT (control + PC_to_RDR_Abort): CMD_ABORTED for the muted command, SlotStatus for the Abort', async () => {
    vi.useFakeTimers();
    const { reader, s } = await powered();
    reader.injectFault({ kind: 'mute', command: 'XfrBlock' });
    const seq = await s.sendCommand(xfr(challenge));
    const read = s.receive();
    expect(await stillPending(read)).toBe(true);
    // Meanwhile the slot is busy.
    const busySeq = await s.sendCommand({ name: 'GetSlotStatus', bSlot: 0 });
    const busy = decodeResponse(bytesOf((await read).data));
    expect(busy.bSeq).toBe(busySeq);
    expect(busy.bError).toBe(CCID_ERROR.CMD_SLOT_BUSY);
    // Abort: bulk message first (no answer yet), then the control request.
    const abortSeq = await s.sendCommand({ name: 'Abort', bSlot: 0 });
    const next = s.receive();
    expect(await stillPending(next)).toBe(true);
    await s.abortControl(0, abortSeq);
    const aborted = decodeResponse(bytesOf((await next).data));
    expect(aborted.bSeq).toBe(seq);
    expect(aborted.name).toBe('DataBlock');
    expect(aborted.bStatus).toBe(0x40);
    expect(aborted.bError).toBe(CCID_ERROR.CMD_ABORTED);
    const slotStatus = await s.receiveResponse();
    expect(slotStatus.bSeq).toBe(abortSeq);
    expect(slotStatus.name).toBe('SlotStatus');
    expect(slotStatus.bStatus).toBe(0);
    // The slot works again.
    const ok = await s.command(xfr(challenge));
    expect(ok.bStatus).toBe(0);
  });

  it('mute without answerOnAbort: only the Abort is answered; commands between the two halves get CMD_ABORTED', async () => {
    const { reader, s } = await powered();
    reader.injectFault({ kind: 'mute', answerOnAbort: false });
    await s.sendCommand(xfr(challenge));
    await s.abortControl(0, 77);
    const between = await s.command({ name: 'GetSlotStatus', bSlot: 0 });
    expect(between.bError).toBe(CCID_ERROR.CMD_ABORTED);
    const r = await s.command({ name: 'Abort', bSlot: 0, bSeq: 77 });
    expect(r.name).toBe('SlotStatus');
    expect(r.bSeq).toBe(77);
    expect(r.bStatus).toBe(0);
  });

  it('one-shot, times, persistent, filters and remove()', async () => {
    const { reader, s } = await powered();
    const h = reader.injectFault({ kind: 'hardware-error', times: 2, command: 'GetSlotStatus' });
    expect((await s.command({ name: 'IccPowerOff', bSlot: 0 })).bError).toBe(0);
    expect((await s.command({ name: 'GetSlotStatus', bSlot: 0 })).bError).toBe(CCID_ERROR.HW_ERROR);
    expect((await s.command({ name: 'GetSlotStatus', bSlot: 0 })).bError).toBe(CCID_ERROR.HW_ERROR);
    expect((await s.command({ name: 'GetSlotStatus', bSlot: 0 })).bError).toBe(0);
    expect(h.fired).toBe(2);
    expect(h.active).toBe(false);
    const p = reader.injectFault({ kind: 'hardware-error', persistent: true, slot: 0 });
    for (let i = 0; i < 3; i++) expect((await s.command({ name: 'GetSlotStatus', bSlot: 0 })).bError).toBe(CCID_ERROR.HW_ERROR);
    p.remove();
    expect((await s.command({ name: 'GetSlotStatus', bSlot: 0 })).bError).toBe(0);
    reader.injectFault({ kind: 'hardware-error', slot: 1 });
    expect((await s.command({ name: 'GetSlotStatus', bSlot: 0 })).bError).toBe(0);
    reader.clearFaults();
  });
});

describe('slots', () => {
  it('multi-slot reader: per-slot cards, answers routed by bSlot, one busy slot at a time (bMaxCCIDBusySlots 1)', async () => {
    const reader = createVirtualReader({ preset: 'gemcore-sim-pro', cards: [createHcaLikeCard(), createT0Card()], initialNotification: false });
    expect(reader.slotCount).toBe(2);
    const s = await RawCcidSession.open(reader);
    const on0 = await s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 0 });
    const on1 = await s.command({ name: 'IccPowerOn', bSlot: 1, bPowerSelect: 0 });
    expect(on0.bSlot).toBe(0);
    expect(on1.bSlot).toBe(1);
    expect(on0.abData[1]).toBe(0xf9);
    expect(on1.abData[1]).toBe(0x95);
    reader.injectFault({ kind: 'mute', slot: 0, command: 'XfrBlock' });
    await s.sendCommand(xfr(challenge, 0));
    const r = await s.command({ name: 'GetSlotStatus', bSlot: 1 });
    expect(r.bError).toBe(CCID_ERROR.CMD_SLOT_BUSY);
  });

  it('bMaxCCIDBusySlots 8: another slot works while one is busy', async () => {
    const reader = createVirtualReader({ preset: 'sysmocom-octsim', cards: [createT0Card(), createT0Card()], initialNotification: false });
    expect(reader.slotCount).toBe(8);
    const s = await RawCcidSession.open(reader);
    reader.injectFault({ kind: 'mute', slot: 0 });
    await s.sendCommand({ name: 'GetSlotStatus', bSlot: 0 });
    const r = await s.command({ name: 'GetSlotStatus', bSlot: 1 });
    expect(r.bError).toBe(0);
    expect(r.bStatus).toBe(0x01);
    const empty = await s.command({ name: 'GetSlotStatus', bSlot: 5 });
    expect(empty.bStatus).toBe(0x02);
  });
});

describe('card-wire faults', () => {
  it('card-mute at TPDU level: ICC_MUTE; the T=1 card then answers the retransmission', async () => {
    const { reader, s } = await powered({ preset: 'castles-ezccid' });
    await s.command({ name: 'SetParameters', bSlot: 0, bProtocolNum: 1, abData: fromHex('11 10 00 45 00 FE 00') });
    reader.injectFault({ kind: 'card-mute' });
    expect((await s.command({ name: 'GetSlotStatus', bSlot: 0 })).bError).toBe(0); // waits for an XfrBlock
    const block = encodeT1Block({ kind: 'I', nad: 0, ns: 0, more: false, inf: challenge }, 'lrc');
    const m = await s.command(xfr(block));
    expect(m.bStatus).toBe(0x40);
    expect(m.bError).toBe(CCID_ERROR.ICC_MUTE);
    // R(N(R)=0): the host asks for the card's I-block (N(S)=0) that never arrived.
    const r = await s.command(xfr(encodeT1Block({ kind: 'R', nad: 0, nr: 0, error: 0 }, 'lrc')));
    const got = decodeT1Block(r.abData, 'lrc');
    expect(got.kind).toBe('I');
  });

  it('corrupt-block at TPDU level: bad EDC, R-block gets the block again', async () => {
    const { reader, s } = await powered({ preset: 'castles-ezccid' });
    await s.command({ name: 'SetParameters', bSlot: 0, bProtocolNum: 1, abData: fromHex('11 10 00 45 00 FE 00') });
    reader.injectFault({ kind: 'corrupt-block' });
    const r = await s.command(xfr(encodeT1Block({ kind: 'I', nad: 0, ns: 0, more: false, inf: challenge }, 'lrc')));
    expect(() => decodeT1Block(r.abData, 'lrc')).toThrow();
    const again = await s.command(xfr(encodeT1Block({ kind: 'R', nad: 0, nr: 0, error: 1 }, 'lrc')));
    const i = decodeT1Block(again.abData, 'lrc');
    expect(i.kind).toBe('I');
    expect((i as { inf: Uint8Array }).inf.length).toBe(10);
  });

  it('APDU level: the reader recovers from a lost or corrupt card block by itself', async () => {
    const { reader, s } = await powered({ preset: 'inmax-dwr18-hpc' });
    reader.injectFault({ kind: 'card-mute' });
    const a = await s.command(xfr(challenge));
    expect(toHex(a.abData.subarray(-2))).toBe('90 00');
    reader.injectFault({ kind: 'corrupt-block' });
    const b = await s.command(xfr(challenge));
    expect(toHex(b.abData.subarray(-2))).toBe('90 00');
  });

  it('card-mute on a T=0 card: ICC_MUTE at either level', async () => {
    const tpdu = await powered({ preset: 'castles-ezccid', card: createT0Card() });
    tpdu.reader.injectFault({ kind: 'card-mute' });
    expect((await tpdu.s.command(xfr(challenge))).bError).toBe(CCID_ERROR.ICC_MUTE);
    expect((await tpdu.s.command(xfr(challenge))).abData.length).toBe(10);
    const apdu = await powered({ preset: 'inmax-dwr18-hpc', card: createT0Card() });
    apdu.reader.injectFault({ kind: 'card-mute' });
    expect((await apdu.s.command(xfr(challenge))).bError).toBe(CCID_ERROR.ICC_MUTE);
  });
});
