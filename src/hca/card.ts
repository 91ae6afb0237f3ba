/**
 * The HCA card operations over the APDU seam (`CardChannel`): read the card number, basic data,
 * validity, serial number and certificates; PIN status, verify, change and unblock (typed on the
 * host or on the reader's pinpad); sign.
 *
 * Every AID, file ID, reference, encoding and method comes from the profile (`HcaProfile`,
 * default `HCA_PROFILE`): a corrected profile needs no code change. The commands are the ISO/IEC
 * 7816-4 / 7816-8 ones the profile names.
 *
 * Rules kept here (the card locks after 3 wrong PINs):
 * - a PIN / PUK is checked (digits, length from the profile) before anything is sent;
 * - nothing is ever retried automatically (a wrong PIN is reported with the retries left);
 * - the buffers holding the PIN / PUK digits, the PIN blocks and the APDUs carrying them are
 *   zeroed after use. A PIN given as a string cannot be wiped (JavaScript strings are
 *   immutable): pass a Uint8Array of ASCII digits and wipe it yourself to keep no copy;
 * - no PIN / PUK ever goes into an error or a log (this module logs nothing);
 * - never a try spent on a guess (src/hca/pin-guard.ts): while the profile's PIN-carrying fields
 *   are `assumed`, the retry counter is read for free first and must answer as the profile
 *   expects, and once the card refused a PIN-carrying command no second one is sent to it with
 *   that profile (`hca/profile-unconfirmed`); a profile that needs the vendor's keys
 *   (`protection: 'vendor-wrapped'`) sends no PIN at all.
 *
 * Profile choice: without a profile, `open` tries the candidates (`HCA_PROFILE_CANDIDATES`) with
 * a SELECT each and keeps the first the card accepts.
 *
 * State: the card object remembers whether the HCA application is the current DF and selects it
 * again (SELECT by AID) before an application command when another DF was selected (only
 * `readSerialNumber()` does that, since the serial number is under the MF). On a Java Card,
 * selecting the applet again may drop a verified PIN: read the serial number before verifying.
 * After a card reset the channel reports (`channel.resetCount` went up: the Web Smart Card
 * channel counts them and connects again by itself), the application is selected again before
 * the next command; the command that met the reset failed with `smartcard/card-reset` and is not
 * repeated, and a verified PIN is gone (verify again).
 */
import { bytesEqual, concatBytes, fromHex, toHex, wipe } from '../bytes.js';
import { AbortError, ApduError, PinBlockedError, PinIncorrectError } from '../errors.js';
import type { CardChannel, PinBlockFormat, SecurePinModifyRequest, SecurePinVerifyRequest } from '../card/channel.js';
import { encodeApdu, splitResponse, type CommandApdu } from '../iso7816/apdu.js';
import { statusError } from '../iso7816/status.js';
import { HCA_PROFILE, HCA_PROFILE_CANDIDATES, pinCharsetOf, type HcaProfile, type PinEncoding } from './profile.js';
import {
  CLA_INTERINDUSTRY,
  CRT_TAG_ALGORITHM_REFERENCE,
  CRT_TAG_KEY_REFERENCE,
  FID_MASTER_FILE,
  counterOf,
  INS_CHANGE_REFERENCE_DATA,
  INS_INTERNAL_AUTHENTICATE,
  INS_MANAGE_SECURITY_ENVIRONMENT,
  INS_PERFORM_SECURITY_OPERATION,
  INS_READ_BINARY,
  INS_RESET_RETRY_COUNTER,
  INS_SELECT,
  INS_VERIFY,
  isBlocked,
  isCounter,
  MSE_CRT_DIGITAL_SIGNATURE,
  MSE_SET_FOR_COMPUTATION,
  P1_NO_ALGORITHM_INFO,
  P1_NONE,
  PSO_P1_DIGITAL_SIGNATURE,
  PSO_P2_DATA_TO_SIGN,
  RESET_WITH_NEW_PIN,
  RESET_WITH_PUK_AND_NEW_PIN,
  SELECT_BY_DF_NAME,
  SELECT_BY_FILE_ID,
  SELECT_NO_RESPONSE_DATA,
  SELECT_RETURN_FCI,
  sw1Of,
  SW1_EXECUTION_ERROR,
  SW1_MORE_DATA,
  SW1_WRONG_LE,
  SW_AUTH_METHOD_BLOCKED,
  SW_END_OF_FILE,
  SW_FILE_NOT_FOUND,
  SW_INCORRECT_P1P2,
  SW_OK,
  SW_SECURITY_NOT_SATISFIED,
  SW_WRONG_P1P2,
} from './apdu.js';
import { HcaError, ProfileUnconfirmedError, PukBlockedError, PukIncorrectError } from './errors.js';
import { memoryPinTrialStore, pinFormatStatus, pinTrialKey, type PinOperation, type PinTrialStore } from './pin-guard.js';
import {
  compactHex,
  derTotalLength,
  digestInfo,
  digestLength,
  encodePinBlock,
  parseBasicData,
  parseCardInfo,
  printableAscii,
  secretDigits,
  type BasicData,
  type CardInfo,
  type Secret,
} from './format.js';

export interface HcaOpenOptions {
  /**
   * The card profile. Without it, the first of `candidates` whose application the card lets
   * SELECT (with that candidate's class byte) is used.
   */
  profile?: HcaProfile;
  /** The profiles to choose from when `profile` is not given (default `HCA_PROFILE_CANDIDATES`). */
  candidates?: readonly HcaProfile[];
  /**
   * Memory of PIN-carrying commands sent in an unconfirmed format (src/hca/pin-guard.ts). Default:
   * one per card object. Pass `sessionPinTrialStore()` to keep it across card objects and page
   * reloads of the same browser tab.
   */
  pinTrials?: PinTrialStore;
  signal?: AbortSignal;
}

/** How the profile was chosen: the answer of each candidate's SELECT, in order. */
export interface ProfileSelection {
  /** The id of the profile in use. */
  profileId: string;
  /** True when the caller gave the profile (nothing was chosen). */
  given: boolean;
  /** Each candidate tried: its id, the SELECT sent (hex), the status word. */
  tried: Array<{ profileId: string; command: string; sw: number }>;
}

