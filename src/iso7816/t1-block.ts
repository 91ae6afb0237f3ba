/**
 * T=1 blocks as values (ISO/IEC 7816-3 §11.3): `encodeT1Block` and `decodeT1Block`, for the card's
 * side (t1-card.ts, the virtual reader's pinpad) and tools. The block format, its checks and the
 * host's state machine are in t1.ts; the host does not load this module.
 */
import { ProtocolError } from '../errors.js';
import {
  blockProblem,
  checkRange,
  EMPTY,
  frame,
  PCB_R,
  PCB_S_REQUEST,
  PCB_S_RESPONSE,
  sInfProblem,
  T1_MAX_INF,
  type T1Block,
  type T1Edc,
  type T1SType,
} from './t1.js';

/** S-block types by their PCB low bits (t1.ts: `SBlock`). */
const S_TYPES: readonly T1SType[] = ['RESYNCH', 'IFS', 'ABORT', 'WTX'];

/**
 * The names of the block problems of t1.ts (`Problem`, numbered in this order; 0: none), as the
 * errors here carry them (`detail.problem`; the English words are in src/error-text.ts).
 */
const PROBLEM_NAMES = ['', 'too-short', 'len-ff', 'len-mismatch', 'wrong-edc', 'pcb-rfu', 'r-block-inf', 's-block-type', 's-block-inf'];

/** Encodes a T=1 block with its EDC. Throws ProtocolError('protocol/t1-bad-block') on a block that cannot exist. */
export function encodeT1Block(block: T1Block, edc: T1Edc): Uint8Array {
  checkRange('NAD', block.nad, 0, 0xff);
  if (block.kind === 'I') {
    if (block.inf.length > T1_MAX_INF) throw new ProtocolError('protocol/t1-bad-block', { infLength: block.inf.length, max: T1_MAX_INF });
    return frame(block.nad, ((block.ns & 1) << 6) | (block.more ? 0x20 : 0), block.inf, edc);
  }
  if (block.kind === 'R') {
    if (![0, 1, 2].includes(block.error)) throw new ProtocolError('protocol/t1-bad-block', { rBlockError: block.error });
    return frame(block.nad, PCB_R | ((block.nr & 1) << 4) | block.error, EMPTY, edc);
  }
  const type = S_TYPES.indexOf(block.type);
  const problem = type < 0 ? 's-block-type' : PROBLEM_NAMES[sInfProblem(type, block.inf)];
  if (problem) throw new ProtocolError('protocol/t1-bad-block', { problem });
  return frame(block.nad, (block.response ? PCB_S_RESPONSE : PCB_S_REQUEST) | type, block.inf, edc);
}

/**
 * Decodes a T=1 block. Throws ProtocolError('protocol/t1-bad-block') on a wrong length, LEN = FF,
 * a bad EDC, a PCB with RFU bits set, an R-block with INF or an unknown error code, and S-blocks of
 * unknown type or with a wrong INF.
 */
export function decodeT1Block(bytes: Uint8Array, edc: T1Edc): T1Block {
  const problem = PROBLEM_NAMES[blockProblem(bytes, edc)];
  if (problem) throw new ProtocolError('protocol/t1-bad-block', { length: bytes.length, problem });
  const nad = bytes[0]!;
  const pcb = bytes[1]!;
  const inf = bytes.slice(3, 3 + bytes[2]!);
  if (pcb < PCB_R) return { kind: 'I', nad, ns: ((pcb >> 6) & 1) as 0 | 1, more: (pcb & 0x20) !== 0, inf };
  if (pcb < PCB_S_REQUEST) return { kind: 'R', nad, nr: ((pcb >> 4) & 1) as 0 | 1, error: (pcb & 0x0f) as 0 | 1 | 2 };
  return { kind: 'S', nad, type: S_TYPES[pcb & 0x1f]!, response: pcb >= PCB_S_RESPONSE, inf };
}
