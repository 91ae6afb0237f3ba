/**
 * ROC (民國) dates as Taiwan's cards store them: 7 ASCII digits YYYMMDD, the year counted from
 * 1912 (民國 1 年 = 1912), so the Gregorian year is YYY + 1911 (e.g. "0690101" = 1980-01-01).
 */
import { NhiError } from './errors.js';

const ROC_DATE = /^[0-9]{7}$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * "YYYMMDD" (ROC year, 7 ASCII digits) → "YYYY-MM-DD". Throws `NhiError('nhi/bad-date')` for
 * anything else: not 7 digits, year 000, month outside 1..12, or a day the month does not have.
 */
export function rocDateToIso(s: string): string {
  if (typeof s !== 'string' || !ROC_DATE.test(s)) throw new NhiError('nhi/bad-date', 'A ROC date has 7 digits (YYYMMDD).');
  const rocYear = Number(s.slice(0, 3));
  const month = Number(s.slice(3, 5));
  const day = Number(s.slice(5, 7));
  if (rocYear < 1) throw new NhiError('nhi/bad-date', 'ROC year 000 does not exist (year 1 is 1912).');
  const year = rocYear + 1911;
  if (month < 1 || month > 12) throw new NhiError('nhi/bad-date', `Month ${month} does not exist.`);
  if (day < 1 || day > daysInMonth(year, month)) throw new NhiError('nhi/bad-date', `Day ${day} does not exist in ${year}-${String(month).padStart(2, '0')}.`);
  return `${year}-${s.slice(3, 5)}-${s.slice(5, 7)}`;
}

/** "YYYY-MM-DD" (1912 or later) → "YYYMMDD", the inverse of `rocDateToIso` (used by the virtual card). */
export function isoDateToRoc(iso: string): string {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(iso);
  if (!m) throw new NhiError('nhi/bad-date', 'An ISO date is YYYY-MM-DD.');
  const roc = `${String(Number(m[1]) - 1911).padStart(3, '0')}${m[2]}${m[3]}`;
  rocDateToIso(roc); // validates (year >= 1912, real month and day)
  return roc;
}
