/**
 * The whole driver through the virtual reader: every exchange level times
 * each protocol, T=1 chaining and IFS negotiation, WTX, time extensions,
 * T=0 61xx / 6Cxx, extended APDUs, PPS, multi-slot.
 */
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, concatBytes } from '../src/bytes.js';
import { ProtocolError } from '../src/errors.js';
import { PC_to_RDR_XfrBlock, RDR_to_PC_DataBlock } from '../src/ccid/messages.js';
import { createHcaLikeCard, createT0Card, fakeCertificate, HCA_LIKE_LAYOUT, VIRTUAL_READER_ENDPOINTS } from '../src/virtual/index.js';
import type { VirtualReaderPresetName } from '../src/virtual/index.js';
import { data, echoApdu, generateApdu, hcaAtrWithIfsc, pattern, sw, openStacksClosedAfterEach, SELECT_HCA } from './helpers/stack.js';

const SELECT_SIGNATURE_CERT = fromHex('00 A4 02 0C 02 00 11');

const stack = openStacksClosedAfterEach();

/** Reads the current EF in chunks of `chunk` bytes with READ BINARY until the card says it ended. */
async function readFile(transmit: (apdu: Uint8Array) => Promise<Uint8Array>, chunk: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (;;) {
    const le = Math.min(chunk, 256);
    const r = await transmit(Uint8Array.of(0x00, 0xb0, offset >> 8, offset & 0xff, le & 0xff));
    const status = sw(r);
    if (status === 0x6b00) break;
    expect([0x9000, 0x6282]).toContain(status);
    parts.push(data(r).slice());
    offset += data(r).length;
    if (status === 0x6282 || data(r).length < le) break;
  }
  return concatBytes(...parts);
}

const LEVELS: Array<{ preset: VirtualReaderPresetName; level: string }> = [
  { preset: 'castles-ezccid', level: 'tpdu' },
  { preset: 'inmax-dwr18-hpc', level: 'short-apdu' },
  { preset: 'omnikey-3121', level: 'extended-apdu' },
];

describe.each(LEVELS)('$level reader ($preset)', ({ preset, level }) => {
  it.each([
    { protocol: 't1', card: () => createHcaLikeCard() },
    { protocol: 't0', card: () => createT0Card() },
  ])('$protocol card: select, read a 2100-byte file, echo, challenge', async ({ protocol, card }) => {
    const { reader } = await stack({ preset, card: card() });
    expect(reader.descriptor.exchangeLevel).toBe(level);
    const c = await reader.connect(0);
    expect(c.protocol).toBe(protocol);
    expect(sw(await c.transmit(SELECT_HCA))).toBe(0x9000);
    expect(sw(await c.transmit(SELECT_SIGNATURE_CERT))).toBe(0x9000);
    const file = await readFile((a) => c.transmit(a), 256);
    expect(toHex(file)).toBe(toHex(fakeCertificate(2100, 11)));
    const echo = await c.transmit(echoApdu(pattern(200), 256));
    expect(sw(echo)).toBe(0x9000);
    expect(toHex(data(echo))).toBe(toHex(pattern(200)));
    const challenge = await c.transmit(fromHex('00 84 00 00 08'));
    expect(sw(challenge)).toBe(0x9000);
    expect(data(challenge).length).toBe(8);
  });
});

