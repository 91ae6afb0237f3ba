/**
 * Kiosk idle reset for the flow components: after `idleSeconds` without a
 * pointer, key (or input) event, the flow starts over — unless it is busy
 * with the card, in which case the timer is re-armed. Off unless the host is
 * in kiosk mode. A Lit reactive controller: it follows the host's connection.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';

export interface KioskIdleHost extends ReactiveControllerHost, HTMLElement {
  kiosk: boolean;
  idleSeconds: number;
}

export interface KioskIdleOptions {
  /** True while the flow works with the card: no reset then. */
  busy: () => boolean;
  /** Starts the flow over. */
  onIdle: () => void;
  /** Events on the host that count as activity. */
  events: readonly string[];
}

export class KioskIdleController implements ReactiveController {
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #onActivity = (): void => this.arm();

  constructor(
    private readonly host: KioskIdleHost,
    private readonly options: KioskIdleOptions,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    for (const type of this.options.events) this.host.addEventListener(type, this.#onActivity);
    this.arm();
  }

  hostDisconnected(): void {
    for (const type of this.options.events) this.host.removeEventListener(type, this.#onActivity);
    this.clear();
  }

  /** (Re)starts the countdown; does nothing outside kiosk mode or with no idle time. */
  arm(): void {
    this.clear();
    const host = this.host;
    if (!host.kiosk || !host.isConnected || !(host.idleSeconds > 0)) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.options.busy()) this.arm();
      else this.options.onIdle();
    }, host.idleSeconds * 1000);
  }

  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
