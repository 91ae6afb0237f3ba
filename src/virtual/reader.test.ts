import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { bytesOf, concatBytes, fromHex, readU32LE, toHex } from '../bytes.js';
import { decodeResponse, encodeCommand, decodeNotification, CCID_ERROR } from '../ccid/messages.js';
import { parseCcidClassDescriptor } from '../ccid/descriptor.js';
import { findCcidInterface, parseConfigurationDescriptor } from '../usb/config-descriptor.js';
import { encodeApdu } from '../iso7816/apdu.js';
import { decodeT1Block, encodeT1Block } from '../iso7816/t1-block.js';
import type { T1Block } from '../iso7816/t1.js';
import { createHcaLikeCard, createT0Card, HCA_ATR, HCA_LIKE_LAYOUT, T0_CARD_ATR, VIRTUAL_TEST_INS } from './card.js';
import { RawCcidSession } from './raw-session.js';
import { createVirtualReader, type VirtualReaderOptions } from './reader/index.js';
import { T0CardEngine } from './t0-card.js';

const L = HCA_LIKE_LAYOUT;

async function session(options: VirtualReaderOptions) {
  const reader = createVirtualReader(options);
  const s = await RawCcidSession.open(reader);
  return { reader, s };
}

function iBlock(ns: 0 | 1, inf: Uint8Array, more = false): Uint8Array {
  return encodeT1Block({ kind: 'I', nad: 0, ns, more, inf }, 'lrc');
}

/** Header bytes of a raw XfrBlock, built by hand (not with encodeCommand). */
function rawXfr(seq: number, data: Uint8Array, wLevel = 0, slot = 0): Uint8Array {
  const f = new Uint8Array(10 + data.length);
  f[0] = 0x6f;
  f[1] = data.length & 0xff;
  f[2] = (data.length >> 8) & 0xff;
  f[5] = slot;
  f[6] = seq;
  f[8] = wLevel & 0xff;
  f[9] = wLevel >> 8;
  f.set(data, 10);
  return f;
}

describe('descriptors and class requests', () => {
  it('answers GET_DESCRIPTOR with a configuration holding the 54-byte class descriptor', async () => {
    const { reader, s } = await session({ preset: 'castles-ezccid' });
    const head = await s.getDescriptor(2, 0, 9);
    expect(head.status).toBe('ok');
    const total = bytesOf(head.data)[2]! | (bytesOf(head.data)[3]! << 8);
    const whole = bytesOf((await s.getDescriptor(2, 0, total)).data);
    expect(whole.length).toBe(total);
    const info = findCcidInterface(parseConfigurationDescriptor(whole));
    expect(info.classDescriptor.length).toBe(54);
    const d = parseCcidClassDescriptor(info.classDescriptor);
    expect(d.exchangeLevel).toBe('tpdu');
    expect(d.dwDefaultClock).toBe(3580);
    expect(d.dwMaxDataRate).toBe(115200);
    expect(info.bulkIn.endpointNumber).toBe(2);
    expect(info.bulkOut.endpointNumber).toBe(1);
    expect(info.interruptIn?.endpointNumber).toBe(3);
    expect(toHex(info.classDescriptor)).toBe(toHex(reader.classDescriptor));
  });

  it('device descriptor and strings', async () => {
    const { s } = await session({ preset: 'inmax-dwr18-hpc' });
    const dev = bytesOf((await s.getDescriptor(1, 0, 18)).data);
    expect(dev.length).toBe(18);
    expect(dev[8]! | (dev[9]! << 8)).toBe(0x1403);
    expect(dev[10]! | (dev[11]! << 8)).toBe(0x750d);
    const product = bytesOf((await s.getDescriptor(3, 2, 255)).data);
    const text = String.fromCharCode(...Array.from({ length: (product.length - 2) / 2 }, (_, i) => product[2 + 2 * i]!));
    expect(text).toBe('DWR18 HPC');
    expect((await s.getDescriptor(7, 0, 8)).status).toBe('stall');
  });

  it('places the class descriptor after the endpoints on request (buggy readers)', async () => {
    const { s } = await session({ classDescriptorPlacement: 'after-endpoints' });
    const whole = bytesOf((await s.getDescriptor(2, 0, 512)).data);
    expect(whole.length).toBe(9 + 9 + 7 * 3 + 54);
    expect(whole[whole.length - 54]).toBe(0x36);
    expect(findCcidInterface(parseConfigurationDescriptor(whole)).classDescriptor.length).toBe(54);
  });

  it('GET_CLOCK_FREQUENCIES and GET_DATA_RATES return the tables, and stall without one', async () => {
    const { s } = await session({ preset: 'castles-ezccid' });
    const clocks = bytesOf((await s.controlIn(2, 256)).data);
    expect(readU32LE(clocks, 0)).toBe(3580);
    const rates = bytesOf((await s.controlIn(3, 1024)).data);
    expect(rates.length).toBe(15 * 4);
    expect(readU32LE(rates, 56)).toBe(115200);
    const ideal = await session({});
    expect((await ideal.s.controlIn(3, 1024)).status).toBe('stall');
  });
});

