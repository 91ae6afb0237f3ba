/**
 * The trace player: a trace recorded by `TracingChannel` over a card plays back as that card,
 * redacted bytes match anything, and every way of going off the recording is a typed error that
 * never shows a PIN.
 */
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../bytes.js';
import { WebCcidError } from '../errors.js';
import { createVirtualHcaCard } from '../virtual/hca-card.js';
import { MemoryCardChannel } from './memory.js';
import { matchesPattern, parsePattern, ReplayChannel, ReplayError, traceSessionsOf } from './replay.js';
import { createTraceFile, TracingChannel, type TraceSession } from './trace.js';

const ATR = '3B F9 18 00 00 81 31 FE 45 50 56 5F 4A 32 44 30 38 31 B6';

function session(entries: TraceSession['entries'], extra: Partial<TraceSession> = {}): TraceSession {
  return { atr: ATR, protocol: 't1', startedAt: '2026-01-01T00:00:00.000Z', entries, ...extra };
}

function entry(index: number, command: string, response: string, extra: object = {}): TraceSession['entries'][number] {
  return { index, kind: 'apdu', atMs: index, durationMs: 1, command, response, sw: response.replace(/\s/g, '').slice(-4), ...extra };
}

async function errorOf(p: Promise<unknown>): Promise<ReplayError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ReplayError);
  return e as ReplayError;
}

describe('patterns', () => {
  it.each([
    ['00 A4 04 0C 02 3F 00', '00A4040C023F00', true],
    ['00 20 00 81 08 [REDACTED 8 bytes]', '0020008108' + '3132333435363738', true],
    ['00 20 00 81 08 [REDACTED 8 bytes]', '0020008108' + '31323334353637', false], // one byte short
    ['00 2A 9E 9A 33 [REDACTED 51 bytes] 00', '002A9E9A33' + '00'.repeat(51) + '00', true],
    ['00 2A 9E 9A 01 [REDACTED 1 byte] 00', '002A9E9A01AA00', true],
    ['00 A4 04 0C 02 3F 00', '00A4040C023F01', false],
  ])('%s vs %s: %s', (pattern, hex, expected) => {
    expect(matchesPattern(parsePattern(pattern, 't'), fromHex(hex))).toBe(expected);
  });

  it('bad hex is replay/bad-trace', () => {
    expect(() => parsePattern('00 GG', 't')).toThrow(expect.objectContaining({ code: 'replay/bad-trace' }));
  });
});

