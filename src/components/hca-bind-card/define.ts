/**
 * Defines `<hca-bind-card>` (and the shared elements it uses) unless already defined.
 * Import this module for its side effect: `import 'webccid/components/hca-bind-card/define'`.
 */
import '../hca-steps/define.js';
import '../hca-reader-status/define.js';
import '../hca-pin-pad/define.js';
import { HcaBindCard } from './hca-bind-card.js';

if (!customElements.get('hca-bind-card')) customElements.define('hca-bind-card', HcaBindCard);
