/**
 * Words of the bind page's account parts (password, sign-in, 綁定新憑證 IC 卡, the server's
 * refusals), in Traditional Chinese; the English ones (./account-words-en.ts) load when English is
 * chosen (./i18n.ts).
 */
import { pageWords } from './i18n.js';

const zh = {
  password: '密碼',
  passwordHint: '8 到 128 個字元。',
  rebindIntro: '已有帳號：登入後，在「重新綁定憑證 IC 卡」區塊驗證新卡，驗證成功後按「綁定新憑證 IC 卡」。',
  signInTitle: '登入',
  signInIntro: '請以申請帳號時設定的帳號與密碼登入。還沒有帳號？請至「申請帳號」。',
  signIn: '登入',
  signedInAs: '已登入帳號',
  signOut: '登出',
  bindNew: '綁定新憑證 IC 卡',
  bindNewDone: '已綁定新的憑證 IC 卡。',
  needPassword: '請設定密碼（8 到 128 個字元）。',
  badCredentials: '帳號或密碼錯誤。',
  accountExists: '這個帳號已有人使用，請換一個帳號。',
  tokenInvalid: '卡片驗證已逾時或已使用，請再按一次「驗證」。',
  alreadyBound: '這張卡片已綁定到另一個帳號。',
  rateLimited: '嘗試次數過多，請稍後再試。',
  serverProblem: '伺服器沒有回應，請稍後再試。',
} as const;

export type AccountWords = { readonly [K in keyof typeof zh]: string };

export const accountWords = pageWords<AccountWords>(zh, () => import('./account-words-en.js').then((m) => m.en));
