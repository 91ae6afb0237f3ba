/** Defines `<hca-pin-pad>` (side effect). */
import { HcaPinPad } from './hca-pin-pad.js';

if (!customElements.get('hca-pin-pad')) customElements.define('hca-pin-pad', HcaPinPad);

export { HcaPinPad };