describe('PPS and parameters', () => {
  it('Castles EZCCID + HCA card: PPS to TA1=18 (Fi 372, Di 12), the fastest rate in the reader list', async () => {
    const { reader, sent } = await stack({ preset: 'castles-ezccid', card: createHcaLikeCard() });
    const c = await reader.connect(0);
    expect(c.link).toMatchObject({ fi: 372, di: 12, negotiation: 'pps' });
    expect(Math.round(c.link.baud)).toBe(115483);
    const pps = sent.find((f) => f[0] === PC_to_RDR_XfrBlock && f[10] === 0xff);
    expect(pps && toHex(pps.subarray(10))).toBe(toHex(fromHex('FF 11 18 F6')));
    // SetParameters (0x61) for T=1 carries bmFindexDindex 0x18.
    const setParams = sent.find((f) => f[0] === 0x61);
    expect(setParams?.[7]).toBe(1);
    expect(setParams?.[10]).toBe(0x18);
  });

  it('without a usable rate the card stays at the default and no PPS is sent', async () => {
    const { reader, sent } = await stack({ preset: 'castles-ezccid', card: createHcaLikeCard(), descriptor: { dwMaxDataRate: 9600 } });
    const c = await reader.connect(0);
    expect(c.link).toMatchObject({ fi: 372, di: 1, negotiation: 'default' });
    expect(sent.some((f) => f[0] === PC_to_RDR_XfrBlock && f[10] === 0xff)).toBe(false);
    expect(sw(await c.transmit(SELECT_HCA))).toBe(0x9000);
  });

  it('a failed PPS is not fatal: power cycle, default rate, the card works', async () => {
    const { reader, device } = await stack({ preset: 'castles-ezccid', card: createHcaLikeCard() });
    // The PPS is the first XfrBlock after the ATR: its answer arrives garbled.
    device.injectFault({ kind: 'garbage', replace: true, command: 'XfrBlock' });
    const c = await reader.connect(0);
    expect(c.link).toMatchObject({ fi: 372, di: 1, negotiation: 'pps-failed' });
    expect(sw(await c.transmit(SELECT_HCA))).toBe(0x9000);
  });

  it('connect with pps: false keeps the default rate and still works', async () => {
    const { reader } = await stack({ preset: 'castles-ezccid', card: createHcaLikeCard() });
    const c = await reader.connect(0, { pps: false });
    expect(c.link.di).toBe(1);
    expect(sw(await c.transmit(SELECT_HCA))).toBe(0x9000);
  });

  it('an auto-PPS APDU reader negotiates itself', async () => {
    const { reader } = await stack({ preset: 'omnikey-3121', card: createHcaLikeCard() });
    const c = await reader.connect(0);
    expect(c.link.negotiation).toBe('reader');
    expect(c.link.di).toBe(12);
  });

  it('refuses a protocol the caller does not accept, and leaves the card unpowered', async () => {
    const { reader } = await stack({ preset: 'castles-ezccid', card: createHcaLikeCard() });
    await expect(reader.connect(0, { preferredProtocols: ['t0'] })).rejects.toMatchObject({ code: 'protocol/no-common-protocol' });
    expect((await reader.status(0)).state).toBe('present');
  });
});

describe('T=1 at TPDU level', () => {
  it('negotiates IFSD up to dwMaxIFSD with S(IFS)', async () => {
    const { reader } = await stack({ preset: 'castles-ezccid', card: createHcaLikeCard() });
    const c = await reader.connect(0);
    expect(c.t1Sizes).toEqual({ ifsc: 254, ifsd: 252 });
  });

  it('chains both ways with a small IFSC (16) and IFSD (20)', async () => {
    const card = createHcaLikeCard({ atr: hcaAtrWithIfsc(16) });
    const { reader, sent } = await stack({ preset: 'castles-ezccid', card, descriptor: { dwMaxIFSD: 20 } });
    const c = await reader.connect(0);
    expect(c.t1Sizes).toEqual({ ifsc: 16, ifsd: 20 });
    const before = sent.length;
    const r = await c.transmit(echoApdu(pattern(200, 3), 256));
    expect(toHex(data(r))).toBe(toHex(pattern(200, 3)));
    expect(sw(r)).toBe(0x9000);
    // 206 command bytes in 16-byte blocks (13) + 202 answer bytes in 20-byte blocks (11), sharing one exchange.
    expect(sent.length - before).toBe(Math.ceil(206 / 16) + Math.ceil(202 / 20) - 1);
  });

  it('carries extended APDUs (T=1 needs no reader support for them)', async () => {
    const { reader } = await stack({ preset: 'castles-ezccid', card: createHcaLikeCard() });
    const c = await reader.connect(0);
    const r = await c.transmit(echoApdu(pattern(1000, 9), 1000));
    expect(sw(r)).toBe(0x9000);
    expect(toHex(data(r))).toBe(toHex(pattern(1000, 9)));
    const big = await c.transmit(generateApdu(3000, 65536));
    expect(data(big).length).toBe(3000);
  });

  it('answers S(WTX) and stretches the wait', async () => {
    const { reader, device, sent } = await stack({ preset: 'castles-ezccid', card: createHcaLikeCard() });
    const c = await reader.connect(0);
    device.injectFault({ kind: 'wtx', multiplier: 5 });
    const before = sent.length;
    expect(sw(await c.transmit(SELECT_HCA))).toBe(0x9000);
    const blocks = sent.slice(before).map((f) => f.subarray(10));
    // I-block, then S(WTX response) with the same multiplier.
    expect(toHex(blocks[1]!.subarray(0, 4))).toBe(toHex(fromHex('00 E3 01 05')));
  });
});

