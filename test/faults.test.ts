/**
 * Every fault the virtual reader can inject ends in a typed error (or is
 * recovered transparently where the protocol allows it) within its timeout,
 * and the next APDU works.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { concatBytes } from '../src/bytes.js';
import { SlotError, TransportError, WebCcidError } from '../src/errors.js';
import { createHcaLikeCard, HCA_LIKE_LAYOUT, type VirtualFault, type VirtualReaderPresetName } from '../src/virtual/index.js';
import { openStack, sw, type Stack } from './helpers/stack.js';

const SELECT_HCA = concatBytes(Uint8Array.of(0x00, 0xa4, 0x04, 0x0c, HCA_LIKE_LAYOUT.aid.length), HCA_LIKE_LAYOUT.aid);
/** Timeouts scaled down so that a mute card costs a fraction of a second. */
const DRIVER = { timeoutFactor: 0.1, usbSlackMs: 100 };

let open: Stack[] = [];
afterEach(async () => {
  for (const s of open) await s.reader.close();
  open = [];
});

async function connected(preset: VirtualReaderPresetName) {
  const s = await openStack({ preset, card: createHcaLikeCard() }, DRIVER);
  open.push(s);
  const connection = await s.reader.connect(0);
  expect(sw(await connection.transmit(SELECT_HCA))).toBe(0x9000);
  return { ...s, connection };
}

/** Runs one APDU under `fault`; returns the error (or undefined) and the time it took. */
async function underFault(s: Awaited<ReturnType<typeof connected>>, fault: VirtualFault) {
  s.device.injectFault(fault);
  const started = performance.now();
  let error: unknown;
  try {
    const r = await s.connection.transmit(SELECT_HCA);
    expect(sw(r)).toBe(0x9000);
  } catch (e) {
    error = e;
  }
  return { error, ms: performance.now() - started };
}

const PRESETS: VirtualReaderPresetName[] = ['castles-ezccid', 'omnikey-3121'];

describe.each(PRESETS)('faults on %s', (preset) => {
  it('time extensions: the answer still comes, the timer restarted each time', async () => {
    const s = await connected(preset);
    const { error } = await underFault(s, { kind: 'time-extension', count: 3, multiplier: 2 });
    expect(error).toBeUndefined();
    expect(s.reader.transport.stats.timeExtensions).toBe(3);
  });

  it('S(WTX) from the card: answered, the APDU completes', async () => {
    const s = await connected(preset);
    const { error } = await underFault(s, { kind: 'wtx', multiplier: 10 });
    expect(error).toBeUndefined();
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
    const s = await connected(preset);
    const { error, ms } = await underFault(s, { kind: 'mute' });
    if (error !== undefined) {
      expect((error as WebCcidError).code).toBe('transport/timeout');
    }
    // The longest command timeout at this scale is well under 2 s; never a hang.
    expect(ms).toBeLessThan(2000);
    expect(s.reader.transport.stats.aborts).toBeGreaterThanOrEqual(1);
    expect(sw(await s.connection.transmit(SELECT_HCA))).toBe(0x9000);
  });

  it('card removed: ccid/card-absent and a cardremoved event; reinserted, a new connection works', async () => {
    const s = await connected(preset);
    const events: string[] = [];
    s.reader.addEventListener('cardremoved', () => events.push('removed'));
    s.reader.addEventListener('cardinserted', () => events.push('inserted'));
    const { error } = await underFault(s, { kind: 'card-removal' });
    expect(error).toBeInstanceOf(SlotError);
    expect((error as SlotError).code).toBe('ccid/card-absent');
    await expect(s.connection.transmit(SELECT_HCA)).rejects.toMatchObject({ code: 'ccid/card-absent' });
    s.device.insertCard(createHcaLikeCard());
    await new Promise((r) => setTimeout(r, 10));
    expect(events).toEqual(['removed', 'inserted']);
    const again = await s.reader.connect(0);
    expect(sw(await again.transmit(SELECT_HCA))).toBe(0x9000);
  });

  it('unplugged mid-transfer: transport/disconnected, one disconnect event; plugged back, a new reader works', async () => {
    const s = await connected(preset);
    let disconnects = 0;
    s.reader.addEventListener('disconnect', () => disconnects++);
    const { error } = await underFault(s, { kind: 'unplug' });
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).code).toBe('transport/disconnected');
    await expect(s.connection.transmit(SELECT_HCA)).rejects.toMatchObject({ code: 'transport/disconnected' });
    await new Promise((r) => setTimeout(r, 10));
    expect(disconnects).toBe(1);
    s.device.plug();
    const { CcidReader } = await import('../src/ccid/reader.js');
    const reader = await CcidReader.open(s.device, { backend: s.usb });
    const c = await reader.connect(0);
    expect(sw(await c.transmit(SELECT_HCA))).toBe(0x9000);
    await reader.close();
  });
});

describe('cancellation', () => {
  it('an AbortSignal ends a slow exchange with code "aborted"; the reader recovers', async () => {
    const s = await openStack({ preset: 'omnikey-3121', card: createHcaLikeCard() }, DRIVER);
    open.push(s);
    const c = await s.reader.connect(0);
    s.device.injectFault({ kind: 'mute' });
    const controller = new AbortController();
    const pending = c.transmit(SELECT_HCA, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ code: 'aborted' });
    expect(sw(await c.transmit(SELECT_HCA))).toBe(0x9000);
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
    let timerRanAt: number | undefined;
    setTimeout(() => (timerRanAt = performance.now()), 0);
    const started = performance.now();
    const error = await s.connection.transmit(SELECT_HCA).then(
      () => undefined,
      (e: unknown) => e,
    );
    const endedAt = performance.now();
    expect(error).toBeInstanceOf(WebCcidError);
    expect((error as WebCcidError).code).toBe('protocol/t1-endless-exchange');
    expect(endedAt - started).toBeLessThan(2000);
    expect(s.sent.length - sentBefore).toBeLessThanOrEqual(maxBlocks);
    // The event loop was not starved: the timer ran while the card was flooding.
    if (long) {
      expect(timerRanAt).toBeDefined();
      expect(timerRanAt!).toBeLessThan(endedAt);
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
    const s = await openStack({ preset, card: createHcaLikeCard() }, DRIVER);
    open.push(s);
    const c = await s.reader.connect(0);
    s.device.injectFault({ kind: 'mute' });
    const first = c.transmit(SELECT_HCA).catch((e: unknown) => e);
    // A READ BINARY with an offset used nowhere else, to find it in the trace.
    const queuedApdu = Uint8Array.of(0x00, 0xb0, 0x5a, 0xa5, 0x04);
    const controller = new AbortController();
    const queued = c.transmit(queuedApdu, { signal: controller.signal });
    const settled = queued.then(
      () => performance.now(),
      () => performance.now(),
    );
    await new Promise((r) => setTimeout(r, 10));
    const abortedAt = performance.now();
    controller.abort();
    await expect(queued).rejects.toMatchObject({ code: 'aborted' });
    expect((await settled) - abortedAt).toBeLessThan(50);
    await first; // the mute exchange ends on its own timeout
    await new Promise((r) => setTimeout(r, 20));
    expect(s.sent.some((f) => contains(f, queuedApdu))).toBe(false);
    // The slot is not left behind: the next call works.
    expect(sw(await c.transmit(SELECT_HCA))).toBe(0x9000);
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
