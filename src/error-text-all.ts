/**
 * `webccid/error-text`: the English sentences of every error built from facts, the driver's
 * (src/error-text.ts) and those of the layers above it (src/hca/error-text.ts,
 * src/session/error-text.ts, src/components/error-text.ts), as one table. `webccid/node` and the
 * field kit register it; the flow pages do not (they show their own localised text, chosen by
 * `code`), and the driver console reads the driver's table alone.
 */
import type { ErrorDetail } from './errors.js';
import {
  englishErrorText as englishIn,
  errorText as errorTextIn,
  ERROR_TEXT as DRIVER_TEXT,
  FACT_WORDS as DRIVER_WORDS,
  useEnglishErrorText as useIn,
  type ErrorTemplate,
  type ErrorTextTable,
} from './error-text.js';
import { HCA_ERROR_TEXT, HCA_FACT_WORDS } from './hca/error-text.js';
import { SESSION_ERROR_TEXT } from './session/error-text.js';
import { COMPONENTS_ERROR_TEXT } from './components/error-text.js';

export { templateFacts, type ErrorTemplate, type ErrorTextTable } from './error-text.js';

/** code -> the English sentence(s), every layer (no code is in two layers' tables: test/error-codes.test.ts). */
export const ERROR_TEXT: Readonly<Record<string, ErrorTemplate>> = { ...DRIVER_TEXT, ...HCA_ERROR_TEXT, ...SESSION_ERROR_TEXT, ...COMPONENTS_ERROR_TEXT };

/** Facts whose value is a name, with their English words, every layer. */
export const FACT_WORDS: ErrorTextTable['words'] = { ...DRIVER_WORDS, ...HCA_FACT_WORDS };

const ALL: ErrorTextTable = { text: ERROR_TEXT, words: FACT_WORDS };

/** The English sentence for a code and its facts, or undefined when no table has one. */
export function englishErrorText(code: string, detail: ErrorDetail): string | undefined {
  return englishIn(code, detail, ALL);
}

/** The English sentence of any error: the table's for one built from facts, else its message. */
export function errorText(err: unknown): string {
  return errorTextIn(err, ALL);
}

/** From now on, errors built from facts carry their English sentence as `message`. */
export function useEnglishErrorText(): void {
  useIn(ALL);
}