describe('ReplayChannel', () => {
  it('a recorded session of the virtual card plays back as the card (round trip with TracingChannel)', async () => {
    const card = await createVirtualHcaCard();
    const tracing = new TracingChannel(new MemoryCardChannel(card));
    const commands = ['00 A4 04 0C 08 D1 58 00 00 01 48 43 41', '00 A4 02 0C 02 00 02', '00 B0 00 00 00', '00 20 00 81'].map(fromHex);
    const answers: string[] = [];
    for (const c of commands) answers.push(toHex(await tracing.transmit(c)));
    await tracing.transmit(fromHex('00 20 00 81 08 31 32 33 34 35 36 FF FF'));
    const file = JSON.parse(JSON.stringify(createTraceFile({ tool: { name: 't', version: '0' }, sessions: [tracing.session()] })));
    const replay = ReplayChannel.fromJson(file);
    expect(toHex(replay.atr.bytes)).toBe(toHex(card.atr));
    expect(replay.protocol).toBe('t1');
    for (const [i, c] of commands.entries()) expect(toHex(await replay.transmit(c))).toBe(answers[i]);
    // The PIN was redacted: another PIN of the same length matches.
    expect(toHex(await replay.transmit(fromHex('00 20 00 81 08 39 39 39 39 39 39 FF FF')))).toBe('90 00');
    replay.assertComplete();
    expect(replay.sent[4]).toBe('00 20 00 81 08 [REDACTED 8 bytes]');
  });

  it('sequential: another command is replay/mismatch naming the entry, without the PIN', async () => {
    const replay = new ReplayChannel(session([entry(0, '00 A4 04 0C 02 3F 00', '90 00')]));
    const e = await errorOf(replay.transmit(fromHex('00 20 00 81 06 34 39 33 38 31 37')));
    expect(e.code).toBe('replay/mismatch');
    expect(e.message).toContain('Entry 0');
    expect(e.message).toContain('[REDACTED 6 bytes]');
    expect(e.message).not.toMatch(/34 39 33 38 31 37|493817/);
  });

  it('sequential: past the end is replay/exhausted; unplayed entries fail assertComplete', async () => {
    const replay = new ReplayChannel(session([entry(0, '00 A4 00 0C', '90 00'), entry(1, '00 A4 00 0C', '90 00')]));
    await replay.transmit(fromHex('00 A4 00 0C'));
    expect(() => replay.assertComplete()).toThrow(expect.objectContaining({ code: 'replay/mismatch' }));
    await replay.transmit(fromHex('00 A4 00 0C'));
    expect((await errorOf(replay.transmit(fromHex('00 A4 00 0C')))).code).toBe('replay/exhausted');
  });

  it('lookup: any order; a repeated command gets the next unused answer, then the last one', async () => {
    const replay = new ReplayChannel(session([entry(0, '00 20 00 81', '63 C3'), entry(1, '00 B0 00 00 00', '41 42 90 00'), entry(2, '00 20 00 81', '63 C2')]), { order: 'lookup' });
    expect(toHex(await replay.transmit(fromHex('00 B0 00 00 00')))).toBe('41 42 90 00');
    expect(toHex(await replay.transmit(fromHex('00 20 00 81')))).toBe('63 C3');
    expect(toHex(await replay.transmit(fromHex('00 20 00 81')))).toBe('63 C2');
    expect(toHex(await replay.transmit(fromHex('00 20 00 81')))).toBe('63 C2');
    expect((await errorOf(replay.transmit(fromHex('00 84 00 00 08')))).code).toBe('replay/unexpected-command');
  });

  it('redacted answer bytes are filled (default 00, or the given byte)', async () => {
    const s = session([entry(0, '00 B0 00 00 00', '[REDACTED 3 bytes] 90 00')]);
    expect(toHex(await new ReplayChannel(s).transmit(fromHex('00 B0 00 00 00')))).toBe('00 00 00 90 00');
    expect(toHex(await new ReplayChannel(s, { fill: 0x20 }).transmit(fromHex('00 B0 00 00 00')))).toBe('20 20 20 90 00');
  });

  it('a recorded failure replays as replay/recorded-error with the recorded code', async () => {
    const s = session([{ index: 0, kind: 'apdu', atMs: 0, durationMs: 1, command: '00 A4 00 0C', error: { name: 'SlotError', code: 'ccid/card-absent', message: 'No card.' } }]);
    const e = await errorOf(new ReplayChannel(s).transmit(fromHex('00 A4 00 0C')));
    expect(e.code).toBe('replay/recorded-error');
    expect(e.recorded?.code).toBe('ccid/card-absent');
  });

  it('pinpad operations: the reader\'s pinpad, header and PIN block formats must match', async () => {
    const format = { encoding: 'ascii' as const, minLength: 6, maxLength: 8, blockLength: 8, padByte: 0xff };
    const s = session([{ index: 0, kind: 'secure-verify', atMs: 0, durationMs: 1, command: '00 20 00 81', secure: { format }, response: '63 C2', sw: '63C2' }], {
      reader: { vendorId: '072F', productId: '90CC', pinpad: { verify: true, modify: false } },
    });
    const replay = new ReplayChannel(s);
    expect(replay.pinpad).toEqual({ verify: true, modify: false });
    expect(toHex(await replay.verifyPinSecure({ header: fromHex('00 20 00 81'), format }))).toBe('63 C2');
    const other = new ReplayChannel(s);
    expect((await errorOf(other.verifyPinSecure({ header: fromHex('00 20 00 81'), format: { ...format, blockLength: 10 } }))).code).toBe('replay/mismatch');
  });

  it('documents: a trace file, a report carrying one in a property, a bare session; anything else is replay/bad-trace', () => {
    const s = session([]);
    const file = createTraceFile({ tool: { name: 't', version: '0' }, sessions: [s] });
    expect(traceSessionsOf(file)).toHaveLength(1);
    expect(traceSessionsOf({ readers: [], trace: file })).toHaveLength(1);
    expect(traceSessionsOf({ kind: 'field-report', card: {}, trace: file })).toHaveLength(1);
    expect(traceSessionsOf(s)).toHaveLength(1);
    for (const bad of [null, 3, 'x', {}, { sessions: [{}] }, { sessions: [{ atr: ATR, entries: [], protocol: 't2' }] }]) {
      expect(() => traceSessionsOf(bad)).toThrow(WebCcidError);
    }
    expect(() => ReplayChannel.fromJson(file, { session: 1 })).toThrow(expect.objectContaining({ code: 'replay/bad-trace' }));
    expect(() => new ReplayChannel(session([], { atr: '00' }))).toThrow(expect.objectContaining({ code: 'replay/bad-trace' }));
  });
});
