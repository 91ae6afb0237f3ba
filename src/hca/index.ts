/**
 * `webccid/hca`: operations of the Taiwan HCA healthcare card (醫事人員卡 / 醫事機構卡) over any
 * `CardChannel` (a CCID reader connection, `MemoryCardChannel`, ...), driven by a card profile.
 *
 * ```ts
 * const card = await HcaCard.open(connection);            // or { profile: corrected }
 * const { cardNumber, validTo } = await card.readCardInfo();
 * await card.verifyPin(pinBytes);                         // PinIncorrectError.retriesLeft
 * const signature = await card.sign(message);             // SHA-256 + PKCS#1 v1.5 on the card
 * ```
 */
export { HcaCard, HcaCardBase, CERTIFICATE_NAMES } from './card.js';
export { checkProfile } from './check-profile.js';
export type { HcaOpenOptions, HcaOperationOptions, HcaPinpadOptions, HcaSignOptions, PinStatus, SerialNumber, CertificateIndex, ProfileSelection } from './card.js';
export { HcaError, PukIncorrectError, PukBlockedError, ProfileUnconfirmedError } from './errors.js';
export type { ProfileUnconfirmedReason } from './errors.js';
export { pinFormatStatus, pinOperationFields, memoryPinTrialStore, sessionPinTrialStore, pinTrialKey } from './pin-guard.js';
export type { PinOperation, PinFormatStatus, PinTrialRecord, PinTrialStore } from './pin-guard.js';
export { rocDateToIso, isoToRocDate } from './roc-date.js';
export { analyseTrace, applyProfileOverride, assertRedacted, exerciseProfile, EXERCISE_STEPS } from './report.js';
export type { TraceAnalysis, ProfileOverride, ExerciseStep, ExerciseOutcome } from './report.js';
export { ReplayChannel, ReplayError, traceSessionsOf } from '../card/replay.js';
export type { ReplayChannelOptions } from '../card/replay.js';
export {
  secretDigits,
  encodePinBlock,
  parseCardInfo,
  parseCardDate,
  normalizeCardNumber,
} from './format.js';
export { parseBasicData, derTotalLength, digestInfo, MAX_CERTIFICATE_LENGTH } from './card-format.js';
export type { Secret, CardInfo } from './format.js';
export type { BasicData } from './card-format.js';
export { HCA_PROFILE, HCA_GPKI_SIBLING_PROFILE, HCA_PROFILE_CANDIDATES, HCA_PROFILE_VALUES, HCA_PROFILE_CANDIDATE_VALUES, pinCharsetOf } from './profile.js';
export type { HcaProfile, HcaProfileValues, ProfileField, Provenance, PinEncoding, PinProtection, PinRule, PinCharset, HcaMiddlewareFacts, MiddlewareDataField } from './profile.js';
export { MemoryCardChannel } from '../card/memory.js';
export type { MemoryCard, MemoryCardChannelOptions } from '../card/memory.js';
export type { CardChannel } from '../card/channel.js';
