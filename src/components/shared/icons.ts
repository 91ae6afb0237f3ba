/**
 * The components' icons as inline SVG (drawn here, stroke only, `currentColor`): they show the
 * same on every system, where emoji need a colour-emoji font and show as empty boxes without
 * one. Each is decorative (`aria-hidden`); the text next to it says the same thing.
 */
import { html, svg, type TemplateResult } from 'lit';

export type IconName = 'warning' | 'plug' | 'card' | 'check' | 'hourglass' | 'backspace';

const PATHS: Record<IconName, ReturnType<typeof svg>> = {
  // A triangle with an exclamation mark.
  warning: svg`<path d="M12 3 2 21h20L12 3Z" /><path d="M12 10v5" /><path d="M12 18v.01" />`,
  // A USB plug: body, two prongs, cable.
  plug: svg`<path d="M9 3v4M15 3v4" /><rect x="6" y="7" width="12" height="7" rx="2" /><path d="M12 14v7" />`,
  // A card with its chip.
  card: svg`<rect x="2" y="5" width="20" height="14" rx="2" /><rect x="5" y="9" width="5" height="4" rx="1" /><path d="M13 15h6" />`,
  // A tick.
  check: svg`<path d="m4 12 5 5L20 6" />`,
  // An hourglass.
  hourglass: svg`<path d="M6 3h12M6 21h12" /><path d="M7 3c0 5 10 6 10 9s-10 4-10 9" /><path d="M17 3c0 5-10 6-10 9s10 4 10 9" />`,
  // The backspace key: a left-pointing tag with an x.
  backspace: svg`<path d="M8 5h12a1 1 0 0 1 1 1v12a1 1 0 0 1-1 1H8l-6-7 6-7Z" /><path d="m11 9 6 6M17 9l-6 6" />`,
};

/** An inline SVG icon, 1em square, drawn with the text colour. */
export function icon(name: IconName): TemplateResult {
  return html`<svg class="icon-svg" data-icon=${name} viewBox="0 0 24 24" width="1em" height="1em" fill="none" stroke="currentColor"
    stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${PATHS[name]}</svg>`;
}
