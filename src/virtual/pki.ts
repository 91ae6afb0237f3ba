/**
 * A test PKI shaped like the HCA one: a self-signed root ("Virtual GRCA"), an
 * intermediate ("Virtual HCA") issued by it, and holder certificates issued by
 * the intermediate (GRCA -> HCA -> holder, as on the real cards).
 * RSA 2048, SHA-256 with RSA PKCS#1 v1.5, made with WebCrypto and
 * `@peculiar/x509` at run time (browser-safe: no Node imports).
 *
 * Holder certificates (what the real ones carry is not public; this is ASSUMED):
 * - subject: `C=TW, CN=<holder name>, serialNumber=<card number>` (the card
 *   number in the `serialNumber` attribute, OID 2.5.4.5); the holder's ID
 *   number is NOT put in the certificate (it stays in the card's basic-data file);
 * - certificatePolicies: the card-type OID from the profile (`oids.personnelCard`
 *   or `oids.institutionCard`);
 * - keyUsage (critical): digitalSignature + nonRepudiation for the signature
 *   certificate, keyEncipherment + dataEncipherment for the encryption one;
 * - basicConstraints CA:false, subject and authority key identifiers.
 *
 * RSA key generation is slow (tens to hundreds of ms a key), so `createTestPki`
 * is memoised per options in the process, and each PKI has one shared holder
 * key pair (`holderKeys`) that every certificate and virtual card uses unless
 * given another (`generateHolderKeys()` makes fresh ones).
 */
import type * as X509 from '@peculiar/x509';
import { HCA_PROFILE, type HcaProfile } from '../hca/profile.js';
import { WebCcidError } from '../errors.js';
import { loadX509 } from '../x509.js';

/** RSA PKCS#1 v1.5 with SHA-256, 2048-bit keys, e = 65537. */
export const TEST_PKI_ALGORITHM: RsaHashedKeyGenParams = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: Uint8Array.of(1, 0, 1),
  modulusLength: 2048,
};

/** A certificate as DER and as a parsed `@peculiar/x509` object. */
export interface PkiCertificate {
  der: Uint8Array<ArrayBuffer>;
  certificate: X509.X509Certificate;
}

/** A CA certificate with its key pair (so tests can issue odd certificates themselves). */
export interface PkiAuthority extends PkiCertificate {
  keys: CryptoKeyPair;
  /** The subject common name. */
  name: string;
}

export type HcaCardKind = 'personnel' | 'institution';

export interface HolderCertificateRequest {
  /** Subject CN: the person's name (personnel) or the institution's name. */
  holderName: string;
  /** The card number (12 digits on HCA cards): subject serialNumber attribute. */
  cardNumber: string;
  /** The holder's ID number: kept on the request for the card's basic data; not put in the certificate. */
  idNumber?: string;
  kind: HcaCardKind;
  /** Default: start of the current UTC day minus 365 days. */
  notBefore?: Date;
  /** Default: notBefore + 5 years. */
  notAfter?: Date;
  /** Default: the PKI's shared holder public key. */
  publicKey?: CryptoKey;
  /** 'signature' (certificate 1, default) or 'encryption' (certificate 2). */
  usage?: 'signature' | 'encryption';
  /** Hex serial number; default random (positive, 16 bytes). */
  serialNumber?: string;
}

/** An issued holder certificate and what it was issued for. */
export interface HolderCertificate extends PkiCertificate {
  holderName: string;
  cardNumber: string;
  kind: HcaCardKind;
  usage: 'signature' | 'encryption';
  /** The card-type OID placed in certificatePolicies. */
  policyOid: string;
}

export interface TestPkiOptions {
  /** Where the card-type OIDs come from. Default `HCA_PROFILE`. */
  profile?: HcaProfile;
  /** Root CN, default "Virtual GRCA". */
  rootName?: string;
  /** Intermediate CN, default "Virtual HCA". */
  caName?: string;
  /** Validity of root and intermediate; default 2020-01-01 .. 2049-12-31 (UTC). */
  notBefore?: Date;
  notAfter?: Date;
  /**
   * Any string: PKIs with different `instance` values are distinct (own keys)
   * even with the same names, e.g. an untrusted look-alike root for tests.
   */
  instance?: string;
}

export interface TestPki {
  root: PkiAuthority;
  ca: PkiAuthority;
  /** The shared holder key pair (extractable RSA 2048), used by default by `issue` and the virtual cards. */
  holderKeys: CryptoKeyPair;
  profile: HcaProfile;
  /** Trust anchors for a verifier: `[root.der]`. */
  trustAnchors: Uint8Array<ArrayBuffer>[];
  /** Intermediates for a verifier: `[ca.der]`. */
  intermediates: Uint8Array<ArrayBuffer>[];
  /** Issues a holder certificate signed by the intermediate. */
  issue(request: HolderCertificateRequest): Promise<HolderCertificate>;
  /** A fresh extractable RSA 2048 key pair (slow: use only when a test needs a distinct key). */
  generateHolderKeys(): Promise<CryptoKeyPair>;
}

const DAY_MS = 86_400_000;
const SIGNING: RsaHashedImportParams = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
const OID_SERIAL_NUMBER = '2.5.4.5';

const memo = new Map<string, Promise<TestPki>>();

/** A fresh extractable RSA 2048 key pair for signing (RSASSA-PKCS1-v1_5, SHA-256). */
export async function generateRsaKeys(): Promise<CryptoKeyPair> {
  return globalThis.crypto.subtle.generateKey(TEST_PKI_ALGORITHM, true, ['sign', 'verify']);
}

