/**
 * Protocol and parameters selection (PPS, ISO/IEC 7816-3:2006 §9):
 * PPSS (0xFF), PPS0 (b8 RFU = 0, b7/b6/b5 = PPS3/PPS2/PPS1 present, b4-b1 = T),
 * PPS1 (Fi index << 4 | Di index), PPS2, PPS3, PCK (XOR of all bytes = 0).
 */
import { ProtocolError } from '../errors.js';

/** PPSS, the first byte of every PPS request and response. */
export const PPSS = 0xff;

/** A decoded PPS message (request or response). */
export interface PpsMessage {
  protocol: number;
  fiIndex?: number;
  diIndex?: number;
  pps2?: number;
  pps3?: number;
}

function failed(message: string): ProtocolError {
  return new ProtocolError('protocol/pps-failed', message);
}

function isByte(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0xff;
}

function isNibble(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0x0f;
}

/**
 * Builds a PPS request: FF PPS0 [PPS1] [PPS2] [PPS3] PCK. PPS1 is sent when
 * `fiIndex` or `diIndex` is given (the missing one defaults to 1).
 * Throws `ProtocolError('protocol/pps-failed')` on out-of-range arguments.
 */
export function encodePpsRequest(opts: {
  protocol: number;
  fiIndex?: number;
  diIndex?: number;
  pps2?: number;
  pps3?: number;
}): Uint8Array {
  const { protocol } = opts;
  if (!isNibble(protocol) || protocol === 15) throw failed(`Cannot negotiate T=${protocol}.`);
  const out: number[] = [PPSS, protocol];
  if (opts.fiIndex !== undefined || opts.diIndex !== undefined) {
    const fi = opts.fiIndex ?? 1;
    const di = opts.diIndex ?? 1;
    if (!isNibble(fi) || !isNibble(di)) throw failed('Fi and Di indexes are 4-bit values.');
    out[1]! |= 0x10;
    out.push((fi << 4) | di);
  }
  if (opts.pps2 !== undefined) {
    if (!isByte(opts.pps2)) throw failed('PPS2 is a byte.');
    out[1]! |= 0x20;
    out.push(opts.pps2);
  }
  if (opts.pps3 !== undefined) {
    if (!isByte(opts.pps3)) throw failed('PPS3 is a byte.');
    out[1]! |= 0x40;
    out.push(opts.pps3);
  }
  let pck = 0;
  for (const b of out) pck ^= b;
  out.push(pck);
  return Uint8Array.from(out);
}

/**
 * Decodes a PPS message (request, or response: same format). Throws
 * `ProtocolError('protocol/pps-failed')` when PPSS is not FF, PPS0 b8 is set,
 * the length does not match PPS0, or PCK is wrong.
 */
export function decodePpsRequest(bytes: Uint8Array): PpsMessage {
  if (bytes.length < 3) throw failed('PPS message too short.');
  if (bytes[0] !== PPSS) throw failed('PPSS is not 0xFF.');
  const pps0 = bytes[1]!;
  if (pps0 & 0x80) throw failed('PPS0 bit 8 is reserved.');
  const expected = 3 + ((pps0 >> 4) & 1) + ((pps0 >> 5) & 1) + ((pps0 >> 6) & 1);
  if (bytes.length !== expected) throw failed(`PPS message of ${bytes.length} bytes, PPS0 says ${expected}.`);
  let x = 0;
  for (const b of bytes) x ^= b;
  if (x !== 0) throw failed('Bad PCK.');
  const msg: PpsMessage = { protocol: pps0 & 0x0f };
  let pos = 2;
  if (pps0 & 0x10) {
    const pps1 = bytes[pos++]!;
    msg.fiIndex = pps1 >> 4;
    msg.diIndex = pps1 & 0x0f;
  }
  if (pps0 & 0x20) msg.pps2 = bytes[pos++]!;
  if (pps0 & 0x40) msg.pps3 = bytes[pos++]!;
  return msg;
}

/**
 * Checks the card's PPS response against our request (7816-3 §9.3).
 * Accepted when the response equals the request, or when it echoes PPSS and the
 * protocol, leaves PPS1 out (the card keeps the default Fi/Di: indexes 1/1) and
 * echoes or leaves out PPS2/PPS3. A well-formed response that disagrees (other
 * protocol, other PPS1, a PPS1/PPS2/PPS3 we did not send) gives `accepted: false`
 * with the default indexes: the caller must reset the card.
 * Throws `ProtocolError('protocol/pps-failed')` when either message is malformed.
 */
export function checkPpsResponse(
  request: Uint8Array,
  response: Uint8Array,
): { accepted: boolean; fiIndex: number; diIndex: number } {
  const req = decodePpsRequest(request);
  const res = decodePpsRequest(response);
  const rejected = { accepted: false, fiIndex: 1, diIndex: 1 };
  if (res.protocol !== req.protocol) return rejected;
  const sameOrAbsent = (a: number | undefined, b: number | undefined): boolean => b === undefined || a === b;
  if (!sameOrAbsent(req.pps2, res.pps2) || !sameOrAbsent(req.pps3, res.pps3)) return rejected;
  if (res.fiIndex === undefined) return { accepted: true, fiIndex: 1, diIndex: 1 };
  if (res.fiIndex !== req.fiIndex || res.diIndex !== req.diIndex) return rejected;
  return { accepted: true, fiIndex: res.fiIndex, diIndex: res.diIndex! };
}