describe('TPDU level, T=1 card', () => {
  it('powers on, answers the ATR, takes SetParameters and runs T=1 blocks', async () => {
    const { reader, s } = await session({ preset: 'castles-ezccid', card: createHcaLikeCard() });
    const note = decodeNotification(await s.interrupt());
    expect(note).toEqual({ name: 'NotifySlotChange', slots: [{ present: true, changed: true }, { present: false, changed: false }, { present: false, changed: false }, { present: false, changed: false }] });

    const st = await s.command({ name: 'GetSlotStatus', bSlot: 0 });
    expect(st.bStatus).toBe(0x01);
    const on = await s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 1 });
    expect(on.name).toBe('DataBlock');
    expect(on.bStatus).toBe(0);
    expect(toHex(on.abData)).toBe(toHex(HCA_ATR));

    // Without SetParameters the reader is still at T=0 framing: the T=1 card stays mute.
    const select = encodeApdu({ cla: 0, ins: 0xa4, p1: 4, p2: 0x0c, data: L.aid });
    const mute = await s.command({ name: 'XfrBlock', bSlot: 0, bBWI: 0, wLevelParameter: 0, abData: iBlock(0, select) });
    expect(mute.bStatus).toBe(0x40);
    expect(mute.bError).toBe(CCID_ERROR.ICC_MUTE);

    // SetParameters T=1 (Fi/Di default, IFSC 254, LRC) built by hand.
    const params = fromHex('11 10 00 45 00 FE 00');
    const set = await s.command({ name: 'SetParameters', bSlot: 0, bProtocolNum: 1, abData: params });
    expect(set.name).toBe('Parameters');
    expect(set.bStatus).toBe(0);
    expect(toHex(set.abData)).toBe(toHex(params));

    await s.send(rawXfr(s.seq, iBlock(0, select)));
    s.seq++;
    const r = decodeResponse(await s.receiveFrame());
    expect(r.name).toBe('DataBlock');
    const block = decodeT1Block(r.abData, 'lrc') as Extract<T1Block, { kind: 'I' }>;
    expect(block.kind).toBe('I');
    expect(toHex(block.inf)).toBe('90 00');
    expect(reader.stats.wireBytes).toBeGreaterThan(0);
  });

  it('PPS through XfrBlock switches the rate; SetParameters with a rate the card did not accept makes it mute', async () => {
    const { reader, s } = await session({ preset: 'castles-ezccid', card: createHcaLikeCard() });
    await s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 0 });
    const pps = fromHex('FF 11 18 F6');
    const r = await s.command({ name: 'XfrBlock', bSlot: 0, bBWI: 0, wLevelParameter: 0, abData: pps });
    expect(toHex(r.abData)).toBe('FF 11 18 F6');
    expect(reader.slotInfo().cardRate).toEqual({ fiIndex: 1, diIndex: 8 });
    expect(reader.slotInfo().readerRate).toEqual({ fiIndex: 1, diIndex: 8 });
    const ok = await s.command({ name: 'SetParameters', bSlot: 0, bProtocolNum: 1, abData: fromHex('18 10 00 45 00 FE 00') });
    expect(ok.bStatus).toBe(0);
    const before = reader.stats.wireSeconds;
    const x = await s.command({ name: 'XfrBlock', bSlot: 0, bBWI: 0, wLevelParameter: 0, abData: iBlock(0, fromHex('00 84 00 00 08')) });
    expect(x.abData.length).toBe(4 + 10);
    const fast = reader.stats.wireSeconds - before;
    // 9 + 14 characters at 3.58 MHz, 31 clocks / etu, 12 etu each.
    expect(fast).toBeCloseTo((23 * 12 * 31) / 3_580_000, 9);

    // Back to the default rate on the reader only: the card no longer understands it.
    await s.command({ name: 'SetParameters', bSlot: 0, bProtocolNum: 1, abData: fromHex('11 10 00 45 00 FE 00') });
    const m = await s.command({ name: 'XfrBlock', bSlot: 0, bBWI: 0, wLevelParameter: 0, abData: iBlock(1, fromHex('00 84 00 00 08')) });
    expect(m.bError).toBe(CCID_ERROR.ICC_MUTE);
  });

  it('refuses a SetParameters rate outside its data-rate table (bError 10)', async () => {
    const { s } = await session({ preset: 'castles-ezccid', card: createHcaLikeCard() });
    await s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 0 });
    // Fi 512 Di 32 at 3.58 MHz = 223750 bps > 115200.
    const r = await s.command({ name: 'SetParameters', bSlot: 0, bProtocolNum: 1, abData: fromHex('96 10 00 45 00 FE 00') });
    expect(r.bStatus).toBe(0x40);
    expect(r.bError).toBe(10);
  });

  it('auto-IFSD readers send S(IFS) themselves', async () => {
    const { reader, s } = await session({ preset: 'castles-ezccid', descriptor: { dwFeatures: 0x000104b2 }, card: createHcaLikeCard() });
    await s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 0 });
    expect(reader.slotInfo().cardIfsd).toBe(252);
    expect(reader.slotInfo().protocol).toBe(1);
  });
});

