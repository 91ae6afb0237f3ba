/**
 * Answer-to-Reset parser (ISO/IEC 7816-3:2006 §8).
 *
 * Decisions:
 * - TS 0x3B = direct convention, 0x3F = inverse convention already decoded by the
 *   reader (the usual case), 0x03 = raw inverse bytes that the reader did not decode:
 *   every byte is then decoded (complement + bit reversal) and `bytes` holds the
 *   decoded ATR (starting 0x3F), `decodedFromRaw` is true.
 * - A reserved (RFU) Fi or Di in TA1 is not fatal by default: `fiIndex`/`diIndex`
 *   keep the raw nibbles, `ta1Reserved` is true and the rate fields (fi, di, fMaxHz)
 *   stay at their defaults (372, 1, 5 MHz), so nobody negotiates them. Pass
 *   `{ strict: true }` to reject such an ATR with `protocol/bad-atr` instead.
 * - A wrong TCK is not fatal (`tckValid: false`); the caller decides (libccid keeps it).
 * - TCK is expected when any TD announces a protocol other than T=0. An ATR offering
 *   only T=0 that still ends with one extra byte gets it taken as a TCK (some cards
 *   send one).
 * - Real cards send ATRs whose byte count disagrees with T0 after the interface bytes
 *   (the public ATR list, pcsc-tools' smartcard_list.txt, has dozens). pcsc-lite
 *   (atrhandler.c) reads only TS and the interface bytes, so such a card works under
 *   PC/SC; libccid's ATR_InitFromArray calls a missing TCK or missing historical bytes
 *   malformed but ignores bytes after the ATR. Here what is there is parsed and what
 *   was wrong is listed in `defects` (fatal only with `strict`):
 *   - `historical-bytes-truncated`: fewer historical bytes than T0 declares; every byte
 *     after the interface bytes is taken as a historical byte (no TCK);
 *   - `tck-missing`: a T other than 0 is announced but no byte is left for TCK
 *     (`tck` undefined, `tckValid: false`);
 *   - `trailing-bytes`: bytes after the ATR (after TCK, or after the historical
 *     bytes of a T=0-only ATR beyond the one byte taken as TCK); they stay in `bytes`.
 *   `tck-wrong` is listed too when TCK does not check.
 * - Refused with `protocol/bad-atr`: nothing to parse (empty, TS only), TS other than
 *   3B / 3F / 03, more than 33 bytes, and interface bytes cut short (a TD announcing
 *   bytes that are not there): then the protocols and their parameters are unknown.
 */
import { xorBytes } from '../bytes.js';
import { ProtocolError } from '../errors.js';
import { DI_TABLE, FI_TABLE, FMAX_TABLE } from './rates.js';

/** One interface-byte group: groups[0] holds TA1/TB1/TC1/TD1, and so on. */
export interface AtrInterfaceGroup {
  ta?: number;
  tb?: number;
  tc?: number;
  td?: number;
  /** T announced by this group's TD (low nibble of TD). */
  protocol?: number;
}

/** What was wrong with an ATR that could still be parsed (see the module comment). */
export type AtrDefect = 'historical-bytes-truncated' | 'tck-missing' | 'tck-wrong' | 'trailing-bytes';

/** Clock stop indicator of the first TA for T=15 (bits 8-7), by its value 0..3. */
export const CLOCK_STOPS = ['not-supported', 'low', 'high', 'no-preference'] as const;
export type ClockStop = (typeof CLOCK_STOPS)[number];

