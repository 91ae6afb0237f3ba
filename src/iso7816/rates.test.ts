import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../bytes.js';
import { parseAtr, type Atr } from './atr.js';
import { baudRate, chooseRate, DI_TABLE, FI_TABLE, FMAX_TABLE } from './rates.js';

const HCA = parseAtr(fromHex('3B F9 18 00 00 81 31 FE 45 50 56 5F 4A 32 44 30 38 31 B6'));
const MOICA_OLD = parseAtr(fromHex('3B B8 13 00 81 31 FA 52 43 48 54 4D 4F 49 43 41 A5'));
const MOICA_NEW = parseAtr(fromHex('3B D8 96 00 81 B1 FE 45 1F 07 43 48 54 47 50 4B 49 4A DD'));

/** libccid's reader dumps (test/fixtures/ccid-readers/, see its README.md). */
const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/ccid-readers');

/** Clock (kHz), dwMaxDataRate and the GET_DATA_RATES list from a libccid `parse` dump. */
function readerFixture(name: string): { clockKHz: number; maxDataRate: number; dataRates: number[] } {
  const text = readFileSync(path.join(FIXTURES, name), 'utf8');
  const clock = /dwDefaultClock: ([\d.]+) MHz/.exec(text);
  const max = /dwMaxDataRate: (\d+) bps/.exec(text);
  if (!clock || !max) throw new Error(`fixture ${name} lacks clock / max data rate`);
  const dataRates = [...text.matchAll(/Support (\d+) bps/g)].map((m) => Number(m[1]));
  return { clockKHz: Math.round(Number(clock[1]) * 1000), maxDataRate: Number(max[1]), dataRates };
}

const EZCCID = readerFixture('CASTLES_EZCCID_Smart_Card_Reader.txt');
const INMAX = readerFixture('INMAX_DWR18_HC.txt');

describe('tables', () => {
  it('match ISO/IEC 7816-3 tables 7 and 8', () => {
    expect(FI_TABLE).toHaveLength(16);
    expect(FMAX_TABLE).toHaveLength(16);
    expect(DI_TABLE).toHaveLength(16);
    expect(FI_TABLE.map((v) => v ?? 0)).toEqual([372, 372, 558, 744, 1116, 1488, 1860, 0, 0, 512, 768, 1024, 1536, 2048, 0, 0]);
    expect(FMAX_TABLE.map((v) => (v ?? 0) / 1e6)).toEqual([4, 5, 6, 8, 12, 16, 20, 0, 0, 5, 7.5, 10, 15, 20, 0, 0]);
    expect(DI_TABLE.map((v) => v ?? 0)).toEqual([0, 1, 2, 4, 8, 16, 32, 64, 12, 20, 0, 0, 0, 0, 0, 0]);
  });

  it('etu and rate (ISO/IEC 7816-3: TA1=18 gives Fi 372, Di 12; 4 MHz, and fmax 5 MHz)', () => {
    expect(Math.floor(baudRate({ fi: 372, di: 12, fHz: 4e6 }))).toBe(129032);
    expect(Math.floor(baudRate({ fi: 372, di: 12, fHz: 5e6 }))).toBe(161290);
    expect(Math.floor(baudRate({ fi: 372, di: 1, fHz: 3.58e6 }))).toBe(9623);
  });
});

/** What chooseRate reads from an ATR. */
const ta1Of = (atr: Atr) => ({ ta1: atr.groups[0]?.ta, specificMode: atr.specificMode !== undefined });

