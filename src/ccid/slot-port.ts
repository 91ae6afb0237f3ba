/**
 * What a connection and the activation steps need of their reader: the class
 * descriptor, one CCID command at a time (the caller holds the slot's lock),
 * the timeout for a command, and whether the reader is still usable.
 * `CcidReader` implements it; `CcidConnection` and activation.ts use only
 * this, so the connection does not import the reader.
 */
import type { WebCcidError } from '../errors.js';
import type { CcidClassDescriptor } from './descriptor.js';
import type { CcidResponse } from './messages.js';
import type { CcidRequest, ExchangeOptions } from './transport.js';

export interface SlotStatus {
  slot: number;
  /** 'absent' | 'present' (inactive) | 'active' (powered). */
  state: 'absent' | 'present' | 'active';
}

export interface SlotPort {
  readonly descriptor: CcidClassDescriptor;
  /** GET_DATA_RATES answer in bps, when the reader lists them. */
  readonly dataRates: number[] | undefined;
  /** True once the reader is unplugged or closed. */
  readonly isClosed: boolean;
  /** True from the moment `close()` is called. */
  readonly isClosing: boolean;
  /** The error that closed the reader (unplug, close). */
  closedError(): WebCcidError;
  /** One CCID command; the caller holds the slot's lock. */
  command(request: CcidRequest, options: ExchangeOptions): Promise<CcidResponse>;
  /** Timeout (ms) for a command whose card-side work takes `cardSeconds`. */
  commandTimeout(cardSeconds: number): number;
  /** GetSlotStatus, under the slot's lock. */
  status(slot: number, options?: { signal?: AbortSignal }): Promise<SlotStatus>;
}