/** A decoded ATR. */
export interface Atr {
  /** The ATR in direct-convention bytes (decoded when the input was raw inverse, TS 0x03). */
  bytes: Uint8Array;
  convention: 'direct' | 'inverse';
  /** True when the input started 0x03 and was decoded here. */
  decodedFromRaw: boolean;
  groups: AtrInterfaceGroup[];
  /** Offered protocols in TD order, deduplicated, T=15 excluded; [0] when none. */
  protocols: number[];
  fi: number;
  di: number;
  /** Raw TA1 nibbles (1 / 1 without TA1). */
  fiIndex: number;
  diIndex: number;
  /** True when TA1 holds an RFU Fi or Di (rate fields then keep defaults). */
  ta1Reserved: boolean;
  fMaxHz: number;
  /** TC1 (N), 0 by default. 255 means minimum guard time. */
  extraGuardTime: number;
  /** From TA2: the card is in specific mode. */
  specificMode?: { protocol: number; implicit: boolean; canChange: boolean };
  /** T=1 only: first TAi (i >= 3) after a TD announcing T=1; default 32 (0xFF read as 254). */
  ifsc?: number;
  /** T=1 only: from the first TBi (i >= 3) for T=1; defaults 4 / 13. */
  bwi?: number;
  cwi?: number;
  /** T=1 only: first TCi (i >= 3) for T=1, bit 1: 1 = CRC. Default LRC. */
  edc?: 'lrc' | 'crc';
  /** T=0 only: TC2 (work waiting integer), default 10. */
  wi?: number;
  /** From the first TA for T=15 (i >= 3). */
  clockStop?: ClockStop;
  /** Class indicator (bits 6-1 of the first TA for T=15): supported classes. */
  classes?: Array<'A' | 'B' | 'C'>;
  historicalBytes: Uint8Array;
  tck?: number;
  /** XOR of T0..TCK is zero; false when a TCK is expected but missing; undefined when none is expected and none came. */
  tckValid: boolean | undefined;
  /** What was wrong but could be parsed around (empty for a well-formed ATR). */
  defects: AtrDefect[];
}

/** Longest ATR allowed: TS + 32 bytes. */
export const MAX_ATR_LENGTH = 33;

/** Inverse-convention byte decoding: complement then reverse the bit order. */
export function decodeInverseByte(b: number): number {
  let v = ~b & 0xff;
  let r = 0;
  for (let i = 0; i < 8; i++) {
    r = (r << 1) | (v & 1);
    v >>= 1;
  }
  return r;
}

const hexByte = (b: number): string => `0x${b.toString(16).padStart(2, '0')}`;

/**
 * Parses an ATR. Throws `ProtocolError('protocol/bad-atr')` when it is empty,
 * longer than 33 bytes, cut short in its interface bytes, or TS is not
 * 3B/3F/03; with `strict`, also when TA1 holds RFU values or `defects` would
 * not be empty (a wrong TCK aside).
 */