describe('T=0 at TPDU level', () => {
  it('61xx: a case-4 SELECT is completed with GET RESPONSE', async () => {
    const { reader, sent } = await stack({ preset: 'castles-ezccid', card: createT0Card() });
    const c = await reader.connect(0);
    const before = sent.length;
    const selectFci = concatBytes(Uint8Array.of(0x00, 0xa4, 0x04, 0x00, HCA_LIKE_LAYOUT.aid.length), HCA_LIKE_LAYOUT.aid, Uint8Array.of(0x00));
    const r = await c.transmit(selectFci);
    expect(sw(r)).toBe(0x9000);
    expect(r[0]).toBe(0x6f); // FCI template
    const tpdus = sent.slice(before).map((f) => toHex(f.subarray(10, 12)));
    expect(tpdus).toEqual(['00 A4', '00 C0']);
  });

  it('6Cxx: a wrong Le is resent with the length the card asked for', async () => {
    const { reader, sent } = await stack({ preset: 'castles-ezccid', card: createT0Card() });
    const c = await reader.connect(0);
    expect(sw(await c.transmit(fromHex('00 A4 00 0C 02 2F 02')))).toBe(0x9000);
    const before = sent.length;
    const r = await c.transmit(fromHex('00 B0 00 00 20')); // the serial number EF holds 8 bytes
    expect(toHex(data(r))).toBe(toHex(new TextEncoder().encode('VHCA0001')));
    const p3s = sent.slice(before).map((f) => f[14]);
    expect(p3s).toEqual([0x20, 0x08]);
  });

  it('refuses an extended APDU with a typed error', async () => {
    const { reader } = await stack({ preset: 'castles-ezccid', card: createT0Card() });
    const c = await reader.connect(0);
    await expect(c.transmit(echoApdu(pattern(300), 0))).rejects.toMatchObject({ code: 'protocol/apdu-too-long' });
    expect(sw(await c.transmit(SELECT_HCA))).toBe(0x9000);
  });
});

describe('APDU-level readers', () => {
  it('extended APDU level: chains a long APDU and a long answer with wLevelParameter', async () => {
    const { reader, sent } = await stack({
      preset: 'omnikey-3121',
      card: createHcaLikeCard(),
      descriptor: { dwMaxCCIDMessageLength: 271 },
    });
    const c = await reader.connect(0);
    const before = sent.length;
    const r = await c.transmit(echoApdu(pattern(1000, 5), 65536));
    expect(sw(r)).toBe(0x9000);
    expect(toHex(data(r))).toBe(toHex(pattern(1000, 5)));
    const levels = sent.slice(before).map((f) => f[8]! | (f[9]! << 8));
    // 1009-byte APDU in 261-byte pieces: begin, continue, continue, end; then the answer fetched with 0x10.
    expect(levels.slice(0, 4)).toEqual([0x01, 0x03, 0x03, 0x02]);
    expect(levels.slice(4).every((l) => l === 0x10)).toBe(true);
    expect(levels.length).toBeGreaterThan(4);
  });

  it('short APDU level: an extended APDU is refused before it is sent', async () => {
    const { reader, sent } = await stack({ preset: 'inmax-dwr18-hpc', card: createHcaLikeCard() });
    const c = await reader.connect(0);
    const before = sent.length;
    const e = await c.transmit(echoApdu(pattern(300), 300)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ProtocolError);
    expect((e as ProtocolError).code).toBe('protocol/apdu-too-long');
    expect(sent.length).toBe(before);
  });
});

