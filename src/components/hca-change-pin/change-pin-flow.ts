/**
 * The change-PIN flow of `<hca-change-pin>` without the DOM: old PIN + new PIN twice typed on the
 * screen (CHANGE REFERENCE DATA), or all keyed on the reader's pinpad. Testable in Node over any
 * `CardConnector` (e.g. a `MemoryCardChannel` around the virtual HCA card).
 *
 * Rules: nothing is ever retried by the flow; what the user typed is checked before anything is
 * sent; the PIN bytes are wiped right after the card answered; a blocked PIN is reported
 * (`apdu/pin-blocked`, pointing to the unlock flow) before any PIN is sent; the card is held
 * only while the flow talks to it; when the card goes away the flow starts again. While the card's
 * PIN format is unconfirmed and the card refused a PIN (or cannot take one without the vendor's
 * keys), the flow stops (`stopped`, `hca/profile-unconfirmed`): it sends no PIN and the page
 * shows no PIN entry, only the counter and the request for a field report.
 */
import { wipe } from '../../bytes.js';
import { PinBlockedError } from '../../errors.js';
import { pinFormatStatus, sessionPinTrialStore, type PinTrialStore } from '../../hca/pin-guard.js';
import { HCA_PROFILE, type HcaProfile } from '../../hca/profile.js';
import { flowErrorOf, isAbort, isCardGone, isStop, withCard, type CardConnector, type FlowError } from './flow-common.js';
import { checkPinChange, pinRuleOf, secretBytes, usesPinpad, type PinRule } from './pin-entry.js';

/** 'enter': the PINs (on the screen or the reader); 'done': changed. */
export type ChangePinStep = 'enter' | 'done';

/** What the component renders. */
export interface ChangePinState {
  step: ChangePinStep;
  /** A card operation is under way. */
  busy: boolean;
  /** The PINs are keyed on the reader's pinpad (the reader's claim until the card was opened). */
  pinpad: boolean;
  /** PIN tries left, when known (read without spending a try, or after a wrong PIN). */
  retriesLeft?: number;
  /** The PIN is blocked: the card must be unlocked first (unlock flow). */
  blocked: boolean;
  /** `hca/profile-unconfirmed`: no PIN may be sent to this card; do not invite another try. */
  stopped: boolean;
  error?: FlowError;
}

/** Typed PINs (on-screen entry). */
export interface ChangePinValues {
  oldPin: string;
  newPin: string;
  confirm: string;
}

export interface ChangePinFlowOptions {
  connector: CardConnector;
  /** The card profile; default: chosen among the candidates by the card's answers. */
  profile?: HcaProfile;
  /** Memory of refused PINs in an unconfirmed format; default the tab's (`sessionPinTrialStore()`). */
  pinTrials?: PinTrialStore;
  /** Called after every state change. */
  onChange?: (state: ChangePinState) => void;
  /** Seconds the reader waits for the first key (pinpad); default the reader's. */
  pinpadTimeoutSeconds?: number;
}

/** The flow; one per component. */
export class ChangePinFlow {
  readonly rule: PinRule;
  private readonly connector: CardConnector;
  private readonly profile: HcaProfile;
  private readonly cardProfile: HcaProfile | undefined;
  private readonly pinTrials: PinTrialStore;
  private readonly onChange: ((state: ChangePinState) => void) | undefined;
  private readonly pinpadTimeoutSeconds: number | undefined;
  private current: ChangePinState = { step: 'enter', busy: false, pinpad: false, blocked: false, stopped: false };
  /** Bumped by every restart: answers of an older generation are dropped. */
  private generation = 0;
  private abort = new AbortController();

  constructor(options: ChangePinFlowOptions) {
    this.connector = options.connector;
    this.profile = options.profile ?? HCA_PROFILE;
    this.cardProfile = options.profile;
    this.pinTrials = options.pinTrials ?? sessionPinTrialStore();
    this.rule = pinRuleOf(this.profile);
    this.onChange = options.onChange;
    this.pinpadTimeoutSeconds = options.pinpadTimeoutSeconds;
  }

  /** The current state (a snapshot). */
  get state(): ChangePinState {
    return { ...this.current };
  }

  private set(patch: Partial<ChangePinState>, generation: number): void {
    if (generation !== this.generation) return;
    this.current = { ...this.current, ...patch };
    if (this.current.error === undefined) delete this.current.error;
    this.onChange?.(this.state);
  }

  /** The reader claims a pinpad (from the session, before the card is opened): the entry mode to show. */
  setReaderPinpad(pinpad: boolean): void {
    if (this.current.busy || this.current.pinpad === pinpad) return;
    this.set({ pinpad }, this.generation);
  }

  /** Shows an input problem found by the page (e.g. while typing); undefined clears it. */
  showProblem(error: FlowError | undefined): void {
    this.set({ error }, this.generation);
  }

  private blockedError(): FlowError {
    return { code: 'apdu/pin-blocked', error: new PinBlockedError(0x6983), retriesLeft: 0 };
  }

