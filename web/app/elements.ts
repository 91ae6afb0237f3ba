/**
 * Defines the elements a page uses. The pages call these instead of importing the components'
 * side-effect `define.js` modules: the package is marked `"sideEffects": false`, so a bundler
 * drops an import that is only there for its side effect.
 *
 * The on-screen keyboard (<hca-pin-pad>) is shown only in kiosk mode (?kiosk=1): only then is it
 * loaded. The flow components render the tag in kiosk mode only, and it upgrades when defined.
 */
import { HcaReaderStatus } from '../../src/components/hca-reader-status/hca-reader-status.js';
import { HcaSteps } from '../../src/components/hca-steps/hca-steps.js';

/** Kiosk mode, read from the URL as the shell reads it. */
function kioskMode(): boolean {
  const kiosk = new URLSearchParams(location.search).get('kiosk');
  return kiosk === '1' || kiosk === 'true';
}

/** Resolves once the on-screen keyboard is defined (at once outside kiosk mode, where it is not used). */
export let keyboardReady: Promise<void> = Promise.resolve();

function define(tag: string, element: CustomElementConstructor): void {
  if (!customElements.get(tag)) customElements.define(tag, element);
}

/** Defines each [tag, class] not yet defined, plus the shared elements every flow uses. */
export function defineElements(...elements: Array<readonly [string, CustomElementConstructor]>): void {
  const all: Array<readonly [string, CustomElementConstructor]> = [['hca-reader-status', HcaReaderStatus], ['hca-steps', HcaSteps], ...elements];
  for (const [tag, element] of all) define(tag, element);
  if (kioskMode()) {
    keyboardReady = import('../../src/components/hca-pin-pad/hca-pin-pad.js').then(({ HcaPinPad }) => define('hca-pin-pad', HcaPinPad));
  }
}