describe('transport details', () => {
  it('a zero-length read after a full last packet is not an answer (the QEMU quirk)', async () => {
    const { reader } = await stack({ preset: 'omnikey-3121', card: createHcaLikeCard(), zeroLengthPacket: true });
    const c = await reader.connect(0);
    // 54 data bytes + 10 header bytes = one full 64-byte packet, then the reader's zero-length packet.
    for (let i = 0; i < 3; i++) {
      const r = await c.transmit(echoApdu(pattern(52, i), 256));
      expect(toHex(data(r))).toBe(toHex(pattern(52, i)));
    }
    // The last zero-length packet is read (and skipped) by the next command.
    expect(sw(await c.transmit(SELECT_HCA))).toBe(0x9000);
    expect(reader.transport.stats.zeroLengthReads).toBe(3);
  });

  it('reads are a whole number of packets and cover dwMaxCCIDMessageLength', async () => {
    const { reader } = await stack({ preset: 'castles-ezccid', card: createHcaLikeCard() });
    expect(reader.descriptor.dwMaxCCIDMessageLength).toBe(271);
    expect(reader.transport.readLength).toBe(320);
  });
});

describe('multi-slot reader', () => {
  it('routes answers by bSlot, with commands in flight on two slots at once', async () => {
    const { reader, device } = await stack({
      preset: 'sysmocom-octsim',
      cards: [createT0Card(), createT0Card({ challengeSeed: 7 }), null],
      busySlots: 2,
      latencyMs: 5,
      timeScale: 1,
    });
    expect(reader.slotCount).toBeGreaterThanOrEqual(2);
    const [a, b] = await Promise.all([reader.connect(0), reader.connect(1)]);

    // The bulk pipes as the reader sees them: each PC_to_RDR_XfrBlock it receives and each
    // RDR_to_PC_DataBlock it hands over, with bSlot (CCID 1.1 §6.1.4, §6.2.1), in order.
    const wire: Array<{ dir: 'command' | 'answer'; slot: number; otherSlotBusy?: boolean }> = [];
    const transferOut = device.transferOut.bind(device);
    const transferIn = device.transferIn.bind(device);
    device.transferOut = async (endpoint, bytes) => {
      const frame = new Uint8Array(bytes as ArrayBuffer);
      const result = await transferOut(endpoint, bytes);
      if (endpoint === VIRTUAL_READER_ENDPOINTS.bulkOut && frame[0] === PC_to_RDR_XfrBlock) {
        const slot = frame[5]!;
        // The reader's own view at the moment the command arrived: still working on the other slot?
        wire.push({ dir: 'command', slot, otherSlotBusy: device.slotInfo(1 - slot).busy });
      }
      return result;
    };
    device.transferIn = async (endpoint, length) => {
      const result = await transferIn(endpoint, length);
      const d = result.data;
      if (endpoint === VIRTUAL_READER_ENDPOINTS.bulkIn && d && d.byteLength >= 10 && d.getUint8(0) === RDR_to_PC_DataBlock) {
        wire.push({ dir: 'answer', slot: d.getUint8(5) });
      }
      return result;
    };

    const run = async (c: typeof a, seed: number) => {
      for (let i = 0; i < 5; i++) {
        const r = await c.transmit(echoApdu(pattern(50, seed + i), 256));
        expect(toHex(data(r))).toBe(toHex(pattern(50, seed + i)));
      }
    };
    await Promise.all([run(a, 1), run(b, 100)]);

    // A TPDU reader and T=0 cards: each echo is the command TPDU (answered 61 xx) and a GET RESPONSE
    // (ISO/IEC 7816-3 §10.3.3, 7816-4 §5.3.4): 10 commands and 10 answers per slot.
    for (const slot of [0, 1]) {
      expect(wire.filter((e) => e.slot === slot && e.dir === 'command')).toHaveLength(10);
      expect(wire.filter((e) => e.slot === slot && e.dir === 'answer')).toHaveLength(10);
    }
    // Overlap: a command for one slot went out while the other slot's command had not been
    // answered yet. A driver that serialised the slots (one command at a time on the reader)
    // would never do that.
    const open = new Set<number>();
    let overlapping = 0;
    for (const e of wire) {
      if (e.dir === 'answer') {
        open.delete(e.slot);
        continue;
      }
      if (open.has(1 - e.slot)) overlapping++;
      open.add(e.slot);
    }
    expect(overlapping).toBeGreaterThanOrEqual(5);
    // And the reader itself was busy with the other slot when such a command arrived.
    expect(wire.some((e) => e.dir === 'command' && e.otherSlotBusy)).toBe(true);

    expect((await reader.status(2)).state).toBe('absent');
    await expect(reader.connect(2)).rejects.toMatchObject({ code: 'ccid/card-absent' });
    // The reader answered every command it got, with no time extension, and the cards ran the 10 echoes.
    const stats = device.stats;
    expect(stats.answers).toBe(stats.commands);
    expect(stats.timeExtensions).toBe(0);
    expect(stats.apdus).toBe(10);
  });

  it('rejects a slot the reader does not have', async () => {
    const { reader } = await stack({ preset: 'castles-ezccid', card: createHcaLikeCard() });
    await expect(reader.connect(1)).rejects.toMatchObject({ code: 'ccid/bad-slot' });
  });
});