describe('TPDU level, T=0 card', () => {
  it('case 4 as case 3 + 61xx, GET RESPONSE, 6Cxx on a wrong P3', async () => {
    const { s } = await session({ preset: 'castles-ezccid', card: createT0Card() });
    const on = await s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 0 });
    expect(toHex(on.abData)).toBe(toHex(T0_CARD_ATR));
    const x = (tpdu: string) => s.command({ name: 'XfrBlock', bSlot: 0, bBWI: 0, wLevelParameter: 0, abData: fromHex(tpdu) });
    const sel = await x(`00 A4 04 00 08 ${toHex(L.aid)}`);
    expect(toHex(sel.abData).startsWith('61')).toBe(true);
    const len = sel.abData[1]!;
    const fci = await x(`00 C0 00 00 ${len.toString(16)}`);
    expect(fci.abData[0]).toBe(0x6f);
    expect(toHex(fci.abData.subarray(-2))).toBe('90 00');
    // READ BINARY EF 0001 (31 bytes) with P3 = 0x40: 6C1F.
    await x('00 A4 02 0C 02 00 01');
    expect(toHex((await x('00 B0 00 00 40')).abData)).toBe('6C 20');
    const data = await x('00 B0 00 00 20');
    expect(data.abData.length).toBe(0x22);
    // Case 1 VERIFY status: 63C3.
    expect(toHex((await x('00 20 00 81 00')).abData)).toBe('63 C3');
  });
});

