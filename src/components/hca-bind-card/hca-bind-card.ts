/**
 * `<hca-bind-card>`: binds a healthcare card (醫事人員卡 / 醫事機構卡) to an account, as the
 * 綁定憑證 IC 卡 section of a registration or account page: choose the card type, type the PIN (or
 * key it on the reader's pinpad), press 驗證. The component reads the signature certificate and the
 * card number, checks the card type before any PIN is sent, verifies the PIN (never retried: a
 * wrong PIN shows the tries left), gets a one-use challenge, has the card sign the binding message
 * (`bindingMessage` of webccid/server), fires `hca-bind`, sends the result to the verifier and shows
 * 驗證成功 with the holder and the validity, or what went wrong and what to do.
 *
 * Defining the element is up to the app (`define.ts`); importing this module has no side effect.
 *
 * Events (all bubble and are composed):
 * - `hca-bind` (`BindPayload`): the signed response, before it is verified;
 * - `hca-bound` (`BindBoundDetail`): the verifier accepted it (驗證成功; with the reference server,
 *   nothing is bound until the page commits `bindToken` with the account);
 * - `hca-bind-error` (`{ code }`): a failure is shown (data-testid "error");
 * - `hca-unlock-requested` (`{ reason: 'pin-blocked' }`): the user followed "unlock the card" (data-testid "go-unlock").
 */
import { LitElement, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { updateWhenLocaleChanges, msg, str } from '@lit/localize';
import { WebCcidError, PinIncorrectError, TransportError } from '../../errors.js';
import { describeError, type ErrorAction, type ErrorDescription } from '../shared/messages.js';
import { renderError } from '../shared/error-view.js';
import { KioskIdleController } from '../shared/kiosk-idle.js';
import { cardAbsentError, type CardSession, type SessionState } from '../../session/card-session.js';
import { CardSessionController } from '../shared/card-session-controller.js';
import { getLocale } from '../locale.js';
import { performBinding, type BindCardType, type BindChallenge, type BindPayload, type BindStage, type CertificateSummary } from './bind-flow.js';
import { bindVerdictError, requestBindChallenge, submitBinding, type BindVerifyResult, type ServerBinding } from './bind-api.js';
import { cardTypeName, describeBindFailure, type BindMessage } from './bind-messages.js';
import { CARD_FLOW_PROPERTIES, isCardGone } from '../shared/flow-common.js';
import { checkPin, pinRuleOf } from '../shared/pin-entry.js';
import type { HcaProfile } from '../../hca/profile.js';
import { describeInputProblem, pinRuleText } from '../shared/input-messages.js';
import { bindCardStyles } from './styles.js';

/** Detail of `hca-bound`. */
export interface BindBoundDetail {
  /** What the verifier stored, when it binds at once and says so. */
  binding?: ServerBinding;
  /** The one-use token the page commits with the account (the reference server's 驗證 gives one). */
  bindToken?: string;
  /** Holder, card type and validity read from the certificate. */
  summary: CertificateSummary;
  payload: BindPayload;
}

type Phase = 'form' | 'working' | 'done';

interface ShownError extends ErrorDescription {
  /** The card is blocked: offer the unlock flow (data-testid "go-unlock"). */
  blocked?: boolean;
}

/** What the card accepts as a PIN typed on the screen (HCA: 6 to 8 letters and digits; a pinpad takes digits only). */
const PIN_RULE = pinRuleOf();

function pinProblem(text: string): string | undefined {
  return checkPin(text, PIN_RULE);
}

function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0x7f;
  return out;
}

function codeOf(error: unknown): string {
  return error instanceof WebCcidError ? error.code : 'unknown';
}

/** See the module comment. */
export class HcaBindCard extends LitElement {
  static override styles = bindCardStyles;

  /** The reactive properties (public) and the internal state (`state: true`), declared below. */
  static override properties = {
    ...CARD_FLOW_PROPERTIES,
    cardType: { attribute: 'card-type' },
    apiBase: { attribute: 'api-base' },
    getChallenge: { attribute: false },
    verifyBinding: { attribute: false },
    phase: { state: true },
    stage: { state: true },
    error: { state: true },
    result: { state: true },
    pinInvalid: { state: true },
    stopped: { state: true },
  };

  constructor() {
    super();
    updateWhenLocaleChanges(this); // re-rendered on a language switch
  }

  /** The card session the flow gets its card from (required). */
  session: CardSession | undefined;

