/**
 * Status words (ISO/IEC 7816-4 §5.1.3) to typed errors and short English descriptions.
 *
 * Decisions:
 * - 9000 and 61xx are "normal processing": `statusError` returns undefined for both.
 *   `checkResponse` still refuses 61xx (the data is incomplete: a GET RESPONSE is owed),
 *   throwing ApduError('apdu/status'); the T=0 engine normally consumes 61xx itself.
 * - 63Cx -> PinIncorrectError (retriesLeft = x), except 63C0: no try left means the
 *   reference data is now blocked, so it is a PinBlockedError (as 6983 is).
 * - 62xx and other 63xx are warnings: ApduError('apdu/warning') carrying the data.
 * - 6Cxx (wrong Le, xx available) maps to 'apdu/wrong-length' like 6700.
 */
import { ApduError, PinBlockedError, PinIncorrectError } from '../errors.js';
import { splitResponse } from './apdu.js';

const SW_SUCCESS = 0x9000;

/** Exact status words with their error code and description. */
const EXACT: ReadonlyMap<number, { code?: string; text: string }> = new Map([
  [0x9000, { text: 'Success.' }],
  [0x6281, { code: 'apdu/warning', text: 'Warning: part of the returned data may be corrupted.' }],
  [0x6282, { code: 'apdu/warning', text: 'Warning: end of file or record reached before reading Ne bytes.' }],
  [0x6283, { code: 'apdu/warning', text: 'Warning: selected file deactivated.' }],
  [0x6284, { code: 'apdu/warning', text: 'Warning: file control information not formatted correctly.' }],
  [0x6285, { code: 'apdu/warning', text: 'Warning: selected file in termination state.' }],
  [0x6300, { code: 'apdu/warning', text: 'Warning: verification failed (no information given).' }],
  [0x6381, { code: 'apdu/warning', text: 'Warning: file filled up by the last write.' }],
  [0x6581, { code: 'apdu/memory-failure', text: 'Memory failure.' }],
  [0x6700, { code: 'apdu/wrong-length', text: 'Wrong length.' }],
  [0x6881, { code: 'apdu/status', text: 'Logical channel not supported.' }],
  [0x6882, { code: 'apdu/status', text: 'Secure messaging not supported.' }],
  [0x6883, { code: 'apdu/status', text: 'Last command of the chain expected.' }],
  [0x6884, { code: 'apdu/status', text: 'Command chaining not supported.' }],
  [0x6981, { code: 'apdu/status', text: 'Command incompatible with file structure.' }],
  [0x6982, { code: 'apdu/security-not-satisfied', text: 'Security status not satisfied.' }],
  [0x6984, { code: 'apdu/status', text: 'Reference data not usable.' }],
  [0x6985, { code: 'apdu/conditions-not-satisfied', text: 'Conditions of use not satisfied.' }],
  [0x6986, { code: 'apdu/status', text: 'Command not allowed (no current EF).' }],
  [0x6987, { code: 'apdu/status', text: 'Expected secure messaging data objects missing.' }],
  [0x6988, { code: 'apdu/status', text: 'Incorrect secure messaging data objects.' }],
  [0x6A80, { code: 'apdu/incorrect-data', text: 'Incorrect parameters in the data field.' }],
  [0x6A81, { code: 'apdu/func-not-supported', text: 'Function not supported.' }],
  [0x6A82, { code: 'apdu/file-not-found', text: 'File or application not found.' }],
  [0x6A83, { code: 'apdu/record-not-found', text: 'Record not found.' }],
  [0x6A84, { code: 'apdu/not-enough-memory', text: 'Not enough memory space in the file.' }],
  [0x6A86, { code: 'apdu/wrong-p1p2', text: 'Incorrect parameters P1-P2.' }],
  [0x6A88, { code: 'apdu/status', text: 'Referenced data not found.' }],
  [0x6B00, { code: 'apdu/wrong-p1p2', text: 'Wrong parameters P1-P2.' }],
  [0x6D00, { code: 'apdu/ins-not-supported', text: 'Instruction not supported.' }],
  [0x6E00, { code: 'apdu/cla-not-supported', text: 'Class not supported.' }],
  [0x6F00, { code: 'apdu/status', text: 'No precise diagnosis.' }],
]);

function hex4(sw: number): string {
  return (sw & 0xffff).toString(16).toUpperCase().padStart(4, '0');
}

/** A short English description of a status word (never contains data). */
export function describeStatusWord(sw: number): string {
  const exact = EXACT.get(sw);
  if (exact) return exact.text;
  const sw1 = (sw >> 8) & 0xff;
  const sw2 = sw & 0xff;
  if (sw === 0x6983) return 'Authentication method blocked (PIN blocked).';
  if (sw1 === 0x61) return `Success; ${sw2 === 0 ? 256 : sw2} more bytes available (GET RESPONSE).`;
  if (sw1 === 0x6c) return `Wrong Le; ${sw2 === 0 ? 256 : sw2} bytes available.`;
  if ((sw & 0xfff0) === 0x63c0) {
    const x = sw & 0x0f;
    return x === 0 ? 'Verification failed; no try left (blocked).' : `Verification failed; ${x} ${x === 1 ? 'try' : 'tries'} left.`;
  }
  if (sw1 === 0x62) return 'Warning: state of non-volatile memory unchanged.';
  if (sw1 === 0x63) return 'Warning: state of non-volatile memory changed.';
  if (sw1 === 0x64) return 'Execution error: state of non-volatile memory unchanged.';
  if (sw1 === 0x65) return 'Execution error: state of non-volatile memory changed.';
  if (sw1 === 0x66) return 'Security-related issue.';
  if (sw1 === 0x68) return 'Functions in CLA not supported.';
  if (sw1 === 0x69) return 'Command not allowed.';
  if (sw1 === 0x6a) return 'Wrong parameters P1-P2.';
  return `Status ${hex4(sw)}.`;
}

/**
 * The typed error for a status word, or undefined for 9000 and 61xx (normal processing).
 * 63C1..63CF -> PinIncorrectError; 6983 and 63C0 -> PinBlockedError; others -> ApduError
 * with the code listed in src/errors.ts ('apdu/status' when nothing more specific fits).
 */
export function statusError(sw: number, data: Uint8Array = new Uint8Array(0)): ApduError | undefined {
  const sw1 = (sw >> 8) & 0xff;
  if (sw === SW_SUCCESS || sw1 === 0x61) return undefined;
  if (sw === 0x6983 || sw === 0x63c0) return new PinBlockedError(sw);
  if ((sw & 0xfff0) === 0x63c0) return new PinIncorrectError(sw);
  const exact = EXACT.get(sw);
  if (exact?.code) return new ApduError(exact.code, { sw: hex4(sw) }, sw, data);
  if (sw1 === 0x62 || sw1 === 0x63) return new ApduError('apdu/warning', { sw: hex4(sw) }, sw, data);
  if (sw1 === 0x6c) return new ApduError('apdu/wrong-length', { sw: hex4(sw) }, sw, data);
  return new ApduError('apdu/status', { sw: hex4(sw) }, sw, data);
}

/**
 * Returns the response data when SW = 9000; otherwise throws the status error (61xx,
 * an incomplete answer, throws ApduError('apdu/status')). Throws
 * ProtocolError('protocol/bad-response') when the response has fewer than 2 bytes.
 */
export function checkResponse(response: Uint8Array): Uint8Array {
  const { data, sw } = splitResponse(response);
  if (sw === SW_SUCCESS) return data;
  throw statusError(sw, data) ?? new ApduError('apdu/status', { sw: hex4(sw) }, sw, data);
}