export interface HcaOperationOptions {
  signal?: AbortSignal;
}

export interface HcaPinpadOptions extends HcaOperationOptions {
  /** Seconds the reader waits for the user's first key (default: the reader's). */
  timeoutSeconds?: number;
}

export interface HcaSignOptions extends HcaOperationOptions {
  /**
   * True when `data` is already the digest (the profile's hash, SHA-256: 32 bytes); otherwise
   * `data` is hashed on the host with WebCrypto.
   */
  digest?: boolean;
}

/** The PIN retry counter, read without spending a try. */
export interface PinStatus {
  /** Tries left before the PIN blocks (when verified: the profile's `maxTries`, as a good PIN resets the counter). */
  retriesLeft: number;
  /** The PIN is verified in this card session. */
  verified: boolean;
  /** No try left: unlock the card with its PUK. */
  blocked: boolean;
}

/** The card serial number file. */
export interface SerialNumber {
  bytes: Uint8Array;
  /** Upper-case hex without separators. */
  hex: string;
  /** The bytes as text when they are all printable ASCII. */
  text: string | undefined;
}

/** Certificate slots: 0 HCA CA, 1 signature, 2 encryption, 3 GRCA root. */
export type CertificateIndex = 0 | 1 | 2 | 3;

/** What each certificate slot holds. */
export const CERTIFICATE_NAMES = ['HCA CA', 'signature', 'encryption', 'GRCA root'] as const;

function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError();
}

function isByte(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xff;
}

function isFid(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff;
}

function fidBytes(fid: number): Uint8Array {
  return Uint8Array.of(fid >> 8, fid & 0xff);
}

/** The values of a profile the operations use, checked once. */
interface CheckedProfile {
  aid: Uint8Array;
  atrs: Uint8Array[];
  cla: number;
}

/**
 * Checks that a profile is usable (values in range, known methods, PIN blocks that fit).
 * Throws `HcaError('hca/bad-profile')` naming the field.
 */
export function checkProfile(profile: HcaProfile): CheckedProfile {
  const bad = (field: string, why: string) => new HcaError('hca/bad-profile', `HCA profile field ${field}: ${why}.`);
  const hex = (field: string, text: unknown): Uint8Array => {
    if (typeof text !== 'string') throw bad(field, 'not a hex string');
    try {
      return fromHex(text);
    } catch (e) {
      throw new HcaError('hca/bad-profile', `HCA profile field ${field}: not a hex string.`, { cause: e });
    }
  };
  const aid = hex('aid', profile.aid?.value);
  if (aid.length < 5 || aid.length > 16) throw bad('aid', 'an AID has 5 to 16 bytes');
  const application = profile.application?.value;
  if (application?.selectBy !== 'aid' && application?.selectBy !== 'fid') throw bad('application', "selectBy must be 'aid' or 'fid'");
  if (application.selectBy === 'fid' && !isFid(application.fid)) throw bad('application', 'fid must be 0..FFFF');
  const cla = profile.commandClass?.value;
  if (!isByte(cla) || cla === 0xff || (cla < 0x80 && (cla & 0x1c) !== 0)) throw bad('commandClass', 'a class byte without chaining or secure messaging (00..03, 80..FE)');
  for (const field of ['pin', 'puk'] as const) {
    const protection = profile[field]?.protection?.value as string;
    if (protection !== 'plain' && protection !== 'vendor-wrapped') throw bad(`${field}.protection`, "must be 'plain' or 'vendor-wrapped'");
  }
  const atrList = profile.atrs?.value;
  if (!Array.isArray(atrList)) throw bad('atrs', 'not a list');
  const atrs = atrList.map((a, i) => hex(`atrs[${i}]`, a?.hex));
  const files = profile.files;
  for (const name of ['cardInfo', 'basicData', 'serialNumber'] as const) {
    if (!isFid(files?.[name]?.value?.fid)) throw bad(`files.${name}`, 'fid must be 0..FFFF');
  }
  const certs = files.certificates?.value;
  if (!Array.isArray(certs) || certs.length !== 4 || !certs.every(isFid)) throw bad('files.certificates', 'four file IDs 0..FFFF');
  const { pin, puk, signing } = profile;
  if (!isByte(pin?.reference?.value)) throw bad('pin.reference', 'not a byte');
  if (!isByte(puk?.reference?.value)) throw bad('puk.reference', 'not a byte');
  const min = pin.minLength?.value;
  const max = pin.maxLength?.value;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max < min || max > 16) throw bad('pin.minLength/maxLength', 'need 1 <= min <= max <= 16');
  if (!Number.isInteger(puk.length?.value) || puk.length.value < 1 || puk.length.value > 16) throw bad('puk.length', 'need 1..16');
  const checkEncoding = (field: string, e: PinEncoding | undefined, digits: number) => {
    if (!e || (e.encoding !== 'ascii' && e.encoding !== 'bcd')) throw bad(field, "encoding must be 'ascii' or 'bcd'");
    if (!Number.isInteger(e.blockLength) || e.blockLength < 1 || e.blockLength > 255) throw bad(field, 'blockLength must be 1..255');
    if (!isByte(e.padByte)) throw bad(field, 'padByte must be a byte');
    const needed = e.encoding === 'ascii' ? digits : Math.ceil(digits / 2);
    if (needed > e.blockLength) throw bad(field, `a block of ${e.blockLength} bytes cannot hold ${digits} digits`);
  };
  checkEncoding('pin.encoding', pin.encoding?.value, max);
  const charset = profile.pinRule?.charset;
  if (charset !== undefined && charset !== 'digits' && charset !== 'letters-and-digits') throw bad('pinRule.charset', "must be 'digits' or 'letters-and-digits'");
  checkEncoding('puk.encoding', puk.encoding?.value, puk.length.value);
  const tries = pin.maxTries?.value;
  if (!Number.isInteger(tries) || tries < 1 || tries > 15) throw bad('pin.maxTries', 'need 1..15');
  if ((pin.statusMethod?.value as string) !== 'verify-without-data') throw bad('pin.statusMethod', "only 'verify-without-data' is implemented");
  const unblock = profile.unblock?.value?.method as string;
  if (unblock !== 'reset-retry-counter' && unblock !== 'verify-puk-then-reset') throw bad('unblock.method', 'unknown method');
  const method = signing?.method?.value as string;
  if (method !== 'pso-cds' && method !== 'internal-authenticate') throw bad('signing.method', 'unknown method');
  if (!isByte(signing.keyReference?.value)) throw bad('signing.keyReference', 'not a byte');
  if (!isByte(signing.algorithmReference?.value)) throw bad('signing.algorithmReference', 'not a byte');
  if ((signing.input?.value as string) !== 'digest-info') throw bad('signing.input', "only 'digest-info' is implemented");
  if (digestLength(signing.hash?.value as string) === undefined) throw bad('signing.hash', 'unsupported hash');
  const bits = signing.keyBits?.value;
  if (!Number.isInteger(bits) || bits < 512 || bits > 8192 || bits % 8 !== 0) throw bad('signing.keyBits', 'need a multiple of 8 in 512..8192');
  return { aid, atrs, cla };
}

