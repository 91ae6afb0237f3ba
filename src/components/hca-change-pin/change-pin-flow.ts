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
import { HcaCard } from '../../hca/card.js';
import type { HcaProfileValues } from '../../hca/profile-data.js';
import { pinFormatStatus } from '../../hca/pin-guard.js';
import { isStop, type FlowError } from '../shared/flow-common.js';
import { checkPinChange, secretBytes, usesPinpad } from '../shared/pin-entry.js';
import { PinFlow, type PinFlowOptions } from '../shared/pin-flow.js';

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

/** The connector, profile, PIN-trial memory, `onChange` and pinpad time-out (see `PinFlowOptions`). */
export type ChangePinFlowOptions = PinFlowOptions<ChangePinState>;

/** The flow; one per component. Generations, abort and restart: `PinFlow`. */
export class ChangePinFlow extends PinFlow<ChangePinState, HcaCard<HcaProfileValues>> {
  constructor(options: ChangePinFlowOptions) {
    super(options, { step: 'enter', busy: false, pinpad: false, blocked: false, stopped: false }, ['error'], (channel, o) => HcaCard.open(channel, o));
  }

  /** The reader claims a pinpad (from the session, before the card is opened): the entry mode to show. */
  setReaderPinpad(pinpad: boolean): void {
    if (this.current.busy || this.current.pinpad === pinpad) return;
    this.set({ pinpad }, this.begin());
  }

  #blockedError(): FlowError {
    return { code: 'apdu/pin-blocked', error: new PinBlockedError(0x6983), retriesLeft: 0 };
  }

  /**
   * Reads the card without a PIN (opens it, reads the PIN retry counter: no try spent), so the
   * page shows the tries left, a blocked card before any PIN is typed, and the entry mode.
   * Errors are shown (state.error), not thrown.
   */
  async inspect(): Promise<void> {
    const generation = this.begin();
    if (this.current.busy || this.current.step !== 'enter') return;
    this.set({ busy: true }, generation);
    try {
      const { status, pinpad } = await this.withCard(async (card) => {
        // A profile that cannot carry a PIN (vendor keys): stop before even the counter check.
        if (!pinFormatStatus(card.profile, 'change').implementable) await card.checkPinOperation('change', { signal: this.signal });
        const status = await card.pinStatus({ signal: this.signal });
        // Never invite a try that would not be sent (unconfirmed format refused before, vendor keys needed).
        if (!status.blocked) await card.checkPinOperation('change', { signal: this.signal });
        return { status, pinpad: usesPinpad(card.pinpad, 'change', this.profile) };
      });
      this.set(
        {
          busy: false,
          pinpad,
          retriesLeft: status.retriesLeft,
          blocked: status.blocked,
          error: status.blocked ? this.#blockedError() : this.current.error?.code === 'ccid/card-absent' ? undefined : this.current.error,
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
    const generation = this.begin();
    if (this.current.busy || this.current.step !== 'enter') return false;
    if (this.current.blocked) {
      this.set({ error: this.#blockedError() }, generation);
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
      const signal = this.signal;
      const outcome = await this.withCard(async (card) => {
        const pinpad = usesPinpad(card.pinpad, 'change', this.profile);
        // The reader turned out (not) to have a usable pinpad: show the other entry mode, send nothing.
        if (pinpad !== expectPinpad) return { kind: 'mode', pinpad } as const;
        const status = await card.pinStatus({ signal });
        if (status.blocked) return { kind: 'blocked' } as const;
        if (this.isCurrent(generation)) this.set({ retriesLeft: status.retriesLeft }, generation);
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
        this.set({ busy: false, blocked: true, retriesLeft: 0, error: this.#blockedError() }, generation);
        return false;
      }
      if (!this.isCurrent(generation)) return false;
      this.set({ busy: false, step: 'done', retriesLeft: this.profile.pin.maxTries.value, error: undefined }, generation);
      return true;
    } catch (e) {
      this.fail(e, generation);
      return false;
    } finally {
      wipe(...buffers);
    }
  }

  protected failed(error: FlowError, generation: number): void {
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
    // `stopped` is recomputed when the card is read again (inspect: the memory outlives the flow).
    this.startOver({ step: 'enter', busy: false, pinpad: this.current.pinpad, blocked: false, stopped: false, ...(error ? { error } : {}) });
  }
}
