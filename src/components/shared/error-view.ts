/**
 * The error display every component uses: `data-testid="error"`, `data-code` = the code, the
 * localised title and detail, the code for support, and the action button (if any).
 * Put it inside an assertive live region (`role="alert"` is on the element itself).
 */
import { html, nothing, type TemplateResult } from 'lit';
import { msg, str } from '@lit/localize';
import type { ErrorAction, ErrorDescription } from './messages.js';

export interface ErrorViewOptions {
  /** Called when the action button is pressed (a deployment-guide or field-report action with `href` is a link instead). */
  onAction?: (action: ErrorAction) => void;
  /** Hide the action (e.g. kiosk mode has no deployment guide to read). */
  hideAction?: boolean;
}

/** Renders `description` (see the module comment). Buttons have data-testid "error-action". */
export function renderError(description: ErrorDescription, options: ErrorViewOptions = {}): TemplateResult {
  const { code, title, detail, action } = description;
  let actionView: TemplateResult | typeof nothing = nothing;
  if (action && !options.hideAction) {
    actionView =
      (action.kind === 'deployment-guide' || action.kind === 'field-report') && action.href
        ? html`<p><a href=${action.href} target="_blank" rel="noopener" data-testid="error-action" data-action=${action.kind}>${action.label}</a></p>`
        : options.onAction
          ? html`<p>
              <button type="button" class="secondary" data-testid="error-action" data-action=${action.kind} @click=${() => options.onAction?.(action)}>
                ${action.label}
              </button>
            </p>`
          : nothing;
  }
  return html`<div class="error" role="alert" data-testid="error" data-code=${code}>
    <p class="title">${title}</p>
    <p class="detail">${detail}</p>
    <p class="code">${msg(str`錯誤代碼：${code}`, { id: 'err.code-label' })}</p>
    ${actionView}
  </div>`;
}
