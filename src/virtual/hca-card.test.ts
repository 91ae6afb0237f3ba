import { beforeAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { concatBytes, fromHex, toHex } from '../bytes.js';
import { isWebCcidError } from '../errors.js';
import { HCA_PROFILE, type HcaProfile, type PinEncoding } from '../hca/profile.js';
import { encodeApdu } from '../iso7816/apdu.js';
import { parseAtr } from '../iso7816/atr.js';
import { openStack } from '../../test/helpers/stack.js';
import { createVirtualHcaCard, encodePinBlock, pinBlockDigits, VIRTUAL_HCA_DEFAULTS, type VirtualHcaCard } from './hca-card.js';
import { createTestPki } from './pki.js';
import { loadX509 } from '../x509.js';

// RSA key generation for the PKI is slow under a loaded test run: make it once, with room.
beforeAll(async () => {
  await createTestPki();
}, 30_000);

const P = HCA_PROFILE;
const PIN_REF = P.pin.reference.value;
const PUK_REF = P.puk.reference.value;
const SHA256_PREFIX = fromHex('30 31 30 0D 06 09 60 86 48 01 65 03 04 02 01 05 00 04 20');
const RSA = { name: 'RSASSA-PKCS1-v1_5' } as const;

function tx(card: VirtualHcaCard, apdu: string | Uint8Array): { data: Uint8Array<ArrayBuffer>; sw: string } {
  const r = card.transmit(typeof apdu === 'string' ? fromHex(apdu) : apdu);
  return { data: new Uint8Array(r.subarray(0, -2)), sw: toHex(r.subarray(-2), '') };
}

const cmd = (ins: number, p1: number, p2: number, data?: Uint8Array, le?: number): Uint8Array =>
  encodeApdu({ cla: 0, ins, p1, p2, ...(data ? { data } : {}), ...(le === undefined ? {} : { le }) });
const pinBlock = (digits: string, profile: HcaProfile = P) => encodePinBlock(digits, profile.pin.encoding.value);
const pukBlock = (digits: string, profile: HcaProfile = P) => encodePinBlock(digits, profile.puk.encoding.value);
const verify = (digits: string, profile: HcaProfile = P) => cmd(0x20, 0, profile.pin.reference.value, pinBlock(digits, profile));
const verifyStatus = cmd(0x20, 0, PIN_REF);

function selectApp(card: VirtualHcaCard, profile: HcaProfile = P): void {
  expect(tx(card, cmd(0xa4, 0x04, 0x0c, fromHex(profile.aid.value))).sw).toBe('9000');
}

function readEf(card: VirtualHcaCard, fid: number): { data: Uint8Array<ArrayBuffer>; sw: string } {
  const sel = tx(card, cmd(0xa4, 0x02, 0x0c, Uint8Array.of(fid >> 8, fid & 0xff)));
  if (sel.sw !== '9000') return sel;
  const parts: Uint8Array[] = [];
  for (let offset = 0; ; ) {
    const r = tx(card, cmd(0xb0, offset >> 8, offset & 0xff, undefined, 256));
    if (r.sw === '6B00') break;
    parts.push(r.data.slice());
    offset += r.data.length;
    if (r.sw !== '9000') break;
  }
  return { data: new Uint8Array(concatBytes(...parts)), sw: '9000' };
}

async function digestInfo(message: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  return concatBytes(SHA256_PREFIX, new Uint8Array(await crypto.subtle.digest('SHA-256', message)));
}

describe('createVirtualHcaCard: files', () => {
  it('answers the HCA ATR and serves card info, basic data, serial number and certificates 0..3', async () => {
    const card = await createVirtualHcaCard();
    const pki = card.pki;
    expect(toHex(card.reset())).toBe(P.atrs.value[0]!.hex);
    expect(parseAtr(card.reset()).protocols).toEqual([1]);
    // Serial number under the MF.
    expect(new TextDecoder().decode(readEf(card, P.files.serialNumber.value.fid).data)).toBe('VHCA12345678');
    selectApp(card);
    const info = new TextDecoder().decode(readEf(card, P.files.cardInfo.value.fid).data).split('|');
    expect(info[0]).toBe(`GH${VIRTUAL_HCA_DEFAULTS.cardNumber}`);
    expect(info[1]).toMatch(/^\d{8}$/);
    expect(info[2]).toMatch(/^\d{8}$/);
    expect(new TextDecoder().decode(readEf(card, P.files.basicData.value.fid).data)).toBe('王大明|A123456789|醫師');
    const [c0, c1, c2, c3] = P.files.certificates.value.map((fid) => readEf(card, fid).data);
    expect(c0).toEqual(pki.ca.der);
    expect(c1).toEqual(card.certificates.signature.der);
    expect(c2).toEqual(card.certificates.encryption?.der);
    expect(c3).toEqual(pki.root.der);
    // The certificate of file 1 chains to the root, names the holder and the card number, and carries the HCA OID.
    const x509 = await loadX509();
    const cert = new x509.X509Certificate(c1!);
    expect(cert.subjectName.getField('CN')).toEqual(['王大明']);
    expect(cert.subjectName.getField('2.5.4.5')).toEqual(['000012345678']);
    expect(cert.getExtension(x509.CertificatePolicyExtension)?.policies).toEqual([P.oids.personnelCard.value]);
    expect(await cert.verify({ publicKey: pki.ca.certificate.publicKey, signatureOnly: true })).toBe(true);
    const validFrom = info[1]!;
    expect(validFrom).toBe(cert.notBefore.toISOString().slice(0, 10).replace(/-/g, ''));
  });

  it('needs the application selected for its files (SELECT by AID from the profile)', async () => {
    const card = await createVirtualHcaCard();
    expect(tx(card, cmd(0xa4, 0x02, 0x0c, Uint8Array.of(0x00, 0x11))).sw).toBe('6A82');
    expect(tx(card, cmd(0xa4, 0x04, 0x0c, fromHex('A0 00 00 00 63'))).sw).toBe('6A82');
    const fci = tx(card, cmd(0xa4, 0x04, 0x00, fromHex(P.aid.value), 256));
    expect(fci.sw).toBe('9000');
    expect(fci.data[0]).toBe(0x6f);
  });

  it('version 1 lacks certificates 2 and 3', async () => {
    const card = await createVirtualHcaCard({ version: 1 });
    selectApp(card);
    const [f0, f1, f2, f3] = P.files.certificates.value;
    expect(readEf(card, f0!).sw).toBe('9000');
    expect(readEf(card, f1!).sw).toBe('9000');
    expect(readEf(card, f2!).sw).toBe('6A82');
    expect(readEf(card, f3!).sw).toBe('6A82');
    expect(card.certificates.encryption).toBeUndefined();
    expect(card.certificates.root).toBeUndefined();
  });

  it('institution card: institution OID and basic data', async () => {
    const card = await createVirtualHcaCard({ kind: 'institution', cardNumber: '000098765432' });
    selectApp(card);
    expect(new TextDecoder().decode(readEf(card, P.files.basicData.value.fid).data)).toBe('虛擬醫院|0123456789|醫事機構');
    expect(card.certificates.signature.policyOid).toBe(P.oids.institutionCard.value);
    expect(card.certificates.signature.certificate.subjectName.getField('2.5.4.5')).toEqual(['000098765432']);
  });

  it('expired card: certificate and card info in the past', async () => {
    const card = await createVirtualHcaCard({ expired: true });
    expect(card.certificates.signature.certificate.notAfter.getTime()).toBeLessThan(Date.now());
    selectApp(card);
    const validTo = new TextDecoder().decode(readEf(card, P.files.cardInfo.value.fid).data).split('|')[2]!;
    expect(Number(validTo)).toBeLessThan(Number(new Date().toISOString().slice(0, 10).replace(/-/g, '')));
  });

  it('certificatePadding appends FF after the DER in the certificate files', async () => {
    const card = await createVirtualHcaCard({ certificatePadding: 100 });
    selectApp(card);
    const file = readEf(card, P.files.certificates.value[1]!).data;
    expect(file.length).toBe(card.certificates.signature.der.length + 100);
    expect(file.subarray(-100).every((b) => b === 0xff)).toBe(true);
  });
});

describe('createVirtualHcaCard: PIN', () => {
  it('VERIFY without data reports tries left without spending one; wrong PINs lock after 3', async () => {
    const card = await createVirtualHcaCard();
    selectApp(card);
    expect(tx(card, verifyStatus).sw).toBe('63C3');
    expect(tx(card, verifyStatus).sw).toBe('63C3');
    expect(tx(card, verify('000000')).sw).toBe('63C2');
    expect(tx(card, verify('0000000')).sw).toBe('63C1');
    expect(tx(card, verifyStatus).sw).toBe('63C1');
    expect(tx(card, verify('00000000')).sw).toBe('63C0');
    expect(tx(card, verifyStatus).sw).toBe('6983');
    expect(tx(card, verify('123456')).sw).toBe('6983');
    expect(card.pinTriesLeft).toBe(0);
  });

  it('the right PIN verifies (ASCII padded with FF to 8), resets the counter, and is cleared by a reset', async () => {
    const card = await createVirtualHcaCard({ pinTriesLeft: 1 });
    selectApp(card);
    expect(toHex(pinBlock('123456'))).toBe('31 32 33 34 35 36 FF FF');
    expect(tx(card, verify('123456')).sw).toBe('9000');
    expect(tx(card, verifyStatus).sw).toBe('9000');
    expect(card.pinTriesLeft).toBe(3);
    card.reset();
    selectApp(card);
    expect(tx(card, verifyStatus).sw).toBe('63C3');
  });

  it('a PIN block of the wrong length is refused with 6700 and spends no try', async () => {
    const card = await createVirtualHcaCard();
    expect(tx(card, cmd(0x20, 0, PIN_REF, fromHex('31 32 33 34 35 36'))).sw).toBe('6700');
    expect(card.pinTriesLeft).toBe(3);
    expect(tx(card, cmd(0x20, 0, PUK_REF, fromHex('31 32 33 34'))).sw).toBe('6700');
    expect(card.pukTriesLeft).toBe(10);
  });

  it('CHANGE REFERENCE DATA: old || new blocks; checks the old PIN, then the new block', async () => {
    const card = await createVirtualHcaCard();
    selectApp(card);
    expect(tx(card, cmd(0x24, 0, PIN_REF, concatBytes(pinBlock('111111'), pinBlock('654321')))).sw).toBe('63C2');
    expect(tx(card, cmd(0x24, 0, PIN_REF, pinBlock('123456'))).sw).toBe('6700');
    expect(tx(card, cmd(0x24, 0, PIN_REF, concatBytes(pinBlock('123456'), pinBlock('12345')))).sw).toBe('6A80');
    // A new block that is not characters then padding (the HCA PIN rule: letters and digits).
    expect(tx(card, cmd(0x24, 0, PIN_REF, concatBytes(pinBlock('123456'), fromHex('31 32 33 34 35 36 FF 41')))).sw).toBe('6A80');
    // A character outside the profile's charset (letters and digits): '-' (2D).
    expect(tx(card, cmd(0x24, 0, PIN_REF, concatBytes(pinBlock('123456'), fromHex('31 32 33 34 35 36 37 2D')))).sw).toBe('6A80');
    expect(tx(card, cmd(0x24, 0, PIN_REF, concatBytes(pinBlock('123456'), pinBlock('87654321')))).sw).toBe('9000');
    card.reset();
    selectApp(card);
    expect(tx(card, verify('123456')).sw).toBe('63C2');
    expect(tx(card, verify('87654321')).sw).toBe('9000');
    // The PUK cannot be changed.
    expect(tx(card, cmd(0x24, 0, PUK_REF, concatBytes(pukBlock('12345678'), pukBlock('87654321')))).sw).toBe('6982');
  });

  it("unblock with RESET RETRY COUNTER P1 00 (PUK || new PIN): wrong PUK reports PUK tries, right PUK sets the PIN", async () => {
    const card = await createVirtualHcaCard({ locked: true });
    selectApp(card);
    expect(tx(card, verifyStatus).sw).toBe('6983');
    expect(tx(card, cmd(0x2c, 0, PIN_REF, concatBytes(pukBlock('00000000'), pinBlock('246810')))).sw).toBe('63C9');
    expect(card.pukTriesLeft).toBe(9);
    expect(tx(card, cmd(0x2c, 0, PIN_REF, pukBlock('12345678'))).sw).toBe('6700');
    expect(tx(card, cmd(0x2c, 0, PIN_REF, concatBytes(pukBlock('12345678'), pinBlock('24681')))).sw).toBe('6A80');
    expect(tx(card, cmd(0x2c, 0, PIN_REF, concatBytes(pukBlock('12345678'), pinBlock('246810')))).sw).toBe('9000');
    expect(card.pukTriesLeft).toBe(10);
    expect(tx(card, verifyStatus).sw).toBe('63C3');
    expect(tx(card, verify('123456')).sw).toBe('63C2');
    expect(tx(card, verify('246810')).sw).toBe('9000');
  });

  it("unblock with VERIFY PUK then RESET RETRY COUNTER P1 02 (new PIN)", async () => {
    const card = await createVirtualHcaCard({ locked: true });
    selectApp(card);
    expect(tx(card, cmd(0x2c, 2, PIN_REF, pinBlock('135790'))).sw).toBe('6982');
    expect(tx(card, cmd(0x20, 0, PUK_REF, pukBlock('11111111'))).sw).toBe('63C9');
    expect(tx(card, cmd(0x20, 0, PUK_REF, pukBlock('12345678'))).sw).toBe('9000');
    expect(tx(card, cmd(0x2c, 2, PIN_REF, fromHex('31 32'))).sw).toBe('6700');
    expect(tx(card, cmd(0x2c, 2, PIN_REF, pinBlock('135790'))).sw).toBe('9000');
    expect(card.pinTriesLeft).toBe(3);
    expect(tx(card, verify('135790')).sw).toBe('9000');
  });

  it('PUK blocked: unblocking answers 6983 either way', async () => {
    const card = await createVirtualHcaCard({ locked: true, pukBlocked: true });
    selectApp(card);
    expect(tx(card, cmd(0x2c, 0, PIN_REF, concatBytes(pukBlock('12345678'), pinBlock('246810')))).sw).toBe('6983');
    expect(tx(card, cmd(0x20, 0, PUK_REF)).sw).toBe('6983');
    expect(tx(card, cmd(0x20, 0, PUK_REF, pukBlock('12345678'))).sw).toBe('6983');
    expect(card.pinTriesLeft).toBe(0);
  });

  it('the last PUK try blocks the PUK', async () => {
    const card = await createVirtualHcaCard({ locked: true, pukTriesLeft: 1 });
    expect(tx(card, cmd(0x2c, 0, PIN_REF, concatBytes(pukBlock('00000000'), pinBlock('246810')))).sw).toBe('63C0');
    expect(tx(card, cmd(0x2c, 0, PIN_REF, concatBytes(pukBlock('12345678'), pinBlock('246810')))).sw).toBe('6983');
  });
});

describe('createVirtualHcaCard: signing', () => {
  const message = new TextEncoder().encode('webccid-bind-v1\nhttps://example.test\nchallenge\n');
  const mseSet = (keyRef = P.signing.keyReference.value, algRef = P.signing.algorithmReference.value) =>
    cmd(0x22, 0x41, 0xb6, Uint8Array.of(0x84, 0x01, keyRef, 0x80, 0x01, algRef));

  it('MSE SET + PSO COMPUTE DIGITAL SIGNATURE: RSA PKCS#1 v1.5 verifiable with the signature certificate', async () => {
    const card = await createVirtualHcaCard();
    selectApp(card);
    const di = await digestInfo(message);
    const pso = cmd(0x2a, 0x9e, 0x9a, di, 256);
    expect(tx(card, pso).sw).toBe('6985'); // no MSE yet
    expect(tx(card, mseSet()).sw).toBe('9000');
    expect(tx(card, pso).sw).toBe('6982'); // PIN not verified
    expect(tx(card, verify('123456')).sw).toBe('9000');
    const r = tx(card, pso);
    expect(r.sw).toBe('9000');
    expect(r.data.length).toBe(256);
    const publicKey = await card.certificates.signature.certificate.publicKey.export({ ...RSA, hash: 'SHA-256' }, ['verify']);
    expect(await crypto.subtle.verify(RSA, publicKey, r.data, message)).toBe(true);
    // Same as WebCrypto's own signature (PKCS#1 v1.5 is deterministic).
    const expected = new Uint8Array(await crypto.subtle.sign(RSA, card.holderKeys.privateKey, message));
    expect(toHex(r.data)).toBe(toHex(expected));
    expect(card.signatureCount).toBe(1);
  });

  it('refuses what is not a SHA-256 DigestInfo, a wrong key or algorithm reference, and other PSO operations', async () => {
    const card = await createVirtualHcaCard();
    selectApp(card);
    expect(tx(card, verify('123456')).sw).toBe('9000');
    expect(tx(card, mseSet(0x02)).sw).toBe('6A88');
    expect(tx(card, mseSet(undefined, 0x42)).sw).toBe('6A80');
    expect(tx(card, cmd(0x22, 0x41, 0xb8, Uint8Array.of(0x84, 0x01, 0x01))).sw).toBe('6A86');
    expect(tx(card, cmd(0x22, 0x41, 0xb6, Uint8Array.of(0x84, 0x05, 0x01))).sw).toBe('6A80');
    expect(tx(card, cmd(0x2a, 0x9e, 0x9a, (await digestInfo(message)), 256)).sw).toBe('6985'); // the failed MSE cleared the SE
    expect(tx(card, mseSet()).sw).toBe('9000');
    const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', message));
    expect(tx(card, cmd(0x2a, 0x9e, 0x9a, hash, 256)).sw).toBe('6A80');
    expect(tx(card, cmd(0x2a, 0x9e, 0x9a, new Uint8Array(300), 256)).sw).toBe('6700');
    expect(tx(card, cmd(0x2a, 0x80, 0x86, hash, 256)).sw).toBe('6A86');
    expect(card.signatureCount).toBe(0);
    // A reset forgets the security environment.
    card.reset();
    selectApp(card);
    expect(tx(card, verify('123456')).sw).toBe('9000');
    expect(tx(card, cmd(0x2a, 0x9e, 0x9a, await digestInfo(message), 256)).sw).toBe('6985');
  });

  it('INTERNAL AUTHENTICATE with the key reference signs the DigestInfo too', async () => {
    const card = await createVirtualHcaCard();
    selectApp(card);
    const di = await digestInfo(message);
    expect(tx(card, cmd(0x88, 0x00, P.signing.keyReference.value, di, 256)).sw).toBe('6982');
    expect(tx(card, verify('123456')).sw).toBe('9000');
    expect(tx(card, cmd(0x88, 0x00, 0x07, di, 256)).sw).toBe('6A88');
    const r = tx(card, cmd(0x88, 0x00, P.signing.keyReference.value, di, 256));
    expect(r.sw).toBe('9000');
    expect(toHex(r.data)).toBe(toHex(new Uint8Array(await crypto.subtle.sign(RSA, card.holderKeys.privateKey, message))));
  });

  it('a short Le gets the signature in pieces with GET RESPONSE', async () => {
    const card = await createVirtualHcaCard();
    selectApp(card);
    tx(card, verify('123456'));
    tx(card, mseSet());
    const first = tx(card, cmd(0x2a, 0x9e, 0x9a, await digestInfo(message), 200));
    expect(first.sw).toBe('6138');
    const rest = tx(card, '00 C0 00 00 38');
    expect(rest.sw).toBe('9000');
    const expected = new Uint8Array(await crypto.subtle.sign(RSA, card.holderKeys.privateKey, message));
    expect(toHex(concatBytes(first.data, rest.data))).toBe(toHex(expected));
  });

  it('shares the PKI holder key by default; fresh keys on request', async () => {
    const a = await createVirtualHcaCard();
    const b = await createVirtualHcaCard({ cardNumber: '000000000042' });
    expect(b.holderKeys).toBe(a.holderKeys);
    expect(b.pki).toBe(a.pki);
    const fresh = await createVirtualHcaCard({ holderKeys: 'fresh' });
    expect(fresh.holderKeys).not.toBe(a.holderKeys);
    selectApp(fresh);
    tx(fresh, verify('123456'));
    const r = tx(fresh, cmd(0x88, 0x00, P.signing.keyReference.value, await digestInfo(message), 256));
    const key = await fresh.certificates.signature.certificate.publicKey.export({ ...RSA, hash: 'SHA-256' }, ['verify']);
    expect(await crypto.subtle.verify(RSA, key, r.data, message)).toBe(true);
  });

  it('cards after the first generate no key pair and export no private key: PKI, holder keys and CRT parameters are shared', async () => {
    // What keeps creating many cards cheap, counted rather than timed: RSA key generation and the
    // JWK export of the holder's private key happen once, for the first card of a PKI.
    await createVirtualHcaCard();
    const subtle = globalThis.crypto.subtle;
    const generateKey = vi.spyOn(subtle, 'generateKey');
    const exportKey = vi.spyOn(subtle, 'exportKey');
    try {
      for (let i = 0; i < 20; i++) await createVirtualHcaCard({ cardNumber: String(i).padStart(12, '0') });
      expect(generateKey).not.toHaveBeenCalled();
      expect(exportKey.mock.calls.filter(([format]) => format === 'jwk')).toEqual([]);
      // The counters see key generation when it does happen.
      await createVirtualHcaCard({ holderKeys: 'fresh' });
      expect(generateKey).toHaveBeenCalledTimes(1);
      expect(exportKey.mock.calls.filter(([format]) => format === 'jwk')).toHaveLength(1);
    } finally {
      generateKey.mockRestore();
      exportKey.mockRestore();
    }
  });
});

describe('createVirtualHcaCard: follows the profile passed in', () => {
  const bcd: PinEncoding = { encoding: 'bcd', blockLength: 8, padByte: 0xff };
  const other: HcaProfile = {
    ...HCA_PROFILE,
    aid: { ...HCA_PROFILE.aid, value: 'A0 00 00 01 23 45' },
    files: {
      cardInfo: { ...HCA_PROFILE.files.cardInfo, value: { fid: 0x1001, format: 'pipe-separated' } },
      basicData: { ...HCA_PROFILE.files.basicData, value: { fid: 0x1002, format: 'pipe-separated' } },
      certificates: { ...HCA_PROFILE.files.certificates, value: [0x4843, 0x2001, 0x2002, 0x2003] },
      serialNumber: { ...HCA_PROFILE.files.serialNumber, value: { fid: 0x0101 } },
    },
    pin: { ...HCA_PROFILE.pin, reference: { ...HCA_PROFILE.pin.reference, value: 0x01 }, encoding: { ...HCA_PROFILE.pin.encoding, value: bcd } },
    puk: { ...HCA_PROFILE.puk, reference: { ...HCA_PROFILE.puk.reference, value: 0x02 } },
    signing: { ...HCA_PROFILE.signing, keyReference: { ...HCA_PROFILE.signing.keyReference, value: 0x11 } },
  };

  it('AID, file IDs, references, BCD PIN encoding and key reference all come from the profile', async () => {
    const card = await createVirtualHcaCard({ profile: other });
    expect(tx(card, cmd(0xa4, 0x04, 0x0c, fromHex(HCA_PROFILE.aid.value))).sw).toBe('6A82');
    expect(readEf(card, 0x0101).data.length).toBeGreaterThan(0);
    selectApp(card, other);
    expect(new TextDecoder().decode(readEf(card, 0x1001).data)).toMatch(/^GH\d{12}\|/);
    expect(readEf(card, 0x4843).data).toEqual(card.pki.ca.der); // the DF moved away from 4843
    expect(readEf(card, 0x2001).data).toEqual(card.certificates.signature.der);
    expect(toHex(encodePinBlock('123456', bcd))).toBe('12 34 56 FF FF FF FF FF');
    expect(tx(card, cmd(0x20, 0, 0x81, pinBlock('123456'))).sw).toBe('6A88');
    expect(tx(card, cmd(0x20, 0, 0x01))).toEqual({ data: new Uint8Array(0), sw: '63C3' });
    expect(tx(card, verify('123456', other)).sw).toBe('9000');
    expect(tx(card, cmd(0x22, 0x41, 0xb6, Uint8Array.of(0x84, 0x01, 0x11, 0x80, 0x01, 0x02))).sw).toBe('9000');
    const di = await digestInfo(Uint8Array.of(1, 2, 3));
    expect(tx(card, cmd(0x2a, 0x9e, 0x9a, di, 256)).sw).toBe('9000');
    expect(tx(card, cmd(0x2c, 0, 0x01, concatBytes(pukBlock('12345678', other), encodePinBlock('7654321', bcd)))).sw).toBe('9000');
    expect(tx(card, verify('7654321', other)).sw).toBe('9000');
    expect(card.certificates.signature.policyOid).toBe(other.oids.personnelCard.value);
  });
});

describe('PIN blocks', () => {
  const encodings: PinEncoding[] = [
    { encoding: 'ascii', blockLength: 8, padByte: 0xff },
    { encoding: 'bcd', blockLength: 8, padByte: 0xff },
    { encoding: 'ascii', blockLength: 12, padByte: 0x00 },
  ];
  it('encode then count digits round-trips (property)', () => {
    for (const encoding of encodings) {
      const max = encoding.encoding === 'ascii' ? encoding.blockLength : 2 * encoding.blockLength;
      fc.assert(
        fc.property(fc.stringMatching(new RegExp(`^[0-9]{0,${max}}$`)), (digits) => {
          expect(pinBlockDigits(encodePinBlock(digits, encoding), encoding)).toBe(digits.length);
        }),
      );
    }
  });
  it('any bytes give a digit count or -1, never throw (property)', () => {
    for (const encoding of encodings) {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 20 }), (bytes) => {
          const n = pinBlockDigits(bytes, encoding);
          expect(Number.isInteger(n) && n >= -1).toBe(true);
        }),
      );
    }
  });
  it('rejects malformed blocks', () => {
    const a = encodings[0]!;
    const b = encodings[1]!;
    expect(pinBlockDigits(fromHex('31 32 33 FF 34 FF FF FF'), a)).toBe(-1);
    expect(pinBlockDigits(fromHex('31 32 33 34 35 36 FF'), a)).toBe(-1);
    expect(pinBlockDigits(fromHex('12 34 5A FF FF FF FF FF'), b)).toBe(-1);
    expect(pinBlockDigits(fromHex('12 34 5F FF FF FF FF FF'), b)).toBe(5);
  });
});

