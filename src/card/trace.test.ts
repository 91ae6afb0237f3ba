import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fromHex, toHex, concatBytes } from '../bytes.js';
import { PinIncorrectError, SlotError } from '../errors.js';
import { parseAtr } from '../iso7816/atr.js';
import { createHcaLikeCard, HCA_ATR, HCA_LIKE_LAYOUT, type VirtualCard } from '../virtual/index.js';
import type { CardChannel, SecurePinModifyRequest, SecurePinVerifyRequest } from './channel.js';
import { createTraceFile, redactCommand, REDACTED_INS, traceReaderInfo, TracingChannel, TRACE_FORMAT } from './trace.js';

/** A CardChannel over a virtual card (stand-in for MemoryCardChannel), with an optional pinpad. */
function channelOver(card: VirtualCard, pinpad?: { keyed: string }): CardChannel & { sent: Uint8Array[] } {
  const sent: Uint8Array[] = [];
  const channel: CardChannel & { sent: Uint8Array[] } = {
    atr: parseAtr(card.atr),
    protocol: 't1',
    sent,
    transmit: async (apdu) => {
      sent.push(apdu.slice());
      return card.transmit(apdu);
    },
  };
  if (pinpad) {
    const block = (digits: string) => Uint8Array.from({ length: 8 }, (_, i) => (i < digits.length ? digits.charCodeAt(i) : 0xff));
    Object.assign(channel, {
      pinpad: { verify: true, modify: true },
      verifyPinSecure: async (request: SecurePinVerifyRequest) =>
        card.transmit(concatBytes(request.header, Uint8Array.of(pinpad.keyed.length), block(pinpad.keyed).subarray(0, pinpad.keyed.length))),
      modifyPinSecure: async (request: SecurePinModifyRequest) => {
        if (request.confirm) throw new SlotError('ccid/pin-cancelled', 'The user cancelled PIN entry on the reader.', 0x41, 0xef);
        return card.transmit(concatBytes(request.header, Uint8Array.of(16), block(pinpad.keyed), block('654321')));
      },
    });
  }
  return channel;
}

const SELECT_AID = concatBytes(Uint8Array.of(0x00, 0xa4, 0x04, 0x0c, HCA_LIKE_LAYOUT.aid.length), HCA_LIKE_LAYOUT.aid);
const PIN = '123456';
const WRONG_PIN = '987654';
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const pinBlock = (s: string) => Uint8Array.from({ length: 8 }, (_, i) => (i < s.length ? s.charCodeAt(i) : 0xff));
const FORMAT = { encoding: 'ascii', minLength: 6, maxLength: 8, blockLength: 8, padByte: 0xff } as const;

/** Every string in the trace JSON, in hex and ASCII forms of a secret. */
function leaks(json: string, secret: string): boolean {
  const hex = toHex(ascii(secret));
  return json.includes(secret) || json.includes(hex) || json.includes(toHex(ascii(secret), ''));
}

describe('redactCommand', () => {
  it.each([
    ['VERIFY short', '00 20 00 81 08 31 32 33 34 35 36 FF FF', '00 20 00 81 08 [REDACTED 8 bytes]'],
    ['VERIFY without data (status)', '00 20 00 81', '00 20 00 81'],
    ['CHANGE REFERENCE DATA', '00 24 00 81 10 31 32 33 34 35 36 FF FF 36 35 34 33 32 31 FF FF', '00 24 00 81 10 [REDACTED 16 bytes]'],
    ['RESET RETRY COUNTER', '00 2C 00 81 10 31 32 33 34 35 36 37 38 36 35 34 33 32 31 FF FF', '00 2C 00 81 10 [REDACTED 16 bytes]'],
    ['PSO CDS case 4 keeps Le', '00 2A 9E 9A 03 01 02 03 00', '00 2A 9E 9A 03 [REDACTED 3 bytes] 00'],
    ['INTERNAL AUTHENTICATE', '00 88 00 01 01 AA 00', '00 88 00 01 01 [REDACTED 1 byte] 00'],
    ['extended VERIFY keeps the 3-byte Lc', '00 20 00 81 00 00 02 31 32', '00 20 00 81 00 00 02 [REDACTED 2 bytes]'],
    ['malformed VERIFY: all after the header', '00 20 00 81 05 31 32', '00 20 00 81 [REDACTED 3 bytes]'],
    ['SELECT is kept', '00 A4 04 0C 02 D1 58', '00 A4 04 0C 02 D1 58'],
    ['READ BINARY is kept', '00 B0 00 00 00', '00 B0 00 00 00'],
  ])('%s', (_name, command, expected) => {
    expect(redactCommand(fromHex(command)).text).toBe(expected);
  });

  it('never returns a secret data byte and never throws (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...REDACTED_INS), fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.boolean(), (ins, secret, extended) => {
        // A marker value that cannot be a header, length or Le byte in these APDUs.
        const data = secret.map(() => 0xa5);
        const lc = extended || data.length > 255 ? Uint8Array.of(0, data.length >> 8, data.length & 0xff) : Uint8Array.of(data.length);
        const apdu = concatBytes(Uint8Array.of(0x00, ins, 0x00, 0x81), lc, data);
        const { text, redacted } = redactCommand(apdu);
        expect(redacted).toBe(true);
        expect(text).not.toContain('A5');
        expect(text).toContain(`[REDACTED ${data.length} byte`);
      }),
    );
  });

  it('any byte string -> text, never an exception (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 270 }), (bytes) => {
        expect(typeof redactCommand(bytes).text).toBe('string');
      }),
    );
  });

  it('does not modify the caller buffer', () => {
    const apdu = concatBytes(fromHex('00 20 00 81 08'), pinBlock(PIN));
    const copy = apdu.slice();
    redactCommand(apdu);
    expect(apdu).toEqual(copy);
  });
});

