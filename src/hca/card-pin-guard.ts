/**
 * "Never spend a try on a guess" (src/hca/pin-guard.ts) enforced around the PIN-carrying commands
 * of one `HcaCard`: before each, the free counter check and the memory of earlier refusals; after
 * each, the outcome recorded. It sends nothing but VERIFY without data (no PIN, no try spent).
 */
import { ApduError, PinBlockedError } from '../errors.js';
import type { CommandApdu } from '../iso7816/apdu.js';
import { CLA_INTERINDUSTRY, counterOf, INS_VERIFY, isBlocked, isCounter, P1_NONE, sw1Of, SW1_EXECUTION_ERROR, SW_AUTH_METHOD_BLOCKED, SW_OK } from './apdu.js';
import { cardStatusError, HcaError, pinStatusError, ProfileUnconfirmedError, PukBlockedError, pukStatusError } from './errors.js';
import { pinFormatStatus, type PinOperation, type PinTrialStore } from './pin-guard.js';
import type { HcaProfileValues } from './profile-data.js';

/** What the guard needs of the card it guards. */
export interface GuardedCard {
  readonly profile: HcaProfileValues;
  exchange(apdu: CommandApdu, signal: AbortSignal | undefined): Promise<{ data: Uint8Array; sw: number }>;
  /** Selects the HCA application again if another DF (or a reset) took its place. */
  ensureApplication(signal: AbortSignal | undefined): Promise<void>;
  /** The key of this card in the PIN trial memory. */
  trialKey(signal: AbortSignal | undefined): Promise<string>;
}

export class CardPinGuard {
  /** The PIN counter as `pinStatus()` last read it, until the next PIN-carrying command (spares a second free check). */
  checkedPinCounter: number | undefined;

  constructor(
    private readonly card: GuardedCard,
    private readonly trials: PinTrialStore,
  ) {}

  /**
   * Reads the retry counter of the reference the operation spends (the PUK's for an unblock) with
   * VERIFY without data: `retriesLeft` (undefined when the card says "verified", 9000, for the
   * PUK). A blocked PIN / PUK throws `PinBlockedError` / `PukBlockedError`; any answer other than
   * 9000, 63Cx (x at most `pin.maxTries` for the PIN) or 6983 throws `hca/profile-unconfirmed`.
   */
  async readCounter(operation: PinOperation, signal: AbortSignal | undefined): Promise<number | undefined> {
    const puk = operation === 'unblock';
    const reference = puk ? this.card.profile.puk.reference.value : this.card.profile.pin.reference.value;
    const r = await this.card.exchange({ cla: CLA_INTERINDUSTRY, ins: INS_VERIFY, p1: P1_NONE, p2: reference }, signal);
    if (r.sw === SW_OK) return puk ? undefined : this.card.profile.pin.maxTries.value;
    if (isBlocked(r.sw)) throw puk ? pukStatusError(r.sw, r.data) : pinStatusError(r.sw, r.data);
    if (isCounter(r.sw) && (puk || counterOf(r.sw) <= this.card.profile.pin.maxTries.value)) return counterOf(r.sw);
    const status = pinFormatStatus(this.card.profile, operation);
    throw new ProfileUnconfirmedError({
      reason: 'status-unexpected',
      profileId: this.card.profile.id,
      operation,
      fields: status.assumed,
      sw: r.sw,
      cause: cardStatusError(r.sw, r.data),
    });
  }

  /**
   * Before a PIN-carrying command: refuses a profile that needs the vendor's keys; with assumed
   * fields, reads the counter for free (the card must answer as the profile expects) and refuses
   * a second PIN-carrying command after a refused one. Returns the memory key to record the
   * outcome under, or undefined when the format is confirmed (by the profile, or by this card
   * having accepted a PIN in it).
   */
  async before(operation: PinOperation, signal: AbortSignal | undefined): Promise<string | undefined> {
    const status = pinFormatStatus(this.card.profile, operation);
    const base = { profileId: this.card.profile.id, operation, fields: status.assumed };
    if (!status.implementable) throw new ProfileUnconfirmedError({ ...base, reason: 'not-implementable' });
    if (status.confirmed) return undefined;
    await this.card.ensureApplication(signal);
    const key = await this.card.trialKey(signal);
    const record = this.trials.get(key);
    if (record?.outcome === 'accepted') return undefined;
    // pinStatus() just read the PIN counter the expected way: that was the free check.
    const checked = operation === 'unblock' ? undefined : this.checkedPinCounter;
    if (checked === 0) throw pinStatusError(SW_AUTH_METHOD_BLOCKED, new Uint8Array(0));
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
  async after(
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
      if (key !== undefined && final) this.trials.set(key, { outcome: 'accepted', at: new Date().toISOString() });
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
    this.trials.set(key, { outcome: 'refused', sw, ...(retriesLeft === undefined ? {} : { retriesLeft }), at: new Date().toISOString() });
    const status = pinFormatStatus(this.card.profile, operation);
    throw new ProfileUnconfirmedError({ reason: 'refused', profileId: this.card.profile.id, operation, fields: status.assumed, retriesLeft, sw, cause: error });
  }
}
