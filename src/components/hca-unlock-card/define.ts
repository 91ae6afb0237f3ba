/**
 * Defines `<hca-unlock-card>` (and the shared elements it uses) unless already defined.
 * Import this module for its side effect.
 */
import '../hca-steps/define.js';
import '../hca-reader-status/define.js';
import '../hca-pin-pad/define.js';
import { HcaUnlockCard } from './hca-unlock-card.js';

if (!customElements.get('hca-unlock-card')) customElements.define('hca-unlock-card', HcaUnlockCard);

export { HcaUnlockCard };
