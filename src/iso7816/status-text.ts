/**
 * Short English descriptions of status words (ISO/IEC 7816-4 §5.1.3), for people reading a
 * trace, a probe report or an error's English sentence (src/error-text.ts). Kept apart from the
 * status word -> error mapping (status.ts), which the driver needs on every APDU: a page showing
 * its own localised text by error code does not load these sentences.
 */

/** Status words with a description of their own. */
const EXACT: ReadonlyMap<number, string> = new Map([
  [0x9000, 'Success.'],
  [0x6281, 'Warning: part of the returned data may be corrupted.'],
  [0x6282, 'Warning: end of file or record reached before reading Ne bytes.'],
  [0x6283, 'Warning: selected file deactivated.'],
  [0x6284, 'Warning: file control information not formatted correctly.'],
  [0x6285, 'Warning: selected file in termination state.'],
  [0x6300, 'Warning: verification failed (no information given).'],
  [0x6381, 'Warning: file filled up by the last write.'],
  [0x6581, 'Memory failure.'],
  [0x6700, 'Wrong length.'],
  [0x6881, 'Logical channel not supported.'],
  [0x6882, 'Secure messaging not supported.'],
  [0x6883, 'Last command of the chain expected.'],
  [0x6884, 'Command chaining not supported.'],
  [0x6981, 'Command incompatible with file structure.'],
  [0x6982, 'Security status not satisfied.'],
  [0x6983, 'Authentication method blocked (PIN blocked).'],
  [0x6984, 'Reference data not usable.'],
  [0x6985, 'Conditions of use not satisfied.'],
  [0x6986, 'Command not allowed (no current EF).'],
  [0x6987, 'Expected secure messaging data objects missing.'],
  [0x6988, 'Incorrect secure messaging data objects.'],
  [0x6A80, 'Incorrect parameters in the data field.'],
  [0x6A81, 'Function not supported.'],
  [0x6A82, 'File or application not found.'],
  [0x6A83, 'Record not found.'],
  [0x6A84, 'Not enough memory space in the file.'],
  [0x6A86, 'Incorrect parameters P1-P2.'],
  [0x6A88, 'Referenced data not found.'],
  [0x6B00, 'Wrong parameters P1-P2.'],
  [0x6D00, 'Instruction not supported.'],
  [0x6E00, 'Class not supported.'],
  [0x6F00, 'No precise diagnosis.'],
]);

/** By SW1, for the status words without a description of their own. */
const GROUP: ReadonlyMap<number, string> = new Map([
  [0x62, 'Warning: state of non-volatile memory unchanged.'],
  [0x63, 'Warning: state of non-volatile memory changed.'],
  [0x64, 'Execution error: state of non-volatile memory unchanged.'],
  [0x65, 'Execution error: state of non-volatile memory changed.'],
  [0x66, 'Security-related issue.'],
  [0x68, 'Functions in CLA not supported.'],
  [0x69, 'Command not allowed.'],
  [0x6a, 'Wrong parameters P1-P2.'],
]);

/** A short English description of a status word (never contains data). */
export function describeStatusWord(sw: number): string {
  const exact = EXACT.get(sw);
  if (exact) return exact;
  const sw1 = (sw >> 8) & 0xff;
  const sw2 = sw & 0xff;
  if (sw1 === 0x61) return `Success; ${sw2 === 0 ? 256 : sw2} more bytes available (GET RESPONSE).`;
  if (sw1 === 0x6c) return `Wrong Le; ${sw2 === 0 ? 256 : sw2} bytes available.`;
  if ((sw & 0xfff0) === 0x63c0) {
    const x = sw & 0x0f;
    return x === 0 ? 'Verification failed; no try left (blocked).' : `Verification failed; ${x} ${x === 1 ? 'try' : 'tries'} left.`;
  }
  return GROUP.get(sw1) ?? `Status ${(sw & 0xffff).toString(16).toUpperCase().padStart(4, '0')}.`;
}
