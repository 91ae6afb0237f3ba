/**
 * The requests of the pinpad operations (the PIN typed on the reader, CCID PC_to_RDR_Secure):
 * the command header the reader completes with the keyed PIN, and the PIN block formats, from the
 * profile. `HcaCard.verifyPinOnPinpad` / `changePinOnPinpad` / `unblockPinOnPinpad` send them
 * through the channel's `verifyPinSecure` / `modifyPinSecure`.
 */
import type { PinBlockFormat, SecurePinModifyRequest, SecurePinVerifyRequest } from '../card/channel.js';
import { CLA_INTERINDUSTRY, INS_CHANGE_REFERENCE_DATA, INS_RESET_RETRY_COUNTER, INS_VERIFY, P1_NONE, RESET_WITH_NEW_PIN, RESET_WITH_PUK_AND_NEW_PIN } from './apdu.js';
import type { HcaPinpadOptions } from './card-options.js';
import type { HcaProfileValues } from './profile-data.js';

/** CLA INS P1 P2 of the command the reader builds around the keyed PIN (always class 00). */
function header(ins: number, p1: number, p2: number): Uint8Array {
  return Uint8Array.of(CLA_INTERINDUSTRY, ins, p1, p2);
}

/** The PIN block as the profile encodes it, for the reader to fill. */
export function pinFormat(profile: HcaProfileValues): PinBlockFormat {
  const p = profile.pin;
  const e = p.encoding.value;
  return { encoding: e.encoding, minLength: p.minLength.value, maxLength: p.maxLength.value, blockLength: e.blockLength, padByte: e.padByte };
}

/** The PUK block as the profile encodes it, for the reader to fill. */
export function pukFormat(profile: HcaProfileValues): PinBlockFormat {
  const p = profile.puk;
  const e = p.encoding.value;
  return { encoding: e.encoding, minLength: p.length.value, maxLength: p.length.value, blockLength: e.blockLength, padByte: e.padByte };
}

function timeout(options: HcaPinpadOptions): { timeoutSeconds?: number } {
  return options.timeoutSeconds === undefined ? {} : { timeoutSeconds: options.timeoutSeconds };
}

/** The signal of the options, as the channel's secure calls take it. */
export function signalOf(options: HcaPinpadOptions): { signal?: AbortSignal } {
  return options.signal ? { signal: options.signal } : {};
}

/** VERIFY of the PIN, keyed on the reader. */
export function verifyPinRequest(profile: HcaProfileValues, options: HcaPinpadOptions): SecurePinVerifyRequest {
  return { header: header(INS_VERIFY, P1_NONE, profile.pin.reference.value), format: pinFormat(profile), ...timeout(options) };
}

/** CHANGE REFERENCE DATA: the old PIN, then the new one twice, keyed on the reader. */
export function changePinRequest(profile: HcaProfileValues, options: HcaPinpadOptions): SecurePinModifyRequest {
  const format = pinFormat(profile);
  return {
    header: header(INS_CHANGE_REFERENCE_DATA, P1_NONE, profile.pin.reference.value),
    oldFormat: format,
    newFormat: format,
    confirm: true,
    ...timeout(options),
  };
}

/** 'reset-retry-counter': RESET RETRY COUNTER P1 00 as one modification, old value = the PUK. */
export function resetWithPukRequest(profile: HcaProfileValues, options: HcaPinpadOptions): SecurePinModifyRequest {
  return {
    header: header(INS_RESET_RETRY_COUNTER, RESET_WITH_PUK_AND_NEW_PIN, profile.pin.reference.value),
    oldFormat: pukFormat(profile),
    newFormat: pinFormat(profile),
    confirm: true,
    ...timeout(options),
  };
}

/** 'verify-puk-then-reset', first step: VERIFY of the PUK, keyed on the reader. */
export function verifyPukRequest(profile: HcaProfileValues, options: HcaPinpadOptions): SecurePinVerifyRequest {
  return { header: header(INS_VERIFY, P1_NONE, profile.puk.reference.value), format: pukFormat(profile), ...timeout(options) };
}

/** 'verify-puk-then-reset', second step: RESET RETRY COUNTER P1 02 carrying the new PIN, keyed once. */
export function setPinRequest(profile: HcaProfileValues, options: HcaPinpadOptions): SecurePinVerifyRequest {
  return { header: header(INS_RESET_RETRY_COUNTER, RESET_WITH_NEW_PIN, profile.pin.reference.value), format: pinFormat(profile), ...timeout(options) };
}
