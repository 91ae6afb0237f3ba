/**
 * The virtual card's PINs and PUKs (ISO/IEC 7816-4 security commands): reference data,
 * retry counters, the session's verified references, and VERIFY, CHANGE
 * REFERENCE DATA and RESET RETRY COUNTER.
 */
import { bytesEqual } from '../bytes.js';
import type { ParsedApdu } from '../iso7816/apdu.js';
import { SW } from './card-status.js';

/** A PIN (or PUK) held by the card. */
export interface VirtualPinSpec {
  /** VERIFY P2. */
  reference: number;
  value: Uint8Array;
  /** Tries allowed (also the reset value). Default 3. */
  maxTries?: number;
  /** Tries left at start. Default maxTries. */
  triesLeft?: number;
  /** Reference of the PUK that unblocks this PIN (RESET RETRY COUNTER). */
  pukReference?: number;
  /** Length bounds for a new value (CHANGE REFERENCE DATA / RESET RETRY COUNTER). Default 4..16. */
  minLength?: number;
  maxLength?: number;
  /** Check of a new value (instead of the length bounds): false answers 6A80. */
  acceptValue?: (value: Uint8Array) => boolean;
}

interface PinState {
  spec: VirtualPinSpec;
  value: Uint8Array;
  maxTries: number;
  triesLeft: number;
}

/** The card's PINs and the references verified in the current session. */
export class CardPins {
  private readonly pins = new Map<number, PinState>();
  private readonly verified = new Set<number>();

  constructor(specs: readonly VirtualPinSpec[]) {
    for (const p of specs) {
      const maxTries = p.maxTries ?? 3;
      this.pins.set(p.reference, { spec: p, value: p.value.slice(), maxTries, triesLeft: p.triesLeft ?? maxTries });
    }
  }

  /** After a reset: nothing is verified. Counters persist. */
  reset(): void {
    this.verified.clear();
  }

  triesLeft(reference: number): number | undefined {
    return this.pins.get(reference)?.triesLeft;
  }

  /** A refused presentation: one try spent; the status word a wrong PIN gets. */
  spendTry(reference: number): number {
    const pin = this.pins.get(reference);
    if (!pin) return SW.REF_NOT_FOUND;
    if (pin.triesLeft === 0) return SW.BLOCKED;
    pin.triesLeft--;
    this.verified.delete(reference);
    return 0x63c0 | pin.triesLeft;
  }

  referenceData(reference: number): Uint8Array | undefined {
    return this.pins.get(reference)?.value.slice();
  }

  isVerified(reference: number): boolean {
    return this.verified.has(reference);
  }

  /** VERIFY (20). */
  verify(cmd: ParsedApdu): number {
    if (cmd.p1 !== 0x00) return SW.WRONG_P1P2;
    const pin = this.pins.get(cmd.p2);
    if (!pin) return SW.REF_NOT_FOUND;
    const data = cmd.data ?? new Uint8Array(0);
    if (data.length === 0) {
      if (pin.triesLeft === 0) return SW.BLOCKED;
      return this.verified.has(cmd.p2) ? SW.OK : 0x63c0 | pin.triesLeft;
    }
    return this.checkPin(cmd.p2, pin, data);
  }

  private checkPin(reference: number, pin: PinState, candidate: Uint8Array): number {
    if (pin.triesLeft === 0) return SW.BLOCKED;
    if (bytesEqual(candidate, pin.value)) {
      pin.triesLeft = pin.maxTries;
      this.verified.add(reference);
      return SW.OK;
    }
    pin.triesLeft--;
    this.verified.delete(reference);
    return 0x63c0 | pin.triesLeft;
  }

  private newValueOk(pin: PinState, value: Uint8Array): boolean {
    if (pin.spec.acceptValue) return pin.spec.acceptValue(value);
    return value.length >= (pin.spec.minLength ?? 4) && value.length <= (pin.spec.maxLength ?? 16);
  }

  /** CHANGE REFERENCE DATA (24). */
  changeReferenceData(cmd: ParsedApdu): number {
    if (cmd.p1 !== 0x00) return SW.WRONG_P1P2;
    const pin = this.pins.get(cmd.p2);
    if (!pin) return SW.REF_NOT_FOUND;
    const data = cmd.data ?? new Uint8Array(0);
    const oldLength = pin.value.length;
    if (data.length <= oldLength) return SW.WRONG_DATA;
    const sw = this.checkPin(cmd.p2, pin, data.subarray(0, oldLength));
    if (sw !== SW.OK) return sw;
    const next = data.slice(oldLength);
    if (!this.newValueOk(pin, next)) return SW.WRONG_DATA;
    pin.value = next;
    return SW.OK;
  }

  /** RESET RETRY COUNTER (2C). */
  resetRetryCounter(cmd: ParsedApdu): number {
    if (cmd.p1 > 0x03) return SW.WRONG_P1P2;
    const pin = this.pins.get(cmd.p2);
    if (!pin) return SW.REF_NOT_FOUND;
    const pukRef = pin.spec.pukReference;
    const puk = pukRef === undefined ? undefined : this.pins.get(pukRef);
    if (!puk || pukRef === undefined) return SW.CONDITIONS;
    const data = cmd.data ?? new Uint8Array(0);
    if (cmd.p1 === 0x02 || cmd.p1 === 0x03) {
      // The PUK was verified earlier in this session (VERIFY with its reference).
      if (!this.verified.has(pukRef) || puk.triesLeft === 0) return SW.SECURITY;
      if (cmd.p1 === 0x03 ? data.length !== 0 : data.length === 0) return SW.WRONG_DATA;
      if (cmd.p1 === 0x02) {
        if (!this.newValueOk(pin, data)) return SW.WRONG_DATA;
        pin.value = data.slice();
      }
      pin.triesLeft = pin.maxTries;
      return SW.OK;
    }
    const pukLength = puk.value.length;
    if (cmd.p1 === 0x01 ? data.length !== pukLength : data.length <= pukLength) return SW.WRONG_DATA;
    const sw = this.checkPin(pukRef, puk, data.subarray(0, pukLength));
    if (sw !== SW.OK) return sw;
    if (cmd.p1 === 0x00) {
      const next = data.slice(pukLength);
      if (!this.newValueOk(pin, next)) return SW.WRONG_DATA;
      pin.value = next;
    }
    pin.triesLeft = pin.maxTries;
    return SW.OK;
  }
}
