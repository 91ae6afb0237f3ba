/**
 * Every fault the virtual reader can inject ends in a typed error (or is
 * recovered transparently where the protocol allows it) within its timeout,
 * and the next APDU works.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SlotError, TransportError, WebCcidError } from '../src/errors.js';
import { PC_to_RDR_Abort, PC_to_RDR_XfrBlock, RDR_to_PC_DataBlock } from '../src/ccid/messages.js';
import { createHcaLikeCard, VIRTUAL_READER_ENDPOINTS, type VirtualFault, type VirtualReaderPresetName } from '../src/virtual/index.js';
import { openStack, sw, type Stack, SELECT_HCA } from './helpers/stack.js';
import { NotDoneInTime, onTheClock } from './helpers/fake-clock.js';

/** Timeouts scaled down so that a mute card costs a fraction of a second. */
const DRIVER = { timeoutFactor: 0.1, usbSlackMs: 100 };

let open: Stack[] = [];
afterEach(async () => {
  // On the fake clock, closing waits for what is in flight: the clock moves on until it is done.
  for (const s of open) await (vi.isFakeTimers() ? onTheClock(s.reader.close()) : s.reader.close());
  vi.useRealTimers();
  open = [];
});

async function connected(preset: VirtualReaderPresetName) {
  const s = await openStack({ preset, card: createHcaLikeCard() }, DRIVER);
  open.push(s);
  const connection = await s.reader.connect(0);
  expect(sw(await connection.transmit(SELECT_HCA))).toBe(0x9000);
  return { ...s, connection };
}

/** Runs one APDU under `fault`; returns the error (or undefined: then SELECT answered 9000). */
async function underFault(s: Awaited<ReturnType<typeof connected>>, fault: VirtualFault) {
  s.device.injectFault(fault);
  let error: unknown;
  try {
    const r = await s.connection.transmit(SELECT_HCA);
    expect(sw(r)).toBe(0x9000);
  } catch (e) {
    error = e;
  }
  return { error };
}

const PRESETS: VirtualReaderPresetName[] = ['castles-ezccid', 'omnikey-3121'];

/**
 * A stack whose virtual reader keeps modelled time (timeScale 1) on vitest's fake clock, from
 * the start (opening and power-on included): the reader's delays and the driver's timers are
 * setTimeout, so a test moves time itself and reads it with Date.now(); nothing depends on how
 * fast or how busy the machine is.
 */
async function connectedOnTheClock(preset: VirtualReaderPresetName) {
  vi.useFakeTimers();
  const s = await onTheClock(openStack({ preset, card: createHcaLikeCard(), timeScale: 1 }, DRIVER));
  open.push(s);
  const connection = await onTheClock(s.reader.connect(0));
  expect(sw(await onTheClock(connection.transmit(SELECT_HCA)))).toBe(0x9000);
  return { ...s, connection };
}

/**
 * Runs SELECT under `fault` on the fake clock until it settles: its error (or undefined) and
 * the fake time it took. Not settled within `limitMs` of the fake clock: the test fails.
 */
async function underFaultOnTheClock(s: Awaited<ReturnType<typeof connected>>, fault?: VirtualFault, limitMs = 60_000) {
  if (fault) s.device.injectFault(fault);
  const started = Date.now();
  let settledAt = started;
  let error: unknown;
  const r = await onTheClock(
    s.connection.transmit(SELECT_HCA).finally(() => (settledAt = Date.now())),
    { limitMs },
  ).catch((e: unknown) => {
    if (e instanceof NotDoneInTime) throw e;
    error = e;
    return undefined;
  });
  if (r) expect(sw(r)).toBe(0x9000);
  return { error, ms: settledAt - started };
}

/**
 * How long the driver waits for the answer to SELECT before it gives up: on a mute reader, the
 * fake time from the call to its ABORT request on the control pipe (CCID 1.1 §5.3.1). The
 * exchange then ends (a timeout, or a T=1 recovery); the next one works.
 */
async function patience(s: Awaited<ReturnType<typeof connected>>): Promise<number> {
  const control = s.device.controlTransferOut.bind(s.device);
  const started = Date.now();
  let abortAt: number | undefined;
  s.device.controlTransferOut = (setup, data) => {
    if (setup.request === 0x01) abortAt ??= Date.now(); // ABORT
    return control(setup, data);
  };
  await underFaultOnTheClock(s, { kind: 'mute' });
  s.device.controlTransferOut = control;
  expect(abortAt).toBeDefined();
  return abortAt! - started;
}

