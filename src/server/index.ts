/**
 * `webccid/server`: the server side of the bind flow (challenge, verification)
 * and the shared definition of what the card signs. Runs on Node and edge
 * runtimes: no DOM, no Node built-ins; WebCrypto via `globalThis.crypto`.
 */
export {
  BINDING_MESSAGE_TAG,
  bindingMessage,
  bindingDigest,
  createBindingResponse,
  isCardNumber,
  isChallenge,
  isOrigin,
  type BindingMessageInput,
  type BindingResponseJson,
} from './message.js';
export {
  createBindingChallenge,
  defaultChallengeStore,
  challengeKey,
  MemoryChallengeStore,
  DEFAULT_CHALLENGE_TTL_MS,
  type BindingChallenge,
  type ChallengeRecord,
  type ChallengeStore,
  type ChallengeTake,
  type CreateBindingChallengeOptions,
  type MemoryChallengeStoreOptions,
} from './challenge.js';
export {
  verifyBinding,
  constantTimeEqual,
  BINDING_FAILURE_CODES,
  type BindingFailureCode,
  type BindingHolder,
  type BindingRejected,
  type BindingResponse,
  type BindingResult,
  type BindingVerified,
  type CardType,
  type CertificateInput,
  type VerifyBindingOptions,
} from './verify.js';
export { encodeBase64, decodeBase64, encodeBase64Url, decodeBase64Url } from './base64.js';
