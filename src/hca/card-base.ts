/**
 * `HcaCardBase`: the HCA card over the APDU seam (`CardChannel`) with what every flow needs: open
 * the application (choosing the profile), read the card number and validity, PIN status, the
 * free "may a PIN be tried" check, and unblock the PIN with the PUK (typed on the host or on the
 * reader's pinpad). `HcaCard` (./card.ts) adds the other operations: basic data, serial number,
 * certificates, verify, change, sign. A page that only unlocks cards (the unlock page) loads this
 * class alone: a class's methods are not dropped by a bundler's tree shaking, so they are split
 * by who needs them.
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
import { AbortError, ApduError } from '../errors.js';
import type { CardChannel, SecurePinModifyRequest, SecurePinVerifyRequest } from '../card/channel.js';
import { encodeApdu, splitResponse, type CommandApdu } from '../iso7816/apdu.js';
import { HCA_PROFILE_CANDIDATE_VALUES, pinCharsetOf, type HcaProfileValues } from './profile-data.js';
import {
  CLA_INTERINDUSTRY,
  FID_MASTER_FILE,
  counterOf,
  INS_RESET_RETRY_COUNTER,
  INS_SELECT,
  INS_VERIFY,
  isBlocked,
  isCounter,
  P1_NONE,
  RESET_WITH_NEW_PIN,
  RESET_WITH_PUK_AND_NEW_PIN,
  SELECT_BY_DF_NAME,
  SELECT_BY_FILE_ID,
  SELECT_NO_RESPONSE_DATA,
  SELECT_RETURN_FCI,
  sw1Of,
  SW1_MORE_DATA,
  SW_INCORRECT_P1P2,
  SW_OK,
  SW_WRONG_P1P2,
} from './apdu.js';
import type { CheckedProfile } from './check-profile.js';
import type { HcaOpenOptions, HcaOperationOptions, HcaPinpadOptions, PinStatus, ProfileSelection } from './card-options.js';
import { resetWithPukRequest, setPinRequest, signalOf, verifyPukRequest } from './pinpad.js';
import { readChunk, readToEnd, type Exchange } from './read-binary.js';
import { cardStatusError, HcaError, pukStatusError } from './errors.js';
import { CardPinGuard, type GuardedCard } from './card-pin-guard.js';
import { memoryPinTrialStore, pinTrialKey, type PinOperation, type PinTrialStore } from './pin-guard.js';
import { encodePinBlock, parseCardInfo, secretDigits, type CardInfo, type Secret } from './format.js';

/** Throws `AbortError` when `signal` is aborted (for ./card.ts too). */
export function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError();
}

/**
 * The bytes of one of the library's own profiles (the `defaults` of `open`): they are frozen and
 * pass `checkProfile` in the tests (src/hca/profile-data.test.ts), so they are not checked again
 * at run time.
 */
function builtInProfileBytes(profile: HcaProfileValues): CheckedProfile {
  return { aid: fromHex(profile.aid.value), atrs: profile.atrs.value.map((a) => fromHex(a.hex)), cla: profile.commandClass.value };
}

/** A caller's profiles, checked (./check-profile.ts is loaded the first time a caller gives one). */
async function checkCallerProfiles(profiles: readonly HcaProfileValues[]): Promise<CheckedProfile[]> {
  const { checkProfile } = await import('./check-profile.js');
  return profiles.map((p) => checkProfile(p));
}

function fidBytes(fid: number): Uint8Array {
  return Uint8Array.of(fid >> 8, fid & 0xff);
}

/** The arguments `HcaCardBase.open` makes a card object with (for the subclasses' `open`). */
export type HcaCardArgs<P extends HcaProfileValues = HcaProfileValues> = [channel: CardChannel, profile: P, checked: CheckedProfile, atrKnown: boolean, pinTrials: PinTrialStore, selection: ProfileSelection];

/** An HCA card (healthcare professional / institution card, Taiwan) behind a `CardChannel`: the operations of the unlock flow (see the module comment). */
export class HcaCardBase<P extends HcaProfileValues = HcaProfileValues> {
  /** The channel the card is reached through. */
  readonly channel: CardChannel;
  readonly profile: P;
  /** The card's ATR is one of the profile's known ATRs. */
  readonly atrKnown: boolean;
  /** How the profile was chosen (see `HcaOpenOptions.candidates`). */
  readonly selection: ProfileSelection;
  protected readonly aid: Uint8Array;
  protected readonly cla: number;
  protected readonly guard: CardPinGuard;
  #applicationSelected = true;
  /** The card number, once read (the key of the PIN trial memory). */
  #knownCardNumber: string | undefined;
  /** `channel.resetCount` when the application was last known selected. */
  #resetsSeen: number;

