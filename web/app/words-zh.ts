/**
 * The web app's shell words (header, navigation, reader source) in Traditional Chinese (the
 * default; see ./i18n.ts), and their shape. The pages' own words (titles, introductions, forms)
 * are beside them: ./unlock-words.ts, ./change-pin-words.ts, ./nhi-words.ts, ./home-words.ts,
 * ./bind-words.ts, ./account-words.ts, ./probe-words.ts, the demo panel's ./demo-words.ts (demo
 * mode only). The descriptions of the field kit and the driver console beside the links to them,
 * and the demo card's data, are in the words of each page showing them (home, NHI, field kit,
 * demo panel), not here: the other pages do not load them.
 */
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
  readerSource: '讀卡機',
  useVirtual: '使用虛擬讀卡機',
  useReal: '使用實體讀卡機',
  usingVirtual: '目前使用：虛擬讀卡機（示範）',
  usingReal: '目前使用：實體讀卡機（WebUSB）',
  kioskOn: '公用電腦（kiosk）模式',
  demoPanel: '示範控制台',
} as const;

/**
 * The shape of a words table in another language: the same keys, strings for strings, pairs for
 * a list of pairs (the bind page's questions), and the same keys again for a nested table.
 */
export type WordsOf<T> = {
  readonly [K in keyof T]: T[K] extends string ? string : T[K] extends ReadonlyArray<unknown> ? ReadonlyArray<readonly [string, string]> : { readonly [P in keyof T[K]]: string };
};

export type Words = WordsOf<typeof zh>;
