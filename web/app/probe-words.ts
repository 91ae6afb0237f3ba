/** The field kit page's words (web/probe.html) in Traditional Chinese; the English ones (./probe-words-en.ts) load when English is chosen (./i18n.ts). */
import { pageWords } from './i18n.js';

const zh = {
  title: '實機檢測工具',
  /** Beside the link to the driver console (the home page says the same). */
  driverDesc: '給開發者：讀卡機描述元、ATR、APDU 主控台與 CCID 封包紀錄。',
  intro:
    '幫忙確認醫事憑證 IC 卡實際的規格：這個頁面檢測您的讀卡機與卡片，產生一份報告。報告不含 PIN 碼；姓名、身分證號、卡號等個人資料會被遮蔽。下載或複製後，請依照說明寄給專案。',
  step1: '第 1 步：確認讀卡機可以用（讀健保卡）',
  step1Text: '先用健保卡試讀：不需要 PIN 碼，也不會改變卡片。讀得到，就表示讀卡機和驅動程式正常。',
  step2: '第 2 步：檢測卡片（醫事憑證 IC 卡或健保卡）',
  step2Text:
    '只會送出不會傷害卡片的指令：選取（SELECT）應用程式與檔案、讀取公開資料（EF.DIR、卡片製造資料、卡號、基本資料、憑證）。不會送出 PIN 碼、不會寫入、不會簽章。',
  sentTitle: '會送出的指令',
  neverTitle: '絕對不會送出的指令',
  neverText: 'PIN 碼、解鎖碼（PUK）、變更或解鎖 PIN、簽章、寫入或刪除檔案——除非您在下面兩個步驟各自同意。',
  counterOptIn: '也讀取 PIN 碼剩餘次數（送出不含 PIN 碼的 VERIFY，不會用掉次數）',
  run: '開始檢測',
  running: '檢測中…請勿取出卡片',
  again: '再檢測一次',
  guide: '操作說明（docs/field-test.md）',
  counterTitle: 'PIN 碼剩餘次數',
  counterText: (left: number, max: number) => `卡片回報：還可以輸入 ${left} 次（共 ${max} 次）。讀取次數沒有用掉任何一次。`,
  verifyWarning:
    '警告：這張卡的 PIN 碼格式尚未確認。即使 PIN 碼正確，卡片也可能把它算成錯誤並用掉一次；次數用完卡片會鎖住，需要用解鎖碼解鎖。只有在您願意承擔這個風險時才繼續。',
  lastTry: '只剩最後 1 次：輸入錯誤會鎖卡。建議不要在這裡驗證。',
  verifyOptIn: '我了解風險，同意送出一次含 PIN 碼的 VERIFY（不會自動重試）',
  pinLabel: 'PIN 碼',
  verifyOnce: '驗證一次',
  verifyPinpad: '在讀卡機的鍵盤上輸入',
  skipVerify: '不驗證，結束檢測',
  readerTitle: '讀卡機',
  descriptorTitle: 'CCID 描述元',
  quirksTitle: '使用中的相容性調整（quirks）',
  none: '無',
  atrTitle: 'ATR（卡片重置回應）',
  findingsTitle: '規格欄位：卡片確認、反駁或未能判斷的項目',
  confirmed: '確認',
  contradicted: '不符',
  open: '未知',
  field: '欄位',
  verdict: '結果',
  evidence: '依據',
  download: '下載報告（JSON）',
  copy: '複製報告',
  copied: '已複製到剪貼簿',
  copyFailed: '無法複製：請改用下載。',
  reportNote: '報告已遮蔽個人資料（只留長度），可以安心分享。',
  logTitle: '檢測紀錄（只顯示在這個畫面）',
  failed: '檢測失敗',
  noReader: '沒有找到讀卡機：請先在第 1 步選擇讀卡機。',
  slot: '插槽',
  noCard: '沒有卡片',
  protectedClass: '類別 0x0B（Chrome 一般網頁不能使用，需要 Isolated Web App）',
  vendorClass: '廠商自訂類別 0xFF（一般網頁可以使用）',
} as const;

export type ProbeWords = { readonly [K in keyof typeof zh]: (typeof zh)[K] extends (...a: never[]) => string ? (typeof zh)[K] : string };

export const probeWords = pageWords<ProbeWords>(zh, () => import('./probe-words-en.js').then((m) => m.en));
