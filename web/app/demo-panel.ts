/**
 * The demo panel (data-testid "demo-panel"): switches the virtual card and reader into each
 * situation, removes / inserts the card, unplugs / plugs the reader, and stands in for the
 * reader's keypad when the virtual reader has one.
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { DemoEnvironment } from './demo-env.js';
import { DEMO_STATES, type DemoState } from './demo-states.js';
import type { Words } from './words-zh.js';
import './demo-panel.css';
import { demoWords } from './demo-words.js';

function keypad(env: DemoEnvironment): TemplateResult | typeof nothing {
  const d = demoWords();
  if (env.state !== 'pinpad') return nothing;
  const prompt = env.keypadPrompt;
  const submit = (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const input = form.querySelector<HTMLInputElement>('input');
    const digits = (input?.value ?? '').replace(/[^0-9]/g, '');
    if (input) input.value = '';
    env.answerKeypad({ digits });
  };
  return html`<section class="keypad" data-testid="reader-keypad" aria-labelledby="keypad-title">
    <h3 id="keypad-title">${d.keypadTitle}</h3>
    <p aria-live="polite" data-testid="reader-keypad-prompt">${prompt ? d.keypadAsk[prompt.step] : d.keypadIdle}</p>
    <form @submit=${submit} class="keypad-form">
      <label>
        ${d.keypadInput}
        <input type="password" inputmode="numeric" autocomplete="off" maxlength="12" data-testid="reader-keypad-input" ?disabled=${!prompt} />
      </label>
      <button type="submit" data-testid="reader-keypad-ok" ?disabled=${!prompt}>${d.keypadOk}</button>
      <button type="button" data-testid="reader-keypad-cancel" ?disabled=${!prompt} @click=${() => env.answerKeypad({ cancel: true })}>${d.keypadCancel}</button>
      <button type="button" data-testid="reader-keypad-timeout" ?disabled=${!prompt} @click=${() => env.answerKeypad({ timeout: true })}>${d.keypadTimeout}</button>
    </form>
  </section>`;
}

/** The panel for `env`, in the words `w` of the page's language (its own: ./demo-words.ts). */
export function renderDemoPanel(env: DemoEnvironment, w: Words): TemplateResult {
  const d = demoWords();
  const card = env.cardStatus;
  const choose = (state: DemoState) => void env.setState(state);
  return html`<section class="demo-panel" data-testid="demo-panel" aria-labelledby="demo-title" aria-busy=${env.preparing ? 'true' : 'false'}>
    <h2 id="demo-title">${w.demoPanel}</h2>
    <p class="muted">${d.demoPanelHint}</p>
    <fieldset ?disabled=${env.preparing}>
      <legend>${d.demoState}</legend>
      <div class="states">
        ${DEMO_STATES.map(
          (s) => html`<label class="state">
            <input type="radio" name="demo-state" value=${s} data-testid=${`demo-state-${s}`} .checked=${env.state === s} @change=${() => choose(s)} />
            ${d.states[s]}
          </label>`,
        )}
      </div>
    </fieldset>
    <div class="demo-actions">
      ${env.cardInserted
        ? html`<button type="button" data-testid="demo-remove-card" ?disabled=${env.preparing || !env.readerPlugged} @click=${() => env.removeCard()}>${d.removeCard}</button>`
        : html`<button type="button" data-testid="demo-insert-card" ?disabled=${env.preparing || !env.readerPlugged} @click=${() => env.insertCard()}>${d.insertCard}</button>`}
      ${env.readerPlugged
        ? html`<button type="button" data-testid="demo-unplug" ?disabled=${env.preparing} @click=${() => env.unplug()}>${d.unplugReader}</button>`
        : html`<button type="button" data-testid="demo-plug" ?disabled=${env.preparing} @click=${() => env.plug()}>${d.plugReader}</button>`}
      <button type="button" data-testid="demo-reset-card" ?disabled=${env.preparing} @click=${() => void env.resetDemo()}>${d.resetCard}</button>
    </div>
    ${env.lastReset
      ? html`<p class="muted small" role="status" data-testid="demo-reset-done">${env.lastReset === 'card-and-server' ? d.resetDone : d.resetDoneCardOnly}</p>`
      : nothing}
    <dl class="demo-facts" data-testid="demo-facts">
      <dt>${d.readerPlugged}</dt><dd>${env.readerPlugged ? d.plugged : d.unplugged}</dd>
      <dt>${d.cardInReader}</dt><dd>${env.cardInserted ? d.inReader : d.outOfReader}</dd>
      ${card
        ? html`<dt>${d.cardLock}</dt>
            <dd data-testid="demo-card-lock" data-lock=${card.lock}>
              ${card.lock === 'usable' ? d.lockUsable : card.lock === 'pin-blocked' ? d.lockPinBlocked : d.lockPukBlocked}
            </dd>
            <dt>${d.pinTries}</dt><dd data-testid="demo-pin-tries">${card.pinTriesLeft}</dd>
            <dt>${d.pukTries}</dt><dd data-testid="demo-puk-tries">${card.pukTriesLeft}</dd>`
        : nothing}
    </dl>
    ${env.preparing ? html`<p class="muted" role="status">${d.preparing}</p>` : nothing}
    <p class="muted small" data-testid="demo-data">${card && !card.defaultPin ? d.demoDataChangedPin : d.demoDataText}</p>
    ${keypad(env)}
  </section>`;
}
