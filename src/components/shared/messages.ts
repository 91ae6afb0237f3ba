/**
 * What to tell the user about a failure: a localised title, a detail that says what happened and
 * what to do, and at most one action (unlock the card, try again, choose a reader, read the
 * deployment guide). Branches on `error.code` (and, for the browser's own DOMExceptions, on
 * `name`), never on message text. Strings are Traditional Chinese (source) with English
 * templates in ../locales/en.ts; whole sentences with placeholders, never concatenated.
 */
import { msg, str } from '@lit/localize';
import { WebCcidError } from '../../errors.js';
import type { WebCcidErrorCode, WebCcidErrorCodeOf } from '../../error-codes.js';
import { detectWebUsb, type WebUsbSupport } from '../../session/card-session.js';

/** What the error display offers the user. */
export type ErrorActionKind = 'unlock' | 'retry' | 'choose-reader' | 'deployment-guide' | 'field-report';

export interface ErrorAction {
  kind: ErrorActionKind;
  /** The button / link text, localised. */
  label: string;
  /** For `deployment-guide` / `field-report`: the page's address when the context gave one. */
  href?: string;
}

/** A failure as a component shows it (data-testid "error", `data-code` = `code`). */
export interface ErrorDescription {
  /** The error code (shown small for support): the WebCcidError code, or `unknown`. */
  code: string;
  title: string;
  detail: string;
  action?: ErrorAction;
  /** Tries left after a wrong PIN / PUK / user code, when known. */
  retriesLeft?: number;
}

/** Operating systems with their own advice for `transport/os-held`. */
export type OsName = 'windows' | 'linux' | 'macos' | 'chromeos' | 'android' | 'other';

export interface DescribeContext {
  /** The card was held by a flow when this happened: a removal / unplug then means "start again". */
  inFlow?: boolean;
  /** The PIN / PUK was keyed on the reader's pinpad (changes the PUK message). */
  pinpad?: boolean;
  /** Tries left, when the error does not carry them. */
  retriesLeft?: number;
  /** WebUSB support (default: `detectWebUsb()`). */
  webUsb?: WebUsbSupport;
  /** The user's OS for `transport/os-held` (default: from `navigator`). */
  os?: OsName;
  /** Address of the deployment guide, put on `deployment-guide` actions. */
  deploymentGuideUrl?: string;
  /** Address of the field report page (the probe page, or docs/field-test.md), put on `field-report` actions. Default `DEFAULT_FIELD_REPORT_URL`. */
  fieldReportUrl?: string;
}

/** Where the `field-report` action points by default: the field kit page served next to the demo. */
export const DEFAULT_FIELD_REPORT_URL = 'probe.html';

/** Guesses the OS from `navigator` (userAgentData.platform, then userAgent). */
export function detectOs(nav: { userAgent?: string; userAgentData?: { platform?: string } } | undefined = (globalThis as { navigator?: Navigator }).navigator as never): OsName {
  const text = `${nav?.userAgentData?.platform ?? ''} ${nav?.userAgent ?? ''}`.toLowerCase();
  if (text.includes('cros') || text.includes('chrome os') || text.includes('chromeos')) return 'chromeos';
  if (text.includes('android')) return 'android';
  if (text.includes('windows')) return 'windows';
  if (text.includes('mac')) return 'macos';
  if (text.includes('linux')) return 'linux';
  return 'other';
}

/** A count carried by the error (`retriesLeft`, `attemptsLeft`, `retryAfterSeconds`), when valid. */
function countOf(error: unknown, key: 'retriesLeft' | 'attemptsLeft' | 'retryAfterSeconds'): number | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const v = (error as Record<string, unknown>)[key];
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

function codeOf(error: unknown): string {
  if (error instanceof WebCcidError) return error.code;
  const c = (error as { code?: unknown } | null)?.code;
  if (typeof c === 'string' && /^[a-z][a-z0-9-]*(\/[a-z0-9-]+)*$/.test(c)) return c; // a { code } record (e.g. a flow's FlowError)
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'NotFoundError') return 'browser/no-device-chosen';
  if (name === 'SecurityError' || name === 'NotAllowedError') return 'transport/no-permission';
  if (name === 'AbortError') return 'aborted';
  return 'unknown';
}

// ---- actions -----------------------------------------------------------------------------------

function retryAction(): ErrorAction {
  return { kind: 'retry', label: msg('再試一次', { id: 'err.action.retry' }) };
}

function unlockAction(): ErrorAction {
  return { kind: 'unlock', label: msg('前往解鎖卡', { id: 'err.action.unlock' }) };
}