describe('createVirtualHcaCard: options', () => {
  const bad: Array<[string, Parameters<typeof createVirtualHcaCard>[0]]> = [
    ['short PIN', { pin: '12345' }],
    ['long PIN', { pin: '123456789' }],
    ['punctuation in PIN (letters and digits only)', { pin: '12345-' }],
    ['short PUK', { puk: '1234567' }],
    ['card number', { cardNumber: 'GH000012345678' }],
    ['tries', { pinTriesLeft: 4 }],
    ['PUK tries', { pukTriesLeft: -1 }],
    ['PUK max tries', { pukMaxTries: 0 }],
    ['name with a pipe', { holderName: 'a|b' }],
    ['kind', { kind: 'nurse' as 'personnel' }],
    ['padding', { certificatePadding: 1.5 }],
  ];
  for (const [name, options] of bad) {
    it(`refuses ${name} with virtual/bad-hca-card-options`, async () => {
      const error = await createVirtualHcaCard(options).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isWebCcidError(error, 'virtual/bad-hca-card-options')).toBe(true);
      expect((error as Error).message).not.toMatch(/\d{5}/);
    });
  }

  it('accepts a PKI of the caller', async () => {
    const pki = await createTestPki({ instance: 'hca-card-test' });
    const card = await createVirtualHcaCard({ pki });
    expect(card.certificates.ca).toEqual(pki.ca.der);
    expect(card.holderKeys).toBe(pki.holderKeys);
  });
});

