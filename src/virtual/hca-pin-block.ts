/**
 * PIN blocks of an HCA profile (`PinEncoding`): PIN characters left-justified
 * in `blockLength` bytes, as ASCII or packed BCD, padded with `padByte`.
 */
import { pinCharAllowed, type PinCharset, type PinEncoding } from '../hca/profile.js';

/** Encodes PIN digits as a profile PIN block (left-justified, padded). */
export function encodePinBlock(digits: string, encoding: PinEncoding): Uint8Array {
  const block = new Uint8Array(encoding.blockLength).fill(encoding.padByte);
  if (encoding.encoding === 'ascii') {
    for (let i = 0; i < digits.length && i < block.length; i++) block[i] = digits.charCodeAt(i);
  } else {
    const padNibble = encoding.padByte & 0x0f;
    for (let i = 0; i < digits.length && i < 2 * block.length; i++) {
      const d = digits.charCodeAt(i) - 0x30;
      const at = i >> 1;
      const current = block[at]!;
      block[at] = i % 2 === 0 ? (d << 4) | padNibble : (current & 0xf0) | d;
    }
  }
  return block;
}

/** The characters of a profile block up to its padding (the inverse of `encodePinBlock`). */
export function decodePinBlock(block: Uint8Array, encoding: PinEncoding): string {
  let out = '';
  if (encoding.encoding === 'ascii') {
    for (const b of block) {
      if (b === encoding.padByte) break;
      out += String.fromCharCode(b);
    }
    return out;
  }
  for (const b of block) {
    for (const nibble of [b >> 4, b & 0x0f]) {
      if (nibble > 9) return out;
      out += String(nibble);
    }
  }
  return out;
}

/**
 * Number of PIN characters in a well-formed profile block (characters then padding only), or -1.
 * With the ASCII encoding, `charset` 'letters-and-digits' (the default: the HCA PIN rule) also
 * counts A-Z and a-z; 'digits' counts 0-9 only. BCD blocks hold digits only.
 */
export function pinBlockDigits(block: Uint8Array, encoding: PinEncoding, charset: PinCharset = 'letters-and-digits'): number {
  if (block.length !== encoding.blockLength) return -1;
  const nibbles: number[] = [];
  if (encoding.encoding === 'ascii') {
    let n = 0;
    while (n < block.length && block[n] !== encoding.padByte && pinCharAllowed(block[n]!, charset)) n++;
    for (let i = n; i < block.length; i++) if (block[i] !== encoding.padByte) return -1;
    return n;
  }
  for (const b of block) nibbles.push(b >> 4, b & 0x0f);
  let n = 0;
  while (n < nibbles.length && nibbles[n]! <= 9) n++;
  // Padding: the pad nibble up to the byte boundary, then whole pad bytes.
  const padNibble = encoding.padByte & 0x0f;
  if (n % 2 === 1 && nibbles[n] !== padNibble) return -1;
  for (let i = Math.ceil(n / 2); i < block.length; i++) if (block[i] !== encoding.padByte) return -1;
  return n;
}
