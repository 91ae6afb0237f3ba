/**
 * Defines `<hca-change-pin>` (and the shared elements it uses) unless already defined.
 * Import this module for its side effect.
 */
import '../hca-steps/define.js';
import '../hca-reader-status/define.js';
import '../hca-pin-pad/define.js';
import { HcaChangePin } from './hca-change-pin.js';

if (!customElements.get('hca-change-pin')) customElements.define('hca-change-pin', HcaChangePin);

export { HcaChangePin };
