import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoToRocDate, rocDateToIso } from './roc-date.js';

describe('rocDateToIso', () => {
  it.each([
    // ROC year + 1911 = Gregorian year (ROC 1 = 1912, the founding of the Republic).
    ['0010101', '1912-01-01'],
    ['1130229', '2024-02-29'], // 2024 is a leap year
    ['0890229', '2000-02-29'], // 2000 is a leap year (divisible by 400)
    ['1000101', '2011-01-01'],
    ['0681231', '1979-12-31'],
    ['1141105', '2025-11-05'],
  ])('%s -> %s', (roc, iso) => {
    expect(rocDateToIso(roc)).toBe(iso);
  });

  it.each([
    ['1120229', 'not a leap year (2023)'],
    ['1890229', '2100 is not a leap year'],
    ['0000101', 'ROC year 0 does not exist'],
    ['1131301', 'month 13'],
    ['1130001', 'month 0'],
    ['1130431', 'April has 30 days'],
    ['1130100', 'day 0'],
    ['113010', 'six digits'],
    ['11301011', 'eight digits'],
    ['20240101', 'a Gregorian date'],
    ['113-01-01', 'separators'],
    [' 1130101', 'padding'],
    ['１１３０１０１', 'full-width digits'],
    ['', 'empty'],
  ])('%s is refused (%s)', (roc) => {
    expect(rocDateToIso(roc)).toBeUndefined();
  });

  it('round-trips every valid date with isoToRocDate', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1912-01-01T00:00:00Z'), max: new Date('2910-12-31T00:00:00Z'), noInvalidDate: true }), (d) => {
        const iso = d.toISOString().slice(0, 10);
        const roc = isoToRocDate(iso);
        expect(roc).toMatch(/^\d{7}$/);
        expect(rocDateToIso(roc!)).toBe(iso);
      }),
    );
  });

  it('never throws, and answers only 7-digit strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 10 }), (s) => {
        const iso = rocDateToIso(s);
        if (iso !== undefined) expect(s).toMatch(/^\d{7}$/);
      }),
    );
  });

  it('isoToRocDate refuses years outside ROC 1..999', () => {
    expect(isoToRocDate('1911-12-31')).toBeUndefined();
    expect(isoToRocDate('2911-01-01')).toBeUndefined();
    expect(isoToRocDate('2024-02-30')).toBeUndefined();
  });
});
