/// <reference types="w3c-web-usb" preserve="true" />
// WebUSB types (USBDevice, USBDeviceFilter...) for this file and its .d.ts: see docs/packaging.md.
/**
 * A raw, byte-level CCID client for tests and debugging: opens a
 * `UsbDeviceLike`, claims its CCID interface and sends / receives whole frames
 * with no driver logic (no retries, no bSeq checks, no time-extension
 * handling). The real host driver is src/ccid/*; this is for looking at what a
 * (virtual or real) reader does with exactly the bytes you give it.
 */
import { bytesOf } from '../bytes.js';
import { TransportError } from '../errors.js';
import {
  CCID_REQUEST_ABORT,
  decodeResponse,
  encodeCommand,
  type CcidCommand,
  type CcidResponse,
} from '../ccid/messages.js';
import type { UsbDeviceLike } from '../usb/device.js';

/** Endpoints and interface the session uses (the virtual reader's by default). */
export interface RawSessionOptions {
  interfaceNumber?: number;
  bulkOut?: number;
  bulkIn?: number;
  interruptIn?: number;
  /** Length of bulk-IN reads (default 65600, a multiple of 64 above any message). */
  readLength?: number;
}

/** Distributive Omit over the command union. */
type CommandInit = CcidCommand extends infer C ? (C extends CcidCommand ? Omit<C, 'bSeq'> & { bSeq?: number } : never) : never;

/** A raw CCID session over a USB device. */
export class RawCcidSession {
  /** bSeq of the next command sent with `command()` (wraps at 256). */
  seq = 0;
  readonly device: UsbDeviceLike;
  private readonly o: Required<RawSessionOptions>;

  private constructor(device: UsbDeviceLike, options: RawSessionOptions) {
    this.device = device;
    this.o = {
      interfaceNumber: options.interfaceNumber ?? 0,
      bulkOut: options.bulkOut ?? 1,
      bulkIn: options.bulkIn ?? 2,
      interruptIn: options.interruptIn ?? 3,
      readLength: options.readLength ?? 65600,
    };
  }

  /** Opens the device, selects configuration 1 if none is active, claims the interface. */
  static async open(device: UsbDeviceLike, options: RawSessionOptions = {}): Promise<RawCcidSession> {
    const s = new RawCcidSession(device, options);
    await device.open();
    if (device.configuration === null) await device.selectConfiguration(1);
    await device.claimInterface(s.o.interfaceNumber);
    return s;
  }

  /** Sends raw bytes on bulk-OUT. */
  send(bytes: Uint8Array): Promise<USBOutTransferResult> {
    return this.device.transferOut(this.o.bulkOut, bytes as Uint8Array<ArrayBuffer>);
  }

  /** One bulk-IN read (any status). */
  receive(length = this.o.readLength): Promise<USBInTransferResult> {
    return this.device.transferIn(this.o.bulkIn, length);
  }

  /** One bulk-IN read that must succeed; its bytes. */
  async receiveFrame(length = this.o.readLength): Promise<Uint8Array> {
    const r = await this.receive(length);
    if (r.status !== 'ok') throw new TransportError('transport/failed', `bulk-IN read ended with status ${r.status}.`);
    return bytesOf(r.data).slice();
  }

  /** Reads and decodes one answer. */
  async receiveResponse(): Promise<CcidResponse> {
    return decodeResponse(await this.receiveFrame());
  }

  /** Encodes a command (bSeq = `seq++` unless given), sends it, reads and decodes the next frame. */
  async command(cmd: CommandInit): Promise<CcidResponse> {
    await this.sendCommand(cmd);
    return this.receiveResponse();
  }

  /** Encodes and sends a command without reading; returns the bSeq used. */
  async sendCommand(cmd: CommandInit): Promise<number> {
    const bSeq = cmd.bSeq ?? this.seq;
    if (cmd.bSeq === undefined) this.seq = (this.seq + 1) & 0xff;
    const r = await this.send(encodeCommand({ ...cmd, bSeq } as CcidCommand));
    if (r.status !== 'ok') throw new TransportError('transport/failed', `bulk-OUT write ended with status ${r.status}.`);
    return bSeq;
  }

  /** One interrupt-IN read; its bytes. */
  async interrupt(length = 64): Promise<Uint8Array> {
    const r = await this.device.transferIn(this.o.interruptIn, length);
    return bytesOf(r.data).slice();
  }

  /** A class control-IN request to the interface (GET_CLOCK_FREQUENCIES 2, GET_DATA_RATES 3). */
  controlIn(request: number, length: number): Promise<USBInTransferResult> {
    return this.device.controlTransferIn(
      { requestType: 'class', recipient: 'interface', request, value: 0, index: this.o.interfaceNumber },
      length,
    );
  }

  /** A standard GET_DESCRIPTOR to the device. */
  getDescriptor(type: number, index: number, length: number): Promise<USBInTransferResult> {
    return this.device.controlTransferIn(
      { requestType: 'standard', recipient: 'device', request: 0x06, value: (type << 8) | index, index: 0 },
      length,
    );
  }

  /** The ABORT class request (CCID 1.10 §5.3.1): wValue = bSeq << 8 | bSlot. */
  abortControl(bSlot: number, bSeq: number): Promise<USBOutTransferResult> {
    return this.device.controlTransferOut({
      requestType: 'class',
      recipient: 'interface',
      request: CCID_REQUEST_ABORT,
      value: ((bSeq & 0xff) << 8) | (bSlot & 0xff),
      index: this.o.interfaceNumber,
    });
  }
}
