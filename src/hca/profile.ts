/**
 * The HCA card profile with its evidence: `HCA_PROFILE` is the default profile's values
 * (./profile-data.ts, what the card operations read) with, for every field, where it comes from
 * (`source`: the public source of a confirmed value, or why an assumed default), and the public
 * facts of the vendor middleware (docs/design.md §5.1). The evidence is for people: the probe
 * report and its profile overrides, the CLI, docs/hca-profile.md. The types, the values and the PIN
 * rule helpers are in ./profile-data.ts and exported here too.
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
import {
  deepFreeze,
  HCA_GPKI_SIBLING_VALUES,
  HCA_PROFILE_VALUES,
  type HcaMiddlewareFacts,
  type HcaProfile,
  type HcaProfileValues,
} from './profile-data.js';

export * from './profile-data.js';

/**
 * The evidence of a profile: for each field of the values (same paths), its `source`. A field
 * whose source is missing here makes `withEvidence` throw, so no field goes without one.
 */
type Sources<T> = T extends { status: unknown } ? string : T extends object ? { [K in keyof T]?: Sources<T[K]> } : never;

/** `values` with the `source` of each field from `sources`, and the middleware facts; frozen (see `deepFreeze`). */
function withEvidence(values: HcaProfileValues, sources: Sources<Omit<HcaProfileValues, 'middleware'>>, middleware: HcaMiddlewareFacts): HcaProfile {
  const add = (node: unknown, src: unknown, path: string): unknown => {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return node;
    const o = node as Record<string, unknown>;
    if ('status' in o) {
      if (typeof src !== 'string') throw new Error(`HCA profile evidence: no source for ${path}.`);
      return { ...o, source: src };
    }
    const s = (src ?? {}) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, add(v, s[k], path ? `${path}.${k}` : k)]));
  };
  return deepFreeze({ ...(add(values, sources, '') as Omit<HcaProfile, 'middleware'>), middleware });
}

const ISO = 'ISO/IEC 7816-4 default; the HCA card layout is not public';

/** Where the facts of the HCA middleware come from (docs/design.md §5.1). */
const MIDDLEWARE =
  "The HCA middleware's public JavaScript interface (HCA deployments' pages over HCAPKCS11.dll, the HCA's own PKCS#11 module), docs/design.md §5.1";

/** The public facts of the vendor middleware, each with its source. */
const HCA_MIDDLEWARE: HcaMiddlewareFacts = {
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
};

/** Where each value of the default profile comes from. */
const HCA_SOURCES: Sources<Omit<HcaProfileValues, 'middleware'>> = {
  atrs: 'Public ATR lists (pcsc-tools smartcard_list) and docs/design.md §5',
  aid: 'Taiwan national RID D158 + "HCA"; the real AID is not public',
  application: 'ISO/IEC 7816-4 SELECT by DF name, as for any Java Card applet; the HCA card applet AID is not public',
  commandClass: 'ISO/IEC 7816-4 interindustry class; the sibling cards of the government PKI use 0x80 (docs/design.md §5.1), nothing public says which the HCA card takes',
  files: {
    cardInfo: ISO,
    basicData: ISO,
    certificates: 'The order (0 CA, 1 signature, 2 encryption, 3 root) is confirmed by the vendor middleware API (middleware.certificates); the file IDs are assumed',
    serialNumber: 'EF.GDO-like location under the MF (ISO 7816-4 / PKCS#15 practice)',
  },
  pin: {
    reference: 'Specific (DF-local) reference 1; the real VERIFY P2 is not public',
    minLength: 'HCA unlock guide (PIN of 6 to 8 characters) and a government site\'s PIN check (pinRule)',
    maxLength: 'HCA unlock guide (PIN of 6 to 8 characters) and a government site\'s PIN check (pinRule)',
    encoding: 'ASCII padded with FF to 8 bytes, the usual JCOP/PKCS#15 choice; not public (the sibling cards pad to 10 bytes and wrap it)',
    maxTries: 'HCA unlock guide: the card locks after 3 wrong PINs',
    statusMethod: 'ISO 7816-4 §11.5.6: VERIFY with no data returns 63Cx without spending a try',
    protection: 'ISO 7816-4 VERIFY with the PIN block in clear; nothing public shows that the HCA card takes it, and its sibling cards refuse it (docs/design.md §5.1)',
  },
  pinRule: "A government site's PIN check for the HCA card allows 6 to 8 letters and digits (special characters allowed since 2020, not accepted here); the seed's unlock page asks for 6 digits (docs/design.md §5.1)",
  puk: {
    reference: 'Specific reference 2; not public',
    length: 'HCA unlock guide: the PUK (解鎖碼) has 8 digits',
    encoding: 'Same encoding as the PIN; not public',
    protection: 'Same as the PIN; not public',
  },
  unblock: 'The middleware does "PUK login, then set a new PIN" (middleware.unblock); ISO 7816-4 RESET RETRY COUNTER P1=00 does both in one command',
  signing: {
    keyReference: 'Key 1 signs (confirmed by the middleware API, middleware.keys); its card reference is assumed',
    method: 'ISO 7816-8 MSE SET + PSO COMPUTE DIGITAL SIGNATURE; not public (the sibling cards use a proprietary raw RSA command)',
    algorithmReference: 'Common reference for RSA PKCS#1 v1.5 with a host-computed DigestInfo',
    input: 'PKCS#1 v1.5 needs the DigestInfo; hashing on the host',
    hash: 'HCA 2.0 cards sign with RSA 2048 + SHA-256 (SHA-1 on old cards)',
    keyBits: 'HCA key upgrade to 2048 bits (HCA site)',
  },
  oids: {
    personnelCard: 'HCA certificate policy: 醫事人員憑證 OID',
    institutionCard: 'HCA certificate policy: 醫事機構憑證 OID',
  },
};

/** The default profile: the public facts, and ISO 7816-4 defaults for the rest, each with its source. */
export const HCA_PROFILE: HcaProfile = withEvidence(HCA_PROFILE_VALUES, HCA_SOURCES, HCA_MIDDLEWARE);

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
export const HCA_GPKI_SIBLING_PROFILE: HcaProfile = withEvidence(
  HCA_GPKI_SIBLING_VALUES,
  {
    ...HCA_SOURCES,
    application: `${SIBLING}: a PKCS#15-like DF 5030`,
    commandClass: `${SIBLING}: proprietary class 0x80 for SELECT and READ BINARY`,
    pin: {
      ...HCA_SOURCES.pin,
      encoding: `${SIBLING}: the PIN in ASCII padded with FF to 10 bytes, before wrapping`,
      protection: `${SIBLING}: the PIN block is wrapped with 3DES (older cards) or sent under a GlobalPlatform secure channel (newer cards); a plain VERIFY is refused and may cost a try. Not implementable without the vendor's keys, which this project never holds`,
    },
    puk: {
      ...HCA_SOURCES.puk,
      encoding: `${SIBLING}: as the PIN`,
      protection: `${SIBLING}: as the PIN; not implementable without the vendor's keys`,
    },
  },
  HCA_MIDDLEWARE,
);

/**
 * The candidate profiles, in the order `HcaCard.open` tries them (when no profile is given): the
 * first whose SELECT of the application the card accepts is used. Only harmless commands decide
 * (SELECT of a DF, with each candidate's class byte); no PIN is involved.
 */
export const HCA_PROFILE_CANDIDATES: readonly HcaProfile[] = deepFreeze([HCA_PROFILE, HCA_GPKI_SIBLING_PROFILE]);

