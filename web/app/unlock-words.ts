/** The unlock.html page's title and introduction in Traditional Chinese; the English ones (./unlock-words-en.ts) load when English is chosen (./i18n.ts). */
import { pageWords } from './i18n.js';
import type { WordsOf } from './words-zh.js';

const zh = {
  title: '解鎖卡（PIN 碼鎖住時）',
  intro: '準備：醫事憑證 IC 卡、卡號（卡片正面 GH 後 12 位數字）與用戶代碼（申請卡片時取得，大小寫有別）。',
} as const;

export type UnlockWords = WordsOf<typeof zh>;

export const unlockWords = pageWords<UnlockWords>(zh, () => import('./unlock-words-en.js').then((m) => m.en));