/**
 * Watches the reader's bulk pipes: the abData of each PC_to_RDR_XfrBlock it gets and each
 * RDR_to_PC_DataBlock it sends (T=1 blocks at the TPDU level), the bError of each time
 * extension, and the order of the S(WTX) blocks. The first answer after an S(WTX response) or
 * a time extension reaches the host `holdMs` late (on the fake clock): a card slow to answer.
 */
function tapBulkPipes(device: Stack['device'], holdMs: number) {
  const seen = { toReader: [] as Uint8Array[], fromReader: [] as Uint8Array[], timeExtensions: [] as number[], order: [] as string[] };
  let hold = false;
  const transferOut = device.transferOut.bind(device);
  const transferIn = device.transferIn.bind(device);
  device.transferOut = async (endpoint, bytes) => {
    const frame = ArrayBuffer.isView(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength).slice() : new Uint8Array(bytes).slice();
    if (endpoint === VIRTUAL_READER_ENDPOINTS.bulkOut && frame[0] === PC_to_RDR_XfrBlock) {
      const block = frame.slice(10);
      seen.toReader.push(block);
      if (block[1] === 0xe3) {
        seen.order.push('wtx-response');
        hold = true;
      }
    }
    return transferOut(endpoint, bytes);
  };
  device.transferIn = async (endpoint, length) => {
    const result = await transferIn(endpoint, length);
    const d = result.data;
    if (endpoint !== VIRTUAL_READER_ENDPOINTS.bulkIn || !d || d.byteLength < 10 || d.getUint8(0) !== RDR_to_PC_DataBlock) return result;
    const frame = new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice();
    if ((frame[7]! & 0xc0) === 0x80) {
      // bmCommandStatus 2: time extension requested, bError = the multiplier.
      seen.timeExtensions.push(frame[8]!);
      hold = true;
      return result;
    }
    const block = frame.slice(10);
    seen.fromReader.push(block);
    if (block[1] === 0xc3) seen.order.push('wtx-request');
    if (hold) {
      hold = false;
      await new Promise((r) => setTimeout(r, holdMs));
    }
    return result;
  };
  return seen;
}

