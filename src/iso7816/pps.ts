/**
 * Protocol and parameters selection (PPS, ISO/IEC 7816-3:2006 §9):
 * PPSS (0xFF), PPS0 (b8 RFU = 0, b7/b6/b5 = PPS3/PPS2/PPS1 present, b4-b1 = T),
 * PPS1 (Fi index << 4 | Di index), PPS2, PPS3, PCK (XOR of all bytes = 0).
 */
import { xorBytes } from '../bytes.js';
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

/** Throws `protocol/pps-failed` unless `v` (the option `field`) is an integer 0..max. */
function checkField(field: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new ProtocolError('protocol/pps-failed', { field, value: v, max });
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
  const { protocol, pps2, pps3 } = opts;
  checkField('protocol', protocol, 14);
  let pps1: number | undefined;
  if (opts.fiIndex !== undefined || opts.diIndex !== undefined) {
    const fi = opts.fiIndex ?? 1;
    const di = opts.diIndex ?? 1;
    checkField('fiIndex', fi, 15);
    checkField('diIndex', di, 15);
    pps1 = (fi << 4) | di;
  }
  if (pps2 !== undefined) checkField('pps2', pps2, 0xff);
  if (pps3 !== undefined) checkField('pps3', pps3, 0xff);
  const out = [PPSS, protocol];
  // PPS0 bits 5, 6, 7 announce PPS1, PPS2, PPS3.
  [pps1, pps2, pps3].forEach((v, i) => {
    if (v === undefined) return;
    out[1]! |= 0x10 << i;
    out.push(v);
  });
  out.push(xorBytes(out));
  return Uint8Array.from(out);
}

/**
 * Decodes a PPS message (request, or response: same format). Throws
 * `ProtocolError('protocol/pps-failed')` when PPSS is not FF, PPS0 b8 is set,
 * the length does not match PPS0, or PCK is wrong.
 */
export function decodePpsRequest(bytes: Uint8Array): PpsMessage {
  const n = bytes.length;
  if (n < 3) throw new ProtocolError('protocol/pps-failed', { length: n });
  if (bytes[0] !== PPSS) throw new ProtocolError('protocol/pps-failed', { ppss: bytes[0]! });
  const pps0 = bytes[1]!;
  if (pps0 & 0x80) throw new ProtocolError('protocol/pps-failed', { pps0 });
  const msg: PpsMessage = { protocol: pps0 & 0x0f };
  let pos = 2;
  if (pps0 & 0x10) {
    msg.fiIndex = bytes[pos]! >> 4;
    msg.diIndex = bytes[pos++]! & 0x0f;
  }
  if (pps0 & 0x20) msg.pps2 = bytes[pos++]!;
  if (pps0 & 0x40) msg.pps3 = bytes[pos++]!;
  if (n !== pos + 1) throw new ProtocolError('protocol/pps-failed', { length: n, expected: pos + 1 });
  if (xorBytes(bytes) !== 0) throw new ProtocolError('protocol/pps-failed', { pck: bytes[n - 1]! });
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
  // Each of PPS1 (both indexes), PPS2, PPS3 is left out or echoed.
  const accepted =
    res.protocol === req.protocol &&
    (['fiIndex', 'diIndex', 'pps2', 'pps3'] as const).every((key) => res[key] === undefined || res[key] === req[key]);
  // Refused, or PPS1 left out: the default indexes 1 / 1.
  const pps1: Partial<PpsMessage> = accepted ? res : {};
  return { accepted, fiIndex: pps1.fiIndex ?? 1, diIndex: pps1.diIndex ?? 1 };
}