  /** Kiosk mode: on-screen PIN pad, large targets, back to the first step on card removal and after `idleSeconds`. */
  kiosk = false;

  /** Kiosk only: seconds without any input before the flow starts over (default 120). */
  idleSeconds = 120;

  /** The selected card type (the radio buttons change it): 'personnel' (醫事人員卡, default) or 'institution' (醫事機構卡). */
  cardType: BindCardType = 'personnel';

  /** Base URL of the reference server's API for the default callbacks (default `/api`). */
  apiBase = '/api';

  /** Where the "deployment guide" action of a reader problem points. */
  deploymentGuideUrl = 'docs/deployment.md';

  /**
   * The card profile (default: chosen among the candidates by the card's answers, every
   * PIN-carrying field assumed, so a refused PIN stops the flow: `hca/profile-unconfirmed`). A
   * deployment that confirmed the profile for its cards passes it here; the demo passes its
   * virtual card's (`confirmedForVirtualCard`).
   */
  profile: HcaProfile | undefined;

  /** Seconds a pinpad reader waits for the first key (undefined: the reader's default). */
  pinpadTimeoutSeconds: number | undefined;

  /** Gets a one-use challenge and the origin it is for. Default: `POST {apiBase}/bind/challenge`. */
  getChallenge: () => Promise<BindChallenge> = () => requestBindChallenge(this.apiBase);

  /**
   * Verifies the signed response (驗證). Default: `POST {apiBase}/bind/verify` with `{ response }`,
   * which binds nothing yet: the page commits the `bindToken` of `hca-bound` with the account
   * (送出申請, or 綁定 in 帳號管理). Resolve with `{ verified: false, code }` for a refusal (shown as
   * `bind/<code>`); throw for a transport failure.
   */
  verifyBinding: (payload: BindPayload) => Promise<BindVerifyResult> = (payload) => submitBinding(this.apiBase, payload);

  private phase: Phase = 'form';
  private stage: BindStage | undefined;
  private error: ShownError | undefined;
  private result: BindBoundDetail | undefined;
  private pinInvalid = false;
  /** hca/profile-unconfirmed: the card's PIN format is not confirmed and it refused a PIN; no PIN entry is offered. */
  private stopped = false;

