/**
 * A reader that answers from a recording: the bench's way to time the driver alone.
 *
 * `recordAndReplay` lets a real (virtual) reader answer `record` exchanges while it copies the
 * bulk-in frames, then swaps the device's bulk transfers for a replay: `transferOut` only notes
 * the command's bSeq, and the pending `transferIn` resolves at once with the next recorded frame
 * (its bSeq set to the command's). No frame parsing, no card: what remains between `transmit()`
 * and its answer is the driver (APDU framing, T=1 engine, CCID encoding and decoding, the
 * transport's matching and timers) plus two resolved promises standing for the USB stack.
 *
 * The recording is played in a cycle, so it must be a whole number of periods of whatever the
 * driver tracks from answer to answer (T=1: N(S) alternates, so an even number of exchanges).
 */
import type { UsbDeviceLike } from '../src/usb/device.js';

function bulkEndpoints(device: UsbDeviceLike): { bulkIn: number; bulkOut: number } {
  for (const iface of device.configuration?.interfaces ?? []) {
    const eps = iface.alternate.endpoints;
    const bulkIn = eps.find((e) => e.type === 'bulk' && e.direction === 'in');
    const bulkOut = eps.find((e) => e.type === 'bulk' && e.direction === 'out');
    if (bulkIn && bulkOut) return { bulkIn: bulkIn.endpointNumber, bulkOut: bulkOut.endpointNumber };
  }
  throw new Error('The device has no bulk endpoints.');
}

export interface Replay {
  /** Frames recorded. */
  readonly frames: number;
  /** Puts the device's own transfers back. */
  restore(): void;
}

/**
 * Records the bulk-in frames of `exchanges()` (run once against the device), then replays them
 * for every later transfer until `restore()`.
 */
export async function recordAndReplay(device: UsbDeviceLike, exchanges: () => Promise<void>): Promise<Replay> {
  const { bulkIn, bulkOut } = bulkEndpoints(device);
  const target = device as { transferIn: UsbDeviceLike['transferIn']; transferOut: UsbDeviceLike['transferOut'] };
  const originalIn = target.transferIn;
  const originalOut = target.transferOut;
  const recorded: Uint8Array[] = [];
  target.transferIn = async (ep, length) => {
    const r = await originalIn.call(device, ep, length);
    if (ep === bulkIn && r.data && r.data.byteLength > 0) {
      recorded.push(new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength).slice());
    }
    return r;
  };
  await exchanges();
  if (recorded.length === 0) throw new Error('Nothing was recorded.');

  let next = 0;
  let pending: ((frame: Uint8Array) => void) | undefined;
  let ready: Uint8Array | undefined; // an answer to a command sent before its read was queued
  target.transferOut = (ep, data) => {
    if (ep !== bulkOut) return originalOut.call(device, ep, data);
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data as ArrayBuffer);
    const frame = recorded[next]!.slice();
    next = (next + 1) % recorded.length;
    frame[6] = bytes[6]!; // bSeq
    const deliver = pending;
    pending = undefined;
    if (deliver) deliver(frame);
    else ready = frame;
    return Promise.resolve({ status: 'ok', bytesWritten: bytes.length } as USBOutTransferResult);
  };
  target.transferIn = (ep, length) => {
    if (ep !== bulkIn) return originalIn.call(device, ep, length);
    const answer = (frame: Uint8Array) => ({ status: 'ok', data: new DataView(frame.buffer) }) as USBInTransferResult;
    if (ready) {
      const frame = ready;
      ready = undefined;
      return Promise.resolve(answer(frame));
    }
    return new Promise<USBInTransferResult>((resolve) => {
      pending = (frame) => resolve(answer(frame));
    });
  };
  return {
    frames: recorded.length,
    restore() {
      target.transferIn = originalIn;
      target.transferOut = originalOut;
    },
  };
}
