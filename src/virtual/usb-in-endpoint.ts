/// <reference types="w3c-web-usb" preserve="true" />
// WebUSB types (USBDevice, USBDeviceFilter...) for this file and its .d.ts: see docs/packaging.md.
/**
 * The data queue of a virtual IN endpoint (bulk or interrupt): frames (one
 * device answer each) and the `transferIn` calls waiting for them.
 * Packetisation follows USB: a read whose length is at least the frame gets
 * the whole frame; a shorter read that is a multiple of `packetSize` gets that
 * many bytes with status `'ok'` and the rest stays queued for the next read; a
 * shorter read that is not a multiple of `packetSize` gets `'babble'` (the
 * bytes that fitted) and the frame is lost. A halted endpoint answers
 * `'stall'` to every read.
 */

interface InWaiter {
  length: number;
  resolve: (r: USBInTransferResult) => void;
  reject: (e: unknown) => void;
}

function dataView(bytes: Uint8Array): DataView {
  const copy = bytes.slice();
  return new DataView(copy.buffer, copy.byteOffset, copy.byteLength);
}

/** A `USBInTransferResult` (the data is a copy). */
export function inResult(status: USBTransferStatus, bytes?: Uint8Array): USBInTransferResult {
  return { status, data: bytes === undefined ? undefined : dataView(bytes) } as USBInTransferResult;
}

/** One IN endpoint's queue. */
export class InEndpointState {
  readonly frames: Uint8Array[] = [];
  offset = 0;
  readonly waiters: InWaiter[] = [];
  halted = false;
  constructor(readonly packetSize: number) {}

  /** Answers the waiting reads from the queued frames, in order, as far as the frames go. */
  service(): void {
    while (this.waiters.length > 0) {
      if (this.halted) {
        this.waiters.shift()!.resolve(inResult('stall', new Uint8Array(0)));
        continue;
      }
      const frame = this.frames[0];
      if (frame === undefined) return;
      const w = this.waiters.shift()!;
      const rest = frame.subarray(this.offset);
      if (rest.length <= w.length) {
        this.frames.shift();
        this.offset = 0;
        w.resolve(inResult('ok', rest));
      } else if (w.length > 0 && w.length % this.packetSize === 0) {
        this.offset += w.length;
        w.resolve(inResult('ok', rest.subarray(0, w.length)));
      } else {
        this.frames.shift();
        this.offset = 0;
        w.resolve(inResult('babble', rest.subarray(0, w.length)));
      }
    }
  }
}
