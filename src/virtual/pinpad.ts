/**
 * The virtual reader's keypad: answers PC_to_RDR_Secure (plug `pinpad.onSecure`
 * into `createVirtualReader({ onSecure })`) with key presses a test or demo
 * scripts, or that a UI supplies later through `onEntry`.
 *
 * ```ts
 * const pinpad = createVirtualPinpad();
 * const reader = createVirtualReader({ preset: 'gemplus-gempc-pinpad', card, onSecure: pinpad.onSecure });
 * pinpad.type('123456').enter();                       // one verify
 * pinpad.type('123456').enter().type('654321').enter().type('654321').enter(); // one change with confirmation
 * pinpad.cancel();  pinpad.timeout();                  // user events
 * ```
 *
 * Each PIN entry the reader asks for (verify: current; modify: current when
 * bConfirmPIN bit 1, new, confirmation when bit 0) takes the next queued
 * entry; a command that ends early (cancel, timeout, wrong length) leaves the
 * rest of the queue for the next command. With the queue empty, `onEntry` is
 * asked (and given bTimeOut seconds of real time to answer, as a real reader
 * waits no longer); without it nobody types and the reader times out.
 *
 * What the reader answers, per CCID 1.10 §6.1.11 and PC/SC part 10 practice:
 * - the card's answer (data + SW) once the APDU built from the template with
 *   the keyed digits (formatted per bmFormatString / bmPINBlockString /
 *   bmPINLengthFormat, see `insertPin`) was sent to the card;
 * - cancel: bError 0xEF; timeout: bError 0xF0 (failed command, card untouched);
 * - a PIN shorter or longer than wPINMaxExtraDigit allows: the reader's own
 *   status 64 03 as the answer data (the card is not asked, no try is spent);
 * - new PIN and confirmation differ: 64 02 (card not asked);
 * - a structure that does not decode (unknown bPINOperation, truncated):
 *   failed command with bError 10 (the offset of bPINOperation);
 * - a structure that decodes but cannot be applied (PIN block outside the
 *   APDU, block size 0, reserved format, min > max): 6B80.
 *
 * Keyed digits live in buffers that are wiped once the APDU is sent, and the
 * APDU buffer too. Prompts are recorded (`prompts`) without any digit.
 */
import { bytesEqual, wipe } from '../bytes.js';
import { WebCcidError } from '../errors.js';
import { CONFIRM_PIN, PINPAD_SW, type SecurePinData } from '../ccid/secure.js';
import { decodeSecurePinData, describePinFormat, insertPin, pinLengthRange, type PinFormatFields } from '../ccid/secure-device.js';
import type { SecureOutcome, SecureRequest } from './reader/index.js';

/** Which value the reader asks for. */
export type PinpadStep = 'current' | 'new' | 'confirm';

/** What the reader shows when it asks for one entry (no digits, ever). */
export interface PinpadPrompt {
  operation: 'verify' | 'modify';
  step: PinpadStep;
  slot: number;
  minLength: number;
  maxLength: number;
  /** bTimeOut (0 = the reader's default). */
  timeoutSeconds: number;
  /** bMsgIndex of this step. */
  messageIndex: number;
  wLangId: number;
}

/**
 * One entry: digits then the validation key, or the cancel key, or nothing
 * until the reader's timeout. Digits as ASCII '0'..'9' bytes (wiped after use)
 * or a string.
 */
export type PinpadEntry = { digits: Uint8Array | string } | { cancel: true } | { timeout: true };

export interface VirtualPinpadOptions {
  /**
   * Asked for an entry when the script queue is empty (e.g. an on-screen keypad of the demo).
   * Like a real reader, the keypad waits `prompt.timeoutSeconds` (bTimeOut; 0: `defaultTimeoutSeconds`)
   * of real time for each entry, then gives up with a time-out (bError 0xF0) and aborts `signal`
   * (the UI should withdraw its prompt then); an answer after that is ignored.
   */
  onEntry?: (prompt: PinpadPrompt, options: { signal: AbortSignal }) => PinpadEntry | Promise<PinpadEntry>;
  /** The reader's own wait for an entry when bTimeOut is 0, in seconds. Default 30 (assumed: CCID leaves it to the reader). */
  defaultTimeoutSeconds?: number;
}

