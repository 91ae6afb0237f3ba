/**
 * The bind page's words (web/bind.html) other than its account parts (./account-words.ts), in
 * Traditional Chinese; the English ones (./bind-words-en.ts) load when English is chosen (./i18n.ts).
 */
import { pageWords } from './i18n.js';
import type { WordsOf } from './words-zh.js';

const zh = {
  bindTitle: '憑證 IC 卡綁定',
  modeRegister: '申請帳號',
  modeRebind: '帳號管理 › 憑證 IC 卡綁定',
  registerIntro: '全新使用者：填寫帳號，在「綁定憑證 IC 卡」區塊完成驗證後送出申請。',
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
} as const;

export type BindWords = WordsOf<typeof zh>;

export const bindWords = pageWords<BindWords>(zh, () => import('./bind-words-en.js').then((m) => m.en));
