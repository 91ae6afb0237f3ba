/**
 * `webccid/components`: Lit web components for the HCA card flows, and the pieces they share.
 * Importing this module defines nothing; call `defineAll()` (or import `./define.js`, or a
 * component's own `define.js`).
 *
 * ```ts
 * import { defineAll, setLocale, createCardSession } from 'webccid/components';
 * defineAll();
 * const session = createCardSession(); // WebUSB, or the Web Smart Card API where WebUSB cannot claim the reader
 * document.querySelector('hca-reader-status')!.session = session;
 * await session.start();
 * ```
 */
import { HcaReaderStatus } from './hca-reader-status/hca-reader-status.js';
import { HcaPinPad } from './hca-pin-pad/hca-pin-pad.js';
import { HcaSteps } from './hca-steps/hca-steps.js';
// ---- K2 (unlock, change PIN): import your element classes here ----
import { HcaUnlockCard } from './hca-unlock-card/hca-unlock-card.js';
import { HcaChangePin } from './hca-change-pin/hca-change-pin.js';
// ---- K3 (bind): import your element classes here ----
import { HcaBindCard } from './hca-bind-card/hca-bind-card.js';
// ---- <nhi-card-reader> ----
import { NhiCardReader } from './nhi-card-reader/nhi-card-reader.js';

// ---- localisation ----
export { setLocale, getLocale, isLocale, matchLocale, LOCALES, SOURCE_LOCALE } from './locale.js';
export type { Locale } from './locale.js';

// ---- the card sessions and the PUK service client (webccid/session), re-exported for the components' users ----
export * from '../session/index.js';

// ---- shared pieces (K1) ----
export { describeError, detectOs, DESCRIBED_CODES } from './shared/messages.js';
export type { DescribeContext, ErrorAction, ErrorActionKind, ErrorDescription, OsName } from './shared/messages.js';
export { renderError } from './shared/error-view.js';
export type { ErrorViewOptions } from './shared/error-view.js';
export { sharedStyles } from './shared/styles.js';
export { HcaReaderStatus, HcaPinPad, HcaSteps };
export { shuffledDigits } from './hca-pin-pad/hca-pin-pad.js';
export type { PinKeyDetail } from './hca-pin-pad/hca-pin-pad.js';

// ---- K2 (<hca-unlock-card>, <hca-change-pin>): add your exports here ----
export { HcaUnlockCard, HcaChangePin };
export type { UnlockedDetail } from './hca-unlock-card/hca-unlock-card.js';
export type { PinChangedDetail, UnlockRequestedDetail } from './hca-change-pin/hca-change-pin.js';
export { UnlockFlow, checkCardNumber, checkUserCode } from './hca-unlock-card/unlock-flow.js';
export type { RequestPuk, UnlockState, UnlockStep, UnlockFlowOptions } from './hca-unlock-card/unlock-flow.js';
export { ChangePinFlow } from './hca-change-pin/change-pin-flow.js';
export type { ChangePinState, ChangePinStep, ChangePinValues, ChangePinFlowOptions } from './hca-change-pin/change-pin-flow.js';
export type { CardConnector, FlowError } from './shared/flow-common.js';
export type { PinFlowOptions, PinFlowState } from './shared/pin-flow.js';

// ---- K3 (<hca-bind-card>): add your exports here ----
export { HcaBindCard };
export type { BindBoundDetail } from './hca-bind-card/hca-bind-card.js';
export { performBinding, summarizeCertificate } from './hca-bind-card/bind-flow.js';
export type { BindCardType, BindChallenge, BindPayload, BindStage, BindingOutcome, CertificateSummary, PerformBindingOptions } from './hca-bind-card/bind-flow.js';
export { requestBindChallenge, submitBinding } from './hca-bind-card/bind-api.js';
export type { BindVerifyResult, ServerBinding } from './hca-bind-card/bind-api.js';
export { describeBindFailure } from './hca-bind-card/bind-messages.js';

// ---- <nhi-card-reader> ----
export { NhiCardReader };
export { describeNhiError } from './nhi-card-reader/nhi-card-reader.js';

/** Every element of the package with its tag. */
export const ELEMENTS: ReadonlyArray<readonly [tag: string, element: CustomElementConstructor]> = [
  ['hca-reader-status', HcaReaderStatus],
  ['hca-pin-pad', HcaPinPad],
  ['hca-steps', HcaSteps],
  // ---- K2: add ['hca-unlock-card', HcaUnlockCard], ['hca-change-pin', HcaChangePin] here ----
  ['hca-unlock-card', HcaUnlockCard],
  ['hca-change-pin', HcaChangePin],
  // ---- K3: add ['hca-bind-card', HcaBindCard] here ----
  ['hca-bind-card', HcaBindCard],
  ['nhi-card-reader', NhiCardReader],
];

/** Defines every element not yet defined (`customElements.define`); safe to call more than once. */
export function defineAll(registry: CustomElementRegistry = customElements): void {
  for (const [tag, element] of ELEMENTS) {
    if (!registry.get(tag)) registry.define(tag, element);
  }
}