function randomSerial(): string {
  const b = globalThis.crypto.getRandomValues(new Uint8Array(16));
  b[0] = (b[0]! & 0x3f) | 0x10; // positive, no leading zero byte
  let hex = '';
  for (const x of b) hex += x.toString(16).padStart(2, '0');
  return hex;
}

function derOf(cert: X509.X509Certificate): Uint8Array<ArrayBuffer> {
  return new Uint8Array(cert.rawData.slice(0));
}

function checkDate(d: Date, what: string): void {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) {
    throw new WebCcidError('virtual/bad-pki-request', `The ${what} date is not a valid Date.`);
  }
}

/**
 * The test PKI for these options, made on first use and memoised in the
 * process (same options, including `instance`, give the same PKI object).
 */
export function createTestPki(options: TestPkiOptions = {}): Promise<TestPki> {
  const profile = options.profile ?? HCA_PROFILE;
  const rootName = options.rootName ?? 'Virtual GRCA';
  const caName = options.caName ?? 'Virtual HCA';
  const notBefore = options.notBefore ?? new Date(Date.UTC(2020, 0, 1));
  const notAfter = options.notAfter ?? new Date(Date.UTC(2049, 11, 31, 23, 59, 59));
  checkDate(notBefore, 'CA notBefore');
  checkDate(notAfter, 'CA notAfter');
  const key = JSON.stringify([
    profile.oids.personnelCard.value,
    profile.oids.institutionCard.value,
    rootName,
    caName,
    notBefore.getTime(),
    notAfter.getTime(),
    options.instance ?? '',
  ]);
  let pki = memo.get(key);
  if (!pki) {
    pki = buildPki({ profile, rootName, caName, notBefore, notAfter });
    memo.set(key, pki);
    pki.catch(() => memo.delete(key));
  }
  return pki;
}

async function buildPki(o: { profile: HcaProfile; rootName: string; caName: string; notBefore: Date; notAfter: Date }): Promise<TestPki> {
  const x509 = await loadX509();
  const [rootKeys, caKeys, holderKeys] = await Promise.all([generateRsaKeys(), generateRsaKeys(), generateRsaKeys()]);

  const authorityName = (cn: string): X509.Name => new x509.Name([{ C: ['TW'] }, { O: ['webccid test PKI'] }, { CN: [cn] }]);
  const rootSubject = authorityName(o.rootName);
  const rootCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: rootSubject,
    notBefore: o.notBefore,
    notAfter: o.notAfter,
    signingAlgorithm: SIGNING,
    keys: rootKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });
  const caCert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: authorityName(o.caName),
    issuer: rootCert.subjectName,
    notBefore: o.notBefore,
    notAfter: o.notAfter,
    signingAlgorithm: SIGNING,
    publicKey: caKeys.publicKey,
    signingKey: rootKeys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });

  const root: PkiAuthority = { der: derOf(rootCert), certificate: rootCert, keys: rootKeys, name: o.rootName };
  const ca: PkiAuthority = { der: derOf(caCert), certificate: caCert, keys: caKeys, name: o.caName };

  async function issue(request: HolderCertificateRequest): Promise<HolderCertificate> {
    if (typeof request.holderName !== 'string' || request.holderName.length === 0) {
      throw new WebCcidError('virtual/bad-pki-request', 'The holder name must be a non-empty string.');
    }
    if (typeof request.cardNumber !== 'string' || request.cardNumber.length === 0) {
      throw new WebCcidError('virtual/bad-pki-request', 'The card number must be a non-empty string.');
    }
    if (request.kind !== 'personnel' && request.kind !== 'institution') {
      throw new WebCcidError('virtual/bad-pki-request', "The card kind must be 'personnel' or 'institution'.");
    }
    const usage = request.usage ?? 'signature';
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    const nb = request.notBefore ?? new Date(today - 365 * DAY_MS);
    checkDate(nb, 'notBefore');
    const na = request.notAfter ?? new Date(nb.getTime() + 5 * 365 * DAY_MS);
    checkDate(na, 'notAfter');
    const policyOid = request.kind === 'personnel' ? o.profile.oids.personnelCard.value : o.profile.oids.institutionCard.value;
    const publicKey = request.publicKey ?? holderKeys.publicKey;
    const usages =
      usage === 'signature'
        ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation
        : x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.dataEncipherment;
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: request.serialNumber ?? randomSerial(),
      subject: new x509.Name([
        { C: ['TW'] },
        { CN: [{ utf8String: request.holderName }] },
        {
          [OID_SERIAL_NUMBER]: [
            x509.Name.isPrintableString(request.cardNumber) ? { printableString: request.cardNumber } : { utf8String: request.cardNumber },
          ],
        },
      ]),
      issuer: caCert.subjectName,
      notBefore: nb,
      notAfter: na,
      signingAlgorithm: SIGNING,
      publicKey,
      signingKey: caKeys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, false),
        new x509.KeyUsagesExtension(usages, true),
        new x509.CertificatePolicyExtension([policyOid], false),
        await x509.SubjectKeyIdentifierExtension.create(publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
      ],
    });
    return {
      der: derOf(cert),
      certificate: cert,
      holderName: request.holderName,
      cardNumber: request.cardNumber,
      kind: request.kind,
      usage,
      policyOid,
    };
  }

  return {
    root,
    ca,
    holderKeys,
    profile: o.profile,
    trustAnchors: [root.der],
    intermediates: [ca.der],
    issue,
    generateHolderKeys: generateRsaKeys,
  };
}
