/**
 * The web app's own words (page titles, navigation, the demo panel, the account pages), in
 * Traditional Chinese (default) and English. The components have theirs (@lit/localize);
 * `applyLanguage` switches both. The words are in ./words-zh.ts; the English ones
 * (./words-en.ts) are loaded the first time English is chosen, like the components' English
 * templates.
 */
import { getLocale, setLocale, type Locale } from '../../src/components/locale.js';
import { zh, type Words } from './words-zh.js';

let en: Words | undefined;

/** The words of the active locale. */
export function words(): Words {
  return getLocale() === 'en' && en ? en : zh;
}

const STORAGE_KEY = 'webccid-lang';

/** The language to start with: `?lang=en|zh`, else the last choice, else Traditional Chinese. */
export function initialLocale(search: URLSearchParams): Locale {
  const fromQuery = search.get('lang');
  if (fromQuery === 'en') return 'en';
  if (fromQuery === 'zh' || fromQuery === 'zh-Hant') return 'zh-Hant';
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved === 'en' || saved === 'zh-Hant') return saved;
  } catch {
    // Storage may be off: fall through.
  }
  return 'zh-Hant';
}

/** Switches the components and the page (and remembers the choice). */
export async function applyLanguage(locale: Locale): Promise<void> {
  if (locale === 'en') en ??= (await import('./words-en.js')).en;
  await setLocale(locale);
  try {
    localStorage.setItem(STORAGE_KEY, locale);
  } catch {
    // Not remembered: fine.
  }
}
