/**
 * Styles every component shares: design tokens as CSS custom properties (override them on the
 * page: `hca-unlock-card { --hca-accent: #005a9c }`), focus ring, buttons, inputs, the error and
 * the visually-hidden helper. Add to a component with `static styles = [sharedStyles, css`...`]`.
 */
import { css } from 'lit';

export const sharedStyles = css`
  :host {
    --hca-accent: #0b5cad;
    --hca-accent-contrast: #ffffff;
    --hca-text: #1b1f24;
    --hca-muted: #4a5560;
    --hca-surface: #ffffff;
    --hca-border: #8a96a3;
    --hca-ok: #1a7f37;
    --hca-ok-surface: #e8f5ec;
    --hca-danger: #b42318;
    --hca-danger-surface: #fdecea;
    --hca-warn-surface: #fff6e0;
    --hca-radius: 0.5rem;
    --hca-focus: 3px solid #f5a623;
    --hca-target: 2.75rem;
    display: block;
    box-sizing: border-box;
    color: var(--hca-text);
    font-family: system-ui, 'Noto Sans TC', 'PingFang TC', 'Microsoft JhengHei', sans-serif;
    line-height: 1.5;
  }
  :host([hidden]) {
    display: none;
  }
  :host([kiosk]) {
    --hca-target: 4rem;
    font-size: 1.25rem;
  }
  *,
  *::before,
  *::after {
    box-sizing: inherit;
  }
  :focus-visible {
    outline: var(--hca-focus);
    outline-offset: 2px;
  }
  button {
    font: inherit;
    min-height: var(--hca-target);
    min-width: var(--hca-target);
    padding: 0.5rem 1.25rem;
    border-radius: var(--hca-radius);
    border: 2px solid var(--hca-accent);
    background: var(--hca-accent);
    color: var(--hca-accent-contrast);
    cursor: pointer;
  }
  button.secondary {
    background: var(--hca-surface);
    color: var(--hca-accent);
  }
  button:disabled {
    opacity: 0.55;
    cursor: not-allowed;
  }
  input {
    font: inherit;
    min-height: var(--hca-target);
    padding: 0.4rem 0.75rem;
    border: 2px solid var(--hca-border);
    border-radius: var(--hca-radius);
    background: var(--hca-surface);
    color: var(--hca-text);
  }
  input[aria-invalid='true'] {
    border-color: var(--hca-danger);
  }
  .error {
    border-left: 0.35rem solid var(--hca-danger);
    background: var(--hca-danger-surface);
    padding: 0.75rem 1rem;
    border-radius: var(--hca-radius);
    margin: 0.75rem 0;
  }
  .error .title {
    font-weight: 700;
    margin: 0;
  }
  .error .detail {
    margin: 0.25rem 0 0;
  }
  .error .code {
    color: var(--hca-muted);
    font-size: 0.85em;
    margin: 0.25rem 0 0;
  }
  .visually-hidden {
    position: absolute !important;
    width: 1px;
    height: 1px;
    padding: 0;
    margin: -1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
    border: 0;
  }
  @media (prefers-reduced-motion: reduce) {
    * {
      transition: none !important;
      animation: none !important;
    }
  }
`;
