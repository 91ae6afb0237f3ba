/**
 * The Web Smart Card API as TypeScript types (WICG "Web Smart Card API", the IDL of
 * `navigator.smartCard`). Names and members are the spec's; only what this backend and its
 * fake use is typed (every method of the IDL is, the fake implements them all).
 *
 * DOM lib has no such types yet, so they live here. Byte buffers are typed as the spec's
 * `BufferSource` / `ArrayBuffer`.
 */

/** `navigator.smartCard`: entry point (spec §3). */
export interface SmartCardResourceManager {
  establishContext(): Promise<SmartCardContext>;
}

/** A PC/SC context (spec §4). One operation at a time: a second one rejects with InvalidStateError. */
export interface SmartCardContext {
  listReaders(): Promise<string[]>;
  getStatusChange(readerStates: SmartCardReaderStateIn[], options?: SmartCardGetStatusChangeOptions): Promise<SmartCardReaderStateOut[]>;
  connect(readerName: string, accessMode: SmartCardAccessMode, options?: SmartCardConnectOptions): Promise<SmartCardConnectResult>;
}

export interface SmartCardReaderStateIn {
  readerName: string;
  currentState: SmartCardReaderStateFlagsIn;
  currentCount?: number;
}

export interface SmartCardReaderStateFlagsIn {
  unaware?: boolean;
  ignore?: boolean;
  unavailable?: boolean;
  empty?: boolean;
  present?: boolean;
  exclusive?: boolean;
  inuse?: boolean;
  mute?: boolean;
  unpowered?: boolean;
}

export interface SmartCardReaderStateOut {
  readerName: string;
  eventState: SmartCardReaderStateFlagsOut;
  eventCount: number;
  answerToReset?: ArrayBuffer;
}

export interface SmartCardReaderStateFlagsOut {
  ignore: boolean;
  changed: boolean;
  unavailable: boolean;
  unknown: boolean;
  empty: boolean;
  present: boolean;
  exclusive: boolean;
  inuse: boolean;
  mute: boolean;
  unpowered: boolean;
}

export interface SmartCardGetStatusChangeOptions {
  /** Milliseconds (DOMHighResTimeStamp); absent = INFINITE. */
  timeout?: number;
  signal?: AbortSignal;
}

export type SmartCardProtocol = 'raw' | 't0' | 't1';
export type SmartCardAccessMode = 'shared' | 'exclusive' | 'direct';
export type SmartCardDisposition = 'leave' | 'reset' | 'unpower' | 'eject';

export interface SmartCardConnectOptions {
  preferredProtocols?: SmartCardProtocol[];
}

export interface SmartCardConnectResult {
  connection: SmartCardConnection;
  activeProtocol?: SmartCardProtocol;
}

export interface SmartCardTransmitOptions {
  protocol?: SmartCardProtocol;
}

export interface SmartCardTransactionOptions {
  signal?: AbortSignal;
}

/** Resolves with the disposition for EndTransaction (undefined / null = "reset"). */
export type SmartCardTransactionCallback = () => Promise<SmartCardDisposition | null | undefined>;

export type SmartCardConnectionState = 'absent' | 'present' | 'swallowed' | 'powered' | 'negotiable' | 't0' | 't1' | 'raw';

export interface SmartCardConnectionStatus {
  readerName: string;
  state: SmartCardConnectionState;
  answerToReset?: ArrayBuffer;
}

/** A connection to a card (spec §5). */
export interface SmartCardConnection {
  disconnect(disposition?: SmartCardDisposition): Promise<void>;
  transmit(sendBuffer: BufferSource, options?: SmartCardTransmitOptions): Promise<ArrayBuffer>;
  startTransaction(transaction: SmartCardTransactionCallback, options?: SmartCardTransactionOptions): Promise<void>;
  status(): Promise<SmartCardConnectionStatus>;
  control(controlCode: number, data: BufferSource): Promise<ArrayBuffer>;
  getAttribute(tag: number): Promise<ArrayBuffer>;
  setAttribute(tag: number, value: BufferSource): Promise<void>;
}

/** `SmartCardError.responseCode` (spec §6). */
export type SmartCardResponseCode =
  | 'no-service'
  | 'no-smartcard'
  | 'not-ready'
  | 'not-transacted'
  | 'proto-mismatch'
  | 'reader-unavailable'
  | 'removed-card'
  | 'reset-card'
  | 'server-too-busy'
  | 'sharing-violation'
  | 'system-cancelled'
  | 'unknown-reader'
  | 'unpowered-card'
  | 'unresponsive-card'
  | 'unsupported-card'
  | 'unsupported-feature';

/** Every `SmartCardResponseCode`, in the spec's order. */
export const SMART_CARD_RESPONSE_CODES: readonly SmartCardResponseCode[] = [
  'no-service',
  'no-smartcard',
  'not-ready',
  'not-transacted',
  'proto-mismatch',
  'reader-unavailable',
  'removed-card',
  'reset-card',
  'server-too-busy',
  'sharing-violation',
  'system-cancelled',
  'unknown-reader',
  'unpowered-card',
  'unresponsive-card',
  'unsupported-card',
  'unsupported-feature',
];

/** The shape of a `SmartCardError` (a DOMException with a `responseCode`). */
export interface SmartCardErrorLike {
  readonly name: string;
  readonly message: string;
  readonly responseCode: SmartCardResponseCode;
}
