/**
 * Messages of the bind flow's own failures (card type, the verifier's answers, the server
 * calls), localised with @lit/localize. Everything else (card, reader, PIN, browser) is
 * described by the shared `describeError` (src/components/shared/messages.ts).
 */
import { msg, str } from '@lit/localize';
import type { BindCardType } from './bind-flow.js';

/** A failure as the component shows it (same shape as the shared `describeError`). */
export interface BindMessage {
  title: string;
  detail: string;
  action?: { kind: 'retry' | 'unlock' | 'choose-reader' | 'deployment-guide'; label: string };
}

/** The card-type name as on the form. */
export function cardTypeName(type: BindCardType): string {
  return type === 'personnel' ? msg('醫事人員卡', { id: 'bind.type.personnel' }) : msg('醫事機構卡', { id: 'bind.type.institution' });
}

function retry(): BindMessage['action'] {
  return { kind: 'retry', label: msg('重新驗證', { id: 'bind.action.retry' }) };
}

/**
 * The message for a bind code: `bind/<verifier or server code>`, `bind/wrong-card-type` (needs
 * the selected type), `hca/bad-pin-format`. Undefined for codes the shared messages cover.
 */
export function describeBindFailure(code: string, context: { selected: BindCardType }): BindMessage | undefined {
  const selected = cardTypeName(context.selected);
  const other = cardTypeName(context.selected === 'personnel' ? 'institution' : 'personnel');
  switch (code) {
    case 'hca/bad-pin-format':
      return {
        title: msg('PIN 碼格式不符', { id: 'bind.pin-format.title' }),
        detail: msg('PIN 碼為 6 到 8 個英文字母或數字，請重新輸入。卡片沒有被讀取，也沒有用掉嘗試次數。', { id: 'bind.pin-format.detail' }),
      };
    case 'bind/wrong-card-type':
      return {
        title: msg('卡片類別與選擇的不同', { id: 'bind.wrong-type.title' }),
        detail: msg(str`您選擇了「${selected}」，但讀卡機上的是「${other}」。請改選「${other}」，或換插${selected}。PIN 碼尚未送出，沒有用掉嘗試次數。`, {
          id: 'bind.wrong-type.detail',
        }),
      };
    case 'bind/unknown-card-type':
    case 'bind/wrong-card-type-server':
      return {
        title: msg('這張卡不能綁定', { id: 'bind.unknown-type.title' }),
        detail: msg('卡片上的簽章憑證不是醫事人員卡或醫事機構卡的憑證。請改用醫事憑證 IC 卡。', { id: 'bind.unknown-type.detail' }),
      };
    case 'bind/network':
      return {
        title: msg('無法連線到伺服器', { id: 'bind.network.title' }),
        detail: msg('卡片已完成簽章，但結果無法送到伺服器。請確認網路連線後重新點選「驗證」。', { id: 'bind.network.detail' }),
        action: retry(),
      };
    case 'bind/challenge-failed':
      return {
        title: msg('伺服器暫時無法驗證', { id: 'bind.challenge-failed.title' }),
        detail: msg('伺服器沒有提供驗證碼（challenge）。請稍後重新點選「驗證」；若持續發生請聯絡系統管理者。', { id: 'bind.challenge-failed.detail' }),
        action: retry(),
      };
    case 'bind/origin-not-allowed':
    case 'bind/origin-mismatch':
      return {
        title: msg('網址不符', { id: 'bind.origin.title' }),
        detail: msg('這個網頁的網址不是伺服器接受綁定的網址。請從系統的正式網址開啟本頁後再試一次。', { id: 'bind.origin.detail' }),
      };
    case 'bind/challenge-expired':
    case 'bind/challenge-unknown':
    case 'bind/challenge-replayed':
      return {
        title: msg('驗證逾時，請重新操作', { id: 'bind.timeout.title' }),
        detail: msg('這次驗證已超過時限或已使用過。請重新點選「驗證」即可（需要再輸入一次 PIN 碼）。', { id: 'bind.timeout.detail' }),
        action: retry(),
      };
    case 'bind/bad-signature':
    case 'bind/unsupported-key':
      return {
        title: msg('卡片簽章驗證失敗', { id: 'bind.signature.title' }),
        detail: msg('卡片產生的簽章與卡片上的憑證不符。請重新插卡後再試；若持續發生，卡片可能已損壞，請洽醫事憑證管理中心。', { id: 'bind.signature.detail' }),
        action: retry(),
      };
    case 'bind/untrusted-chain':
      return {
        title: msg('憑證不是醫事憑證管理中心簽發', { id: 'bind.chain.title' }),
        detail: msg('伺服器無法確認這張卡的憑證是由醫事憑證管理中心（HCA）簽發的。請使用有效的醫事憑證 IC 卡。', { id: 'bind.chain.detail' }),
      };
    case 'bind/certificate-expired':
      return {
        title: msg('卡片憑證已過期', { id: 'bind.expired.title' }),
        detail: msg('這張卡的憑證已超過有效期限，不能綁定。請向醫事憑證管理中心申請換發新卡。', { id: 'bind.expired.detail' }),
      };
    case 'bind/certificate-not-yet-valid':
      return {
        title: msg('卡片憑證尚未生效', { id: 'bind.not-yet-valid.title' }),
        detail: msg('這張卡的憑證還沒有到生效日期。請在生效後再綁定，或確認電腦的日期與時間是否正確。', { id: 'bind.not-yet-valid.detail' }),
      };
    case 'bind/certificate-not-for-signing':
      return {
        title: msg('憑證不能用於簽章', { id: 'bind.not-for-signing.title' }),
        detail: msg('卡片上的憑證不是簽章用憑證，不能綁定。請洽醫事憑證管理中心。', { id: 'bind.not-for-signing.detail' }),
      };
    case 'bind/card-number-mismatch':
      return {
        title: msg('卡號與憑證不符', { id: 'bind.card-number.title' }),
        detail: msg('讀到的卡號與卡片憑證上的卡號不同。請重新插卡後再試一次。', { id: 'bind.card-number.detail' }),
        action: retry(),
      };
    case 'bind/already-bound':
      return {
        title: msg('這張卡已綁定其他帳號', { id: 'bind.already-bound.title' }),
        detail: msg('一張醫事憑證 IC 卡只能綁定一個帳號。請先以原帳號登入解除綁定，或改用其他卡片。', { id: 'bind.already-bound.detail' }),
      };
    case 'bind/no-account':
    case 'bind/bad-account':
      return {
        title: msg('缺少帳號', { id: 'bind.no-account.title' }),
        detail: msg('請先填寫帳號，再進行憑證 IC 卡綁定。', { id: 'bind.no-account.detail' }),
      };
    default:
      if (code.startsWith('bind/')) {
        return {
          title: msg('綁定失敗', { id: 'bind.failed.title' }),
          detail: msg(str`伺服器拒絕了這次綁定（代碼 ${code}）。請重新點選「驗證」；若持續發生，請將代碼告知系統管理者。`, { id: 'bind.failed.detail' }),
          action: retry(),
        };
      }
      return undefined;
  }
}