describe.each(PRESETS)('faults on %s', (preset) => {
  it('time extensions: the answer still comes, the timer restarted each time', async () => {
    const s = await connectedOnTheClock(preset);
    const wait = await patience(s);
    const extensionsBefore = s.device.stats.timeExtensions;
    // Three time extensions (multiplier 1: one more wait each, CCID 1.1 §6.2.6), 0.6 waits
    // apart: the answer comes after about 1.8 waits. A timer not restarted by every one of them
    // would have expired 1 wait after the command or after the extension it last saw.
    const { error, ms } = await underFaultOnTheClock(s, { kind: 'time-extension', count: 3, multiplier: 1, intervalMs: Math.floor(0.6 * wait) });
    expect(error).toBeUndefined();
    expect(ms).toBeGreaterThan(1.5 * wait);
    expect(s.device.stats.timeExtensions - extensionsBefore).toBe(3);
    expect(s.reader.transport.stats.timeExtensions).toBe(3);
  });

  it('S(WTX) from the card: answered with the same multiplier, the wait extended by it, the APDU completes', async () => {
    const s = await connectedOnTheClock(preset);
    const wait = await patience(s);
    const abortsBefore = s.reader.transport.stats.aborts;
    // The card asks for 10 x BWT; its answer after the request is held back 2 waits: too late
    // for a driver that did not extend its wait, well within the 10 x it was asked for.
    const pipes = tapBulkPipes(s.device, 2 * wait);
    const { error, ms } = await underFaultOnTheClock(s, { kind: 'wtx', multiplier: 10 });
    expect(error).toBeUndefined();
    expect(ms).toBeGreaterThan(2 * wait);
    expect(s.reader.transport.stats.aborts).toBe(abortsBefore);
    if (s.reader.descriptor.exchangeLevel === 'tpdu') {
      // TPDU level: the driver speaks T=1. The card's S(WTX request) (PCB C3, INF = multiplier)
      // is answered by S(WTX response) with the same INF byte (PCB E3), ISO/IEC 7816-3 §11.6.2.3.
      const requests = pipes.fromReader.filter((b) => b[1] === 0xc3);
      const responses = pipes.toReader.filter((b) => b[1] === 0xe3);
      expect(requests.map((b) => [...b.subarray(2, 4)])).toEqual([[1, 10]]);
      expect(responses.map((b) => [...b.subarray(2, 4)])).toEqual([[1, 10]]);
      expect(pipes.order.indexOf('wtx-response')).toBeGreaterThan(pipes.order.indexOf('wtx-request'));
    } else {
      // APDU level: the reader speaks T=1 and answers the S(WTX) itself; the host sees one time
      // extension whose bError is the multiplier (CCID 1.1 §6.2.6), then the answer.
      expect(pipes.timeExtensions).toEqual([10]);
      expect(s.reader.transport.stats.timeExtensions).toBe(1);
    }
  });

  it('stale bSeq: the old answers are dropped', async () => {
    const s = await connected(preset);
    const { error } = await underFault(s, { kind: 'stale-seq', count: 2 });
    expect(error).toBeUndefined();
    expect(s.reader.transport.stats.staleFrames).toBeGreaterThanOrEqual(2);
  });

  it('garbage on bulk-in: ccid/malformed-frame, then the next APDU works', async () => {
    const s = await connected(preset);
    const { error } = await underFault(s, { kind: 'garbage' });
    expect(error).toBeInstanceOf(WebCcidError);
    expect((error as WebCcidError).code).toBe('ccid/malformed-frame');
    expect(sw(await s.connection.transmit(SELECT_HCA))).toBe(0x9000);
  });

  it('wrong dwLength: ccid/length-mismatch, then the next APDU works', async () => {
    const s = await connected(preset);
    const { error } = await underFault(s, { kind: 'wrong-length', delta: 3 });
    expect((error as WebCcidError).code).toBe('ccid/length-mismatch');
    expect(sw(await s.connection.transmit(SELECT_HCA))).toBe(0x9000);
  });

  it('bulk-in stall: transport/stall, the endpoint is cleared, the next APDU works', async () => {
    const s = await connected(preset);
    const { error } = await underFault(s, { kind: 'stall', endpoint: 'in', dropAnswer: true });
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).code).toBe('transport/stall');
    expect(sw(await s.connection.transmit(SELECT_HCA))).toBe(0x9000);
  });

  it('bulk-out stall: transport/stall, then the next APDU works', async () => {
    const s = await connected(preset);
    const { error } = await underFault(s, { kind: 'stall', endpoint: 'out' });
    expect((error as TransportError).code).toBe('transport/stall');
    expect(sw(await s.connection.transmit(SELECT_HCA))).toBe(0x9000);
  });

  it('a failed transfer: transport/failed, then the next APDU works', async () => {
    const s = await connected(preset);
    const { error } = await underFault(s, { kind: 'transfer-error', direction: 'out' });
    expect((error as TransportError).code).toBe('transport/failed');
    expect(sw(await s.connection.transmit(SELECT_HCA))).toBe(0x9000);
  });

  it('hardware error: ccid/hw-error and a hardwareerror event; the next APDU works', async () => {
    const s = await connected(preset);
    const events: unknown[] = [];
    s.reader.addEventListener('hardwareerror', (e) => events.push((e as CustomEvent).detail));
    const { error } = await underFault(s, { kind: 'hardware-error', code: 1 });
    expect(error).toBeInstanceOf(SlotError);
    expect((error as SlotError).code).toBe('ccid/hw-error');
    expect(sw(await s.connection.transmit(SELECT_HCA))).toBe(0x9000);
    expect(events).toEqual([{ slot: 0, code: 1 }]);
  });

  it('a mute reader: typed timeout (or a transparent T=1 recovery) within the timeout, then ABORT and the next APDU works', async () => {
    const s = await connectedOnTheClock(preset);
    // What the driver does, in order, on the fake clock: the ABORT class request on the control
    // pipe, then PC_to_RDR_Abort on the bulk pipe (CCID 1.1 §5.3.1), then the exchange ends.
    const order: Array<{ what: string; at: number }> = [];
    const control = s.device.controlTransferOut.bind(s.device);
    const transferOut = s.device.transferOut.bind(s.device);
    s.device.controlTransferOut = (setup, data) => {
      if (setup.request === 0x01) order.push({ what: 'ABORT request', at: Date.now() });
      return control(setup, data);
    };
    s.device.transferOut = (endpoint, bytes) => {
      const type = ArrayBuffer.isView(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, 1)[0] : new Uint8Array(bytes)[0];
      if (endpoint === VIRTUAL_READER_ENDPOINTS.bulkOut && type === PC_to_RDR_Abort) order.push({ what: 'PC_to_RDR_Abort', at: Date.now() });
      return transferOut(endpoint, bytes);
    };
    const started = Date.now();
    // The longest command timeout at this scale (timeoutFactor 0.1), the ABORT sequence
    // included, is well under 2 s of the fake clock: past that it would be a hang.
    const { error, ms } = await underFaultOnTheClock(s, { kind: 'mute' }, 2000);
    if (error !== undefined) {
      expect((error as WebCcidError).code).toBe('transport/timeout');
    }
    expect(ms).toBeLessThan(2000);
    expect(order.map((e) => e.what).slice(0, 2)).toEqual(['ABORT request', 'PC_to_RDR_Abort']);
    expect(order[0]!.at).toBeGreaterThan(started);
    expect(order[1]!.at - started).toBeLessThanOrEqual(ms);
    expect(s.reader.transport.stats.aborts).toBeGreaterThanOrEqual(1);
    expect(await underFaultOnTheClock(s)).toMatchObject({ error: undefined });
  });

  it('card removed: ccid/card-absent and a cardremoved event; reinserted, a new connection works', async () => {
    const s = await connectedOnTheClock(preset);
    const events: string[] = [];
    s.reader.addEventListener('cardremoved', () => events.push('removed'));
    const inserted = new Promise<void>((resolve) =>
      s.reader.addEventListener('cardinserted', () => {
        events.push('inserted');
        resolve();
      }),
    );
    const { error } = await underFaultOnTheClock(s, { kind: 'card-removal' });
    expect(error).toBeInstanceOf(SlotError);
    expect((error as SlotError).code).toBe('ccid/card-absent');
    await expect(onTheClock(s.connection.transmit(SELECT_HCA))).rejects.toMatchObject({ code: 'ccid/card-absent' });
    s.device.insertCard(createHcaLikeCard());
    await onTheClock(inserted);
    expect(events).toEqual(['removed', 'inserted']);
    const again = await onTheClock(s.reader.connect(0));
    expect(sw(await onTheClock(again.transmit(SELECT_HCA)))).toBe(0x9000);
    // Once every timer the driver and the reader had set has run: still one event of each.
    await vi.runAllTimersAsync();
    expect(events).toEqual(['removed', 'inserted']);
  });

  it('unplugged mid-transfer: transport/disconnected, one disconnect event; plugged back, a new reader works', async () => {
    const s = await connectedOnTheClock(preset);
    let disconnects = 0;
    const disconnected = new Promise<void>((resolve) =>
      s.reader.addEventListener('disconnect', () => {
        disconnects++;
        resolve();
      }),
    );
    const { error } = await underFaultOnTheClock(s, { kind: 'unplug' });
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).code).toBe('transport/disconnected');
    await expect(onTheClock(s.connection.transmit(SELECT_HCA))).rejects.toMatchObject({ code: 'transport/disconnected' });
    await onTheClock(disconnected);
    expect(disconnects).toBe(1);
    s.device.plug();
    const { CcidReader } = await import('../src/ccid/reader.js');
    const reader = await onTheClock(CcidReader.open(s.device, { backend: s.usb }));
    const c = await onTheClock(reader.connect(0));
    expect(sw(await onTheClock(c.transmit(SELECT_HCA)))).toBe(0x9000);
    await onTheClock(reader.close());
    // Once every timer the driver and the reader had set has run: still one disconnect event.
    await vi.runAllTimersAsync();
    expect(disconnects).toBe(1);
  });
});

