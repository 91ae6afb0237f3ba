/** The bind page's words (web/bind.html) other than its account parts (./account-words.ts), Traditional Chinese and English. */
import { getLocale } from '../../src/components/locale.js';
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

const en: WordsOf<typeof zh> = {
  bindTitle: 'Bind an HCA card',
  modeRegister: 'Register',
  modeRebind: 'Account › Card binding',
  registerIntro: 'New user: fill in the account, verify the card in "Bind your HCA card", then submit.',
  account: 'Account',
  accountHint: '3 to 32 letters, digits, dots, underscores or hyphens.',
  email: 'Email',
  bindSection: 'Bind your HCA card',
  rebindSection: 'Bind another HCA card',
  submitRegister: 'Submit',
  needVerify: 'Verify your card in "Bind your HCA card" first.',
  needAccount: 'Fill in the account first (3 to 32 letters, digits, dots, underscores or hyphens).',
  registered: 'Account created',
  registeredText: 'The account is created and bound to this HCA card.',
  currentBinding: 'Bound certificate',
  noBinding: 'No HCA card is bound to this account yet.',
  loading: 'Loading…',
  holder: 'Holder',
  cardType: 'Card type',
  cardNumber: 'Card number',
  validity: 'Certificate valid',
  boundAt: 'Bound at',
  personnel: 'Healthcare professional card',
  institution: 'Healthcare institution card',
  unbind: 'Unbind',
  to: 'to',
  faqTitle: 'Questions',
  faq: [
    ['"The verification timed out, please try again"', 'A verification must finish within about 2 minutes. Just press Verify again.'],
    ['No reader or no card is found', 'Check that the reader is plugged in and the card inserted chip up, chip end first. For a real reader press "Use a real reader" and pick it in the browser\'s window.'],
    ['Wrong PIN', 'Type the correct PIN. Three wrong PINs in a row lock the card; unlock it on the "Unlock card" page.'],
    ['The card is locked', 'Go to "Unlock card": get the unlock code with the card number and user code and set a new PIN.'],
  ],
};

export function bindWords(): WordsOf<typeof zh> {
  return getLocale() === 'en' ? en : zh;
}
