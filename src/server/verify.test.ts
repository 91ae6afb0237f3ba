import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createTestPki, type HolderCertificate, type TestPki } from '../virtual/pki.js';
import { loadX509 } from '../x509.js';
import { HCA_PROFILE } from '../hca/profile.js';
import { WebCcidError } from '../errors.js';
import { encodeBase64 } from './base64.js';
import { createBindingChallenge, MemoryChallengeStore } from './challenge.js';
import { bindingMessage, createBindingResponse } from './message.js';
import { BINDING_FAILURE_CODES, constantTimeEqual, verifyBinding, type VerifyBindingOptions } from './verify.js';

const ORIGIN = 'https://portal.example.org';
const CARD = '000000000001';
const DAY = 86_400_000;

let pki: TestPki;
let other: TestPki;
let personnel: HolderCertificate;

beforeAll(async () => {
  pki = await createTestPki();
  other = await createTestPki({ instance: 'untrusted look-alike' });
  personnel = await pki.issue({ holderName: '王小明', cardNumber: CARD, kind: 'personnel' });
}, 60_000);

async function sign(key: CryptoKey, message: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign('RSASSA-PKCS1-v1_5', key, message));
}

/** A fresh challenge in a fresh store and a response signed the way the card signs. */
async function scenario(o: { cert?: HolderCertificate; der?: Uint8Array; key?: CryptoKey; cardNumber?: string; origin?: string; signedCardNumber?: string } = {}) {
  const store = new MemoryChallengeStore();
  const issued = await createBindingChallenge({ origin: ORIGIN, store });
  const origin = o.origin ?? ORIGIN;
  const cardNumber = 'cardNumber' in o ? o.cardNumber : CARD;
  const message = bindingMessage({ origin, challenge: issued.challenge, cardNumber: o.signedCardNumber ?? cardNumber });
  const signature = await sign(o.key ?? pki.holderKeys.privateKey, message);
  const response = createBindingResponse({ origin, challenge: issued.challenge, cardNumber, certificate: o.der ?? (o.cert ?? personnel).der, signature });
  const options: VerifyBindingOptions = { response, store, expectedOrigin: ORIGIN, trustAnchors: pki.trustAnchors, intermediates: pki.intermediates };
  return { store, issued, response, options };
}