describe('one bulk-out transfer at a time', () => {
  it('a write that completes after the answer: the next command is written only once it has (the `usb` package 3.x refuses a second transfer on a busy endpoint)', async () => {
    // As met in the QEMU lab with usb 3.1.0: a transferOut posted while another on the same
    // endpoint runs rejects with "transferOut error: endpoint not found". Here the device's
    // answer comes at once and its write's promise settles 2 ms later.
    const s = await openStack({ preset: 'omnikey-3121', card: createHcaLikeCard() });
    const c = await s.reader.connect(0);
    const device = s.device as unknown as { transferOut(ep: number, data: BufferSource): Promise<USBOutTransferResult> };
    const original = device.transferOut.bind(device);
    let writing = 0;
    let overlaps = 0;
    device.transferOut = async (ep, data) => {
      if (writing > 0) {
        overlaps++;
        throw new Error('transferOut error: endpoint not found');
      }
      writing++;
      try {
        const r = await original(ep, data);
        await new Promise((resolve) => setTimeout(resolve, 2));
        return r;
      } finally {
        writing--;
      }
    };
    for (let i = 0; i < 5; i++) expect(sw(await c.transmit(SELECT_HCA))).toBe(0x9000);
    expect(overlaps).toBe(0);
    await s.reader.close();
  });
});

