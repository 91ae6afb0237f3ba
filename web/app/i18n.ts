/**
 * The web app's own words (page titles, navigation, the demo panel, the account pages), in
 * Traditional Chinese (default) and English. The components have theirs (@lit/localize);
 * `applyLanguage` switches both. The English words (./words-en.ts) are loaded the first time
 * English is chosen, like the components' English templates.
 */
import { getLocale, setLocale, type Locale } from '../../src/components/locale.js';

export const zh = {
  appName: 'HCA 醫事憑證 IC 卡服務',
  appTagline: '在瀏覽器裡直接使用讀卡機：不必安裝元件',
  skip: '跳到主要內容',
  nav: '主要導覽',
  home: '首頁',
  unlock: '解鎖卡',
  changePin: '變更 PIN 碼',
  bind: '憑證 IC 卡綁定',
  driver: '驅動程式主控台',
  nhi: '讀健保卡',
  probe: '實機檢測工具',
  language: '語言',
  homeIntro:
    '這裡是 webccid 的示範：讀卡機驅動程式用 WebUSB 在網頁中執行，所以不需要安裝「醫事憑證管理中心元件」或其他程式。預設使用一台虛擬讀卡機和一張虛擬醫事人員卡，您也可以改用實體讀卡機。',
  unlockDesc: 'PIN 碼輸入錯誤 3 次，卡片被鎖住時：以卡號和用戶代碼取得解鎖碼，設定新的 PIN 碼。',
  changePinDesc: '知道目前的 PIN 碼，想換一個新的 PIN 碼。',
  bindDesc: '申請帳號或在帳號管理中，把醫事憑證 IC 卡綁定到您的帳號。',
  driverDesc: '給開發者：讀卡機描述元、ATR、APDU 主控台與 CCID 封包紀錄。',
  nhiDesc: '不需要 PIN 碼：讀取健保卡的基本資料，確認讀卡機可以正常使用。',
  probeDesc: '協助確認醫事憑證 IC 卡的規格：檢測讀卡機與卡片，產生可分享的報告（不含 PIN 碼與個人資料）。',
  nhiTitle: '讀取健保卡',
  nhiIntro: '每位醫事人員都有健保卡，讀取它不需要 PIN 碼，也不會改變卡片，是測試讀卡機最安全的第一步。',
  open: '開始',
  demoData: '示範資料',
  demoDataText: '虛擬卡：卡號 GH000012345678，PIN 碼 123456，用戶代碼 Demo1234（解鎖碼 12345678）。',
  demoDataChangedPin: '虛擬卡：卡號 GH000012345678，PIN 碼是您設定的新 PIN 碼，用戶代碼 Demo1234（解鎖碼 12345678）。',
  cardLock: '卡片狀態',
  lockUsable: '可以使用',
  lockPinBlocked: '已鎖住（PIN 碼錯誤 3 次）',
  lockPukBlocked: '無法再解鎖（解鎖碼也已鎖住）',
  readerSource: '讀卡機',
  useVirtual: '使用虛擬讀卡機',
  useReal: '使用實體讀卡機',
  usingVirtual: '目前使用：虛擬讀卡機（示範）',
  usingReal: '目前使用：實體讀卡機（WebUSB）',
  kioskOn: '公用電腦（kiosk）模式',
  demoPanel: '示範控制台',
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
  // bind page
  bindTitle: '憑證 IC 卡綁定',
  modeRegister: '申請帳號',
  modeRebind: '帳號管理 › 憑證 IC 卡綁定',
  registerIntro: '全新使用者：填寫帳號，在「綁定憑證 IC 卡」區塊完成驗證後送出申請。',
  rebindIntro: '已有帳號：在「重新綁定憑證 IC 卡」區塊驗證新卡，驗證成功後即完成綁定。',
  account: '帳號',
  accountHint: '3 到 32 個英文字母、數字、點、底線或連字號。',
  email: '電子郵件',
  bindSection: '綁定憑證 IC 卡',
  rebindSection: '重新綁定憑證 IC 卡',
  submitRegister: '送出申請',
  needVerify: '請先在「綁定憑證 IC 卡」區塊完成驗證。',
  needAccount: '請先填寫帳號（3 到 32 個英文字母、數字、點、底線或連字號）。',
  registered: '帳號申請完成',
  registeredText: '帳號已建立，並已綁定下面這張醫事憑證 IC 卡。',
  signedInAs: '登入帳號',
  switchAccount: '切換',
  currentBinding: '目前綁定的憑證',
  noBinding: '這個帳號還沒有綁定憑證 IC 卡。',
  loading: '讀取中…',
  holder: '持卡人',
  cardType: '卡別',
  cardNumber: '卡號',
  validity: '憑證有效期間',
  boundAt: '綁定時間',
  personnel: '醫事人員卡',
  institution: '醫事機構卡',
  unbind: '解除綁定',
  to: '至',
  faqTitle: '常見問題',
  faq: [
    ['出現「驗證逾時，請重新操作」', '驗證有時間限制（約 2 分鐘）。重新點選「驗證」即可。'],
    ['顯示找不到讀卡機或卡片', '確認讀卡機已接上電腦、卡片晶片朝上、晶片那一端先插入。實體讀卡機需按「使用實體讀卡機」並在瀏覽器視窗中選擇它。'],
    ['PIN 碼錯誤', '請輸入正確的卡片 PIN 碼。連續錯誤 3 次卡片會鎖住，需要到「解鎖卡」頁面解鎖。'],
    ['卡片已鎖住', '到「解鎖卡」頁面，以卡號和用戶代碼取得解鎖碼並設定新的 PIN 碼。'],
  ] as ReadonlyArray<readonly [string, string]>,
  unlockTitle: '解鎖卡（PIN 碼鎖住時）',
  unlockIntro: '準備：醫事憑證 IC 卡、卡號（卡片正面 GH 後 12 位數字）與用戶代碼（申請卡片時取得，大小寫有別）。',
  changePinTitle: '變更 PIN 碼',
  changePinIntro: '輸入目前的 PIN 碼，再輸入兩次新的 PIN 碼（6 到 8 位數字）。',
  componentMissing: '這個元件尚未安裝到這份程式碼中。',
  goUnlockNote: '卡片已鎖住：請改用「解鎖卡」。',
} as const;

export type Words = { readonly [K in keyof typeof zh]: (typeof zh)[K] extends string ? string : (typeof zh)[K] extends ReadonlyArray<unknown> ? ReadonlyArray<readonly [string, string]> : { readonly [P in keyof (typeof zh)[K]]: string } };

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
