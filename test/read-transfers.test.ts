/**
 * USB transfers on the library's own read path: HcaCard.readCertificate (and the
 * text-file reads) through every virtual reader preset. An exchange whose answer
 * fits in one CCID message (and, at TPDU level with T=1, in one block of IFSD
 * bytes, ISO/IEC 7816-3 §11.4: data + SW1 SW2 ≤ IFSD) costs one bulk-out and one
 * bulk-in transfer (CCID 1.10 §5.1, §6.1.4). A READ BINARY with Le 256 on a reader
 * whose IFSD is 252 or 254 makes the card chain its 258-byte answer: two more
 * transfers (R-block, second I-block) per READ BINARY. The reads must size Le so
 * that this never happens, without needing more READ BINARY commands than the
 * block size forces.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HcaCard } from '../src/hca/index.js';
import { createVirtualHcaCard } from '../src/virtual/hca-card.js';
import { VIRTUAL_READER_PRESET_NAMES, type VirtualReaderPresetName } from '../src/virtual/index.js';
import { openStack, type Stack } from './helpers/stack.js';

let stacks: Stack[] = [];
afterEach(async () => {
  for (const s of stacks) await s.reader.close();
  stacks = [];
});

const PRESETS: Array<VirtualReaderPresetName | 'castles-ez100pu'> = [...VIRTUAL_READER_PRESET_NAMES, 'castles-ez100pu'];

describe.each(PRESETS)('%s', (preset) => {
  it('readCertificate: one bulk transfer each way per APDU, and no more READ BINARY commands than the block size needs; sign: no more transfers than the answer\'s blocks need', async () => {
    // The sysmocom reader runs T=0 only: the card then offers T=0 alone (ATR 3B 00).
    const t0Only = preset === 'sysmocom-octsim';
    const card = await createVirtualHcaCard({ pin: '620394', puk: '40518236', ...(t0Only ? { atr: Uint8Array.of(0x3b, 0x00) } : {}) });
    const stack = await openStack({ preset, card });
    stacks.push(stack);
    const connection = await stack.reader.connect(0);
    const hca = await HcaCard.open(connection);
    const d = stack.reader.descriptor;
    // Largest answer data one exchange can carry: the CCID message (10-byte header, SW1 SW2)
    // and, for our own T=1 engine, the IFSD minus SW1 SW2 minus nothing else (the I-block's INF).
    let perRead = Math.min(256, d.dwMaxCCIDMessageLength - 10 - 2);
    const t1 = connection.t1Sizes;
    if (d.exchangeLevel === 'tpdu' && connection.protocol === 't1') {
      expect(t1).toBeDefined();
      perRead = Math.min(perRead, t1!.ifsd - 2);
    }
    for (const index of [0, 1] as const) {
      stack.device.resetStats();
      const der = await hca.readCertificate(index);
      expect(der).toEqual(index === 0 ? card.certificates.ca : card.certificates.signature.der);
      const s = stack.device.stats;
      expect(s.transfersOut).toBe(s.apdus);
      expect(s.transfersIn).toBe(s.apdus);
      // SELECT of the EF, then the READ BINARY commands.
      expect(s.apdus).toBe(1 + Math.ceil(der.length / perRead));
    }

    // sign: MSE SET (one exchange), then PSO COMPUTE DIGITAL SIGNATURE whose 258-byte answer
    // (RSA-2048 signature + SW) the card must chain over blocks of IFSD bytes at TPDU level with
    // T=1 (one I-block and the host's R-block per block); otherwise it fits in one message.
    await hca.verifyPin('620394');
    stack.device.resetStats();
    await hca.sign(new TextEncoder().encode('transfers'));
    const s = stack.device.stats;
    // At TPDU level with T=0 a case 4 command is sent as case 3 and its answer fetched by GET
    // RESPONSE (ISO/IEC 7816-3 §12.2.4, 61xx): two exchanges of one message each.
    const tpdu = d.exchangeLevel === 'tpdu';
    const psoExchanges = tpdu && connection.protocol === 't1' ? Math.ceil(258 / t1!.ifsd) : tpdu ? 2 : Math.ceil(258 / (d.dwMaxCCIDMessageLength - 10));
    expect(s.transfersOut + s.transfersIn).toBe(2 + 2 * psoExchanges);
  });
});

