/**
 * `<hca-pin-pad>`: an on-screen numeric keypad for kiosks and touch screens. It types into a
 * target input (by id with `for`, or the `target` property), never holds the digits itself:
 * every key changes `input.value` and fires an `input` event on it, so the flow's own handling
 * (and clearing after use) stays in one place. Keys are at least 64 px; `shuffle` puts the
 * digits in a random order (from `crypto.getRandomValues`) each time the pad is shown or
 * `reshuffle()` is called. Keyboard: the keys are buttons (Tab, Enter, Space); with focus in
 * the pad, digit keys, Backspace and Escape / Delete work too.
 *
 * Event `hca-pin-key` (bubbles, composed): `{ key: 'digit' | 'back' | 'clear', length }`, the
 * length of the input's value afterwards (never a digit).
 *
 * Test hooks: `pin-key-0` .. `pin-key-9`, `pin-key-back`, `pin-key-clear`.
 */
import { LitElement, html, nothing, type TemplateResult } from 'lit';
import { updateWhenLocaleChanges, msg } from '@lit/localize';
import { sharedStyles } from '../shared/styles.js';
import { pinPadStyles } from './styles.js';
import { icon } from '../shared/icons.js';

/** `event.detail` of `hca-pin-key`. */
export interface PinKeyDetail {
  /** What kind of key (never which character): 'digit' is any character key. */
  key: 'digit' | 'back' | 'clear';
  /** Length of the target's value after the key. */
  length: number;
}

const DIGITS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 0] as const;

