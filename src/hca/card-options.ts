/**
 * The options and results of the HCA card operations (`HcaCard`, src/hca/card.ts).
 */
import type { HcaProfileValues } from './profile-data.js';
import type { PinTrialStore } from './pin-guard.js';

export interface HcaOpenOptions<P extends HcaProfileValues = HcaProfileValues> {
  /**
   * The card profile. Without it, the first of `candidates` whose application the card lets
   * SELECT (with that candidate's class byte) is used.
   */
  profile?: P;
  /** The profiles to choose from when `profile` is not given (default `HCA_PROFILE_CANDIDATES`). */
  candidates?: readonly P[];
  /**
   * Memory of PIN-carrying commands sent in an unconfirmed format (src/hca/pin-guard.ts). Default:
   * one per card object. Pass `sessionPinTrialStore()` to keep it across card objects and page
   * reloads of the same browser tab.
   */
  pinTrials?: PinTrialStore;
  signal?: AbortSignal;
}

/** How the profile was chosen: the answer of each candidate's SELECT, in order. */
export interface ProfileSelection {
  /** The id of the profile in use. */
  profileId: string;
  /** True when the caller gave the profile (nothing was chosen). */
  given: boolean;
  /** Each candidate tried: its id, the SELECT sent (hex), the status word. */
  tried: Array<{ profileId: string; command: string; sw: number }>;
}

export interface HcaOperationOptions {
  signal?: AbortSignal;
}

export interface HcaPinpadOptions extends HcaOperationOptions {
  /** Seconds the reader waits for the user's first key (default: the reader's). */
  timeoutSeconds?: number;
}

export interface HcaSignOptions extends HcaOperationOptions {
  /**
   * True when `data` is already the digest (the profile's hash, SHA-256: 32 bytes); otherwise
   * `data` is hashed on the host with WebCrypto.
   */
  digest?: boolean;
}

/** The PIN retry counter, read without spending a try. */
export interface PinStatus {
  /** Tries left before the PIN blocks (when verified: the profile's `maxTries`, as a good PIN resets the counter). */
  retriesLeft: number;
  /** The PIN is verified in this card session. */
  verified: boolean;
  /** No try left: unlock the card with its PUK. */
  blocked: boolean;
}

/** The card serial number file. */
export interface SerialNumber {
  bytes: Uint8Array;
  /** Upper-case hex without separators. */
  hex: string;
  /** The bytes as text when they are all printable ASCII. */
  text: string | undefined;
}

/** Certificate slots: 0 HCA CA, 1 signature, 2 encryption, 3 GRCA root. */
export type CertificateIndex = 0 | 1 | 2 | 3;

/** What each certificate slot holds. */
export const CERTIFICATE_NAMES = ['HCA CA', 'signature', 'encryption', 'GRCA root'] as const;