function chooseReaderAction(): ErrorAction {
  return { kind: 'choose-reader', label: msg('選擇讀卡機', { id: 'err.action.choose-reader' }) };
}

function guideAction(context: DescribeContext): ErrorAction {
  return {
    kind: 'deployment-guide',
    label: msg('查看部署說明', { id: 'err.action.deployment-guide' }),
    ...(context.deploymentGuideUrl ? { href: context.deploymentGuideUrl } : {}),
  };
}

function fieldReportAction(context: DescribeContext): ErrorAction {
  return { kind: 'field-report', label: msg('傳送現場回報', { id: 'err.action.field-report' }), href: context.fieldReportUrl ?? DEFAULT_FIELD_REPORT_URL };
}

// ---- pieces used by several codes --------------------------------------------------------------

function noWebUsb(code: string, _error: unknown, context: DescribeContext): ErrorDescription {
  const support = context.webUsb ?? detectWebUsb();
  if (!support.supported && support.reason === 'insecure-context') {
    return {
      code,
      title: msg('此網頁未使用安全連線（HTTPS）', { id: 'err.no-webusb.insecure.title' }),
      detail: msg('瀏覽器只允許 HTTPS 網頁（或本機 localhost）使用讀卡機。請改用 https:// 開頭的網址開啟本頁。', {
        id: 'err.no-webusb.insecure.detail',
      }),
      action: guideAction(context),
    };
  }
  return {
    code,
    title: msg('這個瀏覽器無法使用讀卡機', { id: 'err.no-webusb.browser.title' }),
    detail: msg('請改用電腦版或 Android 版的 Chrome 或 Edge 瀏覽器開啟本頁。Firefox 與 Safari 不支援 WebUSB。', {
      id: 'err.no-webusb.browser.detail',
    }),
    action: guideAction(context),
  };
}

function osHeldDetail(os: OsName): string {
  switch (os) {
    case 'windows':
      return msg('Windows 的智慧卡驅動程式占用了這台讀卡機。請用 Zadig 將讀卡機的驅動程式換成 WinUSB，再重新插拔讀卡機（詳見部署說明）。', {
        id: 'err.os-held.windows',
      });
    case 'linux':
      return msg('Linux 的 pcscd 服務占用了這台讀卡機。請停止 pcscd（sudo systemctl stop pcscd.socket pcscd），加上讀卡機的 udev 規則，再重新插拔讀卡機（詳見部署說明）。', {
        id: 'err.os-held.linux',
      });
    case 'macos':
      return msg('macOS 的系統智慧卡服務占用了這台讀卡機，網頁無法直接使用。請改用廠商類別的讀卡機（例如 EZ100PU），或依部署說明改用其他方式。', {
        id: 'err.os-held.macos',
      });
    case 'chromeos':
      return msg('ChromeOS 上的其他應用程式（例如 Smart Card Connector）占用了這台讀卡機。請關閉該應用程式後重新插拔讀卡機，或請管理者依部署說明設定。', {
        id: 'err.os-held.chromeos',
      });
    default:
      return msg('電腦上的其他程式（智慧卡服務或讀卡機驅動程式）占用了這台讀卡機。請依部署說明釋放讀卡機後，再重新插拔讀卡機。', {
        id: 'err.os-held.other',
      });
  }
}

/** Whole hours (>= 1 h) or whole minutes (>= 1), rounded up; undefined when unknown. */
function waitOf(seconds: number | undefined): { hours: number } | { minutes: number } | undefined {
  if (seconds === undefined) return undefined;
  if (seconds >= 3600) return { hours: Math.ceil(seconds / 3600) };
  return { minutes: Math.max(1, Math.ceil(seconds / 60)) };
}

/** What a code is told with: the code (as `codeOf` found it), the error, the caller's context. */
type Describer = (code: string, error: unknown, context: DescribeContext) => ErrorDescription;

const connectionClosed: Describer = (code) => ({
  code,
  title: msg('與讀卡機的連線已中斷', { id: 'err.closed.title' }),
  detail: msg('操作沒有完成。請確認讀卡機與卡片都已插好，再操作一次。', { id: 'err.closed.detail' }),
  action: retryAction(),
});

const usbFailed: Describer = (code) => ({
  code,
  title: msg('與讀卡機通訊失敗', { id: 'err.usb-failed.title' }),
  detail: msg(str`讀卡機的回應有誤，操作沒有完成。請再操作一次；若仍發生，請重新插拔讀卡機，並將錯誤代碼 ${code} 提供給客服人員。`, {
    id: 'err.usb-failed.detail',
  }),
  action: retryAction(),
});

