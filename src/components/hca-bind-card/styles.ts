import { css } from 'lit';
import { sharedStyles } from '../shared/styles.js';

/** Styles of `<hca-bind-card>`: the shared tokens (--hca-accent, --hca-danger, --hca-ok, ...) plus its own layout. */
export const bindCardStyles = [
  sharedStyles,
  css`
    form,
    .panel {
      display: grid;
      gap: 1rem;
    }
    hca-reader-status,
    hca-steps {
      margin-bottom: 0.75rem;
    }
    fieldset {
      border: 1px solid var(--hca-border);
      border-radius: var(--hca-radius);
      margin: 0;
      padding: 0.5rem 1rem 0.75rem;
    }
    legend {
      font-weight: 600;
      padding: 0 0.25rem;
    }
    .choices {
      display: flex;
      flex-wrap: wrap;
      gap: 0.25rem 1.5rem;
    }
    .choice {
      display: inline-flex;
      align-items: center;
      gap: 0.5rem;
      min-height: var(--hca-target);
      cursor: pointer;
    }
    .choice input {
      min-height: 0;
      width: 1.25em;
      height: 1.25em;
      margin: 0;
      accent-color: var(--hca-accent);
    }
    .field {
      display: grid;
      gap: 0.35rem;
      justify-items: start;
    }
    .field label {
      font-weight: 600;
    }
    .hint {
      font-size: 0.9em;
      color: var(--hca-muted);
      margin: 0;
    }
    input[type='password'] {
      font-size: 1.2em;
      letter-spacing: 0.25em;
      width: 12ch;
    }
    .actions {
      display: flex;
      flex-wrap: wrap;
      gap: 0.75rem;
    }
    .pinpad-note {
      border-left: 0.35rem solid var(--hca-accent);
      background: var(--hca-warn-surface);
      padding: 0.5rem 0.75rem;
      border-radius: var(--hca-radius);
      margin: 0;
    }
    .progress {
      display: flex;
      align-items: center;
      gap: 0.75rem;
      margin: 0;
    }
    .spinner {
      width: 1.25em;
      height: 1.25em;
      border-radius: 50%;
      border: 3px solid var(--hca-border);
      border-top-color: var(--hca-accent);
      animation: spin 0.9s linear infinite;
      flex: none;
    }
    @keyframes spin {
      to {
        transform: rotate(360deg);
      }
    }
    .success {
      border-left: 0.35rem solid var(--hca-ok);
      background: var(--hca-ok-surface);
      border-radius: var(--hca-radius);
      padding: 0.75rem 1rem;
      display: grid;
      gap: 0.5rem;
    }
    .success:focus {
      outline: none;
    }
    .success h3 {
      margin: 0;
      color: var(--hca-ok);
      font-size: 1.3em;
    }
    .success p {
      margin: 0;
    }
    dl {
      display: grid;
      grid-template-columns: max-content 1fr;
      gap: 0.25rem 1rem;
      margin: 0;
    }
    dt {
      font-weight: 600;
    }
    dd {
      margin: 0;
      overflow-wrap: anywhere;
    }
    hca-pin-pad {
      max-width: 22rem;
    }
  
    /* Kiosk: the keys beside the form (one 1280 x 800 screen, no scrolling). */
    :host([kiosk]) form.panel {
      grid-template-columns: minmax(0, 1fr) auto;
      column-gap: 1.5rem;
      align-items: start;
    }
    :host([kiosk]) form.panel > * {
      grid-column: 1;
    }
    :host([kiosk]) form.panel {
      gap: 0.5rem;
    }
    :host([kiosk]) fieldset {
      padding: 0 0.75rem 0.25rem;
    }
    :host([kiosk]) .hint {
      font-size: 0.85em;
      margin: 0;
    }
    :host([kiosk]) hca-reader-status,
    :host([kiosk]) hca-steps {
      margin-bottom: 0.4rem;
    }
    :host([kiosk]) form.panel > hca-pin-pad {
      grid-column: 2;
      grid-row: 1 / span 4;
      --hca-pin-key-size: 72px;
    }
  `,
];
