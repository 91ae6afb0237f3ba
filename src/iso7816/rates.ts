/**
 * ISO/IEC 7816-3 transmission factors (Fi, Di, f(max)) and the choice of a
 * rate that both the card and the CCID reader support.
 *
 * Units: clock in Hz (or kHz where the name says so), rates in bit/s.
 */
/** The table with its RFU entries (written 0) undefined. */
const withRfu = (values: number[]): readonly (number | undefined)[] => values.map((v) => v || undefined);

/** Fi by TA1 high nibble (ISO/IEC 7816-3:2006 table 7); `undefined` = RFU. */
export const FI_TABLE = /* @__PURE__ */ withRfu([372, 372, 558, 744, 1116, 1488, 1860, 0, 0, 512, 768, 1024, 1536, 2048, 0, 0]);

/** f(max) in Hz by TA1 high nibble (same table as {@link FI_TABLE}); `undefined` = RFU. */
export const FMAX_TABLE = /* @__PURE__ */ withRfu([4, 5, 6, 8, 12, 16, 20, 0, 0, 5, 7.5, 10, 15, 20, 0, 0].map((mhz) => mhz * 1e6));

/** Di by TA1 low nibble (ISO/IEC 7816-3:2006 table 8); `undefined` = RFU. */
export const DI_TABLE = /* @__PURE__ */ withRfu([0, 1, 2, 4, 8, 16, 32, 64, 12, 20, 0, 0, 0, 0, 0, 0]);

/** Default Fi (Fd) and Di (Dd) before any PPS. */
export const DEFAULT_FI = 372;
export const DEFAULT_DI = 1;
/** Default f(max) (Fi index 1), Hz. */
export const DEFAULT_FMAX_HZ = 5_000_000;

/** Bit rate in bit/s: f * Di / Fi (not rounded). */
export function baudRate(params: { fi: number; di: number; fHz: number }): number {
  return (params.fHz * params.di) / params.fi;
}

/** A rate chosen by {@link chooseRate}. */
export interface ChosenRate {
  fiIndex: number;
  diIndex: number;
  fi: number;
  di: number;
  /** Rate at the reader's clock, bit/s, truncated to an integer (as libccid prints it). */
  baud: number;
  /** The entry of the reader's data-rate list that matched, when a list was given. */
  readerRate?: number;
}

/** Default relative tolerance of {@link chooseRate} (1 %). */
export const RATE_TOLERANCE = 0.01;

/**
 * Chooses the fastest (Fi, Di) pair the card allows (its TA1 Fi/Di, or a slower
 * Di with the same Fi) that the reader supports. Returns `undefined` when only
 * the default rate (Fi 372, Di 1) is possible, i.e. no PPS with PPS1 is worth
 * sending: no TA1, or a TA1 holding a reserved (RFU) Fi or Di.
 *
 * Rules:
 * - only rates faster than the default rate at the same clock are candidates;
 * - the clock (`clockKHz`, the reader's current clock) must not exceed the card's
 *   f(max) for its Fi;
 * - rate <= `maxDataRate` (dwMaxDataRate); `maxDataRate <= 0` means unknown: no candidate;
 * - when the reader gave a data-rate list (GET_DATA_RATES), the rate must match an entry.
 * - in specific mode (`specificMode`: the ATR has TA2) the card cannot negotiate: only its
 *   TA1 pair is a candidate (the caller must then set it with SetParameters, not PPS).
 *
 * Matching: libccid computes the rate from dwDefaultClock as an integer and accepts a
 * list entry within +-2 bit/s. That misses readers whose descriptor rounds the clock:
 * the Castles EZCCID declares 3.580 MHz but its list (9600, 19200, ..., 115200) is
 * computed for 3.5712 MHz (9600 * 372), so 3 580 000 * 12 / 372 = 115483 never matches
 * 115200 and libccid stays at 9600 bit/s. We use a relative tolerance (`tolerance`,
 * default 1 %, for both the list match and dwMaxDataRate); adjacent entries of real
 * lists differ by more than 3 %, so the match is unambiguous.
 */
export function chooseRate(opts: {
  /** The ATR's TA1 (`atr.groups[0]?.ta`), undefined when absent. */
  ta1: number | undefined;
  /** The ATR has TA2 (`atr.specificMode` set). */
  specificMode?: boolean;
  clockKHz: number;
  maxDataRate: number;
  dataRates?: number[];
  tolerance?: number;
}): ChosenRate | undefined {
  const { ta1, clockKHz, maxDataRate } = opts;
  const tolerance = opts.tolerance ?? RATE_TOLERANCE;
  if (ta1 === undefined) return undefined;
  const fiIndex = ta1 >> 4;
  const fi = FI_TABLE[fiIndex];
  const cardDi = DI_TABLE[ta1 & 0x0f];
  if (fi === undefined || cardDi === undefined || !(clockKHz > 0) || !(maxDataRate > 0)) return undefined;
  const fHz = clockKHz * 1000;
  if (fHz > FMAX_TABLE[fiIndex]!) return undefined; // (f(max) is RFU exactly where Fi is)

  const defaultRate = baudRate({ fi: DEFAULT_FI, di: DEFAULT_DI, fHz });
  const list = opts.dataRates?.length ? opts.dataRates : undefined;

  // Candidates: same Fi, Di from the card's down to the smallest, fastest first (in specific
  // mode only the card's own).
  const candidates = [...DI_TABLE.keys()]
    // (an RFU entry is undefined: neither equal to nor <= cardDi, so never a candidate)
    .filter((i) => (opts.specificMode ? DI_TABLE[i] === cardDi : DI_TABLE[i]! <= cardDi))
    .sort((a, b) => DI_TABLE[b]! - DI_TABLE[a]!);

  for (const diIndex of candidates) {
    const di = DI_TABLE[diIndex]!;
    const rate = baudRate({ fi, di, fHz });
    if (rate <= defaultRate * (1 + 1e-9) || rate > maxDataRate * (1 + tolerance)) continue;
    const readerRate = list?.find((r) => r > 0 && Math.abs(rate - r) <= r * tolerance);
    if (list && readerRate === undefined) continue;
    const chosen: ChosenRate = { fiIndex, diIndex, fi, di, baud: Math.floor(rate) };
    if (readerRate !== undefined) chosen.readerRate = readerRate;
    return chosen;
  }
  return undefined;
}
