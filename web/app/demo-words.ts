/**
 * The demo panel's words in Traditional Chinese, loaded with the panel, in demo mode only; the
 * English ones (./demo-words-en.ts) load when English is chosen (./i18n.ts, `englishWordsReady`).
 */
import { pageWords } from './i18n.js';
import type { WordsOf } from './words-zh.js';

const zh = {
  /** The demo card's data (the home page shows it too); `demoDataChangedPin` once the PIN was changed. */
  demoDataText: '虛擬卡：卡號 GH000012345678，PIN 碼 123456，用戶代碼 Demo1234（解鎖碼 12345678）。',
  demoDataChangedPin: '虛擬卡：卡號 GH000012345678，PIN 碼是您設定的新 PIN 碼，用戶代碼 Demo1234（解鎖碼 12345678）。',
  cardLock: '卡片狀態',
  lockUsable: '可以使用',
  lockPinBlocked: '已鎖住（PIN 碼錯誤 3 次）',
  lockPukBlocked: '無法再解鎖（解鎖碼也已鎖住）',
  demoPanelHint: '把虛擬卡片和讀卡機切換到各種情況，看看頁面如何說明與處理。',
  demoState: '換一張卡片或讀卡機（卡片與讀卡機的情況）',
  states: {
    normal: '正常卡片',
    locked: '卡片已鎖住（PIN 碼錯誤 3 次）',
    'puk-blocked': '解鎖碼也已鎖住（無法再解鎖）',
    'wrong-puk': '伺服器給錯解鎖碼（用戶代碼對應到別的解鎖碼）',
    pinpad: '有密碼鍵盤的讀卡機',
    slow: '反應很慢的卡片',
    'not-hca': '不是醫事憑證 IC 卡',
    version1: '第 1 版卡片（只有 2 張憑證）',
    institution: '醫事機構卡',
    expired: '憑證已過期的卡片',
    nhi: '健保卡（不是醫事憑證 IC 卡）',
  },
  removeCard: '拔出卡片',
  insertCard: '插入卡片',
  unplugReader: '拔除讀卡機',
  plugReader: '接上讀卡機',
  resetCard: '重設示範（卡片與伺服器）',
  resetDone: '已重設：虛擬卡回到 PIN 碼 123456，伺服器上這張示範卡的用戶代碼錯誤次數與鎖定也已清除。',
  resetDoneCardOnly: '已重設虛擬卡（PIN 碼 123456）。沒有示範伺服器，伺服器上的鎖定沒有清除。',
  pinTries: 'PIN 剩餘次數',
  pukTries: '解鎖碼剩餘次數',
  cardInReader: '卡片',
  inReader: '在讀卡機中',
  outOfReader: '已拔出',
  readerPlugged: '讀卡機',
  plugged: '已接上',
  unplugged: '已拔除',
  preparing: '正在準備虛擬卡片（產生測試憑證）…',
  keypadTitle: '讀卡機的鍵盤（模擬）',
  keypadIdle: '讀卡機目前沒有要求輸入。',
  keypadAsk: {
    current: '讀卡機要求：輸入目前的 PIN 碼（或解鎖碼）',
    new: '讀卡機要求：輸入新的 PIN 碼',
    confirm: '讀卡機要求：再輸入一次新的 PIN 碼',
  },
  keypadInput: '在讀卡機上按的數字',
  keypadOk: '確認鍵',
  keypadCancel: '取消鍵',
  keypadTimeout: '不按（逾時）',
} as const;

export type DemoWords = WordsOf<typeof zh>;

export const demoWords = pageWords<DemoWords>(zh, () => import('./demo-words-en.js').then((m) => m.en));
