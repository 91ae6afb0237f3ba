/**
 * `HcaCard`: every HCA card operation over the APDU seam (`CardChannel`): read the card number,
 * basic data, validity, serial number and certificates; PIN status, verify, change and unblock
 * (typed on the host or on the reader's pinpad); sign. Opening, reading the card number, the PIN
 * status and guard, and unblocking are `HcaCardBase`'s (./card-base.ts, with the rules every
 * operation keeps: PINs checked before anything is sent, never retried, wiped after use, never a
 * try spent on a guess); this class adds the rest.
 */
import { concatBytes, wipe } from '../bytes.js';
import { ApduError } from '../errors.js';
import type { CardChannel } from '../card/channel.js';
import { splitResponse } from '../iso7816/apdu.js';
import {
  CLA_INTERINDUSTRY,
  CRT_TAG_ALGORITHM_REFERENCE,
  CRT_TAG_KEY_REFERENCE,
  INS_CHANGE_REFERENCE_DATA,
  INS_INTERNAL_AUTHENTICATE,
  INS_MANAGE_SECURITY_ENVIRONMENT,
  INS_PERFORM_SECURITY_OPERATION,
  INS_VERIFY,
  MSE_CRT_DIGITAL_SIGNATURE,
  MSE_SET_FOR_COMPUTATION,
  P1_NO_ALGORITHM_INFO,
  P1_NONE,
  PSO_P1_DIGITAL_SIGNATURE,
  PSO_P2_DATA_TO_SIGN,
  SW_FILE_NOT_FOUND,
  SW_OK,
  SW_SECURITY_NOT_SATISFIED,
} from './apdu.js';
import { checkSignal, HcaCardBase } from './card-base.js';
import { CERTIFICATE_NAMES, type CertificateIndex, type HcaOpenOptions, type HcaOperationOptions, type HcaPinpadOptions, type HcaSignOptions, type SerialNumber } from './card-options.js';
import { changePinRequest, signalOf, verifyPinRequest } from './pinpad.js';
import { readChunk } from './read-binary.js';
import { readDerFile } from './read-der.js';
import { cardStatusError, HcaError, pinStatusError } from './errors.js';
import { HCA_PROFILE_CANDIDATES, type HcaProfile, type HcaProfileValues } from './profile.js';
import { encodePinBlock, secretDigits, type Secret } from './format.js';
import { compactHex, digestInfo, parseBasicData, printableAscii, type BasicData } from './card-format.js';

// The card's options and results and the base class live beside this file; importers of
// './card.js' keep finding them here. The profile check (./check-profile.ts) is loaded only when a
// caller gives a profile (see `HcaCardBase.open`).
export { CERTIFICATE_NAMES } from './card-options.js';
export { HcaCardBase } from './card-base.js';
export type { CertificateIndex, HcaOpenOptions, HcaOperationOptions, HcaPinpadOptions, HcaSignOptions, PinStatus, ProfileSelection, SerialNumber } from './card-options.js';

/** An HCA card (healthcare professional / institution card, Taiwan) behind a `CardChannel`: every operation. */
export class HcaCard<P extends HcaProfileValues = HcaProfile> extends HcaCardBase<P> {
  /**
   * Opens the HCA application (see `HcaCardBase.open`: the ATR compared with the profile's list,
   * the candidate profiles, `HCA_PROFILE_CANDIDATES` with their evidence, tried with a SELECT
   * each when none is given).
   */
  static override open(channel: CardChannel, options?: HcaOpenOptions<HcaProfile>): Promise<HcaCard>;
  /** With a profile (or candidates) of only the values (`HcaProfileValues`): `profile` is typed so. */
  static override open<P extends HcaProfileValues>(channel: CardChannel, options: HcaOpenOptions<P>): Promise<HcaCard<P>>;
  static override open(channel: CardChannel, options: HcaOpenOptions = {}): Promise<HcaCard<HcaProfileValues>> {
    return HcaCardBase.openAs((...args) => new HcaCard<HcaProfileValues>(...args), HCA_PROFILE_CANDIDATES, channel, options);
  }

  /** Holder name, ID number and category (basic-data file; no PIN needed). */
  async readBasicData(options: HcaOperationOptions = {}): Promise<BasicData> {
    return parseBasicData(await this.readTextFile(this.profile.files.basicData.value.fid, 'basic data', options.signal));
  }

