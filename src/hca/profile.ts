/**
 * The HCA card profile: everything the card operations need to know about
 * the card, as data. Each field says whether it is `confirmed` (with the
 * source) or `assumed` (with why this default). Where nothing is public the
 * default is the standard ISO/IEC 7816-4 command (docs/design.md §5); the public facts of the
 * vendor middleware (docs/design.md §5.1: what each certificate index, key and data field means,
 * the PIN rule, the middleware's error codes) are in `middleware` and `pinRule`, each with the
 * source described in words.
 *
 * Several candidate profiles (`HCA_PROFILE_CANDIDATES`): the ISO 7816-4 default, and a "GPKI
 * sibling" shaped like the other cards of Taiwan's government PKI (class 0x80, DF 5030, a wrapped
 * VERIFY). `HcaCard.open` picks the one whose harmless SELECT the card answers. A profile whose
 * PIN-carrying fields are `assumed` never spends a PIN try on a guess: see src/hca/pin-guard.ts.
 *
 * To correct the profile for a real card (after `npx webccid probe`), pass a
 * modified copy to the operations: `HcaCard.open(channel, { profile })`. No
 * code changes are needed for any value here; the enumerated choices
 * (`encoding`, `method`) name the variants the operations implement.
 */

export type Provenance = 'confirmed' | 'assumed';

/** One profile value with where it comes from. */
export interface ProfileField<T> {
  value: T;
  status: Provenance;
  /** For confirmed values: the public source. For assumed ones: why this default. */
  source: string;
}

export interface PinEncoding {
  /** 'ascii': digit '1' = 0x31; 'bcd': two digits a byte. */
  encoding: 'ascii' | 'bcd';
  /** Bytes of the PIN block in the APDU; the PIN is left-justified and padded with `padByte`. */
  blockLength: number;
  padByte: number;
}

/**
 * How the PIN block travels in VERIFY / CHANGE REFERENCE DATA / RESET RETRY COUNTER:
 * - 'plain': as is, the ISO/IEC 7816-4 command data;
 * - 'vendor-wrapped': encrypted under the vendor's keys (3DES, or a GlobalPlatform secure channel)
 *   as the sibling cards of the government PKI do. NOT implementable here: this project never
 *   holds a vendor's secret keys, so PIN operations on such a profile are refused
 *   (`hca/profile-unconfirmed`) before anything is sent.
 */
export type PinProtection = 'plain' | 'vendor-wrapped';

/**
 * The characters a PIN may have: 'digits' (0-9) or 'letters-and-digits' (A-Z, a-z, 0-9; letters
 * are case-sensitive and sent as their ASCII bytes, so they need the 'ascii' PIN encoding). A
 * reader's pinpad has digit keys only, whatever this says.
 */
export type PinCharset = 'digits' | 'letters-and-digits';

/**
 * The PIN rule a holder's PIN follows (what the screens accept). Flat: its own status and source.
 * `charset` 'letters-and-digits' = ASCII 0-9, A-Z, a-z (`pattern` is the same as a regular
 * expression source).
 */
export interface PinRule {
  minLength: number;
  maxLength: number;
  charset: PinCharset;
  pattern: string;
  status: Provenance;
  source: string;
}

/** One data field the vendor middleware returns (docs/design.md §5.1). */
export interface MiddlewareDataField {
  /** Our name for it. */
  name: string;
  /** What it holds (English, with the Chinese term where the middleware documents one). */
  label: string;
  /** 'roc-date': 7-digit ROC date YYYMMDD (see `rocDateToIso`); 'flag': activated / terminated. */
  kind?: 'roc-date' | 'flag';
}

/** The public facts of the vendor middleware's logical interface: what the card holds, not its bytes. */
export interface HcaMiddlewareFacts {
  /** The middleware's card type numbers: HOP (institution) = 0, HPC (personnel) = 1. */
  cardTypes: ProfileField<{ institution: { name: string; type: number }; personnel: { name: string; type: number } }>;
  /** Certificate indexes: 0 CA, 1 signing, 2 encryption, 3 GRCA root (version 1 cards lack 2 and 3). */
  certificates: ProfileField<Array<{ index: number; content: string }>>;
  /** Key handles: "1" signs, "2" decrypts. */
  keys: ProfileField<{ sign: string; decrypt: string }>;
  /** How the middleware unblocks the PIN. */
  unblock: ProfileField<string>;
  /** Basic data of a personnel card (HPC), readable without a PIN. */
  personnelBasicData: ProfileField<MiddlewareDataField[]>;
  /** Basic data of an institution card (HOP), readable without a PIN. */
  institutionBasicData: ProfileField<MiddlewareDataField[]>;
  /** Card information, readable without a PIN; dates are 7-digit ROC dates. */
  cardInfo: ProfileField<MiddlewareDataField[]>;
  /** The middleware's error codes that are public, and the webccid code for the same condition. */
  errorCodes: ProfileField<Array<{ code: number; meaning: string; webccid: string }>>;
  /** The error classes the middleware distinguishes (no public code), and the webccid code for each. */
  errorClasses: ProfileField<Array<{ meaning: string; webccid: string }>>;
  /** Code page of the certificate names in the middleware's sample. */
  nameEncoding: ProfileField<string>;
}

