/**
 * Reading Taiwan's National Health Insurance card (健保卡) over any `CardChannel`.
 *
 * The commands and the layout are public and confirmed by several independent open-source
 * readers used on real cards (docs/design.md §5.1); reading needs no PIN:
 *
 * - SELECT by DF name: `00 A4 04 00 10 D1 58 00 00 01 00 00 00 00 00 00 00 00 00 11 00`
 *   (case 3, no Le), answered 90 00;
 * - READ of the basic data: `00 CA 11 00 02 00 00` (GET DATA-shaped: Lc 02, data 00 00, no Le) → 57
 *   bytes + 90 00 (the cards are T=1 and answer the data without an Le):
 *
 * | bytes   | field       | encoding                         |
 * | ------- | ----------- | -------------------------------- |
 * | 0..11   | card number | ASCII                            |
 * | 12..31  | name        | Big5, NUL-padded                 |
 * | 32..41  | ID number   | ASCII                            |
 * | 42..48  | birth date  | ASCII ROC YYYMMDD                |
 * | 49      | sex         | 'M' / 'F'                        |
 * | 50..56  | issue date  | ASCII ROC YYYMMDD                |
 *
 * The name is decoded with the platform's `TextDecoder('big5')` (the WHATWG Big5 decoder: browsers,
 * and Node built with full ICU, the default). A byte pair that Big5 does not map decodes to U+FFFD
 * in browsers; Node 20's ICU decoder drops it instead and maps no HKSCS code (lead bytes 0x81..0xA0).
 */
import { bytesEqual, fromHex } from '../bytes.js';
import type { CardChannel } from '../card/channel.js';
import { describeStatusWord } from '../iso7816/status-text.js';
import { NhiError } from './errors.js';
import { rocDateToIso } from './roc-date.js';

/** DF name of the NHI application (16 bytes). */
export const NHI_AID = Uint8Array.of(0xd1, 0x58, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11, 0x00);
/** SELECT of the NHI application, as the public readers send it. */
export const NHI_SELECT = Uint8Array.of(0x00, 0xa4, 0x04, 0x00, 0x10, ...NHI_AID);
/** The basic-data read, as the public readers send it. */
export const NHI_READ_BASIC = Uint8Array.of(0x00, 0xca, 0x11, 0x00, 0x02, 0x00, 0x00);
/** Length of the basic data. */
export const NHI_BASIC_LENGTH = 57;

/** Public ATRs of NHI cards (hex), with what their historical bytes say. */
export const NHI_ATRS = [
  { hex: '3B FA 18 00 00 81 31 FE 45 50 56 4A 43 4F 50 34 53 49 44 93', description: 'NHI card, NXP JCOP ("PVJCOP4SID")' },
  { hex: '3B EE 00 00 81 31 FE 45 80 31 80 66 40 90 93 06 0F 17 83 0F 90 00 F3', description: 'NHI card, compact-TLV historical bytes' },
] as const;

/** What the NHI card's basic data holds. */
export interface NhiCardData {
  /** 12 characters, as on the card. */
  cardNumber: string;
  /** Decoded from Big5, padding removed. */
  name: string;
  /** 10 characters (national ID or resident certificate number), as on the card. */
  idNumber: string;
  /** ISO 8601 date (YYYY-MM-DD). */
  birthDate: string;
  sex: 'M' | 'F';
  /** ISO 8601 date (YYYY-MM-DD). */
  issueDate: string;
}

export interface NhiReadOptions {
  signal?: AbortSignal;
}

const SW_OK = 0x9000;

function swOf(response: Uint8Array): number {
  return response.length >= 2 ? (response[response.length - 2]! << 8) | response[response.length - 1]! : -1;
}

function hex4(sw: number): string {
  return sw < 0 ? 'none' : sw.toString(16).toUpperCase().padStart(4, '0');
}

/** Printable ASCII (0x20..0x7E) of `bytes[from, to)`, or a `nhi/bad-data` error naming `field`. */
function asciiField(bytes: Uint8Array, from: number, to: number, field: string): string {
  let out = '';
  for (let i = from; i < to; i++) {
    const b = bytes[i]!;
    if (b < 0x20 || b > 0x7e) throw new NhiError('nhi/bad-data', `The ${field} field holds a byte that is not printable ASCII (offset ${i}).`);
    out += String.fromCharCode(b);
  }
  return out;
}

