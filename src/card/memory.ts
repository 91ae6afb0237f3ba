/**
 * `MemoryCardChannel`: the APDU seam over an in-memory card (the virtual cards of
 * `webccid/virtual`, or any object with an ATR and a synchronous `transmit`). No reader, no
 * CCID, no timing: for fast tests of card operations and for demos. No pinpad.
 */
import { AbortError } from '../errors.js';
import { parseAtr, type Atr } from '../iso7816/atr.js';
import type { CardChannel, CardProtocol } from './channel.js';

/** What a card must offer to sit behind a `MemoryCardChannel`. */
export interface MemoryCard {
  readonly atr: Uint8Array;
  /** Processes one command APDU; returns response data || SW1 SW2. */
  transmit(apdu: Uint8Array): Uint8Array;
}

export interface MemoryCardChannelOptions {
  /** Protocol to report; default T=1 when the ATR offers it, else T=0. */
  protocol?: CardProtocol;
}

/** A `CardChannel` that hands each APDU straight to an in-memory card. */
export class MemoryCardChannel implements CardChannel {
  readonly atr: Atr;
  readonly protocol: CardProtocol;
  private readonly card: MemoryCard;

  /** Throws ProtocolError('protocol/bad-atr') when the card's ATR does not parse. */
  constructor(card: MemoryCard, options: MemoryCardChannelOptions = {}) {
    this.card = card;
    this.atr = parseAtr(card.atr);
    this.protocol = options.protocol ?? (this.atr.protocols.includes(1) ? 't1' : 't0');
  }

  /**
   * Sends a command APDU (a copy: the card never holds the caller's buffer); resolves with the
   * response data and SW1 SW2. Rejects with AbortError when the signal has fired.
   */
  async transmit(apdu: Uint8Array, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    if (options.signal?.aborted) throw new AbortError();
    const copy = apdu.slice();
    try {
      return this.card.transmit(copy).slice();
    } finally {
      copy.fill(0);
    }
  }
}
