/**
 * The state machine the PIN flows share (`ChangePinFlow`, `UnlockFlow`), without the DOM.
 *
 * - **State**: a snapshot per change (`state`, `onChange`); a field listed as optional is
 *   removed when a patch sets it to `undefined`.
 * - **Generations**: a card operation notes the generation it started in (`begin()`) and passes
 *   it to every `set()`; `startOver()` (a restart: the card removed, an idle time-out, the user's
 *   "restart") bumps the generation, so the answers of an operation that was under way are
 *   dropped, whatever they are.
 * - **Abort**: `startOver()` also aborts the operation under way (`signal`) and takes a fresh
 *   signal for the next one.
 * - **Failures** (`fail()`): from an older generation, dropped; an abort only ends `busy`; the
 *   card or reader gone restarts the flow with that error; the rest is the flow's own (`failed()`).
 *
 * Nothing here retries anything.
 */
import { sessionPinTrialStore, type PinTrialStore } from '../../hca/pin-guard.js';
import { HCA_PROFILE_VALUES, type HcaProfileValues } from '../../hca/profile-data.js';
import type { HcaCardBase } from '../../hca/card-base.js';
import { flowErrorOf, isAbort, isCardGone, withCard, type CardConnector, type FlowError, type OpenCard } from './flow-common.js';
import { pinRuleOf, type PinRule } from './pin-entry.js';

/** What every PIN flow's state has. */
export interface PinFlowState {
  /** A card operation is under way (false when not; a flow may say which). */
  busy: unknown;
  error?: FlowError;
}

/** The options every PIN flow takes. */
export interface PinFlowOptions<S> {
  connector: CardConnector;
  /** The card profile; default: chosen among the candidates by the card's answers. */
  profile?: HcaProfileValues;
  /** Memory of refused PINs / PUKs in an unconfirmed format; default the tab's (`sessionPinTrialStore()`). */
  pinTrials?: PinTrialStore;
  /** Called after every state change. */
  onChange?: (state: S) => void;
  /** Seconds the reader waits for the first key (pinpad); default the reader's. */
  pinpadTimeoutSeconds?: number;
}

/** See the module comment. */
export abstract class PinFlow<S extends PinFlowState, C extends HcaCardBase = HcaCardBase> {
  /** What the card takes as a PIN (from the profile). */
  readonly rule: PinRule;
  protected readonly connector: CardConnector;
  /** The profile input is checked against: the one given, else the HCA default. */
  protected readonly profile: HcaProfileValues;
  protected readonly pinpadTimeoutSeconds: number | undefined;
  protected current: S;
  /** The profile given (undefined: the card's answers choose). */
  readonly #cardProfile: HcaProfileValues | undefined;
  readonly #pinTrials: PinTrialStore;
  readonly #onChange: ((state: S) => void) | undefined;
  readonly #optional: readonly (keyof S)[];
  /** Bumped by every restart: answers of an older generation are dropped. */
  #generation = 0;
  #abort = new AbortController();
  /** Opens the card with the class whose operations the flow uses. */
  readonly #open: OpenCard<C>;

  protected constructor(options: PinFlowOptions<S>, initial: S, optional: readonly (keyof S)[], open: OpenCard<C>) {
    this.#open = open;
    this.connector = options.connector;
    this.profile = options.profile ?? HCA_PROFILE_VALUES;
    this.#cardProfile = options.profile;
    this.#pinTrials = options.pinTrials ?? sessionPinTrialStore();
    this.rule = pinRuleOf(this.profile);
    this.#onChange = options.onChange;
    this.pinpadTimeoutSeconds = options.pinpadTimeoutSeconds;
    this.current = initial;
    this.#optional = optional;
  }

  /** The current state (a snapshot). */
  get state(): S {
    return { ...this.current };
  }

  /** Shows an input problem found by the page (e.g. while typing); undefined clears it. */
  showProblem(error: FlowError | undefined): void {
    this.set({ error } as Partial<S>, this.#generation);
  }

  /**
   * Back to the first step (after a removal, an idle time-out, or the user's "restart"); `error`
   * is shown there. A card operation under way is aborted and its answer dropped.
   */
  abstract restart(error?: FlowError): void;

  /** The flow's own handling of a failure that is not an abort and not the card gone. */
  protected abstract failed(error: FlowError, generation: number): void;

  /** The generation an operation starts in (pass it to `set`, `fail`). */
  protected begin(): number {
    return this.#generation;
  }

  /** True while no restart happened since `generation` began. */
  protected isCurrent(generation: number): boolean {
    return generation === this.#generation;
  }

  /** Aborted by the next restart. */
  protected get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Applies `patch` and tells `onChange`, unless a restart happened since `generation` began. */
  protected set(patch: Partial<S>, generation: number): void {
    if (generation !== this.#generation) return;
    this.current = { ...this.current, ...patch };
    for (const key of this.#optional) if (this.current[key] === undefined) delete this.current[key];
    this.#onChange?.(this.state);
  }

  /** Runs `operation` on the card (connect, open the HCA application, always release; see `withCard`). */
  protected withCard<T>(operation: (card: C) => Promise<T>): Promise<T> {
    return withCard(this.connector, { profile: this.#cardProfile, signal: this.#abort.signal, pinTrials: this.#pinTrials, open: this.#open }, operation);
  }

  /** Shows what a card operation of `generation` threw (see the module comment). */
  protected fail(e: unknown, generation: number): void {
    if (generation !== this.#generation) return;
    if (isAbort(e)) {
      this.set({ busy: false } as Partial<S>, generation);
      return;
    }
    const error = flowErrorOf(e);
    if (isCardGone(error.code)) {
      this.restart(error);
      return;
    }
    this.failed(error, generation);
  }

  /** A new generation in `state`: the operation under way is aborted and its answers dropped. */
  protected startOver(state: S): void {
    this.#generation++;
    this.#abort.abort();
    this.#abort = new AbortController();
    this.current = state;
    this.#onChange?.(this.state);
  }
}
