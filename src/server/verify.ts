/**
 * Server-side verification of a card binding (the bind flow, docs/design.md §6).
 *
 * The page sends `{ certificate, signature, cardNumber?, challenge, origin }`:
 * the holder's signature certificate (DER, base64) and the card's signature
 * over `bindingMessage({ origin, challenge, cardNumber })` (see message.ts).
 * `verifyBinding` checks, in this order, and answers with the first failure:
 *
 * | code                          | meaning |
 * | ---                           | --- |
 * | `malformed-response`          | not an object, a field missing / of the wrong type / not base64, or the certificate is not DER X.509 |
 * | `challenge-unknown`           | the challenge was never issued here (or has been forgotten) |
 * | `challenge-replayed`          | the challenge was already used (each is good for one verification attempt, successful or not) |
 * | `challenge-expired`           | the challenge's lifetime is over |
 * | `origin-mismatch`             | the response's origin is not `expectedOrigin`, or not the origin the challenge was issued for |
 * | `unsupported-key`             | the certificate's key is not RSA |
 * | `bad-signature`               | the signature does not verify with the certificate's key over the binding message |
 * | `untrusted-chain`             | no path from the certificate to a trust anchor through valid CA certificates |
 * | `certificate-not-yet-valid`   | `now` is before the holder certificate's notBefore |
 * | `certificate-expired`         | `now` is after the holder certificate's notAfter |
 * | `certificate-not-for-signing` | the certificate's keyUsage has neither digitalSignature nor nonRepudiation |
 * | `wrong-card-type`             | certificatePolicies holds no HCA card-type OID, or not the `expectedCardType` one |
 * | `card-number-mismatch`        | the response's card number differs from the certificate's subject serialNumber |
 *
 * Failures are results, not exceptions (`{ verified: false, code, message }`);
 * only a configuration error (an unreadable trust anchor or intermediate)
 * throws, `WebCcidError('server/bad-trust-anchor')`.
 * The challenge is consumed as soon as the response is well formed, before
 * the signature is checked: a failed attempt needs a new challenge.
 *
 * Edge-safe: WebCrypto (`globalThis.crypto`) and `@peculiar/x509` only.
 */
import type * as X509 from '@peculiar/x509';
import { HCA_PROFILE } from '../hca/profile.js';
import { WebCcidError } from '../errors.js';
import { toHex } from '../bytes.js';
import { loadX509 } from '../x509.js';
import { decodeBase64 } from './base64.js';
import { defaultChallengeStore, type ChallengeStore } from './challenge.js';
import { bindingMessage, isCardNumber, isChallenge, isOrigin } from './message.js';

/** The failure codes of `verifyBinding`. */
export type BindingFailureCode =
  | 'malformed-response'
  | 'challenge-unknown'
  | 'challenge-replayed'
  | 'challenge-expired'
  | 'origin-mismatch'
  | 'unsupported-key'
  | 'bad-signature'
  | 'untrusted-chain'
  | 'certificate-not-yet-valid'
  | 'certificate-expired'
  | 'certificate-not-for-signing'
  | 'wrong-card-type'
  | 'card-number-mismatch';

/** Every failure code, in the order the checks run. */
export const BINDING_FAILURE_CODES: readonly BindingFailureCode[] = [
  'malformed-response',
  'challenge-unknown',
  'challenge-replayed',
  'challenge-expired',
  'origin-mismatch',
  'unsupported-key',
  'bad-signature',
  'untrusted-chain',
  'certificate-not-yet-valid',
  'certificate-expired',
  'certificate-not-for-signing',
  'wrong-card-type',
  'card-number-mismatch',
];

export type CardType = 'personnel' | 'institution';

/** What the page sends (JSON): binary fields as standard base64. `Uint8Array` is accepted too, for in-process callers. */
export interface BindingResponse {
  certificate: string | Uint8Array;
  signature: string | Uint8Array;
  cardNumber?: string;
  challenge: string;
  origin: string;
}

/** A certificate given as DER bytes, PEM / base64 text, or a parsed object. */
export type CertificateInput = Uint8Array | string | X509.X509Certificate;

