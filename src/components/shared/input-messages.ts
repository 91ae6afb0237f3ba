/**
 * Localised words for the PIN flows' own checks (`input/*`) and the codes `describeError` does not
 * know; everything else goes to `describeError` (../shared/messages.ts). Nothing here sends
 * anything to the card: each message says so where it helps.
 */
import { msg, str } from '@lit/localize';
import { describeError, type ErrorDescription } from './messages.js';
import type { FlowError } from './flow-common.js';
import { pinRuleOf, type PinRule } from './pin-entry.js';

/** The field label a problem belongs to, for "請輸入…" style messages. */
function fieldName(field: string | undefined): string {
  switch (field) {
    case 'old-pin':
      return msg('目前的 PIN 碼', { id: 'pinflow.field.old-pin' });
    case 'new-pin-confirm':
      return msg('確認新 PIN 碼', { id: 'pinflow.field.new-pin-confirm' });
    case 'pin':
      return msg('PIN 碼', { id: 'pinflow.field.pin' });
    default:
      return msg('新 PIN 碼', { id: 'pinflow.field.new-pin' });
  }
}

/** What a PIN is under `rule`, for sentences: "6 到 8 位數字" or "6 到 8 個英文字母或數字". */
export function pinRuleText(rule: PinRule): string {
  const min = rule.minLength;
  const max = rule.maxLength;
  return rule.charset === 'digits'
    ? msg(str`${min} 到 ${max} 位數字`, { id: 'pinflow.rule.digits' })
    : msg(str`${min} 到 ${max} 個英文字母或數字`, { id: 'pinflow.rule.letters-and-digits' });
}

/** The description of an `input/*` code (undefined for other codes). */
export function describeInputProblem(code: string, field: string | undefined, rule: PinRule): ErrorDescription | undefined {
  const min = rule.minLength;
  const max = rule.maxLength;
  const name = fieldName(field);
  const what = pinRuleText(rule);
  switch (code) {
    case 'input/pin-empty':
      return {
        code,
        title: msg(str`請輸入${name}`, { id: 'pinflow.pin-empty.title' }),
        detail: msg(str`PIN 碼為 ${what}。`, { id: 'pinflow.pin-empty.detail' }),
      };
    case 'input/pin-bad-character':
      return {
        code,
        title: msg(str`${name}只能有英文字母和數字`, { id: 'pinflow.pin-bad-character.title' }),
        detail: msg(str`PIN 碼為 ${what}（英文字母有大小寫區別），不能有空白或符號。請重新輸入；卡片沒有收到，也沒有用掉嘗試次數。`, {
          id: 'pinflow.pin-bad-character.detail',
        }),
      };
    case 'input/pin-not-digits':
      return {
        code,
        title: msg(str`${name}只能是數字`, { id: 'pinflow.pin-not-digits.title' }),
        detail: msg(str`PIN 碼為 ${min} 到 ${max} 位數字（0-9）。請重新輸入；卡片沒有收到，也沒有用掉嘗試次數。`, { id: 'pinflow.pin-not-digits.detail' }),
      };
    case 'input/pin-too-short':
    case 'input/pin-too-long':
      return {
        code,
        title: msg(str`${name}的位數不對`, { id: 'pinflow.pin-length.title' }),
        detail: msg(str`PIN 碼為 ${what}。請重新輸入；卡片沒有收到，也沒有用掉嘗試次數。`, { id: 'pinflow.pin-length.detail' }),
      };
    case 'input/pin-mismatch':
      return {
        code,
        title: msg('兩次輸入的新 PIN 碼不同', { id: 'pinflow.pin-mismatch.title' }),
        detail: msg('請重新輸入新 PIN 碼，並在「確認新 PIN 碼」再輸入一次相同的號碼。卡片沒有任何變更。', { id: 'pinflow.pin-mismatch.detail' }),
      };
    case 'input/card-number-empty':
      return {
        code,
        title: msg('請輸入卡號', { id: 'pinflow.card-number-empty.title' }),
        detail: msg('卡號為卡片上「GH」之後的 12 位數字。', { id: 'pinflow.card-number-empty.detail' }),
      };
    case 'input/card-number-not-digits':
    case 'input/card-number-length':
      return {
        code,
        title: msg('卡號格式不符', { id: 'pinflow.card-number-format.title' }),
        detail: msg('卡號為卡片上「GH」之後的 12 位數字（不含 GH）。請確認後重新輸入。', { id: 'pinflow.card-number-format.detail' }),
      };
    case 'input/user-code-empty':
    case 'input/user-code-length':
      return {
        code,
        title: msg('請輸入用戶代碼', { id: 'pinflow.user-code.title' }),
        detail: msg('請輸入申請憑證時所設定的用戶代碼（英文字母有大小寫區別）。', { id: 'pinflow.user-code.detail' }),
      };
    default:
      return undefined;
  }
}

/** A short hint under the card number while it is typed (undefined: nothing to say). */
export function cardNumberHint(code: string | undefined): string | undefined {
  switch (code) {
    case 'input/card-number-not-digits':
      return msg('卡號只有數字：請輸入「GH」之後的 12 位數字。', { id: 'pinflow.hint.card-number-digits' });
    case 'input/card-number-length':
      return msg('卡號是 12 位數字，目前輸入的太長。', { id: 'pinflow.hint.card-number-long' });
    default:
      return undefined;
  }
}

/** A short hint under a PIN field while it is typed. */
export function pinHint(code: string | undefined, rule: PinRule): string | undefined {
  const max = rule.maxLength;
  switch (code) {
    case 'input/pin-not-digits':
      return msg('PIN 碼只能是數字。', { id: 'pinflow.hint.pin-digits' });
    case 'input/pin-bad-character':
      return msg('PIN 碼只能有英文字母和數字。', { id: 'pinflow.hint.pin-characters' });
    case 'input/pin-too-long':
      return msg(str`PIN 碼最多 ${max} 位。`, { id: 'pinflow.hint.pin-long' });
    default:
      return undefined;
  }
}

/**
 * What a flow component shows for `error`: its own input problems first
 * (field-level, localised here), then the shared messages for everything the
 * card, reader or service said.
 */
export function describeFlowError(
  error: FlowError,
  context: { rule: PinRule | undefined; pinpad: boolean | undefined; deploymentGuideUrl?: string | undefined },
): ErrorDescription {
  const own = describeInputProblem(error.code, error.field, context.rule ?? pinRuleOf());
  if (own) return own;
  return describeError(error.error ?? error, {
    inFlow: error.beforeCard !== true,
    ...(context.pinpad === undefined ? {} : { pinpad: context.pinpad }),
    ...(error.retriesLeft === undefined ? {} : { retriesLeft: error.retriesLeft }),
    ...(context.deploymentGuideUrl ? { deploymentGuideUrl: context.deploymentGuideUrl } : {}),
  });
}
