/**
 * Dates and times as the pages show them. In Traditional Chinese a time of day takes 上午 or 下午
 * (the 12-hour clock of Taiwanese forms and government sites): `timeStyle: 'short'` of `zh-TW`
 * picks CLDR's flexible day periods instead (清晨 6:48, 中午 12:10, 晚上 8:00), so the period
 * is set here from the hour, not taken from Intl.
 */

export type PageLocale = 'zh-Hant' | 'en';

/** `2026年1月5日 上午6:48` / `5 Jan 2026, 06:48`. */
export function formatDateTime(d: Date | number, locale: PageLocale): string {
  const date = new Date(d);
  if (locale === 'en') return new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' }).format(date);
  const day = new Intl.DateTimeFormat('zh-TW', { dateStyle: 'medium' }).format(date);
  const hour = date.getHours();
  const h12 = hour % 12 === 0 ? 12 : hour % 12;
  const minutes = String(date.getMinutes()).padStart(2, '0');
  return `${day} ${hour < 12 ? '上午' : '下午'}${h12}:${minutes}`;
}