type Queued = { kind: 'digits'; bytes: Uint8Array } | { kind: 'cancel' } | { kind: 'timeout' };

const BAD_STRUCTURE_OFFSET = 10; // bPINOperation: the first byte after the 10-byte CCID header

function digitBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) {
      out.fill(0);
      throw new WebCcidError('virtual/bad-pinpad-key', 'A pinpad has digit keys 0-9 only.');
    }
    out[i] = c;
  }
  return out;
}

function sw(value: number): Uint8Array {
  return Uint8Array.of(value >> 8, value & 0xff);
}

export class VirtualPinpad {
  /** Every prompt the reader showed, in order. */
  readonly prompts: PinpadPrompt[] = [];
  private readonly queue: Queued[] = [];
  private typing: number[] = [];
  private readonly onEntry: VirtualPinpadOptions['onEntry'];
  private readonly defaultTimeoutSeconds: number;

  constructor(options: VirtualPinpadOptions = {}) {
    this.onEntry = options.onEntry;
    this.defaultTimeoutSeconds = options.defaultTimeoutSeconds ?? 30;
  }

  /** Presses digit keys (added to the entry under way). */
  type(digits: string): this {
    const bytes = digitBytes(digits);
    for (const b of bytes) this.typing.push(b);
    bytes.fill(0);
    return this;
  }

  /** Presses the validation key: the digits typed since the last entry make one entry. */
  enter(): this {
    const bytes = Uint8Array.from(this.typing);
    this.typing.fill(0);
    this.typing = [];
    this.queue.push({ kind: 'digits', bytes });
    return this;
  }

  /** Presses the cancel key (one entry). */
  cancel(): this {
    this.queue.push({ kind: 'cancel' });
    return this;
  }

  /** Nobody types until the reader gives up (one entry). */
  timeout(): this {
    this.queue.push({ kind: 'timeout' });
    return this;
  }

  /** Entries queued and not yet used. */
  get pending(): number {
    return this.queue.length;
  }

  /** Drops (and wipes) every queued entry and digits typed without enter. */
  clear(): void {
    for (const q of this.queue) if (q.kind === 'digits') wipe(q.bytes);
    this.queue.length = 0;
    this.typing.fill(0);
    this.typing = [];
  }

  /** The `onSecure` hook for `createVirtualReader`. */
  readonly onSecure = (request: SecureRequest): Promise<SecureOutcome> => this.handle(request);