describe('chooseRate', () => {
  it('reads the EZCCID fixture', () => {
    expect(EZCCID.clockKHz).toBe(3580);
    expect(EZCCID.maxDataRate).toBe(115200);
    expect(EZCCID.dataRates).toHaveLength(15);
    expect(EZCCID.dataRates).toContain(111600);
  });

  it('HCA on the Castles EZCCID: TA1 itself, 115483 bit/s matches the listed 115200 (0.25 %)', () => {
    expect(chooseRate({ ...ta1Of(HCA), ...EZCCID })).toEqual({
      fiIndex: 1,
      diIndex: 8,
      fi: 372,
      di: 12,
      baud: 115483,
      readerRate: 115200,
    });
  });

  it("with libccid's +-2 bit/s matching the EZCCID gets nothing better than the default", () => {
    // 115483 vs 115200, 76989 vs nothing, 38494 vs 38400, 19247 vs 19200: all miss by more than 2.
    expect(chooseRate({ ...ta1Of(HCA), ...EZCCID, tolerance: 2 / 115_200 })).toBeUndefined();
  });

  it('falls back to a slower Di with the same Fi when the reader lacks the rate', () => {
    const without115200 = EZCCID.dataRates.filter((r) => r !== 115200);
    // Di 12 -> 115483: not listed; Di 8 -> 76989: not listed (74400 is 3.4 % off); Di 4 -> 38494 ~ 38400.
    expect(chooseRate({ ...ta1Of(HCA), ...EZCCID, dataRates: without115200 })).toEqual({
      fiIndex: 1,
      diIndex: 3,
      fi: 372,
      di: 4,
      baud: 38494,
      readerRate: 38400,
    });
  });

  it('respects dwMaxDataRate without a list', () => {
    expect(chooseRate({ ...ta1Of(HCA), clockKHz: 3580, maxDataRate: 80_000 })).toMatchObject({ di: 8, baud: 76989 });
    expect(chooseRate({ ...ta1Of(HCA), clockKHz: 4000, maxDataRate: 344_086 })).toMatchObject({ di: 12, baud: 129032 });
    expect(chooseRate({ ...ta1Of(HCA), ...EZCCID, dataRates: undefined })).toMatchObject({ di: 12 });
    expect(chooseRate({ ...ta1Of(HCA), clockKHz: 3580, maxDataRate: 115_200, tolerance: 0 })).toMatchObject({ di: 8 });
  });

  it('old MOICA (TA1 13) on the EZCCID: Di 4 -> 38400', () => {
    expect(chooseRate({ ...ta1Of(MOICA_OLD), ...EZCCID })).toMatchObject({ fiIndex: 1, diIndex: 3, readerRate: 38400 });
  });

  it('new MOICA (TA1 96, Fi 512 Di 32) on the EZCCID: Di 16 -> 111600', () => {
    expect(chooseRate({ ...ta1Of(MOICA_NEW), ...EZCCID })).toEqual({
      fiIndex: 9,
      diIndex: 5,
      fi: 512,
      di: 16,
      baud: 111875,
      readerRate: 111600,
    });
  });

  it('INMAX DWR18 HC: dwMaxDataRate 10752 forbids anything faster (that reader does PPS itself)', () => {
    expect(INMAX.maxDataRate).toBe(10752);
    expect(chooseRate({ ...ta1Of(HCA), ...INMAX })).toBeUndefined();
  });

  it('nothing to negotiate', () => {
    expect(chooseRate({ ...ta1Of(parseAtr(fromHex('3B 00'))), ...EZCCID })).toBeUndefined();
    expect(chooseRate({ ...ta1Of(parseAtr(fromHex('3B 10 11'))), ...EZCCID })).toBeUndefined();
    expect(chooseRate({ ...ta1Of(parseAtr(fromHex('3B 10 71'))), ...EZCCID })).toBeUndefined(); // RFU Fi
    expect(chooseRate({ ...ta1Of(HCA), clockKHz: 3580, maxDataRate: 0 })).toBeUndefined();
    expect(chooseRate({ ...ta1Of(HCA), clockKHz: 0, maxDataRate: 115200 })).toBeUndefined();
  });

  it("the reader's clock must not exceed the card's f(max)", () => {
    const atr = parseAtr(fromHex('3B 10 08')); // Fi 372 with f(max) 4 MHz, Di 12
    expect(chooseRate({ ...ta1Of(atr), clockKHz: 4000, maxDataRate: 200_000 })).toMatchObject({ fiIndex: 0, diIndex: 8 });
    expect(chooseRate({ ...ta1Of(atr), clockKHz: 4800, maxDataRate: 200_000 })).toBeUndefined();
  });

  it('specific mode (TA2): only the TA1 pair, no fallback', () => {
    const atr = parseAtr(Uint8Array.of(...fromHex('3B 90 18 11 81'), 0x18 ^ 0x90 ^ 0x11 ^ 0x81));
    expect(atr.specificMode).toBeDefined();
    expect(chooseRate({ ...ta1Of(atr), ...EZCCID })).toMatchObject({ diIndex: 8 });
    const without115200 = EZCCID.dataRates.filter((r) => r !== 115200);
    expect(chooseRate({ ...ta1Of(atr), ...EZCCID, dataRates: without115200 })).toBeUndefined();
  });
});