export interface VerifyBindingOptions {
  /** The untrusted response, e.g. the parsed JSON body. */
  response: unknown;
  /**
   * A challenge the caller kept itself (e.g. in a session) instead of a store;
   * give the `BindingChallenge` (to check expiry) or its text (no expiry check).
   * When absent, the challenge is taken from `store`.
   */
  expectedChallenge?: string | { challenge: string; expiresAt: number; origin?: string };
  /** Where `createBindingChallenge` put the challenge; default the in-memory default store. */
  store?: ChallengeStore;
  /** This site's origin, e.g. `https://example.org`. */
  expectedOrigin: string;
  /** Trusted roots (or intermediates) as DER, PEM or x509 objects: e.g. the GRCA root. */
  trustAnchors: readonly CertificateInput[];
  /** Other CA certificates that may be needed to reach an anchor (e.g. the HCA CA certificate, card certificate 0). */
  intermediates?: readonly CertificateInput[];
  /** Clock; default now. */
  now?: Date | number;
  /** Require this card type. */
  expectedCardType?: CardType;
  /** The card-type OIDs; default `HCA_PROFILE.oids`. */
  oids?: { personnelCard: string; institutionCard: string };
}

export interface BindingHolder {
  /** Subject common name: the person's (or institution's) name. */
  name: string;
  /** The subject DN as text. */
  subject: string;
  /** Subject serialNumber attribute (on HCA-like certificates: the card number; assumed). */
  serialNumber?: string;
}

export interface BindingVerified {
  verified: true;
  certificate: X509.X509Certificate;
  /** The certificate DER. */
  certificateDer: Uint8Array;
  /** Hex SHA-256 of the certificate DER (upper case, no separators): a stable key to store the binding under. */
  fingerprint: string;
  /** The card number: the certificate's serialNumber when present, else the (signed) one in the response. */
  cardNumber?: string;
  holder: BindingHolder;
  cardType: CardType;
  /** Holder certificate first, trust anchor last. */
  chain: X509.X509Certificate[];
  origin: string;
  challenge: string;
}

export interface BindingRejected {
  verified: false;
  code: BindingFailureCode;
  /** Short English explanation for logs (never holds secrets). */
  message: string;
}

export type BindingResult = BindingVerified | BindingRejected;

const MESSAGES: Record<BindingFailureCode, string> = {
  'malformed-response': 'The binding response is not well formed.',
  'challenge-unknown': 'The challenge was not issued by this server (or was forgotten): ask for a new one.',
  'challenge-replayed': 'The challenge has already been used: ask for a new one.',
  'challenge-expired': 'The challenge has expired: ask for a new one and sign again.',
  'origin-mismatch': 'The response was made for another origin.',
  'unsupported-key': 'The certificate does not hold an RSA key.',
  'bad-signature': 'The signature does not match the certificate and the binding message.',
  'untrusted-chain': 'The certificate does not chain to a trusted root through valid CA certificates.',
  'certificate-not-yet-valid': 'The certificate is not valid yet.',
  'certificate-expired': 'The certificate has expired.',
  'certificate-not-for-signing': 'The certificate is not a signature certificate (keyUsage).',
  'wrong-card-type': 'The certificate is not of the expected HCA card type.',
  'card-number-mismatch': 'The card number does not match the certificate.',
};

function reject(code: BindingFailureCode): BindingRejected {
  return { verified: false, code, message: MESSAGES[code] };
}

