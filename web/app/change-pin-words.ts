/** The change-pin.html page's title and introduction in Traditional Chinese; the English ones (./change-pin-words-en.ts) load when English is chosen (./i18n.ts). */
import { pageWords } from './i18n.js';
import type { WordsOf } from './words-zh.js';

const zh = {
  title: '變更 PIN 碼',
  intro: '輸入目前的 PIN 碼，再輸入兩次新的 PIN 碼（6 到 8 位數字）。',
} as const;

export type ChangePinWords = WordsOf<typeof zh>;

export const changePinWords = pageWords<ChangePinWords>(zh, () => import('./change-pin-words-en.js').then((m) => m.en));
