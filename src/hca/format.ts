/**
 * Pure encoders and parsers of the HCA card operations every HCA flow uses: PIN / PUK checks and
 * PIN blocks, the pipe-separated card-info file, and the supported digests' lengths. Those only
 * `HcaCard` uses (basic data, the DER header of a certificate file, DigestInfo, serial-number
 * text) are in ./card-format.ts, so that the pages using `HcaCardBase` alone do not load them. No
 * I/O. Every parser returns a result or throws `HcaError`, whatever the input.
 */
import { pinCharAllowed, type PinEncoding } from './profile-data.js';
import { HcaError } from './errors.js';

// ---- PIN and PUK ---------------------------------------------------------------------

/** A PIN or PUK as the caller gives it: a string of digits, or their ASCII bytes ('1' = 0x31). */
export type Secret = string | Uint8Array;

/**
 * Checks a PIN or PUK and returns its ASCII characters in a new buffer (the caller wipes it).
 * Throws `HcaError(code)` when it is not `minLength..maxLength` decimal digits (with `letters`:
 * ASCII letters and digits, the HCA PIN rule, `pinRule`); the message names the rule, never the
 * value. The caller's own buffer is not changed.
 */
export function secretDigits(
  value: Secret,
  rule: { minLength: number; maxLength: number; code: 'hca/bad-pin-format' | 'hca/bad-puk-format'; what: 'PIN' | 'PUK' | 'new PIN'; letters?: boolean },
): Uint8Array {
  const length = typeof value === 'string' ? value.length : value instanceof Uint8Array ? value.length : -1;
  // The facts are the rule, never the value (nor its length).
  const { what, minLength, maxLength } = rule;
  const letters = rule.letters === true;
  const fail = () =>
    rule.code === 'hca/bad-puk-format'
      ? new HcaError('hca/bad-puk-format', { what, minLength, maxLength, letters })
      : new HcaError('hca/bad-pin-format', { what, minLength, maxLength, letters });
  if (length < rule.minLength || length > rule.maxLength) throw fail();
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const c = typeof value === 'string' ? value.charCodeAt(i) : (value as Uint8Array)[i]!;
    if (!pinCharAllowed(c, rule.letters === true ? 'letters-and-digits' : 'digits')) {
      out.fill(0);
      throw fail();
    }
    out[i] = c;
  }
  return out;
}

/**
 * The PIN block the card expects: the digits left-justified in `blockLength` bytes, as ASCII
 * (one digit a byte) or BCD (two digits a byte, high nibble first; an odd last digit is followed
 * by the low nibble of `padByte`), the rest filled with `padByte`. Throws
 * `HcaError('hca/bad-profile')` when the digits do not fit.
 */
export function encodePinBlock(digits: Uint8Array, encoding: PinEncoding): Uint8Array {
  const needed = encoding.encoding === 'ascii' ? digits.length : Math.ceil(digits.length / 2);
  if (needed > encoding.blockLength) {
    throw new HcaError('hca/bad-profile', { blockLength: encoding.blockLength, pinLength: digits.length });
  }
  const block = new Uint8Array(encoding.blockLength).fill(encoding.padByte & 0xff);
  if (encoding.encoding === 'ascii') {
    block.set(digits);
  } else {
    for (let i = 0; i < digits.length; i++) {
      const d = digits[i]! - 0x30;
      const at = i >> 1;
      block[at] = i % 2 === 0 ? (d << 4) | (encoding.padByte & 0x0f) : (block[at]! & 0xf0) | d;
    }
  }
  return block;
}

// ---- text files -----------------------------------------------------------------------

/** Card information: number and validity. */
export interface CardInfo {
  /** The 12 digits of the card number, without the letters (what users type in the unlock flow). */
  cardNumber: string;
  /** The number as printed on the card: two letters and the 12 digits, e.g. "GH000012345678". */
  printedNumber: string;
  /** First day of validity, `YYYY-MM-DD`. */
  validFrom: string;
  /** Last day of validity, `YYYY-MM-DD`. */
  validTo: string;
}

const MAX_TEXT_FILE = 4096;

/** Strips trailing padding (00, FF, spaces) and decodes UTF-8 (invalid sequences become U+FFFD). */
function textOf(bytes: Uint8Array, what: string): string {
  if (bytes.length > MAX_TEXT_FILE) throw new HcaError('hca/bad-file', { file: what, maxBytes: MAX_TEXT_FILE });
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x00 || bytes[end - 1] === 0xff || bytes[end - 1] === 0x20)) end--;
  return new TextDecoder('utf-8').decode(bytes.subarray(0, end));
}

/** The `|`-separated fields of a text file (at least `count`), trimmed. */
export function fields(bytes: Uint8Array, what: string, count: number): string[] {
  const parts = textOf(bytes, what).split('|').map((s) => s.trim());
  if (parts.length < count) throw new HcaError('hca/bad-file', { file: what, fields: count });
  return parts;
}

const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * A date as YYYYMMDD, YYYY-MM-DD or YYYY/MM/DD, or YYYMMDD in the Minguo (ROC) calendar
 * (year + 1911); returns `YYYY-MM-DD`.
 */
export function parseCardDate(text: string, what = 'card info'): string {
  const bad = () => new HcaError('hca/bad-file', { dateIn: what });
  let m = /^(\d{4})[-/]?(\d{2})[-/]?(\d{2})$/.exec(text);
  let year: number;
  if (m) year = Number(m[1]);
  else {
    m = /^(\d{3})(\d{2})(\d{2})$/.exec(text);
    if (!m) throw bad();
    year = Number(m[1]) + 1911;
  }
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > DAYS[month - 1]!) throw bad();
  if (month === 2 && day === 29 && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))) throw bad();
  return `${String(year).padStart(4, '0')}-${m[2]}-${m[3]}`;
}

/** Parses the card-info file: `<2 letters><12 digits>|<valid from>|<valid to>`. */
export function parseCardInfo(bytes: Uint8Array): CardInfo {
  const [number, from, to] = fields(bytes, 'card info', 3) as [string, string, string];
  const m = /^([A-Z]{2})(\d{12})$/.exec(number);
  if (!m) throw new HcaError('hca/bad-file', {});
  return { cardNumber: m[2]!, printedNumber: number, validFrom: parseCardDate(from), validTo: parseCardDate(to) };
}

/** Card numbers as users type them: 12 digits (an optional two-letter prefix such as "GH" is dropped). */
export function normalizeCardNumber(text: string): string | undefined {
  const m = /^(?:[A-Za-z]{2})?(\d{12})$/.exec(text.trim());
  return m ? m[1] : undefined;
}

// ---- signing ----------------------------------------------------------------------------

/** Digest lengths in bytes by WebCrypto hash name: the hashes the operations support (the DigestInfo prefixes are in ./card-format.ts). */
const DIGEST_LENGTHS: Readonly<Record<string, number>> = { 'SHA-1': 20, 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };

/** Digest length in bytes of a hash name the operations support, or undefined. */
export function digestLength(hash: string): number | undefined {
  return Object.hasOwn(DIGEST_LENGTHS, hash) ? DIGEST_LENGTHS[hash] : undefined;
}
