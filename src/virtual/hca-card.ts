/**
 * The virtual HCA card: a `VirtualCard` that implements the HCA profile
 * (src/hca/profile.ts) exactly, with real certificates from the test PKI
 * (pki.ts) and a real RSA 2048 signing key. Every AID, file ID, reference,
 * encoding and method is read from the profile object passed in (default
 * `HCA_PROFILE`), so a corrected profile gives a matching card.
 *
 * Layout (FIDs from the profile; the DF's own FID is not in the profile and
 * only matters to SELECT by FID: 0x4843 unless the profile uses it):
 *
 * ```
 * MF 3F00
 * ├─ EF serialNumber    card serial number (ASCII)
 * └─ DF (AID = profile.aid)
 *    ├─ EF cardInfo     "GH" + 12 digits | validFrom | validTo   (ASCII, YYYYMMDD, UTC)
 *    ├─ EF basicData    name | ID number | category              (UTF-8)
 *    ├─ EF cert 0       HCA CA certificate (DER)
 *    ├─ EF cert 1       holder signature certificate (DER)
 *    ├─ EF cert 2       holder encryption certificate (DER; version 2 only)
 *    └─ EF cert 3       GRCA root certificate (DER; version 2 only)
 * ```
 *
 * Commands, on top of `VirtualCard`'s (SELECT, READ BINARY, GET RESPONSE ...):
 * - VERIFY (20) P2 = PIN or PUK reference: data must be exactly the profile's
 *   block length (6700 otherwise, no try spent); no data = status (9000 verified,
 *   63Cx not verified with x tries left, 6983 blocked).
 * - CHANGE REFERENCE DATA (24) P2 = PIN reference: old block || new block (6700 on
 *   another length); the new block must be a well-formed profile block of
 *   minLength..maxLength characters of the profile's charset (6A80 otherwise; the old PIN is
 *   checked first).
 * - RESET RETRY COUNTER (2C), both unblock methods of the profile are served:
 *   P1 00 data = PUK block || new PIN block ('reset-retry-counter'), or VERIFY of
 *   the PUK reference then P1 02 data = new PIN block ('verify-puk-then-reset').
 *   A wrong PUK answers 63Cx (PUK tries left), a blocked PUK 6983.
 * - MSE SET (00 22 41 B6, data 84 01 keyRef 80 01 algRef): key reference and
 *   algorithm reference must be the profile's (6A88 / 6A80 otherwise).
 * - PSO COMPUTE DIGITAL SIGNATURE (00 2A 9E 9A, data = DigestInfo, Le 00): needs
 *   MSE SET first (6985) and a verified PIN (6982); INTERNAL AUTHENTICATE
 *   (00 88 00 keyRef, data = DigestInfo, Le 00): needs a verified PIN (6982).
 *   Both methods are always served (the profile's `signing.method` chooses what
 *   the host sends). The data must be a DER DigestInfo of the profile's hash
 *   (6A80 otherwise). The answer is the RSA PKCS#1 v1.5 signature (256 bytes),
 *   computed with the holder's private key (raw RSA, CRT, BigInt).
 * The verified PIN stays verified until reset (it is not "PIN always").
 *
 * Class byte: the card is an interindustry (ISO) card: a proprietary class (80..FE) on SELECT,
 * READ BINARY, VERIFY, CHANGE REFERENCE DATA or RESET RETRY COUNTER answers 6E00.
 *
 * `behaviour: 'gpki-sibling'` makes a card that behaves like the sibling cards of the government
 * PKI (docs/design.md §5.1; profile `HCA_GPKI_SIBLING_PROFILE`): SELECT and READ BINARY only in
 * class 0x80 (class 00 answers 6E00), the application as DF 5030 (the profile's
 * `application.fid`), and no plain VERIFY: a VERIFY / CHANGE REFERENCE DATA / RESET RETRY COUNTER
 * carrying a PIN in clear is refused AND spends a try (63Cx), as the evidence says it may; one
 * without data answers 6E00 in class 00. The real wrapped VERIFY is not implemented (it needs the
 * vendor's keys). This lets tests prove that such a card is recognised and never sent a PIN.
 */
