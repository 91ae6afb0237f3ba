/**
 * The HCA card profile: everything the card operations need to know about
 * the card, as data. Each field says whether it is `confirmed` (with the
 * source) or `assumed` (with why this default). Where nothing is public the
 * default is the standard ISO/IEC 7816-4 command (DESIGN.md §5).
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
 * The characters a PIN may have: 'digits' (0-9) or 'letters-and-digits' (A-Z, a-z, 0-9; letters
 * are case-sensitive and sent as their ASCII bytes, so they need the 'ascii' encoding). A reader's
 * pinpad has digit keys only, whatever this says.
 */
export type PinCharset = 'digits' | 'letters-and-digits';

/** What a PIN typed on the screen must be (`pinRule(profile)`). */
export interface PinRule {
  minLength: number;
  maxLength: number;
  charset: PinCharset;
}

export interface HcaProfile {
  /** Profile name and version, recorded in traces. */
  id: string;
  /** Known ATRs (hex, spaces allowed). A card whose ATR is not here is still tried with SELECT. */
  atrs: ProfileField<Array<{ hex: string; description: string }>>;
  /** AID of the HCA application (SELECT by DF name). */
  aid: ProfileField<string>;
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
  };
  puk: {
    reference: ProfileField<number>;
    length: ProfileField<number>;
    encoding: ProfileField<PinEncoding>;
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
}

const ISO = 'ISO/IEC 7816-4 default; the HCA card layout is not public';

/** The default profile: the public facts, and ISO 7816-4 defaults for the rest. */
export const HCA_PROFILE: HcaProfile = {
  id: 'hca-default-2026.1',
  atrs: {
    value: [{ hex: '3B F9 18 00 00 81 31 FE 45 50 56 5F 4A 32 44 30 38 31 B6', description: 'HCA personnel card (NXP JCOP, "PV_J2D081")' }],
    status: 'confirmed',
    source: 'Public ATR lists (pcsc-tools smartcard_list) and DESIGN.md §5',
  },
  aid: { value: 'D1 58 00 00 01 48 43 41', status: 'assumed', source: 'Taiwan national RID D158 + "HCA"; the real AID is not public' },
  files: {
    cardInfo: { value: { fid: 0x0002, format: 'pipe-separated' }, status: 'assumed', source: ISO },
    basicData: { value: { fid: 0x0001, format: 'pipe-separated' }, status: 'assumed', source: ISO },
    certificates: {
      value: [0x0010, 0x0011, 0x0012, 0x0013],
      status: 'assumed',
      source: 'The order (0 CA, 1 signature, 2 encryption, 3 root) is confirmed by the vendor middleware API; the file IDs are assumed',
    },
    serialNumber: { value: { fid: 0x2f02 }, status: 'assumed', source: 'EF.GDO-like location under the MF (ISO 7816-4 / PKCS#15 practice)' },
  },
  pin: {
    reference: { value: 0x81, status: 'assumed', source: 'Specific (DF-local) reference 1; the real VERIFY P2 is not public' },
    minLength: { value: 6, status: 'confirmed', source: 'HCA unlock guide (seed hca-unlock-card-flow): PIN of 6 to 8 digits' },
    maxLength: { value: 8, status: 'confirmed', source: 'HCA unlock guide (seed hca-unlock-card-flow): PIN of 6 to 8 digits' },
    charset: {
      value: 'letters-and-digits',
      status: 'confirmed',
      source:
        "A government site's PIN check allows 6 to 8 letters and digits (docs/design.md §5.1; special characters, allowed since 2020, are not modelled); the seed's unlock page asks for 6 digits",
    },
    encoding: {
      value: { encoding: 'ascii', blockLength: 8, padByte: 0xff },
      status: 'assumed',
      source: 'ASCII digits padded with FF to 8 bytes, the usual JCOP/PKCS#15 choice; not public',
    },
    maxTries: { value: 3, status: 'confirmed', source: 'HCA unlock guide: the card locks after 3 wrong PINs' },
    statusMethod: { value: 'verify-without-data', status: 'assumed', source: 'ISO 7816-4 §11.5.6: VERIFY with no data returns 63Cx without spending a try' },
  },
  puk: {
    reference: { value: 0x82, status: 'assumed', source: 'Specific reference 2; not public' },
    length: { value: 8, status: 'confirmed', source: 'HCA unlock guide: the PUK (解鎖碼) has 8 digits' },
    encoding: {
      value: { encoding: 'ascii', blockLength: 8, padByte: 0xff },
      status: 'assumed',
      source: 'Same encoding as the PIN; not public',
    },
  },
  unblock: {
    value: { method: 'reset-retry-counter' },
    status: 'assumed',
    source: 'The middleware does "PUK login, then set a new PIN"; ISO 7816-4 RESET RETRY COUNTER P1=00 does both in one command',
  },
  signing: {
    keyReference: { value: 0x01, status: 'assumed', source: 'Key 1 signs (confirmed by the middleware API); its card reference is assumed' },
    method: { value: 'pso-cds', status: 'assumed', source: 'ISO 7816-8 MSE SET + PSO COMPUTE DIGITAL SIGNATURE; not public' },
    algorithmReference: { value: 0x02, status: 'assumed', source: 'Common reference for RSA PKCS#1 v1.5 with a host-computed DigestInfo' },
    input: { value: 'digest-info', status: 'assumed', source: 'PKCS#1 v1.5 needs the DigestInfo; hashing on the host' },
    hash: { value: 'SHA-256', status: 'confirmed', source: 'HCA 2.0 cards sign with RSA 2048 + SHA-256 (SHA-1 on old cards)' },
    keyBits: { value: 2048, status: 'confirmed', source: 'HCA key upgrade to 2048 bits (HCA site)' },
  },
  oids: {
    personnelCard: { value: '2.16.886.1.100.3.1.7', status: 'confirmed', source: 'HCA certificate policy: 醫事人員憑證 OID' },
    institutionCard: { value: '2.16.886.1.100.3.2.21', status: 'confirmed', source: 'HCA certificate policy: 醫事機構憑證 OID' },
  },
};

/** The PIN rule of a profile: its length bounds and charset ('digits' when the profile has none). */
export function pinRule(profile: HcaProfile = HCA_PROFILE): PinRule {
  return { minLength: profile.pin.minLength.value, maxLength: profile.pin.maxLength.value, charset: profile.pin.charset?.value ?? 'digits' };
}

/** True when `code` (a character code) is allowed by `charset`. */
export function pinCharAllowed(code: number, charset: PinCharset): boolean {
  const digit = code >= 0x30 && code <= 0x39;
  if (charset === 'digits') return digit;
  return digit || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}
