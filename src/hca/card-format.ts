/**
 * The encoders and parsers only `HcaCard` (./card.ts) and the reports use: the basic-data file,
 * the DER header of a certificate file, the PKCS#1 DigestInfo, and the text of a certificate's
 * serial number. Apart from ./format.ts
 * so that the pages using `HcaCardBase` alone (the unlock page) do not load them. No I/O. Every
 * parser returns a result or throws `HcaError`, whatever the input.
 */
import { concatBytes, fromHex, toHex } from '../bytes.js';
import { HcaError } from './errors.js';
import { digestLength, fields } from './format.js';

/** Basic data, readable without a PIN. */
export interface BasicData {
  name: string;
  /** National ID (or resident certificate) number of the holder; for institution cards the institution code. */
  idNumber: string;
  /** Holder category as the card stores it (e.g. the profession). */
  category: string;
}

/** Parses the basic-data file: `<name>|<ID number>|<category>`. */
export function parseBasicData(bytes: Uint8Array): BasicData {
  const [name, idNumber, category] = fields(bytes, 'basic data', 3) as [string, string, string];
  if (name === '' || idNumber === '') throw new HcaError('hca/bad-file', { file: 'basic data' });
  return { name, idNumber, category };
}

// ---- certificates -----------------------------------------------------------------------

/** Largest certificate file READ BINARY with a 15-bit offset can reach. */
export const MAX_CERTIFICATE_LENGTH = 0x8000;

/**
 * The total length (header + content) of the DER SEQUENCE a certificate file starts with, from
 * its first bytes; `'erased'` when the file starts with 00 or FF (an empty slot). Throws
 * `HcaError('hca/bad-file')` for anything else (not a SEQUENCE, indefinite or over-long length,
 * more than `MAX_CERTIFICATE_LENGTH`), and when `head` is too short to hold the header.
 */
export function derTotalLength(head: Uint8Array): number | 'erased' {
  const bad = (derProblem: 'no-sequence' | 'header-truncated' | 'indefinite-length' | 'length-too-large' | 'not-minimal') =>
    new HcaError('hca/bad-file', { derProblem });
  if (head.length === 0 || head[0] === 0x00 || head[0] === 0xff) return 'erased';
  if (head[0] !== 0x30) throw bad('no-sequence');
  if (head.length < 2) throw bad('header-truncated');
  const first = head[1]!;
  if (first < 0x80) return 2 + first;
  const n = first & 0x7f;
  if (n === 0) throw bad('indefinite-length');
  if (n > 3) throw bad('length-too-large');
  if (head.length < 2 + n) throw bad('header-truncated');
  let length = 0;
  for (let i = 0; i < n; i++) length = length * 256 + head[2 + i]!;
  if (length < 0x80 || (n > 1 && head[2] === 0)) throw bad('not-minimal');
  const total = 2 + n + length;
  if (total > MAX_CERTIFICATE_LENGTH) throw new HcaError('hca/bad-file', { derMaxBytes: MAX_CERTIFICATE_LENGTH });
  return total;
}

// ---- signing ----------------------------------------------------------------------------

/**
 * DER prefixes of the PKCS#1 v1.5 DigestInfo (RFC 8017 §9.2, note 1) by WebCrypto hash name; each
 * ends with the digest's length (`digestLength`).
 */
const DIGEST_INFO_PREFIX: Readonly<Record<string, string>> = {
  'SHA-1': '30 21 30 09 06 05 2B 0E 03 02 1A 05 00 04 14',
  'SHA-256': '30 31 30 0D 06 09 60 86 48 01 65 03 04 02 01 05 00 04 20',
  'SHA-384': '30 41 30 0D 06 09 60 86 48 01 65 03 04 02 02 05 00 04 30',
  'SHA-512': '30 51 30 0D 06 09 60 86 48 01 65 03 04 02 03 05 00 04 40',
};

/** The DER DigestInfo for a digest. Throws `HcaError('hca/bad-argument')` when the digest has the wrong length. */
export function digestInfo(hash: string, digest: Uint8Array): Uint8Array {
  const length = digestLength(hash);
  if (length === undefined || !Object.hasOwn(DIGEST_INFO_PREFIX, hash)) {
    throw new HcaError('hca/bad-profile', { hash: JSON.stringify(hash) ?? String(hash) });
  }
  if (digest.length !== length) {
    throw new HcaError('hca/bad-argument', { hash, expectedBytes: length, digestBytes: digest.length });
  }
  return concatBytes(fromHex(DIGEST_INFO_PREFIX[hash]!), digest);
}

/** Printable ASCII text of bytes, or undefined when any byte is not printable. */
export function printableAscii(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return undefined;
  let s = '';
  for (const b of bytes) {
    if (b < 0x20 || b > 0x7e) return undefined;
    s += String.fromCharCode(b);
  }
  return s;
}

/** Hex of bytes without separators (for serial numbers). */
export function compactHex(bytes: Uint8Array): string {
  return toHex(bytes, '');
}
