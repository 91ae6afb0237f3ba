/**
 * The messages of PIN and PUK failures: wrong or blocked PIN and PUK, the reader's pinpad, and
 * the unlock (PUK) service. Part of `describeError` (messages.ts), kept apart by concern.
 */
import { msg, str } from '@lit/localize';
import type { WebCcidErrorCode } from '../../error-codes.js';
import { countOf, fieldReportAction, retryAction, unlockAction, waitOf, type Describer } from './error-parts.js';

const noPinpad: Describer = (code) => ({
  code,
  title: msg('讀卡機沒有按鍵', { id: 'err.no-pinpad.title' }),
  detail: msg('這台讀卡機不能在讀卡機上輸入 PIN 碼。請改在畫面上輸入。', { id: 'err.no-pinpad.detail' }),
  action: retryAction(),
});


export const PIN_DESCRIBERS = {
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
} satisfies Partial<Record<WebCcidErrorCode, Describer>>;
