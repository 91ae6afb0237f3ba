/**
 * Status words of the virtual card (ISO/IEC 7816-4 status bytes) and the response
 * APDU they end.
 */
import { concatBytes } from '../bytes.js';

export const SW = {
  OK: 0x9000,
  END_OF_FILE: 0x6282,
  WRONG_LENGTH: 0x6700,
  SM_NOT_SUPPORTED: 0x6882,
  LAST_COMMAND_EXPECTED: 0x6883,
  INCOMPATIBLE_FILE: 0x6981,
  SECURITY: 0x6982,
  BLOCKED: 0x6983,
  CONDITIONS: 0x6985,
  NO_CURRENT_EF: 0x6986,
  WRONG_DATA: 0x6a80,
  NOT_FOUND: 0x6a82,
  WRONG_P1P2: 0x6a86,
  REF_NOT_FOUND: 0x6a88,
  OFFSET_OUTSIDE: 0x6b00,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
} as const;

/** SW1 SW2. */
export function swBytes(sw: number): Uint8Array {
  return Uint8Array.of(sw >> 8, sw & 0xff);
}

/** Response data || SW1 SW2. */
export function reply(data: Uint8Array, sw: number): Uint8Array {
  return concatBytes(data, swBytes(sw));
}