describe('short APDU level', () => {
  it('runs APDUs itself (T=1 with the card, IFSD negotiated) and reads a 2 KB file', async () => {
    const { reader, s } = await session({ preset: 'inmax-dwr18-hpc', card: createHcaLikeCard() });
    await s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 0 });
    expect(reader.slotInfo().cardIfsd).toBe(254);
    const apdu = async (hex: string) =>
      (await s.command({ name: 'XfrBlock', bSlot: 0, bBWI: 0, wLevelParameter: 0, abData: fromHex(hex) })).abData;
    expect(toHex(await apdu(`00 A4 04 0C 08 ${toHex(L.aid)}`))).toBe('90 00');
    expect(toHex(await apdu('00 A4 02 0C 02 00 11'))).toBe('90 00');
    const parts: Uint8Array[] = [];
    for (let off = 0; ; off += 256) {
      const r = await apdu(`00 B0 ${toHex(Uint8Array.of(off >> 8, off & 0xff))} 00`);
      parts.push(r.subarray(0, -2));
      if (toHex(r.subarray(-2)) === '62 82') break;
      expect(toHex(r.subarray(-2))).toBe('90 00');
    }
    const whole = concatBytes(...parts);
    expect(whole.length).toBe(2100);
    expect(whole[0]).toBe(0x30);
    // Extended APDUs are refused at short APDU level.
    expect(toHex(await apdu('00 B0 00 00 00 08 00'))).toBe('67 00');
  });

  it('runs T=0 for a T=0 card (GET RESPONSE inside the reader)', async () => {
    const { s } = await session({ preset: 'inmax-dwr18-hpc', card: createT0Card() });
    await s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 0 });
    const r = await s.command({
      name: 'XfrBlock',
      bSlot: 0,
      bBWI: 0,
      wLevelParameter: 0,
      abData: encodeApdu({ cla: 0, ins: 0xa4, p1: 4, p2: 0, data: L.aid, le: 256 }),
    });
    expect(r.abData[0]).toBe(0x6f);
    expect(toHex(r.abData.subarray(-2))).toBe('90 00');
  });
});

describe('extended APDU level (CCID 1.10 §6.1.4 chaining)', () => {
  it('chains a long response (bChainParameter 1, 3, 2) and a long command (wLevelParameter 1, 3, 2)', async () => {
    const { s } = await session({ preset: 'omnikey-3121', card: createHcaLikeCard() });
    await s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 0 });
    const xfr = (data: Uint8Array, wLevelParameter = 0) => s.command({ name: 'XfrBlock', bSlot: 0, bBWI: 0, wLevelParameter, abData: data });
    // Generate 600 bytes: 261 + 261 + 80 (incl. SW).
    const first = await xfr(encodeApdu({ cla: 0x80, ins: VIRTUAL_TEST_INS, p1: 0x82, p2: 0x58, le: 65536 }));
    expect(first.name === 'DataBlock' && first.bChainParameter).toBe(0x01);
    expect(first.abData.length).toBe(261);
    const second = await xfr(new Uint8Array(0), 0x10);
    expect(second.name === 'DataBlock' && second.bChainParameter).toBe(0x03);
    const third = await xfr(new Uint8Array(0), 0x10);
    expect(third.name === 'DataBlock' && third.bChainParameter).toBe(0x02);
    const all = concatBytes(first.abData, second.abData, third.abData);
    expect(all.length).toBe(602);
    expect(all[300]).toBe(300 & 0xff);
    expect(toHex(all.subarray(-2))).toBe('90 00');

    // A 700-byte echo sent in three parts.
    const payload = Uint8Array.from({ length: 700 }, (_, i) => (i * 7) & 0xff);
    const cmd = encodeApdu({ cla: 0x80, ins: VIRTUAL_TEST_INS, p1: 0x01, p2: 0, data: payload, le: 65536 });
    const a = await xfr(cmd.subarray(0, 261), 0x01);
    expect(a.name === 'DataBlock' && a.bChainParameter).toBe(0x10);
    expect(a.abData.length).toBe(0);
    const b = await xfr(cmd.subarray(261, 522), 0x03);
    expect(b.name === 'DataBlock' && b.bChainParameter).toBe(0x10);
    const c = await xfr(cmd.subarray(522), 0x02);
    let x = 0;
    for (const v of payload) x ^= v;
    expect(toHex(c.abData)).toBe(toHex(Uint8Array.of(700 >> 8, 700 & 0xff, x, 0x90, 0x00)));
  });

  it('T=0 card: a long command goes in ENVELOPEs', async () => {
    const { s } = await session({ preset: 'ideal', card: createT0Card() });
    await s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 0 });
    const payload = Uint8Array.from({ length: 600 }, (_, i) => i & 0xff);
    const r = await s.command({
      name: 'XfrBlock',
      bSlot: 0,
      bBWI: 0,
      wLevelParameter: 0,
      abData: encodeApdu({ cla: 0x80, ins: VIRTUAL_TEST_INS, p1: 0, p2: 0, data: payload, le: 65536 }),
    });
    expect(toHex(r.abData)).toBe(toHex(concatBytes(payload, Uint8Array.of(0x90, 0))));
  });
});