describe('verifyBinding', () => {
  it('accepts a genuine response and reports holder, card number, card type and chain', async () => {
    const { options } = await scenario();
    const r = await verifyBinding(options);
    expect(r.verified).toBe(true);
    if (!r.verified) return;
    expect(r.cardType).toBe('personnel');
    expect(r.cardNumber).toBe(CARD);
    expect(r.holder).toMatchObject({ name: '王小明', serialNumber: CARD });
    expect(r.chain.map((c) => c.subjectName.getField('CN')[0])).toEqual(['王小明', 'Virtual HCA', 'Virtual GRCA']);
    expect(r.certificateDer).toEqual(personnel.der);
    expect(r.fingerprint).toMatch(/^[0-9A-F]{64}$/);
    expect(r.origin).toBe(ORIGIN);
  });

  it('accepts an institution card, and the HCA CA itself as trust anchor', async () => {
    const inst = await pki.issue({ holderName: '測試醫院', cardNumber: '000000000002', kind: 'institution' });
    const { options } = await scenario({ cert: inst, cardNumber: '000000000002' });
    const r = await verifyBinding({ ...options, trustAnchors: [pki.ca.certificate], intermediates: [], expectedCardType: 'institution' });
    expect(r).toMatchObject({ verified: true, cardType: 'institution' });
  });

  it('accepts PEM trust anchors and a response without a card number (then the certificate gives it)', async () => {
    const { options } = await scenario({ cardNumber: undefined });
    const r = await verifyBinding({ ...options, trustAnchors: [pki.root.certificate.toString('pem')] });
    expect(r).toMatchObject({ verified: true, cardNumber: CARD });
  });

  it('accepts a caller-kept challenge (expectedChallenge) instead of a store', async () => {
    const { options, issued } = await scenario();
    const { store: _unused, ...rest } = options;
    expect(await verifyBinding({ ...rest, expectedChallenge: issued })).toMatchObject({ verified: true });
    expect(await verifyBinding({ ...rest, expectedChallenge: issued.challenge })).toMatchObject({ verified: true });
    const wrong = { ...issued, challenge: 'B'.repeat(43) };
    expect(await verifyBinding({ ...rest, expectedChallenge: wrong })).toMatchObject({ verified: false, code: 'challenge-unknown' });
    expect(await verifyBinding({ ...rest, expectedChallenge: issued, now: issued.expiresAt })).toMatchObject({ code: 'challenge-expired' });
  });

  it('rejects a tampered signature', async () => {
    const { options, response } = await scenario();
    const sig = Uint8Array.from(atob(response.signature), (c) => c.charCodeAt(0));
    sig[100] = sig[100]! ^ 0x01;
    expect(await verifyBinding({ ...options, response: { ...response, signature: encodeBase64(sig) } })).toMatchObject({ verified: false, code: 'bad-signature' });
  });

  it('rejects a signature by another key, and a changed card number', async () => {
    const otherKeys = await pki.generateHolderKeys();
    const a = await scenario({ key: otherKeys.privateKey });
    expect(await verifyBinding(a.options)).toMatchObject({ code: 'bad-signature' });
    const b = await scenario({ signedCardNumber: '000000000009' });
    expect(await verifyBinding(b.options)).toMatchObject({ code: 'bad-signature' });
  }, 30_000);

  it('rejects a replayed challenge (one use, even after success)', async () => {
    const { options } = await scenario();
    expect(await verifyBinding(options)).toMatchObject({ verified: true });
    expect(await verifyBinding(options)).toMatchObject({ verified: false, code: 'challenge-replayed' });
  });

  it('consumes the challenge on a failed attempt too', async () => {
    const { options, response } = await scenario();
    expect(await verifyBinding({ ...options, response: { ...response, signature: encodeBase64(new Uint8Array(256)) } })).toMatchObject({ code: 'bad-signature' });
    expect(await verifyBinding(options)).toMatchObject({ code: 'challenge-replayed' });
  });

  it('rejects an unknown challenge', async () => {
    const { options, response } = await scenario();
    expect(await verifyBinding({ ...options, response: { ...response, challenge: 'Z'.repeat(42) + 'A' } })).toMatchObject({ code: 'challenge-unknown' });
    expect(await verifyBinding({ ...options, store: new MemoryChallengeStore() })).toMatchObject({ code: 'challenge-unknown' });
  });

  it('rejects an expired challenge', async () => {
    const { options, issued } = await scenario();
    expect(await verifyBinding({ ...options, now: issued.expiresAt + 1 })).toMatchObject({ code: 'challenge-expired' });
  });

  it('rejects another origin (in the response, or not the one the challenge was issued for)', async () => {
    const a = await scenario({ origin: 'https://evil.example' });
    expect(await verifyBinding(a.options)).toMatchObject({ code: 'origin-mismatch' });
    const b = await scenario();
    expect(await verifyBinding({ ...b.options, expectedOrigin: 'https://other.example' })).toMatchObject({ code: 'origin-mismatch' });
  });

  it('rejects a chain to an unknown root, and a missing intermediate', async () => {
    const foreign = await other.issue({ holderName: '王小明', cardNumber: CARD, kind: 'personnel' });
    const a = await scenario({ cert: foreign, key: other.holderKeys.privateKey });
    expect(await verifyBinding(a.options)).toMatchObject({ code: 'untrusted-chain' });
    const b = await scenario();
    expect(await verifyBinding({ ...b.options, intermediates: [] })).toMatchObject({ code: 'untrusted-chain' });
    const c = await scenario({ cert: foreign, key: other.holderKeys.privateKey });
    expect(await verifyBinding({ ...c.options, intermediates: [...pki.intermediates, ...other.intermediates] })).toMatchObject({ code: 'untrusted-chain' });
  });

  it('rejects a holder certificate issued by a non-CA certificate', async () => {
    const x509 = await loadX509();
    // A holder certificate signed with the holder key of `personnel`, as if `personnel` were a CA.
    const fake = await x509.X509CertificateGenerator.create({
      serialNumber: '01',
      subject: 'CN=Mallory, 2.5.4.5=' + CARD,
      issuer: personnel.certificate.subject,
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + DAY),
      signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      publicKey: pki.holderKeys.publicKey,
      signingKey: pki.holderKeys.privateKey,
      extensions: [new x509.CertificatePolicyExtension([HCA_PROFILE.oids.personnelCard.value])],
    });
    const { options } = await scenario({ der: new Uint8Array(fake.rawData) });
    expect(await verifyBinding({ ...options, intermediates: [...pki.intermediates, personnel.der] })).toMatchObject({ code: 'untrusted-chain' });
  });

  it('rejects a certificate outside its validity', async () => {
    const now = Date.now();
    const expired = await pki.issue({ holderName: '過期', cardNumber: CARD, kind: 'personnel', notBefore: new Date(now - 400 * DAY), notAfter: new Date(now - DAY) });
    const a = await scenario({ cert: expired });
    expect(await verifyBinding(a.options)).toMatchObject({ code: 'certificate-expired' });
    const future = await pki.issue({ holderName: '未生效', cardNumber: CARD, kind: 'personnel', notBefore: new Date(now + DAY), notAfter: new Date(now + 400 * DAY) });
    const b = await scenario({ cert: future });
    expect(await verifyBinding(b.options)).toMatchObject({ code: 'certificate-not-yet-valid' });
    const c = await scenario();
    expect(await verifyBinding({ ...c.options, now: new Date(Date.UTC(2050, 0, 1)), expectedChallenge: c.issued.challenge })).toMatchObject({ code: 'untrusted-chain' });
  });

  it('rejects an encryption certificate (keyUsage)', async () => {
    const enc = await pki.issue({ holderName: '王小明', cardNumber: CARD, kind: 'personnel', usage: 'encryption' });
    const { options } = await scenario({ cert: enc });
    expect(await verifyBinding(options)).toMatchObject({ code: 'certificate-not-for-signing' });
  });

  it('rejects the wrong card type, and a certificate without an HCA policy OID', async () => {
    const inst = await pki.issue({ holderName: '測試醫院', cardNumber: CARD, kind: 'institution' });
    const a = await scenario({ cert: inst });
    expect(await verifyBinding({ ...a.options, expectedCardType: 'personnel' })).toMatchObject({ code: 'wrong-card-type' });
    const b = await scenario();
    expect(await verifyBinding({ ...b.options, oids: { personnelCard: '1.2.3.4', institutionCard: '1.2.3.5' } })).toMatchObject({ code: 'wrong-card-type' });
  });

  it('rejects a card number that is not the certificate one (a leading GH is ignored)', async () => {
    const a = await scenario({ cardNumber: '999999999999' });
    expect(await verifyBinding(a.options)).toMatchObject({ code: 'card-number-mismatch' });
    const b = await scenario({ cardNumber: 'GH' + CARD });
    expect(await verifyBinding(b.options)).toMatchObject({ verified: true, cardNumber: CARD });
  });

  it('rejects malformed responses without consuming the challenge', async () => {
    const { options, response } = await scenario();
    const bad: unknown[] = [
      null,
      'text',
      [],
      {},
      { ...response, certificate: undefined },
      { ...response, certificate: 'not base64!' },
      { ...response, certificate: encodeBase64(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00)) },
      { ...response, signature: '' },
      { ...response, signature: 42 },
      { ...response, challenge: 'short' },
      { ...response, origin: 'https://x.example/path' },
      { ...response, cardNumber: 12 },
      { ...response, cardNumber: 'GH 1234' },
    ];
    for (const response of bad) {
      expect(await verifyBinding({ ...options, response })).toEqual({ verified: false, code: 'malformed-response', message: expect.any(String) });
    }
    expect(await verifyBinding(options)).toMatchObject({ verified: true });
  });

  it('throws server/bad-trust-anchor for an unreadable configured certificate', async () => {
    const { options } = await scenario();
    await expect(verifyBinding({ ...options, trustAnchors: [Uint8Array.of(1, 2, 3)] })).rejects.toMatchObject({ code: 'server/bad-trust-anchor' });
    await expect(verifyBinding({ ...options, intermediates: ['nope'] })).rejects.toBeInstanceOf(WebCcidError);
  });

  it('any response value gives a rejection result, never an exception', async () => {
    const store = new MemoryChallengeStore();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.anything(),
          fc.record({ certificate: fc.string(), signature: fc.base64String(), challenge: fc.string(), origin: fc.string(), cardNumber: fc.anything() }, { requiredKeys: [] }),
        ),
        async (response) => {
          const r = await verifyBinding({ response, store, expectedOrigin: ORIGIN, trustAnchors: pki.trustAnchors });
          expect(r.verified).toBe(false);
          if (!r.verified) expect(BINDING_FAILURE_CODES).toContain(r.code);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('lists every code once, with a message for each', () => {
    expect(new Set(BINDING_FAILURE_CODES).size).toBe(BINDING_FAILURE_CODES.length);
  });
});

describe('constantTimeEqual', () => {
  it.each([
    ['', '', true],
    ['abc', 'abc', true],
    ['abc', 'abd', false],
    ['abc', 'ab', false],
    ['ab', 'abc', false],
    ['é', 'e', false],
  ])('%j vs %j -> %s', (a, b, eq) => {
    expect(constantTimeEqual(a, b)).toBe(eq);
  });
});
