/**
 * The unlock flow of `<hca-unlock-card>` (解鎖卡作業) without the DOM:
 *
 * 1. `identify`: the card number (12 digits after "GH") and the user code (用戶代碼, case
 *    sensitive). The card in the reader is read first (no PIN needed) and must carry that card
 *    number: a PUK meant for another card would spend one of this card's PUK tries. Then the
 *    unlock service gives the PUK (`requestPuk`).
 * 2. `new-pin`: on a pinpad reader the PUK is shown and the user keys it and the new PIN (twice)
 *    on the reader; otherwise the flow sends the PUK itself (never shown) with the new PIN typed
 *    twice on the screen (RESET RETRY COUNTER).
 * 3. `done`: 變更PIN碼(解鎖卡)成功!
 *
 * Rules: nothing is retried by the flow; input is checked before anything is sent; the PUK and
 * PIN bytes are wiped after use and the PUK is forgotten on every way out of step 2; the card is
 * held only while the flow talks to it; a removed card restarts the flow. Before asking the
 * service for the PUK, the card must be able to take it (`checkPinOperation('unblock')`: the PUK
 * format is confirmed, or the card answers the free counter check as expected and has not refused
 * a PUK in the unconfirmed format); after a refusal the flow stops (`stopped`,
 * `hca/profile-unconfirmed`) and sends nothing more.
 */
import { wipe } from '../../bytes.js';
import { WebCcidError } from '../../errors.js';
import { HcaCardBase } from '../../hca/card-base.js';
import { secretDigits } from '../../hca/format.js';
import { isStop, type FlowError } from '../shared/flow-common.js';
import { checkPinChange, secretBytes, usesPinpad } from '../shared/pin-entry.js';
import { PinFlow, type PinFlowOptions } from '../shared/pin-flow.js';

/**
 * Asks the unlock service for the card's PUK (解鎖碼). Resolves with its digits; rejects with an
 * error (ideally a `WebCcidError`, e.g. `PukServiceError`) that the page shows.
 */
export type RequestPuk = (cardNumber: string, userCode: string, options?: { signal?: AbortSignal }) => Promise<string>;

export type UnlockStep = 'identify' | 'new-pin' | 'done';

/** What the component renders. */
export interface UnlockState {
  step: UnlockStep;
  /** What is under way: reading the card, asking the service, unlocking (on the pinpad: the user is keying). */
  busy: false | 'reading-card' | 'requesting-puk' | 'unlocking';
  /** Step 2 is done on the reader's pinpad. */
  pinpad: boolean;
  /** The PUK to key on the reader (pinpad only; never set otherwise). */
  puk?: string;
  /** The card number the flow is working on (12 digits), from step 2 on. */
  cardNumber?: string;
  /** `hca/profile-unconfirmed`: no PUK may be sent to this card; do not invite another try. */
  stopped?: boolean;
  error?: FlowError;
}

/** `requestPuk`, and the connector, profile, PUK-trial memory, `onChange` and pinpad time-out (see `PinFlowOptions`). */
export interface UnlockFlowOptions extends PinFlowOptions<UnlockState> {
  requestPuk: RequestPuk;
}

/** Fields of step 1 (their data-testid). */
export type IdentifyField = 'card-number' | 'user-code';

/** Longest user code the reference service accepts. */
export const MAX_USER_CODE_LENGTH = 64;

/**
 * Checks a card number as typed (`partial`: an incomplete number is not a problem yet) or as
 * submitted. A leading "GH" (any case), spaces and dashes are accepted. Codes:
 * `input/card-number-empty`, `input/card-number-not-digits`, `input/card-number-length`.
 */
export function checkCardNumber(text: string, options: { partial?: boolean } = {}): { digits: string } | { code: string } {
  const compact = text.replace(/[\s-]/g, '');
  if (compact === '') return options.partial ? { digits: '' } : { code: 'input/card-number-empty' };
  let digits = compact;
  if (/^gh/i.test(digits)) digits = digits.slice(2);
  else if (options.partial && /^g$/i.test(digits)) return { digits: '' };
  if (!/^[0-9]*$/.test(digits)) return { code: 'input/card-number-not-digits' };
  if (digits.length > 12 || (digits.length < 12 && !options.partial)) return { code: 'input/card-number-length' };
  return { digits };
}

