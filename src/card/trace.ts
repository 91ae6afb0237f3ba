/**
 * The trace recorder: a `CardChannel` that wraps another one and records
 * every command APDU and answer with its timing, for confirming or
 * correcting a card profile (`npx webccid probe --out trace.json`).
 *
 * Secrets never enter a trace:
 * - the data field of VERIFY (20/21), CHANGE REFERENCE DATA (24/25), RESET
 *   RETRY COUNTER (2C/2D), PERFORM SECURITY OPERATION (2A), INTERNAL
 *   AUTHENTICATE (88) and GENERAL AUTHENTICATE (86/87) is replaced by
 *   `[REDACTED n bytes]`; CLA INS P1 P2, Lc and Le are kept;
 * - the response data of PSO DECIPHER (2A 80 86) is redacted too;
 * - the pinpad operations (PC_to_RDR_Secure) record only the command
 *   header, the PIN block format and the card's answer (the digits are keyed
 *   on the reader and never reach the host anyway).
 * The recorder keeps hex strings built at once, never a reference to the
 * caller's buffers (which the card operations wipe after use).
 *
 * Trace file format (JSON, `format: "webccid-trace"`, `version: 1`):
 * ```
 * { format, version, tool: { name, version }, createdAt (ISO 8601),
 *   profile?: { id },
 *   sessions: [ { reader?: { vendorId "072F", productId "90CC", name, exchangeLevel, pinpad },
 *                 slot?, atr (hex), protocol ('t0' | 't1'), startedAt (ISO 8601),
 *                 entries: [ { index, kind ('apdu' | 'secure-verify' | 'secure-modify'),
 *                              atMs (since the session started), durationMs,
 *                              command (hex, redacted parts as "[REDACTED n bytes]"),
 *                              redacted?: true, secure?: { ...pin block formats },
 *                              response? (hex: data + SW1 SW2), sw? ("9000"), status? (English),
 *                              error?: { name, code, message } } ] } ] }
 * ```
 * Documented in docs/hca-profile.md.
 */
import { toHex, wipe } from '../bytes.js';
import { WebCcidError } from '../errors.js';
import { parseApdu } from '../iso7816/apdu.js';
import { describeStatusWord } from '../iso7816/status-text.js';
import type { Atr } from '../iso7816/atr.js';
import type {
  CardChannel,
  CardProtocol,
  PinBlockFormat,
  SecurePinModifyRequest,
  SecurePinVerifyRequest,
} from './channel.js';

/** The trace file format identifier. */
export const TRACE_FORMAT = 'webccid-trace';
/** The trace file format version this module writes. */
export const TRACE_VERSION = 1;

/**
 * Instructions whose command data field is redacted: VERIFY, CHANGE REFERENCE DATA, RESET RETRY
 * COUNTER (and their odd, BER-TLV variants), PSO, INTERNAL AUTHENTICATE, GENERAL AUTHENTICATE.
 */
export const REDACTED_INS: ReadonlySet<number> = new Set([0x20, 0x21, 0x24, 0x25, 0x2c, 0x2d, 0x2a, 0x88, 0x86, 0x87]);

/** Instructions whose response data is card content (READ BINARY / RECORD, GET DATA): redacted with `redactCardData`. */
const CARD_DATA_INS: ReadonlySet<number> = new Set([0xb0, 0xb1, 0xb2, 0xb3, 0xca, 0xcb]);

/** One recorded exchange. */
export interface TraceEntry {
  /** 0, 1, 2 ... in the order the commands were sent. */
  index: number;
  kind: 'apdu' | 'secure-verify' | 'secure-modify';
  /** When the command was sent, ms since the session started. */
  atMs: number;
  /** How long the answer took, ms. */
  durationMs: number;
  /** The command APDU in hex; a redacted data field reads `[REDACTED n bytes]`. For pinpad operations: the header. */
  command: string;
  /** Present (true) when a part of the command or response was redacted. */
  redacted?: true;
  /** Pinpad operations: what the reader was asked to build. */
  secure?: {
    format?: PinBlockFormat;
    oldFormat?: PinBlockFormat;
    newFormat?: PinBlockFormat;
    confirm?: boolean;
    timeoutSeconds?: number;
  };
  /** The answer in hex (data + SW1 SW2); redacted data reads `[REDACTED n bytes]`. */
  response?: string;
  /** SW1 SW2 as 4 hex digits. */
  sw?: string;
  /** What the status word means (English). */
  status?: string;
  /** The exchange failed below the card (reader, USB, protocol, user cancel on the pinpad). */
  error?: { name: string; code: string; message: string };
}