  /**
   * Reads the card without a PIN (opens it, reads the PIN retry counter: no try spent), so the
   * page shows the tries left, a blocked card before any PIN is typed, and the entry mode.
   * Errors are shown (state.error), not thrown.
   */
  async inspect(): Promise<void> {
    const generation = this.generation;
    if (this.current.busy || this.current.step !== 'enter') return;
    this.set({ busy: true }, generation);
    try {
      const { status, pinpad } = await withCard(this.connector, this.cardOptions(), async (card) => {
        // A profile that cannot carry a PIN (vendor keys): stop before even the counter check.
        if (!pinFormatStatus(card.profile, 'change').implementable) await card.checkPinOperation('change', { signal: this.abort.signal });
        const status = await card.pinStatus({ signal: this.abort.signal });
        // Never invite a try that would not be sent (unconfirmed format refused before, vendor keys needed).
        if (!status.blocked) await card.checkPinOperation('change', { signal: this.abort.signal });
        return { status, pinpad: usesPinpad(card.pinpad, 'change', this.profile) };
      });
      this.set(
        {
          busy: false,
          pinpad,
          retriesLeft: status.retriesLeft,
          blocked: status.blocked,
          error: status.blocked ? this.blockedError() : this.current.error?.code === 'ccid/card-absent' ? undefined : this.current.error,
        },
        generation,
      );
    } catch (e) {
      this.fail(e, generation);
    }
  }

  /**
   * Changes the PIN: on-screen, checks `values` then sends them; on a pinpad reader the user keys
   * everything on the reader (`values` unused). Never retried. Resolves true when the PIN was
   * changed; errors are shown (state.error), not thrown. The strings of `values` cannot be wiped
   * (the caller drops them); the bytes made from them are.
   */
  async submit(values?: ChangePinValues): Promise<boolean> {
    const generation = this.generation;
    if (this.current.busy || this.current.step !== 'enter') return false;
    if (this.current.blocked) {
      this.set({ error: this.blockedError() }, generation);
      return false;
    }
    // Stopped: nothing is sent; the error (counter, field report) stays.
    if (this.current.stopped) return false;
    if (!this.current.pinpad) {
      const problem = checkPinChange(values ?? { oldPin: '', newPin: '', confirm: '' }, this.rule);
      if (problem) {
        this.set({ error: { code: problem.code, field: problem.field } }, generation);
        return false;
      }
    }
    const expectPinpad = this.current.pinpad;
    this.set({ busy: true, error: undefined }, generation);
    const buffers: Uint8Array[] = [];
    try {
      const signal = this.abort.signal;
      const outcome = await withCard(this.connector, this.cardOptions(), async (card) => {
        const pinpad = usesPinpad(card.pinpad, 'change', this.profile);
        // The reader turned out (not) to have a usable pinpad: show the other entry mode, send nothing.
        if (pinpad !== expectPinpad) return { kind: 'mode', pinpad } as const;
        const status = await card.pinStatus({ signal });
        if (status.blocked) return { kind: 'blocked' } as const;
        if (generation === this.generation) this.set({ retriesLeft: status.retriesLeft }, generation);
        if (pinpad) {
          await card.changePinOnPinpad({
            signal,
            ...(this.pinpadTimeoutSeconds === undefined ? {} : { timeoutSeconds: this.pinpadTimeoutSeconds }),
          });
        } else {
          const oldPin = secretBytes(values!.oldPin);
          buffers.push(oldPin);
          const newPin = secretBytes(values!.newPin);
          buffers.push(newPin);
          await card.changePin(oldPin, newPin, { signal });
        }
        return { kind: 'changed' } as const;
      });
      if (outcome.kind === 'mode') {
        this.set({ busy: false, pinpad: outcome.pinpad }, generation);
        return false;
      }
      if (outcome.kind === 'blocked') {
        this.set({ busy: false, blocked: true, retriesLeft: 0, error: this.blockedError() }, generation);
        return false;
      }
      if (generation !== this.generation) return false;
      this.set({ busy: false, step: 'done', retriesLeft: this.profile.pin.maxTries.value, error: undefined }, generation);
      return true;
    } catch (e) {
      this.fail(e, generation);
      return false;
    } finally {
      wipe(...buffers);
    }
  }

  private cardOptions(): { profile: HcaProfile | undefined; signal: AbortSignal; pinTrials: PinTrialStore } {
    return { profile: this.cardProfile, signal: this.abort.signal, pinTrials: this.pinTrials };
  }

  private fail(e: unknown, generation: number): void {
    if (generation !== this.generation) return;
    if (isAbort(e)) {
      this.set({ busy: false }, generation);
      return;
    }
    const error = flowErrorOf(e);
    if (isCardGone(error.code)) {
      this.restart(error);
      return;
    }
    if (isStop(error)) {
      this.set({ busy: false, stopped: true, error, ...(error.retriesLeft === undefined ? {} : { retriesLeft: error.retriesLeft }) }, generation);
      return;
    }
    if (error.code === 'apdu/pin-blocked') {
      this.set({ busy: false, blocked: true, retriesLeft: 0, error: { ...error, retriesLeft: 0 } }, generation);
      return;
    }
    this.set({ busy: false, error, ...(error.retriesLeft === undefined ? {} : { retriesLeft: error.retriesLeft }) }, generation);
  }

  /**
   * Back to the first step, forgetting the card (after a removal, an idle time-out, or the user's
   * "restart"); `error` is shown there (e.g. the card was removed). A card operation under way is
   * aborted and its answer dropped.
   */
  restart(error?: FlowError): void {
    this.generation++;
    this.abort.abort();
    this.abort = new AbortController();
    // `stopped` is recomputed when the card is read again (inspect: the memory outlives the flow).
    this.current = { step: 'enter', busy: false, pinpad: this.current.pinpad, blocked: false, stopped: false, ...(error ? { error } : {}) };
    this.onChange?.(this.state);
  }
}