export interface HcaProfile {
  /** Profile name and version, recorded in traces. */
  id: string;
  /** Known ATRs (hex, spaces allowed). A card whose ATR is not here is still tried with SELECT. */
  atrs: ProfileField<Array<{ hex: string; description: string }>>;
  /** AID of the HCA application (SELECT by DF name, when `application.selectBy` is 'aid'). */
  aid: ProfileField<string>;
  /** How the application DF is selected: by the AID, or by a file ID (P1 00). */
  application: ProfileField<{ selectBy: 'aid' | 'fid'; fid?: number }>;
  /** Class byte (CLA) of SELECT and READ BINARY: 0x00 interindustry, 0x80 proprietary. */
  commandClass: ProfileField<number>;
  files: {
    /** EF with the card number ("GH" + 12 digits) and validity. */
    cardInfo: ProfileField<{ fid: number; format: 'pipe-separated' }>;
    /** EF with basic data readable without a PIN: name, ID number, category. */
    basicData: ProfileField<{ fid: number; format: 'pipe-separated' }>;
    /** EFs of certificates 0..3: HCA CA, signature, encryption, GRCA root (v1 cards lack 2 and 3). */
    certificates: ProfileField<[number, number, number, number]>;
    /** EF with the card serial number, under the MF. */
    serialNumber: ProfileField<{ fid: number }>;
  };
  pin: {
    /** VERIFY P2 of the user PIN. */
    reference: ProfileField<number>;
    minLength: ProfileField<number>;
    maxLength: ProfileField<number>;
    /** What characters a PIN may have (screen entry; see `PinCharset`). Absent in older profiles: 'digits'. */
    charset?: ProfileField<PinCharset>;
    encoding: ProfileField<PinEncoding>;
    /** Wrong PINs before the card locks. */
    maxTries: ProfileField<number>;
    /** How to read the retry counter without spending a try. */
    statusMethod: ProfileField<'verify-without-data'>;
    /** How the PIN block travels (see `PinProtection`). */
    protection: ProfileField<PinProtection>;
  };
  /** The PIN rule of the holder's PIN (6 to 8 letters and digits). */
  pinRule: PinRule;
  puk: {
    reference: ProfileField<number>;
    length: ProfileField<number>;
    encoding: ProfileField<PinEncoding>;
    protection: ProfileField<PinProtection>;
  };
  /**
   * How the PIN is unblocked with the PUK:
   * - 'reset-retry-counter': RESET RETRY COUNTER (2C) P1=00, data = PUK || new PIN;
   * - 'verify-puk-then-reset': VERIFY the PUK reference, then 2C P1=02 with the new PIN.
   */
  unblock: ProfileField<{ method: 'reset-retry-counter' | 'verify-puk-then-reset' }>;
  signing: {
    /** Private key that signs (key 1). */
    keyReference: ProfileField<number>;
    /**
     * 'pso-cds': MSE SET (00 22 41 B6, 84 = key ref, 80 = algorithm ref) then
     * PSO COMPUTE DIGITAL SIGNATURE (00 2A 9E 9A) with the DigestInfo;
     * 'internal-authenticate': INTERNAL AUTHENTICATE (00 88 00 keyRef) with the DigestInfo.
     */
    method: ProfileField<'pso-cds' | 'internal-authenticate'>;
    /** MSE algorithm reference (tag 80) for RSA PKCS#1 v1.5 over a DigestInfo. */
    algorithmReference: ProfileField<number>;
    /** What the card is given: the DER DigestInfo (hash computed on the host). */
    input: ProfileField<'digest-info'>;
    hash: ProfileField<'SHA-256'>;
    keyBits: ProfileField<number>;
  };
  oids: {
    personnelCard: ProfileField<string>;
    institutionCard: ProfileField<string>;
  };
  /** Public facts of the vendor middleware (docs/design.md §5.1). */
  middleware: HcaMiddlewareFacts;
}

