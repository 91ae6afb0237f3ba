/**
 * OPT-IN, REAL HARDWARE: the Node backend against a physical USB reader with
 * a card in it. Runs only with WEBCCID_HARDWARE=1 (and, optionally,
 * WEBCCID_READER=VID:PID to pick the reader); never part of CI or coverage.
 *
 *   WEBCCID_HARDWARE=1 npx vitest run test/hardware.test.ts
 *
 * Linux: stop pcscd first (it holds CCID readers) and make sure your user
 * may open /dev/bus/usb (see docs/deployment.md).
 */
import { describe, expect, it } from 'vitest';
import { openNodeReader } from '../src/node/index.js';
import { toHex } from '../src/bytes.js';

const enabled = process.env['WEBCCID_HARDWARE'] === '1';
const wanted = process.env['WEBCCID_READER']?.split(':').map((h) => parseInt(h, 16));

describe.runIf(enabled)('real reader (WEBCCID_HARDWARE=1)', () => {
  it('opens the reader, powers the card, reads its ATR and selects the MF', async () => {
    const reader = await openNodeReader({
      ...(wanted?.[0] !== undefined ? { vendorId: wanted[0] } : {}),
      ...(wanted?.[1] !== undefined ? { productId: wanted[1] } : {}),
    });
    try {
      console.log(`reader ${reader.identity.productName ?? ''} level ${reader.descriptor.exchangeLevel}`);
      const card = await reader.connect(0);
      console.log(`ATR ${toHex(card.atr.bytes)} protocol ${card.protocol} ${Math.round(card.link.baud)} bit/s (${card.link.negotiation})`);
      expect(card.atr.bytes.length).toBeGreaterThan(1);
      const answer = await card.transmit(Uint8Array.of(0x00, 0xa4, 0x00, 0x00, 0x02, 0x3f, 0x00));
      console.log(`SELECT MF -> ${toHex(answer)}`);
      expect(answer.length).toBeGreaterThanOrEqual(2);
      await card.disconnect('unpower');
    } finally {
      await reader.close();
    }
  }, 60_000);
});
