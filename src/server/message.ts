/**
 * What the card signs when it binds to an account, shared by the client (which
 * asks the card to sign it) and the server (which verifies it).
 *
 * The signed message is the UTF-8 encoding of four lines joined by "\n" (LF,
 * no trailing newline):
 *
 * ```text
 * webccid-bind-v1
 * <origin>          the page's origin, e.g. https://example.org (scheme://host[:port], no path)
 * <challenge>       the server's challenge, 43 base64url characters (32 random bytes)
 * <cardNumber>      the card number the page read (e.g. 123456789012), or empty
 *                   (an absent card number and an empty string give the same message)
 * ```
 *
 * The host computes SHA-256 over these bytes, wraps the hash in a DER
 * DigestInfo and the card signs it with RSA PKCS#1 v1.5 (RSASSA-PKCS1-v1_5 with
 * SHA-256, which is exactly what WebCrypto's `verify` checks over the message).
 * None of the fields may contain a line break, so the encoding is unambiguous.
 * The origin binds the signature to the site (a signature made for another site
 * is useless here); the challenge makes it one use.
 */
import { WebCcidError } from '../errors.js';
import { encodeBase64 } from './base64.js';

/** The domain-separation tag on the first line; a new format gets a new tag. */
export const BINDING_MESSAGE_TAG = 'webccid-bind-v1';

/** The fields that go into the signed message. */
export interface BindingMessageInput {
  origin: string;
  challenge: string;
  cardNumber?: string | undefined;
}

const ORIGIN_SHAPE = /^[a-z][a-z0-9+.-]*:\/\/[^\s/?#@]+$/;
const CHALLENGE_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const CARD_NUMBER_SHAPE = /^[A-Za-z0-9]{1,32}$/;

/** True when `origin` looks like a serialised web origin (`scheme://host[:port]`, lower-case scheme). */
export function isOrigin(origin: unknown): origin is string {
  return typeof origin === 'string' && origin.length <= 256 && ORIGIN_SHAPE.test(origin);
}

/** True when `challenge` has the shape `createBindingChallenge` makes (32 bytes as base64url). */
export function isChallenge(challenge: unknown): challenge is string {
  return typeof challenge === 'string' && CHALLENGE_SHAPE.test(challenge);
}

/** True for an acceptable card number in the message: 1 to 32 ASCII letters or digits. */
export function isCardNumber(cardNumber: unknown): cardNumber is string {
  return typeof cardNumber === 'string' && CARD_NUMBER_SHAPE.test(cardNumber);
}

/**
 * The exact bytes the card signs (see the module comment). Throws
 * `WebCcidError('server/bad-binding-input')` when a field has the wrong shape.
 */
export function bindingMessage(input: BindingMessageInput): Uint8Array<ArrayBuffer> {
  if (!isOrigin(input.origin)) {
    throw new WebCcidError('server/bad-binding-input', 'The origin must be a web origin such as https://example.org (no path, no line break).');
  }
  if (!isChallenge(input.challenge)) {
    throw new WebCcidError('server/bad-binding-input', 'The challenge must be the 43-character base64url text the server issued.');
  }
  const cardNumber = input.cardNumber ?? '';
  if (cardNumber !== '' && !isCardNumber(cardNumber)) {
    throw new WebCcidError('server/bad-binding-input', 'The card number must be 1 to 32 ASCII letters or digits.');
  }
  const text = `${BINDING_MESSAGE_TAG}\n${input.origin}\n${input.challenge}\n${cardNumber}`;
  return new TextEncoder().encode(text);
}

/**
 * SHA-256 of `bindingMessage(input)`, for clients whose signing call takes an
 * already-computed hash (`HcaCard.sign(digest, { digest: true })`-style).
 */
export async function bindingDigest(input: BindingMessageInput): Promise<Uint8Array> {
  const message = bindingMessage(input);
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', message));
}

/** The JSON body the page sends to the server's verify endpoint (binary fields as standard base64). */
export interface BindingResponseJson {
  certificate: string;
  signature: string;
  cardNumber?: string;
  challenge: string;
  origin: string;
}

/**
 * Packs what the card produced into the JSON body `verifyBinding` expects
 * (client side). `certificate` is the holder signature certificate DER (card
 * certificate 1), `signature` the card's signature over `bindingMessage(...)`.
 */
export function createBindingResponse(input: BindingMessageInput & { certificate: Uint8Array; signature: Uint8Array }): BindingResponseJson {
  bindingMessage(input); // same shape checks as the signed message
  const out: BindingResponseJson = {
    certificate: encodeBase64(input.certificate),
    signature: encodeBase64(input.signature),
    challenge: input.challenge,
    origin: input.origin,
  };
  if (input.cardNumber !== undefined && input.cardNumber !== '') out.cardNumber = input.cardNumber;
  return out;
}
