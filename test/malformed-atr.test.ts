/**
 * A reader hands over the ATR the card sent, defects and all. Cards in the
 * public ATR list (pcsc-tools' smartcard_list.txt) send ATRs without the TCK
 * their T=1 requires, or with fewer historical bytes than T0 declares; pcsc-lite
 * connects to them (it reads only TS and the interface bytes). So must we:
 * `connect()` works and `connection.atr.defects` says what was wrong
 * (ATRs that cannot be used are refused by `parseAtr`: src/iso7816/atr.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { fromHex } from '../src/bytes.js';
import { createHcaLikeCard, createT0Card } from '../src/virtual/index.js';
import { sw, openStacksClosedAfterEach, SELECT_HCA } from './helpers/stack.js';

const stack = openStacksClosedAfterEach();

describe('connect() to cards whose ATR has defects', () => {
  const t1Rows: Array<[string, string, string[]]> = [
    ['NXP JCOP, TCK missing', '3B F8 13 00 00 81 31 FE 45 4A 4F 50 76 32 34 31 B7', ['tck-missing']],
    ['T=1, historical bytes and TCK missing', '3B FA 13 00 00 81 31 FE 54 A4 34 F5 03 23 31 91', ['historical-bytes-truncated', 'tck-missing']],
    ['T=1, two bytes after TCK', '3B FE 96 00 00 81 31 FE 45 80 31 80 66 40 90 A5 10 2E 03 83 01 90 00 6E 90 00', ['trailing-bytes']],
  ];
  it.each(t1Rows)('T=1 card (%s) through a TPDU reader: connected with T=1, APDUs work', async (_name, hex, defects) => {
    const s = await stack({ preset: 'castles-ezccid', card: createHcaLikeCard({ atr: fromHex(hex) }) });
    const c = await s.reader.connect(0);
    expect(c.protocol).toBe('t1');
    expect(c.atr.defects).toEqual(defects);
    expect(c.atr.bytes).toEqual(fromHex(hex));
    expect(sw(await c.transmit(SELECT_HCA))).toBe(0x9000);
  });

  it('T=0 offered first, T=1 second, no TA1 (3B 84 80 01 01 11 20 03 36 90 00): T=1 is selected by a PPS, APDUs work', async () => {
    // In negotiable mode the card runs its first protocol (TD1: T=0) until a PPS selects another,
    // even when the rate stays the default (ISO/IEC 7816-3 §9.1; libccid sends that PPS too).
    const hex = '3B 84 80 01 01 11 20 03 36 90 00';
    const s = await stack({ preset: 'castles-ezccid', card: createHcaLikeCard({ atr: fromHex(hex) }) });
    const c = await s.reader.connect(0);
    expect(c.protocol).toBe('t1');
    expect(c.atr.defects).toEqual(['trailing-bytes']);
    // PPSS FF, PPS0 = 01 (T=1, no PPS1), PCK = FE, in an XfrBlock (0x6F).
    expect(s.sent.some((f) => f[0] === 0x6f && f.length === 13 && f[10] === 0xff && f[11] === 0x01 && f[12] === 0xfe)).toBe(true);
    expect(sw(await c.transmit(SELECT_HCA))).toBe(0x9000);
  });

  const t0Rows: Array<[string, string]> = [
    ['13 historical bytes declared, none sent', '3B 6D 00 00'],
    ['10 declared, none sent', '3B BA 94 00 40 14'],
  ];
  it.each(t0Rows)('T=0 card (%s): connected with T=0, APDUs work', async (_name, hex) => {
    const s = await stack({ preset: 'castles-ezccid', card: createT0Card({ atr: fromHex(hex) }) });
    const c = await s.reader.connect(0);
    expect(c.protocol).toBe('t0');
    expect(c.atr.defects).toEqual(['historical-bytes-truncated']);
    expect(c.atr.historicalBytes).toEqual(new Uint8Array(0));
    expect(sw(await c.transmit(SELECT_HCA))).toBe(0x9000);
  });
});
