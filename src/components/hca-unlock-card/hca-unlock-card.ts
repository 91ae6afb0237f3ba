/**
 * `<hca-unlock-card>`: unlocks a healthcare card whose PIN is blocked or forgotten (解鎖卡作業),
 * the HCA's own steps without the ActiveX set-up:
 *
 * 1. 卡號 (the 12 digits after "GH", checked as typed) and 用戶代碼 (case sensitive). The card in
 *    the reader is read first and must be that card; then `requestPuk` gets the PUK (解鎖碼).
 * 2. On a pinpad reader the PUK is shown and the user keys it, then the new PIN twice, on the
 *    reader. Otherwise the component sends the PUK itself (never shown) and asks for the new PIN
 *    twice on the screen.
 * 3. 變更PIN碼(解鎖卡)成功!
 *
 * Defining the element is up to the app (`define.ts`); importing this module has no side effect.
 * The logic lives in `UnlockFlow` (unlock-flow.ts, tested in Node).
 *
 * Event (bubbles, composed): `hca-unlocked` (`UnlockedDetail`).
 *
 * Test hooks: `card-number`, `user-code`, `next`, `puk-display`, `new-pin`, `new-pin-confirm`,
 * `submit`, `restart`, `success`, `error` (with `data-code`), `read-card-number`.
 */
