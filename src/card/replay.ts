/**
 * The trace player: a `CardChannel` that plays back a recorded trace (src/card/trace.ts: what
 * `npx webccid probe` writes, and any field report that carries such a trace), so that a report
 * from a real card becomes a test that needs no card.
 *
 * Matching: a recorded command is a pattern. Its hex bytes must equal the command sent; a
 * `[REDACTED n bytes]` part (a PIN, a PUK, a hash to sign...) matches any n bytes. A pinpad
 * operation (`secure-verify` / `secure-modify`) matches the same operation with the same command
 * header (and, when recorded, the same PIN block formats). The answer is the recorded one; a
 * redacted part of it (card data withheld from a shared trace, a deciphered block) is replaced by
 * as many `fill` bytes (default 00). An exchange that failed below the card (its entry has
 * `error`) rejects with `ReplayError('replay/recorded-error')` carrying the recorded code.
 *
 * Order: 'sequential' (default) plays the entries in order, each once: the code under test must
 * send exactly what was recorded. 'lookup' answers each command with the first matching entry not
 * used yet (or, when all matching ones were used, the last of them): for driving the recorded card
 * with changed code or a changed profile, as long as it only asks what the card was asked. As a
 * card's answer to READ BINARY (and the like) depends on the file selected, such a command only
 * matches entries recorded after the same SELECT as the last one sent; other commands prefer
 * those.
 *
 * Errors (`ReplayError`, codes `replay/*`): `replay/bad-trace` (the JSON is not a trace, or the
 * session asked for is absent), `replay/mismatch` (sequential: the command differs from the next
 * recorded one), `replay/unexpected-command` (nothing recorded matches), `replay/exhausted`
 * (sequential: every entry was played), `replay/recorded-error`. Their messages show commands as
 * the trace would (PIN-carrying data redacted), never the bytes of a PIN.
 */
import { bytesEqual, fromHex, toHex } from '../bytes.js';
import { WebCcidError } from '../errors.js';
import { parseAtr, type Atr } from '../iso7816/atr.js';
import type { CardChannel, CardProtocol, PinBlockFormat, SecurePinModifyRequest, SecurePinVerifyRequest } from './channel.js';
import { redactCommand, TRACE_FORMAT, type TraceEntry, type TraceFile, type TraceSession } from './trace.js';

/** Errors of the trace player (see the module comment). */
export class ReplayError extends WebCcidError {
  /** For `replay/recorded-error`: the error the trace recorded. */
  readonly recorded?: { name: string; code: string; message: string };

  constructor(code: string, message: string, recorded?: { name: string; code: string; message: string }) {
    super(code, message);
    if (recorded) this.recorded = { ...recorded };
  }
}

/** One part of a recorded byte string: literal bytes, or n redacted (any) bytes. */
type Part = { bytes: Uint8Array } | { any: number };

const REDACTED = /\[REDACTED (\d+) bytes?\]/g;

/** Parses trace hex text with `[REDACTED n bytes]` parts. Throws `replay/bad-trace`. */
export function parsePattern(text: string, where: string): Part[] {
  const parts: Part[] = [];
  let last = 0;
  const pushHex = (hex: string) => {
    if (hex.trim() === '') return;
    try {
      parts.push({ bytes: fromHex(hex) });
    } catch {
      throw new ReplayError('replay/bad-trace', `${where}: "${hex.trim()}" is not hex.`);
    }
  };
  for (const m of text.matchAll(REDACTED)) {
    pushHex(text.slice(last, m.index));
    parts.push({ any: Number(m[1]) });
    last = m.index + m[0].length;
  }
  pushHex(text.slice(last));
  return parts;
}

function patternLength(parts: Part[]): number {
  return parts.reduce((n, p) => n + ('bytes' in p ? p.bytes.length : p.any), 0);
}

/** True when `bytes` matches the pattern (redacted parts match anything of their length). */
export function matchesPattern(parts: Part[], bytes: Uint8Array): boolean {
  if (patternLength(parts) !== bytes.length) return false;
  let at = 0;
  for (const p of parts) {
    if ('bytes' in p) {
      if (!bytesEqual(p.bytes, bytes.subarray(at, at + p.bytes.length))) return false;
      at += p.bytes.length;
    } else at += p.any;
  }
  return true;
}

function fillPattern(parts: Part[], fill: number): Uint8Array {
  const out = new Uint8Array(patternLength(parts));
  let at = 0;
  for (const p of parts) {
    if ('bytes' in p) {
      out.set(p.bytes, at);
      at += p.bytes.length;
    } else {
      out.fill(fill, at, at + p.any);
      at += p.any;
    }
  }
  return out;
}