  private async nextEntry(prompt: PinpadPrompt): Promise<Queued> {
    this.prompts.push(prompt);
    const q = this.queue.shift();
    if (q) return q;
    if (!this.onEntry) return { kind: 'timeout' };
    // The reader's own time-out: nobody answered within bTimeOut, the reader ends the command.
    const seconds = prompt.timeoutSeconds > 0 ? prompt.timeoutSeconds : this.defaultTimeoutSeconds;
    const giveUp = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), seconds * 1000);
    });
    let e: PinpadEntry | 'timeout';
    try {
      e = await Promise.race([Promise.resolve(this.onEntry({ ...prompt }, { signal: giveUp.signal })), timedOut]);
    } finally {
      clearTimeout(timer);
    }
    if (e === 'timeout') {
      giveUp.abort();
      return { kind: 'timeout' };
    }
    if ('cancel' in e) return { kind: 'cancel' };
    if ('timeout' in e) return { kind: 'timeout' };
    if (typeof e.digits === 'string') return { kind: 'digits', bytes: digitBytes(e.digits) };
    for (const b of e.digits) {
      if (b < 0x30 || b > 0x39) throw new WebCcidError('virtual/bad-pinpad-key', 'A pinpad has digit keys 0-9 only.');
    }
    return { kind: 'digits', bytes: e.digits.slice() };
  }

  private async handle(request: SecureRequest): Promise<SecureOutcome> {
    let s: SecurePinData;
    try {
      s = decodeSecurePinData(request.abData);
    } catch {
      return { error: 'bad-parameter', offset: BAD_STRUCTURE_OFFSET };
    }
    const format = describePinFormat(s);
    const range = pinLengthRange(s.wPINMaxExtraDigit);
    const steps = stepsOf(s);
    if (range.max === 0 || range.min > range.max || !applicable(s, format, range.max, steps)) {
      return { response: sw(PINPAD_SW.INVALID_PARAMETER) };
    }
    const keyed = new Map<PinpadStep, Uint8Array>();
    const forget = () => {
      for (const v of keyed.values()) wipe(v);
    };
    try {
      for (const [step, messageIndex] of steps) {
        const entry = await this.nextEntry({
          operation: s.operation,
          step,
          slot: request.slot,
          minLength: range.min,
          maxLength: range.max,
          timeoutSeconds: s.bTimeOut,
          messageIndex,
          wLangId: s.wLangId,
        });
        if (entry.kind === 'cancel') return { error: 'cancelled' };
        if (entry.kind === 'timeout') return { error: 'timeout' };
        keyed.set(step, entry.bytes);
        if (entry.bytes.length < range.min || entry.bytes.length > range.max) return { response: sw(PINPAD_SW.PIN_LENGTH) };
      }
      const fresh = keyed.get('new');
      const confirmation = keyed.get('confirm');
      if (fresh && confirmation && !bytesEqual(fresh, confirmation)) return { response: sw(PINPAD_SW.NEW_PIN_MISMATCH) };
      const apdu = s.abPINApdu.slice();
      try {
        const current = keyed.get('current');
        const offsets = s.operation === 'modify' ? { old: s.bInsertionOffsetOld, new: s.bInsertionOffsetNew } : { old: 0, new: 0 };
        if (current && !insertPin(apdu, current, format, offsets.old)) return { response: sw(PINPAD_SW.INVALID_PARAMETER) };
        if (fresh && !insertPin(apdu, fresh, format, offsets.new)) return { response: sw(PINPAD_SW.INVALID_PARAMETER) };
        return { response: request.transmit(apdu) };
      } finally {
        wipe(apdu);
      }
    } finally {
      forget();
    }
  }
}

/** The entries a structure asks for, with the bMsgIndex of each. */
function stepsOf(s: SecurePinData): Array<[PinpadStep, number]> {
  if (s.operation === 'verify') return [['current', s.bMsgIndex]];
  const indexes = [s.bMsgIndex1, s.bMsgIndex2 ?? s.bMsgIndex1, s.bMsgIndex3 ?? s.bMsgIndex2 ?? s.bMsgIndex1];
  const steps: PinpadStep[] = [];
  if (s.bConfirmPIN & CONFIRM_PIN.ENTER_CURRENT) steps.push('current');
  steps.push('new');
  if (s.bConfirmPIN & CONFIRM_PIN.CONFIRM_NEW) steps.push('confirm');
  return steps.map((step, i) => [step, indexes[i]!]);
}

/** Whether the longest and shortest PINs fit where the structure puts them (checked before asking the user). */
function applicable(s: SecurePinData, format: PinFormatFields, max: number, steps: Array<[PinpadStep, number]>): boolean {
  const probe = new Uint8Array(max).fill(0x30);
  const offsets =
    s.operation === 'modify'
      ? steps.map(([step]) => (step === 'current' ? s.bInsertionOffsetOld : s.bInsertionOffsetNew))
      : [0];
  for (const offset of offsets) {
    if (!insertPin(s.abPINApdu.slice(), probe.subarray(0, 1), format, offset)) return false;
    if (!insertPin(s.abPINApdu.slice(), probe, format, offset)) return false;
  }
  return true;
}

/** A virtual keypad for the virtual reader (see the module comment). */
export function createVirtualPinpad(options: VirtualPinpadOptions = {}): VirtualPinpad {
  return new VirtualPinpad(options);
}