/** The error for a status word answering a PIN command (VERIFY / CHANGE REFERENCE DATA). */
function pinError(sw: number, data: Uint8Array): ApduError {
  if (isBlocked(sw)) {
    return new PinBlockedError(sw, 'The PIN is blocked after too many wrong PINs: unlock the card with its PUK (unlock flow).');
  }
  if (isCounter(sw)) return new PinIncorrectError(sw);
  return statusError(sw, data) ?? new ApduError('apdu/status', 'Unexpected status word.', sw, data);
}

/** The error for a status word answering the PUK (RESET RETRY COUNTER, or VERIFY of the PUK). */
function pukError(sw: number, data: Uint8Array): ApduError {
  if (isBlocked(sw)) return new PukBlockedError(sw);
  if (isCounter(sw)) return new PukIncorrectError(sw);
  return statusError(sw, data) ?? new ApduError('apdu/status', 'Unexpected status word.', sw, data);
}

function otherError(sw: number, data: Uint8Array): ApduError {
  return statusError(sw, data) ?? new ApduError('apdu/status', 'Unexpected status word.', sw, data);
}

/** An HCA card (healthcare professional / institution card, Taiwan) behind a `CardChannel`. */
export class HcaCard {
  /** The channel the card is reached through. */
  readonly channel: CardChannel;
  readonly profile: HcaProfile;
  /** The card's ATR is one of the profile's known ATRs. */
  readonly atrKnown: boolean;
  /** How the profile was chosen (see `HcaOpenOptions.candidates`). */
  readonly selection: ProfileSelection;
  private readonly aid: Uint8Array;
  private readonly cla: number;
  private readonly pinTrials: PinTrialStore;
  private applicationSelected = true;
  /** The card number, once read (the key of the PIN trial memory). */
  private knownCardNumber: string | undefined;
  /** The PIN counter as `pinStatus()` last read it, until the next PIN-carrying command (spares a second free check). */
  private checkedPinCounter: number | undefined;
  /** `channel.resetCount` when the application was last known selected. */
  private resetsSeen: number;

  private constructor(channel: CardChannel, profile: HcaProfile, checked: CheckedProfile, atrKnown: boolean, pinTrials: PinTrialStore, selection: ProfileSelection) {
    this.channel = channel;
    this.profile = profile;
    this.aid = checked.aid;
    this.cla = checked.cla;
    this.atrKnown = atrKnown;
    this.pinTrials = pinTrials;
    this.selection = selection;
    this.resetsSeen = channel.resetCount ?? 0;
  }

  /**
   * Opens the HCA application: compares the ATR with the profile's list (a card not in the list
   * is still tried), then SELECTs the application. Without `options.profile`, each of the
   * candidate profiles is tried in order (a SELECT each: harmless) and the first the card accepts
   * is used (`selection` tells which). Throws `HcaError('hca/not-hca-card')` when the card has no
   * such application (the cause holds the card's answer to the first candidate),
   * `HcaError('hca/bad-profile')` for an unusable profile; transport errors pass through.
   */
  static async open(channel: CardChannel, options: HcaOpenOptions = {}): Promise<HcaCard> {
    const given = options.profile !== undefined;
    const profiles = given ? [options.profile!] : [...(options.candidates ?? HCA_PROFILE_CANDIDATES)];
    if (profiles.length === 0) throw new HcaError('hca/bad-argument', 'No candidate profile to open the card with.');
    const checked = profiles.map((p) => checkProfile(p));
    const pinTrials = options.pinTrials ?? memoryPinTrialStore();
    const tried: ProfileSelection['tried'] = [];
    let firstError: ApduError | undefined;
    for (const [i, profile] of profiles.entries()) {
      const c = checked[i]!;
      const atrKnown = c.atrs.some((a) => bytesEqual(a, channel.atr.bytes));
      const selection: ProfileSelection = { profileId: profile.id, given, tried };
      const card = new HcaCard(channel, profile, c, atrKnown, pinTrials, selection);
      try {
        await card.selectApplication(options.signal, tried);
        return card;
      } catch (e) {
        if (!(e instanceof ApduError)) throw e;
        firstError ??= e;
      }
    }
    const atrKnown = checked.some((c) => c.atrs.some((a) => bytesEqual(a, channel.atr.bytes)));
    throw new HcaError(
      'hca/not-hca-card',
      atrKnown
        ? 'This card has an HCA ATR but no HCA application answered SELECT: the profile\'s AID may be wrong (check with "npx webccid probe").'
        : 'This is not an HCA card (unknown ATR, and no HCA application). Insert the healthcare card (醫事人員卡 / 醫事機構卡).',
      { cause: firstError },
    );
  }

  // ---- low level ---------------------------------------------------------------------------

  private async exchange(apdu: CommandApdu, signal: AbortSignal | undefined, sensitive = false): Promise<{ data: Uint8Array; sw: number }> {
    checkSignal(signal);
    const bytes = encodeApdu(apdu);
    try {
      const response = await this.channel.transmit(bytes, signal ? { signal } : {});
      return splitResponse(response);
    } finally {
      if (sensitive) wipe(bytes);
    }
  }

