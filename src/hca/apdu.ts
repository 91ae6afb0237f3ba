/**
 * The commands and answers the HCA card operations use, by name, each with where it is defined.
 *
 * Section numbers are those of ISO/IEC 7816-4:2013 (third edition), where the interindustry
 * commands are clause 11 and the status bytes §5.6 (Tables 5 and 6). The 2005 edition had the same
 * commands in clause 7 with the same sub-numbers (VERIFY §7.5.6 there); the 2020 edition
 * renumbered clause 11 again, so check the edition before looking a number up. PERFORM SECURITY
 * OPERATION is ISO/IEC 7816-8 (the PSO command, INS 2A, with its P1-P2 pairs), not 7816-4.
 *
 * What the HCA profile adds (docs/hca-profile.md): no proprietary instruction. Every INS below is
 * interindustry; the profile chooses the class byte of SELECT and READ BINARY (`commandClass`:
 * 0x00, or 0x80, the proprietary class the GPKI-sibling candidate is assumed to take — see
 * "Candidate profiles" in docs/hca-profile.md), the AID, the file IDs, the PIN / PUK / key
 * references (P2) and the PIN block format. Those are data, in the profile, not here. The
 * PIN-carrying commands and signing always go with the interindustry class 00 (`CLA_INTERINDUSTRY`).
 */

// ---- class byte -----------------------------------------------------------------------------

/** CLA 00: interindustry class, no secure messaging, no chaining, logical channel 0 (§5.4, class byte). */
export const CLA_INTERINDUSTRY = 0x00;

// ---- instruction bytes (INS) ----------------------------------------------------------------

/** SELECT (§11.1.1): make a DF (the application) or an EF current. */
export const INS_SELECT = 0xa4;
/** READ BINARY (§11.2.3), even INS: P1-P2 is a 15-bit offset into the current EF (P1 b8 = 0). */
export const INS_READ_BINARY = 0xb0;
/**
 * VERIFY (§11.5.6), INS 20: compare the PIN / PUK block with the reference data P2 names. Without
 * command data it only reports the retry counter (63CX) or "verified" (9000), spending no try.
 */
export const INS_VERIFY = 0x20;
/** CHANGE REFERENCE DATA (§11.5.7), INS 24 with P1 00: data = old PIN block || new PIN block. */
export const INS_CHANGE_REFERENCE_DATA = 0x24;
/** RESET RETRY COUNTER (§11.5.10), INS 2C: unblock with the PUK (P1 says what the data holds). */
export const INS_RESET_RETRY_COUNTER = 0x2c;
/** MANAGE SECURITY ENVIRONMENT (§11.5.11): SET the key and algorithm of the next PSO. */
export const INS_MANAGE_SECURITY_ENVIRONMENT = 0x22;
/** PERFORM SECURITY OPERATION (ISO/IEC 7816-8, the PSO command): here COMPUTE DIGITAL SIGNATURE. */
export const INS_PERFORM_SECURITY_OPERATION = 0x2a;
/** INTERNAL AUTHENTICATE (§11.5.2): the card computes over the data with the key P2 names. */
export const INS_INTERNAL_AUTHENTICATE = 0x88;

// ---- parameters (P1, P2) --------------------------------------------------------------------

