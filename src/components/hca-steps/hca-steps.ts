/**
 * `<hca-steps>`: where the user is in a flow. An ordered list; the current step has
 * `aria-current="step"`, finished steps say so to screen readers. It does not announce changes
 * itself (the flow's polite live region does).
 *
 * Test hooks: `data-testid="steps"` (the list), `step-0`, `step-1`, ... (the items).
 */
import { LitElement, html, nothing, type TemplateResult } from 'lit';
import { updateWhenLocaleChanges, msg, str } from '@lit/localize';
import { sharedStyles } from '../shared/styles.js';
import { stepsStyles } from './styles.js';
import { icon } from '../shared/icons.js';

export class HcaSteps extends LitElement {
  static override styles = [sharedStyles, stepsStyles];

  /** The reactive properties (public) and the internal state (`state: true`), declared below. */
  static override properties = {
    steps: { attribute: false },
    current: { type: Number },
    label: {},
    kiosk: { type: Boolean, reflect: true },
  };

  constructor() {
    super();
    updateWhenLocaleChanges(this); // re-rendered on a language switch
  }

  /** The step names, in order (already localised by the caller). */
  steps: string[] = [];

  /** The current step, 0-based (`steps.length` or more: every step done). */
  current = 0;

  /** Accessible name of the list. Default 「步驟」. */
  label: string | undefined;

  /** Larger marks (kiosk layout). */
  kiosk = false;

  override render(): TemplateResult {
    const total = this.steps.length;
    return html`<ol data-testid="steps" aria-label=${this.label ?? msg('步驟', { id: 'steps.label' })}>
      ${this.steps.map((name, i) => {
        const position = i + 1;
        const status =
          i < this.current
            ? msg(str`第 ${position} 步，共 ${total} 步，已完成`, { id: 'steps.done' })
            : i === this.current
              ? msg(str`第 ${position} 步，共 ${total} 步，目前步驟`, { id: 'steps.current' })
              : msg(str`第 ${position} 步，共 ${total} 步`, { id: 'steps.upcoming' });
        const cls = i < this.current ? 'done' : i === this.current ? 'current' : 'upcoming';
        return html`<li class=${cls} data-testid=${`step-${i}`} aria-current=${i === this.current ? 'step' : nothing}>
          <span class="num" aria-hidden="true">${i < this.current ? icon('check') : position}</span>
          <span class="name">${name}</span>
          <span class="visually-hidden">${status}</span>
        </li>`;
      })}
    </ol>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'hca-steps': HcaSteps;
  }
}