  /**
   * SELECT (with the profile's class byte) with no answer data (P2 0C); cards refusing P2 0C
   * (6A86 / 6B00) are asked again for the FCI (P2 00). `log` gets each command and its SW.
   */
  private async select(p1: number, data: Uint8Array, signal: AbortSignal | undefined, log?: ProfileSelection['tried']): Promise<number> {
    const first = { cla: this.cla, ins: INS_SELECT, p1, p2: SELECT_NO_RESPONSE_DATA, data };
    let r = await this.exchange(first, signal);
    log?.push({ profileId: this.profile.id, command: toHex(encodeApdu(first)), sw: r.sw });
    if (r.sw === SW_INCORRECT_P1P2 || r.sw === SW_WRONG_P1P2) {
      const again = { cla: this.cla, ins: INS_SELECT, p1, p2: SELECT_RETURN_FCI, data, le: 256 };
      r = await this.exchange(again, signal);
      log?.push({ profileId: this.profile.id, command: toHex(encodeApdu(again)), sw: r.sw });
    }
    if (sw1Of(r.sw) === SW1_MORE_DATA) return SW_OK;
    return r.sw;
  }

  private async selectApplication(signal: AbortSignal | undefined, log?: ProfileSelection['tried']): Promise<void> {
    this.applicationSelected = false;
    this.checkedPinCounter = undefined;
    const app = this.profile.application.value;
    const sw = app.selectBy === 'fid' ? await this.select(SELECT_BY_FILE_ID, fidBytes(app.fid!), signal, log) : await this.select(SELECT_BY_DF_NAME, this.aid, signal, log);
    if (sw !== SW_OK) throw otherError(sw, new Uint8Array(0));
    this.applicationSelected = true;
  }

  private async ensureApplication(signal: AbortSignal | undefined): Promise<void> {
    const resets = this.channel.resetCount ?? 0;
    if (resets !== this.resetsSeen) {
      // The card was reset: it is back at the MF with nothing verified.
      this.resetsSeen = resets;
      this.applicationSelected = false;
    }
    if (!this.applicationSelected) await this.selectApplication(signal);
  }

  /** Selects an EF of the HCA application (or, with `underMf`, of the MF); returns the SW. */
  private async selectFile(fid: number, underMf: boolean, signal: AbortSignal | undefined): Promise<number> {
    if (underMf) {
      this.resetsSeen = this.channel.resetCount ?? 0;
      this.applicationSelected = false;
      const sw = await this.select(SELECT_BY_FILE_ID, fidBytes(FID_MASTER_FILE), signal);
      if (sw !== SW_OK) return sw;
    } else {
      await this.ensureApplication(signal);
    }
    return this.select(SELECT_BY_FILE_ID, fidBytes(fid), signal);
  }

  /** READ BINARY of up to `le` bytes at `offset`; a 6Cxx answer is asked again with Le = xx. */
  private async readBinary(offset: number, le: number, signal: AbortSignal | undefined): Promise<{ data: Uint8Array; sw: number }> {
    const apdu = { cla: this.cla, ins: INS_READ_BINARY, p1: (offset >> 8) & 0x7f, p2: offset & 0xff };
    let r = await this.exchange({ ...apdu, le }, signal);
    if (sw1Of(r.sw) === SW1_WRONG_LE) r = await this.exchange({ ...apdu, le: r.sw & 0xff || 256 }, signal);
    return r;
  }

  /**
   * Le of the READ BINARY commands: the largest whose answer the channel returns in one reader
   * message (one T=1 block), so that each read is one bulk transfer each way; 256 when unknown.
   */
  private readChunk(): number {
    const n = this.channel.maxUnchainedLe;
    return n !== undefined && Number.isInteger(n) && n >= 1 && n <= 256 ? n : 256;
  }

  /** Reads the selected EF to its end (for the small text files). */
  private async readToEnd(what: string, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const chunk = this.readChunk();
    const parts: Uint8Array[] = [];
    let offset = 0;
    for (;;) {
      const r = await this.readBinary(offset, chunk, signal);
      if (r.sw === SW_WRONG_P1P2 && offset > 0) break;
      if (r.sw !== SW_OK && r.sw !== SW_END_OF_FILE) throw otherError(r.sw, r.data);
      parts.push(r.data);
      offset += r.data.length;
      if (r.sw === SW_END_OF_FILE || r.data.length < chunk) break;
      if (offset > 4096) throw new HcaError('hca/bad-file', `The ${what} file is longer than 4096 bytes.`);
    }
    return concatBytes(...parts);
  }

  private async readTextFile(fid: number, what: string, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const sw = await this.selectFile(fid, false, signal);
    if (sw !== SW_OK) throw otherError(sw, new Uint8Array(0));
    return this.readToEnd(what, signal);
  }

  // ---- reading -----------------------------------------------------------------------------

  /** Card number and validity (card-info file; no PIN needed). */
  async readCardInfo(options: HcaOperationOptions = {}): Promise<CardInfo> {
    const info = parseCardInfo(await this.readTextFile(this.profile.files.cardInfo.value.fid, 'card info', options.signal));
    this.knownCardNumber = info.cardNumber;
    return info;
  }

  /** The 12 digits of the card number, without the letters printed before them ("GH"). */
  async readCardNumber(options: HcaOperationOptions = {}): Promise<string> {
    return (await this.readCardInfo(options)).cardNumber;
  }

  /** Holder name, ID number and category (basic-data file; no PIN needed). */
  async readBasicData(options: HcaOperationOptions = {}): Promise<BasicData> {
    return parseBasicData(await this.readTextFile(this.profile.files.basicData.value.fid, 'basic data', options.signal));
  }

  /** The card serial number (a file under the MF; see the module comment about re-selecting). */
  async readSerialNumber(options: HcaOperationOptions = {}): Promise<SerialNumber> {
    const sw = await this.selectFile(this.profile.files.serialNumber.value.fid, true, options.signal);
    if (sw !== SW_OK) throw otherError(sw, new Uint8Array(0));
    const bytes = await this.readToEnd('serial number', options.signal);
    if (bytes.length === 0) throw new HcaError('hca/bad-file', 'The serial number file is empty.');
    return { bytes, hex: compactHex(bytes), text: printableAscii(bytes) };
  }