/** SELECT P1 00: select the MF, a DF or an EF by its file identifier (§11.1.1, P1 coding). */
export const SELECT_BY_FILE_ID = 0x00;
/** SELECT P1 04: select by DF name, i.e. the application's AID (§11.1.1, P1 coding). */
export const SELECT_BY_DF_NAME = 0x04;
/** SELECT P1 02: select an EF under the current DF by its file identifier (§11.1.1, P1 coding). */
export const SELECT_EF_UNDER_CURRENT_DF = 0x02;
/** SELECT P2 0C: first occurrence, no response data (§11.1.1, P2 coding). */
export const SELECT_NO_RESPONSE_DATA = 0x0c;
/** SELECT P2 00: first occurrence, return the FCI template (§11.1.1, P2 coding). */
export const SELECT_RETURN_FCI = 0x00;
/** The file identifier ISO/IEC 7816-4 reserves for the MF (clause 7, file organisation). */
export const FID_MASTER_FILE = 0x3f00;
/** P1 00 of VERIFY and CHANGE REFERENCE DATA: the only value 7816-4 defines (§11.5.6, §11.5.7). */
export const P1_NONE = 0x00;
/** RESET RETRY COUNTER P1 00: data = reset code (PUK) || new reference data (new PIN) (§11.5.10). */
export const RESET_WITH_PUK_AND_NEW_PIN = 0x00;
/** RESET RETRY COUNTER P1 02: data = new reference data only, the PUK verified before (§11.5.10). */
export const RESET_WITH_NEW_PIN = 0x02;
/** MSE P1 41: SET, for computation, decipherment, internal authentication and key agreement (§11.5.11). */
export const MSE_SET_FOR_COMPUTATION = 0x41;
/** MSE P2 B6: the control reference template for digital signature, DST (§11.5.11). */
export const MSE_CRT_DIGITAL_SIGNATURE = 0xb6;
/** Tag 84 in a control reference template: reference of a private key. */
export const CRT_TAG_KEY_REFERENCE = 0x84;
/** Tag 83 in a control reference template: reference of a key for direct use (some cards name the signing key here). */
export const CRT_TAG_DIRECT_KEY_REFERENCE = 0x83;
/** Tag 80 in a control reference template: cryptographic mechanism (algorithm) reference. */
export const CRT_TAG_ALGORITHM_REFERENCE = 0x80;
/** PSO P1 9E: the response data is a digital signature (ISO/IEC 7816-8, COMPUTE DIGITAL SIGNATURE). */
export const PSO_P1_DIGITAL_SIGNATURE = 0x9e;
/** PSO P2 9A: the command data is the data to be signed (ISO/IEC 7816-8, COMPUTE DIGITAL SIGNATURE). */
export const PSO_P2_DATA_TO_SIGN = 0x9a;
/** INTERNAL AUTHENTICATE P1 00: no information on the algorithm given (known from the key) (§11.5.2). */
export const P1_NO_ALGORITHM_INFO = 0x00;

// ---- status words (§5.6, Tables 5 and 6) ----------------------------------------------------

/** 9000: normal processing, no further qualification. */
export const SW_OK = 0x9000;
/** 61XX: normal processing, XX more bytes to fetch with GET RESPONSE (the transport's job). */
export const SW1_MORE_DATA = 0x61;
/** 6282: warning, end of file reached before reading Ne bytes. */
export const SW_END_OF_FILE = 0x6282;
/** 63CX (63C0 with mask FFF0): verification failed, counter X = tries left. */
export const SW_COUNTER = 0x63c0;
/** The mask that keeps 63C of a 63CX status word. */
export const SW_COUNTER_MASK = 0xfff0;
/** 64XX: execution error, non-volatile memory unchanged (a pinpad reader's own timeout or cancel: the card got no PIN). */
export const SW1_EXECUTION_ERROR = 0x64;
/** 6982: security status not satisfied (e.g. signing before VERIFY). */
export const SW_SECURITY_NOT_SATISFIED = 0x6982;
/** 6983: authentication method blocked (no try left). */
export const SW_AUTH_METHOD_BLOCKED = 0x6983;
/** 6A82: file or application not found. */
export const SW_FILE_NOT_FOUND = 0x6a82;
/** 6A86: incorrect parameters P1-P2 (a card refusing SELECT P2 0C answers this or 6B00). */
export const SW_INCORRECT_P1P2 = 0x6a86;
/** 6B00: wrong parameters P1-P2 (READ BINARY: offset beyond the end of the EF). */
export const SW_WRONG_P1P2 = 0x6b00;
/** 6CXX: wrong Le field, XX = the exact number of bytes available (ask again with Le = XX). */
export const SW1_WRONG_LE = 0x6c;

/** SW1 of a status word. */
export function sw1Of(sw: number): number {
  return (sw >> 8) & 0xff;
}

/** True for 63CX (a retry counter in the low nibble). */
export function isCounter(sw: number): boolean {
  return (sw & SW_COUNTER_MASK) === SW_COUNTER;
}

/** X of a 63CX status word: the tries left. */
export function counterOf(sw: number): number {
  return sw & 0x0f;
}

/** True when the reference data has no try left: 6983, or the counter 63C0. */
export function isBlocked(sw: number): boolean {
  return sw === SW_AUTH_METHOD_BLOCKED || sw === SW_COUNTER;
}
