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
 * - no PIN / PUK ever goes into an error or a log (this module logs nothing).
 *
 * State: the card object remembers whether the HCA application is the current DF and selects it
 * again (SELECT by AID) before an application command when another DF was selected (only
 * `readSerialNumber()` does that, since the serial number is under the MF). On a Java Card,
 * selecting the applet again may drop a verified PIN: read the serial number before verifying.
 */
import { bytesEqual, concatBytes, fromHex, wipe } from '../bytes.js';
import { AbortError, ApduError, PinBlockedError, PinIncorrectError } from '../errors.js';
import type { CardChannel, PinBlockFormat, SecurePinModifyRequest, SecurePinVerifyRequest } from '../card/channel.js';
import { encodeApdu, splitResponse, type CommandApdu } from '../iso7816/apdu.js';
import { statusError } from '../iso7816/status.js';
import { HCA_PROFILE, pinRule, type HcaProfile, type PinEncoding } from './profile.js';
import { HcaError, PukBlockedError, PukIncorrectError } from './errors.js';
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
  /** The card profile (default `HCA_PROFILE`). */
  profile?: HcaProfile;
  signal?: AbortSignal;
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

const CHUNK = 256;
const SW_OK = 0x9000;
const SW_FILE_NOT_FOUND = 0x6a82;
const SW_SECURITY = 0x6982;

function sw1Of(sw: number): number {
  return (sw >> 8) & 0xff;
}

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
  const charset = pin.charset?.value ?? 'digits';
  if (charset !== 'digits' && charset !== 'letters-and-digits') throw bad('pin.charset', "must be 'digits' or 'letters-and-digits'");
  if (charset === 'letters-and-digits' && pin.encoding.value.encoding !== 'ascii') throw bad('pin.charset', "letters need the 'ascii' PIN encoding");
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
  return { aid, atrs };
}

/** The error for a status word answering a PIN command (VERIFY / CHANGE REFERENCE DATA). */
function pinError(sw: number, data: Uint8Array): ApduError {
  if (sw === 0x6983 || sw === 0x63c0) {
    return new PinBlockedError(sw, 'The PIN is blocked after too many wrong PINs: unlock the card with its PUK (unlock flow).');
  }
  if ((sw & 0xfff0) === 0x63c0) return new PinIncorrectError(sw);
  return statusError(sw, data) ?? new ApduError('apdu/status', 'Unexpected status word.', sw, data);
}