  /**
   * Certificate `index` (0 HCA CA, 1 signature, 2 encryption, 3 GRCA root) as DER; the length
   * comes from the DER header. Throws `HcaError('hca/certificate-absent')` when the card has no
   * such certificate (file not found, or an empty / erased file: version 1 cards lack 2 and 3),
   * `HcaError('hca/bad-file')` when the file is not a DER SEQUENCE or is cut short.
   */
  async readCertificate(index: CertificateIndex, options: HcaOperationOptions = {}): Promise<Uint8Array> {
    if (!(Number.isInteger(index) && index >= 0 && index <= 3)) {
      throw new HcaError('hca/bad-argument', 'Certificate index must be 0 (HCA CA), 1 (signature), 2 (encryption) or 3 (GRCA root).');
    }
    const name = CERTIFICATE_NAMES[index];
    const absent = (cause?: unknown) =>
      new HcaError(
        'hca/certificate-absent',
        `Certificate ${index} (${name}) is not on this card${index >= 2 ? ' (version 1 cards have only certificates 0 and 1)' : ''}.`,
        cause === undefined ? undefined : { cause },
      );
    const { signal } = options;
    const sw = await this.selectFile(this.profile.files.certificates.value[index], false, signal);
    if (sw === SW_FILE_NOT_FOUND) throw absent(otherError(sw, new Uint8Array(0)));
    if (sw !== SW_OK) throw otherError(sw, new Uint8Array(0));
    const chunk = this.readChunk();
    const first = await this.readBinary(0, chunk, signal);
    if (first.sw === SW_WRONG_P1P2) throw absent();
    if (first.sw !== SW_OK && first.sw !== SW_END_OF_FILE) throw otherError(first.sw, first.data);
    const total = derTotalLength(first.data);
    if (total === 'erased') throw absent();
    if (total <= first.data.length) return first.data.slice(0, total);
    const truncated = () => new HcaError('hca/bad-file', `Certificate ${index} (${name}) is shorter than its DER header says.`);
    if (first.sw === SW_END_OF_FILE) throw truncated();
    const out = new Uint8Array(total);
    out.set(first.data);
    let offset = first.data.length;
    while (offset < total) {
      const r = await this.readBinary(offset, Math.min(chunk, total - offset), signal);
      if (r.sw === SW_WRONG_P1P2) throw truncated();
      if (r.sw !== SW_OK && r.sw !== SW_END_OF_FILE) throw otherError(r.sw, r.data);
      if (r.data.length === 0 || offset + r.data.length > total) throw truncated();
      out.set(r.data, offset);
      offset += r.data.length;
      if (r.sw === SW_END_OF_FILE && offset < total) throw truncated();
    }
    return out;
  }

  // ---- PIN ---------------------------------------------------------------------------------

  /** The PIN check: lengths from the profile; letters too when `pinRule` allows them and the PIN block is ASCII (BCD holds digits only). */
  private pinRule(what: 'PIN' | 'new PIN') {
    const letters = pinCharsetOf(this.profile) === 'letters-and-digits';
    return { minLength: this.profile.pin.minLength.value, maxLength: this.profile.pin.maxLength.value, code: 'hca/bad-pin-format', what, letters } as const;
  }

  private pukRule() {
    const n = this.profile.puk.length.value;
    return { minLength: n, maxLength: n, code: 'hca/bad-puk-format', what: 'PUK' } as const;
  }

  private header(ins: number, p1: number, p2: number): Uint8Array {
    return Uint8Array.of(CLA_INTERINDUSTRY, ins, p1, p2);
  }

  // ---- never spend a try on a guess (src/hca/pin-guard.ts) ----------------------------------

  /** The key of this card in the PIN trial memory (reads the card number once; 'unknown' if it cannot). */
  private async trialKey(signal: AbortSignal | undefined): Promise<string> {
    if (this.knownCardNumber === undefined) {
      try {
        await this.readCardInfo(signal ? { signal } : {});
      } catch (e) {
        if (!(e instanceof ApduError) && !(e instanceof HcaError)) throw e;
      }
    }
    return pinTrialKey(this.profile.id, toHex(this.channel.atr.bytes), this.knownCardNumber);
  }

  /**
   * Reads the retry counter of the reference the operation spends (the PUK's for an unblock) with
   * VERIFY without data: `retriesLeft` (undefined when the card says "verified", 9000, for the
   * PUK). A blocked PIN / PUK throws `PinBlockedError` / `PukBlockedError`; any answer other than
   * 9000, 63Cx (x at most `pin.maxTries` for the PIN) or 6983 throws `hca/profile-unconfirmed`.
   */
  private async readCounter(operation: PinOperation, signal: AbortSignal | undefined): Promise<number | undefined> {
    const puk = operation === 'unblock';
    const reference = puk ? this.profile.puk.reference.value : this.profile.pin.reference.value;
    const r = await this.exchange({ cla: CLA_INTERINDUSTRY, ins: INS_VERIFY, p1: P1_NONE, p2: reference }, signal);
    if (r.sw === SW_OK) return puk ? undefined : this.profile.pin.maxTries.value;
    if (isBlocked(r.sw)) throw puk ? pukError(r.sw, r.data) : pinError(r.sw, r.data);
    if (isCounter(r.sw) && (puk || counterOf(r.sw) <= this.profile.pin.maxTries.value)) return counterOf(r.sw);
    const status = pinFormatStatus(this.profile, operation);
    throw new ProfileUnconfirmedError({
      reason: 'status-unexpected',
      profileId: this.profile.id,
      operation,
      fields: status.assumed,
      sw: r.sw,
      cause: otherError(r.sw, r.data),
    });
  }