export function parseAtr(input: Uint8Array, opts?: { strict?: boolean }): Atr {
  const strict = opts?.strict;
  const n = input.length;
  if (n === 0) throw new ProtocolError('protocol/bad-atr', { length: 0 });
  if (n > MAX_ATR_LENGTH) throw new ProtocolError('protocol/bad-atr', { length: n, max: MAX_ATR_LENGTH });
  const ts = input[0]!;
  const decodedFromRaw = ts === 0x03;
  if (!decodedFromRaw && ts !== 0x3b && ts !== 0x3f) throw new ProtocolError('protocol/bad-atr', { ts: hexByte(ts) });
  const bytes = decodedFromRaw ? input.map(decodeInverseByte) : input.slice();
  if (n < 2) throw new ProtocolError('protocol/bad-atr', { truncatedIn: 'T0' });

  const t0 = bytes[1]!;
  let pos = 2;
  const groups: AtrInterfaceGroup[] = [];
  // At most 32 bytes after TS, so the loop ends: every round consumes a TD byte.
  for (let y = t0 >> 4; ; ) {
    const g: AtrInterfaceGroup = {};
    groups.push(g);
    // Y (the high nibble of T0 or TDi) announces TA, TB, TC, TD of the next group by bits 5, 6, 7, 8
    // (bits 0..3 of y here), and they come in that order.
    (['ta', 'tb', 'tc', 'td'] as const).forEach((key, i) => {
      if (!((y >> i) & 1)) return;
      if (pos >= n) throw new ProtocolError('protocol/bad-atr', { truncatedIn: key.toUpperCase() + groups.length });
      g[key] = bytes[pos++]!;
    });
    if (g.td === undefined) break;
    g.protocol = g.td & 0x0f;
    y = g.td >> 4;
  }

  const announced = groups.flatMap((g) => (g.protocol === undefined ? [] : [g.protocol]));
  const protocols = [...new Set(announced.filter((t) => t !== 15))];
  if (protocols.length === 0) protocols.push(0);
  const tckExpected = announced.some((t) => t !== 0);

  const defects: AtrDefect[] = [];
  const histEnd = pos + (t0 & 0x0f);
  if (histEnd > n) defects.push('historical-bytes-truncated');
  const historicalBytes = bytes.slice(pos, histEnd);
  // End of the ATR proper. TCK follows the historical bytes when a T other than 0 (T=15
  // included) is announced: 7816-3 §8.2.5 has it absent only when T=0 alone is indicated.
  // Exactly one byte left after a T=0-only ATR is also taken as a TCK (and checked).
  let end = Math.min(histEnd, n);
  let tck: number | undefined;
  let tckValid: boolean | undefined;
  if (tckExpected || n === end + 1) {
    if (n === end) {
      defects.push('tck-missing');
      tckValid = false;
    } else {
      tck = bytes[end++]!;
      tckValid = xorBytes(bytes.subarray(1, end)) === 0;
    }
  }
  if (n > end) defects.push('trailing-bytes');
  // (a missing TCK is 'tck-missing' above, not also 'tck-wrong')
  if (tckValid === false && tck !== undefined) defects.push('tck-wrong');
  const fatal = defects.filter((d) => d !== 'tck-wrong');
  if (strict && fatal.length > 0) throw new ProtocolError('protocol/bad-atr', { defects: fatal.join(', ') });

  // Global bytes.
  const [g1, g2] = groups as [AtrInterfaceGroup, AtrInterfaceGroup?];
  const ta1 = g1.ta;
  const fiIndex = ta1 === undefined ? 1 : ta1 >> 4;
  const diIndex = ta1 === undefined ? 1 : ta1 & 0x0f;
  // Fi and f(max) share one table (RFU at the same indexes). A reserved TA1 leaves the
  // rate fields at their defaults (indexes 1 / 1).
  const ta1Reserved = FI_TABLE[fiIndex] === undefined || DI_TABLE[diIndex] === undefined;
  if (ta1Reserved && strict) throw new ProtocolError('protocol/bad-atr', { ta1: hexByte(ta1!) });
  const rateIndex = ta1Reserved ? 1 : fiIndex;

  const atr: Atr = {
    bytes,
    convention: bytes[0] === 0x3f ? 'inverse' : 'direct',
    decodedFromRaw,
    groups,
    protocols,
    fi: FI_TABLE[rateIndex]!,
    di: DI_TABLE[ta1Reserved ? 1 : diIndex]!,
    fiIndex,
    diIndex,
    ta1Reserved,
    fMaxHz: FMAX_TABLE[rateIndex]!,
    extraGuardTime: g1.tc ?? 0,
    historicalBytes,
    tckValid,
    defects,
  };
  if (tck !== undefined) atr.tck = tck;

  const ta2 = g2?.ta;
  if (ta2 !== undefined) {
    atr.specificMode = { protocol: ta2 & 0x0f, implicit: (ta2 & 0x10) !== 0, canChange: (ta2 & 0x80) === 0 };
  }

  if (protocols.includes(0)) atr.wi = g2?.tc || 10;

  // Protocol-specific bytes: group i (1-based, i >= 3) belongs to the T of TD(i-1).
  const firstFor = (t: number, key: 'ta' | 'tb' | 'tc'): number | undefined =>
    groups.find((g, i) => i >= 2 && groups[i - 1]!.protocol === t && g[key] !== undefined)?.[key];

  if (protocols.includes(1)) {
    atr.ifsc = Math.min(firstFor(1, 'ta') || 32, 254);
    const tb = firstFor(1, 'tb');
    atr.bwi = tb === undefined ? 4 : tb >> 4;
    atr.cwi = tb === undefined ? 13 : tb & 0x0f;
    atr.edc = (firstFor(1, 'tc') ?? 0) & 0x01 ? 'crc' : 'lrc';
  }

  const ta15 = firstFor(15, 'ta');
  if (ta15 !== undefined) {
    atr.clockStop = CLOCK_STOPS[ta15 >> 6]!;
    atr.classes = (['A', 'B', 'C'] as const).filter((_, i) => (ta15 >> i) & 1);
  }
  return atr;
}
