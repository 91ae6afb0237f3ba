/**
 * The English sentences of the components' own errors (src/components), as src/hca/error-text.ts
 * is for the HCA layer: part of `webccid/error-text`'s table, not of the pages (which show their
 * own localised text, chosen by `code`). No fact is ever a PIN, a PUK, a user code or a card number.
 */
import type { ErrorDetail } from '../errors.js';

/** code -> the English sentence(s) of the components' errors. */
export const COMPONENTS_ERROR_TEXT = {
  // src/components/locale.ts
  'components/bad-locale': ['Unknown locale: {locale} (use {known}).', 'No templates for locale {noTemplates}.'],
  // src/components/hca-unlock-card/unlock-flow.ts
  'unlock/card-mismatch': 'The card in the reader does not carry the card number typed: nothing was asked of the service or sent to the card.',
} satisfies Record<string, string | readonly string[] | ((d: ErrorDetail) => string)>;
