/**
 * The web app's own words, in Traditional Chinese (default) and English. The components have
 * theirs (@lit/localize); `applyLanguage` switches both. The shell's words (header, navigation,
 * reader source) are in ./words-zh.ts; each page's own words are in a module of that page
 * (./unlock-words.ts, ./bind-words.ts, ...) made with `pageWords`, and the demo panel's in
 * ./demo-words.ts. The English ones (./words-en.ts, ./unlock-words-en.ts, ...) are loaded the
 * first time English is chosen, like the components' English templates, and `applyLanguage`
 * awaits them all before the page is drawn in English: no Chinese word shows in between.
 */
import { getLocale, setLocale, type Locale } from '../../src/components/locale.js';
import { zh, type Words } from './words-zh.js';

let en: Words | undefined;

/** The loaders of the pages' English words (`pageWords`), each loading its module once. */
const englishLoaders: Array<() => Promise<void>> = [];

/**
 * A page's own words (type `W`: `WordsOf<typeof zh>` of the module's Chinese words): `zhWords` at once, the English ones (`loadEnglish`, a dynamic import of the
 * page's English module) when English is chosen. Returns the words of the active locale. Made at
 * a module's top level, before the page starts (`applyLanguage` loads what is registered); a
 * module loaded later (the demo panel) is made ready by `englishWordsReady` before it is drawn.
 */
export function pageWords<W>(zhWords: W, loadEnglish: () => Promise<W>): () => W {
  let english: W | undefined;
  let loading: Promise<void> | undefined;
  englishLoaders.push(
    () =>
      (loading ??= loadEnglish().then(
        (w) => {
          english = w;
        },
        (error: unknown) => {
          loading = undefined; // tried again on the next switch
          throw error;
        },
      )),
  );
  return () => (getLocale() === 'en' && english ? english : zhWords);
}

/** Loads the English words of every module made with `pageWords` when English is the active locale. */
export async function englishWordsReady(): Promise<void> {
  if (getLocale() === 'en') await Promise.all(englishLoaders.map((load) => load()));
}

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
  if (locale === 'en') {
    const [shell] = await Promise.all([en ?? import('./words-en.js').then((m) => m.en), ...englishLoaders.map((load) => load())]);
    en = shell;
  }
  await setLocale(locale);
  try {
    localStorage.setItem(STORAGE_KEY, locale);
  } catch {
    // Not remembered: fine.
  }
}
