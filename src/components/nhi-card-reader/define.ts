/**
 * Defines `<nhi-card-reader>` (and the reader status it shows) unless already defined.
 * Import this module for its side effect.
 */
import '../hca-reader-status/define.js';
import { NhiCardReader } from './nhi-card-reader.js';

if (!customElements.get('nhi-card-reader')) customElements.define('nhi-card-reader', NhiCardReader);

export { NhiCardReader };
