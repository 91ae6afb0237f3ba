import { css } from 'lit';

export const pinPadStyles = css`
  :host {
    --hca-pin-key-size: 4.5rem;
  }
  :host([kiosk]) {
    --hca-pin-key-size: 5.5rem;
  }
  .pad {
    display: grid;
    grid-template-columns: repeat(3, max(64px, var(--hca-pin-key-size)));
    gap: 0.5rem;
    width: max-content;
  }
  button {
    min-width: 64px;
    min-height: 64px;
    width: max(64px, var(--hca-pin-key-size));
    height: max(64px, var(--hca-pin-key-size));
    padding: 0;
    font-size: 1.5rem;
    font-weight: 700;
    background: var(--hca-surface);
    color: var(--hca-text);
    border: 2px solid var(--hca-border);
    touch-action: manipulation;
    user-select: none;
  }
  button:active:not(:disabled) {
    background: var(--hca-accent);
    color: var(--hca-accent-contrast);
  }
  button.edit {
    font-size: 0.9rem;
    font-weight: 400;
  }

  button.abc {
    grid-column: 1 / -1;
    width: auto;
    height: 64px;
  }
  .keyboard {
    display: grid;
    gap: 0.4rem;
    width: max-content;
  }
  .keyboard .row {
    display: flex;
    gap: 0.4rem;
  }
  .keyboard button {
    width: max(64px, var(--hca-text-key-size, 3.4rem));
    height: 64px;
    font-size: 1.25rem;
  }
  .keyboard button.wide {
    width: calc(2 * max(64px, var(--hca-text-key-size, 3.4rem)) + 0.4rem);
    font-size: 1rem;
    font-weight: 400;
  }
  .keyboard button[aria-pressed='true'] {
    background: var(--hca-accent);
    color: var(--hca-accent-contrast);
  }
`;