describe('robustness', () => {
  it('answers unknown message types with "command not supported" and a bad slot with bError 5', async () => {
    const { s } = await session({ card: createHcaLikeCard() });
    await s.send(fromHex('99 00 00 00 00 00 07 00 00 00'));
    const r = decodeResponse(await s.receiveFrame());
    expect(r.name).toBe('SlotStatus');
    expect(r.bSeq).toBe(7);
    expect(r.bStatus).toBe(0x41);
    expect(r.bError).toBe(0);
    const bad = await s.command({ name: 'GetSlotStatus', bSlot: 3 });
    expect(bad.bStatus).toBe(0x42);
    expect(bad.bError).toBe(5);
  });

  it('never throws on arbitrary bulk-OUT bytes; every answer it queues is a well-formed frame', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 40 }), async (bytes) => {
        const reader = createVirtualReader({ card: createHcaLikeCard() });
        const s = await RawCcidSession.open(reader);
        await s.interrupt();
        await s.send(bytes);
        await s.send(encodeCommand({ name: 'GetSlotStatus', bSlot: 0, bSeq: 0xaa }));
        for (let i = 0; i < 3; i++) {
          const f = await s.receiveFrame();
          const r = decodeResponse(f);
          if (r.bSeq === 0xaa && r.name === 'SlotStatus') return;
        }
        throw new Error('no answer to GetSlotStatus');
      }),
      { numRuns: 200 },
    );
  });
});