  /** The card serial number (a file under the MF; see the module comment about re-selecting). */
  async readSerialNumber(options: HcaOperationOptions = {}): Promise<SerialNumber> {
    const sw = await this.selectFile(this.profile.files.serialNumber.value.fid, true, options.signal);
    if (sw !== SW_OK) throw cardStatusError(sw, new Uint8Array(0));
    const bytes = await this.readToEnd('serial number', options.signal);
    if (bytes.length === 0) throw new HcaError('hca/bad-file', { emptyFile: 'serial number' });
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
      throw new HcaError('hca/bad-argument', { certificateIndex: String(index) });
    }
    const name = CERTIFICATE_NAMES[index];
    const absent = (cause?: unknown) =>
      new HcaError('hca/certificate-absent', { index, name }, cause === undefined ? undefined : { cause });
    const { signal } = options;
    const sw = await this.selectFile(this.profile.files.certificates.value[index], false, signal);
    if (sw === SW_FILE_NOT_FOUND) throw absent(cardStatusError(sw, new Uint8Array(0)));
    if (sw !== SW_OK) throw cardStatusError(sw, new Uint8Array(0));
    const truncated = () => new HcaError('hca/bad-file', { certificate: index, name });
    return readDerFile(this.sender(signal), this.cla, readChunk(this.channel.maxUnchainedLe), { absent: () => absent(), truncated });
  }

  /**
   * VERIFY the PIN (6..8 digits per the profile). Wrong PIN: `PinIncorrectError` with
   * `retriesLeft`; blocked: `PinBlockedError` (unlock with the PUK). Never retried.
   */
  async verifyPin(pin: Secret, options: HcaOperationOptions = {}): Promise<void> {
    const digits = secretDigits(pin, this.pinRule('PIN'));
    let block: Uint8Array | undefined;
    try {
      const key = await this.guard.before('verify', options.signal);
      block = encodePinBlock(digits, this.profile.pin.encoding.value);
      await this.ensureApplication(options.signal);
      const r = await this.exchange({ cla: CLA_INTERINDUSTRY, ins: INS_VERIFY, p1: P1_NONE, p2: this.profile.pin.reference.value, data: block }, options.signal, true);
      await this.guard.after(key, 'verify', r, pinStatusError, options.signal);
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
      const key = await this.guard.before('change', options.signal);
      await this.ensureApplication(options.signal);
      const r = await this.exchange({ cla: CLA_INTERINDUSTRY, ins: INS_CHANGE_REFERENCE_DATA, p1: P1_NONE, p2: this.profile.pin.reference.value, data }, options.signal, true);
      await this.guard.after(key, 'change', r, pinStatusError, options.signal);
    } finally {
      wipe(...buffers);
    }
  }

  /**
   * Signs with the card's signature key (RSA PKCS#1 v1.5 over a DigestInfo made on the host):
   * hashes `data` with the profile's hash (SHA-256) via WebCrypto unless `digest` is set, then
   * MSE SET + PSO COMPUTE DIGITAL SIGNATURE or INTERNAL AUTHENTICATE per the profile. Needs a
   * verified PIN (else `ApduError('apdu/security-not-satisfied')`). Returns the signature
   * (keyBits / 8 bytes).
   */
  async sign(data: Uint8Array, options: HcaSignOptions = {}): Promise<Uint8Array> {
    const { signal } = options;
    if (!(data instanceof Uint8Array)) throw new HcaError('hca/bad-argument', { dataType: typeof data });
    const s = this.profile.signing;
    const hash = s.hash.value;
    let digest: Uint8Array;
    if (options.digest) {
      digest = data;
    } else {
      const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle;
      if (!subtle) throw new HcaError('hca/no-webcrypto', {});
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
      if (m.sw !== SW_OK) throw cardStatusError(m.sw, m.data);
      r = await this.exchange({ cla: CLA_INTERINDUSTRY, ins: INS_PERFORM_SECURITY_OPERATION, p1: PSO_P1_DIGITAL_SIGNATURE, p2: PSO_P2_DATA_TO_SIGN, data: info, le: signatureLength }, signal);
    } else {
      r = await this.exchange({ cla: CLA_INTERINDUSTRY, ins: INS_INTERNAL_AUTHENTICATE, p1: P1_NO_ALGORITHM_INFO, p2: s.keyReference.value, data: info, le: signatureLength }, signal);
    }
    // A message, not facts: the status word's own sentence would not say what to do (test/error-codes.test.ts, FROM_MESSAGE).
    if (r.sw === SW_SECURITY_NOT_SATISFIED) throw new ApduError('apdu/security-not-satisfied', 'The card refused to sign: verify the PIN first.', r.sw, r.data);
    if (r.sw !== SW_OK) throw cardStatusError(r.sw, r.data);
    if (r.data.length !== signatureLength) {
      throw new HcaError('hca/bad-response', { signatureBytes: r.data.length, keyBits: s.keyBits.value, expectedBytes: signatureLength });
    }
    return r.data.slice();
  }

  /**
   * The user keys the PIN on the reader (PC_to_RDR_Secure). Errors as `verifyPin`; a cancel or
   * timeout on the reader is `SlotError('ccid/pin-cancelled' | 'ccid/pin-timeout')`.
   */
  async verifyPinOnPinpad(options: HcaPinpadOptions = {}): Promise<void> {
    const send = this.secureVerify();
    const key = await this.guard.before('verify', options.signal);
    await this.ensureApplication(options.signal);
    checkSignal(options.signal);
    const answer = await send(verifyPinRequest(this.profile, options), signalOf(options));
    await this.guard.after(key, 'verify', splitResponse(answer), pinStatusError, options.signal);
  }

  /** The user keys the old PIN and the new one twice on the reader (CHANGE REFERENCE DATA). */
  async changePinOnPinpad(options: HcaPinpadOptions = {}): Promise<void> {
    const send = this.secureModify();
    const key = await this.guard.before('change', options.signal);
    await this.ensureApplication(options.signal);
    checkSignal(options.signal);
    const answer = await send(changePinRequest(this.profile, options), signalOf(options));
    await this.guard.after(key, 'change', splitResponse(answer), pinStatusError, options.signal);
  }
}