function normalise(text: string): string {
  return text.replace(/\s+/g, ' ').trim().toUpperCase();
}

/** True for a SELECT command as trace text (any class; INS A4). */
function isSelect(text: string): boolean {
  return /^[0-9A-F]{2} A4 /.test(normalise(text));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isSession(v: unknown): v is TraceSession {
  return isObject(v) && typeof v.atr === 'string' && Array.isArray(v.entries);
}

function isTraceFile(v: unknown): v is TraceFile {
  return isObject(v) && Array.isArray(v.sessions) && (v.format === undefined || v.format === TRACE_FORMAT);
}

/**
 * The trace sessions of a parsed JSON document: a trace file (`format: "webccid-trace"`), a report
 * that carries one in a top-level property (the probe's `{ readers, trace }`, a field report's
 * `{ ..., trace }`), or a bare session. Throws `replay/bad-trace` otherwise.
 */
export function traceSessionsOf(document: unknown): TraceSession[] {
  let sessions: unknown[] | undefined;
  if (isTraceFile(document)) sessions = document.sessions;
  else if (isSession(document)) sessions = [document];
  else if (isObject(document)) {
    const inner = Object.values(document).find((v) => isTraceFile(v) && (v as unknown as Record<string, unknown>).format === TRACE_FORMAT) ?? Object.values(document).find(isTraceFile);
    if (inner) sessions = (inner as TraceFile).sessions;
  }
  if (!sessions) throw new ReplayError('replay/bad-trace', 'This is not a webccid trace (no "sessions" with an "atr" and "entries").');
  sessions.forEach((s, i) => {
    if (!isSession(s)) throw new ReplayError('replay/bad-trace', `Trace session ${i} has no "atr" and "entries".`);
    if (s.protocol !== undefined && s.protocol !== 't0' && s.protocol !== 't1') throw new ReplayError('replay/bad-trace', `Trace session ${i}: protocol must be "t0" or "t1".`);
  });
  return sessions as TraceSession[];
}

export interface ReplayChannelOptions {
  /** See the module comment. Default 'sequential'. */
  order?: 'sequential' | 'lookup';
  /** Byte that stands for redacted answer bytes. Default 0x00. */
  fill?: number;
}

/** Instructions whose answer depends on the selected file: READ BINARY / RECORD, GET RESPONSE. */
const FILE_STATE_INS: ReadonlySet<number> = new Set([0xb0, 0xb1, 0xb2, 0xb3, 0xc0]);

interface PreparedEntry {
  entry: TraceEntry;
  /** The last SELECT (as trace text) recorded before this entry. */
  context: string | undefined;
  command: Part[];
  response: Part[] | undefined;
  used: boolean;
}

function sameFormat(a: PinBlockFormat | undefined, b: PinBlockFormat): boolean {
  if (!a) return true;
  return a.encoding === b.encoding && a.minLength === b.minLength && a.maxLength === b.maxLength && a.blockLength === b.blockLength && a.padByte === b.padByte;
}

/** A `CardChannel` playing back one trace session (see the module comment). */
export class ReplayChannel implements CardChannel {
  readonly atr: Atr;
  readonly protocol: CardProtocol;
  readonly pinpad?: { verify: boolean; modify: boolean };
  /** Every command the code under test sent, as trace text (PIN-carrying data redacted). */
  readonly sent: string[] = [];
  private readonly entries: PreparedEntry[];
  private readonly order: 'sequential' | 'lookup';
  private readonly fill: number;
  private next = 0;
  /** The last SELECT sent (lookup order). */
  private context: string | undefined;

  constructor(session: TraceSession, options: ReplayChannelOptions = {}) {
    if (!isSession(session)) throw new ReplayError('replay/bad-trace', 'A trace session needs an "atr" and "entries".');
    try {
      this.atr = parseAtr(fromHex(session.atr));
    } catch (e) {
      throw new ReplayError('replay/bad-trace', `The trace's ATR does not parse: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.protocol = session.protocol ?? (this.atr.protocols.includes(1) ? 't1' : 't0');
    if (session.reader?.pinpad) this.pinpad = { ...session.reader.pinpad };
    this.order = options.order ?? 'sequential';
    this.fill = options.fill ?? 0;
    let context: string | undefined;
    this.entries = session.entries.map((entry, i) => {
      const prepared: PreparedEntry = {
        entry,
        context,
        command: parsePattern(String(entry.command ?? ''), `entry ${entry.index ?? i} command`),
        response: entry.response === undefined ? undefined : parsePattern(entry.response, `entry ${entry.index ?? i} response`),
        used: false,
      };
      if (isSelect(String(entry.command ?? ''))) context = normalise(String(entry.command));
      return prepared;
    });
  }

  /** A player for session `session` (default 0) of a trace file or report (see `traceSessionsOf`). */
  static fromJson(document: unknown, options: ReplayChannelOptions & { session?: number } = {}): ReplayChannel {
    const sessions = traceSessionsOf(document);
    const index = options.session ?? 0;
    const session = sessions[index];
    if (!session) throw new ReplayError('replay/bad-trace', `The trace has ${sessions.length} session(s); session ${index} asked for.`);
    return new ReplayChannel(session, options);
  }

  /** Entries not played yet. */
  get remaining(): TraceEntry[] {
    return this.entries.filter((e) => !e.used).map((e) => e.entry);
  }

  /** Throws `replay/mismatch` when some recorded entries were not played (sequential order). */
  assertComplete(): void {
    const left = this.remaining;
    if (left.length > 0) {
      throw new ReplayError('replay/mismatch', `${left.length} recorded exchange(s) were not played, from entry ${left[0]!.index}: ${left[0]!.command}.`);
    }
  }

  transmit(apdu: Uint8Array, _options?: { signal?: AbortSignal }): Promise<Uint8Array> {
    const text = redactCommand(apdu).text;
    this.sent.push(text);
    const context = this.context;
    if (isSelect(text)) this.context = normalise(text);
    return this.play('apdu', text, (e) => matchesPattern(e.command, apdu), { context, fileState: apdu.length >= 2 && FILE_STATE_INS.has(apdu[1]!) });
  }

  verifyPinSecure(request: SecurePinVerifyRequest, _options?: { signal?: AbortSignal }): Promise<Uint8Array> {
    const text = toHex(request.header);
    this.sent.push(`secure-verify ${text}`);
    return this.play('secure-verify', text, (e) => matchesPattern(e.command, request.header) && sameFormat(e.entry.secure?.format, request.format));
  }

  modifyPinSecure(request: SecurePinModifyRequest, _options?: { signal?: AbortSignal }): Promise<Uint8Array> {
    const text = toHex(request.header);
    this.sent.push(`secure-modify ${text}`);
    return this.play(
      'secure-modify',
      text,
      (e) => matchesPattern(e.command, request.header) && sameFormat(e.entry.secure?.oldFormat, request.oldFormat) && sameFormat(e.entry.secure?.newFormat, request.newFormat),
    );
  }

  private async play(
    kind: TraceEntry['kind'],
    text: string,
    matches: (e: PreparedEntry) => boolean,
    state: { context?: string | undefined; fileState?: boolean } = {},
  ): Promise<Uint8Array> {
    const fits = (e: PreparedEntry) => (e.entry.kind ?? 'apdu') === kind && matches(e);
    let found: PreparedEntry | undefined;
    if (this.order === 'sequential') {
      const e = this.entries[this.next];
      if (!e) throw new ReplayError('replay/exhausted', `Every recorded exchange was played; then came: ${kind === 'apdu' ? '' : `${kind} `}${text}.`);
      if (!fits(e)) {
        throw new ReplayError(
          'replay/mismatch',
          `Entry ${e.entry.index}: recorded ${(e.entry.kind ?? 'apdu') === 'apdu' ? '' : `${e.entry.kind} `}${e.entry.command}, sent ${kind === 'apdu' ? '' : `${kind} `}${text}.`,
        );
      }
      this.next++;
      found = e;
    } else {
      const all = this.entries.filter(fits);
      const here = all.filter((e) => e.context === state.context);
      const pool = here.length > 0 || state.fileState ? here : all;
      found = pool.find((e) => !e.used) ?? pool[pool.length - 1];
      if (!found) throw new ReplayError('replay/unexpected-command', `Nothing recorded answers ${kind === 'apdu' ? '' : `${kind} `}${text}.`);
    }
    found.used = true;
    const { entry } = found;
    if (entry.error) {
      throw new ReplayError('replay/recorded-error', `Entry ${entry.index}: the recorded exchange failed: ${entry.error.message} [${entry.error.code}]`, entry.error);
    }
    if (!found.response) throw new ReplayError('replay/bad-trace', `Entry ${entry.index} has neither a response nor an error.`);
    return fillPattern(found.response, this.fill);
  }
}