/** Checks a user code (kept exactly as typed: case sensitive). `input/user-code-empty` / `input/user-code-length`. */
export function checkUserCode(text: string): string | undefined {
  if (text.length === 0) return 'input/user-code-empty';
  if (text.length > MAX_USER_CODE_LENGTH) return 'input/user-code-length';
  return undefined;
}

/** The unlock flow; one per component. Generations, abort and restart: `PinFlow`. */
export class UnlockFlow extends PinFlow<UnlockState> {
  readonly #requestPuk: RequestPuk;
  /** The PUK's digits for on-screen unlocking (never shown); wiped on every way out of step 2. */
  #pukBytes: Uint8Array | undefined;

  constructor(options: UnlockFlowOptions) {
    // The unlock flow reads the card number and unblocks: the base class has both (./card-base.ts).
    super(options, { step: 'identify', busy: false, pinpad: false }, ['error', 'puk', 'cardNumber'], (channel, o) => HcaCardBase.open(channel, o));
    this.#requestPuk = options.requestPuk;
  }

  /** True while the flow holds a PUK (for tests: it must not after the flow ends). */
  get holdsPuk(): boolean {
    return this.#pukBytes !== undefined || this.current.puk !== undefined;
  }

  #forgetPuk(): void {
    if (this.#pukBytes) wipe(this.#pukBytes);
    this.#pukBytes = undefined;
  }

  /** Reads the card number of the card in the reader (no PIN), e.g. to fill step 1. Undefined on failure (shown). */
  async readCardNumber(): Promise<string | undefined> {
    const generation = this.begin();
    if (this.current.busy || this.current.step !== 'identify') return undefined;
    this.set({ busy: 'reading-card', error: undefined }, generation);
    try {
      const info = await this.withCard((card) => card.readCardInfo({ signal: this.signal }));
      this.set({ busy: false }, generation);
      return this.isCurrent(generation) ? info.cardNumber : undefined;
    } catch (e) {
      this.fail(e, generation);
      return undefined;
    }
  }

