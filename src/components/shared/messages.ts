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
import { detectWebUsb } from '../../session/card-session.js';
import {
  chooseReaderAction,
  guideAction,
  retryAction,
  type DescribeContext,
  type Describer,
  type ErrorDescription,
  type OsName,
} from './error-parts.js';
import { PIN_DESCRIBERS } from './pin-messages.js';

export {
  DEFAULT_FIELD_REPORT_URL,
  type DescribeContext,
  type ErrorAction,
  type ErrorActionKind,
  type ErrorDescription,
  type OsName,
} from './error-parts.js';

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

const connectionClosed: Describer = (code) => ({
  code,
  title: msg('與讀卡機的連線已中斷', { id: 'err.closed.title' }),
  detail: msg('操作沒有完成。請確認讀卡機與卡片都已插好，再操作一次。', { id: 'err.closed.detail' }),
  action: retryAction(),
});

const cardAbsent: Describer = (code, _error, context) =>
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
      };

const smartCardRefused: Describer = (code, _error, context) => ({
  code,
  title: msg('沒有使用智慧卡的權限', { id: 'err.smartcard-refused.title' }),
  detail: msg('瀏覽器或管理政策拒絕讓本應用程式使用讀卡機。請再操作一次，並在瀏覽器詢問時選擇「允許」；若由管理者部署，請洽系統管理者。', {
    id: 'err.smartcard-refused.detail',
  }),
  action: guideAction(context),
});

const heldByOtherProgram: Describer = (code, _error, context) => ({
  code,
  title: msg('讀卡機正被電腦上的其他程式使用', { id: 'err.os-held.title' }),
  detail: osHeldDetail(context.os ?? detectOs()),
  action: guideAction(context),
});

const noReader: Describer = (code) => ({
  code,
  title: msg('找不到讀卡機', { id: 'err.no-reader.title' }),
  detail: msg('請將讀卡機插上電腦的 USB 連接埠，再按「選擇讀卡機」。', { id: 'err.no-reader.detail' }),
  action: chooseReaderAction(),
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
  'transport/os-held': heldByOtherProgram,
  'transport/no-permission': (code) => ({
    code,
    title: msg('網頁沒有使用讀卡機的權限', { id: 'err.no-permission.title' }),
    detail: msg('請按「選擇讀卡機」，在瀏覽器的視窗中選取您的讀卡機並按「連線」。若本頁嵌在其他網頁中，該網頁必須允許使用 USB。', {
      id: 'err.no-permission.detail',
    }),
    action: chooseReaderAction(),
  }),
  'transport/no-reader': noReader,
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
  // the Web Smart Card API (PC/SC): what it reports that WebUSB reports under other codes
  'smartcard/no-card': cardAbsent,
  'smartcard/card-removed': cardAbsent,
  'smartcard/card-reset': connectionClosed,
  'smartcard/card-unresponsive': cardUnreadable,
  'smartcard/unsupported-card': cardUnreadable,
  'smartcard/failed': usbFailed,
  'smartcard/no-reader': noReader,
  'smartcard/sharing-violation': heldByOtherProgram,
  'smartcard/no-service': (code, _error, context) => ({
    code,
    title: msg('電腦上的智慧卡服務沒有執行', { id: 'err.smartcard-no-service.title' }),
    detail: msg('瀏覽器找不到系統的智慧卡服務。請確認它已啟動（ChromeOS 需安裝 Smart Card Connector），再操作一次；若仍發生，請洽系統管理者。', {
      id: 'err.smartcard-no-service.detail',
    }),
    action: guideAction(context),
  }),
  'smartcard/not-allowed': smartCardRefused,
  'smartcard/permission-denied': smartCardRefused,
  // the card
  'ccid/card-absent': cardAbsent,
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
  ...PIN_DESCRIBERS,
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
 *   rarer slot errors, protocol and PPS failures, status words the flows do not expect, a part
 *   of the driver the browser could not fetch (the network dropped: trying again fetches it);
 * - `smartcard/unavailable`: the automatic choice then uses WebUSB, so no user meets it.
 */
type GenericCode =
  | WebCcidErrorCodeOf<'bind' | 'nhi' | 'bytes' | 'cli' | 'report' | 'replay' | 'virtual' | 'server' | 'components'>
  | 'smartcard/unavailable'
  | 'hca/bad-argument'
  | 'hca/bad-profile'
  | 'ccid/bad-field'
  | 'ccid/bad-parameter'
  | 'ccid/bad-slot'
  | 'ccid/cmd-aborted'
  | 'ccid/command-not-supported'
  | 'ccid/message-too-long'
  | 'ccid/module-load-failed'
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
