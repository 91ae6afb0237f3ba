/** Defines `<hca-reader-status>` (side effect). */
import { HcaReaderStatus } from './hca-reader-status.js';

if (!customElements.get('hca-reader-status')) customElements.define('hca-reader-status', HcaReaderStatus);

export { HcaReaderStatus };
