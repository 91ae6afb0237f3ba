/**
 * Raw RSA signing for the virtual HCA card: RSASSA-PKCS1-v1_5 (RFC 8017
 * §8.2.1) over a DigestInfo the host sent, with the private key's CRT
 * parameters read from a WebCrypto key (exported as JWK) and BigInt
 * arithmetic. WebCrypto cannot sign a DigestInfo it did not hash itself.
 */
import { fromHex } from '../bytes.js';
import { WebCcidError } from '../errors.js';

/** An RSA private key in CRT form. */
export interface RsaPrivateKey {
  n: bigint;
  p: bigint;
  q: bigint;
  dp: bigint;
  dq: bigint;
  qi: bigint;
  /** Modulus length in bytes. */
  k: number;
}

/** DER prefixes of DigestInfo (RFC 8017 §9.2 note 1) by hash. */
export const DIGEST_INFO_PREFIX: Record<string, { prefix: Uint8Array; length: number }> = {
  'SHA-256': { prefix: fromHex('30 31 30 0D 06 09 60 86 48 01 65 03 04 02 01 05 00 04 20'), length: 32 },
  'SHA-1': { prefix: fromHex('30 21 30 09 06 05 2B 0E 03 02 1A 05 00 04 14'), length: 20 },
};

function fail(message: string): never {
  throw new WebCcidError('virtual/bad-hca-card-options', message);
}

function base64UrlToBigInt(text: string): bigint {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  let hex = '';
  for (let i = 0; i < bin.length; i++) hex += bin.charCodeAt(i).toString(16).padStart(2, '0');
  return hex.length === 0 ? 0n : BigInt('0x' + hex);
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}

function bytesToBigInt(bytes: Uint8Array): bigint {
  let x = 0n;
  for (const b of bytes) x = (x << 8n) | BigInt(b);
  return x;
}

function bigIntToBytes(x: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let v = x;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

const privateKeys = new WeakMap<CryptoKey, Promise<RsaPrivateKey>>();

/** The CRT parameters of an extractable RSA private key (cached per key). */
export function rsaPrivateKey(key: CryptoKey): Promise<RsaPrivateKey> {
  let found = privateKeys.get(key);
  if (!found) {
    found = (async () => {
      if (!key.extractable) fail('The holder private key must be extractable (the virtual card signs with raw RSA).');
      const jwk = await globalThis.crypto.subtle.exportKey('jwk', key);
      const { n, p, q, dp, dq, qi } = jwk;
      if (jwk.kty !== 'RSA' || !n || !p || !q || !dp || !dq || !qi) fail('The holder private key must be an RSA private key.');
      const modulus = base64UrlToBigInt(n);
      return {
        n: modulus,
        p: base64UrlToBigInt(p),
        q: base64UrlToBigInt(q),
        dp: base64UrlToBigInt(dp),
        dq: base64UrlToBigInt(dq),
        qi: base64UrlToBigInt(qi),
        k: Math.ceil(modulus.toString(16).length / 2),
      };
    })();
    privateKeys.set(key, found);
  }
  return found;
}

/** RSASSA-PKCS1-v1_5 signature of an encoded DigestInfo `t` (EMSA-PKCS1-v1_5, then RSASP1 with CRT). */
export function rsaSignDigestInfo(key: RsaPrivateKey, t: Uint8Array): Uint8Array {
  const em = new Uint8Array(key.k).fill(0xff);
  em[0] = 0x00;
  em[1] = 0x01;
  em[key.k - t.length - 1] = 0x00;
  em.set(t, key.k - t.length);
  const m = bytesToBigInt(em);
  const m1 = modPow(m, key.dp, key.p);
  const m2 = modPow(m, key.dq, key.q);
  let h = (key.qi * (m1 - m2)) % key.p;
  if (h < 0n) h += key.p;
  return bigIntToBytes(m2 + h * key.q, key.k);
}
