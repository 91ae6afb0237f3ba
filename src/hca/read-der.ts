/**
 * Reading a certificate file of the HCA card with READ BINARY (./read-binary.ts) to the length its
 * DER header gives. Only `HcaCard` (./card.ts) reads certificates: apart from ./read-binary.ts so
 * that the pages using `HcaCardBase` alone do not load it.
 */
import { SW_END_OF_FILE, SW_OK, SW_WRONG_P1P2 } from './apdu.js';
import { derTotalLength } from './card-format.js';
import { cardStatusError } from './errors.js';
import { readBinary, type Exchange } from './read-binary.js';

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
