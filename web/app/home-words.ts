/** The home page's words (web/index.html) in Traditional Chinese; the English ones (./home-words-en.ts) load when English is chosen (./i18n.ts). */
import { pageWords } from './i18n.js';
import type { WordsOf } from './words-zh.js';

const zh = {
  homeIntro:
    '這裡是 webccid 的示範：讀卡機驅動程式用 WebUSB 在網頁中執行，所以不需要安裝「醫事憑證管理中心元件」或其他程式。預設使用一台虛擬讀卡機和一張虛擬醫事人員卡，您也可以改用實體讀卡機。',
  unlockDesc: 'PIN 碼輸入錯誤 3 次，卡片被鎖住時：以卡號和用戶代碼取得解鎖碼，設定新的 PIN 碼。',
  changePinDesc: '知道目前的 PIN 碼，想換一個新的 PIN 碼。',
  bindDesc: '申請帳號或在帳號管理中，把醫事憑證 IC 卡綁定到您的帳號。',
  nhiDesc: '不需要 PIN 碼：讀取健保卡的基本資料，確認讀卡機可以正常使用。',
  open: '開始',
  demoData: '示範資料',
} as const;

export type HomeWords = WordsOf<typeof zh>;

export const homeWords = pageWords<HomeWords>(zh, () => import('./home-words-en.js').then((m) => m.en));