let big5: TextDecoder | undefined;

/** The platform's Big5 decoder (WHATWG), made once. Throws `nhi/no-big5` where there is none. */
export function big5Decoder(): TextDecoder {
  if (big5) return big5;
  try {
    big5 = new TextDecoder('big5');
  } catch (e) {
    throw new NhiError('nhi/no-big5', 'This platform has no Big5 text decoder (Node needs full ICU, the default build).', { cause: e });
  }
  return big5;
}

/** The name field: trailing NUL and space padding removed, then Big5-decoded. */
export function decodeNhiName(field: Uint8Array): string {
  let end = field.length;
  while (end > 0 && (field[end - 1] === 0x00 || field[end - 1] === 0x20)) end--;
  // A NUL inside the name ends it (a NUL-terminated field with leftovers after it).
  const nul = field.subarray(0, end).indexOf(0x00);
  if (nul >= 0) end = nul;
  return big5Decoder().decode(field.subarray(0, end)).trim();
}

/**
 * Parses the 57 bytes of basic data (see the module comment). Throws `NhiError('nhi/bad-data')`
 * for another length, non-ASCII numbers, a sex other than M / F, or a bad date.
 */
export function parseNhiBasicData(data: Uint8Array): NhiCardData {
  if (data.length !== NHI_BASIC_LENGTH) {
    throw new NhiError('nhi/bad-data', `The basic data has ${data.length} bytes; an NHI card answers ${NHI_BASIC_LENGTH}.`);
  }
  const cardNumber = asciiField(data, 0, 12, 'card number').trim();
  const idNumber = asciiField(data, 32, 42, 'ID number').trim();
  const date = (from: number, field: string) => {
    try {
      return rocDateToIso(asciiField(data, from, from + 7, field));
    } catch (e) {
      throw new NhiError('nhi/bad-data', `The ${field} is not a ROC date (YYYMMDD).`, { cause: e });
    }
  };
  const birthDate = date(42, 'birth date');
  const sexByte = data[49]!;
  if (sexByte !== 0x4d && sexByte !== 0x46) throw new NhiError('nhi/bad-data', "The sex field is neither 'M' nor 'F'.");
  const issueDate = date(50, 'issue date');
  return { cardNumber, name: decodeNhiName(data.subarray(12, 32)), idNumber, birthDate, sex: sexByte === 0x4d ? 'M' : 'F', issueDate };
}

/** True when the ATR is one of the public NHI ATRs (`NHI_ATRS`). */
export function isKnownNhiAtr(atr: Uint8Array): boolean {
  return NHI_ATRS.some((a) => bytesEqual(fromHex(a.hex), atr));
}

/**
 * Reads the NHI card's basic data: SELECT, then the basic-data read (two APDUs, no PIN).
 *
 * Errors: `nhi/not-nhi-card` (SELECT not answered 90 00, e.g. 6A82: `sw` set), `nhi/read-failed`
 * (the read not answered 90 00: `sw` set), `nhi/bad-data`, `nhi/no-big5`; the channel's own
 * errors pass through unchanged (`ccid/card-absent` when there is no card, `aborted` ...).
 */
export async function readNhiCard(channel: CardChannel, options: NhiReadOptions = {}): Promise<NhiCardData> {
  const opts = options.signal ? { signal: options.signal } : undefined;
  const selected = await channel.transmit(NHI_SELECT.slice(), opts);
  const selectSw = swOf(selected);
  if (selectSw !== SW_OK) {
    throw new NhiError(
      'nhi/not-nhi-card',
      `This is not an NHI card: it refused the NHI application (SW ${hex4(selectSw)}${selectSw < 0 ? '' : `: ${describeStatusWord(selectSw)}`}).`,
      { sw: selectSw },
    );
  }
  const response = await channel.transmit(NHI_READ_BASIC.slice(), opts);
  const sw = swOf(response);
  if (sw !== SW_OK) {
    throw new NhiError('nhi/read-failed', `The card refused the basic-data read (SW ${hex4(sw)}${sw < 0 ? '' : `: ${describeStatusWord(sw)}`}).`, {
      sw,
    });
  }
  return parseNhiBasicData(response.subarray(0, response.length - 2));
}
