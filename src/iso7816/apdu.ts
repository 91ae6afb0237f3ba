/**
 * Command and response APDUs (ISO/IEC 7816-4 §5.1): encode and parse the seven
 * command cases (1, 2S, 3S, 4S, 2E, 3E, 4E) and split a response into data and SW.
 */
import { ProtocolError } from '../errors.js';

/** A command APDU. `le` is Ne, the number of bytes expected (1..65536); undefined = no Le field. */
export interface CommandApdu {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  /** Command data (Nc = data.length, 0..65535); empty or undefined = no Lc field. */
  data?: Uint8Array;
  /** Ne: 1..256 fits a short Le (256 is coded 00); up to 65536 extended (65536 is coded 0000). */
  le?: number;
}

/** A parsed command APDU: the case, whether it used extended length fields, and its 4-byte header. */
export interface ParsedApdu extends CommandApdu {
  case: 1 | 2 | 3 | 4;
  extended: boolean;
  header: Uint8Array;
}

/** Largest Nc of a short APDU. */
export const SHORT_MAX_NC = 255;
/** Largest Ne of a short APDU. */
export const SHORT_MAX_NE = 256;
/** Largest Nc of an extended APDU. */
export const EXTENDED_MAX_NC = 65535;
/** Largest Ne of an extended APDU. */
export const EXTENDED_MAX_NE = 65536;

function isByte(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xff;
}

/**
 * Encodes a command APDU. Extended length fields are used when `opts.extended` is set, or
 * automatically when Nc > 255 or Ne > 256. Throws ProtocolError('protocol/bad-apdu') on
 * header bytes outside 0..255, Nc > 65535, or Ne outside 1..65536.
 */
export function encodeApdu(apdu: CommandApdu, opts?: { extended?: boolean }): Uint8Array {
  const { cla, ins, p1, p2, le } = apdu;
  if (!isByte(cla) || !isByte(ins) || !isByte(p1) || !isByte(p2)) {
    throw new ProtocolError('protocol/bad-apdu', { header: `${cla} ${ins} ${p1} ${p2}` });
  }
  const data = apdu.data ?? new Uint8Array(0);
  const nc = data.length;
  if (nc > EXTENDED_MAX_NC) throw new ProtocolError('protocol/bad-apdu', { nc, max: EXTENDED_MAX_NC });
  if (le !== undefined && !(Number.isInteger(le) && le >= 1 && le <= EXTENDED_MAX_NE)) {
    throw new ProtocolError('protocol/bad-apdu', { le, max: EXTENDED_MAX_NE });
  }
  const extended = opts?.extended === true || nc > SHORT_MAX_NC || (le !== undefined && le > SHORT_MAX_NE);
  const lcLen = nc === 0 ? 0 : extended ? 3 : 1;
  const leLen = le === undefined ? 0 : extended ? (nc === 0 ? 3 : 2) : 1;
  const out = new Uint8Array(4 + lcLen + nc + leLen);
  out[0] = cla;
  out[1] = ins;
  out[2] = p1;
  out[3] = p2;
  let o = 4;
  if (nc > 0) {
    if (extended) {
      out[o++] = 0;
      out[o++] = nc >> 8;
      out[o++] = nc & 0xff;
    } else {
      out[o++] = nc;
    }
    out.set(data, o);
    o += nc;
  }
  if (le !== undefined) {
    if (extended) {
      if (nc === 0) out[o++] = 0;
      const v = le === EXTENDED_MAX_NE ? 0 : le;
      out[o++] = v >> 8;
      out[o++] = v & 0xff;
    } else {
      out[o++] = le === SHORT_MAX_NE ? 0 : le;
    }
  }
  return out;
}

/**
 * Parses a command APDU, deciding its case from the length the way ISO/IEC 7816-4 §5.1 does.
 * Throws ProtocolError('protocol/bad-apdu') when the length fields do not match the byte count
 * (including Lc = 00 / 0000, which no case allows).
 */
export function parseApdu(bytes: Uint8Array): ParsedApdu {
  const n = bytes.length;
  if (n < 4) throw new ProtocolError('protocol/bad-apdu', { length: n });
  const apdu: ParsedApdu = { cla: bytes[0]!, ins: bytes[1]!, p1: bytes[2]!, p2: bytes[3]!, header: bytes.slice(0, 4), case: 1, extended: false };
  if (n === 4) return apdu;
  // B1 = 00 followed by more bytes opens extended length fields (two bytes after the 00).
  const extended = bytes[4] === 0 && n > 5;
  if (extended && n < 7) throw new ProtocolError('protocol/bad-apdu', { extendedLength: n });
  const body = extended ? 7 : 5; // where the data (or nothing but Le) starts
  const field = extended ? (bytes[5]! << 8) | bytes[6]! : bytes[4]!;
  const maxNe = extended ? EXTENDED_MAX_NE : SHORT_MAX_NE;
  apdu.extended = extended;
  if (n === body) {
    // Case 2: the only length field is Le (00 / 0000 = the maximum).
    apdu.case = 2;
    apdu.le = field || maxNe;
    return apdu;
  }
  if (field === 0) throw new ProtocolError('protocol/bad-apdu', { lc: '0000' });
  const leLength = n - body - field; // case 3: none; case 4: 1 (short) or 2 (extended)
  if (leLength !== 0 && leLength !== (extended ? 2 : 1)) {
    throw new ProtocolError('protocol/bad-apdu', { length: n, lc: field, extended });
  }
  apdu.case = leLength ? 4 : 3;
  apdu.data = bytes.slice(body, body + field);
  if (leLength) apdu.le = (extended ? (bytes[n - 2]! << 8) | bytes[n - 1]! : bytes[n - 1]!) || maxNe;
  return apdu;
}

/**
 * Splits a response APDU into its data and SW1-SW2 (`sw = SW1 << 8 | SW2`).
 * Throws ProtocolError('protocol/bad-response') when fewer than 2 bytes.
 */
export function splitResponse(response: Uint8Array): { data: Uint8Array; sw: number } {
  const n = response.length;
  if (n < 2) throw new ProtocolError('protocol/bad-response', { length: n });
  return { data: response.slice(0, n - 2), sw: (response[n - 2]! << 8) | response[n - 1]! };
}