import { bytesEqual, concatBytes, fromHex } from '../bytes.js';
import { WebCcidError } from '../errors.js';
import { HCA_GPKI_SIBLING_PROFILE, HCA_PROFILE, pinCharAllowed, pinCharsetOf, type HcaProfile, type PinEncoding } from '../hca/profile.js';
import type { ParsedApdu } from '../iso7816/apdu.js';
import { HCA_ATR, VirtualCard, hcaAtrWithIfsc, type VirtualCardOptions, type VirtualDfSpec, type VirtualEfSpec } from './card.js';
import { decodePinBlock, encodePinBlock, pinBlockDigits } from './hca-pin-block.js';
import { createTestPki, type HcaCardKind, type HolderCertificate, type TestPki } from './pki.js';
import { DIGEST_INFO_PREFIX, rsaPrivateKey, rsaSignDigestInfo, type RsaPrivateKey } from './rsa-sign.js';

export { decodePinBlock, encodePinBlock, pinBlockDigits } from './hca-pin-block.js';

/** Default test values of the virtual HCA card. */
export const VIRTUAL_HCA_DEFAULTS = {
  pin: '123456',
  puk: '12345678',
  cardNumber: '000012345678',
  personnel: { holderName: '王大明', idNumber: 'A123456789', category: '醫師' },
  institution: { holderName: '虛擬醫院', idNumber: '0123456789', category: '醫事機構' },
  pukMaxTries: 10,
} as const;

export interface VirtualHcaCardOptions {
  /** 'iso' (default): the ISO 7816-4 card of the profile; 'gpki-sibling': see the module comment. */
  behaviour?: 'iso' | 'gpki-sibling';
  /** The profile the card implements. Default `HCA_PROFILE` ('iso') or `HCA_GPKI_SIBLING_PROFILE` ('gpki-sibling'). */
  profile?: HcaProfile;
  /** The PKI issuing the certificates. Default `createTestPki({ profile })` (memoised). */
  pki?: TestPki;
  /** The holder key pair (extractable RSA): default the PKI's shared `holderKeys`; 'fresh' makes a new one (slow). */
  holderKeys?: CryptoKeyPair | 'fresh';
  /** 'personnel' (default) or 'institution': the certificate policy OID and the default basic data. */
  kind?: HcaCardKind;
  holderName?: string;
  idNumber?: string;
  /** Category field of the basic data (default 醫師 / 醫事機構). */
  category?: string;
  /** The 12 digits after "GH". Default "000012345678". */
  cardNumber?: string;
  /** Content of the serial-number EF (ASCII). Default "VHCA" + the last 8 digits of the card number. */
  serialNumber?: string;
  /** The PIN (profile length bounds and charset). Default "123456". */
  pin?: string;
  /** PUK digits (profile length). Default "12345678". */
  puk?: string;
  /** PIN tries left at start (0..profile maxTries). */
  pinTriesLeft?: number;
  /** The PIN is blocked (tries left 0): the unlock flow's starting point. */
  locked?: boolean;
  /** PUK tries allowed, default 10. */
  pukMaxTries?: number;
  pukTriesLeft?: number;
  /** The PUK is blocked (tries left 0). */
  pukBlocked?: boolean;
  /** Version 1 cards lack certificates 2 and 3. Default 2. */
  version?: 1 | 2;
  /** Certificates (and card info) expired a year ago. */
  expired?: boolean;
  /** Certificate validity (wins over `expired`). Default: from a year ago, five years. */
  notBefore?: Date;
  notAfter?: Date;
  /** Bytes of FF appended after each certificate in its EF (real cards' files are often larger). Default 0. */
  certificatePadding?: number;
  /** The whole ATR (default the HCA ATR); wins over `ifsc`. */
  atr?: Uint8Array;
  /** IFSC of the HCA ATR (TA3). */
  ifsc?: number;
  label?: string;
  challengeSeed?: number;
}

/** The certificates on a virtual HCA card. */
export interface VirtualHcaCertificates {
  /** Certificate 0: the HCA CA. */
  ca: Uint8Array<ArrayBuffer>;
  /** Certificate 1: the holder's signature certificate. */
  signature: HolderCertificate;
  /** Certificate 2 (version 2 only). */
  encryption?: HolderCertificate;
  /** Certificate 3: the GRCA root (version 2 only). */
  root?: Uint8Array<ArrayBuffer>;
}

