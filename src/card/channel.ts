/**
 * The APDU seam: what card operations see of a card. Card code never sees
 * CCID, USB or PC/SC. Implemented by the CCID driver's `CcidConnection`, by
 * `MemoryCardChannel` (an in-memory card for fast tests) and, later, by the
 * Web Smart Card API backend.
 */
import type { Atr } from '../iso7816/atr.js';

/** The transmission protocol a card runs (ISO/IEC 7816-3): T=0 or T=1. */
export type CardProtocol = 't0' | 't1';

/** How the reader must format the PIN digits the user keys (PC/SC part 10, CCID §6.1.11). */
export interface PinBlockFormat {
  /** How each digit is encoded: ASCII ('1' = 0x31) or BCD (two digits a byte). */
  encoding: 'ascii' | 'bcd';
  minLength: number;
  maxLength: number;
  /** Bytes the PIN occupies in the APDU (the field is padded to this length). */
  blockLength: number;
  /** Pad byte for the unused part of the block (e.g. 0xFF). */
  padByte: number;
}

export interface SecurePinVerifyRequest {
  /** The VERIFY command header: CLA INS P1 P2. The reader appends Lc and the PIN block. */
  header: Uint8Array;
  format: PinBlockFormat;
  /** Seconds the reader waits for the first key (0 = the reader's default). */
  timeoutSeconds?: number;
}

export interface SecurePinModifyRequest {
  /** CHANGE REFERENCE DATA / RESET RETRY COUNTER header: CLA INS P1 P2. */
  header: Uint8Array;
  /** Format of the old value (PIN, or PUK when unblocking). */
  oldFormat: PinBlockFormat;
  newFormat: PinBlockFormat;
  /** The user enters the new PIN twice (confirmation on the reader). */
  confirm: boolean;
  timeoutSeconds?: number;
}

export interface CardChannel {
  readonly atr: Atr;
  readonly protocol: CardProtocol;
  /** Sends a command APDU; resolves with response data + SW1 SW2 (status words are not checked). */
  transmit(apdu: Uint8Array, options?: { signal?: AbortSignal }): Promise<Uint8Array>;
  /**
   * The largest short Le (1..256) whose answer (data + SW1 SW2) the channel
   * returns without chaining: one reader message, one T=1 block. Card code
   * sizes its reads with it; absent means 256.
   */
  readonly maxUnchainedLe?: number;
  /**
   * Card resets the channel has seen since it was opened (when it can tell; absent otherwise).
   * After a reset the card has lost its state (selected DF, verified PIN): card code that keeps
   * such state compares this count before each command and sets the state up again.
   */
  readonly resetCount?: number;
  /** Present when the reader has a pinpad: which secure operations it supports. */
  readonly pinpad?: { verify: boolean; modify: boolean } | undefined;
  /** PIN verification on the reader's keypad (PC_to_RDR_Secure). Resolves with the card's answer (data + SW). */
  verifyPinSecure?(request: SecurePinVerifyRequest, options?: { signal?: AbortSignal }): Promise<Uint8Array>;
  /** PIN modification on the reader's keypad (also unblock: old value = PUK). */
  modifyPinSecure?(request: SecurePinModifyRequest, options?: { signal?: AbortSignal }): Promise<Uint8Array>;
}