const unsupportedReader: Describer = (code) => ({
  code,
  title: msg('不支援這台讀卡機', { id: 'err.unsupported-reader.title' }),
  detail: msg('選取的 USB 裝置不是本網頁支援的晶片讀卡機。請改用符合 CCID 標準的讀卡機，再按「選擇讀卡機」。', {
    id: 'err.unsupported-reader.detail',
  }),
  action: chooseReaderAction(),
});

const cardUnreadable: Describer = (code) => ({
  code,
  title: msg('讀不到卡片', { id: 'err.card-unreadable.title' }),
  detail: msg('讀卡機無法與卡片通訊。請取出卡片，以正確方向完整插入後再試一次；若仍失敗，請清潔晶片或換一台讀卡機。', {
    id: 'err.card-unreadable.detail',
  }),
  action: retryAction(),
});

const badCardData: Describer = (code) => ({
  code,
  title: msg('卡片內容無法辨識', { id: 'err.bad-card-data.title' }),
  detail: msg(str`卡片上的資料格式不符。請重新插卡再試一次；若仍發生，卡片可能已損壞，請將錯誤代碼 ${code} 提供給醫事憑證管理中心。`, {
    id: 'err.bad-card-data.detail',
  }),
  action: retryAction(),
});

const noPinpad: Describer = (code) => ({
  code,
  title: msg('讀卡機沒有按鍵', { id: 'err.no-pinpad.title' }),
  detail: msg('這台讀卡機不能在讀卡機上輸入 PIN 碼。請改在畫面上輸入。', { id: 'err.no-pinpad.detail' }),
  action: retryAction(),
});

/** Codes `describeError` knows that are not `WebCcidErrorCode`s (made by `codeOf` from a browser DOMException). */
type BrowserCode = 'browser/no-device-chosen';

/**
 * Each code with its own message. The keys are checked against `WebCcidErrorCode`, and every
 * code not here is in `GenericCode` (below): adding a code to the union without deciding fails
 * type checking.
 */
