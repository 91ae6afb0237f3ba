/**
 * Times of day on the pages: 上午 before noon, 下午 from noon, whatever CLDR's flexible day
 * periods would say (Intl's `zh-TW` short time gives 清晨 6:48, 中午 12:10, 晚上 8:00).
 */
import { describe, expect, it } from 'vitest';
import { formatDateTime } from '../../web/app/time.js';

describe('formatDateTime', () => {
  const at = (h: number, m: number) => new Date(2026, 0, 5, h, m);
  it.each([
    [0, 5, '上午12:05'],
    [6, 48, '上午6:48'],
    [11, 59, '上午11:59'],
    [12, 10, '下午12:10'],
    [15, 5, '下午3:05'],
    [20, 0, '下午8:00'],
  ])('%i:%i -> %s', (h, m, time) => {
    const text = formatDateTime(at(h, m), 'zh-Hant');
    expect(text).toBe(`2026年1月5日 ${time}`);
    expect(text).not.toMatch(/清晨|中午|晚上|凌晨|早上/);
  });

  it('English keeps the 24-hour clock', () => {
    expect(formatDateTime(at(6, 48), 'en')).toMatch(/06:48/);
  });
});
