/**
 * Defines the elements a page uses. The pages call these instead of importing the components'
 * side-effect `define.js` modules: the package is marked `"sideEffects": false`, so a bundler
 * drops an import that is only there for its side effect.
 */
import { HcaPinPad } from '../../src/components/hca-pin-pad/hca-pin-pad.js';
import { HcaReaderStatus } from '../../src/components/hca-reader-status/hca-reader-status.js';
import { HcaSteps } from '../../src/components/hca-steps/hca-steps.js';

/** Defines each [tag, class] not yet defined, plus the shared elements every flow uses. */
export function defineElements(...elements: Array<readonly [string, CustomElementConstructor]>): void {
  const all: Array<readonly [string, CustomElementConstructor]> = [
    ['hca-reader-status', HcaReaderStatus],
    ['hca-steps', HcaSteps],
    ['hca-pin-pad', HcaPinPad],
    ...elements,
  ];
  for (const [tag, element] of all) if (!customElements.get(tag)) customElements.define(tag, element);
}
