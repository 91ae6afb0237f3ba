/**
 * The card side of T=0 (ISO/IEC 7816-3 §10, 7816-4 §5 / 7816-3 §12.2) in front
 * of a `VirtualCard`, at the level a TPDU-level CCID reader sees it: the reader
 * sends a TPDU (CLA INS P1 P2 P3 [data]) and gets back what the card sent after
 * the procedure bytes (data, if any, then SW1 SW2). Pure, no timers.
 *
 * - Case 1 / 3 (incoming, by INS): the command runs; when it produced data
 *   (case 4 sent as case 3) the card answers 61xx and keeps the data for GET
 *   RESPONSE (C0), which returns it P3 bytes at a time (61xx while more is left;
 *   6Cxx when P3 is larger than what is left).
 * - Case 2 (outgoing, by INS, P3 = Le, 00 = 256): when the command produced
 *   fewer bytes than P3 the card answers 6Cxx (xx = the exact length) and keeps
 *   the answer for the same TPDU resent with P3 = xx; exact P3 returns the data.
 * - A TPDU whose data length does not match P3, shorter than 5 bytes, or an
 *   incoming command with P3 > 0 and no data leaves the card waiting: `null`
 *   (the reader reports the card mute).
 */
import { bytesEqual, concatBytes } from '../bytes.js';
import type { VirtualCard } from './card.js';

/** Result of one TPDU: the bytes the card sent back and the characters on the wire (both ways, procedure bytes included). */
export interface T0Exchange {
  response: Uint8Array;
  wireBytes: number;
}

const INS_GET_RESPONSE = 0xc0;

function sw(v: number): Uint8Array {
  return Uint8Array.of(v >> 8, v & 0xff);
}

/** The T=0 wire engine of a virtual card. */
export class T0CardEngine {
  private stash: { data: Uint8Array; tailSw: number } | undefined;
  private shortAnswer: { header: Uint8Array; data: Uint8Array; sw: number } | undefined;

  constructor(readonly card: VirtualCard) {}

  /** Forgets pending data (after a reset). */
  reset(): void {
    this.stash = undefined;
    this.shortAnswer = undefined;
  }

  /** One TPDU; `null` when the card would wait for more (mute for the reader). */
  exchange(tpdu: Uint8Array): T0Exchange | null {
    if (tpdu.length < 5) return null;
    const header = tpdu.slice(0, 4);
    const p3 = tpdu[4]!;
    const data = tpdu.subarray(5);
    const ins = header[1]!;
    // Procedure bytes: one ACK (INS) before data goes either way.
    const wire = (response: Uint8Array, acks: number): T0Exchange => ({ response, wireBytes: tpdu.length + acks + response.length });

    if (data.length > 0) {
      if (data.length !== p3) return null;
      this.stash = undefined;
      this.shortAnswer = undefined;
      const r = this.card.transmit(concatBytes(header, Uint8Array.of(p3), data, Uint8Array.of(0)));
      const body = r.subarray(0, r.length - 2);
      const status = (r[r.length - 2]! << 8) | r[r.length - 1]!;
      if (body.length === 0) return wire(sw(status), 1);
      this.stash = { data: body.slice(), tailSw: status };
      return wire(sw(0x6100 | (body.length >= 256 ? 0 : body.length)), 1);
    }

    const ne = p3 === 0 ? 256 : p3;
    if (ins === INS_GET_RESPONSE && this.stash && header[2] === 0 && header[3] === 0) {
      const s = this.stash;
      if (ne > s.data.length) return wire(sw(0x6c00 | (s.data.length & 0xff)), 0);
      const out = s.data.slice(0, ne);
      const rest = s.data.slice(ne);
      if (rest.length === 0) {
        this.stash = undefined;
        return wire(concatBytes(out, sw(s.tailSw)), 1);
      }
      this.stash = { data: rest, tailSw: s.tailSw };
      return wire(concatBytes(out, sw(0x6100 | (rest.length >= 256 ? 0 : rest.length))), 1);
    }

    const direction = this.card.t0Direction(header);
    if (direction === 'in') {
      if (p3 !== 0) return null;
      this.stash = undefined;
      this.shortAnswer = undefined;
      return wire(this.card.transmit(header), 0);
    }

    // Outgoing (case 2).
    const again = this.shortAnswer;
    this.shortAnswer = undefined;
    if (again && bytesEqual(again.header, header) && again.data.length === ne) {
      return wire(concatBytes(again.data, sw(again.sw)), 1);
    }
    if (ins !== INS_GET_RESPONSE) this.stash = undefined;
    const r = this.card.transmit(concatBytes(header, Uint8Array.of(p3)));
    const body = r.subarray(0, r.length - 2);
    const status = (r[r.length - 2]! << 8) | r[r.length - 1]!;
    if (body.length === 0) return wire(sw(status), 0);
    if (body.length < ne) {
      this.shortAnswer = { header, data: body.slice(), sw: status };
      return wire(sw(0x6c00 | (body.length & 0xff)), 0);
    }
    return wire(r.slice(), 1);
  }
}
