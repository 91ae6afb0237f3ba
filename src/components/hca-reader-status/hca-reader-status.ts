/**
 * `<hca-reader-status>`: what the user needs to know about reader and card, from a
 * `CardSession` (WebUSB or the Web Smart Card API): no WebUSB (and why), no reader, a reader
 * without a card, a card ready, the card in use, or why the reader could not be used. Names the
 * reader and says whether it has a pinpad. Offers 「選擇讀卡機」 (the browser's chooser) where that helps, except in kiosk mode
 * (kiosk readers are pre-granted).
 *
 * The status is a polite live region; an error inside it is an alert.
 *
 * Event `hca-choose-reader` (bubbles, composed, cancelable) before the chooser opens; cancel it
 * to open your own UI instead.
 *
 * Test hooks: `reader-status` (with `data-state` = the state kind), `choose-reader`, `error`.
 */
import { LitElement, html, nothing, type TemplateResult } from 'lit';
import { updateWhenLocaleChanges, msg, str } from '@lit/localize';
import type { CardSession, SessionState } from '../../session/card-session.js';
import { CardSessionController } from '../shared/card-session-controller.js';
import { describeError, type DescribeContext } from '../shared/messages.js';
import { sharedStyles } from '../shared/styles.js';
import { readerStatusStyles } from './styles.js';
import { icon, type IconName } from '../shared/icons.js';

const ICONS: Record<SessionState['kind'], IconName> = {
  'no-webusb': 'warning',
  'no-reader': 'plug',
  'no-card': 'card',
  card: 'check',
  busy: 'hourglass',
  error: 'warning',
};

export class HcaReaderStatus extends LitElement {
  static override styles = [sharedStyles, readerStatusStyles];

  /** The reactive properties (public) and the internal state (`state: true`), declared below. */
  static override properties = {
    session: { attribute: false },
    kiosk: { type: Boolean, reflect: true },
    noPin: { type: Boolean, attribute: 'no-pin' },
    messageContext: { attribute: false },
  };

  constructor() {
    super();
    updateWhenLocaleChanges(this); // re-rendered on a language switch
  }

  /** The session to show (required). */
  session: CardSession | undefined;

  /** Kiosk mode: no chooser button, larger text. */
  kiosk = false;

  /** Say nothing about where the PIN is typed (for flows that need no PIN, e.g. reading the NHI card). */
  noPin = false;

  /** Passed to `describeError` for errors (e.g. `deploymentGuideUrl`). */
  messageContext: DescribeContext = {};

  readonly #cardSession = new CardSessionController(this);

  #choose(): void {
    const go = this.dispatchEvent(new CustomEvent('hca-choose-reader', { bubbles: true, composed: true, cancelable: true }));
    if (go) this.#cardSession.choose();
  }

  #showChoose(s: SessionState): boolean {
    return !this.kiosk && this.session?.canChoose === true && s.kind !== 'busy' && s.kind !== 'no-webusb' && s.kind !== 'card';
  }

  override render(): TemplateResult {
    const s = this.#cardSession.state ?? { kind: 'no-reader' as const };
    const name = s.readerName ?? '';
    let headline: string;
    let hint: string | undefined;
    switch (s.kind) {
      case 'no-webusb':
      case 'error':
        headline = '';
        break;
      case 'no-reader':
        headline = msg('未偵測到讀卡機', { id: 'status.no-reader' });
        hint =
          s.error?.code === 'transport/disconnected'
            ? msg('讀卡機已拔除。請重新插上，網頁會自動重新連線。', { id: 'status.no-reader.unplugged' })
            : this.#showChoose(s)
              ? msg('請將讀卡機插上電腦，再按「選擇讀卡機」。', { id: 'status.no-reader.hint-choose' })
              : msg('請將讀卡機插上電腦。', { id: 'status.no-reader.hint' });
        break;
      case 'no-card':
        headline = msg(str`讀卡機「${name}」中沒有卡片`, { id: 'status.no-card' });
        hint = s.lostDuringUse
          ? msg('卡片在操作中被取出。請重新插入卡片，再從頭操作一次。', { id: 'status.no-card.removed' })
          : msg('請將醫事憑證 IC 卡晶片朝上、晶片那一端先插入讀卡機。', { id: 'status.no-card.hint' });
        break;
      case 'card':
        headline = msg(str`讀卡機「${name}」：卡片已插入`, { id: 'status.card' });
        break;
      case 'busy':
        headline = msg(str`讀卡機「${name}」：正在使用卡片`, { id: 'status.busy' });
        hint = msg('操作完成前請勿取出卡片。', { id: 'status.busy.hint' });
        break;
    }
    const problem = s.kind === 'error' || s.kind === 'no-webusb' ? describeError(s.error ?? { code: 'transport/no-webusb' }, this.messageContext) : undefined;
    const pinpad =
      this.noPin || s.pinpad === undefined || s.kind === 'no-reader' || s.kind === 'no-webusb'
        ? nothing
        : html`<p class="pinpad" data-testid="reader-pinpad" data-pinpad=${s.pinpad ? 'yes' : 'no'}>
            ${s.pinpad
              ? msg('具按鍵的讀卡機：PIN 碼請在讀卡機上輸入。', { id: 'status.pinpad.yes' })
              : msg('一般讀卡機：PIN 碼在畫面上輸入。', { id: 'status.pinpad.no' })}
          </p>`;
    return html`<div class="status" role="status" aria-live="polite" data-testid="reader-status" data-state=${s.kind}>
      <span class="icon" aria-hidden="true">${icon(ICONS[s.kind])}</span>
      <div class="text">
        ${problem
          ? html`<div class="error" role="alert" data-testid="error" data-code=${problem.code}>
              <p class="title">${problem.title}</p>
              <p class="detail">${problem.detail}</p>
              <p class="code">${msg(str`錯誤代碼：${problem.code}`, { id: 'err.code-label' })}</p>
            </div>`
          : html`<p class="headline">${headline}</p>
              ${hint ? html`<p class="hint">${hint}</p>` : nothing}`}
        ${pinpad}
      </div>
      ${this.#showChoose(s)
        ? html`<button type="button" class="secondary" data-testid="choose-reader" @click=${() => this.#choose()}>
            ${msg('選擇讀卡機', { id: 'err.action.choose-reader' })}
          </button>`
        : nothing}
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'hca-reader-status': HcaReaderStatus;
  }
}