describe('other commands', () => {
  it('GetParameters / ResetParameters; an auto-PPS reader negotiates the rate at power-on', async () => {
    const { reader, s } = await session({ preset: 'ideal', card: createHcaLikeCard() });
    await s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 0 });
    expect(reader.slotInfo().cardRate).toEqual({ fiIndex: 1, diIndex: 8 });
    const p = await s.command({ name: 'GetParameters', bSlot: 0 });
    expect(p.name === 'Parameters' && p.bProtocolNum).toBe(1);
    expect(toHex(p.abData)).toBe('18 10 00 45 00 FE 00');
    const r = await s.command({ name: 'ResetParameters', bSlot: 0 });
    expect(r.abData[0]).toBe(0x18); // auto-parameters reader: back to what it negotiated
    const bad = await s.command({ name: 'SetParameters', bSlot: 0, bProtocolNum: 1, abData: fromHex('18 10 00') });
    expect(bad.bStatus).toBe(0x40);
    expect(bad.bError).toBe(1);
    const badProto = await s.command({ name: 'SetParameters', bSlot: 0, bProtocolNum: 2, abData: fromHex('18 10 00 45 00') });
    expect(badProto.bError).toBe(7);
  });

  it('TPDU reader: ResetParameters goes back to Fi/Di 1/1', async () => {
    const { reader, s } = await session({ preset: 'castles-ezccid', card: createHcaLikeCard() });
    await s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 0 });
    const p = await s.command({ name: 'GetParameters', bSlot: 0 });
    expect(p.name === 'Parameters' && p.bProtocolNum).toBe(0);
    expect(p.abData.length).toBe(5);
    await s.command({ name: 'SetParameters', bSlot: 0, bProtocolNum: 1, abData: fromHex('18 10 00 45 00 FE 00') });
    const r = await s.command({ name: 'ResetParameters', bSlot: 0 });
    expect(r.abData[0]).toBe(0x11);
    expect(reader.slotInfo().readerRate).toEqual({ fiIndex: 1, diIndex: 1 });
  });

  it('PPS after SetParameters already switched the reader is not understood by the card', async () => {
    const { s } = await session({ preset: 'castles-ezccid', card: createHcaLikeCard() });
    await s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 0 });
    await s.command({ name: 'SetParameters', bSlot: 0, bProtocolNum: 1, abData: fromHex('18 10 00 45 00 FE 00') });
    const r = await s.command({ name: 'XfrBlock', bSlot: 0, bBWI: 0, wLevelParameter: 0, abData: fromHex('FF 11 18 F6') });
    expect(r.bError).toBe(CCID_ERROR.ICC_MUTE);
  });

  it('a PPS asking more than the card offers is answered without PPS1 (defaults kept)', async () => {
    const { reader, s } = await session({ preset: 'castles-ezccid', card: createHcaLikeCard() });
    await s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 0 });
    const r = await s.command({ name: 'XfrBlock', bSlot: 0, bBWI: 0, wLevelParameter: 0, abData: fromHex('FF 11 19 F7') });
    expect(toHex(r.abData)).toBe('FF 01 FE');
    expect(reader.slotInfo().cardRate).toEqual({ fiIndex: 1, diIndex: 1 });
    expect(reader.slotInfo().cardProtocol).toBe(1);
  });

  it('SetDataRateAndClockFrequency picks supported values and reports them', async () => {
    const { reader, s } = await session({ preset: 'castles-ezccid', card: createHcaLikeCard() });
    await s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 0 });
    const r = await s.command({ name: 'SetDataRateAndClockFrequency', bSlot: 0, dwClockFrequency: 4000, dwDataRate: 100000 });
    expect(r.name).toBe('DataRateAndClockFrequency');
    if (r.name !== 'DataRateAndClockFrequency') return;
    expect(r.dwClockFrequency).toBe(3580);
    expect(r.dwDataRate).toBe(74400);
    expect(reader.slotInfo().dataRate).toBe(74400);
    const exact = await s.command({ name: 'SetDataRateAndClockFrequency', bSlot: 0, dwClockFrequency: 3580, dwDataRate: 115200 });
    expect(exact.name === 'DataRateAndClockFrequency' && exact.dwDataRate).toBe(115200);
  });

  it('IccClock, Escape, Mechanical, T0APDU, IccPowerOff, bad bPowerSelect', async () => {
    const { s } = await session({ preset: 'gemplus-gempc-pinpad', card: createHcaLikeCard(), onEscape: (d) => d.slice().reverse() });
    expect((await s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 4 })).bError).toBe(7);
    await s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 3 });
    const stop = await s.command({ name: 'IccClock', bSlot: 0, bClockCommand: 1 });
    expect(stop.name === 'SlotStatus' && stop.bClockStatus).toBe(1);
    const start = await s.command({ name: 'IccClock', bSlot: 0, bClockCommand: 0 });
    expect(start.name === 'SlotStatus' && start.bClockStatus).toBe(0);
    const esc = await s.command({ name: 'Escape', bSlot: 0, abData: fromHex('01 02') });
    expect(esc.name).toBe('Escape');
    expect(toHex(esc.abData)).toBe('02 01');
    expect((await s.command({ name: 'Mechanical', bSlot: 0, bFunction: 1 })).bError).toBe(CCID_ERROR.CMD_NOT_SUPPORTED);
    expect((await s.command({ name: 'T0APDU', bSlot: 0, bmChanges: 1, bClassGetResponse: 0, bClassEnvelope: 0 })).bError).toBe(
      CCID_ERROR.CMD_NOT_SUPPORTED,
    );
    const off = await s.command({ name: 'IccPowerOff', bSlot: 0 });
    expect(off.bStatus).toBe(0x01);
    const x = await s.command({ name: 'XfrBlock', bSlot: 0, bBWI: 0, wLevelParameter: 0, abData: fromHex('00 84 00 00 08') });
    expect(x.bStatus).toBe(0x41);
    expect(x.bError).toBe(CCID_ERROR.ICC_MUTE);
    const noEscape = await session({});
    expect((await noEscape.s.command({ name: 'Escape', bSlot: 0, abData: fromHex('01') })).bError).toBe(CCID_ERROR.CMD_NOT_SUPPORTED);
  });

  it('character level: declared, XfrBlock not supported', async () => {
    const { reader, s } = await session({ exchangeLevel: 'character', card: createHcaLikeCard() });
    expect(reader.exchangeLevel).toBe('character');
    await s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 0 });
    const r = await s.command({ name: 'XfrBlock', bSlot: 0, bBWI: 0, wLevelParameter: 5, abData: fromHex('00') });
    expect(r.bStatus).toBe(0x40);
    expect(r.bError).toBe(CCID_ERROR.CMD_NOT_SUPPORTED);
  });

  it('Secure: refused without bPINSupport, cancelled without a hook, the hook can talk to the card', async () => {
    const verify = fromHex('00 00 00 82 04 00 00 00 00 00 00 00 00 00 00 00 00 00 20 00 81 08 20 FF FF FF FF FF FF FF');
    const secure = { name: 'Secure' as const, bSlot: 0, bBWI: 0, wLevelParameter: 0, abData: verify };
    const plain = await session({ card: createHcaLikeCard() });
    await plain.s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 0 });
    expect((await plain.s.command(secure)).bError).toBe(CCID_ERROR.CMD_NOT_SUPPORTED);
    const pinpad = await session({ preset: 'gemplus-gempc-pinpad', card: createHcaLikeCard() });
    await pinpad.s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 0 });
    expect((await pinpad.s.command(secure)).bError).toBe(CCID_ERROR.PIN_CANCELLED);
    const seen: number[] = [];
    const hooked = await session({
      card: createHcaLikeCard(),
      pinpad: true,
      onSecure: (req) => {
        seen.push(req.abData[0]!);
        req.transmit(encodeApdu({ cla: 0, ins: 0xa4, p1: 4, p2: 0x0c, data: L.aid }));
        return { response: req.transmit(fromHex('00 20 00 81 06 31 32 33 34 35 36')) };
      },
    });
    await hooked.s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 0 });
    const r = await hooked.s.command(secure);
    expect(toHex(r.abData)).toBe('90 00');
    expect(seen).toEqual([0]);
    const timeout = await session({ card: createHcaLikeCard(), pinpad: 1, onSecure: () => ({ error: 'timeout' }) });
    await timeout.s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 0 });
    expect((await timeout.s.command(secure)).bError).toBe(CCID_ERROR.PIN_TIMEOUT);
  });

  it('a message longer than dwMaxCCIDMessageLength is refused (bError 1)', async () => {
    const { s } = await session({ preset: 'castles-ezccid', card: createHcaLikeCard() });
    await s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 0 });
    const r = await s.command({ name: 'XfrBlock', bSlot: 0, bBWI: 0, wLevelParameter: 0, abData: new Uint8Array(262) });
    expect(r.bStatus).toBe(0x40);
    expect(r.bError).toBe(1);
  });
});