const SW_OK = 0x9000;
const SW_WRONG_LENGTH = 0x6700;
const SW_SECURITY = 0x6982;
const SW_CONDITIONS = 0x6985;
const SW_WRONG_DATA = 0x6a80;
const SW_WRONG_P1P2 = 0x6a86;
const SW_REF_NOT_FOUND = 0x6a88;
const SW_CLA_NOT_SUPPORTED = 0x6e00;

function fail(message: string): never {
  throw new WebCcidError('virtual/bad-hca-card-options', message);
}

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0x7f;
  return out;
}

function yyyymmdd(d: Date): string {
  return `${d.getUTCFullYear().toString().padStart(4, '0')}${(d.getUTCMonth() + 1).toString().padStart(2, '0')}${d.getUTCDate().toString().padStart(2, '0')}`;
}

/** A virtual HCA card (see the module comment). Build it with `createVirtualHcaCard`. */
export class VirtualHcaCard extends VirtualCard {
  readonly profile: HcaProfile;
  readonly pki: TestPki;
  readonly holderKeys: CryptoKeyPair;
  readonly kind: HcaCardKind;
  readonly version: 1 | 2;
  readonly behaviour: 'iso' | 'gpki-sibling';
  /** The 12 digits after "GH". */
  readonly cardNumber: string;
  readonly holderName: string;
  readonly certificates: VirtualHcaCertificates;
  /** Signatures made since creation (for tests). */
  signatureCount = 0;
  private readonly privateKey: RsaPrivateKey;
  private securityEnvironment: { keyReference: number; algorithmReference: number } | undefined;

  /** @internal Use `createVirtualHcaCard`. */
  constructor(init: {
    base: VirtualCardOptions;
    profile: HcaProfile;
    pki: TestPki;
    holderKeys: CryptoKeyPair;
    privateKey: RsaPrivateKey;
    kind: HcaCardKind;
    version: 1 | 2;
    behaviour: 'iso' | 'gpki-sibling';
    cardNumber: string;
    holderName: string;
    certificates: VirtualHcaCertificates;
  }) {
    super(init.base);
    this.profile = init.profile;
    this.pki = init.pki;
    this.holderKeys = init.holderKeys;
    this.privateKey = init.privateKey;
    this.kind = init.kind;
    this.version = init.version;
    this.behaviour = init.behaviour;
    this.cardNumber = init.cardNumber;
    this.holderName = init.holderName;
    this.certificates = init.certificates;
  }

  /** PIN tries left. */
  get pinTriesLeft(): number {
    return this.triesLeft(this.profile.pin.reference.value) ?? 0;
  }

  /** PUK tries left. */
  get pukTriesLeft(): number {
    return this.triesLeft(this.profile.puk.reference.value) ?? 0;
  }

  /**
   * What the card keeps across power cycles that a flow can change: PIN, PUK and their tries
   * (decoded from the stored blocks). Test data of a virtual card, for carrying it over to a new
   * instance (`createVirtualHcaCard({ ...card.memory(), ... })`); a real card never gives it out.
   */
  memory(): { pin: string; puk: string; pinTriesLeft: number; pukTriesLeft: number } {
    const decode = (reference: number, encoding: PinEncoding): string => {
      const block = this.referenceData(reference) ?? new Uint8Array(0);
      const text = decodePinBlock(block, encoding);
      block.fill(0);
      return text;
    };
    return {
      pin: decode(this.profile.pin.reference.value, this.profile.pin.encoding.value),
      puk: decode(this.profile.puk.reference.value, this.profile.puk.encoding.value),
      pinTriesLeft: this.pinTriesLeft,
      pukTriesLeft: this.pukTriesLeft,
    };
  }

  protected override onReset(): void {
    this.securityEnvironment = undefined;
  }

