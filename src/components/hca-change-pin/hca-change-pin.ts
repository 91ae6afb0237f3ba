/**
 * `<hca-change-pin>`: changes the PIN of a healthcare card (變更PIN碼): the current PIN and the new
 * PIN twice typed on the screen, or all keyed on the reader when it has a pinpad. Before any PIN
 * is typed the card is read (no PIN needed) to show the tries left, or that it is locked (with the
 * way to the unlock flow). Nothing is ever retried by the component; PINs are cleared from the
 * inputs as soon as they are read, and their bytes wiped after the card answered.
 *
 * Defining the element is up to the app (`define.ts`); importing this module has no side effect.
 * The logic lives in `ChangePinFlow` (change-pin-flow.ts, tested in Node).
 *
 * Events (bubble, composed):
 * - `hca-pin-changed` (`PinChangedDetail`): the PIN was changed;
 * - `hca-unlock-requested` (`UnlockRequestedDetail`): the user followed "unlock the card" after a
 *   blocked PIN (cancelable: with `unlock-href` set, cancelling it stops the navigation).
 *
 * Test hooks: `old-pin`, `new-pin`, `new-pin-confirm`, `submit`, `restart`, `success`, `error`
 * (with `data-code`), `go-unlock`.
 */
import { LitElement, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { updateWhenLocaleChanges, msg, str } from '@lit/localize';
import type { CardSession, SessionState } from '../../session/card-session.js';
import { type ErrorAction, type ErrorDescription } from '../shared/messages.js';
import { renderError } from '../shared/error-view.js';
import { KioskIdleController } from '../shared/kiosk-idle.js';
import { CardSessionController } from '../shared/card-session-controller.js';
import { ChangePinFlow, type ChangePinState } from './change-pin-flow.js';
import { CARD_FLOW_PROPERTIES, isCardGone, type FlowError } from '../shared/flow-common.js';
import { describeFlowError, pinHint } from '../shared/input-messages.js';
import { checkPin, pinRuleOf } from '../shared/pin-entry.js';
import type { HcaProfile } from '../../hca/profile.js';
import { pinFlowStyles } from '../shared/pin-flow-styles.js';

/** `detail` of `hca-pin-changed`. */
export interface PinChangedDetail {
  /** The PINs were keyed on the reader's pinpad. */
  pinpad: boolean;
}

/** `detail` of `hca-unlock-requested`. */
export interface UnlockRequestedDetail {
  /** Why: the PIN is blocked. */
  reason: 'pin-blocked';
}

type PinInputId = 'old-pin' | 'new-pin' | 'new-pin-confirm';
const PIN_INPUTS: readonly PinInputId[] = ['old-pin', 'new-pin', 'new-pin-confirm'];

/** See the module comment. */
export class HcaChangePin extends LitElement {
  static override styles = pinFlowStyles;

  /** The reactive properties (public) and the internal state (`state: true`), declared below. */
  static override properties = {
    ...CARD_FLOW_PROPERTIES,
    unlockHref: { attribute: 'unlock-href' },
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

  /** Kiosk mode: on-screen PIN pad, large targets, start over on card removal and after `idleSeconds`. */
  kiosk = false;

  /** Kiosk only: seconds without input before the flow starts over (default 120). */
  idleSeconds = 120;

  /** Where "unlock the card" leads (a link to the unlock page); without it, only the event is fired. */
  unlockHref = '';

  /** Where the "deployment guide" action of a reader problem points. */
  deploymentGuideUrl = '';

  /**
   * The card profile (default: chosen among the candidates by the card's answers, every
   * PIN-carrying field assumed, so a refused PIN stops the flow: `hca/profile-unconfirmed`). A
   * deployment that confirmed the profile for its cards passes it here; the demo passes its
   * virtual card's (`confirmedForVirtualCard`).
   */
  profile: HcaProfile | undefined;

  /** Seconds a pinpad reader waits for the first key (undefined: the reader's default). */
  pinpadTimeoutSeconds: number | undefined;

  private flowState: ChangePinState = { step: 'enter', busy: false, pinpad: false, blocked: false, stopped: false };
  private hints: Partial<Record<PinInputId, string>> = {};
  private padTarget: HTMLInputElement | null = null;
  /** The polite announcement (steps, progress, success). */
  private announcement = '';

  #flow: ChangePinFlow | undefined;
  /** The profile the flow was built with. */
  #flowProfile: HcaProfile | undefined;
  /** The inserted card has been read (reset when it is removed). */
  #inspected = false;
  readonly #cardSession = new CardSessionController(this, {
    onSession: (session) => this.#newFlow(session),
    onState: (s) => this.#onSessionState(s),
    // A card already in the reader is read at once.
    replayState: true,
    onRelease: () => {
      this.#flow?.restart();
      this.#clearInputs();
    },
  });
  readonly #idle = new KioskIdleController(this, {
    busy: () => Boolean(this.#flow?.state.busy),
    onIdle: () => this.restart(),
    events: ['pointerdown', 'keydown', 'input'],
  });

  protected override willUpdate(changed: PropertyValues<this>): void {
    // A new profile gives a new flow (a new session does too: the controller calls newFlow).
    if (this.isConnected && this.#flow && this.#flowProfile !== this.profile) this.#newFlow(this.session, true);
    if (changed.has('kiosk') || changed.has('idleSeconds')) this.#idle.arm();
  }

  /** Back to the start: clears every input and message. */
  restart(): void {
    this.#clearInputs();
    this.hints = {};
    this.#flow?.restart();
    this.#inspectIfCard();
  }

  // ---- session, flow, kiosk --------------------------------------------------------------------

  /**
   * Builds the flow for `session` (none without a session); the previous flow is restarted.
   * `inspectNow`: read a card already in the reader (the controller does it for a new session).
   */
  #newFlow(session: CardSession | undefined, inspectNow = false): void {
    this.#flow?.restart();
    this.#flowProfile = this.profile;
    this.#inspected = false;
    if (!session) {
      this.#flow = undefined;
      return;
    }
    this.#flow = new ChangePinFlow({
      connector: session,
      onChange: (s) => this.#onFlowState(s),
      ...(this.profile ? { profile: this.profile } : {}),
      ...(this.pinpadTimeoutSeconds === undefined ? {} : { pinpadTimeoutSeconds: this.pinpadTimeoutSeconds }),
    });
    this.flowState = this.#flow.state;
    if (inspectNow) this.#onSessionState(session.state);
  }

  #onSessionState(s: SessionState): void {
    const flow = this.#flow;
    if (!flow) return;
    if (s.kind === 'no-card' || s.kind === 'no-reader') {
      const hadCard = this.#inspected;
      this.#inspected = false;
      const st = flow.state;
      if (st.busy || (st.step === 'enter' && hadCard) || (st.step === 'done' && this.kiosk)) {
        // Mid-flow (or a kiosk after success): start again from the first step.
        this.#clearInputs();
        this.hints = {};
        const midFlow = st.busy || st.step === 'enter';
        // Taken out while nothing ran on it (st.busy false): "no card", not "removed during the operation".
        const notInUse = st.busy ? {} : { beforeCard: true };
        flow.restart(midFlow ? { code: s.error?.code ?? 'ccid/card-absent', ...(s.error ? { error: s.error } : {}), ...notInUse } : undefined);
      }
      return;
    }
    // The card is back: a message about it being missing is out of date.
    if (s.kind === 'card' && !flow.state.busy && flow.state.error && isCardGone(flow.state.error.code)) flow.showProblem(undefined);
    if (s.pinpad !== undefined) flow.setReaderPinpad(s.pinpad);
    this.#inspectIfCard();
  }

  #inspectIfCard(): void {
    const flow = this.#flow;
    if (!flow || this.#inspected || this.#cardSession.state?.kind !== 'card') return;
    const st = flow.state;
    if (st.busy || st.step !== 'enter') return;
    this.#inspected = true;
    void flow.inspect();
  }

  #onFlowState(s: ChangePinState): void {
    const before = this.flowState;
    this.flowState = s;
    if (s.busy && !before.busy) {
      this.announcement = s.pinpad
        ? msg('請在讀卡機上依序輸入目前的 PIN 碼、新的 PIN 碼，再輸入一次新的 PIN 碼。', { id: 'changepin.announce.pinpad' })
        : msg('處理中，請稍候，不要取出卡片。', { id: 'changepin.announce.busy' });
    } else if (s.step === 'done' && before.step !== 'done') {
      this.announcement = msg('變更PIN碼成功!', { id: 'changepin.success.title' });
    } else if (!s.busy && before.busy) {
      this.announcement = '';
    }
    if (s.step !== before.step || (s.error && s.error !== before.error)) void this.updateComplete.then(() => this.#focusAfterChange(s));
  }


  // ---- inputs ----------------------------------------------------------------------------------

  #input(id: PinInputId): HTMLInputElement | null {
    return this.renderRoot?.querySelector<HTMLInputElement>(`[data-testid="${id}"]`) ?? null;
  }

  /** Empties every PIN input (their values are never kept). */
  #clearInputs(): void {
    for (const id of PIN_INPUTS) {
      const el = this.#input(id);
      if (el) el.value = '';
    }
  }

  #onPinInput(id: PinInputId, event: Event): void {
    const value = (event.target as HTMLInputElement).value;
    const hint = pinHint(checkPin(value, this.#flow?.rule ?? pinRuleOf(), { partial: true }), this.#flow?.rule ?? pinRuleOf());
    if (this.hints[id] !== hint) this.hints = { ...this.hints, [id]: hint };
    if (this.flowState.error?.field === id) this.#flow?.showProblem(undefined);
  }

  #onPinFocus(event: Event): void {
    this.padTarget = event.target as HTMLInputElement;
  }

  #focusAfterChange(s: ChangePinState): void {
    const field = s.error?.field as PinInputId | undefined;
    if (field && PIN_INPUTS.includes(field)) {
      this.#input(field)?.focus();
      return;
    }
    if (s.step === 'done') {
      this.renderRoot.querySelector<HTMLElement>('[data-testid="success"]')?.focus();
      return;
    }
    if (s.error?.code === 'apdu/pin-incorrect') this.#input('old-pin')?.focus();
  }

  // ---- actions ---------------------------------------------------------------------------------

  async #onSubmit(event: Event): Promise<void> {
    event.preventDefault();
    const flow = this.#flow;
    if (!flow || this.flowState.busy) return;
    if (this.flowState.pinpad) {
      this.#clearInputs();
      await this.#afterSubmit(await flow.submit());
      return;
    }
    // Read the PINs and empty the inputs at once: nothing stays in the DOM, whatever happens next.
    const values = { oldPin: this.#input('old-pin')?.value ?? '', newPin: this.#input('new-pin')?.value ?? '', confirm: this.#input('new-pin-confirm')?.value ?? '' };
    this.#clearInputs();
    this.hints = {};
    const changed = await flow.submit(values);
    values.oldPin = values.newPin = values.confirm = '';
    await this.#afterSubmit(changed);
  }

  async #afterSubmit(changed: boolean): Promise<void> {
    if (!changed) return;
    this.dispatchEvent(new CustomEvent<PinChangedDetail>('hca-pin-changed', { detail: { pinpad: this.flowState.pinpad }, bubbles: true, composed: true }));
  }

  #onGoUnlock(event: Event): void {
    const proceed = this.dispatchEvent(
      new CustomEvent<UnlockRequestedDetail>('hca-unlock-requested', { detail: { reason: 'pin-blocked' }, bubbles: true, composed: true, cancelable: true }),
    );
    if (!proceed) event.preventDefault();
  }

  #onErrorAction(action: ErrorAction): void {
    switch (action.kind) {
      case 'choose-reader':
        this.#cardSession.choose();
        break;
      case 'retry':
        this.#flow?.showProblem(undefined);
        if (this.#cardSession.state?.kind === 'card' && !this.#inspected) this.#inspectIfCard();
        void this.updateComplete.then(() => (this.flowState.pinpad ? this.renderRoot.querySelector<HTMLElement>('[data-testid="submit"]') : this.#input('old-pin'))?.focus());
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
    const blocked = error.code === 'apdu/pin-blocked';
    return html`${renderError(description, { onAction: (a) => this.#onErrorAction(a), hideAction: blocked || (this.kiosk && description.action?.kind === 'deployment-guide') })}
    ${blocked ? this.#renderGoUnlock() : nothing}`;
  }

  #renderGoUnlock(): TemplateResult {
    const label = msg('前往解鎖卡', { id: 'changepin.go-unlock' });
    return this.unlockHref
      ? html`<p><a class="button" href=${this.unlockHref} data-testid="go-unlock" @click=${(e: Event) => this.#onGoUnlock(e)}>${label}</a></p>`
      : html`<p><button type="button" data-testid="go-unlock" @click=${(e: Event) => this.#onGoUnlock(e)}>${label}</button></p>`;
  }

  /**
   * The current PIN may have letters (when the card's rule allows them): a phone must offer its
   * letter keyboard for it. A new PIN is the user's choice: the numeric keyboard suggests digits,
   * as the HCA's own pages do, and a hardware keyboard can still type letters.
   */
  #pinInputMode(id: PinInputId): 'numeric' | 'text' {
    return id === 'old-pin' && (this.#flow?.rule ?? pinRuleOf()).charset !== 'digits' ? 'text' : 'numeric';
  }

  #pinField(id: PinInputId, label: string, autofocus = false): TemplateResult {
    const error = this.flowState.error;
    const invalid = error?.field === id;
    const hint = this.hints[id];
    return html`<label for=${id}>${label}</label>
      <input
        id=${id}
        data-testid=${id}
        type="password"
        inputmode=${this.#pinInputMode(id)}
        autocomplete="off"
        maxlength=${this.#flow?.rule.maxLength ?? 8}
        aria-describedby=${`${id}-problem`}
        aria-invalid=${invalid || hint ? 'true' : 'false'}
        ?autofocus=${autofocus}
        ?disabled=${this.flowState.busy}
        @input=${(e: Event) => this.#onPinInput(id, e)}
        @focus=${(e: Event) => this.#onPinFocus(e)}
      />
      <p class="field-problem" id=${`${id}-problem`}>${hint ?? ''}</p>`;
  }

  #renderRetries(): TemplateResult | typeof nothing {
    const n = this.flowState.retriesLeft;
    const max = 3;
    if (n === undefined || n >= max || this.flowState.blocked || this.flowState.error) return nothing;
    return html`<p class="warning" data-testid="retries-left">
      ${n === 1
        ? msg('注意：PIN 碼只剩最後 1 次機會，再輸入錯誤卡片就會鎖住。', { id: 'changepin.retries.last' })
        : msg(str`注意：PIN 碼還剩 ${n} 次嘗試機會。`, { id: 'changepin.retries' })}
    </p>`;
  }

  #renderEnter(): TemplateResult {
    const s = this.flowState;
    const max = this.#flow?.rule.maxLength ?? 8;
    const min = this.#flow?.rule.minLength ?? 6;
    const disabled = s.busy || s.blocked || s.stopped;
    // A locked card: no PIN can be changed; the error above leads to the unlock flow. Stopped
    // (hca/profile-unconfirmed): no PIN entry at all; the error above shows the counter and asks
    // for a field report.
    if (s.blocked || s.stopped) return html``;
    if (s.pinpad) {
      return html`<form @submit=${(e: Event) => this.#onSubmit(e)} novalidate>
        <p>${msg('這台讀卡機有按鍵：PIN 碼要在讀卡機上輸入，不會經過電腦。', { id: 'changepin.pinpad.intro' })}</p>
        <ol class="guide">
          <li>${msg('按下「開始變更」。', { id: 'changepin.pinpad.step1' })}</li>
          <li>${msg('在讀卡機上輸入目前的 PIN 碼，按確認鍵。', { id: 'changepin.pinpad.step2' })}</li>
          <li>${msg(str`輸入新的 PIN 碼（${min} 到 ${max} 位數字），按確認鍵。`, { id: 'changepin.pinpad.step3' })}</li>
          <li>${msg('再輸入一次新的 PIN 碼，按確認鍵。', { id: 'changepin.pinpad.step4' })}</li>
        </ol>
        ${this.#renderRetries()}
        ${s.busy ? html`<p class="busy">${msg('請在讀卡機上輸入…', { id: 'changepin.pinpad.waiting' })}</p>` : nothing}
        <div class="buttons">
          <button type="submit" data-testid="submit" ?disabled=${disabled}>${msg('開始變更', { id: 'changepin.pinpad.submit' })}</button>
        </div>
      </form>`;
    }
    return html`<form @submit=${(e: Event) => this.#onSubmit(e)} novalidate>
      <p class="intro">${msg(str`PIN 碼為 ${min} 到 ${max} 位數字。連續輸入錯誤 3 次，卡片會被鎖住。`, { id: 'changepin.intro' })}</p>
      ${this.#renderRetries()}
      ${this.#pinField('old-pin', msg('目前的 PIN 碼', { id: 'pinflow.field.old-pin' }))}
      ${this.#pinField('new-pin', msg('新 PIN 碼', { id: 'pinflow.field.new-pin' }))}
      ${this.#pinField('new-pin-confirm', msg('確認新 PIN 碼', { id: 'pinflow.field.new-pin-confirm' }))}
      ${this.kiosk
        ? html`<hca-pin-pad kiosk .target=${this.padTarget} ?letters=${(this.#flow?.rule ?? pinRuleOf()).charset !== 'digits'}
            ?disabled=${disabled || !this.padTarget}></hca-pin-pad>`
        : nothing}
      ${s.busy ? html`<p class="busy">${msg('正在變更 PIN 碼，請不要取出卡片…', { id: 'changepin.busy' })}</p>` : nothing}
      <div class="buttons">
        <button type="submit" data-testid="submit" ?disabled=${disabled}>${msg('變更 PIN 碼', { id: 'changepin.submit' })}</button>
      </div>
    </form>`;
  }

  #renderDone(): TemplateResult {
    return html`<div class="success" data-testid="success" tabindex="-1">
        <p class="title">${msg('變更PIN碼成功!', { id: 'changepin.success.title' })}</p>
        <p>${msg('請以新的 PIN 碼使用卡片。', { id: 'changepin.success.detail' })}</p>
      </div>
      <div class="buttons">
        <button type="button" class="secondary" data-testid="restart" @click=${() => this.restart()}>${msg('重新開始', { id: 'pinflow.restart' })}</button>
      </div>`;
  }

  override render(): TemplateResult {
    const s = this.flowState;
    const steps = [msg('輸入 PIN 碼', { id: 'changepin.steps.enter' }), msg('完成', { id: 'pinflow.steps.done' })];
    return html`<section aria-labelledby="title">
      <h2 id="title">${msg('變更PIN碼', { id: 'changepin.title' })}</h2>
      <hca-reader-status .session=${this.session} ?kiosk=${this.kiosk}></hca-reader-status>
      <hca-steps .steps=${steps} current=${s.step === 'done' ? steps.length : 0} ?kiosk=${this.kiosk}></hca-steps>
      <div class="visually-hidden" aria-live="polite" data-testid="announce">${this.announcement}</div>
      <div aria-live="assertive">${this.#renderErrorArea()}</div>
      ${s.step === 'done' ? this.#renderDone() : this.#renderEnter()}
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'hca-change-pin': HcaChangePin;
  }
  interface HTMLElementEventMap {
    'hca-pin-changed': CustomEvent<PinChangedDetail>;
  }
}