const ISO = 'ISO/IEC 7816-4 default; the HCA card layout is not public';

/** Where the facts of the HCA middleware come from (docs/design.md §5.1). */
const MIDDLEWARE =
  "The HCA middleware's public JavaScript interface (HCA deployments' pages over HCAPKCS11.dll, the HCA's own PKCS#11 module), docs/design.md §5.1";

/** The default profile: the public facts, and ISO 7816-4 defaults for the rest. */
export const HCA_PROFILE: HcaProfile = {
  id: 'hca-default-2026.1',
  atrs: {
    value: [{ hex: '3B F9 18 00 00 81 31 FE 45 50 56 5F 4A 32 44 30 38 31 B6', description: 'HCA personnel card (NXP JCOP, "PV_J2D081")' }],
    status: 'confirmed',
    source: 'Public ATR lists (pcsc-tools smartcard_list) and docs/design.md §5',
  },
  aid: { value: 'D1 58 00 00 01 48 43 41', status: 'assumed', source: 'Taiwan national RID D158 + "HCA"; the real AID is not public' },
  application: { value: { selectBy: 'aid' }, status: 'assumed', source: 'ISO/IEC 7816-4 SELECT by DF name, as for any Java Card applet; the HCA card applet AID is not public' },
  commandClass: {
    value: 0x00,
    status: 'assumed',
    source: 'ISO/IEC 7816-4 interindustry class; the sibling cards of the government PKI use 0x80 (docs/design.md §5.1), nothing public says which the HCA card takes',
  },
  files: {
    cardInfo: { value: { fid: 0x0002, format: 'pipe-separated' }, status: 'assumed', source: ISO },
    basicData: { value: { fid: 0x0001, format: 'pipe-separated' }, status: 'assumed', source: ISO },
    certificates: {
      value: [0x0010, 0x0011, 0x0012, 0x0013],
      status: 'assumed',
      source: 'The order (0 CA, 1 signature, 2 encryption, 3 root) is confirmed by the vendor middleware API (middleware.certificates); the file IDs are assumed',
    },
    serialNumber: { value: { fid: 0x2f02 }, status: 'assumed', source: 'EF.GDO-like location under the MF (ISO 7816-4 / PKCS#15 practice)' },
  },
  pin: {
    reference: { value: 0x81, status: 'assumed', source: 'Specific (DF-local) reference 1; the real VERIFY P2 is not public' },
    minLength: { value: 6, status: 'confirmed', source: 'HCA unlock guide (PIN of 6 to 8 characters) and a government site\'s PIN check (pinRule)' },
    maxLength: { value: 8, status: 'confirmed', source: 'HCA unlock guide (PIN of 6 to 8 characters) and a government site\'s PIN check (pinRule)' },
    encoding: {
      value: { encoding: 'ascii', blockLength: 8, padByte: 0xff },
      status: 'assumed',
      source: 'ASCII padded with FF to 8 bytes, the usual JCOP/PKCS#15 choice; not public (the sibling cards pad to 10 bytes and wrap it)',
    },
    maxTries: { value: 3, status: 'confirmed', source: 'HCA unlock guide: the card locks after 3 wrong PINs' },
    statusMethod: { value: 'verify-without-data', status: 'assumed', source: 'ISO 7816-4 §11.5.6: VERIFY with no data returns 63Cx without spending a try' },
    protection: {
      value: 'plain',
      status: 'assumed',
      source: 'ISO 7816-4 VERIFY with the PIN block in clear; nothing public shows that the HCA card takes it, and its sibling cards refuse it (docs/design.md §5.1)',
    },
  },
  pinRule: {
    minLength: 6,
    maxLength: 8,
    charset: 'letters-and-digits',
    pattern: '^[0-9A-Za-z]{6,8}$',
    status: 'confirmed',
    source:
      "A government site's PIN check for the HCA card allows 6 to 8 letters and digits (special characters allowed since 2020, not accepted here); the seed's unlock page asks for 6 digits (docs/design.md §5.1)",
  },
  puk: {
    reference: { value: 0x82, status: 'assumed', source: 'Specific reference 2; not public' },
    length: { value: 8, status: 'confirmed', source: 'HCA unlock guide: the PUK (解鎖碼) has 8 digits' },
    encoding: {
      value: { encoding: 'ascii', blockLength: 8, padByte: 0xff },
      status: 'assumed',
      source: 'Same encoding as the PIN; not public',
    },
    protection: { value: 'plain', status: 'assumed', source: 'Same as the PIN; not public' },
  },
  unblock: {
    value: { method: 'reset-retry-counter' },
    status: 'assumed',
    source: 'The middleware does "PUK login, then set a new PIN" (middleware.unblock); ISO 7816-4 RESET RETRY COUNTER P1=00 does both in one command',
  },
  signing: {
    keyReference: { value: 0x01, status: 'assumed', source: 'Key 1 signs (confirmed by the middleware API, middleware.keys); its card reference is assumed' },
    method: { value: 'pso-cds', status: 'assumed', source: 'ISO 7816-8 MSE SET + PSO COMPUTE DIGITAL SIGNATURE; not public (the sibling cards use a proprietary raw RSA command)' },
    algorithmReference: { value: 0x02, status: 'assumed', source: 'Common reference for RSA PKCS#1 v1.5 with a host-computed DigestInfo' },
    input: { value: 'digest-info', status: 'assumed', source: 'PKCS#1 v1.5 needs the DigestInfo; hashing on the host' },
    hash: { value: 'SHA-256', status: 'confirmed', source: 'HCA 2.0 cards sign with RSA 2048 + SHA-256 (SHA-1 on old cards)' },
    keyBits: { value: 2048, status: 'confirmed', source: 'HCA key upgrade to 2048 bits (HCA site)' },
  },
  oids: {
    personnelCard: { value: '2.16.886.1.100.3.1.7', status: 'confirmed', source: 'HCA certificate policy: 醫事人員憑證 OID' },
    institutionCard: { value: '2.16.886.1.100.3.2.21', status: 'confirmed', source: 'HCA certificate policy: 醫事機構憑證 OID' },
  },
  middleware: {
    cardTypes: {
      value: { institution: { name: 'HOP', type: 0 }, personnel: { name: 'HPC', type: 1 } },
      status: 'confirmed',
      source: MIDDLEWARE,
    },
    certificates: {
      value: [
        { index: 0, content: 'HCA CA certificate' },
        { index: 1, content: 'holder signing certificate' },
        { index: 2, content: 'holder encryption certificate (absent on version 1 cards)' },
        { index: 3, content: 'GRCA root certificate (absent on version 1 cards)' },
      ],
      status: 'confirmed',
      source: `${MIDDLEWARE}: index 0 CA, 1 signing, 2 encryption; index 3 and the version 1 cards lacking 2 and 3 from the same middleware's documentation (docs/design.md §5)`,
    },
    keys: { value: { sign: '1', decrypt: '2' }, status: 'confirmed', source: `${MIDDLEWARE}: key handle "1" signs, "2" decrypts` },
    unblock: {
      value: 'PKCS#11 SO login with the PUK, then set a new user PIN',
      status: 'confirmed',
      source: MIDDLEWARE,
    },
    personnelBasicData: {
      value: [
        { name: 'chineseName', label: 'Chinese name' },
        { name: 'englishName', label: 'English name' },
        { name: 'sex', label: 'sex' },
        { name: 'birthDate', label: 'birth date' },
        { name: 'idNumber', label: 'ID number' },
        { name: 'category', label: 'professional category (醫事人員類別)' },
      ],
      status: 'confirmed',
      source: `${MIDDLEWARE}: HPC basic data; readable without a PIN. How the card stores it is not public`,
    },
    institutionBasicData: {
      value: [
        { name: 'institutionCode', label: 'institution code' },
        { name: 'institutionName', label: 'institution name' },
        { name: 'cardIssueNumber', label: 'card issue number' },
        { name: 'institutionKind', label: 'institution kind' },
        { name: 'institutionType', label: 'institution type' },
        { name: 'address', label: 'address' },
        { name: 'phone', label: 'phone' },
        { name: 'owner', label: 'owner' },
      ],
      status: 'confirmed',
      source: `${MIDDLEWARE}: HOP basic data; readable without a PIN. How the card stores it is not public`,
    },
    cardInfo: {
      value: [
        { name: 'keyGeneration', label: 'key generation capability' },
        { name: 'issueDate', label: 'issue date', kind: 'roc-date' },
        { name: 'validFrom', label: 'validity start', kind: 'roc-date' },
        { name: 'validTo', label: 'validity end', kind: 'roc-date' },
        { name: 'activated', label: 'activated', kind: 'flag' },
        { name: 'terminated', label: 'terminated', kind: 'flag' },
      ],
      status: 'confirmed',
      source: `${MIDDLEWARE}: card info; the dates are 7-digit ROC dates YYYMMDD (year + 1911, converted by rocDateToIso)`,
    },
    errorCodes: {
      value: [
        { code: 9039, meaning: 'wrong PIN', webccid: 'apdu/pin-incorrect' },
        { code: 9043, meaning: 'PIN locked', webccid: 'apdu/pin-blocked' },
      ],
      status: 'confirmed',
      source: `${MIDDLEWARE}: middleware error codes`,
    },
    errorClasses: {
      value: [
        { meaning: 'wrong PIN', webccid: 'apdu/pin-incorrect' },
        { meaning: 'bad PIN length', webccid: 'hca/bad-pin-format' },
        { meaning: 'PIN locked: go to the HCA site to unlock', webccid: 'apdu/pin-blocked' },
        { meaning: 'not an HCA card', webccid: 'hca/not-hca-card' },
      ],
      status: 'confirmed',
      source: 'The error classes the vendor middleware documents (docs/design.md §5); their numeric codes other than 9039 and 9043 are not public',
    },
    nameEncoding: { value: 'MS950 (Big5)', status: 'confirmed', source: `${MIDDLEWARE}: the sample decodes certificate names with code page MS950` },
  },
};