import { LitElement, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { updateWhenLocaleChanges, msg, str } from '@lit/localize';
import type { CardSession, SessionState } from '../../session/card-session.js';
import { type ErrorAction, type ErrorDescription } from '../shared/messages.js';
import { renderError } from '../shared/error-view.js';
import { KioskIdleController } from '../shared/kiosk-idle.js';
import { CardSessionController } from '../shared/card-session-controller.js';
import { fetchPuk } from '../../session/puk-service.js';
import { CARD_FLOW_PROPERTIES, isCardGone, type FlowError } from '../shared/flow-common.js';
import { cardNumberHint, describeFlowError, pinHint } from '../shared/input-messages.js';
import { checkPin, pinRuleOf } from '../shared/pin-entry.js';
import { pinFlowStyles } from '../shared/pin-flow-styles.js';
import type { HcaProfile } from '../../hca/profile.js';
import { checkCardNumber, UnlockFlow, type RequestPuk, type UnlockState } from './unlock-flow.js';

/** `detail` of `hca-unlocked`. */
export interface UnlockedDetail {
  /** The card number (12 digits after "GH"). */
  cardNumber: string;
  /** PUK and new PIN were keyed on the reader's pinpad. */
  pinpad: boolean;
}

type InputId = 'card-number' | 'user-code' | 'new-pin' | 'new-pin-confirm';
const PIN_INPUTS = ['new-pin', 'new-pin-confirm'] as const;
const ALL_INPUTS: readonly InputId[] = ['card-number', 'user-code', ...PIN_INPUTS];

/** See the module comment. */
export class HcaUnlockCard extends LitElement {
  static override styles = pinFlowStyles;

  /** The reactive properties (public) and the internal state (`state: true`), declared below. */
  static override properties = {
    ...CARD_FLOW_PROPERTIES,
    pukUrl: { attribute: 'puk-url' },
    userCodeHelpHref: { attribute: 'user-code-help-href' },
    requestPuk: { attribute: false },
    flowState: { state: true },
    hints: { state: true },
    padTarget: { state: true },
    announcement: { state: true },
  };

  constructor() {
    super();
    updateWhenLocaleChanges(this); // re-rendered on a language switch
  }

  /** The card session the flow gets its card from (required). */
  session: CardSession | undefined;

  /** Kiosk mode: on-screen number pad, large targets, start over on card removal and after `idleSeconds`. */
  kiosk = false;

  /** Kiosk only: seconds without input before the flow starts over (default 120). */
  idleSeconds = 120;

  /** The reference server's PUK endpoint used by the default `requestPuk`. Default `/api/unlock/puk`. */
  pukUrl = '/api/unlock/puk';

  /** Where the "deployment guide" action of a reader problem points. */
  deploymentGuideUrl = '';

  /** Where users look up a forgotten user code (用戶代碼 E-mail 查詢通知); shown as a link when set. */
  userCodeHelpHref = '';

  /**
   * The card profile (default: chosen among the candidates by the card's answers, every
   * PIN-carrying field assumed, so a refused PIN stops the flow: `hca/profile-unconfirmed`). A
   * deployment that confirmed the profile for its cards passes it here; the demo passes its
   * virtual card's (`confirmedForVirtualCard`).
   */
  profile: HcaProfile | undefined;

  /** Seconds a pinpad reader waits for the first key (undefined: the reader's default). */
  pinpadTimeoutSeconds: number | undefined;

  /**
   * Asks the unlock service for the card's PUK: `(cardNumber, userCode, { signal }) => Promise<puk>`.
   * Default: `POST {pukUrl}` of the reference server (`fetchPuk`). Reject with a `PukServiceError`
   * (or any `WebCcidError`) to have its message shown.
   */
  requestPuk: RequestPuk = (cardNumber, userCode, options) =>
    fetchPuk(cardNumber, userCode, { url: this.pukUrl, ...(options?.signal ? { signal: options.signal } : {}) });

  private flowState: UnlockState = { step: 'identify', busy: false, pinpad: false };
  private hints: Partial<Record<InputId, string>> = {};
  private padTarget: HTMLInputElement | null = null;
  private announcement = '';

  #flow: UnlockFlow | undefined;
  /** The profile the flow was built with. */
  #flowProfile: HcaProfile | undefined;
  readonly #cardSession = new CardSessionController(this, {
    onSession: (session) => this.#newFlow(session),
    onState: (s) => this.#onSessionState(s),
    onRelease: () => {
      this.#flow?.restart();
      this.#clearInputs(ALL_INPUTS);
    },
  });
  readonly #idle = new KioskIdleController(this, {
    busy: () => Boolean(this.#flow?.state.busy),
    onIdle: () => this.restart(),
    events: ['pointerdown', 'keydown', 'input'],
  });

  protected override willUpdate(changed: PropertyValues<this>): void {
    // A new profile gives a new flow (a new session does too: the controller calls newFlow).
    if (this.isConnected && this.#flow && this.#flowProfile !== this.profile) this.#newFlow(this.session);
    if (changed.has('kiosk') || changed.has('idleSeconds')) this.#idle.arm();
  }

  /** Back to step 1: clears every input, the PUK and the message. */
  restart(): void {
    this.#clearInputs(ALL_INPUTS);
    this.hints = {};
    this.#flow?.restart();
  }

  // ---- session, flow, kiosk --------------------------------------------------------------------

  /** Builds the flow for `session` (none without a session); the previous flow is restarted. */
  #newFlow(session: CardSession | undefined): void {
    this.#flow?.restart();
    this.#flowProfile = this.profile;
    if (!session) {
      this.#flow = undefined;
      return;
    }
    this.#flow = new UnlockFlow({
      connector: session,
      requestPuk: (cardNumber, userCode, options) => this.requestPuk(cardNumber, userCode, options),
      onChange: (s) => this.#onFlowState(s),
      ...(this.profile ? { profile: this.profile } : {}),
      ...(this.pinpadTimeoutSeconds === undefined ? {} : { pinpadTimeoutSeconds: this.pinpadTimeoutSeconds }),
    });
    this.flowState = this.#flow.state;
  }

  #onSessionState(s: SessionState): void {
    const flow = this.#flow;
    if (flow && s.kind === 'card' && !flow.state.busy && flow.state.error && isCardGone(flow.state.error.code)) {
      // The card is back: a message about it being missing is out of date.
      flow.showProblem(undefined);
    }
    if (!flow || (s.kind !== 'no-card' && s.kind !== 'no-reader')) return;
    const st = flow.state;
    const midFlow = st.busy !== false || st.step === 'new-pin';
    if (midFlow || (this.kiosk && (st.step === 'done' || st.step === 'identify'))) {
      // Start again from step 1 (the PUK is forgotten); say why when it interrupted the flow.
      this.#clearInputs(ALL_INPUTS);
      this.hints = {};
      flow.restart(midFlow ? { code: s.error?.code ?? 'ccid/card-absent', ...(s.error ? { error: s.error } : {}) } : undefined);
    }
  }

  #onFlowState(s: UnlockState): void {
    const before = this.flowState;
    this.flowState = s;
    if (s.step !== before.step) {
      // PIN inputs never outlive their step.
      this.#clearInputs(PIN_INPUTS);
      this.hints = {};
      if (s.step === 'identify') this.#clearInputs(['user-code']);
    }
    this.announcement = this.#announce(s, before);
    if (s.step !== before.step || (s.error && s.error !== before.error)) void this.updateComplete.then(() => this.#focusAfterChange(s, before));
  }

  #announce(s: UnlockState, before: UnlockState): string {
    switch (s.busy) {
      case 'reading-card':
        return msg('正在讀取卡片…', { id: 'unlock.announce.reading' });
      case 'requesting-puk':
        return msg('正在檢核用戶代碼…', { id: 'unlock.announce.requesting' });
      case 'unlocking':
        return s.pinpad
          ? msg('請在讀卡機上輸入解鎖碼，再輸入兩次新的 PIN 碼。', { id: 'unlock.announce.pinpad' })
          : msg('正在解鎖卡片，請不要取出卡片…', { id: 'unlock.announce.unlocking' });
      default:
        break;
    }
    if (s.step === before.step) return before.busy ? '' : this.announcement;
    switch (s.step) {
      case 'new-pin':
        return s.pinpad
          ? msg('檢核通過。第 2 步：在讀卡機上輸入畫面上的解鎖碼與新的 PIN 碼。', { id: 'unlock.announce.step2.pinpad' })
          : msg('檢核通過。第 2 步：設定新的 PIN 碼。', { id: 'unlock.announce.step2' });
      case 'done':
        return msg('變更PIN碼(解鎖卡)成功!', { id: 'unlock.success.title' });
      default:
        return '';
    }
  }


  // ---- inputs ----------------------------------------------------------------------------------

  #input(id: InputId): HTMLInputElement | null {
    return this.renderRoot?.querySelector<HTMLInputElement>(`[data-testid="${id}"]`) ?? null;
  }

  #clearInputs(ids: readonly InputId[]): void {
    for (const id of ids) {
      const el = this.#input(id);
      if (el) el.value = '';
    }
  }

  #setHint(id: InputId, hint: string | undefined): void {
    if (this.hints[id] !== hint) this.hints = { ...this.hints, [id]: hint };
  }

  #onCardNumberInput(event: Event): void {
    const value = (event.target as HTMLInputElement).value;
    const r = checkCardNumber(value, { partial: true });
    this.#setHint('card-number', 'code' in r ? cardNumberHint(r.code) : undefined);
    if (this.flowState.error?.field === 'card-number') this.#flow?.showProblem(undefined);
  }

  #onUserCodeInput(): void {
    if (this.flowState.error?.field === 'user-code' || this.flowState.error?.code === 'unlock/wrong-user-code') this.#flow?.showProblem(undefined);
  }

  #onPinInput(id: (typeof PIN_INPUTS)[number], event: Event): void {
    const rule = this.#flow?.rule ?? pinRuleOf();
    this.#setHint(id, pinHint(checkPin((event.target as HTMLInputElement).value, rule, { partial: true }), rule));
    if (this.flowState.error?.field === id) this.#flow?.showProblem(undefined);
  }

  #onNumericFocus(event: Event): void {
    this.padTarget = event.target as HTMLInputElement;
  }

  #focusAfterChange(s: UnlockState, before: UnlockState): void {
    const field = s.error?.field as InputId | undefined;
    if (field && ALL_INPUTS.includes(field)) {
      this.#input(field)?.focus();
      return;
    }
    if (s.step === before.step) return;
    if (s.step === 'done') this.renderRoot.querySelector<HTMLElement>('[data-testid="success"]')?.focus();
    else if (s.step === 'new-pin') (s.pinpad ? this.renderRoot.querySelector<HTMLElement>('[data-testid="puk-display"]') : this.#input('new-pin'))?.focus();
    else if (!s.error) this.#input('card-number')?.focus();
  }

  // ---- actions ---------------------------------------------------------------------------------

  async #onNext(event: Event): Promise<void> {
    event.preventDefault();
    const flow = this.#flow;
    if (!flow || this.flowState.busy) return;
    const values = { cardNumber: this.#input('card-number')?.value ?? '', userCode: this.#input('user-code')?.value ?? '' };
    await flow.submitIdentity(values);
  }

  async #onReadCardNumber(): Promise<void> {
    const number = await this.#flow?.readCardNumber();
    const input = this.#input('card-number');
    if (number && input) {
      input.value = number;
      this.#setHint('card-number', undefined);
      this.#input('user-code')?.focus();
    }
  }

  async #onSubmit(event: Event): Promise<void> {
    event.preventDefault();
    const flow = this.#flow;
    if (!flow || this.flowState.busy) return;
    const cardNumber = this.flowState.cardNumber ?? '';
    let unlocked: boolean;
    if (this.flowState.pinpad) {
      unlocked = await flow.submitNewPin();
    } else {
      // Read the PINs and empty the inputs at once: nothing stays in the DOM, whatever happens next.
      const values = { newPin: this.#input('new-pin')?.value ?? '', confirm: this.#input('new-pin-confirm')?.value ?? '' };
      this.#clearInputs(PIN_INPUTS);
      this.hints = {};
      unlocked = await flow.submitNewPin(values);
      values.newPin = values.confirm = '';
    }
    if (unlocked) {
      this.#clearInputs(ALL_INPUTS);
      this.dispatchEvent(new CustomEvent<UnlockedDetail>('hca-unlocked', { detail: { cardNumber, pinpad: this.flowState.pinpad }, bubbles: true, composed: true }));
    }
  }

  #onErrorAction(action: ErrorAction): void {
    switch (action.kind) {
      case 'choose-reader':
        this.#cardSession.choose();
        break;
      case 'retry':
        this.#flow?.showProblem(undefined);
        void this.updateComplete.then(() => {
          const target =
            this.flowState.step === 'identify'
              ? this.renderRoot.querySelector<HTMLElement>('[data-testid="next"]')
              : this.flowState.pinpad
                ? this.renderRoot.querySelector<HTMLElement>('[data-testid="submit"]')
                : this.#input('new-pin');
          target?.focus();
        });
        break;
      default:
        break;
    }
  }

  // ---- rendering -------------------------------------------------------------------------------

  #describe(error: FlowError): ErrorDescription {
    return describeFlowError(error, { rule: this.#flow?.rule, pinpad: this.flowState.pinpad, deploymentGuideUrl: this.deploymentGuideUrl });
  }

  #renderErrorArea(): TemplateResult | typeof nothing {
    const error = this.flowState.error;
    if (!error) return nothing;
    const description = this.#describe(error);
    return renderError(description, {
      onAction: (a) => this.#onErrorAction(a),
      hideAction: description.action?.kind === 'unlock' || (this.kiosk && description.action?.kind === 'deployment-guide'),
    });
  }

  /**
   * Kiosk: the on-screen keys for the focused field: the keyboard with letters for the user code
   * (case-sensitive), the numeric pad for the card number, and for a PIN the numeric pad with an
   * 「英文字母」 key when the card's PIN may have letters.
   */
  #renderPad(busy: boolean): TemplateResult | typeof nothing {
    if (!this.kiosk) return nothing;
    const id = this.padTarget?.dataset['testid'];
    const layout = id === 'user-code' ? 'text' : 'digits';
    const letters = id !== 'card-number' && id !== 'user-code' && (this.#flow?.rule ?? pinRuleOf()).charset !== 'digits';
    return html`<hca-pin-pad kiosk layout=${layout} ?letters=${letters} .target=${this.padTarget} ?disabled=${busy || !this.padTarget}></hca-pin-pad>`;
  }

  #renderIdentify(): TemplateResult {
    const s = this.flowState;
    const busy = s.busy !== false;
    const error = s.error;
    const cardHint = this.hints['card-number'];
    return html`<p class="intro">
        ${msg('忘記 PIN 碼，或 PIN 碼輸入錯誤達 3 次造成卡片鎖住時，請用這個功能取得解鎖碼（PUK），並設定新的 PIN 碼。請先將卡片插入讀卡機。', {
          id: 'unlock.intro',
        })}
      </p>
      <form @submit=${(e: Event) => this.#onNext(e)} novalidate>
        <label for="card-number">${msg('卡號', { id: 'unlock.card-number.label' })}</label>
        <div class="prefixed">
          <span aria-hidden="true">GH</span>
          <input
            id="card-number"
            data-testid="card-number"
            type="text"
            inputmode="numeric"
            autocomplete="off"
            spellcheck="false"
            maxlength="20"
            aria-describedby="card-number-hint card-number-problem"
            aria-invalid=${error?.field === 'card-number' || cardHint ? 'true' : 'false'}
            ?disabled=${busy}
            @input=${(e: Event) => this.#onCardNumberInput(e)}
            @focus=${(e: Event) => this.#onNumericFocus(e)}
          />
        </div>
        <p class="field-hint" id="card-number-hint">${msg('卡片上「GH」之後的 12 位數字（不含 GH）。', { id: 'unlock.card-number.hint' })}</p>
        <p class="field-problem" id="card-number-problem">${cardHint ?? ''}</p>
        ${this.#cardSession.state?.kind === 'card'
          ? html`<div>
              <button type="button" class="secondary" data-testid="read-card-number" ?disabled=${busy} @click=${() => this.#onReadCardNumber()}>
                ${msg('從卡片讀取卡號', { id: 'unlock.read-card-number' })}
              </button>
            </div>`
          : nothing}
        <label for="user-code">${msg('用戶代碼', { id: 'unlock.user-code.label' })}</label>
        <input
          id="user-code"
          data-testid="user-code"
          type="text"
          autocomplete="off"
          autocapitalize="off"
          spellcheck="false"
          aria-describedby="user-code-hint"
          aria-invalid=${error?.field === 'user-code' || error?.code === 'unlock/wrong-user-code' ? 'true' : 'false'}
          ?disabled=${busy}
          @input=${() => this.#onUserCodeInput()}
          @focus=${(e: Event) => this.#onNumericFocus(e)}
        />
        <p class="field-hint" id="user-code-hint">
          ${msg('申請憑證時所設定的用戶代碼，英文字母有大小寫區別。', { id: 'unlock.user-code.hint' })}
          ${this.userCodeHelpHref
            ? html`<a href=${this.userCodeHelpHref} target="_blank" rel="noopener">${msg('忘記用戶代碼？利用「用戶代碼 E-mail 查詢通知」', { id: 'unlock.user-code.help' })}</a>`
            : msg('如遺忘，可利用醫事憑證管理中心的「用戶代碼 E-mail 查詢通知」。', { id: 'unlock.user-code.forgot' })}
        </p>
        ${this.#renderPad(busy)}
        ${busy ? html`<p class="busy">${this.announcement}</p>` : nothing}
        <div class="buttons">
          <button type="submit" data-testid="next" ?disabled=${busy}>${msg('檢核用戶代碼', { id: 'unlock.next' })}</button>
        </div>
      </form>`;
  }

  #renderPinpadStep(): TemplateResult {
    const s = this.flowState;
    const busy = s.busy !== false;
    const rule = this.#flow?.rule ?? pinRuleOf();
    const min = rule.minLength;
    const max = rule.maxLength;
    return html`<form @submit=${(e: Event) => this.#onSubmit(e)} novalidate>
      <div class="panel">
        <p id="puk-label">${msg('用戶代碼檢核通過。您的解鎖碼（PUK）是：', { id: 'unlock.puk.label' })}</p>
        <p class="puk" data-testid="puk-display" tabindex="-1" aria-labelledby="puk-label">${s.puk ?? ''}</p>
        <p class="hint">${msg('請記下解鎖碼，完成解鎖後就不再顯示。它只能用於這張卡。', { id: 'unlock.puk.note' })}</p>
      </div>
      <ol class="guide">
        <li>${msg('按下「開始解鎖」。', { id: 'unlock.pinpad.step1' })}</li>
        <li>${msg('在讀卡機的數字鍵上輸入上面的解鎖碼（8 位數字），按確認鍵。', { id: 'unlock.pinpad.step2' })}</li>
        <li>${msg(str`輸入新的 PIN 碼（${min} 到 ${max} 位數字），按確認鍵。`, { id: 'unlock.pinpad.step3' })}</li>
        <li>${msg('再輸入一次新的 PIN 碼，按確認鍵。', { id: 'unlock.pinpad.step4' })}</li>
      </ol>
      ${busy ? html`<p class="busy">${msg('請在讀卡機上輸入…', { id: 'unlock.pinpad.waiting' })}</p>` : nothing}
      <div class="buttons">
        <button type="submit" data-testid="submit" ?disabled=${busy}>${msg('開始解鎖', { id: 'unlock.pinpad.submit' })}</button>
        <button type="button" class="secondary" data-testid="restart" ?disabled=${busy} @click=${() => this.restart()}>${msg('重新開始', { id: 'pinflow.restart' })}</button>
      </div>
    </form>`;
  }

  #pinField(id: (typeof PIN_INPUTS)[number], label: string): TemplateResult {
    const invalid = this.flowState.error?.field === id;
    const hint = this.hints[id];
    return html`<label for=${id}>${label}</label>
      <input
        id=${id}
        data-testid=${id}
        type="password"
        inputmode="numeric"
        autocomplete="off"
        maxlength=${this.#flow?.rule.maxLength ?? 8}
        aria-describedby=${`${id}-problem`}
        aria-invalid=${invalid || hint ? 'true' : 'false'}
        ?disabled=${this.flowState.busy !== false}
        @input=${(e: Event) => this.#onPinInput(id, e)}
        @focus=${(e: Event) => this.#onNumericFocus(e)}
      />
      <p class="field-problem" id=${`${id}-problem`}>${hint ?? ''}</p>`;
  }

  #renderScreenStep(): TemplateResult {
    const busy = this.flowState.busy !== false;
    const rule = this.#flow?.rule ?? pinRuleOf();
    const min = rule.minLength;
    const max = rule.maxLength;
    return html`<form @submit=${(e: Event) => this.#onSubmit(e)} novalidate>
      <p class="intro">
        ${msg(str`用戶代碼檢核通過，已取得解鎖碼（由系統直接送到卡片，不需要輸入）。請設定新的 PIN 碼（${min} 到 ${max} 位數字），並再輸入一次確認。`, {
          id: 'unlock.screen.intro',
        })}
      </p>
      ${this.#pinField('new-pin', msg('新 PIN 碼', { id: 'pinflow.field.new-pin' }))}
      ${this.#pinField('new-pin-confirm', msg('確認新 PIN 碼', { id: 'pinflow.field.new-pin-confirm' }))}
      ${this.#renderPad(busy)}
      ${busy ? html`<p class="busy">${msg('正在解鎖卡片，請不要取出卡片…', { id: 'unlock.announce.unlocking' })}</p>` : nothing}
      <div class="buttons">
        <button type="submit" data-testid="submit" ?disabled=${busy}>${msg('解鎖並設定新 PIN 碼', { id: 'unlock.submit' })}</button>
        <button type="button" class="secondary" data-testid="restart" ?disabled=${busy} @click=${() => this.restart()}>${msg('重新開始', { id: 'pinflow.restart' })}</button>
      </div>
    </form>`;
  }

  #renderDone(): TemplateResult {
    return html`<div class="success" data-testid="success" tabindex="-1">
        <p class="title">${msg('變更PIN碼(解鎖卡)成功!', { id: 'unlock.success.title' })}</p>
        <p>${msg('卡片已解鎖。之後請以新的 PIN 碼使用卡片。', { id: 'unlock.success.detail' })}</p>
      </div>
      <div class="buttons">
        <button type="button" class="secondary" data-testid="restart" @click=${() => this.restart()}>${msg('重新開始', { id: 'pinflow.restart' })}</button>
      </div>`;
  }

  #renderStopped(): TemplateResult {
    return html`<div class="buttons">
      <button type="button" class="secondary" data-testid="restart" @click=${() => this.restart()}>${msg('重新開始', { id: 'pinflow.restart' })}</button>
    </div>`;
  }

  override render(): TemplateResult {
    const s = this.flowState;
    const steps = [
      msg('卡號與用戶代碼', { id: 'unlock.steps.identify' }),
      s.pinpad ? msg('在讀卡機上輸入', { id: 'unlock.steps.pinpad' }) : msg('設定新 PIN 碼', { id: 'unlock.steps.new-pin' }),
      msg('完成', { id: 'pinflow.steps.done' }),
    ];
    const current = s.step === 'identify' ? 0 : s.step === 'new-pin' ? 1 : steps.length;
    // Stopped (hca/profile-unconfirmed): no entry that would invite another try; the error above
    // shows the counter and asks for a field report. "Restart" is for another card.
    const body = s.stopped
      ? this.#renderStopped()
      : s.step === 'identify'
        ? this.#renderIdentify()
        : s.step === 'new-pin'
          ? s.pinpad
            ? this.#renderPinpadStep()
            : this.#renderScreenStep()
          : this.#renderDone();
    return html`<section aria-labelledby="title">
      <h2 id="title">${msg('解鎖卡', { id: 'unlock.title' })}</h2>
      <hca-reader-status .session=${this.session} ?kiosk=${this.kiosk}></hca-reader-status>
      <hca-steps .steps=${steps} current=${current} ?kiosk=${this.kiosk}></hca-steps>
      <div class="visually-hidden" aria-live="polite" data-testid="announce">${this.announcement}</div>
      <div aria-live="assertive">${this.#renderErrorArea()}</div>
      ${body}
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'hca-unlock-card': HcaUnlockCard;
  }
  interface HTMLElementEventMap {
    'hca-unlocked': CustomEvent<UnlockedDetail>;
  }
}