  /** The flow error `unlock/card-mismatch` when the card in the reader is not `cardNumber`. */
  async #checkCard(card: HcaCardBase, cardNumber: string): Promise<FlowError | undefined> {
    const info = await card.readCardInfo({ signal: this.signal });
    if (info.cardNumber === cardNumber) return undefined;
    // No facts: neither card number goes into the error.
    const error = new WebCcidError('unlock/card-mismatch', {});
    return { code: error.code, field: 'card-number', error };
  }

  /**
   * Step 1: checks the inputs and the card, asks the service for the PUK, and moves to step 2.
   * Resolves true on success; errors are shown (state.error), not thrown.
   */
  async submitIdentity(values: { cardNumber: string; userCode: string }): Promise<boolean> {
    const generation = this.begin();
    if (this.current.busy || this.current.step !== 'identify') return false;
    const number = checkCardNumber(values.cardNumber);
    if ('code' in number) {
      this.set({ error: { code: number.code, field: 'card-number' } }, generation);
      return false;
    }
    if (this.current.stopped) return false;
    const userCodeProblem = checkUserCode(values.userCode);
    if (userCodeProblem) {
      this.set({ error: { code: userCodeProblem, field: 'user-code' } }, generation);
      return false;
    }
    const cardNumber = number.digits;
    this.set({ busy: 'reading-card', error: undefined }, generation);
    let puk: Uint8Array | undefined;
    try {
      const signal = this.signal;
      const { mismatch, pinpad } = await this.withCard(async (card) => {
        const mismatch = await this.#checkCard(card, cardNumber);
        // Ask the service for a PUK only if the card can be sent one (src/hca/pin-guard.ts).
        if (!mismatch) await card.checkPinOperation('unblock', { signal });
        return { mismatch, pinpad: usesPinpad(card.pinpad, 'unblock', this.profile) };
      });
      if (mismatch) {
        this.set({ busy: false, error: mismatch }, generation);
        return false;
      }
      this.set({ busy: 'requesting-puk' }, generation);
      const text = await this.#requestPuk(cardNumber, values.userCode, { signal });
      if (!this.isCurrent(generation)) return false;
      // Checked now (8 digits), so a bad answer of the service is reported before step 2.
      puk = secretDigits(typeof text === 'string' ? text : '', {
        minLength: this.profile.puk.length.value,
        maxLength: this.profile.puk.length.value,
        code: 'hca/bad-puk-format',
        what: 'PUK',
      });
      if (pinpad) {
        this.set({ busy: false, step: 'new-pin', pinpad: true, puk: text, cardNumber, error: undefined }, generation);
        wipe(puk);
      } else {
        this.#pukBytes = puk;
        this.set({ busy: false, step: 'new-pin', pinpad: false, cardNumber, error: undefined }, generation);
      }
      puk = undefined;
      return true;
    } catch (e) {
      if (puk) wipe(puk);
      this.fail(e, generation);
      return false;
    }
  }

  /**
   * Step 2: unlocks the card. On-screen: checks the new PIN twice, then sends PUK + new PIN; on a
   * pinpad reader the user keys PUK and new PIN on the reader (`values` unused). Never retried.
   * Resolves true when the card is unlocked.
   */
  async submitNewPin(values?: { newPin: string; confirm: string }): Promise<boolean> {
    const generation = this.begin();
    const cardNumber = this.current.cardNumber;
    if (this.current.busy || this.current.step !== 'new-pin' || cardNumber === undefined || this.current.stopped) return false;
    const pinpad = this.current.pinpad;
    if (!pinpad) {
      const problem = checkPinChange(values ?? { newPin: '', confirm: '' }, this.rule);
      if (problem) {
        this.set({ error: { code: problem.code, field: problem.field } }, generation);
        return false;
      }
      if (!this.#pukBytes) {
        this.restart();
        return false;
      }
    }
    this.set({ busy: 'unlocking', error: undefined }, generation);
    const buffers: Uint8Array[] = [];
    try {
      const signal = this.signal;
      const mismatch = await this.withCard(async (card) => {
        // The card may have been swapped since step 1: never spend a PUK try on another card.
        const problem = await this.#checkCard(card, cardNumber);
        if (problem) return problem;
        if (pinpad) {
          await card.unblockPinOnPinpad({
            signal,
            ...(this.pinpadTimeoutSeconds === undefined ? {} : { timeoutSeconds: this.pinpadTimeoutSeconds }),
          });
        } else {
          const newPin = secretBytes(values!.newPin);
          buffers.push(newPin);
          await card.unblockPin(this.#pukBytes!, newPin, { signal });
        }
        return undefined;
      });
      if (!this.isCurrent(generation)) return false;
      if (mismatch) {
        this.#forgetPuk();
        this.set({ busy: false, step: 'identify', puk: undefined, error: mismatch }, generation);
        return false;
      }
      this.#forgetPuk();
      this.set({ busy: false, step: 'done', puk: undefined, error: undefined }, generation);
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
      // No PUK goes to this card any more: forget it (and stop showing it on a pinpad).
      this.#forgetPuk();
      this.set({ busy: false, stopped: true, puk: undefined, error }, generation);
      return;
    }
    if (this.current.step === 'new-pin') {
      const pukSpent = error.code === 'hca/puk-incorrect' || error.code === 'hca/puk-blocked';
      // On the reader a wrong PUK may be a slip of the finger: stay (the PUK is still shown) unless
      // it is blocked. A wrong PUK sent by the flow came from the service: asking again gives the
      // same PUK, so go back to step 1 (the service or help desk must sort it out).
      if (error.code === 'hca/puk-blocked' || (pukSpent && !this.current.pinpad)) {
        this.#forgetPuk();
        this.set({ busy: false, step: 'identify', puk: undefined, error }, generation);
        return;
      }
    }
    this.set({ busy: false, error }, generation);
  }

  /**
   * Back to step 1, forgetting the PUK and the card (after a removal, an idle time-out, or the
   * user's "restart"); `error` is shown there. A card operation under way is aborted.
   */
  restart(error?: FlowError): void {
    this.#forgetPuk();
    this.startOver({ step: 'identify', busy: false, pinpad: false, ...(error ? { error } : {}) });
  }
}
