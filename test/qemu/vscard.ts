/**
 * The card side of QEMU's `ccid-card-passthru` (libcacard's VSCard protocol): lets a card
 * implemented on the host (a test double, later the project's virtual card) sit in QEMU's
 * emulated reader. Protocol facts (libcacard vscard_common.h): every message is a 12-byte header
 * of big-endian uint32 `type`, `reader_id`, `length`, then `length` bytes. Types: 1 Init
 * (magic "VSCD", version, capabilities), 2 Error (code), 3 ReaderAdd (name), 4 ReaderRemove,
 * 5 ATR, 6 CardRemove, 7 APDU, 8 Flush, 9 FlushComplete. Version 0.0.2 = 2.
 */
import type { Socket } from 'node:net';

export const VSC_Init = 1;
export const VSC_Error = 2;
export const VSC_ReaderAdd = 3;
export const VSC_ReaderRemove = 4;
export const VSC_ATR = 5;
export const VSC_CardRemove = 6;
export const VSC_APDU = 7;
export const VSC_Flush = 8;
export const VSC_FlushComplete = 9;
export const VSCARD_UNDEFINED_READER_ID = 0xffffffff;
export const VSCARD_VERSION = 2;
const HEADER_LENGTH = 12;

/** A card served to QEMU's reader from the host. */
export interface PassthruCard {
  /** ATR given to QEMU (it answers IccPowerOn with it). */
  atr: Uint8Array;
  /** Answers one command APDU (QEMU passes whole APDUs). */
  transmit(apdu: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** Called for every message QEMU sends that is not an APDU (for logs / assertions). */
  onMessage?(type: number, readerId: number, data: Uint8Array): void;
  /** Called once QEMU is connected, with what the card can do to the reader (pull itself out). */
  attach?(peer: { removeCard(): void }): void;
}

/** Encodes one VSCard message. */
export function encodeVsCardMessage(type: number, readerId: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(HEADER_LENGTH + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, type, false);
  view.setUint32(4, readerId >>> 0, false);
  view.setUint32(8, data.length, false);
  out.set(data, HEADER_LENGTH);
  return out;
}

/** Splits a byte stream into whole VSCard messages; returns them and the unused rest. */
export function splitVsCardMessages(buffer: Uint8Array): {
  messages: Array<{ type: number; readerId: number; data: Uint8Array }>;
  rest: Uint8Array;
} {
  const messages: Array<{ type: number; readerId: number; data: Uint8Array }> = [];
  let offset = 0;
  while (buffer.length - offset >= HEADER_LENGTH) {
    const view = new DataView(buffer.buffer, buffer.byteOffset + offset, HEADER_LENGTH);
    const length = view.getUint32(8, false);
    if (buffer.length - offset - HEADER_LENGTH < length) break;
    messages.push({
      type: view.getUint32(0, false),
      readerId: view.getUint32(4, false),
      data: buffer.slice(offset + HEADER_LENGTH, offset + HEADER_LENGTH + length),
    });
    offset += HEADER_LENGTH + length;
  }
  return { messages, rest: buffer.slice(offset) };
}

/** Drives one QEMU connection: Init, ReaderAdd, ATR, then answers APDUs in order. */
export class VsCardPeer {
  private pending: Uint8Array = new Uint8Array(0);
  private chain: Promise<void> = Promise.resolve();
  /** Every APDU exchanged, in order. */
  readonly exchanges: Array<{ command: Uint8Array; response: Uint8Array }> = [];

  constructor(
    private readonly socket: Socket,
    private readonly card: PassthruCard,
  ) {}

  start(): void {
    const init = new Uint8Array(12);
    init.set([0x56, 0x53, 0x43, 0x44]); // "VSCD"
    new DataView(init.buffer).setUint32(4, VSCARD_VERSION, false);
    this.socket.write(encodeVsCardMessage(VSC_Init, VSCARD_UNDEFINED_READER_ID, init));
    this.socket.write(encodeVsCardMessage(VSC_ReaderAdd, 0, new TextEncoder().encode('webccid-passthru\0')));
    this.socket.write(encodeVsCardMessage(VSC_ATR, 0, this.card.atr));
    this.socket.on('data', (chunk: Buffer) => this.onData(new Uint8Array(chunk)));
    this.card.attach?.(this);
    this.socket.on('error', () => {
      // QEMU went away (guest powered off): nothing to do
    });
  }

  /** Tells QEMU the card was pulled out. */
  removeCard(): void {
    this.socket.write(encodeVsCardMessage(VSC_CardRemove, 0));
  }

  private onData(chunk: Uint8Array): void {
    const joined = new Uint8Array(this.pending.length + chunk.length);
    joined.set(this.pending);
    joined.set(chunk, this.pending.length);
    const { messages, rest } = splitVsCardMessages(joined);
    this.pending = rest;
    for (const m of messages) {
      if (m.type === VSC_APDU) {
        this.chain = this.chain.then(async () => {
          let response: Uint8Array;
          try {
            response = await this.card.transmit(m.data);
          } catch {
            response = new Uint8Array([0x6f, 0x00]);
          }
          this.exchanges.push({ command: m.data, response });
          if (!this.socket.destroyed) this.socket.write(encodeVsCardMessage(VSC_APDU, m.readerId, response));
        });
      } else if (m.type === VSC_Flush) {
        this.chain = this.chain.then(() => {
          if (!this.socket.destroyed) this.socket.write(encodeVsCardMessage(VSC_FlushComplete, m.readerId));
        });
      } else {
        this.card.onMessage?.(m.type, m.readerId, m.data);
      }
    }
  }
}

/**
 * The card side of T=0 for a card object that answers whole APDUs (the project's virtual cards),
 * behind QEMU's T=0-only reader: a case 3 command (data, no Le) whose answer carries data gets
 * 61xx and keeps the data for GET RESPONSE (00 C0 00 00 xx), as a T=0 card answers
 * (ISO/IEC 7816-3 §12.2, 7816-4 §5.3.4); the card object is asked with Le = 00 appended. Other
 * commands pass through.
 */
export function t0Transport(transmit: (apdu: Uint8Array) => Uint8Array): (apdu: Uint8Array) => Uint8Array {
  let pending: Uint8Array | undefined;
  const withSw = (data: Uint8Array, sw1: number, sw2: number) => Uint8Array.from([...data, sw1, sw2]);
  return (apdu) => {
    if (pending && apdu.length === 5 && apdu[1] === 0xc0) {
      const le = apdu[4] === 0 ? 256 : apdu[4]!;
      const out = pending.subarray(0, le);
      const rest = pending.subarray(out.length);
      pending = rest.length > 0 ? rest.slice() : undefined;
      return rest.length > 0 ? withSw(out, 0x61, Math.min(rest.length, 256) & 0xff) : withSw(out, 0x90, 0x00);
    }
    pending = undefined;
    const caseThree = apdu.length > 5 && apdu[4] !== 0 && apdu.length === 5 + apdu[4]!;
    if (!caseThree) return transmit(apdu);
    const answer = transmit(Uint8Array.from([...apdu, 0x00]));
    const sw1 = answer[answer.length - 2]!;
    const sw2 = answer[answer.length - 1]!;
    if (answer.length > 2 && sw1 === 0x90 && sw2 === 0x00) {
      pending = answer.slice(0, answer.length - 2);
      return Uint8Array.of(0x61, Math.min(pending.length, 256) & 0xff);
    }
    return Uint8Array.of(sw1, sw2);
  };
}
