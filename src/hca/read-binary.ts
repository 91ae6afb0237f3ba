/**
 * Reading a transparent EF of the HCA card with READ BINARY (ISO/IEC 7816-4:2013 §11.2.3): the
 * small text files to their end, a certificate to the length its DER header gives. The caller
 * selects the EF first and sends the commands (`Exchange`); these functions decide what to send
 * next from the answers.
 */
import { concatBytes } from '../bytes.js';
import type { CommandApdu } from '../iso7816/apdu.js';
import { INS_READ_BINARY, SW1_WRONG_LE, SW_END_OF_FILE, SW_OK, SW_WRONG_P1P2, sw1Of } from './apdu.js';
import { cardStatusError, HcaError } from './errors.js';
import { derTotalLength } from './format.js';

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
    if (offset > MAX_TEXT_FILE) throw new HcaError('hca/bad-file', `The ${what} file is longer than ${MAX_TEXT_FILE} bytes.`);
  }
  return concatBytes(...parts);
}

/**
 * Reads the selected EF as one DER object, as long as its header says. `absent()` is thrown for an
 * empty (6B00 at offset 0) or erased file, `truncated()` when the file ends before the DER length.
 */
export async function readDerFile(send: Exchange, cla: number, chunk: number, errors: { absent: () => Error; truncated: () => Error }): Promise<Uint8Array> {
  const first = await readBinary(send, cla, 0, chunk);
  if (first.sw === SW_WRONG_P1P2) throw errors.absent();
  if (first.sw !== SW_OK && first.sw !== SW_END_OF_FILE) throw cardStatusError(first.sw, first.data);
  const total = derTotalLength(first.data);
  if (total === 'erased') throw errors.absent();
  if (total <= first.data.length) return first.data.slice(0, total);
  if (first.sw === SW_END_OF_FILE) throw errors.truncated();
  const out = new Uint8Array(total);
  out.set(first.data);
  let offset = first.data.length;
  while (offset < total) {
    const r = await readBinary(send, cla, offset, Math.min(chunk, total - offset));
    if (r.sw === SW_WRONG_P1P2) throw errors.truncated();
    if (r.sw !== SW_OK && r.sw !== SW_END_OF_FILE) throw cardStatusError(r.sw, r.data);
    if (r.data.length === 0 || offset + r.data.length > total) throw errors.truncated();
    out.set(r.data, offset);
    offset += r.data.length;
    if (r.sw === SW_END_OF_FILE && offset < total) throw errors.truncated();
  }
  return out;
}
