/** The nhi.html page's title and introduction in Traditional Chinese; the English ones (./nhi-words-en.ts) load when English is chosen (./i18n.ts). */
import { pageWords } from './i18n.js';
import type { WordsOf } from './words-zh.js';

const zh = {
  title: '讀取健保卡',
  intro: '每位醫事人員都有健保卡，讀取它不需要 PIN 碼，也不會改變卡片，是測試讀卡機最安全的第一步。',
  /** Beside the link to the field kit (the home page says the same). */
  probeDesc: '協助確認醫事憑證 IC 卡的規格：檢測讀卡機與卡片，產生可分享的報告（不含 PIN 碼與個人資料）。',
} as const;

export type NhiWords = WordsOf<typeof zh>;

export const nhiWords = pageWords<NhiWords>(zh, () => import('./nhi-words-en.js').then((m) => m.en));