const DESCRIBERS = {
  // browser, WebUSB and the reader
  'transport/no-webusb': noWebUsb,
  'hca/no-webcrypto': (code, _error, context) => ({
    code,
    title: msg('此網頁未使用安全連線（HTTPS）', { id: 'err.no-webusb.insecure.title' }),
    detail: msg('簽章需要瀏覽器的加密功能，而它只在 HTTPS 網頁（或本機 localhost）上提供。請改用 https:// 開頭的網址開啟本頁。', {
      id: 'err.no-webcrypto.detail',
    }),
    action: guideAction(context),
  }),
  'transport/protected-class': (code, _error, context) => ({
    code,
    title: msg('瀏覽器不允許一般網頁使用這台讀卡機', { id: 'err.protected-class.title' }),
    detail: msg('Chrome 保護智慧卡類別（USB 類別 0x0B）的讀卡機，一般網頁無法直接使用。請改用廠商類別的讀卡機（例如 EZ100PU），或請系統管理者依部署說明以隔離式網頁應用程式（Isolated Web App）部署。', {
      id: 'err.protected-class.detail',
    }),
    action: guideAction(context),
  }),
  'transport/os-held': (code, _error, context) => ({
    code,
    title: msg('讀卡機正被電腦上的其他程式使用', { id: 'err.os-held.title' }),
    detail: osHeldDetail(context.os ?? detectOs()),
    action: guideAction(context),
  }),
  'transport/no-permission': (code) => ({
    code,
    title: msg('網頁沒有使用讀卡機的權限', { id: 'err.no-permission.title' }),
    detail: msg('請按「選擇讀卡機」，在瀏覽器的視窗中選取您的讀卡機並按「連線」。若本頁嵌在其他網頁中，該網頁必須允許使用 USB。', {
      id: 'err.no-permission.detail',
    }),
    action: chooseReaderAction(),
  }),
  'transport/no-reader': (code) => ({
    code,
    title: msg('找不到讀卡機', { id: 'err.no-reader.title' }),
    detail: msg('請將讀卡機插上電腦的 USB 連接埠，再按「選擇讀卡機」。', { id: 'err.no-reader.detail' }),
    action: chooseReaderAction(),
  }),
  'browser/no-device-chosen': (code) => ({
    code,
    title: msg('沒有選擇讀卡機', { id: 'err.no-device-chosen.title' }),
    detail: msg('瀏覽器的視窗已關閉，沒有選取讀卡機。請確認讀卡機已插上，再按「選擇讀卡機」並選取它。', {
      id: 'err.no-device-chosen.detail',
    }),
    action: chooseReaderAction(),
  }),
  'transport/disconnected': (code, _error, context) =>
    context.inFlow
      ? {
          code,
          title: msg('讀卡機在操作中被拔除', { id: 'err.disconnected.in-flow.title' }),
          detail: msg('操作沒有完成，已回到第一步。請重新插上讀卡機（網頁會自動重新連線），再從頭操作一次。', {
            id: 'err.disconnected.in-flow.detail',
          }),
        }
      : {
          code,
          title: msg('讀卡機已拔除', { id: 'err.disconnected.title' }),
          detail: msg('請重新插上讀卡機，網頁會自動重新連線。', { id: 'err.disconnected.detail' }),
        },
  'transport/closed': connectionClosed,
  'ccid/not-connected': connectionClosed,
  'transport/timeout': (code) => ({
    code,
    title: msg('讀卡機沒有回應', { id: 'err.timeout.title' }),
    detail: msg('讀卡機或卡片沒有在時限內回應。請確認卡片已插好，再操作一次；若仍發生，請重新插拔讀卡機。', {
      id: 'err.timeout.detail',
    }),
    action: retryAction(),
  }),
  'transport/stall': usbFailed,
  'transport/babble': usbFailed,
  'transport/failed': usbFailed,
  'ccid/malformed-frame': usbFailed,
  'ccid/length-mismatch': usbFailed,
  'ccid/unexpected-message': usbFailed,
  'ccid/stale-limit': usbFailed,
  'ccid/hw-error': usbFailed,
  'ccid/cmd-slot-busy': usbFailed,
  'ccid/busy-with-auto-sequence': usbFailed,
  'ccid/no-interface': unsupportedReader,
  'ccid/no-class-descriptor': unsupportedReader,
  'ccid/bad-descriptor': unsupportedReader,
  'ccid/unsupported-level': unsupportedReader,
  // the card
  'ccid/card-absent': (code, _error, context) =>
    context.inFlow
      ? {
          code,
          title: msg('卡片在操作中被取出', { id: 'err.card-removed.title' }),
          detail: msg('操作沒有完成，已回到第一步。請重新插入卡片，再從頭操作一次。', { id: 'err.card-removed.detail' }),
        }
      : {
          code,
          title: msg('讀卡機中沒有卡片', { id: 'err.card-absent.title' }),
          detail: msg('請將醫事憑證 IC 卡晶片朝上、晶片那一端先插入讀卡機。', { id: 'err.card-absent.detail' }),
        },
  'ccid/icc-mute': cardUnreadable,
  'ccid/bad-atr-ts': cardUnreadable,
  'ccid/bad-atr-tck': cardUnreadable,
  'ccid/xfr-parity-error': cardUnreadable,
  'ccid/xfr-overrun': cardUnreadable,
  'ccid/procedure-byte-conflict': cardUnreadable,
  'ccid/deactivated-protocol': cardUnreadable,
  'ccid/icc-protocol-not-supported': cardUnreadable,
  'ccid/icc-class-not-supported': cardUnreadable,
  'protocol/bad-atr': cardUnreadable,
  'protocol/no-common-protocol': cardUnreadable,
  'protocol/t1-unrecoverable': cardUnreadable,
  'protocol/t1-aborted': cardUnreadable,
  'protocol/t0-bad-response': cardUnreadable,
  'protocol/bad-response': cardUnreadable,
  'protocol/t1-resynchronised': (code) => ({
    code,
    title: msg('與卡片的通訊中斷', { id: 'err.t1-resynchronised.title' }),
    detail: msg('通訊中斷時，卡片可能已執行了這個動作，也可能沒有。請先確認結果（例如剩餘的 PIN 碼嘗試次數），再決定是否重新操作。', {
      id: 'err.t1-resynchronised.detail',
    }),
  }),
  'hca/not-hca-card': (code) => ({
    code,
    title: msg('這不是醫事憑證 IC 卡', { id: 'err.not-hca-card.title' }),
    detail: msg('讀卡機中的卡片不是醫事人員卡或醫事機構卡（例如健保卡或金融卡）。請取出後插入醫事憑證 IC 卡。', {
      id: 'err.not-hca-card.detail',
    }),
  }),
  'hca/certificate-absent': (code) => ({
    code,
    title: msg('卡片中沒有所需的憑證', { id: 'err.certificate-absent.title' }),
    detail: msg('這張卡片沒有這項作業需要的憑證（例如較舊的卡片）。請改用第二代醫事憑證 IC 卡，或向醫事憑證管理中心申請換發。', {
      id: 'err.certificate-absent.detail',
    }),
  }),
  'hca/bad-file': badCardData,
  'hca/bad-response': badCardData,
  // PIN and PUK
  'apdu/pin-incorrect': (code, error, context) => {
    const n = countOf(error, 'retriesLeft') ?? context.retriesLeft;
    const base = { code, title: msg('PIN 碼錯誤', { id: 'err.pin-incorrect.title' }) };
    if (n === undefined) {
      return { ...base, detail: msg('PIN 碼不正確，請重新輸入。連續輸入錯誤 3 次，卡片會被鎖住。', { id: 'err.pin-incorrect.detail' }) };
    }
    if (n === 1) {
      return {
        ...base,
        retriesLeft: n,
        detail: msg('PIN 碼不正確，只剩最後 1 次機會。若再輸入錯誤，卡片將被鎖住，必須辦理解鎖卡。', { id: 'err.pin-incorrect.last' }),
      };
    }
    return {
      ...base,
      retriesLeft: n,
      detail: msg(str`PIN 碼不正確，還可以再試 ${n} 次。全部用完後，卡片會被鎖住。`, { id: 'err.pin-incorrect.retries' }),
    };
  },
  'apdu/pin-blocked': (code) => ({
    code,
    title: msg('卡片已鎖住', { id: 'err.pin-blocked.title' }),
    detail: msg('PIN 碼輸入錯誤次數已達上限，卡片已被鎖住。請使用「解鎖卡」功能，以卡號與用戶代碼取得解鎖碼，並設定新的 PIN 碼。', {
      id: 'err.pin-blocked.detail',
    }),
    retriesLeft: 0,
    action: unlockAction(),
  }),
  'hca/profile-unconfirmed': (code, error, context) => {
    // Never invite another try: say what happened, show the counter, ask for a field report.
    const reason = (error as { reason?: unknown } | null)?.reason;
    const n = countOf(error, 'retriesLeft') ?? context.retriesLeft;
    const base = {
      code,
      title: msg('請先停止：這張卡片的 PIN 碼格式尚未確認', { id: 'err.profile-unconfirmed.title' }),
      action: fieldReportAction(context),
      ...(n === undefined ? {} : { retriesLeft: n }),
    };
    if (reason === 'not-implementable') {
      return {
        ...base,
        detail: msg('這種卡片的 PIN 碼必須以卡片廠商的金鑰加密後才能送出，本系統沒有這些金鑰，因此沒有送出 PIN 碼，也沒有用掉嘗試次數。請改用醫事憑證管理中心的元件，並傳送現場回報協助我們確認這種卡片。', {
          id: 'err.profile-unconfirmed.not-implementable',
        }),
      };
    }
    if (reason === 'status-unexpected') {
      return {
        ...base,
        detail: msg('卡片查詢剩餘次數的回應與預期不同，因此沒有送出 PIN 碼，也沒有用掉嘗試次數。請不要再試，並傳送現場回報協助我們確認這種卡片。', {
          id: 'err.profile-unconfirmed.status-unexpected',
        }),
      };
    }
    if ((error as { operation?: unknown } | null)?.operation === 'unblock') {
      // The unblock command carries the PUK (from the unlock service or typed on the pinpad), not the PIN.
      return {
        ...base,
        title: msg('請先停止：這張卡片的解鎖碼格式尚未確認', { id: 'err.profile-unconfirmed.puk-title' }),
        detail:
          n === undefined
            ? msg('卡片拒絕了解鎖碼。解鎖碼可能是正確的：本系統對這種卡片的解鎖碼格式尚未確認。請不要再試，以免用掉嘗試次數，並傳送現場回報協助我們確認格式。', {
                id: 'err.profile-unconfirmed.puk-refused',
              })
            : msg(str`卡片拒絕了解鎖碼，卡片顯示還可以再試 ${n} 次。解鎖碼可能是正確的：本系統對這種卡片的解鎖碼格式尚未確認。請不要再試，以免用掉嘗試次數，並傳送現場回報協助我們確認格式。`, {
                id: 'err.profile-unconfirmed.puk-refused-retries',
              }),
      };
    }
    if (n === undefined) {
      return {
        ...base,
        detail: msg('卡片拒絕了 PIN 碼。您輸入的 PIN 碼可能是正確的：本系統對這種卡片的 PIN 碼格式尚未確認。請不要再試，以免用掉嘗試次數，並傳送現場回報協助我們確認格式。', {
          id: 'err.profile-unconfirmed.refused',
        }),
      };
    }
    return {
      ...base,
      detail: msg(str`卡片拒絕了 PIN 碼，卡片顯示還可以再試 ${n} 次。您輸入的 PIN 碼可能是正確的：本系統對這種卡片的 PIN 碼格式尚未確認。請不要再試，以免用掉嘗試次數，並傳送現場回報協助我們確認格式。`, {
        id: 'err.profile-unconfirmed.refused-retries',
      }),
    };
  },
  'hca/bad-pin-format': (code) => ({
    code,
    title: msg('PIN 碼格式不符', { id: 'err.bad-pin-format.title' }),
    detail: msg('PIN 碼為 6 到 8 個英文字母或數字。請重新輸入；卡片沒有收到這組 PIN 碼，也沒有用掉嘗試次數。', { id: 'err.bad-pin-format.detail' }),
  }),
  'hca/bad-puk-format': (code) => ({
    code,
    title: msg('解鎖碼格式不符', { id: 'err.bad-puk-format.title' }),
    detail: msg('解鎖碼（PUK）為 8 位數字，這組解鎖碼不符合。卡片沒有收到它。請重新操作；若仍發生，請洽醫事憑證管理中心。', {
      id: 'err.bad-puk-format.detail',
    }),
  }),
  'hca/puk-incorrect': (code, error, context) => {
    const n = countOf(error, 'retriesLeft') ?? context.retriesLeft;
    const title = msg('解鎖碼錯誤', { id: 'err.puk-incorrect.title' });
    if (context.pinpad) {
      return {
        code,
        title,
        ...(n !== undefined ? { retriesLeft: n } : {}),
        detail:
          n === undefined
            ? msg('在讀卡機上輸入的解鎖碼不正確，PIN 碼沒有變更。請再操作一次，並仔細輸入畫面上顯示的解鎖碼。', { id: 'err.puk-incorrect.pinpad' })
            : msg(str`在讀卡機上輸入的解鎖碼不正確，PIN 碼沒有變更。解鎖碼還可以再試 ${n} 次；請再操作一次，並仔細輸入畫面上顯示的解鎖碼。`, {
                id: 'err.puk-incorrect.pinpad.retries',
              }),
        action: retryAction(),
      };
    }
    return {
      code,
      title,
      ...(n !== undefined ? { retriesLeft: n } : {}),
      detail:
        n === undefined
          ? msg('卡片不接受解鎖服務提供的解鎖碼，PIN 碼沒有變更。請確認輸入的卡號就是讀卡機中這張卡的卡號；若仍發生，請洽醫事憑證管理中心。', {
              id: 'err.puk-incorrect.service',
            })
          : msg(str`卡片不接受解鎖服務提供的解鎖碼，PIN 碼沒有變更，解鎖碼還可以再試 ${n} 次。請確認輸入的卡號就是讀卡機中這張卡的卡號；若仍發生，請洽醫事憑證管理中心。`, {
              id: 'err.puk-incorrect.service.retries',
            }),
    };
  },
  'hca/puk-blocked': (code) => ({
    code,
    title: msg('卡片已無法解鎖', { id: 'err.puk-blocked.title' }),
    detail: msg('解鎖碼錯誤次數已達上限，這張卡已永久鎖住，無法再解鎖。請向醫事憑證管理中心申請補發新卡。', { id: 'err.puk-blocked.detail' }),
    retriesLeft: 0,
  }),
  // the reader's pinpad
  'ccid/pin-cancelled': (code) => ({
    code,
    title: msg('已在讀卡機上取消', { id: 'err.pin-cancelled.title' }),
    detail: msg('您在讀卡機上按了取消，卡片沒有任何變更。要繼續，請再操作一次。', { id: 'err.pin-cancelled.detail' }),
    action: retryAction(),
  }),
  'ccid/pin-timeout': (code) => ({
    code,
    title: msg('讀卡機等候輸入逾時', { id: 'err.pin-timeout.title' }),
    detail: msg('讀卡機等候輸入的時間已過，卡片沒有任何變更。請再操作一次，並在讀卡機提示後儘快輸入。', { id: 'err.pin-timeout.detail' }),
    action: retryAction(),
  }),
  'ccid/pin-mismatch': (code) => ({
    code,
    title: msg('兩次輸入的新 PIN 碼不同', { id: 'err.pinpad-mismatch.title' }),
    detail: msg('在讀卡機上兩次輸入的新 PIN 碼不一致，卡片沒有任何變更。請再操作一次。', { id: 'err.pinpad-mismatch.detail' }),
    action: retryAction(),
  }),
  'ccid/pin-length': (code) => ({
    code,
    title: msg('輸入的位數不對', { id: 'err.pinpad-length.title' }),
    detail: msg('在讀卡機上輸入的位數不符（PIN 碼為 6 到 8 位數字，解鎖碼為 8 位數字）。卡片沒有收到，也沒有用掉嘗試次數。請再操作一次。', {
      id: 'err.pinpad-length.detail',
    }),
    action: retryAction(),
  }),
  'hca/no-pinpad': noPinpad,
  'ccid/pinpad-unsupported': noPinpad,
  // the unlock (PUK) service
  'unlock/wrong-user-code': (code, error, context) => {
    const n = countOf(error, 'attemptsLeft') ?? context.retriesLeft;
    const title = msg('卡號或用戶代碼錯誤', { id: 'err.wrong-user-code.title' });
    if (n === undefined) {
      return {
        code,
        title,
        detail: msg('卡號或用戶代碼不正確（用戶代碼的英文字母有大小寫區別）。請確認後重新輸入；如遺忘用戶代碼，可利用「用戶代碼 E-mail 查詢通知」。', {
          id: 'err.wrong-user-code.detail',
        }),
      };
    }
    return {
      code,
      title,
      retriesLeft: n,
      detail: msg(str`卡號或用戶代碼不正確（用戶代碼的英文字母有大小寫區別）。再錯 ${n} 次，這張卡的解鎖卡作業將暫停。如遺忘用戶代碼，可利用「用戶代碼 E-mail 查詢通知」。`, {
        id: 'err.wrong-user-code.retries',
      }),
    };
  },
  'unlock/card-locked': (code, error) => {
    const wait = waitOf(countOf(error, 'retryAfterSeconds'));
    const title = msg('解鎖卡作業已暫停', { id: 'err.card-locked.title' });
    let detail: string;
    if (wait && 'hours' in wait) {
      const hours = wait.hours;
      detail = msg(str`這張卡的用戶代碼輸入錯誤次數過多，解鎖卡作業已暫停。請於 ${hours} 小時後再試，或洽醫事憑證管理中心。`, { id: 'err.card-locked.hours' });
    } else if (wait) {
      const minutes = wait.minutes;
      detail = msg(str`這張卡的用戶代碼輸入錯誤次數過多，解鎖卡作業已暫停。請於 ${minutes} 分鐘後再試，或洽醫事憑證管理中心。`, { id: 'err.card-locked.minutes' });
    } else {
      detail = msg('這張卡的用戶代碼輸入錯誤次數過多，解鎖卡作業已暫停。請稍後再試，或洽醫事憑證管理中心。', { id: 'err.card-locked.detail' });
    }
    return { code, title, detail, retriesLeft: 0 };
  },
  'unlock/rate-limited': (code, error) => {
    const wait = waitOf(countOf(error, 'retryAfterSeconds'));
    const title = msg('嘗試次數過多', { id: 'err.rate-limited.title' });
    let detail: string;
    if (wait && 'hours' in wait) {
      const hours = wait.hours;
      detail = msg(str`短時間內的嘗試次數過多，解鎖服務暫時不受理。請於 ${hours} 小時後再試。`, { id: 'err.rate-limited.hours' });
    } else if (wait) {
      const minutes = wait.minutes;
      detail = msg(str`短時間內的嘗試次數過多，解鎖服務暫時不受理。請於 ${minutes} 分鐘後再試。`, { id: 'err.rate-limited.minutes' });
    } else {
      detail = msg('短時間內的嘗試次數過多，解鎖服務暫時不受理。請稍後再試。', { id: 'err.rate-limited.detail' });
    }
    return { code, title, detail };
  },
  'unlock/bad-card-number': (code) => ({
    code,
    title: msg('卡號格式不符', { id: 'err.bad-card-number.title' }),
    detail: msg('卡號為卡片上「GH」之後的 12 位數字。請確認後重新輸入。', { id: 'err.bad-card-number.detail' }),
  }),
  'unlock/bad-user-code': (code) => ({
    code,
    title: msg('請輸入用戶代碼', { id: 'err.bad-user-code.title' }),
    detail: msg('請輸入申請憑證時所設定的用戶代碼（英文字母有大小寫區別）。', { id: 'err.bad-user-code.detail' }),
  }),
  'unlock/card-mismatch': (code) => ({
    code,
    title: msg('卡號與讀卡機中的卡片不符', { id: 'err.card-mismatch.title' }),
    detail: msg('輸入的卡號不是讀卡機中這張卡的卡號。請確認卡號，或插入正確的卡片後再操作一次。', { id: 'err.card-mismatch.detail' }),
  }),
  'unlock/network': (code) => ({
    code,
    title: msg('無法連線到解鎖服務', { id: 'err.unlock-network.title' }),
    detail: msg('卡片沒有任何變更。請確認網路連線後再試一次。', { id: 'err.unlock-network.detail' }),
    action: retryAction(),
  }),
  'unlock/server-error': (code) => ({
    code,
    title: msg('解鎖服務暫時無法使用', { id: 'err.unlock-server.title' }),
    detail: msg('卡片沒有任何變更。請稍後再試；若仍發生，請洽醫事憑證管理中心。', { id: 'err.unlock-server.detail' }),
    action: retryAction(),
  }),
  'aborted': (code) => ({
    code,
    title: msg('已取消', { id: 'err.aborted.title' }),
    detail: msg('操作已取消。', { id: 'err.aborted.detail' }),
  }),
} satisfies Partial<Record<WebCcidErrorCode | BrowserCode, Describer>>;

