/**
 * Dates of the Republic of China (Minguo, 民國) calendar as Taiwan's cards store them: 7 digits
 * `YYYMMDD`, the year counted from 1912 (ROC year 1 = 1912, so Gregorian year = ROC year + 1911).
 * The HCA middleware gives the card's issue date and validity this way, and the NHI card stores
 * birth and issue dates this way (docs/design.md §5.1). Pure, no I/O; shared by the HCA and NHI
 * card code.
 */

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Offset from an ROC year to the Gregorian year. */
export const ROC_YEAR_OFFSET = 1911;

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

/** True when `year-month-day` (Gregorian) is a day of the calendar. */
export function isCalendarDate(year: number, month: number, day: number): boolean {
  if (!Number.isInteger(year) || !Number.isInteger(month) || !Number.isInteger(day)) return false;
  if (month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month - 1]!) return false;
  return !(month === 2 && day === 29 && !isLeapYear(year));
}

/**
 * Converts a 7-digit ROC date `YYYMMDD` (e.g. "1130229", ROC 113 = 2024) to ISO `YYYY-MM-DD`
 * ("2024-02-29"). Returns undefined for anything else: not exactly 7 ASCII digits, ROC year 000,
 * or a day that does not exist (month 13, 30 February, 29 February of a common year). Leading
 * and trailing spaces or NULs (padding in fixed-width card fields) are not accepted here: trim
 * them first.
 */
export function rocDateToIso(text: string): string | undefined {
  const m = /^(\d{3})(\d{2})(\d{2})$/.exec(text);
  if (!m) return undefined;
  const rocYear = Number(m[1]);
  if (rocYear === 0) return undefined;
  const year = rocYear + ROC_YEAR_OFFSET;
  if (!isCalendarDate(year, Number(m[2]), Number(m[3]))) return undefined;
  return `${year}-${m[2]}-${m[3]}`;
}

/** The reverse: ISO `YYYY-MM-DD` (year 1912..2910) to the 7-digit ROC date; undefined otherwise. */
export function isoToRocDate(iso: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) return undefined;
  const year = Number(m[1]);
  const rocYear = year - ROC_YEAR_OFFSET;
  if (rocYear < 1 || rocYear > 999 || !isCalendarDate(year, Number(m[2]), Number(m[3]))) return undefined;
  return `${String(rocYear).padStart(3, '0')}${m[2]}${m[3]}`;
}
