/**
 * ROC (民國) dates for the NHI card, with typed errors: the NHI layer's face of the shared
 * converter in src/hca/roc-date.ts (7 ASCII digits YYYMMDD, Gregorian year = YYY + 1911, e.g.
 * "0690101" = 1980-01-01), which answers `undefined` where these throw.
 */
import { isoToRocDate, rocDateToIso as rocToIsoOrUndefined } from '../hca/roc-date.js';
import { NhiError } from './errors.js';

/**
 * "YYYMMDD" (ROC year, 7 ASCII digits) → "YYYY-MM-DD". Throws `NhiError('nhi/bad-date')` for
 * anything else: not 7 digits, year 000, month outside 1..12, or a day the month does not have.
 */
export function rocDateToIso(s: string): string {
  const iso = typeof s === 'string' ? rocToIsoOrUndefined(s) : undefined;
  if (iso === undefined) throw new NhiError('nhi/bad-date', 'Not a ROC date: 7 digits YYYMMDD (year 001 = 1912), a day that exists.');
  return iso;
}

/** "YYYY-MM-DD" (1912 or later) → "YYYMMDD", the inverse of `rocDateToIso` (used by the virtual card). */
export function isoDateToRoc(iso: string): string {
  const roc = isoToRocDate(iso);
  if (roc === undefined) throw new NhiError('nhi/bad-date', 'Not an ISO date YYYY-MM-DD from 1912 on, a day that exists.');
  return roc;
}