  protected constructor(...[channel, profile, checked, atrKnown, pinTrials, selection]: HcaCardArgs<P>) {
    this.channel = channel;
    this.profile = profile;
    this.aid = checked.aid;
    this.cla = checked.cla;
    this.atrKnown = atrKnown;
    const guarded: GuardedCard = {
      profile,
      exchange: (apdu, signal) => this.exchange(apdu, signal),
      ensureApplication: (signal) => this.ensureApplication(signal),
      trialKey: (signal) => this.#trialKey(signal),
    };
    this.guard = new CardPinGuard(guarded, pinTrials);
    this.selection = selection;
    this.#resetsSeen = channel.resetCount ?? 0;
  }

  /**
   * Opens the HCA application: compares the ATR with the profile's list (a card not in the list
   * is still tried), then SELECTs the application. Without `options.profile`, each of the
   * candidate profiles is tried in order (a SELECT each: harmless) and the first the card accepts
   * is used (`selection` tells which). Throws `HcaError('hca/not-hca-card')` when the card has no
   * such application (the cause holds the card's answer to the first candidate),
   * `HcaError('hca/bad-profile')` for an unusable profile given in the options (checked before
   * anything is sent: `checkProfile`); transport errors pass through.
   */
  static open(channel: CardChannel, options: HcaOpenOptions = {}): Promise<HcaCardBase> {
    return HcaCardBase.openAs((...args) => new HcaCardBase(...args), HCA_PROFILE_CANDIDATE_VALUES, channel, options);
  }

  /**
   * `open`, making the card object with `make` (a subclass's `open` passes its constructor);
   * `defaults` are the candidates tried when the options give none: the profiles' values here
   * (`HCA_PROFILE_CANDIDATE_VALUES`), the profiles with their evidence in `HcaCard.open`.
   */
  protected static async openAs<P extends HcaProfileValues, T extends HcaCardBase<P>>(
    make: (...args: HcaCardArgs<P>) => T,
    defaults: readonly P[],
    channel: CardChannel,
    options: HcaOpenOptions<P>,
  ): Promise<T> {
    const given = options.profile !== undefined;
    const callers = given || options.candidates !== undefined;
    const profiles = given ? [options.profile!] : [...(options.candidates ?? defaults)];
    if (profiles.length === 0) throw new HcaError('hca/bad-argument', {});
    const checked = callers ? await checkCallerProfiles(profiles) : profiles.map(builtInProfileBytes);
    const pinTrials = options.pinTrials ?? memoryPinTrialStore();
    const tried: ProfileSelection['tried'] = [];
    let firstError: ApduError | undefined;
    for (const [i, profile] of profiles.entries()) {
      const c = checked[i]!;
      const atrKnown = c.atrs.some((a) => bytesEqual(a, channel.atr.bytes));
      const selection: ProfileSelection = { profileId: profile.id, given, tried };
      const card = make(channel, profile, c, atrKnown, pinTrials, selection);
      try {
        await card.#selectApplication(options.signal, tried);
        return card;
      } catch (e) {
        if (!(e instanceof ApduError)) throw e;
        firstError ??= e;
      }
    }
    const atrKnown = checked.some((c) => c.atrs.some((a) => bytesEqual(a, channel.atr.bytes)));
    throw new HcaError('hca/not-hca-card', { atrKnown }, { cause: firstError });
  }

  // ---- low level ---------------------------------------------------------------------------