const SIBLING = 'Sibling cards on the same government PKI (MOICA citizen card, MOEACA business card, Chunghwa Telecom HiCOS card OS), public reverse-engineered PKCS#11 code checked against real cards (docs/design.md §5.1)';

/**
 * The "GPKI sibling" candidate: an HCA card shaped like its siblings on the government PKI
 * (HiCOS-like): class 0x80 for SELECT / READ BINARY, the application in DF 5030, the PIN as ASCII
 * padded with FF to 10 bytes and then wrapped under the vendor's keys. Everything about the HCA
 * card here is assumed: the candidate exists so that a card answering this way is recognised and
 * its PIN is never sent in a form it would refuse (and may count as a wrong try). PIN operations on
 * it are refused with `hca/profile-unconfirmed` (`pin.protection` is 'vendor-wrapped'); reading
 * what needs no PIN works.
 */
export const HCA_GPKI_SIBLING_PROFILE: HcaProfile = {
  ...HCA_PROFILE,
  id: 'hca-candidate-gpki-sibling-2026.1',
  application: { value: { selectBy: 'fid', fid: 0x5030 }, status: 'assumed', source: `${SIBLING}: a PKCS#15-like DF 5030` },
  commandClass: { value: 0x80, status: 'assumed', source: `${SIBLING}: proprietary class 0x80 for SELECT and READ BINARY` },
  pin: {
    ...HCA_PROFILE.pin,
    encoding: { value: { encoding: 'ascii', blockLength: 10, padByte: 0xff }, status: 'assumed', source: `${SIBLING}: the PIN in ASCII padded with FF to 10 bytes, before wrapping` },
    protection: {
      value: 'vendor-wrapped',
      status: 'assumed',
      source: `${SIBLING}: the PIN block is wrapped with 3DES (older cards) or sent under a GlobalPlatform secure channel (newer cards); a plain VERIFY is refused and may cost a try. Not implementable without the vendor's keys, which this project never holds`,
    },
  },
  puk: {
    ...HCA_PROFILE.puk,
    encoding: { value: { encoding: 'ascii', blockLength: 10, padByte: 0xff }, status: 'assumed', source: `${SIBLING}: as the PIN` },
    protection: { value: 'vendor-wrapped', status: 'assumed', source: `${SIBLING}: as the PIN; not implementable without the vendor's keys` },
  },
};

/**
 * The candidate profiles, in the order `HcaCard.open` tries them (when no profile is given): the
 * first whose SELECT of the application the card accepts is used. Only harmless commands decide
 * (SELECT of a DF, with each candidate's class byte); no PIN is involved.
 */
export const HCA_PROFILE_CANDIDATES: readonly HcaProfile[] = [HCA_PROFILE, HCA_GPKI_SIBLING_PROFILE];

/**
 * The characters a PIN may have on `profile`, as the card operations and the screens check it:
 * `pinRule.charset`, but digits only when the PIN block is not ASCII (BCD holds digits only) or
 * the profile has no `pinRule` (profiles written before it).
 */
export function pinCharsetOf(profile: HcaProfile): PinCharset {
  return profile.pinRule?.charset === 'letters-and-digits' && profile.pin.encoding.value.encoding === 'ascii' ? 'letters-and-digits' : 'digits';
}

/** True when `code` (a character code) is allowed by `charset`. */
export function pinCharAllowed(code: number, charset: PinCharset): boolean {
  const digit = code >= 0x30 && code <= 0x39;
  if (charset === 'digits') return digit;
  return digit || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}
