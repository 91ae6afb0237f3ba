/**
 * Vitest setup (vitest.config.ts): the English error sentences registered, as a Node program
 * sees them (webccid/node registers them), so tests read the messages users of Node read.
 * The compact form (no registration, as in the browser) is tested in test/error-text.test.ts.
 */
import { useEnglishErrorText } from '../../src/error-text-all.js';

useEnglishErrorText();
