/**
 * The driver as a typical application uses it: open a reader, connect to the card, exchange
 * APDUs, disconnect, close. Bundled with tree shaking, this is the "driver core" whose size
 * `npm run bench` prints and test/bundle-size.test.ts bounds.
 */
import { CcidReader } from '../src/index.js';

export async function typicalUse(device: USBDevice, apdu: Uint8Array): Promise<Uint8Array> {
  const reader = await CcidReader.open(device);
  try {
    const card = await reader.connect(0);
    const answer = await card.transmit(apdu);
    await card.disconnect();
    return answer;
  } finally {
    await reader.close();
  }
}