/**
 * Codes that get the generic message ("unexpected error", with the code for support), each on
 * purpose:
 * - described by their own component first: `bind/*` (bind-messages.ts), `nhi/*` (<nhi-card-reader>);
 * - never reach a user of the components: tools, servers, set-up and programming errors
 *   (`bytes/*`, `cli/*`, `report/*`, `replay/*`, `virtual/*`, `server/*`, `components/*`,
 *   `hca/bad-argument`, `hca/bad-profile`, the driver's own argument checks);
 * - failures a user cannot act on beyond "try again, then give support the code": the reader's
 *   rarer slot errors, protocol and PPS failures, status words the flows do not expect, and the
 *   Web Smart Card API's errors.
 */
type GenericCode =
  | WebCcidErrorCodeOf<'bind' | 'nhi' | 'bytes' | 'cli' | 'report' | 'replay' | 'virtual' | 'server' | 'components' | 'smartcard'>
  | 'hca/bad-argument'
  | 'hca/bad-profile'
  | 'ccid/bad-field'
  | 'ccid/bad-parameter'
  | 'ccid/bad-slot'
  | 'ccid/cmd-aborted'
  | 'ccid/command-not-supported'
  | 'ccid/message-too-long'
  | 'ccid/slot-busy'
  | 'ccid/slot-error'
  | 'protocol/apdu-too-long'
  | 'protocol/bad-apdu'
  | 'protocol/bad-parameters'
  | 'protocol/pps-failed'
  | 'protocol/t1-bad-block'
  | 'protocol/t1-endless-exchange'
  | Exclude<WebCcidErrorCodeOf<'apdu'>, 'apdu/pin-incorrect' | 'apdu/pin-blocked'>;

