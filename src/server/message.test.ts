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

  // Fields of the shapes the server issues and pages send, and the same fields with a line break
  // put in: the property below reaches both branches (counted), not only the refusal.
  const originArb = fc
    .tuple(fc.constantFrom('https', 'http'), fc.oneof(fc.domain(), fc.constant('localhost'), fc.ipV4()), fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }))
    .map(([scheme, host, port]) => `${scheme}://${host}${port === undefined ? '' : `:${port}`}`);
  const challengeArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('base64url'));
  const cardNumberArb = fc.option(fc.stringMatching(/^[A-Za-z0-9]{1,32}$/), { nil: undefined });
  const lineBreakArb = fc.constantFrom('\n', '\r\n', '\r');
  /** A valid field, or (one time in three) the same with a line break put in at some place. */
  const withBreak = (arb: fc.Arbitrary<string>) =>
    fc.oneof(
      { arbitrary: arb.map((value) => ({ value, broken: false })), weight: 2 },
      { arbitrary: fc.tuple(arb, lineBreakArb, fc.nat()).map(([v, br, at]) => ({ value: v.slice(0, at % (v.length + 1)) + br + v.slice(at % (v.length + 1)), broken: true })), weight: 1 },
    );

  it('never accepts a field with a line break, and a valid message splits back into its fields', () => {
    let accepted = 0;
    let refusedBreak = 0;
    fc.assert(
      fc.property(withBreak(originArb), withBreak(challengeArb), fc.option(withBreak(cardNumberArb.map((c) => c ?? '')), { nil: undefined }), (origin, challenge, card) => {
        const broken = origin.broken || challenge.broken || card?.broken === true;
        const input = { origin: origin.value, challenge: challenge.value, cardNumber: card?.value };
        if (broken) {
          expect(() => bindingMessage(input)).toThrow(WebCcidError);
          refusedBreak++;
          return;
        }
        const lines = text(bindingMessage(input)).split('\n');
        expect(lines).toEqual([BINDING_MESSAGE_TAG, origin.value, challenge.value, card?.value ?? '']);
        accepted++;
      }),
      { numRuns: 1000 },
    );
    // Both branches were reached, the accepting one most of the time.
    expect(accepted).toBeGreaterThan(200);
    expect(refusedBreak).toBeGreaterThan(200);
  });

  it('any string: refused with the typed error (never another one), or a four-line message', () => {
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
