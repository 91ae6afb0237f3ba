/**
 * A Big5 encoder for the virtual cards, built at run time by inverting the platform's WHATWG
 * Big5 decoder (`TextDecoder('big5')`): every two-byte code (lead 0x81..0xFE, trail 0x40..0x7E
 * or 0xA1..0xFE) is decoded once and the character mapped back to its bytes. No table is
 * written by hand. Where two codes decode to the same character, the standard Big5 / CP950
 * area (lead 0xA1 and up) wins over the HKSCS area (lead below 0xA1), as the WHATWG encoder
 * does; codes that decode to two code points (a few HKSCS ones) are left out.
 */
import { WebCcidError } from '../errors.js';

let table: Map<number, number> | undefined;

function build(): Map<number, number> {
  const decoder = new TextDecoder('big5');
  const map = new Map<number, number>();
  const pair = new Uint8Array(2);
  const leads = [...Array.from({ length: 0xfe - 0xa1 + 1 }, (_, i) => 0xa1 + i), ...Array.from({ length: 0xa0 - 0x81 + 1 }, (_, i) => 0x81 + i)];
  for (const lead of leads) {
    for (let trail = 0x40; trail <= 0xfe; trail++) {
      if (trail > 0x7e && trail < 0xa1) continue;
      pair[0] = lead;
      pair[1] = trail;
      const text = decoder.decode(pair);
      const cp = text.codePointAt(0)!;
      if (text.length !== String.fromCodePoint(cp).length || cp === 0xfffd) continue;
      if (!map.has(cp)) map.set(cp, (lead << 8) | trail);
    }
  }
  return map;
}

/**
 * Encodes text as Big5 (ASCII stays one byte). Throws `WebCcidError('virtual/not-big5')` naming
 * the first character Big5 has no code for.
 */
export function encodeBig5(text: string): Uint8Array {
  table ??= build();
  const out: number[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) {
      out.push(cp);
      continue;
    }
    const code = table.get(cp);
    if (code === undefined) throw new WebCcidError('virtual/not-big5', `Big5 has no code for "${ch}" (U+${cp.toString(16).toUpperCase().padStart(4, '0')}).`);
    out.push(code >> 8, code & 0xff);
  }
  return Uint8Array.from(out);
}
