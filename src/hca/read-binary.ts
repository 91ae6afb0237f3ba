/**
 * Reading a transparent EF of the HCA card with READ BINARY (ISO/IEC 7816-4:2013 §11.2.3): the
 * small text files to their end (a certificate, to the length its DER header gives, in
 * ./read-der.ts: only `HcaCard` reads one). The caller
 * selects the EF first and sends the commands (`Exchange`); these functions decide what to send
 * next from the answers.
 */
import { concatBytes } from '../bytes.js';
import type { CommandApdu } from '../iso7816/apdu.js';
import { INS_READ_BINARY, SW1_WRONG_LE, SW_END_OF_FILE, SW_OK, SW_WRONG_P1P2, sw1Of } from './apdu.js';
import { cardStatusError, HcaError } from './errors.js';

/** Sends one command APDU and gives its answer split into data and status word. */
export type Exchange = (apdu: CommandApdu) => Promise<{ data: Uint8Array; sw: number }>;

/** Longest text file read to its end: beyond this, the file is not what the profile says. */
const MAX_TEXT_FILE = 4096;

/**
 * Le of the READ BINARY commands: the largest whose answer the channel returns in one reader
 * message (`maxUnchainedLe`: one T=1 block), so that each read is one bulk transfer each way;
 * 256 when unknown.
 */
export function readChunk(maxUnchainedLe: number | undefined): number {
  const n = maxUnchainedLe;
  return n !== undefined && Number.isInteger(n) && n >= 1 && n <= 256 ? n : 256;
}

/** READ BINARY of up to `le` bytes at `offset`; a 6Cxx answer is asked again with Le = xx. */
export async function readBinary(send: Exchange, cla: number, offset: number, le: number): Promise<{ data: Uint8Array; sw: number }> {
  const apdu = { cla, ins: INS_READ_BINARY, p1: (offset >> 8) & 0x7f, p2: offset & 0xff };
  let r = await send({ ...apdu, le });
  if (sw1Of(r.sw) === SW1_WRONG_LE) r = await send({ ...apdu, le: r.sw & 0xff || 256 });
  return r;
}

/**
 * Reads the selected EF to its end (for the small text files): until 6282 (end of file), a short
 * answer, or 6B00 (offset beyond the end) after the first read. `what` names the file in errors.
 */
export async function readToEnd(send: Exchange, cla: number, chunk: number, what: string): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (;;) {
    const r = await readBinary(send, cla, offset, chunk);
    if (r.sw === SW_WRONG_P1P2 && offset > 0) break;
    if (r.sw !== SW_OK && r.sw !== SW_END_OF_FILE) throw cardStatusError(r.sw, r.data);
    parts.push(r.data);
    offset += r.data.length;
    if (r.sw === SW_END_OF_FILE || r.data.length < chunk) break;
    if (offset > MAX_TEXT_FILE) throw new HcaError('hca/bad-file', { file: what, maxBytes: MAX_TEXT_FILE });
  }
  return concatBytes(...parts);
}
