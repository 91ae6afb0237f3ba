import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeBase64, decodeBase64Url, encodeBase64, encodeBase64Url } from './base64.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('base64 (RFC 4648 test vectors)', () => {
  const vectors: Array<[string, string, string]> = [
    ['', '', ''],
    ['f', 'Zg==', 'Zg'],
    ['fo', 'Zm8=', 'Zm8'],
    ['foo', 'Zm9v', 'Zm9v'],
    ['foob', 'Zm9vYg==', 'Zm9vYg'],
    ['fooba', 'Zm9vYmE=', 'Zm9vYmE'],
    ['foobar', 'Zm9vYmFy', 'Zm9vYmFy'],
  ];
  it.each(vectors)('%j -> %s / %s', (text, std, url) => {
    expect(encodeBase64(enc(text))).toBe(std);
    expect(encodeBase64Url(enc(text))).toBe(url);
    expect(decodeBase64(std)).toEqual(enc(text));
    expect(decodeBase64Url(url)).toEqual(enc(text));
  });

  it('uses the two alphabets', () => {
    const bytes = Uint8Array.of(0xfb, 0xff, 0xbf);
    expect(encodeBase64(bytes)).toBe('+/+/');
    expect(encodeBase64Url(bytes)).toBe('-_-_');
  });

  it.each(['Zg=', 'Zg', 'Z===', 'Zh==', 'Zm9v\n', ' Zm9v', 'Zm9v-_==', 'é==='])('rejects non-canonical base64 %j', (text) => {
    expect(decodeBase64(text)).toBeUndefined();
  });

  it.each(['Zg==', 'Z', 'Zh', 'Zm9v+/', 'Zm9v='])('rejects non-canonical base64url %j', (text) => {
    expect(decodeBase64Url(text)).toBeUndefined();
  });

  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(decodeBase64(encodeBase64(bytes))).toEqual(bytes);
        expect(decodeBase64Url(encodeBase64Url(bytes))).toEqual(bytes);
      }),
    );
  });

  it('any text decodes to bytes or undefined, never throws, and decoded text re-encodes to itself', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 64 }), (text) => {
        const a = decodeBase64(text);
        const b = decodeBase64Url(text);
        if (a) expect(encodeBase64(a)).toBe(text);
        if (b) expect(encodeBase64Url(b)).toBe(text);
      }),
    );
  });
});
