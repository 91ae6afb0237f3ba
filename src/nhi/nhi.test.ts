/**
 * The NHI card (健保卡) through the whole stack: the virtual NHI card in a virtual reader, our CCID
 * driver, `readNhiCard`. Expected bytes come from the public layout (docs/design.md §5.1) and
 * the Big5 standard's codes, not from our encoder.
 */
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex } from '../bytes.js';
import { isWebCcidError } from '../errors.js';
import { parseAtr } from '../iso7816/atr.js';
import { MemoryCardChannel } from '../card/memory.js';
import { openStack } from '../../test/helpers/stack.js';
import { createHcaLikeCard } from '../virtual/card.js';
import { encodeBig5 } from '../virtual/big5.js';
import { createVirtualNhiCard, NHI_ATR_PRESETS, NHI_CARD_ATRS, VIRTUAL_NHI_DEFAULTS } from '../virtual/nhi-card.js';
import { VIRTUAL_READER_PRESET_NAMES } from '../virtual/presets.js';
import { NHI_ATRS, NhiError, readNhiCard, rocDateToIso, parseNhiBasicData, decodeNhiName, isKnownNhiAtr } from './index.js';

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** Basic data built by hand from the public layout; the name as raw Big5 bytes. */
function handMade(nameBig5: Uint8Array, pad = 0x00): Uint8Array {
  const name = new Uint8Array(20).fill(pad);
  name.set(nameBig5);
  return concatBytes(ascii('000098765432'), name, ascii('B234567890'), ascii('0751231'), ascii('F'), ascii('1120301'));
}

describe('rocDateToIso', () => {
  it.each([
    ['0690101', '1980-01-01'],
    ['0010101', '1912-01-01'],
    ['1130229', '2024-02-29'], // 2024 is a leap year
    ['0891231', '2000-12-31'],
  ])('%s -> %s', (roc, iso) => expect(rocDateToIso(roc)).toBe(iso));

  it.each(['', '690101', '06901011', '0690a01', '０６９０１０１', '0000101', '0691301', '0690001', '0690100', '1120229', '0690431', ' 690101'])(
    'rejects %j with nhi/bad-date',
    (s) => {
      let error: unknown;
      try {
        rocDateToIso(s);
      } catch (e) {
        error = e;
      }
      expect(isWebCcidError(error, 'nhi/bad-date')).toBe(true);
    },
  );
});

describe('Big5 (the platform decoder, the virtual card encoder)', () => {
  it("TextDecoder('big5') exists here and decodes the standard codes of 王大明 (A4FD A46A A9FA)", () => {
    expect(new TextDecoder('big5').decode(fromHex('A4 FD A4 6A A9 FA'))).toBe('王大明');
  });

  it('the encoder gives the same standard codes, and round-trips names with rarer characters', () => {
    expect(toHex(encodeBig5('王大明'))).toBe('A4 FD A4 6A A9 FA');
    expect(toHex(encodeBig5('陳怡君'))).toBe('B3 AF A9 C9 A7 67');
    // 碁 is one of the ETEN extension characters (F9D6), in CP950 / WHATWG Big5 but not in Big5-1984.
    expect(toHex(encodeBig5('碁'))).toBe('F9 D6');
    for (const name of ['王大明', '陳怡君', '林碁鍇', '歐陽靜', 'Tom王']) expect(new TextDecoder('big5').decode(encodeBig5(name))).toBe(name);
  });

  it('堃 and 犇 have no Big5 code (the decoder maps nothing to them): the encoder says so', () => {
    for (const ch of ['堃', '犇']) {
      let error: unknown;
      try {
        encodeBig5(ch);
      } catch (e) {
        error = e;
      }
      expect(isWebCcidError(error, 'virtual/not-big5')).toBe(true);
    }
  });
});

describe('the public NHI ATRs', () => {
  it('both parse with the current ATR parser: T=1 only, IFSC 254, TCK correct', () => {
    for (const a of NHI_ATRS) {
      const atr = parseAtr(fromHex(a.hex));
      expect(atr.protocols).toEqual([1]);
      expect(atr.ifsc).toBe(254);
      expect(atr.tckValid).toBe(true);
      expect(isKnownNhiAtr(fromHex(a.hex))).toBe(true);
    }
    expect(String.fromCharCode(...parseAtr(NHI_CARD_ATRS.jcop).historicalBytes)).toBe('PVJCOP4SID');
  });
});

