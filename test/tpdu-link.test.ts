/**
 * The seam between the exchange levels (src/ccid/connection.ts, `establish`): a TPDU-level
 * reader goes through our PPS and T=0 / T=1 host (src/ccid/tpdu-link.ts, loaded with a dynamic
 * import at connect), an APDU-level reader gets the whole APDU in one XfrBlock and none of it.
 * What each must see on the wire comes from the specs: CCID rev 1.10 §6.1.4 (XfrBlock carries a
 * TPDU or a T=1 block at TPDU level, the APDU at APDU level), ISO/IEC 7816-3 §9 (PPS), §11.6.2
 * (S(IFS request): NAD 00, PCB C1, LEN 01, INF IFSD, LRC), §12.2 (T=0: a case-4 command goes out
 * without Le and its answer is fetched by GET RESPONSE after 61xx).
 *
 * That the TPDU link is a chunk apart, and loaded only for a TPDU-level reader, is checked by
 * test/bundle-size.test.ts (the bundler's metafile) and test/module-load-failure.test.ts (a
 * failed load breaks a TPDU reader's connect and no APDU-level reader's).
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../src/bytes.js';
import { AbortError } from '../src/errors.js';
import { PC_to_RDR_IccPowerOn, PC_to_RDR_SetParameters, PC_to_RDR_XfrBlock } from '../src/ccid/messages.js';
import { createHcaLikeCard, createT0Card } from '../src/virtual/index.js';
import type { VirtualReaderPresetName } from '../src/virtual/index.js';
import { loadTpduLink } from '../src/ccid/tpdu-loader.js';
import { loadTpduLink as loadTpduLinkStatically } from '../src/ccid/tpdu-loader-static.js';
import { data, echoApdu, pattern, sw, openStacksClosedAfterEach, SELECT_HCA } from './helpers/stack.js';

const stack = openStacksClosedAfterEach();

const xfrData = (frames: Uint8Array[]) => frames.filter((f) => f[0] === PC_to_RDR_XfrBlock).map((f) => toHex(f.subarray(10)));
const lrc = (bytes: number[]) => bytes.reduce((a, b) => a ^ b, 0);

describe('TPDU-level reader: our PPS and T=0 / T=1 host', () => {
  it('Castles EZ100PU, T=1 card: PPS, SetParameters, S(IFS request) for dwMaxIFSD, then T=1 blocks with chaining', async () => {
    const { reader, sent } = await stack({ preset: 'castles-ez100pu', card: createHcaLikeCard() });
    expect(reader.descriptor.exchangeLevel).toBe('tpdu');
    const c = await reader.connect(0);
    expect(sent.map((f) => f[0])).toEqual([PC_to_RDR_IccPowerOn, PC_to_RDR_XfrBlock, PC_to_RDR_SetParameters, PC_to_RDR_XfrBlock]);
    expect(sent[1]![10]).toBe(0xff); // PPSS
    const ifsd = reader.descriptor.dwMaxIFSD;
    expect(xfrData(sent.slice(3))).toEqual([toHex(Uint8Array.of(0x00, 0xc1, 0x01, ifsd, lrc([0xc1, 0x01, ifsd])))]);
    expect(c.t1Sizes).toEqual({ ifsc: 254, ifsd });

    const before = sent.length;
    expect(sw(await c.transmit(SELECT_HCA))).toBe(0x9000);
    // One I-block: NAD 00, PCB 00 (N(S) 0, no chaining), LEN, the APDU, LRC.
    const block = [0x00, 0x00, SELECT_HCA.length, ...SELECT_HCA];
    expect(xfrData(sent.slice(before))).toEqual([toHex(Uint8Array.of(...block, lrc(block)))]);

    // 300 data bytes: the command (307 bytes) takes two I-blocks of at most IFSC 254.
    const echo = await c.transmit(echoApdu(pattern(300, 1), 0));
    expect(sw(echo)).toBe(0x9000);
    expect(toHex(data(echo))).toBe(toHex(pattern(300, 1)));
  });

  it('T=0 card: a case-4 command goes out without Le, the answer comes by GET RESPONSE', async () => {
    const { reader, sent } = await stack({ preset: 'castles-ezccid', card: createT0Card() });
    const c = await reader.connect(0);
    expect(c.protocol).toBe('t0');
    expect(c.t1Sizes).toBeUndefined();
    const before = sent.length;
    const apdu = echoApdu(pattern(100, 2), 256);
    const r = await c.transmit(apdu);
    expect(sw(r)).toBe(0x9000);
    expect(toHex(data(r))).toBe(toHex(pattern(100, 2)));
    const tpdus = xfrData(sent.slice(before));
    expect(tpdus[0]).toBe(toHex(apdu.subarray(0, apdu.length - 1)));
    // GET RESPONSE (INS C0, P1 P2 00 00) for the 100 bytes 61xx announced.
    expect(tpdus.at(-1)!.slice(3)).toBe(toHex(Uint8Array.of(0xc0, 0x00, 0x00, 100)));
  });
});

const APDU_READERS: Array<{ preset: VirtualReaderPresetName; level: string }> = [
  { preset: 'inmax-dwr18-hpc', level: 'short-apdu' },
  { preset: 'omnikey-3121', level: 'extended-apdu' },
];

describe.each(APDU_READERS)('$level reader ($preset): the whole APDU in one XfrBlock', ({ preset, level }) => {
  it.each([
    { protocol: 't1', card: () => createHcaLikeCard() },
    { protocol: 't0', card: () => createT0Card() },
  ])('$protocol card: no PPS or S-block from us, the APDU as it is', async ({ protocol, card }) => {
    const { reader, sent } = await stack({ preset, card: card() });
    expect(reader.descriptor.exchangeLevel).toBe(level);
    const c = await reader.connect(0);
    expect(c.protocol).toBe(protocol);
    expect(xfrData(sent)).toEqual([]);
    expect(c.t1Sizes).toBeUndefined();
    const apdu = echoApdu(pattern(200, 3), 256);
    const before = sent.length;
    const r = await c.transmit(apdu);
    expect(toHex(data(r))).toBe(toHex(pattern(200, 3)));
    expect(xfrData(sent.slice(before))).toEqual([toHex(apdu)]);
  });
});

describe('abort and unplug while connecting', () => {
  it.each<VirtualReaderPresetName | 'castles-ez100pu'>(['castles-ez100pu', 'inmax-dwr18-hpc'])(
    '%s: an abort right after connect() is AbortError, and the next connect works',
    async (preset) => {
      const { reader, sent } = await stack({ preset, card: createHcaLikeCard() });
      const ac = new AbortController();
      const connecting = reader.connect(0, { signal: ac.signal });
      ac.abort();
      await expect(connecting).rejects.toBeInstanceOf(AbortError);
      // A TPDU reader aborted while its TPDU link was loading: no command went out.
      if (preset === 'castles-ez100pu') expect(sent).toEqual([]);
      const c = await reader.connect(0);
      expect(sw(await c.transmit(SELECT_HCA))).toBe(0x9000);
    },
  );

  it('an abort during the IFSD negotiation is AbortError (not swallowed as a refused S(IFS)), and the next connect works', async () => {
    const ac = new AbortController();
    const { reader } = await stack(
      { preset: 'castles-ez100pu', card: createHcaLikeCard() },
      {
        trace: (direction, frame) => {
          if (direction === 'out' && frame[0] === PC_to_RDR_XfrBlock && frame[11] === 0xc1) ac.abort();
        },
      },
    );
    await expect(reader.connect(0, { signal: ac.signal })).rejects.toBeInstanceOf(AbortError);
    expect(ac.signal.aborted).toBe(true);
    const c = await reader.connect(0);
    expect(c.t1Sizes).toEqual({ ifsc: 254, ifsd: 252 });
    expect(sw(await c.transmit(SELECT_HCA))).toBe(0x9000);
  });

  it('an unplug while the TPDU link loads is transport/disconnected', async () => {
    const { reader, device } = await stack({ preset: 'castles-ez100pu', card: createHcaLikeCard() });
    const connecting = reader.connect(0);
    device.unplug();
    await expect(connecting).rejects.toMatchObject({ code: 'transport/disconnected' });
  });
});

describe('the two loaders of the TPDU link', () => {
  it('the static one (the web app\'s, web/vite.config.ts) gives the same module as the dynamic import', async () => {
    const [lazy, linked] = await Promise.all([loadTpduLink(), loadTpduLinkStatically()]);
    expect(linked.TpduLink).toBe(lazy.TpduLink);
    expect(linked.exchangePps).toBe(lazy.exchangePps);
  });
});