  protected override executeExtension(cmd: ParsedApdu): [Uint8Array, number] | undefined {
    const none = new Uint8Array(0);
    const proprietary = (cmd.cla & 0x80) !== 0;
    const fileOrPin = cmd.ins === 0xa4 || cmd.ins === 0xb0 || cmd.ins === 0x20 || cmd.ins === 0x24 || cmd.ins === 0x2c;
    if (this.behaviour === 'gpki-sibling' && fileOrPin) {
      const pinCommand = cmd.ins === 0x20 || cmd.ins === 0x24 || cmd.ins === 0x2c;
      // A PIN in clear: refused, and a try is spent (the wrapped form is not implemented).
      if (pinCommand && (cmd.data?.length ?? 0) > 0) {
        const reference = cmd.ins === 0x2c && cmd.p1 === 0x00 ? this.profile.puk.reference.value : cmd.p2;
        return [none, this.spendTry(reference)];
      }
      if (!proprietary) return [none, SW_CLA_NOT_SUPPORTED];
      return undefined;
    }
    if (proprietary) return fileOrPin ? [none, SW_CLA_NOT_SUPPORTED] : undefined;
    const profile = this.profile;
    const pinRef = profile.pin.reference.value;
    const pukRef = profile.puk.reference.value;
    const pinBlock = profile.pin.encoding.value.blockLength;
    const pukBlock = profile.puk.encoding.value.blockLength;
    const dataLength = cmd.data?.length ?? 0;
    switch (cmd.ins) {
      case 0x20: // VERIFY: a present PIN must be one whole block.
        if (cmd.p1 === 0 && dataLength > 0) {
          if (cmd.p2 === pinRef && dataLength !== pinBlock) return [none, SW_WRONG_LENGTH];
          if (cmd.p2 === pukRef && dataLength !== pukBlock) return [none, SW_WRONG_LENGTH];
        }
        return undefined;
      case 0x24: // CHANGE REFERENCE DATA: old block || new block.
        if (cmd.p1 === 0 && cmd.p2 === pinRef && dataLength !== 2 * pinBlock) return [none, SW_WRONG_LENGTH];
        if (cmd.p1 === 0 && cmd.p2 === pukRef) return [none, SW_SECURITY];
        return undefined;
      case 0x2c: // RESET RETRY COUNTER: P1 00 = PUK block || new PIN block, P1 02 = new PIN block.
        if (cmd.p2 === pinRef) {
          if (cmd.p1 === 0x00 && dataLength !== pukBlock + pinBlock) return [none, SW_WRONG_LENGTH];
          if (cmd.p1 === 0x02 && dataLength !== pinBlock) return [none, SW_WRONG_LENGTH];
        }
        return undefined;
      case 0x22:
        return [none, this.manageSecurityEnvironment(cmd)];
      case 0x2a:
        if (cmd.p1 !== 0x9e || cmd.p2 !== 0x9a) return [none, SW_WRONG_P1P2];
        if (!this.securityEnvironment) return [none, SW_CONDITIONS];
        return this.sign(cmd);
      case 0x88:
        if (cmd.p1 !== 0x00) return [none, SW_WRONG_P1P2];
        if (cmd.p2 !== profile.signing.keyReference.value) return [none, SW_REF_NOT_FOUND];
        return this.sign(cmd);
      default:
        return undefined;
    }
  }

  private manageSecurityEnvironment(cmd: ParsedApdu): number {
    if (cmd.p1 !== 0x41 || cmd.p2 !== 0xb6) return SW_WRONG_P1P2;
    const data = cmd.data ?? new Uint8Array(0);
    let keyReference: number | undefined;
    let algorithmReference: number | undefined;
    for (let i = 0; i < data.length; ) {
      const tag = data[i]!;
      const length = data[i + 1];
      if (length === undefined || length > 0x7f || i + 2 + length > data.length) return SW_WRONG_DATA;
      const value = data.subarray(i + 2, i + 2 + length);
      if (tag === 0x84 || tag === 0x83) keyReference = length === 1 ? value[0]! : -1;
      else if (tag === 0x80) algorithmReference = length === 1 ? value[0]! : -1;
      i += 2 + length;
    }
    this.securityEnvironment = undefined;
    if (keyReference !== this.profile.signing.keyReference.value) return SW_REF_NOT_FOUND;
    if (algorithmReference !== this.profile.signing.algorithmReference.value) return SW_WRONG_DATA;
    this.securityEnvironment = { keyReference, algorithmReference };
    return SW_OK;
  }

  private sign(cmd: ParsedApdu): [Uint8Array, number] {
    const none = new Uint8Array(0);
    if (!this.isVerified(this.profile.pin.reference.value)) return [none, SW_SECURITY];
    const data = cmd.data ?? none;
    const expected = DIGEST_INFO_PREFIX[this.profile.signing.hash.value];
    if (!expected) return [none, SW_CONDITIONS];
    if (data.length === 0 || data.length > this.privateKey.k - 11) return [none, SW_WRONG_LENGTH];
    const prefix = expected.prefix;
    if (data.length !== prefix.length + expected.length || !bytesEqual(data.subarray(0, prefix.length), prefix)) {
      return [none, SW_WRONG_DATA];
    }
    this.signatureCount++;
    return [rsaSignDigestInfo(this.privateKey, data), SW_OK];
  }
}