  /**
   * Before a PIN-carrying command: refuses a profile that needs the vendor's keys; with assumed
   * fields, reads the counter for free (the card must answer as the profile expects) and refuses
   * a second PIN-carrying command after a refused one. Returns the memory key to record the
   * outcome under, or undefined when the format is confirmed (by the profile, or by this card
   * having accepted a PIN in it).
   */
  private async beforePinCommand(operation: PinOperation, signal: AbortSignal | undefined): Promise<string | undefined> {
    const status = pinFormatStatus(this.profile, operation);
    const base = { profileId: this.profile.id, operation, fields: status.assumed };
    if (!status.implementable) throw new ProfileUnconfirmedError({ ...base, reason: 'not-implementable' });
    if (status.confirmed) return undefined;
    await this.ensureApplication(signal);
    const key = await this.trialKey(signal);
    const record = this.pinTrials.get(key);
    if (record?.outcome === 'accepted') return undefined;
    // pinStatus() just read the PIN counter the expected way: that was the free check.
    const checked = operation === 'unblock' ? undefined : this.checkedPinCounter;
    if (checked === 0) throw pinError(SW_AUTH_METHOD_BLOCKED, new Uint8Array(0));
    const retriesLeft = checked ?? (await this.readCounter(operation, signal));
    if (record?.outcome === 'refused') {
      throw new ProfileUnconfirmedError({ ...base, reason: 'earlier-refusal', retriesLeft: retriesLeft ?? record.retriesLeft, sw: record.sw });
    }
    return key;
  }

  /**
   * After a PIN-carrying command: 9000 is success (recorded as "this format works on this card"
   * when `final`); any other answer throws `cardError`, or, in an unconfirmed format, is recorded
   * as a refusal and thrown as `hca/profile-unconfirmed` (cause: `cardError`) with the tries left.
   * 6400..64FF (a pinpad reader's own timeout / cancel: the card got no PIN) is not a refusal.
   */
  private async afterPinCommand(
    key: string | undefined,
    operation: PinOperation,
    answer: { sw: number; data: Uint8Array },
    cardError: (sw: number, data: Uint8Array) => ApduError,
    signal: AbortSignal | undefined,
    final = true,
  ): Promise<void> {
    const { sw, data } = answer;
    this.checkedPinCounter = undefined;
    if (sw === SW_OK) {
      if (key !== undefined && final) this.pinTrials.set(key, { outcome: 'accepted', at: new Date().toISOString() });
      return;
    }
    const error = cardError(sw, data);
    if (key === undefined || sw1Of(sw) === SW1_EXECUTION_ERROR) throw error;
    let retriesLeft: number | undefined;
    if (isBlocked(sw)) retriesLeft = 0;
    else if (isCounter(sw)) retriesLeft = counterOf(sw);
    else {
      // Not a counter answer (e.g. 6700, 6A80): ask the counter, for free, so the page can show it.
      try {
        retriesLeft = await this.readCounter(operation, signal);
      } catch (e) {
        if (e instanceof PinBlockedError || e instanceof PukBlockedError) retriesLeft = 0;
        else if (!(e instanceof ApduError) && !(e instanceof HcaError)) throw e;
      }
    }
    this.pinTrials.set(key, { outcome: 'refused', sw, ...(retriesLeft === undefined ? {} : { retriesLeft }), at: new Date().toISOString() });
    const status = pinFormatStatus(this.profile, operation);
    throw new ProfileUnconfirmedError({ reason: 'refused', profileId: this.profile.id, operation, fields: status.assumed, retriesLeft, sw, cause: error });
  }

  /**
   * Whether a PIN operation may be tried, without sending any PIN (src/hca/pin-guard.ts): throws
   * `hca/profile-unconfirmed` when the profile needs the vendor's keys, when the card does not
   * answer the free counter check as the profile expects, or when the card already refused a PIN
   * in this unconfirmed format (`retriesLeft` read again for free); `PinBlockedError` /
   * `PukBlockedError` when blocked. Pages call it before asking for a PIN or a PUK, so that they
   * never invite a try that would not be sent. With a confirmed profile it sends nothing.
   */
  async checkPinOperation(operation: PinOperation, options: HcaOperationOptions = {}): Promise<void> {
    await this.beforePinCommand(operation, options.signal);
  }

  /** Reads the PIN retry counter without spending a try (VERIFY with no data). */
  async pinStatus(options: HcaOperationOptions = {}): Promise<PinStatus> {
    this.checkedPinCounter = undefined;
    await this.ensureApplication(options.signal);
    const r = await this.exchange({ cla: CLA_INTERINDUSTRY, ins: INS_VERIFY, p1: P1_NONE, p2: this.profile.pin.reference.value }, options.signal);
    let status: PinStatus;
    if (r.sw === SW_OK) status = { retriesLeft: this.profile.pin.maxTries.value, verified: true, blocked: false };
    else if (isBlocked(r.sw)) status = { retriesLeft: 0, verified: false, blocked: true };
    else if (isCounter(r.sw)) status = { retriesLeft: counterOf(r.sw), verified: false, blocked: false };
    else throw otherError(r.sw, r.data);
    // As the profile expects (a counter no higher than maxTries): this was the guard's free check.
    if (status.retriesLeft <= this.profile.pin.maxTries.value) this.checkedPinCounter = status.retriesLeft;
    return status;
  }

  /**
   * VERIFY the PIN (6..8 digits per the profile). Wrong PIN: `PinIncorrectError` with
   * `retriesLeft`; blocked: `PinBlockedError` (unlock with the PUK). Never retried.
   */
  async verifyPin(pin: Secret, options: HcaOperationOptions = {}): Promise<void> {
    const digits = secretDigits(pin, this.pinRule('PIN'));
    let block: Uint8Array | undefined;
    try {
      const key = await this.beforePinCommand('verify', options.signal);
      block = encodePinBlock(digits, this.profile.pin.encoding.value);
      await this.ensureApplication(options.signal);
      const r = await this.exchange({ cla: CLA_INTERINDUSTRY, ins: INS_VERIFY, p1: P1_NONE, p2: this.profile.pin.reference.value, data: block }, options.signal, true);
      await this.afterPinCommand(key, 'verify', r, pinError, options.signal);
    } finally {
      wipe(digits);
      if (block) wipe(block);
    }
  }