describe('cancellation', () => {
  it('an AbortSignal ends a slow exchange with code "aborted"; the reader recovers', async () => {
    // On the fake clock: the abort comes 20 ms into the exchange, long before its timeout.
    const s = await connectedOnTheClock('omnikey-3121');
    const c = s.connection;
    s.device.injectFault({ kind: 'mute' });
    const controller = new AbortController();
    const pending = c.transmit(SELECT_HCA, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(onTheClock(pending)).rejects.toMatchObject({ code: 'aborted' });
    expect(sw(await onTheClock(c.transmit(SELECT_HCA)))).toBe(0x9000);
  });
});

describe('a T=1 card that never ends the exchange (TPDU reader, instant device)', () => {
  const floods: Array<[string, VirtualFault, number, boolean]> = [
    // 8 empty chained I-blocks in a row are tolerated, the 9th ends it.
    ['empty I-blocks with M = 1 answering every R-block', { kind: 'endless-chain' }, 12, false],
    // HCA-like ATR: BWI 4 at 4 MHz, BWT about 1.43 s; 300 s of S(WTX) time is about 210 blocks.
    // Long enough a run of exchanges that the event loop must get turns in between.
    ['S(WTX) answering every block', { kind: 'wtx-flood', multiplier: 1 }, 260, true],
  ];
  it.each(floods)('%s: protocol/t1-endless-exchange soon, a reconnect works', async (_name, fault, maxBlocks, long) => {
    const s = await connected('castles-ezccid');
    s.device.injectFault(fault);
    const sentBefore = s.sent.length;
    // "Soon" is counted in blocks, not in time: the driver must give up within `maxBlocks`.
    // One block more and the reader is unplugged, so that a driver that would go on without
    // end fails here (transport/disconnected) instead of hanging the run.
    const transferOut = s.device.transferOut.bind(s.device);
    s.device.transferOut = (endpoint, bytes) => {
      if (s.sent.length - sentBefore > maxBlocks) s.device.unplug();
      return transferOut(endpoint, bytes);
    };
    const order: string[] = [];
    let blocksWhenTimerRan: number | undefined;
    setTimeout(() => {
      order.push('timer');
      blocksWhenTimerRan = s.sent.length - sentBefore;
    }, 0);
    const error = await s.connection.transmit(SELECT_HCA).then(
      () => undefined,
      (e: unknown) => e,
    );
    order.push('exchange ended');
    const blocks = s.sent.length - sentBefore;
    s.device.transferOut = transferOut;
    expect(error).toBeInstanceOf(WebCcidError);
    expect((error as WebCcidError).code).toBe('protocol/t1-endless-exchange');
    expect(blocks).toBeLessThanOrEqual(maxBlocks);
    // The event loop was not starved: a timer set before the flood ran while the card was
    // still flooding (blocks were sent after it), before the exchange ended.
    if (long) {
      expect(order).toEqual(['timer', 'exchange ended']);
      expect(blocksWhenTimerRan!).toBeLessThan(blocks);
    }
    // The card stays adversarial until powered off; a new connection powers it again.
    const again = await s.reader.connect(0);
    expect(sw(await again.transmit(SELECT_HCA))).toBe(0x9000);
  });
});

describe('a lost ABORT (CCID 1.10 §5.3.1)', () => {
  // A real reader keeps a slot busy (CMD_SLOT_BUSY) until it gets the ABORT
  // class request and PC_to_RDR_Abort with the same bSeq; the virtual reader's
  // 'mute' fault does the same.
  it.each(PRESETS)('%s: every ABORT request of a sequence fails: the next exchange repeats the sequence and works', async (preset) => {
    const s = await connected(preset);
    s.device.injectFault({ kind: 'mute' });
    s.device.injectFault({ kind: 'transfer-error', direction: 'control', times: 3 });
    await s.connection.transmit(SELECT_HCA).catch(() => undefined); // may fail (typed) or recover: the card never saw it
    expect(sw(await s.connection.transmit(SELECT_HCA))).toBe(0x9000);
    expect(sw(await s.connection.transmit(SELECT_HCA))).toBe(0x9000);
    expect(s.reader.transport.stats.aborts).toBeGreaterThanOrEqual(2);
    const again = await s.reader.connect(0);
    expect(sw(await again.transmit(SELECT_HCA))).toBe(0x9000);
  });

  it.each(PRESETS)('%s: one failed ABORT request is tried again within the sequence', async (preset) => {
    const s = await connected(preset);
    s.device.injectFault({ kind: 'mute' });
    s.device.injectFault({ kind: 'transfer-error', direction: 'control' });
    await s.connection.transmit(SELECT_HCA).catch(() => undefined);
    expect(s.reader.transport.stats.abortControlFailures).toBe(1);
    expect(sw(await s.connection.transmit(SELECT_HCA))).toBe(0x9000);
  });

  it.each(PRESETS)('%s: a slot left busy by an earlier session: close() and CcidReader.open, then connect works', async (preset) => {
    const s = await connected(preset);
    s.device.injectFault({ kind: 'mute' });
    // Every control transfer fails while this reader object lives: its aborts never reach the reader.
    s.device.injectFault({ kind: 'transfer-error', direction: 'control', times: 1000 });
    await s.connection.transmit(SELECT_HCA).catch(() => undefined);
    await expect(s.connection.transmit(SELECT_HCA)).rejects.toBeInstanceOf(WebCcidError);
    await s.reader.close();
    open = open.filter((x) => x !== s);
    s.device.clearFaults();
    const { CcidReader } = await import('../src/ccid/reader.js');
    const reader = await CcidReader.open(s.device, { backend: s.usb, ...DRIVER });
    try {
      const c = await reader.connect(0);
      expect(sw(await c.transmit(SELECT_HCA))).toBe(0x9000);
      expect(reader.transport.stats.aborts).toBe(1);
    } finally {
      await reader.close();
    }
  });
});

describe('a queued call and its AbortSignal', () => {
  /** True when `needle` occurs in `frame`. */
  const contains = (frame: Uint8Array, needle: Uint8Array) =>
    frame.some((_, i) => needle.every((b, j) => frame[i + j] === b));

  it.each(PRESETS)('%s: a transmit queued behind a mute exchange rejects "aborted" at once and never reaches the reader', async (preset) => {
    // On the fake clock: "at once" is "with the clock standing still", while the mute exchange
    // ahead of it still waits for its own timeout.
    vi.useFakeTimers();
    const s = await onTheClock(openStack({ preset, card: createHcaLikeCard() }, DRIVER));
    open.push(s);
    const c = await onTheClock(s.reader.connect(0));
    s.device.injectFault({ kind: 'mute' });
    const order: string[] = [];
    const first = c.transmit(SELECT_HCA).then(
      () => order.push('mute exchange ended'),
      () => order.push('mute exchange ended'),
    );
    // A READ BINARY with an offset used nowhere else, to find it in the trace.
    const queuedApdu = Uint8Array.of(0x00, 0xb0, 0x5a, 0xa5, 0x04);
    const controller = new AbortController();
    const queued = c.transmit(queuedApdu, { signal: controller.signal });
    const outcome = queued.then(
      () => (order.push('queued resolved'), undefined),
      (e: unknown) => (order.push('queued rejected'), e),
    );
    await vi.advanceTimersByTimeAsync(10); // the mute exchange is under way, the other call waits behind it
    expect(order).toEqual([]);
    const abortedAt = Date.now();
    controller.abort();
    await vi.advanceTimersByTimeAsync(0); // runs what is due now; the clock does not move
    expect(Date.now()).toBe(abortedAt);
    expect(order).toEqual(['queued rejected']);
    expect(await outcome).toMatchObject({ code: 'aborted' });
    await onTheClock(first); // the mute exchange ends on its own timeout
    expect(order).toEqual(['queued rejected', 'mute exchange ended']);
    // The device's command log once everything settled: the queued APDU never reached the reader.
    expect(s.sent.some((f) => contains(f, queuedApdu))).toBe(false);
    // The slot is not left behind: the next call works.
    expect(sw(await onTheClock(c.transmit(SELECT_HCA)))).toBe(0x9000);
    expect(s.sent.some((f) => contains(f, queuedApdu))).toBe(false);
  });

  it('an already aborted signal: transmit, status and connect reject at once without sending anything', async () => {
    const s = await openStack({ preset: 'castles-ezccid', card: createHcaLikeCard() }, DRIVER);
    open.push(s);
    const c = await s.reader.connect(0);
    const before = s.sent.length;
    const signal = AbortSignal.abort();
    await expect(c.transmit(SELECT_HCA, { signal })).rejects.toMatchObject({ code: 'aborted' });
    await expect(s.reader.status(0, { signal })).rejects.toMatchObject({ code: 'aborted' });
    await expect(s.reader.connect(0, { signal })).rejects.toMatchObject({ code: 'aborted' });
    expect(s.sent.length).toBe(before);
  });
});

describe('claim refusals are explained', () => {
  it('Chrome protected class -> transport/protected-class', async () => {
    await expect(openStack({ preset: 'castles-ezccid', claimRefusal: 'protected-class' })).rejects.toMatchObject({
      code: 'transport/protected-class',
    });
  });
  it('OS-held interface -> transport/os-held', async () => {
    await expect(openStack({ preset: 'castles-ezccid', claimRefusal: 'os-held' })).rejects.toMatchObject({ code: 'transport/os-held' });
  });
  it('no permission -> transport/no-permission', async () => {
    await expect(openStack({ preset: 'castles-ezccid', accessDenied: true })).rejects.toMatchObject({ code: 'transport/no-permission' });
  });
  it('a character-level reader is refused clearly', async () => {
    await expect(openStack({ preset: 'castles-ezccid', exchangeLevel: 'character' })).rejects.toMatchObject({
      code: 'ccid/unsupported-level',
    });
  });
});

describe('bMaxCCIDBusySlots: commands wait for a place', () => {
  const GET_CHALLENGE = Uint8Array.of(0x00, 0x84, 0x00, 0x00, 0x08);

  it('a waiting command cancelled by its signal leaves the queue; the others keep their order and the next APDU works', async () => {
    // Two slots, one busy slot at a time (CCID 1.10 §5.1, bMaxCCIDBusySlots 1), 30 ms per USB transfer, in real time.
    const s = await openStack({ preset: 'gemcore-sim-pro', cards: [createHcaLikeCard(), createHcaLikeCard()], latencyMs: 30, timeScale: 1 });
    open.push(s);
    const c0 = await s.reader.connect(0);
    const c1 = await s.reader.connect(1);
    expect(sw(await c0.transmit(SELECT_HCA))).toBe(0x9000);
    expect(sw(await c1.transmit(SELECT_HCA))).toBe(0x9000);
    const first = c0.transmit(GET_CHALLENGE);
    await new Promise((r) => setTimeout(r, 5)); // slot 0's command is on the wire
    const cancelled = new AbortController();
    const second = c1.transmit(GET_CHALLENGE, { signal: cancelled.signal });
    const third = c0.transmit(SELECT_HCA);
    await new Promise((r) => setTimeout(r, 5)); // slot 1's command waits for the place
    cancelled.abort();
    await expect(second).rejects.toMatchObject({ name: 'AbortError', code: 'aborted' });
    expect(sw(await first)).toBe(0x9000);
    expect(sw(await third)).toBe(0x9000);
    expect(sw(await c1.transmit(GET_CHALLENGE))).toBe(0x9000);
  });
});
