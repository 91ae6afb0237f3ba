/** Defines `<hca-steps>` (side effect). */
import { HcaSteps } from './hca-steps.js';

if (!customElements.get('hca-steps')) customElements.define('hca-steps', HcaSteps);

export { HcaSteps };