/**
 * Makes a virtual HCA card (async: it issues its certificates from the test
 * PKI and reads its private key). Cheap after the first card: the PKI and its
 * shared holder key are memoised.
 */
export async function createVirtualHcaCard(options: VirtualHcaCardOptions = {}): Promise<VirtualHcaCard> {
  const behaviour = options.behaviour ?? 'iso';
  if (behaviour !== 'iso' && behaviour !== 'gpki-sibling') fail("behaviour must be 'iso' or 'gpki-sibling'.");
  const profile = options.profile ?? (behaviour === 'gpki-sibling' ? HCA_GPKI_SIBLING_PROFILE : HCA_PROFILE);
  const kind = options.kind ?? 'personnel';
  if (kind !== 'personnel' && kind !== 'institution') fail("kind must be 'personnel' or 'institution'.");
  const version = options.version ?? 2;
  if (version !== 1 && version !== 2) fail('version must be 1 or 2.');
  const defaults = VIRTUAL_HCA_DEFAULTS[kind];
  const cardNumber = options.cardNumber ?? VIRTUAL_HCA_DEFAULTS.cardNumber;
  if (!/^\d{12}$/.test(cardNumber)) fail('cardNumber must be 12 digits (the part after "GH").');
  const holderName = options.holderName ?? defaults.holderName;
  const idNumber = options.idNumber ?? defaults.idNumber;
  const category = options.category ?? defaults.category;
  for (const [what, value] of [['holderName', holderName], ['idNumber', idNumber], ['category', category]] as const) {
    if (value.length === 0 || value.includes('|')) fail(`${what} must be non-empty and must not contain "|".`);
  }

  const pinMin = profile.pin.minLength.value;
  const pinMax = profile.pin.maxLength.value;
  const pinEncoding = profile.pin.encoding.value;
  const pukEncoding = profile.puk.encoding.value;
  const pin = options.pin ?? VIRTUAL_HCA_DEFAULTS.pin;
  const puk = options.puk ?? VIRTUAL_HCA_DEFAULTS.puk;
  // The option values are test data (never real PINs), but stay out of messages anyway.
  const pinCharset = pinCharsetOf(profile);
  const pinOk = [...pin].every((c) => pinCharAllowed(c.charCodeAt(0), pinCharset));
  if (!pinOk || pin.length < pinMin || pin.length > pinMax) fail(`pin must be ${pinMin} to ${pinMax} ${pinCharset === 'digits' ? 'digits' : 'letters or digits'}.`);
  if (!/^\d+$/.test(puk) || puk.length !== profile.puk.length.value) fail(`puk must be ${profile.puk.length.value} digits.`);
  const pinMaxTries = profile.pin.maxTries.value;
  const pukMaxTries = options.pukMaxTries ?? VIRTUAL_HCA_DEFAULTS.pukMaxTries;
  const tries = (value: number | undefined, max: number, what: string): number | undefined => {
    if (value === undefined) return undefined;
    if (!Number.isInteger(value) || value < 0 || value > max) fail(`${what} must be an integer from 0 to ${max}.`);
    return value;
  };
  if (!Number.isInteger(pukMaxTries) || pukMaxTries < 1 || pukMaxTries > 15) fail('pukMaxTries must be an integer from 1 to 15.');
  if (!Number.isInteger(pinMaxTries) || pinMaxTries < 1 || pinMaxTries > 15) fail('The profile pin.maxTries must be 1 to 15.');
  const pinTriesLeft = options.locked ? 0 : tries(options.pinTriesLeft, pinMaxTries, 'pinTriesLeft');
  const pukTriesLeft = options.pukBlocked ? 0 : tries(options.pukTriesLeft, pukMaxTries, 'pukTriesLeft');
  const padding = options.certificatePadding ?? 0;
  if (!Number.isInteger(padding) || padding < 0 || padding > 4096) fail('certificatePadding must be an integer from 0 to 4096.');

  const pki = options.pki ?? (await createTestPki({ profile }));
  const holderKeys = options.holderKeys === 'fresh' ? await pki.generateHolderKeys() : (options.holderKeys ?? pki.holderKeys);
  const privateKey = await rsaPrivateKey(holderKeys.privateKey);

  const DAY = 86_400_000;
  const today = Math.floor(Date.now() / DAY) * DAY;
  const notBefore = options.notBefore ?? new Date(options.expired ? today - 6 * 365 * DAY : today - 365 * DAY);
  const notAfter = options.notAfter ?? new Date(options.expired ? today - 365 * DAY : notBefore.getTime() + 5 * 365 * DAY);
  const request = { holderName, idNumber, cardNumber, kind, notBefore, notAfter, publicKey: holderKeys.publicKey } as const;
  const signature = await pki.issue(request);
  const encryption = version === 2 ? await pki.issue({ ...request, usage: 'encryption' }) : undefined;
  const certificates: VirtualHcaCertificates = { ca: pki.ca.der, signature };
  if (encryption) certificates.encryption = encryption;
  if (version === 2) certificates.root = pki.root.der;

  const pad = (der: Uint8Array): Uint8Array => (padding === 0 ? der.slice() : concatBytes(der, new Uint8Array(padding).fill(0xff)));
  const files = profile.files;
  const certFids = files.certificates.value;
  const certData: Array<[Uint8Array, string] | undefined> = [
    [certificates.ca, 'certificate 0: HCA CA'],
    [signature.der, 'certificate 1: signature'],
    encryption ? [encryption.der, 'certificate 2: encryption'] : undefined,
    certificates.root ? [certificates.root, 'certificate 3: GRCA root'] : undefined,
  ];
  const efs: VirtualEfSpec[] = [
    {
      type: 'ef',
      fid: files.cardInfo.value.fid,
      data: ascii(`GH${cardNumber}|${yyyymmdd(notBefore)}|${yyyymmdd(notAfter)}`),
      description: 'card info',
    },
    { type: 'ef', fid: files.basicData.value.fid, data: utf8(`${holderName}|${idNumber}|${category}`), description: 'basic data' },
  ];
  certData.forEach((entry, i) => {
    if (entry) efs.push({ type: 'ef', fid: certFids[i]!, data: pad(entry[0]), description: entry[1] });
  });
  const usedFids = new Set([0x3f00, files.serialNumber.value.fid, ...efs.map((e) => e.fid)]);
  const application = profile.application?.value;
  let dfFid = 0x4843;
  if (application?.selectBy === 'fid' && application.fid !== undefined) {
    dfFid = application.fid;
    if (usedFids.has(dfFid)) fail(`The application DF's FID ${dfFid.toString(16)} is used by a file of the profile.`);
  } else {
    while (usedFids.has(dfFid)) dfFid++;
  }
  const fileSystem: VirtualDfSpec = {
    type: 'df',
    fid: 0x3f00,
    children: [
      {
        type: 'ef',
        fid: files.serialNumber.value.fid,
        data: ascii(options.serialNumber ?? `VHCA${cardNumber.slice(-8)}`),
        description: 'serial number',
      },
      { type: 'df', fid: dfFid, aid: fromHex(profile.aid.value), description: 'HCA application', children: efs },
    ],
  };

  const acceptPin = (value: Uint8Array): boolean => {
    const n = pinBlockDigits(value, pinEncoding, pinCharset);
    return n >= pinMin && n <= pinMax;
  };
  const card = new VirtualHcaCard({
    base: {
      atr: options.atr ?? (options.ifsc === undefined ? HCA_ATR : hcaAtrWithIfsc(options.ifsc)),
      label: options.label ?? `virtual HCA ${kind} card`,
      challengeSeed: options.challengeSeed ?? 0x48434132,
      fileSystem,
      pins: [
        {
          reference: profile.pin.reference.value,
          value: encodePinBlock(pin, pinEncoding),
          maxTries: pinMaxTries,
          ...(pinTriesLeft === undefined ? {} : { triesLeft: pinTriesLeft }),
          pukReference: profile.puk.reference.value,
          acceptValue: acceptPin,
        },
        {
          reference: profile.puk.reference.value,
          value: encodePinBlock(puk, pukEncoding),
          maxTries: pukMaxTries,
          ...(pukTriesLeft === undefined ? {} : { triesLeft: pukTriesLeft }),
          acceptValue: () => false,
        },
      ],
    },
    profile,
    pki,
    holderKeys,
    privateKey,
    kind,
    version,
    behaviour,
    cardNumber,
    holderName,
    certificates,
  });
  return card;
}
