/**
 * T=0 (ISO/IEC 7816-3 §10 and §12.2) for TPDU-level CCID readers, as a pure state machine.
 *
 * The reader handles the procedure bytes (INS, ~INS, 60); the host maps APDUs to TPDUs and
 * handles the two status words that belong to the transport:
 * - 61xx: more data is waiting; send GET RESPONSE with P3 = xx (00 = 256) and append the
 *   data, repeatedly (bounded by `maxGetResponse` and by 65536 bytes in all).
 * - 6Cxx: wrong P3 for an outgoing (case 2) TPDU; resend the same header with P3 = xx
 *   (at most `maxWrongLength` times in a row).
 *
 * Mapping (7816-3 §12.2): case 1 -> header + P3=00; case 2S -> P3 = Le (256 -> 00);
 * case 3S -> header + Lc + data; case 4S -> sent as case 3, the data fetched with GET
 * RESPONSE on 61xx. Extended APDUs: 2E -> P3=00 then GET RESPONSE on 61xx; 3E/4E with
 * Nc <= 255 -> as 3S/4S. Nc > 255 would need ENVELOPE: not done, it throws
 * ProtocolError('protocol/apdu-too-long').
 *
 * GET RESPONSE uses the CLA of the command (like CCID bClassGetResponse = FF, "echo")
 * unless `getResponseCla` is given. A warning (62xx/63xx) to a case 4 command is returned
 * as it is (no GET RESPONSE is attempted).
 */
import { concatBytes } from '../bytes.js';
import { ProtocolError } from '../errors.js';
import { parseApdu } from './apdu.js';

/** What the host must do next: send a TPDU (XfrBlock) or hand the response APDU to the caller. */
export type T0Action = { kind: 'send'; tpdu: Uint8Array } | { kind: 'done'; response: Uint8Array };

/** Options of {@link T0Host}. */
export interface T0HostOptions {
  /** CLA of GET RESPONSE; default: the CLA of the command. */
  getResponseCla?: number;
  /** Most GET RESPONSE commands in one exchange (default 300). */
  maxGetResponse?: number;
  /** Most 6Cxx resends in a row (default 3). */
  maxWrongLength?: number;
}

/** Largest response the engine assembles (Ne max of an extended APDU). */
const MAX_RESPONSE_DATA = 65536;

const INS_GET_RESPONSE = 0xc0;

interface Exchange {
  cla: number;
  /** Last TPDU sent. */
  last: Uint8Array;
  /** True when the last TPDU was outgoing (card sends data, P3 = Le): 6Cxx applies. */
  outgoing: boolean;
  parts: Uint8Array[];
  length: number;
  getResponses: number;
  wrongLength: number;
}

/** Host side of T=0 for a TPDU-level CCID reader: the reader handles procedure bytes; we handle 61xx and 6Cxx. */
export class T0Host {
  private readonly getResponseCla: number | undefined;
  private readonly maxGetResponse: number;
  private readonly maxWrongLength: number;
  private exchange: Exchange | undefined;

  constructor(opts: T0HostOptions = {}) {
    this.getResponseCla = opts.getResponseCla;
    this.maxGetResponse = opts.maxGetResponse ?? 300;
    this.maxWrongLength = opts.maxWrongLength ?? 3;
  }

  /** True while an exchange waits for {@link receive}. */
  get busy(): boolean {
    return this.exchange !== undefined;
  }

  /**
   * Starts an exchange: returns the first TPDU. Throws ProtocolError('protocol/bad-apdu') on a
   * malformed APDU and ProtocolError('protocol/apdu-too-long') when Nc > 255.
   */
  transmit(apdu: Uint8Array): T0Action {
    this.exchange = undefined;
    const p = parseApdu(apdu);
    const nc = p.data?.length ?? 0;
    if (nc > 255) {
      throw new ProtocolError('protocol/apdu-too-long', { nc });
    }
    // header + P3 (+ data), built in place: one allocation per TPDU. Case 1: P3 = 00;
    // case 2: P3 = Le (256 and more: 00); cases 3 and 4: P3 = Lc, then the data.
    const tpdu = new Uint8Array(5 + nc);
    tpdu.set(p.header);
    const outgoing = p.case === 2;
    if (outgoing) {
      const le = p.le ?? 256;
      tpdu[4] = le >= 256 ? 0 : le;
    } else if (p.data) {
      tpdu[4] = nc;
      tpdu.set(p.data, 5);
    }
    this.exchange = { cla: p.cla, last: tpdu, outgoing, parts: [], length: 0, getResponses: 0, wrongLength: 0 };
    return { kind: 'send', tpdu };
  }

  /**
   * Takes the reader's answer to the last TPDU (data + SW1 SW2). Throws
   * ProtocolError('protocol/t0-bad-response') on fewer than 2 bytes, with no exchange in
   * progress, or when the card keeps asking for GET RESPONSE / resends beyond the bounds.
   */
  receive(response: Uint8Array): T0Action {
    const ex = this.exchange;
    if (!ex) throw new ProtocolError('protocol/t0-bad-response', {});
    if (response.length < 2) {
      this.exchange = undefined;
      throw new ProtocolError('protocol/t0-bad-response', { length: response.length });
    }
    const sw1 = response[response.length - 2]!;
    const sw2 = response[response.length - 1]!;
    if (sw1 === 0x6c && ex.outgoing && response.length === 2) {
      if (++ex.wrongLength > this.maxWrongLength) {
        this.exchange = undefined;
        throw new ProtocolError('protocol/t0-bad-response', { resends: this.maxWrongLength });
      }
      const tpdu = ex.last.slice();
      tpdu[4] = sw2;
      ex.last = tpdu;
      return { kind: 'send', tpdu };
    }
    if (sw1 === 0x61) {
      const data = response.subarray(0, response.length - 2);
      ex.parts.push(data.slice());
      ex.length += data.length;
      if (++ex.getResponses > this.maxGetResponse || ex.length + (sw2 === 0 ? 256 : sw2) > MAX_RESPONSE_DATA) {
        this.exchange = undefined;
        throw new ProtocolError('protocol/t0-bad-response', { getResponses: ex.getResponses, length: ex.length });
      }
      const tpdu = Uint8Array.of(this.getResponseCla ?? ex.cla, INS_GET_RESPONSE, 0, 0, sw2);
      ex.last = tpdu;
      ex.outgoing = true;
      ex.wrongLength = 0;
      return { kind: 'send', tpdu };
    }
    this.exchange = undefined;
    return { kind: 'done', response: concatBytes(...ex.parts, response) };
  }
}