describe('pinpad and vendor-class readers', () => {
  it('decodes the pinpad preset as verify + modify', async () => {
    const { reader } = await stack({ preset: 'gemplus-gempc-pinpad', card: createHcaLikeCard() });
    expect(reader.descriptor.pinpad).toEqual({ verify: true, modify: true });
    const c = await reader.connect(0);
    expect(sw(await c.transmit(SELECT_HCA))).toBe(0x9000);
  });

  it('finds the CCID descriptor on a vendor-class (0xFF) interface, placed after the endpoints', async () => {
    const { reader } = await stack({
      preset: 'castles-ezccid',
      interfaceClass: 0xff,
      classDescriptorPlacement: 'after-endpoints',
      card: createHcaLikeCard(),
    });
    expect(reader.identity.interfaceClass).toBe(0xff);
    const c = await reader.connect(0);
    expect(sw(await c.transmit(SELECT_HCA))).toBe(0x9000);
  });
});

describe('transactions and disconnect', () => {
  it('startTransaction keeps other callers out until it ends', async () => {
    const { reader } = await stack({ preset: 'ideal', card: createHcaLikeCard(), latencyMs: 2, timeScale: 1 });
    const c = await reader.connect(0);
    const order: string[] = [];
    const tx = c.startTransaction(async (t) => {
      order.push('tx-start');
      await t.transmit(SELECT_HCA);
      await t.transmit(fromHex('00 84 00 00 08'));
      order.push('tx-end');
    });
    const other = c.transmit(fromHex('00 84 00 00 04')).then(() => order.push('other'));
    await Promise.all([tx, other]);
    expect(order).toEqual(['tx-start', 'tx-end', 'other']);
  });

  it('disconnect("unpower") powers the card off; the connection is then closed', async () => {
    const { reader } = await stack({ preset: 'ideal', card: createHcaLikeCard() });
    const c = await reader.connect(0);
    await c.disconnect('unpower');
    expect((await reader.status(0)).state).toBe('present');
    await expect(c.transmit(SELECT_HCA)).rejects.toMatchObject({ code: 'ccid/not-connected' });
    const again = await reader.connect(0);
    expect(sw(await again.transmit(SELECT_HCA))).toBe(0x9000);
  });

  it('close() waits for the exchange in flight', async () => {
    const { reader } = await stack({ preset: 'ideal', card: createHcaLikeCard(), latencyMs: 20, timeScale: 1 });
    const c = await reader.connect(0);
    const pending = c.transmit(SELECT_HCA);
    await reader.close();
    expect(sw(await pending)).toBe(0x9000);
    await expect(c.transmit(SELECT_HCA)).rejects.toMatchObject({ code: 'transport/closed' });
  });
});
