/**
 * The HCA card profile as data the card operations read: its types (`HcaProfile`), the default
 * and candidate profiles' values (`HCA_PROFILE_VALUES`, `HCA_PROFILE_CANDIDATE_VALUES`) and the
 * PIN character rule. Why each value holds (its `source`) and the vendor middleware's public
 * facts are added in ./profile.ts (`HCA_PROFILE`, the profile with its evidence); a page that only
 * runs a card flow (unlock, change PIN) loads this module alone.
 *
 * The profile: everything the card operations need to know about
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

/**
 * `value` frozen, with every object and array in it. The built-in profiles are: `HcaCardBase.open`
 * takes its own candidates without checking them again at run time (the tests check them), so
 * nothing may change them after the tests did (a changed copy is a caller's profile, checked).
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

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

/**
 * A profile as the card operations read it: every field's value and status. The evidence (each
 * field's `source`) and the vendor middleware's facts may be absent: they are for people (the
 * probe report, the CLI, docs/hca-profile.md), and the pages that only run a flow load the
 * profiles without them (`HCA_PROFILE_VALUES`). Every `HcaProfile` is one.
 */
export type HcaProfileValues = Unsourced<Omit<HcaProfile, 'middleware'>> & { middleware?: HcaMiddlewareFacts };

/** `T` with the `source` of each field (a `{ value, status, source }`, or the flat `pinRule`) optional. */
export type Unsourced<T> = T extends { status: Provenance; source: string }
  ? Omit<T, 'source'> & { source?: string }
  : T extends object
    ? { [K in keyof T]: Unsourced<T[K]> }
    : T;

/** The default profile's values: the public facts, and ISO 7816-4 defaults for the rest (their sources: ./profile.ts). */
export const HCA_PROFILE_VALUES: HcaProfileValues = deepFreeze({
  id: 'hca-default-2026.1',
  atrs: {
    value: [{ hex: '3B F9 18 00 00 81 31 FE 45 50 56 5F 4A 32 44 30 38 31 B6', description: 'HCA personnel card (NXP JCOP, "PV_J2D081")' }],
    status: 'confirmed',
  },
  aid: { value: 'D1 58 00 00 01 48 43 41', status: 'assumed' },
  application: { value: { selectBy: 'aid' }, status: 'assumed' },
  commandClass: {
    value: 0x00,
    status: 'assumed',
  },
  files: {
    cardInfo: { value: { fid: 0x0002, format: 'pipe-separated' }, status: 'assumed' },
    basicData: { value: { fid: 0x0001, format: 'pipe-separated' }, status: 'assumed' },
    certificates: {
      value: [0x0010, 0x0011, 0x0012, 0x0013],
      status: 'assumed',
    },
    serialNumber: { value: { fid: 0x2f02 }, status: 'assumed' },
  },
  pin: {
    reference: { value: 0x81, status: 'assumed' },
    minLength: { value: 6, status: 'confirmed' },
    maxLength: { value: 8, status: 'confirmed' },
    encoding: {
      value: { encoding: 'ascii', blockLength: 8, padByte: 0xff },
      status: 'assumed',
    },
    maxTries: { value: 3, status: 'confirmed' },
    statusMethod: { value: 'verify-without-data', status: 'assumed' },
    protection: {
      value: 'plain',
      status: 'assumed',
    },
  },
  pinRule: {
    minLength: 6,
    maxLength: 8,
    charset: 'letters-and-digits',
    pattern: '^[0-9A-Za-z]{6,8}$',
    status: 'confirmed',
  },
  puk: {
    reference: { value: 0x82, status: 'assumed' },
    length: { value: 8, status: 'confirmed' },
    encoding: {
      value: { encoding: 'ascii', blockLength: 8, padByte: 0xff },
      status: 'assumed',
    },
    protection: { value: 'plain', status: 'assumed' },
  },
  unblock: {
    value: { method: 'reset-retry-counter' },
    status: 'assumed',
  },
  signing: {
    keyReference: { value: 0x01, status: 'assumed' },
    method: { value: 'pso-cds', status: 'assumed' },
    algorithmReference: { value: 0x02, status: 'assumed' },
    input: { value: 'digest-info', status: 'assumed' },
    hash: { value: 'SHA-256', status: 'confirmed' },
    keyBits: { value: 2048, status: 'confirmed' },
  },
  oids: {
    personnelCard: { value: '2.16.886.1.100.3.1.7', status: 'confirmed' },
    institutionCard: { value: '2.16.886.1.100.3.2.21', status: 'confirmed' },
  },
});

/**
 * The "GPKI sibling" candidate's values (see `HCA_GPKI_SIBLING_PROFILE` in ./profile.ts): class
 * 0x80, the application in DF 5030, the PIN and PUK padded with FF to 10 bytes and wrapped under
 * the vendor's keys (PIN operations refused with `hca/profile-unconfirmed`).
 */
export const HCA_GPKI_SIBLING_VALUES: HcaProfileValues = deepFreeze({
  ...HCA_PROFILE_VALUES,
  id: 'hca-candidate-gpki-sibling-2026.1',
  application: { value: { selectBy: 'fid', fid: 0x5030 }, status: 'assumed' },
  commandClass: { value: 0x80, status: 'assumed' },
  pin: {
    ...HCA_PROFILE_VALUES.pin,
    encoding: { value: { encoding: 'ascii', blockLength: 10, padByte: 0xff }, status: 'assumed' },
    protection: { value: 'vendor-wrapped', status: 'assumed' },
  },
  puk: {
    ...HCA_PROFILE_VALUES.puk,
    encoding: { value: { encoding: 'ascii', blockLength: 10, padByte: 0xff }, status: 'assumed' },
    protection: { value: 'vendor-wrapped', status: 'assumed' },
  },
});

/** The candidates' values, in the order `HcaCardBase.open` tries them (see `HCA_PROFILE_CANDIDATES`). */
export const HCA_PROFILE_CANDIDATE_VALUES: readonly HcaProfileValues[] = deepFreeze([HCA_PROFILE_VALUES, HCA_GPKI_SIBLING_VALUES]);

/**
 * The characters a PIN may have on `profile`, as the card operations and the screens check it:
 * `pinRule.charset`, but digits only when the PIN block is not ASCII (BCD holds digits only) or
 * the profile has no `pinRule` (profiles written before it).
 */
export function pinCharsetOf(profile: HcaProfileValues): PinCharset {
  return profile.pinRule?.charset === 'letters-and-digits' && profile.pin.encoding.value.encoding === 'ascii' ? 'letters-and-digits' : 'digits';
}

/** True when `code` (a character code) is allowed by `charset`. */
export function pinCharAllowed(code: number, charset: PinCharset): boolean {
  const digit = code >= 0x30 && code <= 0x39;
  if (charset === 'digits') return digit;
  return digit || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}
