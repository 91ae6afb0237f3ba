import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../bytes.js';
import { AbortError, ProtocolError } from '../errors.js';
import { createHcaLikeCard, createT0Card, HCA_ATR } from '../virtual/card.js';
import { MemoryCardChannel } from './memory.js';
import type { CardChannel } from './channel.js';

describe('MemoryCardChannel', () => {
  it('is a CardChannel: parsed ATR, protocol from the ATR, no pinpad', () => {
    const channel: CardChannel = new MemoryCardChannel(createHcaLikeCard());
    expect(toHex(channel.atr.bytes)).toBe(toHex(HCA_ATR));
    expect(channel.protocol).toBe('t1');
    expect(channel.pinpad).toBeUndefined();
    expect(channel.verifyPinSecure).toBeUndefined();
    expect(new MemoryCardChannel(createT0Card()).protocol).toBe('t0');
    expect(new MemoryCardChannel(createHcaLikeCard(), { protocol: 't0' }).protocol).toBe('t0');
  });

  it('transmits APDUs to the card and returns data + SW', async () => {
    const channel = new MemoryCardChannel(createHcaLikeCard());
    const select = await channel.transmit(fromHex('00 A4 04 0C 08 D1 58 00 00 01 48 43 41'));
    expect(toHex(select)).toBe('90 00');
    const echo = await channel.transmit(fromHex('80 EE 00 00 03 01 02 03 00'));
    expect(toHex(echo)).toBe('01 02 03 90 00');
    expect(toHex(await channel.transmit(fromHex('00 CA 00 00 00')))).toBe('6D 00');
  });

  it('leaves the caller buffer alone and wipes its own copy after use', async () => {
    const seen: Uint8Array[] = [];
    const channel = new MemoryCardChannel({
      atr: HCA_ATR,
      transmit: (apdu) => {
        seen.push(apdu);
        return fromHex('90 00');
      },
    });
    const apdu = fromHex('00 20 00 81 08 31 32 33 34 35 36 FF FF');
    await channel.transmit(apdu);
    expect(toHex(apdu)).toBe('00 20 00 81 08 31 32 33 34 35 36 FF FF');
    expect(seen[0]).not.toBe(apdu);
    expect(seen[0]!.every((b) => b === 0)).toBe(true);
  });

  it('an aborted signal rejects with AbortError before the card sees anything', async () => {
    const card = createHcaLikeCard();
    const channel = new MemoryCardChannel(card);
    const controller = new AbortController();
    controller.abort();
    await expect(channel.transmit(fromHex('00 84 00 00 08'), { signal: controller.signal })).rejects.toBeInstanceOf(AbortError);
    expect(card.apduCount).toBe(0);
  });

  it('a card with a malformed ATR is refused (protocol/bad-atr)', () => {
    expect(() => new MemoryCardChannel({ atr: fromHex('3B'), transmit: () => fromHex('90 00') })).toThrow(ProtocolError);
  });
});