describe('createVirtualHcaCard: through the CCID stack', () => {
  it('T=1 TPDU reader: select, verify, sign', async () => {
    const card = await createVirtualHcaCard();
    const { reader } = await openStack({ preset: 'castles-ezccid', card });
    try {
      const c = await reader.connect(0);
      const tr = async (apdu: Uint8Array) => toHex((await c.transmit(apdu)).subarray(-2), '');
      expect(await tr(cmd(0xa4, 0x04, 0x0c, fromHex(P.aid.value)))).toBe('9000');
      expect(await tr(verify('123456'))).toBe('9000');
      expect(await tr(cmd(0x22, 0x41, 0xb6, Uint8Array.of(0x84, 0x01, 0x01, 0x80, 0x01, 0x02)))).toBe('9000');
      const message = Uint8Array.of(9, 8, 7);
      const r = await c.transmit(cmd(0x2a, 0x9e, 0x9a, await digestInfo(message), 256));
      expect(toHex(r.subarray(-2), '')).toBe('9000');
      const key = await card.certificates.signature.certificate.publicKey.export({ ...RSA, hash: 'SHA-256' }, ['verify']);
      expect(await crypto.subtle.verify(RSA, key, new Uint8Array(r.subarray(0, -2)), message)).toBe(true);
    } finally {
      await reader.close();
    }
  });
});