/** Compares two strings in time that depends only on their lengths. */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  const n = Math.max(x.length, y.length);
  let diff = x.length ^ y.length;
  for (let i = 0; i < n; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

function binary(value: unknown): Uint8Array<ArrayBuffer> | undefined {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (typeof value !== 'string' || value.length === 0 || value.length > 65_536) return undefined;
  return decodeBase64(value);
}

interface ParsedResponse {
  certificateDer: Uint8Array<ArrayBuffer>;
  signature: Uint8Array<ArrayBuffer>;
  cardNumber: string | undefined;
  challenge: string;
  origin: string;
}

function parseResponse(response: unknown): ParsedResponse | undefined {
  if (typeof response !== 'object' || response === null || Array.isArray(response)) return undefined;
  const r = response as Record<string, unknown>;
  const certificateDer = binary(r.certificate);
  const signature = binary(r.signature);
  if (!certificateDer || !signature || signature.length === 0) return undefined;
  if (!isChallenge(r.challenge) || !isOrigin(r.origin)) return undefined;
  let cardNumber: string | undefined;
  if (r.cardNumber !== undefined && r.cardNumber !== null && r.cardNumber !== '') {
    if (!isCardNumber(r.cardNumber)) return undefined;
    cardNumber = r.cardNumber;
  }
  return { certificateDer, signature, cardNumber, challenge: r.challenge, origin: r.origin };
}

function parseConfigured(x509: typeof X509, input: CertificateInput, what: string): X509.X509Certificate {
  if (input instanceof x509.X509Certificate) return input;
  try {
    return typeof input === 'string' ? new x509.X509Certificate(input) : new x509.X509Certificate(new Uint8Array(input));
  } catch (cause) {
    throw new WebCcidError('server/bad-trust-anchor', `A configured ${what} is not an X.509 certificate (DER, PEM or base64).`, { cause });
  }
}

function within(cert: X509.X509Certificate, at: number): boolean {
  return cert.notBefore.getTime() <= at && at <= cert.notAfter.getTime();
}

function sameCertificate(a: X509.X509Certificate, b: X509.X509Certificate): boolean {
  const x = new Uint8Array(a.rawData);
  const y = new Uint8Array(b.rawData);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/**
 * Finds a path holder -> ... -> anchor. Every link's signature is checked by
 * the chain builder; every certificate between the holder and the anchor must
 * be a CA (basicConstraints cA) valid at `at`; the anchor is trusted as
 * configured (its own validity is checked too).
 */
async function buildTrustedChain(
  x509: typeof X509,
  holder: X509.X509Certificate,
  anchors: X509.X509Certificate[],
  intermediates: X509.X509Certificate[],
  at: number,
): Promise<X509.X509Certificate[] | undefined> {
  let chain: X509.X509Certificate[];
  try {
    const builder = new x509.X509ChainBuilder({ certificates: [...intermediates, ...anchors] });
    chain = [...(await builder.build(holder, globalThis.crypto))];
  } catch {
    return undefined;
  }
  for (let i = 1; i < chain.length; i++) {
    const cert = chain[i]!;
    let isAnchor = false;
    for (const anchor of anchors) if (sameCertificate(cert, anchor)) isAnchor = true;
    if (!within(cert, at)) return undefined;
    if (isAnchor) return chain.slice(0, i + 1);
    const constraints = cert.getExtension(x509.BasicConstraintsExtension);
    if (!constraints?.ca) return undefined;
  }
  return undefined;
}

/** The card type named by the certificate's certificatePolicies, if any. */
function cardTypeOf(x509: typeof X509, cert: X509.X509Certificate, oids: { personnelCard: string; institutionCard: string }): CardType | undefined {
  const policies = cert.getExtension(x509.CertificatePolicyExtension)?.policies ?? [];
  if (policies.includes(oids.personnelCard)) return 'personnel';
  if (policies.includes(oids.institutionCard)) return 'institution';
  return undefined;
}

/**
 * Verifies a binding response (see the module comment for the checks and the
 * codes). Never throws for anything in `response`.
 */
export async function verifyBinding(options: VerifyBindingOptions): Promise<BindingResult> {
  const x509 = await loadX509();
  const at = options.now === undefined ? Date.now() : typeof options.now === 'number' ? options.now : options.now.getTime();
  const anchors = options.trustAnchors.map((a) => parseConfigured(x509, a, 'trust anchor'));
  const intermediates = (options.intermediates ?? []).map((a) => parseConfigured(x509, a, 'intermediate certificate'));
  const oids = options.oids ?? { personnelCard: HCA_PROFILE.oids.personnelCard.value, institutionCard: HCA_PROFILE.oids.institutionCard.value };

  // 1. Shape.
  const parsed = parseResponse(options.response);
  if (!parsed) return reject('malformed-response');
  let certificate: X509.X509Certificate;
  try {
    certificate = new x509.X509Certificate(parsed.certificateDer);
  } catch {
    return reject('malformed-response');
  }

  // 2. Challenge: one use, alive, compared in constant time.
  let issuedOrigin: string | undefined;
  const expected = options.expectedChallenge;
  if (expected !== undefined) {
    const text = typeof expected === 'string' ? expected : expected.challenge;
    if (!constantTimeEqual(parsed.challenge, text)) return reject('challenge-unknown');
    if (typeof expected !== 'string') {
      if (expected.expiresAt <= at) return reject('challenge-expired');
      issuedOrigin = expected.origin;
    }
  } else {
    const taken = await (options.store ?? defaultChallengeStore()).take(parsed.challenge, at);
    if (taken.state === 'used') return reject('challenge-replayed');
    if (taken.state === 'unknown') return reject('challenge-unknown');
    if (!constantTimeEqual(parsed.challenge, taken.record.challenge)) return reject('challenge-unknown');
    if (taken.record.expiresAt <= at) return reject('challenge-expired');
    issuedOrigin = taken.record.origin;
  }

  // 3. Origin.
  if (!constantTimeEqual(parsed.origin, options.expectedOrigin)) return reject('origin-mismatch');
  if (issuedOrigin !== undefined && !constantTimeEqual(parsed.origin, issuedOrigin)) return reject('origin-mismatch');

  // 4. Signature over the binding message.
  let publicKey: CryptoKey;
  try {
    // rsaEncryption keys map to RSASSA-PKCS1-v1_5 in @peculiar/x509; EC, RSA-PSS-only and others are refused.
    if (certificate.publicKey.algorithm.name !== 'RSASSA-PKCS1-v1_5') return reject('unsupported-key');
    publicKey = await globalThis.crypto.subtle.importKey(
      'spki',
      certificate.publicKey.rawData,
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      false,
      ['verify'],
    );
  } catch {
    return reject('unsupported-key');
  }
  const message = bindingMessage({ origin: parsed.origin, challenge: parsed.challenge, cardNumber: parsed.cardNumber });
  let good = false;
  try {
    good = await globalThis.crypto.subtle.verify('RSASSA-PKCS1-v1_5', publicKey, parsed.signature, message);
  } catch {
    good = false;
  }
  if (!good) return reject('bad-signature');

  // 5. Chain to a trust anchor.
  const chain = await buildTrustedChain(x509, certificate, anchors, intermediates, at);
  if (!chain) return reject('untrusted-chain');

  // 6. Holder certificate validity and purpose.
  if (at < certificate.notBefore.getTime()) return reject('certificate-not-yet-valid');
  if (at > certificate.notAfter.getTime()) return reject('certificate-expired');
  const keyUsage = certificate.getExtension(x509.KeyUsagesExtension);
  if (keyUsage && (keyUsage.usages & (x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation)) === 0) {
    return reject('certificate-not-for-signing');
  }

  // 7. Card type.
  const cardType = cardTypeOf(x509, certificate, oids);
  if (!cardType || (options.expectedCardType !== undefined && cardType !== options.expectedCardType)) return reject('wrong-card-type');

  // 8. Card number.
  const serialNumber = certificate.subjectName.getField('2.5.4.5')[0];
  if (parsed.cardNumber !== undefined && serialNumber !== undefined && !sameCardNumber(parsed.cardNumber, serialNumber)) {
    return reject('card-number-mismatch');
  }

  const certificateDer = new Uint8Array(certificate.rawData.slice(0));
  const fingerprint = toHex(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', certificateDer)), '');
  const holder: BindingHolder = {
    name: certificate.subjectName.getField('CN')[0] ?? '',
    subject: certificate.subject,
  };
  if (serialNumber !== undefined) holder.serialNumber = serialNumber;
  const result: BindingVerified = {
    verified: true,
    certificate,
    certificateDer,
    fingerprint,
    holder,
    cardType,
    chain,
    origin: parsed.origin,
    challenge: parsed.challenge,
  };
  const cardNumber = serialNumber ?? parsed.cardNumber;
  if (cardNumber !== undefined) result.cardNumber = cardNumber;
  return result;
}

/** Card numbers compare without a leading "GH" (the card-info file has it, the user-facing number does not). */
function sameCardNumber(a: string, b: string): boolean {
  const strip = (s: string): string => s.replace(/^GH/i, '');
  return strip(a) === strip(b);
}
