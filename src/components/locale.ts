/**
 * Localisation of the components: @lit/localize in runtime mode.
 *
 * - Source locale `zh-Hant` (the strings are written in Traditional Chinese in the code, each with
 *   `msg('…', { id })` or `msg(str`…${x}…`, { id })`); target locale `en` (src/components/locales/en.ts).
 * - Nothing happens on import: the runtime is configured the first time `setLocale` or `getLocale`
 *   is called (before that, `msg` returns the source strings, which is the default locale anyway).
 * - Elements re-render on a switch: each calls `updateWhenLocaleChanges(this)` (from '@lit/localize') in its constructor.
 *
 * ```ts
 * import { setLocale } from 'webccid/components';
 * await setLocale('en');
 * ```
 */
import { configureLocalization } from '@lit/localize';
import { WebCcidError } from '../errors.js';

/** The locales the components ship. */
export const LOCALES = ['zh-Hant', 'en'] as const;
/** One of `LOCALES`. */
export type Locale = (typeof LOCALES)[number];
/** The source (and default) locale. */
export const SOURCE_LOCALE: Locale = 'zh-Hant';

let runtime: ReturnType<typeof configureLocalization> | undefined;

function configured(): ReturnType<typeof configureLocalization> {
  runtime ??= configureLocalization({
    sourceLocale: SOURCE_LOCALE,
    targetLocales: LOCALES.filter((l) => l !== SOURCE_LOCALE),
    loadLocale: async (locale) => {
      if (locale === 'en') return import('./locales/en.js');
      throw new WebCcidError('components/bad-locale', { noTemplates: locale });
    },
  });
  return runtime;
}

/** True when `value` is one of the shipped locales. */
export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/**
 * Picks a shipped locale from a BCP 47 tag or a list of them (e.g. `navigator.languages`):
 * any `zh*` gives `zh-Hant`, any `en*` gives `en`; the first match wins; otherwise `zh-Hant`.
 */
export function matchLocale(tags: string | readonly string[] | undefined): Locale {
  const list = typeof tags === 'string' ? [tags] : (tags ?? []);
  for (const tag of list) {
    const t = tag.toLowerCase();
    if (t.startsWith('zh')) return 'zh-Hant';
    if (t === 'en' || t.startsWith('en-')) return 'en';
  }
  return SOURCE_LOCALE;
}

/** The active locale. */
export function getLocale(): Locale {
  const l = configured().getLocale();
  return isLocale(l) ? l : SOURCE_LOCALE;
}

/**
 * Switches every component to `locale` (loads the English templates on first use) and sets
 * `<html lang>` when there is a document. Rejects `components/bad-locale` for anything else. Resolves when the new strings are ready; elements
 * registered with `updateWhenLocaleChanges` re-render then. Needs `window` (a browser; Node tests stub it).
 */
export async function setLocale(locale: Locale): Promise<void> {
  if (!isLocale(locale)) throw new WebCcidError('components/bad-locale', { locale: String(locale), known: LOCALES.join(' or ') });
  await configured().setLocale(locale);
  if (typeof document !== 'undefined' && document.documentElement) document.documentElement.lang = locale;
}