/** A uniformly random permutation of 0..9 (Fisher-Yates over crypto.getRandomValues). */
export function shuffledDigits(random: (max: number) => number = cryptoRandom): number[] {
  const out: number[] = [...DIGITS];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** An integer in 0..max-1 without modulo bias. */
function cryptoRandom(max: number): number {
  const limit = Math.floor(0x1_0000_0000 / max) * max;
  const buf = new Uint32Array(1);
  for (;;) {
    crypto.getRandomValues(buf);
    if (buf[0]! < limit) return buf[0]! % max;
  }
}

export class HcaPinPad extends LitElement {
  static override styles = [sharedStyles, pinPadStyles];

  /** The reactive properties (public) and the internal state (`state: true`), declared below. */
  static override properties = {
    for: { attribute: 'for' },
    target: { attribute: false },
    shuffle: { type: Boolean, reflect: true },
    disabled: { type: Boolean, reflect: true },
    kiosk: { type: Boolean, reflect: true },
    label: {},
    layout: {},
    letters: { type: Boolean, reflect: true },
    order: { state: true },
    lettersShown: { state: true },
    shift: { state: true },
  };

  constructor() {
    super();
    updateWhenLocaleChanges(this); // re-rendered on a language switch
  }

  /** The id of the input to type into, looked up in the pad's own root (document or shadow root). */
  for = '';

  /** The input to type into (takes precedence over `for`). */
  target: HTMLInputElement | null = null;

  /** Digits in a random order (new order on each connect and each `reshuffle()`). */
  shuffle = false;

  /** Disables every key. */
  disabled = false;

  /** Bigger keys (kiosk layout). */
  kiosk = false;

  /** Accessible name of the keypad. Default 「數字鍵盤」 (「鍵盤」 with letters). */
  label: string | undefined;

  /**
   * 'digits' (default): the numeric pad. 'text': a keyboard with digits, letters (a shift key:
   * letters are case-sensitive) and the characters of e-mail addresses and account names
   * (@ . - _), for user codes, accounts and e-mail addresses on a kiosk.
   */
  layout: 'digits' | 'text' = 'digits';

  /** With the 'digits' layout: an「ABC」key switches to letters (a PIN that may have letters). */
  letters = false;

  private order: number[] = [...DIGITS];
  private lettersShown = false;
  private shift = false;

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.shuffle) this.order = shuffledDigits();
  }

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('shuffle')) this.order = this.shuffle ? shuffledDigits() : [...DIGITS];
    if (changed.has('layout') || changed.has('letters') || changed.has('target')) {
      this.lettersShown = false;
      this.shift = false;
    }
  }

  get #textKeys(): boolean {
    return this.layout === 'text' || (this.letters && this.lettersShown);
  }

  /** A new random order (with `shuffle`); call it after each PIN entry. */
  reshuffle(): void {
    if (this.shuffle) this.order = shuffledDigits();
  }

  /** The input the keys type into, if it can be found. */
  get input(): HTMLInputElement | null {
    if (this.target) return this.target;
    if (!this.for) return null;
    const root = this.getRootNode() as Document | ShadowRoot;
    const found = typeof root.getElementById === 'function' ? root.getElementById(this.for) : null;
    return found instanceof HTMLInputElement ? found : null;
  }

  /**
   * Presses a key as if touched: a digit '0'..'9' (with the text keys: a letter or one of
   * @ . - _ as well), 'back' or 'clear'.
   */
  press(key: string): void {
    const input = this.input;
    if (this.disabled || !input || input.disabled || input.readOnly) return;
    let kind: PinKeyDetail['key'];
    if (/^[0-9]$/.test(key) || (this.#textKeys && /^[A-Za-z@._-]$/.test(key))) {
      const max = input.maxLength > 0 ? input.maxLength : Infinity;
      if (input.value.length >= max) return;
      input.value += key;
      kind = 'digit';
    } else if (key === 'back') {
      if (input.value.length === 0) return;
      input.value = input.value.slice(0, -1);
      kind = 'back';
    } else if (key === 'clear') {
      input.value = '';
      kind = 'clear';
    } else {
      return;
    }
    input.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
    this.dispatchEvent(
      new CustomEvent<PinKeyDetail>('hca-pin-key', { detail: { key: kind, length: input.value.length }, bubbles: true, composed: true }),
    );
  }

  #onKeydown(event: KeyboardEvent): void {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    let key: string | undefined;
    if (/^[0-9]$/.test(event.key) || (this.#textKeys && /^[A-Za-z@._-]$/.test(event.key))) key = event.key;
    else if (event.key === 'Backspace') key = 'back';
    else if (event.key === 'Escape' || event.key === 'Delete') key = 'clear';
    if (key === undefined) return;
    event.preventDefault();
    this.press(key);
  }

  #renderText(): TemplateResult {
    const char = (c: string) => {
      const shown = this.shift ? c.toUpperCase() : c;
      return html`<button type="button" data-testid=${`pin-key-${shown}`} ?disabled=${this.disabled} @click=${() => this.press(shown)}>${shown}</button>`;
    };
    const rows = ['1234567890', 'qwertyuiop', 'asdfghjkl', 'zxcvbnm'];
    return html`<div class="keyboard" role="group" aria-label=${this.label ?? msg('鍵盤', { id: 'pinpad.keyboard-label' })} @keydown=${this.#onKeydown}>
      <div class="row">${[...rows[0]!].map(char)}</div>
      <div class="row">${[...rows[1]!].map(char)}</div>
      <div class="row">${[...rows[2]!].map(char)}${char('-')}</div>
      <div class="row">
        <button type="button" class="edit wide" data-testid="pin-key-shift" aria-pressed=${this.shift ? 'true' : 'false'} ?disabled=${this.disabled}
          @click=${() => (this.shift = !this.shift)}>${msg('大寫', { id: 'pinpad.shift' })}</button>
        ${[...rows[3]!].map(char)}${char('_')}
      </div>
      <div class="row">
        ${this.layout === 'digits'
          ? html`<button type="button" class="edit wide" data-testid="pin-key-123" ?disabled=${this.disabled} @click=${() => (this.lettersShown = false)}>123</button>`
          : nothing}
        ${char('@')}${char('.')}
        <button type="button" class="edit wide" data-testid="pin-key-clear" ?disabled=${this.disabled} @click=${() => this.press('clear')}>
          ${msg('清除', { id: 'pinpad.clear' })}
        </button>
        <button type="button" class="edit wide" data-testid="pin-key-back" ?disabled=${this.disabled} @click=${() => this.press('back')}>
          ${icon('backspace')} ${msg('刪除', { id: 'pinpad.back' })}
        </button>
      </div>
    </div>`;
  }

  override render(): TemplateResult {
    if (this.#textKeys) return this.#renderText();
    const digit = (d: number) =>
      html`<button type="button" data-testid=${`pin-key-${d}`} ?disabled=${this.disabled} @click=${() => this.press(String(d))}>${d}</button>`;
    const first = this.order.slice(0, 9);
    const last = this.order[9]!;
    return html`<div class="pad" role="group" aria-label=${this.label ?? msg('數字鍵盤', { id: 'pinpad.label' })} @keydown=${this.#onKeydown}>
      ${first.map(digit)}
      <button type="button" class="edit" data-testid="pin-key-clear" ?disabled=${this.disabled} @click=${() => this.press('clear')}>
        ${msg('清除', { id: 'pinpad.clear' })}
      </button>
      ${digit(last)}
      <button type="button" class="edit" data-testid="pin-key-back" ?disabled=${this.disabled} @click=${() => this.press('back')}>
        ${icon('backspace')} ${msg('刪除', { id: 'pinpad.back' })}
      </button>
      ${this.letters
        ? html`<button type="button" class="edit abc" data-testid="pin-key-abc" ?disabled=${this.disabled} @click=${() => (this.lettersShown = true)}>
            ${msg('英文字母', { id: 'pinpad.letters' })}
          </button>`
        : nothing}
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'hca-pin-pad': HcaPinPad;
  }
  interface HTMLElementEventMap {
    'hca-pin-key': CustomEvent<PinKeyDetail>;
  }
}
