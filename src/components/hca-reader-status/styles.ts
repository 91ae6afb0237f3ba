import { css } from 'lit';

export const readerStatusStyles = css`
  .status {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.5rem 1rem;
    padding: 0.75rem 1rem;
    border: 2px solid var(--hca-border);
    border-radius: var(--hca-radius);
    background: var(--hca-surface);
  }
  .status[data-state='card'] {
    border-color: var(--hca-ok);
    background: var(--hca-ok-surface);
  }
  .status[data-state='busy'] {
    border-color: var(--hca-accent);
  }
  .status[data-state='no-card'],
  .status[data-state='no-reader'] {
    background: var(--hca-warn-surface);
  }
  .status[data-state='error'],
  .status[data-state='no-webusb'] {
    border-color: var(--hca-danger);
    background: var(--hca-danger-surface);
  }
  .text {
    flex: 1 1 16rem;
  }
  .headline {
    font-weight: 700;
    margin: 0;
  }
  .hint,
  .pinpad {
    margin: 0.125rem 0 0;
    color: var(--hca-muted);
  }
  .error {
    margin: 0;
    border-left: none;
    padding: 0;
    background: transparent;
  }
  .icon {
    font-size: 1.5rem;
    line-height: 1;
    display: inline-flex;
  }
  .status[data-state='card'] .icon {
    color: var(--hca-ok);
  }
  .status[data-state='error'] .icon,
  .status[data-state='no-webusb'] .icon {
    color: var(--hca-danger);
  }

  /* Kiosk: one compact line where it fits (the screen holds a whole step). */
  :host([kiosk]) .status {
    padding: 0.35rem 0.75rem;
    gap: 0.25rem 0.75rem;
  }
  :host([kiosk]) .hint,
  :host([kiosk]) .pinpad {
    font-size: 0.85em;
  }
  :host([kiosk]) .text {
    display: flex;
    flex-wrap: wrap;
    align-items: baseline;
    column-gap: 1rem;
  }
`;
