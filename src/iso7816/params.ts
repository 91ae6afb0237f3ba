/**
 * CCID abProtocolDataStructure (USB CCID rev 1.10 §6.1.7), the payload of
 * PC_to_RDR_SetParameters and RDR_to_PC_Parameters: 5 bytes for T=0, 7 for T=1.
 */
import { CcidError, ProtocolError } from '../errors.js';
import { CLOCK_STOPS, type Atr } from './atr.js';

/** T=0 protocol data structure (5 bytes). */
export interface T0Params {
  protocol: 0;
  /** Fi index << 4 | Di index. */
  bmFindexDindex: number;
  /** Bit 1: convention (0 direct, 1 inverse); other bits 0. */
  bmTCCKST0: number;
  /** TC1 (extra guard time N). */
  bGuardTimeT0: number;
  /** WI (TC2). */
  bWaitingIntegerT0: number;
  /** 0 not allowed, 1 low, 2 high, 3 either. */
  bClockStop: number;
}

/** T=1 protocol data structure (7 bytes). */
export interface T1Params {
  protocol: 1;
  bmFindexDindex: number;
  /** 0x10 | bit 1 convention inverse (0x02) | bit 0 CRC (0x01). */
  bmTCCKST1: number;
  /** TC1 (extra guard time N). */
  bGuardTimeT1: number;
  /** BWI << 4 | CWI. */
  bmWaitingIntegersT1: number;
  bClockStop: number;
  bIFSC: number;
  bNadValue: number;
}

export type ProtocolParams = T0Params | T1Params;

/** Length of the structure for T=0 and T=1. */
export const PROTOCOL_PARAMS_LENGTH = { 0: 5, 1: 7 } as const;

/** The field names of a structure, without `protocol` (which is bProtocolNum, not a byte of it). */
type FieldNames<P> = readonly Exclude<keyof P, 'protocol'>[];

/**
 * The fields of each structure, in byte order (USB CCID rev 1.10 §6.1.7): byte i of the
 * structure is field FIELDS[protocol][i]. Encoding, decoding and `paramsFromAtr` all follow
 * this one list (`satisfies` makes the compiler reject a name that is not a field).
 */
const FIELDS = {
  0: ['bmFindexDindex', 'bmTCCKST0', 'bGuardTimeT0', 'bWaitingIntegerT0', 'bClockStop'],
  1: ['bmFindexDindex', 'bmTCCKST1', 'bGuardTimeT1', 'bmWaitingIntegersT1', 'bClockStop', 'bIFSC', 'bNadValue'],
} as const satisfies { 0: FieldNames<T0Params>; 1: FieldNames<T1Params> };

/** The structure for `protocol` from its field values in byte order (values[i] is FIELDS[protocol][i]). */
function fromValues(protocol: 0 | 1, values: ArrayLike<number>): ProtocolParams {
  // Built field by field, so typed loosely here; FIELDS is checked against the interfaces.
  const p: Record<string, number> = { protocol };
  FIELDS[protocol].forEach((name, i) => (p[name] = values[i]!));
  return p as unknown as ProtocolParams;
}

/**
 * Parameters for SetParameters from an ATR. `rate` is the Fi/Di pair in force
 * (after a successful PPS, or the pair the reader negotiated itself); without it:
 * TA1 when the card is in specific mode with explicit parameters (TA2 b5 = 0),
 * else the default 0x11. Protocol-specific fields fall back to the 7816-3
 * defaults when the ATR does not give them (e.g. T=1 asked of a T=0-only ATR).
 */
export function paramsFromAtr(atr: Atr, protocol: 0, rate?: { fiIndex: number; diIndex: number }): T0Params;
export function paramsFromAtr(atr: Atr, protocol: 1, rate?: { fiIndex: number; diIndex: number }): T1Params;
export function paramsFromAtr(atr: Atr, protocol: 0 | 1, rate?: { fiIndex: number; diIndex: number }): ProtocolParams;
export function paramsFromAtr(atr: Atr, protocol: 0 | 1, rate?: { fiIndex: number; diIndex: number }): ProtocolParams {
  let bmFindexDindex = 0x11;
  if (rate) {
    bmFindexDindex = ((rate.fiIndex & 0x0f) << 4) | (rate.diIndex & 0x0f);
  } else if (atr.specificMode && !atr.specificMode.implicit && !atr.ta1Reserved && atr.groups[0]?.ta !== undefined) {
    bmFindexDindex = atr.groups[0].ta;
  }
  const inverse = atr.convention === 'inverse' ? 0x02 : 0x00;
  // CCID's bClockStop codes the clock stop indicator as 7816-3 does (0 not supported .. 3 no preference).
  const bClockStop = atr.clockStop ? CLOCK_STOPS.indexOf(atr.clockStop) : 0;
  // Values in FIELDS order.
  return fromValues(
    protocol,
    protocol === 0
      ? [
          bmFindexDindex,
          inverse, // bmTCCKST0
          atr.extraGuardTime, // bGuardTimeT0
          atr.wi ?? 10, // bWaitingIntegerT0
          bClockStop,
        ]
      : [
          bmFindexDindex,
          0x10 | inverse | (atr.edc === 'crc' ? 0x01 : 0x00), // bmTCCKST1
          atr.extraGuardTime, // bGuardTimeT1
          (((atr.bwi ?? 4) & 0x0f) << 4) | ((atr.cwi ?? 13) & 0x0f), // bmWaitingIntegersT1
          bClockStop,
          atr.ifsc ?? 32, // bIFSC
          0, // bNadValue
        ],
  );
}

/**
 * Encodes the structure: 5 bytes (T=0) or 7 bytes (T=1). Throws
 * `ProtocolError('protocol/bad-parameters')` when a field is not a byte.
 */
export function encodeProtocolParams(p: ProtocolParams): Uint8Array {
  return Uint8Array.from(FIELDS[p.protocol], (name) => {
    const v = (p as unknown as Record<string, number>)[name]!;
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new ProtocolError('protocol/bad-parameters', { field: name, value: v });
    return v;
  });
}

/**
 * Decodes the structure of a Parameters answer (bProtocolNum = `protocol`).
 * Throws `CcidError('ccid/malformed-frame')` for a protocol other than 0/1 or a
 * length other than 5 (T=0) / 7 (T=1). Field values are kept raw.
 */
export function decodeProtocolParams(protocol: number, bytes: Uint8Array): ProtocolParams {
  if (protocol !== 0 && protocol !== 1) {
    throw new CcidError('ccid/malformed-frame', { protocol });
  }
  const want = PROTOCOL_PARAMS_LENGTH[protocol];
  if (bytes.length !== want) {
    throw new CcidError('ccid/malformed-frame', { protocol, length: bytes.length, expected: want });
  }
  return fromValues(protocol, bytes);
}