  protected async exchange(apdu: CommandApdu, signal: AbortSignal | undefined, sensitive = false): Promise<{ data: Uint8Array; sw: number }> {
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
  protected async select(p1: number, data: Uint8Array, signal: AbortSignal | undefined, log?: ProfileSelection['tried']): Promise<number> {
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

  async #selectApplication(signal: AbortSignal | undefined, log?: ProfileSelection['tried']): Promise<void> {
    this.#applicationSelected = false;
    this.guard.checkedPinCounter = undefined;
    const app = this.profile.application.value;
    const sw = app.selectBy === 'fid' ? await this.select(SELECT_BY_FILE_ID, fidBytes(app.fid!), signal, log) : await this.select(SELECT_BY_DF_NAME, this.aid, signal, log);
    if (sw !== SW_OK) throw cardStatusError(sw, new Uint8Array(0));
    this.#applicationSelected = true;
  }

  protected async ensureApplication(signal: AbortSignal | undefined): Promise<void> {
    const resets = this.channel.resetCount ?? 0;
    if (resets !== this.#resetsSeen) {
      // The card was reset: it is back at the MF with nothing verified.
      this.#resetsSeen = resets;
      this.#applicationSelected = false;
    }
    if (!this.#applicationSelected) await this.#selectApplication(signal);
  }

  /** Selects an EF of the HCA application (or, with `underMf`, of the MF); returns the SW. */
  protected async selectFile(fid: number, underMf: boolean, signal: AbortSignal | undefined): Promise<number> {
    if (underMf) {
      this.#resetsSeen = this.channel.resetCount ?? 0;
      this.#applicationSelected = false;
      const sw = await this.select(SELECT_BY_FILE_ID, fidBytes(FID_MASTER_FILE), signal);
      if (sw !== SW_OK) return sw;
    } else {
      await this.ensureApplication(signal);
    }
    return this.select(SELECT_BY_FILE_ID, fidBytes(fid), signal);
  }

  /** Sends through `exchange` with this operation's signal (for src/hca/read-binary.ts). */
  protected sender(signal: AbortSignal | undefined): Exchange {
    return (apdu) => this.exchange(apdu, signal);
  }

  /** Reads the selected EF to its end (for the small text files). */
  protected readToEnd(what: string, signal: AbortSignal | undefined): Promise<Uint8Array> {
    return readToEnd(this.sender(signal), this.cla, readChunk(this.channel.maxUnchainedLe), what);
  }

  protected async readTextFile(fid: number, what: string, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const sw = await this.selectFile(fid, false, signal);
    if (sw !== SW_OK) throw cardStatusError(sw, new Uint8Array(0));
    return this.readToEnd(what, signal);
  }

  // ---- reading -----------------------------------------------------------------------------

  /** Card number and validity (card-info file; no PIN needed). */
  async readCardInfo(options: HcaOperationOptions = {}): Promise<CardInfo> {
    const info = parseCardInfo(await this.readTextFile(this.profile.files.cardInfo.value.fid, 'card info', options.signal));
    this.#knownCardNumber = info.cardNumber;
    return info;
  }

  /** The 12 digits of the card number, without the letters printed before them ("GH"). */
  async readCardNumber(options: HcaOperationOptions = {}): Promise<string> {
    return (await this.readCardInfo(options)).cardNumber;
  }

  // ---- PIN ---------------------------------------------------------------------------------

  /** The PIN check: lengths from the profile; letters too when `pinRule` allows them and the PIN block is ASCII (BCD holds digits only). */
  protected pinRule(what: 'PIN' | 'new PIN') {
    const letters = pinCharsetOf(this.profile) === 'letters-and-digits';
    return { minLength: this.profile.pin.minLength.value, maxLength: this.profile.pin.maxLength.value, code: 'hca/bad-pin-format', what, letters } as const;
  }

  #pukRule() {
    const n = this.profile.puk.length.value;
    return { minLength: n, maxLength: n, code: 'hca/bad-puk-format', what: 'PUK' } as const;
  }

  // ---- never spend a try on a guess (src/hca/pin-guard.ts) ----------------------------------

  /** The key of this card in the PIN trial memory (reads the card number once; 'unknown' if it cannot). */
  async #trialKey(signal: AbortSignal | undefined): Promise<string> {
    if (this.#knownCardNumber === undefined) {
      try {
        await this.readCardInfo(signal ? { signal } : {});
      } catch (e) {
        if (!(e instanceof ApduError) && !(e instanceof HcaError)) throw e;
      }
    }
    return pinTrialKey(this.profile.id, toHex(this.channel.atr.bytes), this.#knownCardNumber);
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
    await this.guard.before(operation, options.signal);
  }

  /** Reads the PIN retry counter without spending a try (VERIFY with no data). */
  async pinStatus(options: HcaOperationOptions = {}): Promise<PinStatus> {
    this.guard.checkedPinCounter = undefined;
    await this.ensureApplication(options.signal);
    const r = await this.exchange({ cla: CLA_INTERINDUSTRY, ins: INS_VERIFY, p1: P1_NONE, p2: this.profile.pin.reference.value }, options.signal);
    let status: PinStatus;
    if (r.sw === SW_OK) status = { retriesLeft: this.profile.pin.maxTries.value, verified: true, blocked: false };
    else if (isBlocked(r.sw)) status = { retriesLeft: 0, verified: false, blocked: true };
    else if (isCounter(r.sw)) status = { retriesLeft: counterOf(r.sw), verified: false, blocked: false };
    else throw cardStatusError(r.sw, r.data);
    // As the profile expects (a counter no higher than maxTries): this was the guard's free check.
    if (status.retriesLeft <= this.profile.pin.maxTries.value) this.guard.checkedPinCounter = status.retriesLeft;
    return status;
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
      const pukDigits = secretDigits(puk, this.#pukRule());
      buffers.push(pukDigits);
      const pinDigits = secretDigits(newPin, this.pinRule('new PIN'));
      buffers.push(pinDigits);
      const pukBlock = encodePinBlock(pukDigits, this.profile.puk.encoding.value);
      buffers.push(pukBlock);
      const pinBlock = encodePinBlock(pinDigits, this.profile.pin.encoding.value);
      buffers.push(pinBlock);
      const key = await this.guard.before('unblock', signal);
      await this.ensureApplication(signal);
      const pinRef = this.profile.pin.reference.value;
      if (this.profile.unblock.value.method === 'reset-retry-counter') {
        const data = concatBytes(pukBlock, pinBlock);
        buffers.push(data);
        const r = await this.exchange({ cla: CLA_INTERINDUSTRY, ins: INS_RESET_RETRY_COUNTER, p1: RESET_WITH_PUK_AND_NEW_PIN, p2: pinRef, data }, signal, true);
        await this.guard.after(key, 'unblock', r, pukStatusError, signal);
      } else {
        const v = await this.exchange({ cla: CLA_INTERINDUSTRY, ins: INS_VERIFY, p1: P1_NONE, p2: this.profile.puk.reference.value, data: pukBlock }, signal, true);
        await this.guard.after(key, 'unblock', v, pukStatusError, signal, false);
        const r = await this.exchange({ cla: CLA_INTERINDUSTRY, ins: INS_RESET_RETRY_COUNTER, p1: RESET_WITH_NEW_PIN, p2: pinRef, data: pinBlock }, signal, true);
        await this.guard.after(key, 'unblock', r, cardStatusError, signal);
      }
    } finally {
      wipe(...buffers);
    }
  }

  // ---- pinpad --------------------------------------------------------------------------------

  /** What the reader's pinpad can do (undefined: no pinpad; use the host-typed operations). */
  get pinpad(): { verify: boolean; modify: boolean } | undefined {
    return this.channel.pinpad;
  }

  protected secureVerify(): (request: SecurePinVerifyRequest, options?: { signal?: AbortSignal }) => Promise<Uint8Array> {
    const c = this.channel;
    if (!c.pinpad?.verify || !c.verifyPinSecure) throw new HcaError('hca/no-pinpad', { operation: 'verify' });
    return c.verifyPinSecure.bind(c);
  }

  protected secureModify(): (request: SecurePinModifyRequest, options?: { signal?: AbortSignal }) => Promise<Uint8Array> {
    const c = this.channel;
    if (!c.pinpad?.modify || !c.modifyPinSecure) throw new HcaError('hca/no-pinpad', { operation: 'change' });
    return c.modifyPinSecure.bind(c);
  }

  /**
   * The user keys the PUK and the new PIN (twice) on the reader. 'reset-retry-counter': one
   * PIN modification (old value = PUK, RESET RETRY COUNTER P1 00). 'verify-puk-then-reset': a
   * PIN verification of the PUK, then one of the new PIN carried by RESET RETRY COUNTER P1 02
   * (keyed once: a verification has no confirmation step). PUK errors as `unblockPin`.
   */
  async unblockPinOnPinpad(options: HcaPinpadOptions = {}): Promise<void> {
    if (this.profile.unblock.value.method === 'reset-retry-counter') {
      const send = this.secureModify();
      const key = await this.guard.before('unblock', options.signal);
      await this.ensureApplication(options.signal);
      checkSignal(options.signal);
      const answer = await send(resetWithPukRequest(this.profile, options), signalOf(options));
      await this.guard.after(key, 'unblock', splitResponse(answer), pukStatusError, options.signal);
      return;
    }
    const send = this.secureVerify();
    const key = await this.guard.before('unblock', options.signal);
    await this.ensureApplication(options.signal);
    checkSignal(options.signal);
    const pukAnswer = await send(verifyPukRequest(this.profile, options), signalOf(options));
    await this.guard.after(key, 'unblock', splitResponse(pukAnswer), pukStatusError, options.signal, false);
    const pinAnswer = await send(setPinRequest(this.profile, options), signalOf(options));
    await this.guard.after(key, 'unblock', splitResponse(pinAnswer), cardStatusError, options.signal);
  }
}