  /** CHANGE REFERENCE DATA: old PIN and new PIN (both checked before anything is sent). */
  async changePin(oldPin: Secret, newPin: Secret, options: HcaOperationOptions = {}): Promise<void> {
    const buffers: Uint8Array[] = [];
    try {
      const oldDigits = secretDigits(oldPin, this.pinRule('PIN'));
      buffers.push(oldDigits);
      const newDigits = secretDigits(newPin, this.pinRule('new PIN'));
      buffers.push(newDigits);
      const enc = this.profile.pin.encoding.value;
      const oldBlock = encodePinBlock(oldDigits, enc);
      buffers.push(oldBlock);
      const newBlock = encodePinBlock(newDigits, enc);
      buffers.push(newBlock);
      const data = concatBytes(oldBlock, newBlock);
      buffers.push(data);
      const key = await this.beforePinCommand('change', options.signal);
      await this.ensureApplication(options.signal);
      const r = await this.exchange({ cla: CLA_INTERINDUSTRY, ins: INS_CHANGE_REFERENCE_DATA, p1: P1_NONE, p2: this.profile.pin.reference.value, data }, options.signal, true);
      await this.afterPinCommand(key, 'change', r, pinError, options.signal);
    } finally {
      wipe(...buffers);
    }
  }

  /**
   * Unblocks the PIN with the PUK and sets a new PIN, by the profile's method:
   * 'reset-retry-counter' (RESET RETRY COUNTER P1 00, data PUK || new PIN) or
   * 'verify-puk-then-reset' (VERIFY the PUK, then RESET RETRY COUNTER P1 02 with the new PIN).
   * Wrong PUK: `PukIncorrectError` (retriesLeft); PUK blocked: `PukBlockedError`.
   */
  async unblockPin(puk: Secret, newPin: Secret, options: HcaOperationOptions = {}): Promise<void> {
    const buffers: Uint8Array[] = [];
    const { signal } = options;
    try {
      const pukDigits = secretDigits(puk, this.pukRule());
      buffers.push(pukDigits);
      const pinDigits = secretDigits(newPin, this.pinRule('new PIN'));
      buffers.push(pinDigits);
      const pukBlock = encodePinBlock(pukDigits, this.profile.puk.encoding.value);
      buffers.push(pukBlock);
      const pinBlock = encodePinBlock(pinDigits, this.profile.pin.encoding.value);
      buffers.push(pinBlock);
      const key = await this.beforePinCommand('unblock', signal);
      await this.ensureApplication(signal);
      const pinRef = this.profile.pin.reference.value;
      if (this.profile.unblock.value.method === 'reset-retry-counter') {
        const data = concatBytes(pukBlock, pinBlock);
        buffers.push(data);
        const r = await this.exchange({ cla: CLA_INTERINDUSTRY, ins: INS_RESET_RETRY_COUNTER, p1: RESET_WITH_PUK_AND_NEW_PIN, p2: pinRef, data }, signal, true);
        await this.afterPinCommand(key, 'unblock', r, pukError, signal);
      } else {
        const v = await this.exchange({ cla: CLA_INTERINDUSTRY, ins: INS_VERIFY, p1: P1_NONE, p2: this.profile.puk.reference.value, data: pukBlock }, signal, true);
        await this.afterPinCommand(key, 'unblock', v, pukError, signal, false);
        const r = await this.exchange({ cla: CLA_INTERINDUSTRY, ins: INS_RESET_RETRY_COUNTER, p1: RESET_WITH_NEW_PIN, p2: pinRef, data: pinBlock }, signal, true);
        await this.afterPinCommand(key, 'unblock', r, otherError, signal);
      }
    } finally {
      wipe(...buffers);
    }
  }

  // ---- signing -----------------------------------------------------------------------------

  /**
   * Signs with the card's signature key (RSA PKCS#1 v1.5 over a DigestInfo made on the host):
   * hashes `data` with the profile's hash (SHA-256) via WebCrypto unless `digest` is set, then
   * MSE SET + PSO COMPUTE DIGITAL SIGNATURE or INTERNAL AUTHENTICATE per the profile. Needs a
   * verified PIN (else `ApduError('apdu/security-not-satisfied')`). Returns the signature
   * (keyBits / 8 bytes).
   */
  async sign(data: Uint8Array, options: HcaSignOptions = {}): Promise<Uint8Array> {
    const { signal } = options;
    if (!(data instanceof Uint8Array)) throw new HcaError('hca/bad-argument', 'The data to sign must be a Uint8Array.');
    const s = this.profile.signing;
    const hash = s.hash.value;
    let digest: Uint8Array;
    if (options.digest) {
      digest = data;
    } else {
      const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle;
      if (!subtle) throw new HcaError('hca/no-webcrypto', 'WebCrypto (crypto.subtle) is not available: hash the data yourself and pass { digest: true }.');
      checkSignal(signal);
      digest = new Uint8Array(await subtle.digest(hash, data.slice()));
    }
    const info = digestInfo(hash, digest);
    const signatureLength = s.keyBits.value / 8;
    await this.ensureApplication(signal);
    let r: { data: Uint8Array; sw: number };
    if (s.method.value === 'pso-cds') {
      const mse = Uint8Array.of(CRT_TAG_KEY_REFERENCE, 0x01, s.keyReference.value, CRT_TAG_ALGORITHM_REFERENCE, 0x01, s.algorithmReference.value);
      const m = await this.exchange({ cla: CLA_INTERINDUSTRY, ins: INS_MANAGE_SECURITY_ENVIRONMENT, p1: MSE_SET_FOR_COMPUTATION, p2: MSE_CRT_DIGITAL_SIGNATURE, data: mse }, signal);
      if (m.sw !== SW_OK) throw otherError(m.sw, m.data);
      r = await this.exchange({ cla: CLA_INTERINDUSTRY, ins: INS_PERFORM_SECURITY_OPERATION, p1: PSO_P1_DIGITAL_SIGNATURE, p2: PSO_P2_DATA_TO_SIGN, data: info, le: signatureLength }, signal);
    } else {
      r = await this.exchange({ cla: CLA_INTERINDUSTRY, ins: INS_INTERNAL_AUTHENTICATE, p1: P1_NO_ALGORITHM_INFO, p2: s.keyReference.value, data: info, le: signatureLength }, signal);
    }
    if (r.sw === SW_SECURITY_NOT_SATISFIED) throw new ApduError('apdu/security-not-satisfied', 'The card refused to sign: verify the PIN first.', r.sw, r.data);
    if (r.sw !== SW_OK) throw otherError(r.sw, r.data);
    if (r.data.length !== signatureLength) {
      throw new HcaError('hca/bad-response', `The card returned a ${r.data.length}-byte signature; a ${s.keyBits.value}-bit key gives ${signatureLength} bytes.`);
    }
    return r.data.slice();
  }

