/**
 * What the PIN flows (`<hca-change-pin>`, `<hca-unlock-card>`) share: the error they show, how a
 * thrown error becomes one, and which errors mean the card is gone. Pure: no DOM, no timers.
 */
import type { CardChannel } from '../../card/channel.js';
import { ApduError, PinIncorrectError, WebCcidError } from '../../errors.js';
import type { HcaCardBase } from '../../hca/card-base.js';
import type { HcaOpenOptions } from '../../hca/card-options.js';
import { ProfileUnconfirmedError, PukIncorrectError } from '../../hca/errors.js';
import type { PinTrialStore } from '../../hca/pin-guard.js';
import type { HcaProfileValues } from '../../hca/profile-data.js';
import { pinpadStatusCode } from './pin-entry.js';

/**
 * The reactive properties every card-flow element (`<hca-unlock-card>`, `<hca-change-pin>`,
 * `<hca-bind-card>`) declares, with their attribute names: one place, so that the elements'
 * attributes stay the same. Each element spreads it into its `static properties` and adds its own.
 */
export const CARD_FLOW_PROPERTIES = {
  session: { attribute: false },
  kiosk: { type: Boolean, reflect: true },
  idleSeconds: { type: Number, attribute: 'idle-seconds' },
  deploymentGuideUrl: { attribute: 'deployment-guide-url' },
  profile: { attribute: false },
  pinpadTimeoutSeconds: { type: Number, attribute: 'pinpad-timeout' },
} as const;

/** What a flow gets its card from (every `CardSession` satisfies it). */
export interface CardConnector {
  /** Powers the card and returns its channel; `pinpad`: the reader has a pinpad. */
  connect(): Promise<{ channel: CardChannel; pinpad: boolean }>;
  /** Gives the card back (powered off: no verified PIN outlives the operation). */
  release(): Promise<void>;
}

/** Opens the HCA application on a channel: `HcaCardBase.open`, or a subclass's (`HcaCard.open`) for the operations it adds. */
export type OpenCard<C extends HcaCardBase> = (channel: CardChannel, options: HcaOpenOptions) => Promise<C>;

/**
 * Runs `operation` on the card: connect, open the HCA application (`open`), run, and always release.
 * The flows hold the card only while they talk to it (the session shows `busy` meanwhile).
 * Without `profile`, the card's answers choose among the candidate profiles. `pinTrials` is the
 * memory of PIN-carrying commands refused in an unconfirmed format (the flows share the tab's:
 * `sessionPinTrialStore()`), so no second PIN is sent after a refusal, even after a reload.
 */
export async function withCard<C extends HcaCardBase, T>(
  connector: CardConnector,
  options: { profile: HcaProfileValues | undefined; signal: AbortSignal; pinTrials: PinTrialStore; open: OpenCard<C> },
  operation: (card: C) => Promise<T>,
): Promise<T> {
  let channel: CardChannel;
  try {
    ({ channel } = await connector.connect());
  } catch (e) {
    // The card was never held (e.g. no card in the reader): not "removed during the operation".
    if (typeof e === 'object' && e !== null) beforeTheCard.add(e);
    throw e;
  }
  try {
    const card = await options.open(channel, { ...(options.profile ? { profile: options.profile } : {}), signal: options.signal, pinTrials: options.pinTrials });
    return await operation(card);
  } finally {
    await connector.release().catch(() => undefined);
  }
}

/** The error a flow shows (data-testid "error", `data-code` = `code`). */
export interface FlowError {
  /**
   * The code shown for support: the `WebCcidError` code of `error`, or one of the flow's own:
   * `input/*` (what the user typed), `unlock/card-mismatch` (the card in the reader is not the
   * card number typed), `unknown` (not one of our errors). A pinpad reader's own answers
   * 6400..6403 are given the driver's codes (`ccid/pin-timeout`, `ccid/pin-cancelled`,
   * `ccid/pin-mismatch`, `ccid/pin-length`) whatever channel reported them.
   */
  code: string;
  /** The thrown error, for `describeError` (absent for the flow's own checks). */
  error?: unknown;
  /** The input the problem is about (its data-testid), for input problems. */
  field?: string;
  /** PIN or PUK tries left, after a wrong PIN / PUK (or as the card reported them, `hca/profile-unconfirmed`). */
  retriesLeft?: number;
  /**
   * The error came from getting the card (`connect()`), before the flow held it: a missing card
   * is then "no card in the reader", not "removed during the operation".
   */
  beforeCard?: boolean;
}

/** True for `hca/profile-unconfirmed`: the page must not invite another PIN try (src/hca/pin-guard.ts). */
export function isStop(error: FlowError): boolean {
  return error.code === 'hca/profile-unconfirmed';
}
/** Errors thrown by `connect()` in `withCard` (the card was never held). */
const beforeTheCard = new WeakSet<object>();

/** Codes meaning the card (or the reader) went away: the flow starts again from its first step. */
const CARD_GONE = new Set(['ccid/card-absent', 'smartcard/card-removed', 'transport/disconnected', 'transport/closed', 'ccid/not-connected']);

/** True when the error code means the card or the reader is gone. */
export function isCardGone(code: string): boolean {
  return CARD_GONE.has(code);
}

/**
 * The flow error for a thrown error: its code (a pinpad reader's own status words 6400..6403 are
 * mapped to what they mean), and the tries left after a wrong PIN / PUK.
 */
export function flowErrorOf(error: unknown): FlowError {
  const flowError = flowErrorOfThrown(error);
  if (typeof error === 'object' && error !== null && beforeTheCard.has(error)) flowError.beforeCard = true;
  return flowError;
}

function flowErrorOfThrown(error: unknown): FlowError {
  if (error instanceof PinIncorrectError || error instanceof PukIncorrectError) {
    return { code: error.code, error, retriesLeft: error.retriesLeft };
  }
  if (error instanceof ProfileUnconfirmedError) {
    return { code: error.code, error, ...(error.retriesLeft === undefined ? {} : { retriesLeft: error.retriesLeft }) };
  }
  if (error instanceof ApduError) {
    const pinpad = pinpadStatusCode(error.sw);
    if (pinpad) return { code: pinpad, error };
  }
  if (error instanceof WebCcidError) return { code: error.code, error };
  return { code: 'unknown', error };
}

/** True when a thrown error is an abort (ours, or a DOM AbortError). */
export function isAbort(error: unknown): boolean {
  if (error instanceof WebCcidError) return error.code === 'aborted';
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError';
}