/** The reader a session went through, as recorded in the trace. */
export interface TraceReaderInfo {
  /** 4 hex digits. */
  vendorId: string;
  productId: string;
  name?: string;
  exchangeLevel?: string;
  pinpad?: { verify: boolean; modify: boolean };
}

/** One card session: the card's ATR and every exchange with it. */
export interface TraceSession {
  reader?: TraceReaderInfo;
  slot?: number;
  atr: string;
  protocol: CardProtocol;
  startedAt: string;
  entries: TraceEntry[];
}

/** A whole trace file. */
export interface TraceFile {
  format: typeof TRACE_FORMAT;
  version: typeof TRACE_VERSION;
  tool: { name: string; version: string };
  createdAt: string;
  profile?: { id: string };
  sessions: TraceSession[];
}

export interface TracingChannelOptions {
  /** Milliseconds clock (default `performance.now()`). */
  now?: () => number;
  /** Wall clock for `startedAt` (default `new Date()`). */
  date?: () => Date;
  /**
   * Also redact the response data of READ BINARY / READ RECORD / GET DATA (the card's files: name,
   * ID number, certificates), for sharing a trace without personal data. Default false.
   */
  redactCardData?: boolean;
}

function redactedText(n: number): string {
  return `[REDACTED ${n} byte${n === 1 ? '' : 's'}]`;
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

/** The command as trace text: the data field of the instructions in `REDACTED_INS` replaced by its length. */
export function redactCommand(apdu: Uint8Array): { text: string; redacted: boolean } {
  if (apdu.length < 5 || !REDACTED_INS.has(apdu[1]!)) return { text: toHex(apdu), redacted: false };
  let parsed;
  try {
    parsed = parseApdu(apdu);
  } catch {
    // Not a well-formed APDU: keep the header only.
    return { text: `${toHex(apdu.subarray(0, 4))} ${redactedText(apdu.length - 4)}`, redacted: true };
  }
  const n = parsed.data?.length ?? 0;
  if (parsed.data) wipe(parsed.data); // parseApdu copied the (secret) data field
  if (n === 0) return { text: toHex(apdu), redacted: false };
  const dataOffset = parsed.extended ? 7 : 5;
  const lc = apdu.subarray(4, dataOffset);
  const le = apdu.subarray(dataOffset + n);
  const parts = [toHex(apdu.subarray(0, 4)), toHex(lc), redactedText(n)];
  if (le.length > 0) parts.push(toHex(le));
  return { text: parts.join(' '), redacted: true };
}

function describeError(e: unknown): { name: string; code: string; message: string } {
  if (e instanceof WebCcidError) return { name: e.name, code: e.code, message: e.message };
  if (e instanceof Error) return { name: e.name, code: 'unknown', message: e.message };
  return { name: 'Error', code: 'unknown', message: String(e) };
}

/**
 * A `CardChannel` that records every exchange of the channel it wraps. Use it in place of the
 * wrapped channel; `session()` returns what was recorded.
 */
export class TracingChannel implements CardChannel {
  readonly entries: TraceEntry[] = [];
  /** Present when the wrapped channel has a pinpad. */
  readonly pinpad?: { verify: boolean; modify: boolean };
  /** Present when the wrapped channel has it. */
  readonly verifyPinSecure?: (request: SecurePinVerifyRequest, options?: { signal?: AbortSignal }) => Promise<Uint8Array>;
  /** Present when the wrapped channel has it. */
  readonly modifyPinSecure?: (request: SecurePinModifyRequest, options?: { signal?: AbortSignal }) => Promise<Uint8Array>;
  private readonly now: () => number;
  private readonly start: number;
  private readonly startedAt: Date;
  private readonly redactCardData: boolean;

  constructor(
    readonly inner: CardChannel,
    options: TracingChannelOptions = {},
  ) {
    this.now = options.now ?? (() => globalThis.performance.now());
    this.start = this.now();
    this.startedAt = (options.date ?? (() => new Date()))();
    this.redactCardData = options.redactCardData ?? false;
    if (inner.pinpad) this.pinpad = { ...inner.pinpad };
    const verify = inner.verifyPinSecure;
    if (verify) {
      this.verifyPinSecure = (request, opts) =>
        this.record('secure-verify', toHex(request.header), { format: { ...request.format }, ...timeout(request) }, () =>
          verify.call(inner, request, opts),
        );
    }
    const modify = inner.modifyPinSecure;
    if (modify) {
      this.modifyPinSecure = (request, opts) =>
        this.record(
          'secure-modify',
          toHex(request.header),
          { oldFormat: { ...request.oldFormat }, newFormat: { ...request.newFormat }, confirm: request.confirm, ...timeout(request) },
          () => modify.call(inner, request, opts),
        );
    }
  }

  get atr(): Atr {
    return this.inner.atr;
  }

  get protocol(): CardProtocol {
    return this.inner.protocol;
  }

  transmit(apdu: Uint8Array, options?: { signal?: AbortSignal }): Promise<Uint8Array> {
    const { text, redacted } = redactCommand(apdu);
    const ins = apdu[1];
    const p1p2 = apdu.length >= 4 ? (apdu[2]! << 8) | apdu[3]! : -1;
    const redactResponse =
      (ins === 0x2a && p1p2 === 0x8086) || (this.redactCardData && ins !== undefined && CARD_DATA_INS.has(ins));
    return this.record('apdu', text, undefined, () => this.inner.transmit(apdu, options), { redacted, redactResponse });
  }

  /** What was recorded so far, as a trace session. */
  session(info: { reader?: TraceReaderInfo; slot?: number } = {}): TraceSession {
    return {
      ...(info.reader ? { reader: info.reader } : {}),
      ...(info.slot === undefined ? {} : { slot: info.slot }),
      atr: toHex(this.inner.atr.bytes),
      protocol: this.inner.protocol,
      startedAt: this.startedAt.toISOString(),
      entries: this.entries.map((e) => ({ ...e })),
    };
  }

  private async record(
    kind: TraceEntry['kind'],
    command: string,
    secure: TraceEntry['secure'],
    run: () => Promise<Uint8Array>,
    flags: { redacted?: boolean; redactResponse?: boolean } = {},
  ): Promise<Uint8Array> {
    const t0 = this.now();
    const entry: TraceEntry = { index: this.entries.length, kind, atMs: round(t0 - this.start), durationMs: 0, command };
    if (flags.redacted) entry.redacted = true;
    if (secure) entry.secure = secure;
    this.entries.push(entry);
    try {
      const response = await run();
      entry.durationMs = round(this.now() - t0);
      if (response.length >= 2) {
        const sw = (response[response.length - 2]! << 8) | response[response.length - 1]!;
        const dataLength = response.length - 2;
        if (flags.redactResponse && dataLength > 0) {
          entry.response = `${redactedText(dataLength)} ${toHex(response.subarray(dataLength))}`;
          entry.redacted = true;
        } else {
          entry.response = toHex(response);
        }
        entry.sw = hex4(sw);
        entry.status = describeStatusWord(sw);
      } else {
        entry.response = toHex(response);
      }
      return response;
    } catch (e) {
      entry.durationMs = round(this.now() - t0);
      entry.error = describeError(e);
      throw e;
    }
  }
}

function timeout(request: { timeoutSeconds?: number }): { timeoutSeconds?: number } {
  return request.timeoutSeconds === undefined ? {} : { timeoutSeconds: request.timeoutSeconds };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** Builds a trace file from sessions. */
export function createTraceFile(options: {
  tool: { name: string; version: string };
  profileId?: string;
  sessions: TraceSession[];
  createdAt?: Date;
}): TraceFile {
  return {
    format: TRACE_FORMAT,
    version: TRACE_VERSION,
    tool: { ...options.tool },
    createdAt: (options.createdAt ?? new Date()).toISOString(),
    ...(options.profileId === undefined ? {} : { profile: { id: options.profileId } }),
    sessions: options.sessions,
  };
}

/** The reader fields of a trace session, from USB identity and descriptor facts. */
export function traceReaderInfo(reader: {
  vendorId: number;
  productId: number;
  name?: string | undefined;
  exchangeLevel?: string;
  pinpad?: { verify: boolean; modify: boolean };
}): TraceReaderInfo {
  return {
    vendorId: hex4(reader.vendorId),
    productId: hex4(reader.productId),
    ...(reader.name === undefined ? {} : { name: reader.name }),
    ...(reader.exchangeLevel === undefined ? {} : { exchangeLevel: reader.exchangeLevel }),
    ...(reader.pinpad ? { pinpad: { ...reader.pinpad } } : {}),
  };
}
