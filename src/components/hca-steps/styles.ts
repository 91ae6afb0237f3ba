import { css } from 'lit';

export const stepsStyles = css`
  ol {
    list-style: none;
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem 1.5rem;
    margin: 0 0 1rem;
    padding: 0;
    counter-reset: none;
  }
  li {
    display: flex;
    align-items: center;
    gap: 0.5rem;
    color: var(--hca-muted);
  }
  .num {
    display: inline-flex;
    align-items: center;
    justify-content: center;
    min-width: 2rem;
    height: 2rem;
    border-radius: 50%;
    border: 2px solid var(--hca-border);
    background: var(--hca-surface);
    font-weight: 700;
  }
  li.done .num {
    border-color: var(--hca-ok);
    background: var(--hca-ok);
    color: #fff;
  }
  li[aria-current='step'] {
    color: var(--hca-text);
    font-weight: 700;
  }
  li[aria-current='step'] .num {
    border-color: var(--hca-accent);
    background: var(--hca-accent);
    color: var(--hca-accent-contrast);
  }
  :host([kiosk]) .num {
    min-width: 2.25rem;
    height: 2.25rem;
  }
  :host([kiosk]) ol {
    margin-bottom: 0.25rem;
    flex-wrap: nowrap;
    gap: 1rem;
  }
`;
