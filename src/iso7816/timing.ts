/**
 * ISO/IEC 7816-3:2006 timing, for host-side timeouts.
 *
 * Every function returns SECONDS (a plain number); clock `fHz` in hertz; `fi`/`di`
 * are the transmission factors in use (372 / 1 before PPS). Add USB and reader
 * latency on top: these are the card's limits only.
 */

/** One elementary time unit, seconds: etu = Fi / (Di * f). */
export function etuSeconds(p: { fi: number; di: number; fHz: number }): number {
  return p.fi / (p.di * p.fHz);
}

/**
 * T=1 block waiting time, seconds (§11.4.3): BWT = 11 etu + 2^BWI * 960 * Fd / f
 * with Fd = 372 (the second term does not depend on Fi/Di).
 */
export function t1BlockWaitingTime(p: { bwi: number; fi: number; di: number; fHz: number }): number {
  return 11 * etuSeconds(p) + (2 ** p.bwi * 960 * 372) / p.fHz;
}

/**
 * T=0 waiting time, seconds (§10.2): WT = WI * 960 * Fi / f, which is the
 * 960 * D * WI etu of the 1997 edition (D cancels out).
 */
export function t0WorkWaitingTime(p: { wi: number; fi: number; fHz: number; di: number }): number {
  return 960 * p.di * p.wi * etuSeconds(p);
}

/**
 * Time on the wire for `bytes` characters sent back to back, seconds.
 * Character period per §8.3 with N = `guardEtu` (TC1, default 0):
 * 12 + N etu, except N = 255 which means the minimum: 12 etu for T=0, 11 etu for T=1.
 */
export function wireTimeSeconds(p: {
  bytes: number;
  fi: number;
  di: number;
  fHz: number;
  guardEtu?: number;
  protocol: 0 | 1;
}): number {
  const n = p.guardEtu ?? 0;
  const perChar = n === 255 ? (p.protocol === 1 ? 11 : 12) : 12 + n;
  return p.bytes * perChar * etuSeconds(p);
}

/**
 * Longest answer to reset, seconds, at default Fi/Di (372/1): the first character
 * within 40 000 clock cycles, the whole ATR within 19 200 etu (7816-3:1997 rule,
 * which cards still follow).
 */
export function atrTimeoutSeconds(fHz: number): number {
  return (40_000 + 19_200 * 372) / fHz; // an etu is 372 clock cycles at Fi/Di 372/1
}