describe('readNhiCard through the virtual reader', () => {
  const names: Array<[string, 'nul' | 'space']> = [
    ['王大明', 'nul'],
    ['陳怡君', 'space'],
    ['林碁鍇', 'nul'],
  ];
  for (const atr of NHI_ATR_PRESETS) {
    for (const [name, namePadding] of names) {
      it(`ATR ${atr}: ${name} (${namePadding} padding)`, async () => {
        const card = createVirtualNhiCard({ atr, name, namePadding, birthDate: '1975-12-31', sex: 'F', issueDate: '2023-03-01' });
        const { reader } = await openStack({ preset: 'castles-ezccid', card });
        const connection = await reader.connect();
        expect(toHex(connection.atr.bytes)).toBe(toHex(NHI_CARD_ATRS[atr]));
        expect(connection.protocol).toBe('t1');
        const data = await readNhiCard(connection);
        expect(data).toEqual({
          cardNumber: VIRTUAL_NHI_DEFAULTS.cardNumber,
          name,
          idNumber: VIRTUAL_NHI_DEFAULTS.idNumber,
          birthDate: '1975-12-31',
          sex: 'F',
          issueDate: '2023-03-01',
        });
        await reader.close();
      });
    }
  }

  it.each(VIRTUAL_READER_PRESET_NAMES)('reader %s', async (preset) => {
    const { reader } = await openStack({ preset, card: createVirtualNhiCard() });
    const protocols = reader.descriptor.protocols;
    if (!protocols.includes(1)) {
      // T=0-only readers cannot talk to a T=1-only card.
      await expect(reader.connect()).rejects.toMatchObject({ code: 'protocol/no-common-protocol' });
    } else {
      expect((await readNhiCard(await reader.connect())).name).toBe('王大明');
    }
    await reader.close();
  });

  it('hand-made basic data (bytes from the public layout and Big5 codes) with NUL and space padding', async () => {
    for (const pad of [0x00, 0x20]) {
      const card = createVirtualNhiCard({ basicData: handMade(fromHex('B3 AF A9 C9 A7 67'), pad) });
      const { reader } = await openStack({ preset: 'omnikey-3121', card });
      expect(await readNhiCard(await reader.connect())).toEqual({
        cardNumber: '000098765432',
        name: '陳怡君',
        idNumber: 'B234567890',
        birthDate: '1986-12-31',
        sex: 'F',
        issueDate: '2023-03-01',
      });
      await reader.close();
    }
  });

  it('sends exactly the two public APDUs', async () => {
    const sent: string[] = [];
    const card = createVirtualNhiCard();
    const channel = new MemoryCardChannel({
      atr: NHI_CARD_ATRS.jcop,
      transmit: (apdu: Uint8Array) => {
        sent.push(toHex(apdu));
        return card.transmit(apdu);
      },
    });
    await readNhiCard(channel);
    expect(sent).toEqual(['00 A4 04 00 10 D1 58 00 00 01 00 00 00 00 00 00 00 00 00 11 00', '00 CA 11 00 02 00 00']);
  });

  it('a card that is not an NHI card: nhi/not-nhi-card with the SW (6A82)', async () => {
    const { reader } = await openStack({ preset: 'castles-ezccid', card: createHcaLikeCard() });
    const error = await readNhiCard(await reader.connect()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NhiError);
    expect(error).toMatchObject({ code: 'nhi/not-nhi-card', sw: 0x6a82 });
    await reader.close();
  });

  it('no card in the reader: the connection says ccid/card-absent; a card pulled before the read too', async () => {
    const { reader, device } = await openStack({ preset: 'castles-ezccid', card: null });
    await expect(reader.connect()).rejects.toMatchObject({ code: 'ccid/card-absent' });
    device.insertCard(createVirtualNhiCard());
    const connection = await reader.connect();
    device.removeCard();
    await expect(readNhiCard(connection)).rejects.toMatchObject({ code: 'ccid/card-absent' });
    await reader.close();
  });

  it('malformed basic data: nhi/bad-data (length, sex, date)', () => {
    const good = handMade(encodeBig5('王大明'));
    expect(parseNhiBasicData(good).name).toBe('王大明');
    const cases = [good.subarray(0, 56), concatBytes(good, Uint8Array.of(0)), Uint8Array.from(good).fill(0x58, 49, 50), Uint8Array.from(good).fill(0x39, 45, 47)];
    for (const data of cases) expect(() => parseNhiBasicData(data)).toThrow(expect.objectContaining({ code: 'nhi/bad-data' }));
  });

  it('the name stops at the first NUL', () => {
    expect(decodeNhiName(concatBytes(fromHex('A4 FD A4 6A'), Uint8Array.of(0, 0x41, 0x42), new Uint8Array(13)))).toBe('王大');
  });
});
