/** Small byte helpers shared by every layer. Bytes are always `Uint8Array`. */
import { WebCcidError } from './errors.js';

/** The two upper-case hex digits of each byte value (built only where `toHex` is bundled). */
const HEX = /* @__PURE__ */ Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0').toUpperCase());

/** `toHex(Uint8Array.of(0x3b, 0xf9))` -> `'3B F9'` (separator defaults to one space). */
export function toHex(bytes: Uint8Array, separator = ' '): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    if (i > 0) out += separator;
    out += HEX[bytes[i]!];
  }
  return out;
}

/**
 * Parses hex text; spaces, colons, dashes and a leading `0x` are ignored.
 * Throws `WebCcidError('bytes/bad-hex')` on anything else or an odd digit count.
 */
export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/0x/gi, '').replace(/[\s:-]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) {
    throw new WebCcidError('bytes/bad-hex', {});
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** XOR of every byte: T=1's LRC, and the check bytes TCK (ATR) and PCK (PPS) of ISO/IEC 7816-3. */
export function xorBytes(bytes: Uint8Array | readonly number[]): number {
  let x = 0;
  for (const b of bytes) x ^= b;
  return x;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function readU16LE(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}

export function readU32LE(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

export function writeU16LE(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
}

export function writeU32LE(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}

/** A view of a DataView's bytes (what WebUSB transfers return) without copying. */
export function bytesOf(view: DataView | undefined): Uint8Array {
  if (!view) return new Uint8Array(0);
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** Overwrites sensitive bytes (PIN, PUK) in place. */
export function wipe(...buffers: Uint8Array[]): void {
  for (const b of buffers) b.fill(0);
}
