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
  driverDesc: '給開發者：讀卡機描述元、ATR、APDU 主控台與 CCID 封包紀錄。',
  probeDesc: '協助確認醫事憑證 IC 卡的規格：檢測讀卡機與卡片，產生可分享的報告（不含 PIN 碼與個人資料）。',
  demoDataText: '虛擬卡：卡號 GH000012345678，PIN 碼 123456，用戶代碼 Demo1234（解鎖碼 12345678）。',
} as const;

export type HomeWords = WordsOf<typeof zh>;

export const homeWords = pageWords<HomeWords>(zh, () => import('./home-words-en.js').then((m) => m.en));
