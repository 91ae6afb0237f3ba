import { describe, expect, it } from 'vitest';
import { loadX509 } from './x509.js';

describe('loadX509', () => {
  it('loads @peculiar/x509 once, with WebCrypto as its provider, and can parse and verify a certificate', async () => {
    const a = await loadX509();
    expect(await loadX509()).toBe(a);
    const keys = await crypto.subtle.generateKey(
      { name: 'ECDSA', namedCurve: 'P-256' },
      true,
      ['sign', 'verify'],
    );
    const cert = await a.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: 'CN=loadX509 test',
      notBefore: new Date('2026-01-01'),
      notAfter: new Date('2027-01-01'),
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      keys,
    });
    const parsed = new a.X509Certificate(cert.rawData);
    expect(parsed.subject).toBe('CN=loadX509 test');
    expect(await parsed.verify({ signatureOnly: true })).toBe(true);
  });
});
