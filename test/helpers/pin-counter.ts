/**
 * A `CardChannel` wrapper that counts what reaches the card that carries a PIN or PUK: command
 * APDUs VERIFY (20), CHANGE REFERENCE DATA (24) and RESET RETRY COUNTER (2C) with a data field,
 * and pinpad operations (PC_to_RDR_Secure: `verifyPinSecure` / `modifyPinSecure`). Optionally a
 * pinpad: it builds the APDU from the request like a reader does, with keys scripted by the test.
 * Used by the "no second try" tests of the library and of every component.
 */
import { concatBytes } from '../../src/bytes.js';
import type { CardChannel, PinBlockFormat, SecurePinModifyRequest, SecurePinVerifyRequest } from '../../src/card/channel.js';
import { encodePinBlock } from '../../src/hca/format.js';
import { parseApdu } from '../../src/iso7816/apdu.js';

const PIN_INS = new Set([0x20, 0x24, 0x2c]);

/** True when the command APDU carries a PIN / PUK (INS 20, 24 or 2C with a data field). */
export function isPinCarrying(apdu: Uint8Array): boolean {
  if (apdu.length < 5 || !PIN_INS.has(apdu[1]!)) return false;
  try {
    const parsed = parseApdu(apdu);
    const n = parsed.data?.length ?? 0;
    parsed.data?.fill(0);
    return n > 0;
  } catch {
    return true; // malformed: count it, to be safe
  }
}

export class PinCountingChannel implements CardChannel {
  /** PIN-carrying APDUs sent with `transmit` (not counting those a pinpad built). */
  pinApdus = 0;
  /** PC_to_RDR_Secure operations (verify + modify). */
  secureOperations = 0;
  /** Every APDU sent with `transmit`, as INS bytes, in order. */
  readonly instructions: number[] = [];
  readonly pinpad?: { verify: boolean; modify: boolean };
  /** Keys the user "types" on the pinpad, one string per PIN entry. */
  keys: string[] = [];

  constructor(
    readonly inner: CardChannel,
    options: { pinpad?: boolean } = {},
  ) {
    if (options.pinpad) this.pinpad = { verify: true, modify: true };
  }

  get atr() {
    return this.inner.atr;
  }

  get protocol() {
    return this.inner.protocol;
  }

  /** Everything that carried a PIN to the card: APDUs plus pinpad operations. */
  get pinCommands(): number {
    return this.pinApdus + this.secureOperations;
  }

  transmit(apdu: Uint8Array, options?: { signal?: AbortSignal }): Promise<Uint8Array> {
    this.instructions.push(apdu[1] ?? -1);
    if (isPinCarrying(apdu)) this.pinApdus++;
    return this.inner.transmit(apdu, options);
  }

  private block(format: PinBlockFormat): Uint8Array {
    const digits = this.keys.shift();
    if (digits === undefined) throw new Error('pinpad test: no scripted keys left');
    return encodePinBlock(new TextEncoder().encode(digits), format);
  }

  verifyPinSecure(request: SecurePinVerifyRequest, options?: { signal?: AbortSignal }): Promise<Uint8Array> {
    if (!this.pinpad) throw new Error('no pinpad');
    this.secureOperations++;
    const block = this.block(request.format);
    return this.inner.transmit(concatBytes(request.header, Uint8Array.of(block.length), block), options);
  }

  modifyPinSecure(request: SecurePinModifyRequest, options?: { signal?: AbortSignal }): Promise<Uint8Array> {
    if (!this.pinpad) throw new Error('no pinpad');
    this.secureOperations++;
    const data = concatBytes(this.block(request.oldFormat), this.block(request.newFormat));
    return this.inner.transmit(concatBytes(request.header, Uint8Array.of(data.length), data), options);
  }
}
