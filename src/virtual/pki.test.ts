import { beforeAll, describe, expect, it } from 'vitest';
import { isWebCcidError } from '../errors.js';
import { HCA_PROFILE, type HcaProfile } from '../hca/profile.js';
import { createTestPki } from './pki.js';
import { loadX509 } from '../x509.js';

// RSA key generation for the PKI is slow under a loaded test run: make it once, with room.
beforeAll(async () => {
  await createTestPki();
}, 30_000);

const CERTIFICATE_POLICIES = '2.5.29.32';

describe('createTestPki', () => {
  it('makes a self-signed root and an intermediate issued by it (RSA 2048, SHA-256)', async () => {
    const x509 = await loadX509();
    const pki = await createTestPki();
    const { root, ca } = pki;
    expect(root.certificate.subjectName.getField('CN')).toEqual(['Virtual GRCA']);
    expect(ca.certificate.subjectName.getField('CN')).toEqual(['Virtual HCA']);
    expect(root.certificate.issuer).toBe(root.certificate.subject);
    expect(ca.certificate.issuer).toBe(root.certificate.subject);
    expect(await root.certificate.isSelfSigned()).toBe(true);
    expect(await ca.certificate.verify({ publicKey: root.certificate.publicKey, signatureOnly: true })).toBe(true);
    expect(root.certificate.signatureAlgorithm).toMatchObject({ name: 'RSASSA-PKCS1-v1_5', hash: { name: 'SHA-256' } });
    expect((ca.certificate.publicKey.algorithm as RsaHashedKeyAlgorithm).modulusLength).toBe(2048);
    const bc = ca.certificate.getExtension(x509.BasicConstraintsExtension);
    expect(bc?.ca).toBe(true);
    expect(bc?.pathLength).toBe(0);
    expect(root.der[0]).toBe(0x30);
    expect(new x509.X509Certificate(root.der).equal(root.certificate)).toBe(true);
    expect(pki.trustAnchors).toEqual([root.der]);
    expect(pki.intermediates).toEqual([ca.der]);
  });

  it('is memoised per options; `instance` gives a distinct PKI', async () => {
    const a = await createTestPki();
    const b = await createTestPki({});
    expect(b).toBe(a);
    const other = await createTestPki({ instance: 'untrusted' });
    expect(other).not.toBe(a);
    expect(other.root.certificate.subject).toBe(a.root.certificate.subject);
    expect(other.root.der).not.toEqual(a.root.der);
  });

  it('issues a personnel signature certificate: CN, serialNumber = card number, HCA OID, key usage, chain', async () => {
    const x509 = await loadX509();
    const pki = await createTestPki();
    const notBefore = new Date(Date.UTC(2024, 0, 1));
    const notAfter = new Date(Date.UTC(2028, 11, 31));
    const holder = await pki.issue({ holderName: '王小明', idNumber: 'A123456789', cardNumber: '000012345678', kind: 'personnel', notBefore, notAfter });
    const cert = holder.certificate;
    expect(cert.subjectName.getField('CN')).toEqual(['王小明']);
    expect(cert.subjectName.getField('2.5.4.5')).toEqual(['000012345678']);
    expect(cert.subject).not.toContain('A123456789');
    expect(cert.issuer).toBe(pki.ca.certificate.subject);
    expect(cert.notBefore.getTime()).toBe(notBefore.getTime());
    expect(cert.notAfter.getTime()).toBe(notAfter.getTime());
    const policies = cert.getExtension(x509.CertificatePolicyExtension);
    expect(policies?.type).toBe(CERTIFICATE_POLICIES);
    expect(policies?.policies).toEqual([HCA_PROFILE.oids.personnelCard.value]);
    expect(holder.policyOid).toBe(HCA_PROFILE.oids.personnelCard.value);
    const ku = cert.getExtension(x509.KeyUsagesExtension);
    expect(ku?.critical).toBe(true);
    expect(ku?.usages).toBe(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation);
    expect(cert.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(false);
    expect(await cert.verify({ publicKey: pki.ca.certificate.publicKey, signatureOnly: true })).toBe(true);
    const chain = await new x509.X509ChainBuilder({ certificates: [pki.ca.certificate, pki.root.certificate] }).build(cert);
    expect(chain.map((c) => c.subjectName.getField('CN')[0])).toEqual(['王小明', 'Virtual HCA', 'Virtual GRCA']);
    // The certificate holds the PKI's shared holder key.
    const spki = new Uint8Array(await crypto.subtle.exportKey('spki', pki.holderKeys.publicKey));
    expect(new Uint8Array(cert.publicKey.rawData)).toEqual(spki);
  });

  it('issues institution and encryption certificates', async () => {
    const x509 = await loadX509();
    const pki = await createTestPki();
    const inst = await pki.issue({ holderName: 'Virtual Clinic', cardNumber: '000098765432', kind: 'institution' });
    expect(inst.certificate.getExtension(x509.CertificatePolicyExtension)?.policies).toEqual([HCA_PROFILE.oids.institutionCard.value]);
    const enc = await pki.issue({ holderName: 'Virtual Clinic', cardNumber: '000098765432', kind: 'institution', usage: 'encryption' });
    expect(enc.usage).toBe('encryption');
    expect(enc.certificate.getExtension(x509.KeyUsagesExtension)?.usages).toBe(x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.dataEncipherment);
    expect(enc.certificate.serialNumber).not.toBe(inst.certificate.serialNumber);
  });

  it('defaults the holder validity around now', async () => {
    const pki = await createTestPki();
    const holder = await pki.issue({ holderName: 'A', cardNumber: '000000000001', kind: 'personnel' });
    const now = Date.now();
    expect(holder.certificate.notBefore.getTime()).toBeLessThan(now);
    expect(holder.certificate.notAfter.getTime()).toBeGreaterThan(now);
  });

  it('takes the OIDs from the profile passed in', async () => {
    const x509 = await loadX509();
    const profile: HcaProfile = {
      ...HCA_PROFILE,
      oids: {
        personnelCard: { value: '1.2.3.4.1', status: 'assumed', source: 'test' },
        institutionCard: { value: '1.2.3.4.2', status: 'assumed', source: 'test' },
      },
    };
    const pki = await createTestPki({ profile });
    expect(pki).not.toBe(await createTestPki());
    const holder = await pki.issue({ holderName: 'B', cardNumber: '000000000002', kind: 'personnel' });
    expect(holder.certificate.getExtension(x509.CertificatePolicyExtension)?.policies).toEqual(['1.2.3.4.1']);
  });

  it('certifies a fresh key pair when given one', async () => {
    const pki = await createTestPki();
    const keys = await pki.generateHolderKeys();
    const holder = await pki.issue({ holderName: 'C', cardNumber: '000000000003', kind: 'personnel', publicKey: keys.publicKey });
    const spki = new Uint8Array(await crypto.subtle.exportKey('spki', keys.publicKey));
    expect(new Uint8Array(holder.certificate.publicKey.rawData)).toEqual(spki);
    const shared = new Uint8Array(await crypto.subtle.exportKey('spki', pki.holderKeys.publicKey));
    expect(spki).not.toEqual(shared);
  });

  it('rejects bad requests with virtual/bad-pki-request', async () => {
    const pki = await createTestPki();
    const bad = [
      { holderName: '', cardNumber: '1', kind: 'personnel' as const },
      { holderName: 'x', cardNumber: '', kind: 'personnel' as const },
      { holderName: 'x', cardNumber: '1', kind: 'nurse' as unknown as 'personnel' },
      { holderName: 'x', cardNumber: '1', kind: 'personnel' as const, notBefore: new Date(Number.NaN) },
    ];
    for (const request of bad) {
      const error = await pki.issue(request).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isWebCcidError(error, 'virtual/bad-pki-request')).toBe(true);
    }
    expect(() => createTestPki({ notAfter: new Date('nonsense') })).toThrow(expect.objectContaining({ code: 'virtual/bad-pki-request' }));
  });
});
