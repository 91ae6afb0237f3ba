/**
 * English templates for the components (the @lit/localize runtime templates module).
 * Source strings (Traditional Chinese) live in the code with `msg(…, { id })`; every id used
 * there has an entry here. `${0}`, `${1}` in a `str` template are the source's placeholders by index.
 *
 * Each part keeps its own block so several people can edit without conflicts:
 * shared pieces (K1) here; the flow components (K2, K3) add their blocks at the marked places
 * (or import a `templates` object from their folder and spread it below).
 */
import { str } from '@lit/localize';
import { templates as sharedTemplates } from './en-shared.js';
import { templates as bindTemplates } from '../hca-bind-card/locale-en.js';
import { templates as unlockTemplates } from '../hca-unlock-card/locale-en.js';
import { templates as nhiTemplates } from '../nhi-card-reader/locale-en.js';

// ---- shared: messages.ts, reader status, pin pad, steps (K1) -----------------------------------
const shared = {
  ...sharedTemplates,
} as const;

// ---- <hca-unlock-card> and <hca-change-pin> (K2): add your templates here --------------------
const unlock = {
  ...unlockTemplates,
} as const;

// ---- <hca-bind-card> and the web app (K3): add your templates here ----------------------------
const bind = {
  ...bindTemplates,
} as const;

/** The templates module @lit/localize loads for 'en'. */
export const templates = { ...shared, ...unlock, ...bind, ...nhiTemplates };
void str;