/** Compile-time check: no code is left undecided (the type error names the codes). */
type Undecided = Exclude<WebCcidErrorCode, keyof typeof DESCRIBERS | GenericCode>;
const everyCodeDecided: [Undecided] extends [never] ? true : { undecided: Undecided } = true;
void everyCodeDecided;

function generic(code: string): ErrorDescription {
  return {
    code,
    title: msg('發生未預期的錯誤', { id: 'err.unknown.title' }),
    detail: msg(str`操作沒有完成。請再試一次；若仍發生，請將錯誤代碼 ${code} 提供給客服人員。`, { id: 'err.unknown.detail' }),
    action: retryAction(),
  };
}

/**
 * The localised description of a failure (see the module comment). `error` is anything thrown
 * (our errors, the browser's DOMExceptions) or a `{ code }` record. Codes without their own
 * message (and unknown ones) get a generic message that shows the code for support.
 */
export function describeError(error: unknown, context: DescribeContext = {}): ErrorDescription {
  const code = codeOf(error);
  const own = Object.hasOwn(DESCRIBERS, code) ? (DESCRIBERS as Record<string, Describer>)[code] : undefined;
  return own ? own(code, error, context) : generic(code);
}

/** Every code `describeError` has its own message for (the rest get the generic one). */
export const DESCRIBED_CODES: readonly string[] = Object.keys(DESCRIBERS);
