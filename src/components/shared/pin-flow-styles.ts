/** Styles of `<hca-change-pin>` and `<hca-unlock-card>` (on top of the shared ones). */
import { css } from 'lit';
import { sharedStyles } from './styles.js';

export const pinFlowStyles = [
  sharedStyles,
  css`
    h2 {
      font-size: 1.35em;
      margin: 0 0 0.75rem;
    }
    .intro,
    .hint {
      color: var(--hca-muted);
      margin: 0.25rem 0 0.75rem;
    }
    form {
      display: grid;
      gap: 0.35rem;
      max-width: 32rem;
    }
    label {
      font-weight: 600;
      margin-top: 0.5rem;
    }
    .field-hint {
      color: var(--hca-muted);
      font-size: 0.9em;
      margin: 0;
    }
    .field-problem {
      color: var(--hca-danger);
      font-size: 0.9em;
      margin: 0;
      min-height: 1.2em;
    }
    .prefixed {
      display: flex;
      align-items: center;
      gap: 0.4rem;
    }
    .prefixed > span {
      font-weight: 700;
    }
    .prefixed > input {
      flex: 1;
      min-width: 0;
    }
    .buttons {
      display: flex;
      flex-wrap: wrap;
      gap: 0.75rem;
      margin-top: 1rem;
    }
    .puk {
      font-family: ui-monospace, 'SFMono-Regular', Consolas, monospace;
      font-size: 2em;
      font-weight: 700;
      letter-spacing: 0.3em;
      margin: 0.25rem 0 0.75rem;
    }
    .panel {
      border: 2px solid var(--hca-border);
      border-radius: var(--hca-radius);
      padding: 0.75rem 1rem;
      margin: 0.75rem 0;
      background: var(--hca-warn-surface);
    }
    .success {
      border-left: 0.35rem solid var(--hca-ok);
      background: var(--hca-ok-surface);
      padding: 0.75rem 1rem;
      border-radius: var(--hca-radius);
      margin: 0.75rem 0;
    }
    .success .title {
      font-weight: 700;
      font-size: 1.2em;
      margin: 0;
    }
    .warning {
      background: var(--hca-warn-surface);
      padding: 0.5rem 0.75rem;
      border-radius: var(--hca-radius);
      margin: 0.5rem 0;
    }
    .busy {
      font-weight: 600;
      margin: 0.5rem 0;
    }
    ol.guide {
      padding-left: 1.5rem;
      margin: 0.25rem 0 0.5rem;
    }
    a.button {
      display: inline-flex;
      align-items: center;
      min-height: var(--hca-target);
      padding: 0.5rem 1.25rem;
      border-radius: var(--hca-radius);
      border: 2px solid var(--hca-accent);
      background: var(--hca-accent);
      color: var(--hca-accent-contrast);
      text-decoration: none;
      font-weight: 600;
    }
    hca-steps,
    hca-reader-status {
      display: block;
      margin: 0 0 0.75rem;
    }
    hca-pin-pad {
      margin-top: 0.75rem;
    }
  
    /* Kiosk: the keys beside the fields (one 1280 x 800 screen, no scrolling). */
    :host([kiosk]) form {
      max-width: none;
      grid-template-columns: minmax(0, 1fr) auto;
      column-gap: 1.5rem;
      row-gap: 0;
      align-items: start;
    }
    :host([kiosk]) form > * {
      grid-column: 1;
    }
    :host([kiosk]) form > hca-pin-pad {
      grid-column: 2;
      grid-row: 1 / span 16;
      margin-top: 0;
      --hca-pin-key-size: 72px;
    }
    :host([kiosk]) .intro,
    :host([kiosk]) .field-hint {
      font-size: 0.85em;
    }
    :host([kiosk]) label {
      margin-top: 0.35rem;
    }
    :host([kiosk]) hca-steps,
    :host([kiosk]) hca-reader-status {
      margin-bottom: 0.5rem;
    }
    :host([kiosk]) .buttons {
      margin-top: 0.5rem;
    }
  `,
];