/** The error for a status word answering the PUK (RESET RETRY COUNTER, or VERIFY of the PUK). */
function pukError(sw: number, data: Uint8Array): ApduError {
  if (sw === 0x6983 || sw === 0x63c0) return new PukBlockedError(sw);
  if ((sw & 0xfff0) === 0x63c0) return new PukIncorrectError(sw);
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
  private readonly aid: Uint8Array;
  private applicationSelected = true;

  private constructor(channel: CardChannel, profile: HcaProfile, checked: CheckedProfile, atrKnown: boolean) {
    this.channel = channel;
    this.profile = profile;
    this.aid = checked.aid;
    this.atrKnown = atrKnown;
  }

  /**
   * Opens the HCA application: compares the ATR with the profile's list (a card not in the list
   * is still tried), then SELECTs the AID. Throws `HcaError('hca/not-hca-card')` when the card
   * has no such application (the cause holds the card's answer), `HcaError('hca/bad-profile')`
   * for an unusable profile; transport errors pass through.
   */
  static async open(channel: CardChannel, options: HcaOpenOptions = {}): Promise<HcaCard> {
    const profile = options.profile ?? HCA_PROFILE;
    const checked = checkProfile(profile);
    const atrKnown = checked.atrs.some((a) => bytesEqual(a, channel.atr.bytes));
    const card = new HcaCard(channel, profile, checked, atrKnown);
    try {
      await card.selectApplication(options.signal);
    } catch (e) {
      if (e instanceof ApduError) {
        throw new HcaError(
          'hca/not-hca-card',
          atrKnown
            ? 'This card has an HCA ATR but no HCA application answered SELECT: the profile\'s AID may be wrong (check with "npx webccid probe").'
            : 'This is not an HCA card (unknown ATR, and no HCA application). Insert the healthcare card (醫事人員卡 / 醫事機構卡).',
          { cause: e },
        );
      }
      throw e;
    }
    return card;
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

  /** SELECT with no answer data (P2 0C); cards refusing P2 0C (6A86 / 6B00) are asked again for the FCI (P2 00). */
  private async select(p1: number, data: Uint8Array, signal: AbortSignal | undefined): Promise<number> {
    let r = await this.exchange({ cla: 0x00, ins: 0xa4, p1, p2: 0x0c, data }, signal);
    if (r.sw === 0x6a86 || r.sw === 0x6b00) r = await this.exchange({ cla: 0x00, ins: 0xa4, p1, p2: 0x00, data, le: 256 }, signal);
    if (sw1Of(r.sw) === 0x61) return SW_OK;
    return r.sw;
  }

  private async selectApplication(signal: AbortSignal | undefined): Promise<void> {
    this.applicationSelected = false;
    const sw = await this.select(0x04, this.aid, signal);
    if (sw !== SW_OK) throw otherError(sw, new Uint8Array(0));
    this.applicationSelected = true;
  }

  private async ensureApplication(signal: AbortSignal | undefined): Promise<void> {
    if (!this.applicationSelected) await this.selectApplication(signal);
  }

  /** Selects an EF of the HCA application (or, with `underMf`, of the MF); returns the SW. */
  private async selectFile(fid: number, underMf: boolean, signal: AbortSignal | undefined): Promise<number> {
    if (underMf) {
      this.applicationSelected = false;
      const sw = await this.select(0x00, fidBytes(0x3f00), signal);
      if (sw !== SW_OK) return sw;
    } else {
      await this.ensureApplication(signal);
    }
    return this.select(0x00, fidBytes(fid), signal);
  }

  /** READ BINARY of up to `le` bytes at `offset`; a 6Cxx answer is asked again with Le = xx. */
  private async readBinary(offset: number, le: number, signal: AbortSignal | undefined): Promise<{ data: Uint8Array; sw: number }> {
    const apdu = { cla: 0x00, ins: 0xb0, p1: (offset >> 8) & 0x7f, p2: offset & 0xff };
    let r = await this.exchange({ ...apdu, le }, signal);
    if (sw1Of(r.sw) === 0x6c) r = await this.exchange({ ...apdu, le: r.sw & 0xff || 256 }, signal);
    return r;
  }

  /** Reads the selected EF to its end (for the small text files). */
  private async readToEnd(what: string, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let offset = 0;
    for (;;) {
      const r = await this.readBinary(offset, CHUNK, signal);
      if (r.sw === 0x6b00 && offset > 0) break;
      if (r.sw !== SW_OK && r.sw !== 0x6282) throw otherError(r.sw, r.data);
      parts.push(r.data);
      offset += r.data.length;
      if (r.sw === 0x6282 || r.data.length < CHUNK) break;
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
    return parseCardInfo(await this.readTextFile(this.profile.files.cardInfo.value.fid, 'card info', options.signal));
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
    const first = await this.readBinary(0, CHUNK, signal);
    if (first.sw === 0x6b00) throw absent();
    if (first.sw !== SW_OK && first.sw !== 0x6282) throw otherError(first.sw, first.data);
    const total = derTotalLength(first.data);
    if (total === 'erased') throw absent();
    if (total <= first.data.length) return first.data.slice(0, total);
    const truncated = () => new HcaError('hca/bad-file', `Certificate ${index} (${name}) is shorter than its DER header says.`);
    if (first.sw === 0x6282) throw truncated();
    const out = new Uint8Array(total);
    out.set(first.data);
    let offset = first.data.length;
    while (offset < total) {
      const r = await this.readBinary(offset, Math.min(CHUNK, total - offset), signal);
      if (r.sw === 0x6b00) throw truncated();
      if (r.sw !== SW_OK && r.sw !== 0x6282) throw otherError(r.sw, r.data);
      if (r.data.length === 0 || offset + r.data.length > total) throw truncated();
      out.set(r.data, offset);
      offset += r.data.length;
      if (r.sw === 0x6282 && offset < total) throw truncated();
    }
    return out;
  }

  // ---- PIN ---------------------------------------------------------------------------------

  private pinRule(what: 'PIN' | 'new PIN') {
    const { minLength, maxLength, charset } = pinRule(this.profile);
    return { minLength, maxLength, charset, code: 'hca/bad-pin-format', what } as const;
  }

  private pukRule() {
    const n = this.profile.puk.length.value;
    return { minLength: n, maxLength: n, code: 'hca/bad-puk-format', what: 'PUK' } as const;
  }

  private header(ins: number, p1: number, p2: number): Uint8Array {
    return Uint8Array.of(0x00, ins, p1, p2);
  }

  /** Reads the PIN retry counter without spending a try (VERIFY with no data). */
  async pinStatus(options: HcaOperationOptions = {}): Promise<PinStatus> {
    await this.ensureApplication(options.signal);
    const r = await this.exchange({ cla: 0x00, ins: 0x20, p1: 0x00, p2: this.profile.pin.reference.value }, options.signal);
    if (r.sw === SW_OK) return { retriesLeft: this.profile.pin.maxTries.value, verified: true, blocked: false };
    if (r.sw === 0x6983 || r.sw === 0x63c0) return { retriesLeft: 0, verified: false, blocked: true };
    if ((r.sw & 0xfff0) === 0x63c0) return { retriesLeft: r.sw & 0x0f, verified: false, blocked: false };
    throw otherError(r.sw, r.data);
  }

  /**
   * VERIFY the PIN (6..8 digits per the profile). Wrong PIN: `PinIncorrectError` with
   * `retriesLeft`; blocked: `PinBlockedError` (unlock with the PUK). Never retried.
   */
  async verifyPin(pin: Secret, options: HcaOperationOptions = {}): Promise<void> {
    const digits = secretDigits(pin, this.pinRule('PIN'));
    let block: Uint8Array | undefined;
    try {
      block = encodePinBlock(digits, this.profile.pin.encoding.value);
      await this.ensureApplication(options.signal);
      const r = await this.exchange({ cla: 0x00, ins: 0x20, p1: 0x00, p2: this.profile.pin.reference.value, data: block }, options.signal, true);
      if (r.sw !== SW_OK) throw pinError(r.sw, r.data);
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
      await this.ensureApplication(options.signal);
      const r = await this.exchange({ cla: 0x00, ins: 0x24, p1: 0x00, p2: this.profile.pin.reference.value, data }, options.signal, true);
      if (r.sw !== SW_OK) throw pinError(r.sw, r.data);
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
      await this.ensureApplication(signal);
      const pinRef = this.profile.pin.reference.value;
      if (this.profile.unblock.value.method === 'reset-retry-counter') {
        const data = concatBytes(pukBlock, pinBlock);
        buffers.push(data);
        const r = await this.exchange({ cla: 0x00, ins: 0x2c, p1: 0x00, p2: pinRef, data }, signal, true);
        if (r.sw !== SW_OK) throw pukError(r.sw, r.data);
      } else {
        const v = await this.exchange({ cla: 0x00, ins: 0x20, p1: 0x00, p2: this.profile.puk.reference.value, data: pukBlock }, signal, true);
        if (v.sw !== SW_OK) throw pukError(v.sw, v.data);
        const r = await this.exchange({ cla: 0x00, ins: 0x2c, p1: 0x02, p2: pinRef, data: pinBlock }, signal, true);
        if (r.sw !== SW_OK) throw otherError(r.sw, r.data);
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
      const mse = Uint8Array.of(0x84, 0x01, s.keyReference.value, 0x80, 0x01, s.algorithmReference.value);
      const m = await this.exchange({ cla: 0x00, ins: 0x22, p1: 0x41, p2: 0xb6, data: mse }, signal);
      if (m.sw !== SW_OK) throw otherError(m.sw, m.data);
      r = await this.exchange({ cla: 0x00, ins: 0x2a, p1: 0x9e, p2: 0x9a, data: info, le: signatureLength }, signal);
    } else {
      r = await this.exchange({ cla: 0x00, ins: 0x88, p1: 0x00, p2: s.keyReference.value, data: info, le: signatureLength }, signal);
    }
    if (r.sw === SW_SECURITY) throw new ApduError('apdu/security-not-satisfied', 'The card refused to sign: verify the PIN first.', r.sw, r.data);
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
    await this.ensureApplication(options.signal);
    checkSignal(options.signal);
    const request: SecurePinVerifyRequest = { header: this.header(0x20, 0x00, this.profile.pin.reference.value), format: this.pinFormat(), ...HcaCard.timeout(options) };
    const { data, sw } = splitResponse(await send(request, HcaCard.signalOf(options)));
    if (sw !== SW_OK) throw pinError(sw, data);
  }

  /** The user keys the old PIN and the new one twice on the reader (CHANGE REFERENCE DATA). */
  async changePinOnPinpad(options: HcaPinpadOptions = {}): Promise<void> {
    const send = this.secureModify();
    await this.ensureApplication(options.signal);
    checkSignal(options.signal);
    const format = this.pinFormat();
    const request: SecurePinModifyRequest = {
      header: this.header(0x24, 0x00, this.profile.pin.reference.value),
      oldFormat: format,
      newFormat: format,
      confirm: true,
      ...HcaCard.timeout(options),
    };
    const { data, sw } = splitResponse(await send(request, HcaCard.signalOf(options)));
    if (sw !== SW_OK) throw pinError(sw, data);
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
      await this.ensureApplication(options.signal);
      checkSignal(options.signal);
      const request: SecurePinModifyRequest = {
        header: this.header(0x2c, 0x00, pinRef),
        oldFormat: this.pukFormat(),
        newFormat: this.pinFormat(),
        confirm: true,
        ...HcaCard.timeout(options),
      };
      const { data, sw } = splitResponse(await send(request, HcaCard.signalOf(options)));
      if (sw !== SW_OK) throw pukError(sw, data);
      return;
    }
    const send = this.secureVerify();
    await this.ensureApplication(options.signal);
    checkSignal(options.signal);
    const verifyPuk: SecurePinVerifyRequest = { header: this.header(0x20, 0x00, this.profile.puk.reference.value), format: this.pukFormat(), ...HcaCard.timeout(options) };
    const v = splitResponse(await send(verifyPuk, HcaCard.signalOf(options)));
    if (v.sw !== SW_OK) throw pukError(v.sw, v.data);
    const setPin: SecurePinVerifyRequest = { header: this.header(0x2c, 0x02, pinRef), format: this.pinFormat(), ...HcaCard.timeout(options) };
    const r = splitResponse(await send(setPin, HcaCard.signalOf(options)));
    if (r.sw !== SW_OK) throw otherError(r.sw, r.data);
  }
}
