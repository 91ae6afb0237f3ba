/**
 * Status words (ISO/IEC 7816-4 §5.1.3) to typed errors. Their short English descriptions
 * (`describeStatusWord`) are in status-text.ts, out of what the driver loads.
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

/**
 * Status words with an error code of their own (the others take theirs from SW1 in
 * `statusError`). Their English descriptions are in status-text.ts.
 */
const EXACT_CODE: Readonly<Record<number, string>> = {
  0x6281: 'apdu/warning',
  0x6282: 'apdu/warning',
  0x6283: 'apdu/warning',
  0x6284: 'apdu/warning',
  0x6285: 'apdu/warning',
  0x6300: 'apdu/warning',
  0x6381: 'apdu/warning',
  0x6581: 'apdu/memory-failure',
  0x6700: 'apdu/wrong-length',
  0x6881: 'apdu/status',
  0x6882: 'apdu/status',
  0x6883: 'apdu/status',
  0x6884: 'apdu/status',
  0x6981: 'apdu/status',
  0x6982: 'apdu/security-not-satisfied',
  0x6984: 'apdu/status',
  0x6985: 'apdu/conditions-not-satisfied',
  0x6986: 'apdu/status',
  0x6987: 'apdu/status',
  0x6988: 'apdu/status',
  0x6a80: 'apdu/incorrect-data',
  0x6a81: 'apdu/func-not-supported',
  0x6a82: 'apdu/file-not-found',
  0x6a83: 'apdu/record-not-found',
  0x6a84: 'apdu/not-enough-memory',
  0x6a86: 'apdu/wrong-p1p2',
  0x6a88: 'apdu/status',
  0x6b00: 'apdu/wrong-p1p2',
  0x6d00: 'apdu/ins-not-supported',
  0x6e00: 'apdu/cla-not-supported',
  0x6f00: 'apdu/status',
};

function hex4(sw: number): string {
  return (sw & 0xffff).toString(16).toUpperCase().padStart(4, '0');
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
  const code = EXACT_CODE[sw];
  if (code) return new ApduError(code, { sw: hex4(sw) }, sw, data);
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
