/**
 * How a component follows its card session: a Lit reactive controller, beside
 * `KioskIdleController`. The host's `session` property is the choice of session; the controller
 * takes that session up when the host connects and whenever the property changes while
 * connected, follows its `statechange` events (`state`, re-rendering the host), offers its
 * reader chooser (`choose()`), and lets the session go when the host disconnects. The session
 * itself (`webccid/session`) is the app's: the controller never starts or closes it.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { CardSession, SessionState } from '../../session/card-session.js';

export interface CardSessionHost extends ReactiveControllerHost, HTMLElement {
  /** The card session the component gets its card from. */
  session: CardSession | undefined;
}

export interface CardSessionControllerOptions {
  /**
   * A session was taken up (`undefined`: the host has none): build what depends on it (a flow).
   * Runs before any `onState` of that session.
   */
  onSession?: (session: CardSession | undefined) => void;
  /** Each new state of the session taken up (`state` already holds it). */
  onState?: (state: SessionState) => void;
  /** Also give `onState` the session's current state right after it is taken up. Default false. */
  replayState?: boolean;
  /** The host disconnected and the session was let go: stop what runs on it, clear what it showed. */
  onRelease?: () => void;
}

/** See the module comment. */
export class CardSessionController implements ReactiveController {
  /** The state of the session taken up; `undefined` when there is none. */
  state: SessionState | undefined;
  #watched: CardSession | undefined;
  #off: (() => void) | undefined;

  constructor(
    private readonly host: CardSessionHost,
    private readonly options: CardSessionControllerOptions = {},
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.#takeUp();
  }

  /** Runs in each host update, after `willUpdate`: a new `session` property is taken up here. */
  hostUpdate(): void {
    if (this.host.isConnected && (this.host.session !== this.#watched || (this.#watched && !this.#off))) this.#takeUp();
  }

  hostDisconnected(): void {
    this.#off?.();
    this.#off = undefined;
    this.#watched = undefined;
    this.options.onRelease?.();
  }

  /** The browser's reader chooser of the session (call it in a user gesture); failures show in `state`. */
  choose(): void {
    void this.host.session?.choose();
  }

  #takeUp(): void {
    this.#off?.();
    this.#off = undefined;
    const session = this.host.session;
    this.#watched = session;
    this.#setState(session?.state);
    this.options.onSession?.(session);
    if (!session) return;
    this.#off = session.on('statechange', (event) => {
      this.#setState(event.detail.state);
      this.options.onState?.(event.detail.state);
    });
    if (this.options.replayState) this.options.onState?.(session.state);
  }

  #setState(state: SessionState | undefined): void {
    this.state = state;
    this.host.requestUpdate();
  }
}