describe('time model', () => {
  it('counts wire time at the negotiated rate: reading 2 KB is ~12x faster at TA1=18 than at the default', async () => {
    const read = async (pps: boolean) => {
      const { reader, s } = await session({ preset: 'castles-ezccid', card: createHcaLikeCard() });
      await s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 0 });
      if (pps) await s.command({ name: 'XfrBlock', bSlot: 0, bBWI: 0, wLevelParameter: 0, abData: fromHex('FF 11 18 F6') });
      await s.command({ name: 'SetParameters', bSlot: 0, bProtocolNum: 1, abData: fromHex(pps ? '18 10 00 45 00 FE 00' : '11 10 00 45 00 FE 00') });
      reader.resetStats();
      let ns: 0 | 1 = 0;
      const send = async (apdu: Uint8Array) => {
        const r = await s.command({ name: 'XfrBlock', bSlot: 0, bBWI: 0, wLevelParameter: 0, abData: iBlock(ns, apdu) });
        ns = (ns ^ 1) as 0 | 1;
        return r;
      };
      await send(encodeApdu({ cla: 0, ins: 0xa4, p1: 4, p2: 0x0c, data: L.aid }));
      await send(fromHex('00 A4 02 0C 02 00 11'));
      for (let off = 0; off < 2100; off += 32) await send(encodeApdu({ cla: 0, ins: 0xb0, p1: off >> 8, p2: off & 0xff, le: 28 }));
      return reader.stats;
    };
    const slow = await read(false);
    const fast = await read(true);
    expect(slow.wireBytes).toBe(fast.wireBytes);
    expect(slow.wireSeconds / fast.wireSeconds).toBeCloseTo(12, 5);
    expect(fast.modelledSeconds).toBeGreaterThan(fast.wireSeconds - 1e-12);
    expect(fast.apdus).toBe(2 + 66);
  });

  it('timeScale 1 sleeps for the modelled wire time', async () => {
    const { reader, s } = await session({ preset: 'castles-ezccid', card: createHcaLikeCard(), timeScale: 1 });
    await s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 0 });
    await s.command({ name: 'SetParameters', bSlot: 0, bProtocolNum: 1, abData: fromHex('11 10 00 45 00 FE 00') });
    reader.resetStats();
    // 200-byte answer; the card's IFSD is still 32, so 9 + 36 characters at 9624 bps: 56.1 ms on the wire.
    const wireMs = ((45 * 12 * 372) / 3_580_000) * 1000;
    vi.useFakeTimers();
    try {
      let answered = false;
      const done = s
        .command({ name: 'XfrBlock', bSlot: 0, bBWI: 0, wLevelParameter: 0, abData: iBlock(0, fromHex('80 EE 80 C8 C8')) })
        .then(() => (answered = true));
      // On a fake clock: no answer 1 ms before the wire time is over, the answer once it is.
      await vi.advanceTimersByTimeAsync(Math.floor(wireMs) - 1);
      expect(answered).toBe(false);
      await vi.advanceTimersByTimeAsync(2);
      expect(answered).toBe(true);
      await done;
    } finally {
      vi.useRealTimers();
    }
    expect(reader.stats.wireBytes).toBe(9 + 36);
    expect(reader.stats.wireSeconds * 1000).toBeCloseTo(wireMs, 6);
  });
});