  // ---- pinpad --------------------------------------------------------------------------------

  /** What the reader's pinpad can do (undefined: no pinpad; use the host-typed operations). */
  get pinpad(): { verify: boolean; modify: boolean } | undefined {
    return this.channel.pinpad;
  }

  private pinFormat(): PinBlockFormat {
    const p = this.profile.pin;
    const e = p.encoding.value;
    return { encoding: e.encoding, minLength: p.minLength.value, maxLength: p.maxLength.value, blockLength: e.blockLength, padByte: e.padByte };
  }

  private pukFormat(): PinBlockFormat {
    const p = this.profile.puk;
    const e = p.encoding.value;
    return { encoding: e.encoding, minLength: p.length.value, maxLength: p.length.value, blockLength: e.blockLength, padByte: e.padByte };
  }

  private secureVerify(): (request: SecurePinVerifyRequest, options?: { signal?: AbortSignal }) => Promise<Uint8Array> {
    const c = this.channel;
    if (!c.pinpad?.verify || !c.verifyPinSecure) throw new HcaError('hca/no-pinpad', 'This reader has no pinpad for PIN verification: type the PIN on the screen instead.');
    return c.verifyPinSecure.bind(c);
  }

  private secureModify(): (request: SecurePinModifyRequest, options?: { signal?: AbortSignal }) => Promise<Uint8Array> {
    const c = this.channel;
    if (!c.pinpad?.modify || !c.modifyPinSecure) throw new HcaError('hca/no-pinpad', 'This reader has no pinpad for PIN changes: type the PINs on the screen instead.');
    return c.modifyPinSecure.bind(c);
  }

  private static timeout(options: HcaPinpadOptions): { timeoutSeconds?: number } {
    return options.timeoutSeconds === undefined ? {} : { timeoutSeconds: options.timeoutSeconds };
  }

  private static signalOf(options: HcaPinpadOptions): { signal?: AbortSignal } {
    return options.signal ? { signal: options.signal } : {};
  }

  /**
   * The user keys the PIN on the reader (PC_to_RDR_Secure). Errors as `verifyPin`; a cancel or
   * timeout on the reader is `SlotError('ccid/pin-cancelled' | 'ccid/pin-timeout')`.
   */
  async verifyPinOnPinpad(options: HcaPinpadOptions = {}): Promise<void> {
    const send = this.secureVerify();
    const key = await this.beforePinCommand('verify', options.signal);
    await this.ensureApplication(options.signal);
    checkSignal(options.signal);
    const request: SecurePinVerifyRequest = { header: this.header(INS_VERIFY, P1_NONE, this.profile.pin.reference.value), format: this.pinFormat(), ...HcaCard.timeout(options) };
    await this.afterPinCommand(key, 'verify', splitResponse(await send(request, HcaCard.signalOf(options))), pinError, options.signal);
  }

  /** The user keys the old PIN and the new one twice on the reader (CHANGE REFERENCE DATA). */
  async changePinOnPinpad(options: HcaPinpadOptions = {}): Promise<void> {
    const send = this.secureModify();
    const key = await this.beforePinCommand('change', options.signal);
    await this.ensureApplication(options.signal);
    checkSignal(options.signal);
    const format = this.pinFormat();
    const request: SecurePinModifyRequest = {
      header: this.header(INS_CHANGE_REFERENCE_DATA, P1_NONE, this.profile.pin.reference.value),
      oldFormat: format,
      newFormat: format,
      confirm: true,
      ...HcaCard.timeout(options),
    };
    await this.afterPinCommand(key, 'change', splitResponse(await send(request, HcaCard.signalOf(options))), pinError, options.signal);
  }

  /**
   * The user keys the PUK and the new PIN (twice) on the reader. 'reset-retry-counter': one
   * PIN modification (old value = PUK, RESET RETRY COUNTER P1 00). 'verify-puk-then-reset': a
   * PIN verification of the PUK, then one of the new PIN carried by RESET RETRY COUNTER P1 02
   * (keyed once: a verification has no confirmation step). PUK errors as `unblockPin`.
   */
  async unblockPinOnPinpad(options: HcaPinpadOptions = {}): Promise<void> {
    const pinRef = this.profile.pin.reference.value;
    if (this.profile.unblock.value.method === 'reset-retry-counter') {
      const send = this.secureModify();
      const key = await this.beforePinCommand('unblock', options.signal);
      await this.ensureApplication(options.signal);
      checkSignal(options.signal);
      const request: SecurePinModifyRequest = {
        header: this.header(INS_RESET_RETRY_COUNTER, RESET_WITH_PUK_AND_NEW_PIN, pinRef),
        oldFormat: this.pukFormat(),
        newFormat: this.pinFormat(),
        confirm: true,
        ...HcaCard.timeout(options),
      };
      await this.afterPinCommand(key, 'unblock', splitResponse(await send(request, HcaCard.signalOf(options))), pukError, options.signal);
      return;
    }
    const send = this.secureVerify();
    const key = await this.beforePinCommand('unblock', options.signal);
    await this.ensureApplication(options.signal);
    checkSignal(options.signal);
    const verifyPuk: SecurePinVerifyRequest = { header: this.header(INS_VERIFY, P1_NONE, this.profile.puk.reference.value), format: this.pukFormat(), ...HcaCard.timeout(options) };
    await this.afterPinCommand(key, 'unblock', splitResponse(await send(verifyPuk, HcaCard.signalOf(options))), pukError, options.signal, false);
    const setPin: SecurePinVerifyRequest = { header: this.header(INS_RESET_RETRY_COUNTER, RESET_WITH_NEW_PIN, pinRef), format: this.pinFormat(), ...HcaCard.timeout(options) };
    await this.afterPinCommand(key, 'unblock', splitResponse(await send(setPin, HcaCard.signalOf(options))), otherError, options.signal);
  }
}
