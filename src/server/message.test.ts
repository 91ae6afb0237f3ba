import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { WebCcidError } from '../errors.js';
import { decodeBase64 } from './base64.js';
import { BINDING_MESSAGE_TAG, bindingDigest, bindingMessage, createBindingResponse } from './message.js';

const CHALLENGE = 'A'.repeat(42) + 'Q';
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('bindingMessage', () => {
  it('is the four LF-separated lines, UTF-8, no trailing newline', () => {
    const m = bindingMessage({ origin: 'https://example.org', challenge: CHALLENGE, cardNumber: '123456789012' });
    expect(text(m)).toBe(`webccid-bind-v1\nhttps://example.org\n${CHALLENGE}\n123456789012`);
    expect(BINDING_MESSAGE_TAG).toBe('webccid-bind-v1');
  });

  it('leaves the last line empty without a card number (absent and empty are the same)', () => {
    const a = bindingMessage({ origin: 'http://localhost:5173', challenge: CHALLENGE });
    const b = bindingMessage({ origin: 'http://localhost:5173', challenge: CHALLENGE, cardNumber: '' });
    expect(text(a)).toBe(`webccid-bind-v1\nhttp://localhost:5173\n${CHALLENGE}\n`);
    expect(b).toEqual(a);
  });

  it.each([
    [{ origin: 'https://example.org/', challenge: CHALLENGE }],
    [{ origin: 'https://example.org/path', challenge: CHALLENGE }],
    [{ origin: 'example.org', challenge: CHALLENGE }],
    [{ origin: 'https://exa\nmple.org', challenge: CHALLENGE }],
    [{ origin: 'HTTPS://example.org', challenge: CHALLENGE }],
    [{ origin: 'https://example.org', challenge: CHALLENGE.slice(1) }],
    [{ origin: 'https://example.org', challenge: CHALLENGE.slice(1) + '=' }],
    [{ origin: 'https://example.org', challenge: CHALLENGE, cardNumber: '1234\n5678' }],
    [{ origin: 'https://example.org', challenge: CHALLENGE, cardNumber: 'x'.repeat(33) }],
  ])('rejects %j with server/bad-binding-input', (input) => {
    expect(() => bindingMessage(input)).toThrow(WebCcidError);
    try {
      bindingMessage(input);
    } catch (e) {
      expect((e as WebCcidError).code).toBe('server/bad-binding-input');
    }
  });

  it('never accepts a field with a line break (the encoding stays unambiguous)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.option(fc.string(), { nil: undefined }), (origin, challenge, cardNumber) => {
        try {
          const m = text(bindingMessage({ origin, challenge, cardNumber }));
          expect(m.split('\n')).toHaveLength(4);
        } catch (e) {
          expect(e).toBeInstanceOf(WebCcidError);
        }
      }),
    );
  });

  it('bindingDigest is SHA-256 of the message', async () => {
    const input = { origin: 'https://example.org', challenge: CHALLENGE, cardNumber: '000000000001' };
    const expected = new Uint8Array(await crypto.subtle.digest('SHA-256', bindingMessage(input)));
    expect(await bindingDigest(input)).toEqual(expected);
  });

  it('createBindingResponse packs binary fields as base64 and drops an empty card number', () => {
    const r = createBindingResponse({
      origin: 'https://example.org',
      challenge: CHALLENGE,
      cardNumber: '',
      certificate: Uint8Array.of(0x30, 0x82),
      signature: Uint8Array.of(1, 2, 3),
    });
    expect(r).toEqual({ origin: 'https://example.org', challenge: CHALLENGE, certificate: 'MII=', signature: 'AQID' });
    expect(decodeBase64(r.signature)).toEqual(Uint8Array.of(1, 2, 3));
  });
});