describe('TracingChannel', () => {
  it('forwards every APDU and records it with timing, SW and status', async () => {
    let clock = 1000;
    const inner = channelOver(createHcaLikeCard());
    const t = new TracingChannel(inner, { now: () => (clock += 5), date: () => new Date('2026-01-02T03:04:05Z') });
    expect(t.atr.bytes).toEqual(HCA_ATR);
    expect(t.protocol).toBe('t1');
    expect(t.pinpad).toBeUndefined();
    expect(t.verifyPinSecure).toBeUndefined();
    expect(t.modifyPinSecure).toBeUndefined();

    const r1 = await t.transmit(SELECT_AID);
    expect(toHex(r1)).toBe('90 00');
    const r2 = await t.transmit(fromHex('00 A4 02 0C 02 00 02'));
    expect(toHex(r2)).toBe('90 00');
    const r3 = await t.transmit(fromHex('00 B0 00 00 00'));
    expect(new TextDecoder().decode(r3.subarray(0, 2))).toBe('GH');
    expect(inner.sent).toHaveLength(3);

    const s = t.session({ slot: 0, reader: traceReaderInfo({ vendorId: 0xca6, productId: 0x10, name: 'EZ100PU', exchangeLevel: 'tpdu' }) });
    expect(s.atr).toBe(toHex(HCA_ATR));
    expect(s.startedAt).toBe('2026-01-02T03:04:05.000Z');
    expect(s.reader).toEqual({ vendorId: '0CA6', productId: '0010', name: 'EZ100PU', exchangeLevel: 'tpdu' });
    expect(s.entries.map((e) => e.index)).toEqual([0, 1, 2]);
    expect(s.entries[0]).toMatchObject({ kind: 'apdu', command: toHex(SELECT_AID), response: '90 00', sw: '9000', atMs: 5, durationMs: 5 });
    expect(s.entries[0]!.redacted).toBeUndefined();
    expect(s.entries[2]!.response).toBe(toHex(r3));
    expect(s.entries[2]!.status).toBeTypeOf('string');
  });

  it('redacts PIN data: wrong PIN, right PIN, change, unblock; the answers stay', async () => {
    const card = createHcaLikeCard();
    const t = new TracingChannel(channelOver(card));
    await t.transmit(SELECT_AID);
    const wrong = concatBytes(fromHex('00 20 00 81 08'), pinBlock(WRONG_PIN));
    expect(toHex(await t.transmit(wrong))).toBe('63 C2');
    await t.transmit(concatBytes(fromHex('00 20 00 81 06'), ascii(PIN)));
    await t.transmit(concatBytes(fromHex('00 24 00 81 10'), pinBlock(PIN), pinBlock('24681357')));
    await t.transmit(concatBytes(fromHex('00 2C 00 81 10'), ascii('12345678'), pinBlock('11223344')));
    const json = JSON.stringify(createTraceFile({ tool: { name: 'webccid', version: '0' }, profileId: 'p', sessions: [t.session()] }));
    for (const secret of [PIN, WRONG_PIN, '24681357', '12345678', '11223344']) expect(leaks(json, secret)).toBe(false);
    const entries = t.session().entries;
    expect(entries[1]).toMatchObject({ command: '00 20 00 81 08 [REDACTED 8 bytes]', redacted: true, sw: '63C2' });
    expect(entries[2]).toMatchObject({ command: '00 20 00 81 06 [REDACTED 6 bytes]', sw: '9000', redacted: true });
    expect(entries[3]!.command).toBe('00 24 00 81 10 [REDACTED 16 bytes]');
    expect(entries[4]!.command).toBe('00 2C 00 81 10 [REDACTED 16 bytes]');
  });

  it('records the bytes at send time: wiping the caller buffer afterwards changes nothing', async () => {
    const t = new TracingChannel(channelOver(createHcaLikeCard()));
    const apdu = fromHex('00 A4 04 0C 02 D1 58');
    await t.transmit(apdu);
    apdu.fill(0);
    expect(t.session().entries[0]!.command).toBe('00 A4 04 0C 02 D1 58');
  });

  it('redacts the response data of PSO DECIPHER, and of reads with redactCardData', async () => {
    const inner: CardChannel = {
      atr: parseAtr(HCA_ATR),
      protocol: 't1',
      transmit: async () => fromHex('11 22 33 90 00'),
    };
    const t = new TracingChannel(inner, { redactCardData: true });
    await t.transmit(fromHex('00 2A 80 86 02 00 AA 00'));
    await t.transmit(fromHex('00 B0 00 00 03'));
    await t.transmit(fromHex('00 84 00 00 03'));
    const [decipher, read, challenge] = t.session().entries;
    expect(decipher).toMatchObject({ command: '00 2A 80 86 02 [REDACTED 2 bytes] 00', response: '[REDACTED 3 bytes] 90 00', redacted: true });
    expect(read).toMatchObject({ command: '00 B0 00 00 03', response: '[REDACTED 3 bytes] 90 00', redacted: true, sw: '9000' });
    expect(challenge).toMatchObject({ response: '11 22 33 90 00' });
    expect(challenge!.redacted).toBeUndefined();
  });

  it('records errors of the wrapped channel and rethrows them unchanged', async () => {
    const failure = new SlotError('ccid/icc-mute', 'The card did not answer.', 0x41, 0xfe);
    const inner: CardChannel = { atr: parseAtr(HCA_ATR), protocol: 't1', transmit: async () => Promise.reject(failure) };
    const t = new TracingChannel(inner);
    await expect(t.transmit(fromHex('00 A4 04 00'))).rejects.toBe(failure);
    expect(t.session().entries[0]!.error).toEqual({ name: 'SlotError', code: 'ccid/icc-mute', message: 'The card did not answer.' });
    expect(t.session().entries[0]!.response).toBeUndefined();
  });

  it('passes the pinpad through and records secure operations without digits', async () => {
    const card = createHcaLikeCard();
    const inner = channelOver(card, { keyed: PIN });
    const t = new TracingChannel(inner);
    expect(t.pinpad).toEqual({ verify: true, modify: true });
    await t.transmit(SELECT_AID);
    const answer = await t.verifyPinSecure!({ header: fromHex('00 20 00 81'), format: FORMAT, timeoutSeconds: 30 });
    expect(toHex(answer)).toBe('90 00');
    await expect(
      t.modifyPinSecure!({ header: fromHex('00 24 00 81'), oldFormat: FORMAT, newFormat: FORMAT, confirm: true }),
    ).rejects.toMatchObject({ code: 'ccid/pin-cancelled' });
    const [, verify, modify] = t.session().entries;
    expect(verify).toMatchObject({ kind: 'secure-verify', command: '00 20 00 81', sw: '9000', secure: { format: FORMAT, timeoutSeconds: 30 } });
    expect(modify).toMatchObject({ kind: 'secure-modify', command: '00 24 00 81', secure: { confirm: true }, error: { code: 'ccid/pin-cancelled' } });
    expect(leaks(JSON.stringify(t.session()), PIN)).toBe(false);
  });

  it('keeps the card-reported wrong-PIN status for later analysis', async () => {
    const t = new TracingChannel(channelOver(createHcaLikeCard({ pinTriesLeft: 1 })));
    await t.transmit(SELECT_AID);
    const r = await t.transmit(fromHex('00 20 00 81'));
    expect(toHex(r)).toBe('63 C1');
    expect(new PinIncorrectError(0x63c1).retriesLeft).toBe(1);
    expect(t.session().entries[1]).toMatchObject({ command: '00 20 00 81', sw: '63C1' });
  });
});

describe('createTraceFile', () => {
  it('has the documented top-level shape and survives a JSON round trip', () => {
    const t = new TracingChannel(channelOver(createHcaLikeCard()));
    const file = createTraceFile({
      tool: { name: 'webccid', version: '1.2.3' },
      profileId: 'hca-default-2026.1',
      sessions: [t.session({ slot: 0 })],
      createdAt: new Date('2026-03-04T05:06:07Z'),
    });
    expect(file).toMatchObject({
      format: TRACE_FORMAT,
      version: 1,
      tool: { name: 'webccid', version: '1.2.3' },
      createdAt: '2026-03-04T05:06:07.000Z',
      profile: { id: 'hca-default-2026.1' },
    });
    expect(file.sessions[0]).toMatchObject({ slot: 0, atr: toHex(HCA_ATR), protocol: 't1', entries: [] });
    expect(JSON.parse(JSON.stringify(file))).toEqual(file);
  });
});