describe('properties', () => {
  it('any XfrBlock payload at any level, for either card, gets exactly one well-formed answer', async () => {
    const presets = ['castles-ezccid', 'inmax-dwr18-hpc', 'omnikey-3121', 'ideal'] as const;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...presets),
        fc.boolean(),
        fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 4 }),
        fc.constantFrom(0, 1, 2, 3, 0x10),
        async (preset, t0, payloads, wLevel) => {
          const { s } = await session({ preset, card: t0 ? createT0Card() : createHcaLikeCard(), initialNotification: false });
          await s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 0 });
          for (const p of payloads) {
            const data = p.subarray(0, 261);
            const r = await s.command({ name: 'XfrBlock', bSlot: 0, bBWI: 0, wLevelParameter: wLevel, abData: data });
            expect(r.name).toBe('DataBlock');
            expect(r.bSeq).toBe((s.seq - 1) & 0xff);
          }
          // The slot still answers.
          const st = await s.command({ name: 'GetSlotStatus', bSlot: 0 });
          expect(st.name).toBe('SlotStatus');
        },
      ),
      { numRuns: 150 },
    );
  });

  it('the T=0 card engine answers any TPDU with null or at least a status word', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 270 }), { maxLength: 5 }), (tpdus) => {
        const e = new T0CardEngine(createT0Card());
        for (const t of tpdus) {
          const r = e.exchange(t);
          if (r !== null) expect(r.response.length).toBeGreaterThanOrEqual(2);
        }
      }),
      { numRuns: 300 },
    );
  });
});