  get #pinInput(): HTMLInputElement | null {
    return this.renderRoot?.querySelector<HTMLInputElement>('[data-testid="pin"]') ?? null;
  }

  #abort: AbortController | undefined;
  #lostCard = false;
  readonly #cardSession = new CardSessionController(this, {
    onState: (s) => this.#onSessionState(s),
    onRelease: () => {
      this.#abort?.abort();
      this.#clearPin();
    },
  });
  readonly #idle = new KioskIdleController(this, {
    busy: () => this.phase === 'working',
    onIdle: () => this.reset(),
    events: ['pointerdown', 'keydown'],
  });

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('kiosk') || changed.has('idleSeconds')) this.#idle.arm();
  }

  /** Back to the first step: clears the PIN, the result and the message. */
  reset(): void {
    this.#abort?.abort();
    this.#clearPin();
    this.phase = 'form';
    this.stage = undefined;
    this.error = undefined;
    this.result = undefined;
    this.pinInvalid = false;
    this.stopped = false;
  }

  // ---- session and kiosk ---------------------------------------------------------------------

  #onSessionState(s: SessionState): void {
    const gone = s.kind === 'no-card' || s.kind === 'no-reader';
    if (!gone) {
      // The card (or reader) is back: a message about it being missing is out of date.
      if (s.kind === 'card' && this.error && isCardGone(this.error.code) && this.phase !== 'working') this.error = undefined;
      return;
    }
    if (this.phase === 'working' && s.lostDuringUse) {
      // The running operation fails on its own; it will show "card removed" and start over.
      this.#lostCard = true;
      this.#abort?.abort();
    } else if (this.kiosk && this.phase !== 'working') {
      this.reset();
    }
  }


  #clearPin(): void {
    const input = this.#pinInput;
    if (input) input.value = '';
  }

  // ---- the flow --------------------------------------------------------------------------------

  #emit<T>(type: string, detail: T): void {
    this.dispatchEvent(new CustomEvent<T>(type, { detail, bubbles: true, composed: true }));
  }

  /** Shows a failure; `inFlow`: the card was held when it happened (a missing card then means "removed during the operation"). */
  #show(code: string, error?: unknown, pinpad = false, inFlow = true): void {
    const own = describeBindFailure(code, { selected: this.cardType });
    let shown: ShownError;
    if (own) {
      shown = { code, ...own };
    } else if (code.startsWith('input/')) {
      shown = { code, ...this.#inputMessage(code) };
    } else {
      shown = describeError(error ?? { code }, {
        inFlow,
        pinpad,
        ...(this.deploymentGuideUrl ? { deploymentGuideUrl: this.deploymentGuideUrl } : {}),
      });
      if (shown.code === 'apdu/pin-blocked') shown.blocked = true;
    }
    // Never invite another try: the message shows the counter and asks for a field report.
    if (shown.code === 'hca/profile-unconfirmed') this.stopped = true;
    this.error = shown;
    this.#emit('hca-bind-error', { code: shown.code });
  }

  #inputMessage(code: string): BindMessage | ErrorDescription {
    switch (code) {
      case 'input/pin-empty': {
        const what = pinRuleText(PIN_RULE);
        return { title: msg('請輸入 PIN 碼', { id: 'bind.pin-empty.title' }), detail: msg(str`請輸入卡片的 PIN 碼（${what}）後再點選「驗證」。`, { id: 'bind.pin-empty.detail' }) };
      }
      default:
        return describeInputProblem(code, 'pin', PIN_RULE) ?? describeBindFailure('hca/bad-pin-format', { selected: this.cardType })!;
    }
  }

  #onCardType(event: Event): void {
    const value = (event.target as HTMLInputElement).value;
    if (value === 'personnel' || value === 'institution') this.cardType = value;
    if (this.error?.code === 'bind/wrong-card-type') this.error = undefined;
  }

  async #onVerify(event: Event): Promise<void> {
    event.preventDefault();
    if (this.phase === 'working' || this.stopped) return;
    const session = this.session;
    const pinpadReader = this.#cardSession.state?.pinpad === true;
    this.error = undefined;
    this.result = undefined;
    this.pinInvalid = false;

    let pin: Uint8Array | undefined;
    const input = this.#pinInput;
    if (!pinpadReader) {
      const text = input?.value ?? '';
      if (input) input.value = '';
      const problem = pinProblem(text);
      if (problem) {
        this.pinInvalid = true;
        this.#show(problem);
        input?.focus();
        return;
      }
      pin = asciiBytes(text);
    } else if (input) {
      input.value = '';
    }
    if (!session) {
      pin?.fill(0);
      this.#show('transport/no-reader', new TransportError('transport/no-reader', { cardSession: 'none' }));
      return;
    }

    const abort = new AbortController();
    this.#abort = abort;
    this.#lostCard = false;
    this.phase = 'working';
    this.stage = 'connecting';
    let held = false;
    let pinpadUsed = false;
    try {
      const card = await session.connect();
      held = true;
      pinpadUsed = card.pinpad;
      const outcome = await performBinding({
        channel: card.channel,
        cardType: this.cardType,
        pinpad: card.pinpad,
        pin,
        getChallenge: () => this.getChallenge(),
        onStage: (s) => {
          this.stage = s;
        },
        signal: abort.signal,
        ...(this.profile ? { profile: this.profile } : {}),
        ...(this.pinpadTimeoutSeconds !== undefined ? { pinpadTimeoutSeconds: this.pinpadTimeoutSeconds } : {}),
      });
      pin = undefined;
      await session.release();
      held = false;
      this.#emit<BindPayload>('hca-bind', outcome.payload);
      this.stage = undefined;
      const verdict = await this.verifyBinding(outcome.payload);
      if (abort.signal.aborted && !this.isConnected) return;
      if (!verdict.verified) {
        const refusal = bindVerdictError(verdict.code);
        this.phase = 'form';
        this.#show(refusal.code, refusal);
        return;
      }
      const detail: BindBoundDetail = { summary: outcome.summary, payload: outcome.payload };
      if (verdict.binding) detail.binding = verdict.binding;
      if (verdict.bindToken) detail.bindToken = verdict.bindToken;
      this.result = detail;
      this.phase = 'done';
      this.#emit('hca-bound', detail);
    } catch (e) {
      this.phase = 'form';
      if (this.#lostCard) {
        const lost = this.#cardSession.state?.error ?? cardAbsentError();
        this.#show(codeOf(lost), lost, pinpadUsed);
      } else {
        // `held` is still false when connect() itself failed: the card was not in the reader to begin with.
        this.#show(codeOf(e), e, pinpadUsed, held);
      }
      if (e instanceof PinIncorrectError || codeOf(e).startsWith('input/')) this.pinInvalid = true;
    } finally {
      pin?.fill(0);
      this.#clearPin();
      if (held) await session.release().catch(() => undefined);
      this.stage = undefined;
      if (this.#abort === abort) this.#abort = undefined;
      this.#idle.arm();
    }
  }

  #onAction(kind: ErrorAction['kind'] | 'restart'): void {
    if (kind === 'unlock') {
      this.#emit('hca-unlock-requested', { reason: 'pin-blocked' });
    } else if (kind === 'choose-reader') {
      this.#cardSession.choose();
    } else {
      this.reset();
      void this.updateComplete.then(() => this.#pinInput?.focus());
    }
  }

  // ---- rendering -------------------------------------------------------------------------------

  #stepNames(): string[] {
    return [
      msg('選擇卡別並輸入 PIN 碼', { id: 'bind.step.form' }),
      msg('讀卡、驗證與簽章', { id: 'bind.step.working' }),
      msg('驗證結果', { id: 'bind.step.done' }),
    ];
  }

  #stageText(stage: BindStage | undefined): string {
    switch (stage) {
      case 'connecting':
        return msg('正在連接卡片…', { id: 'bind.stage.connecting' });
      case 'reading':
        return msg('正在讀取卡片憑證與卡號…', { id: 'bind.stage.reading' });
      case 'verifying-pin':
        return msg('正在驗證 PIN 碼…', { id: 'bind.stage.verifying-pin' });
      case 'pinpad':
        return msg('請在讀卡機的鍵盤上輸入 PIN 碼，再按確認鍵。', { id: 'bind.stage.pinpad' });
      case 'challenge':
        return msg('正在向伺服器取得驗證碼…', { id: 'bind.stage.challenge' });
      case 'signing':
        return msg('卡片正在簽章…', { id: 'bind.stage.signing' });
      default:
        return msg('正在向伺服器驗證…', { id: 'bind.stage.verifying' });
    }
  }

  #announcement(): string {
    if (this.phase === 'working') return this.#stageText(this.stage);
    if (this.phase === 'done') return msg('驗證成功', { id: 'bind.success' });
    return msg('步驟 1：選擇憑證 IC 卡類別，輸入 PIN 碼後點選「驗證」。', { id: 'bind.announce.form' });
  }

  #formatDate(d: Date): string {
    const locale = getLocale() === 'en' ? 'en-GB' : 'zh-TW';
    return new Intl.DateTimeFormat(locale, { year: 'numeric', month: 'long', day: 'numeric' }).format(d);
  }

  #renderErrorArea(): TemplateResult | typeof nothing {
    const e = this.error;
    if (!e) return nothing;
    const hideAction = e.blocked === true || (this.kiosk && e.action?.kind === 'deployment-guide');
    return html`${renderError(e, { onAction: (a) => this.#onAction(a.kind), hideAction })}
    ${e.blocked
      ? html`<p><button type="button" data-testid="go-unlock" @click=${() => this.#onAction('unlock')}>${msg('前往解鎖卡', { id: 'bind.go-unlock' })}</button></p>`
      : nothing}`;
  }

  #renderForm(): TemplateResult {
    const working = this.phase === 'working';
    if (this.stopped) {
      return html`<div class="actions">
        <button type="button" class="secondary" data-testid="restart" @click=${() => this.reset()}>${msg('重新驗證', { id: 'bind.action.retry' })}</button>
      </div>`;
    }
    const pinpadReader = this.#cardSession.state?.pinpad === true;
    return html`<form class="panel" @submit=${this.#onVerify} novalidate aria-busy=${working ? 'true' : 'false'}>
      <fieldset ?disabled=${working}>
        <legend>${msg('憑證 IC 卡類別', { id: 'bind.card-type' })}</legend>
        <div class="choices" role="radiogroup">
          <label class="choice">
            <input type="radio" name="card-type" value="personnel" data-testid="card-type-personnel"
              .checked=${this.cardType === 'personnel'} @change=${this.#onCardType} />
            ${cardTypeName('personnel')}
          </label>
          <label class="choice">
            <input type="radio" name="card-type" value="institution" data-testid="card-type-institution"
              .checked=${this.cardType === 'institution'} @change=${this.#onCardType} />
            ${cardTypeName('institution')}
          </label>
        </div>
      </fieldset>
      ${pinpadReader
        ? html`<p class="pinpad-note" data-testid="pinpad-note">
            ${msg('這台讀卡機有密碼鍵盤：點選「驗證」後，請在讀卡機上輸入 PIN 碼並按確認鍵。PIN 碼不會經過電腦。', { id: 'bind.pinpad-note' })}
          </p>`
        : html`<div class="field">
              <label for="pin">${msg('PIN 碼', { id: 'bind.pin' })}</label>
              <p class="hint" id="pin-hint">${msg(str`卡片的 PIN 碼，${pinRuleText(PIN_RULE)}（英文字母有大小寫區別）。連續輸入錯誤 3 次卡片會鎖住。`, { id: 'bind.pin-hint' })}</p>
              <input id="pin" type="password" data-testid="pin" autocomplete="off" inputmode=${PIN_RULE.charset === 'digits' ? 'numeric' : 'text'}
                maxlength=${PIN_RULE.maxLength} aria-describedby="pin-hint" aria-invalid=${this.pinInvalid ? 'true' : 'false'}
                ?disabled=${working} />
            </div>
            ${this.kiosk ? html`<hca-pin-pad kiosk for="pin" ?letters=${PIN_RULE.charset !== 'digits'} ?disabled=${working}></hca-pin-pad>` : nothing}`}
      <div class="actions">
        <button type="submit" data-testid="verify" ?disabled=${working}>${msg('驗證', { id: 'bind.verify' })}</button>
      </div>
      ${working
        ? html`<p class="progress" data-testid="progress"><span class="spinner" aria-hidden="true"></span>${this.#stageText(this.stage)}</p>`
        : nothing}
    </form>`;
  }

  #renderResult(): TemplateResult {
    const r = this.result!;
    const s = r.summary;
    const type = s.cardType ?? r.binding?.cardType;
    return html`<div class="panel">
      <div class="success" data-testid="success" tabindex="-1">
        <h3>${msg('驗證成功', { id: 'bind.success' })}</h3>
        <p>${msg('這張醫事憑證 IC 卡已綁定到帳號。', { id: 'bind.success.detail' })}</p>
        <dl>
          <dt>${msg('持卡人', { id: 'bind.holder' })}</dt>
          <dd data-testid="holder">${r.binding?.holderName ?? s.holderName}</dd>
          ${type ? html`<dt>${msg('卡別', { id: 'bind.type' })}</dt><dd>${cardTypeName(type)}</dd>` : nothing}
          <dt>${msg('卡號', { id: 'bind.card-number' })}</dt>
          <dd>GH${r.payload.cardNumber}</dd>
          <dt>${msg('憑證有效期間', { id: 'bind.validity' })}</dt>
          <dd data-testid="validity">${msg(str`${this.#formatDate(s.notBefore)} 至 ${this.#formatDate(s.notAfter)}`, { id: 'bind.validity.range' })}</dd>
        </dl>
      </div>
      <div class="actions">
        <button type="button" class="secondary" data-testid="restart" @click=${() => this.#onAction('restart')}>${msg('重新驗證', { id: 'bind.action.retry' })}</button>
      </div>
    </div>`;
  }

  protected override render(): TemplateResult {
    const current = this.phase === 'form' ? 0 : this.phase === 'working' ? 1 : 2;
    return html`
      <hca-reader-status .session=${this.session} ?kiosk=${this.kiosk}></hca-reader-status>
      <hca-steps .steps=${this.#stepNames()} .current=${current} ?kiosk=${this.kiosk}></hca-steps>
      <div class="visually-hidden" role="status" aria-live="polite" data-testid="announce">${this.#announcement()}</div>
      <div aria-live="assertive">${this.#renderErrorArea()}</div>
      ${this.phase === 'done' && this.result ? this.#renderResult() : this.#renderForm()}
    `;
  }

  protected override updated(changed: PropertyValues): void {
    if (changed.has('phase') && this.phase === 'done') {
      this.renderRoot.querySelector<HTMLElement>('[data-testid="success"]')?.focus();
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'hca-bind-card': HcaBindCard;
  }
  interface HTMLElementEventMap {
    'hca-bind': CustomEvent<BindPayload>;
    'hca-bound': CustomEvent<BindBoundDetail>;
    'hca-bind-error': CustomEvent<{ code: string }>;
  }
}
