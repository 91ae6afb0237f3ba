import { describe, expect, it } from 'vitest';
import { bytesEqual, fromHex, toHex } from '../bytes.js';
import { isWebCcidError } from '../errors.js';
import { encodeApdu } from '../iso7816/apdu.js';
import { createHcaLikeCard, createT0Card, HCA_ATR, T0_CARD_ATR, VIRTUAL_TEST_INS } from '../virtual/card.js';
import { isSmartCardApiAvailable, listSmartCardReaders, openSmartCardChannel } from './channel.js';
import { createFakeSmartCard } from '../virtual/smartcard-fake.js';

const echo = (data: Uint8Array) => encodeApdu({ cla: 0x80, ins: VIRTUAL_TEST_INS, p1: 0, p2: 0, data, le: 256 });
const generate = (n: number) => encodeApdu({ cla: 0x80, ins: VIRTUAL_TEST_INS, p1: 0x80 | (n >> 8), p2: n & 0xff, le: n > 256 ? 65536 : 256 });

async function rejectsWith(p: Promise<unknown>, code: string): Promise<unknown> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isWebCcidError(e, code), `expected ${code}, got ${String((e as { code?: string } | undefined)?.code ?? e)}`).toBe(true);
  return e;
}

describe('isSmartCardApiAvailable', () => {
  it.each([
    [undefined, false],
    [null, false],
    [{}, false],
    [{ smartCard: {} }, false],
    [{ smartCard: { establishContext: 1 } }, false],
    [{ smartCard: createFakeSmartCard() }, true],
  ])('%o -> %s', (nav, expected) => {
    expect(isSmartCardApiAvailable(nav)).toBe(expected);
  });

  it('is false in Node (no navigator.smartCard)', () => {
    expect(isSmartCardApiAvailable()).toBe(false);
  });
});

describe('openSmartCardChannel', () => {
  it('connects to the first reader holding a card, with its ATR and protocol', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'Empty Reader 00' }, { name: 'EZ100PU 01', card: createHcaLikeCard() }] });
    const ch = await openSmartCardChannel({ smartCard });
    expect(ch.readerName).toBe('EZ100PU 01');
    expect(bytesEqual(ch.atr.bytes, HCA_ATR)).toBe(true);
    expect(ch.protocol).toBe('t1');
    expect(smartCard.log).toContain('connect EZ100PU 01 shared t0,t1');
    const r = await ch.transmit(echo(fromHex('01 02 03')));
    expect(toHex(r, '')).toBe('0102039000');
  });

  it('uses the named reader, and honours accessMode and preferredProtocols', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A', card: createHcaLikeCard() }, { name: 'B', card: createHcaLikeCard() }] });
    const ch = await openSmartCardChannel({ smartCard, readerName: 'B', accessMode: 'exclusive', preferredProtocols: ['t1'] });
    expect(ch.readerName).toBe('B');
    expect(smartCard.log).toContain('connect B exclusive t1');
    // Another application cannot get in now.
    await rejectsWith(openSmartCardChannel({ smartCard, readerName: 'B' }), 'smartcard/sharing-violation');
  });

  it('lists readers with their card state', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A' }, { name: 'B', card: createHcaLikeCard() }] });
    const readers = await listSmartCardReaders({ smartCard });
    expect(readers.map((r) => [r.name, r.cardPresent])).toEqual([
      ['A', false],
      ['B', true],
    ]);
    expect(readers[1]!.atr && bytesEqual(readers[1]!.atr, HCA_ATR)).toBe(true);
  });

  it.each([
    ['no reader at all', { readers: [] }, {}, 'smartcard/no-reader'],
    ['no card in any reader', { readers: [{ name: 'A' }, { name: 'B' }] }, {}, 'smartcard/no-card'],
    ['the named reader is missing', { readers: [{ name: 'A', card: createHcaLikeCard() }] }, { readerName: 'Z' }, 'smartcard/no-reader'],
    ['the named reader is empty', { readers: [{ name: 'A' }] }, { readerName: 'A' }, 'smartcard/no-card'],
    ['the permissions policy blocks smart-card', { readers: [{ name: 'A', card: createHcaLikeCard() }], policyAllowed: false }, {}, 'smartcard/not-allowed'],
    ['the user refuses the prompt', { readers: [{ name: 'A', card: createHcaLikeCard() }], permission: 'denied' as const }, {}, 'smartcard/permission-denied'],
    ['the card offers none of the protocols', { readers: [{ name: 'A', card: createHcaLikeCard() }] }, { preferredProtocols: ['t0' as const] }, 'protocol/no-common-protocol'],
  ])('%s -> %s', async (_name, fakeOptions, options, code) => {
    const smartCard = createFakeSmartCard(fakeOptions);
    await rejectsWith(openSmartCardChannel({ smartCard, ...options }), code);
  });

  it('without the API: smartcard/unavailable', async () => {
    await rejectsWith(openSmartCardChannel(), 'smartcard/unavailable');
  });

  it('maps a no-service answer of the platform', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A', card: createHcaLikeCard() }] });
    smartCard.failNext('establishContext', 'no-service');
    await rejectsWith(openSmartCardChannel({ smartCard }), 'smartcard/no-service');
  });

  it('an aborted signal: AbortError before anything is asked', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A', card: createHcaLikeCard() }] });
    await rejectsWith(openSmartCardChannel({ smartCard, signal: AbortSignal.abort() }), 'aborted');
    expect(smartCard.log).toEqual([]);
  });
});

describe('SmartCardChannel.transmit', () => {
  it('queues concurrent calls (the context takes one operation at a time)', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A', card: createHcaLikeCard() }] });
    const ch = await openSmartCardChannel({ smartCard });
    const answers = await Promise.all([1, 2, 3, 4, 5].map((i) => ch.transmit(echo(Uint8Array.of(i)))));
    expect(answers.map((a) => toHex(a, ''))).toEqual(['019000', '029000', '039000', '049000', '059000']);
  });

  it('passes long responses through at T=1 (the platform does the chaining)', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A', card: createHcaLikeCard() }] });
    const ch = await openSmartCardChannel({ smartCard });
    const r = await ch.transmit(generate(1000));
    expect(r.length).toBe(1002);
    expect(r[999]).toBe(999 & 0xff);
  });

  it('T=0: sends TPDUs and collects 61xx with GET RESPONSE, resends 6Cxx', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'T0 reader', card: createT0Card() }] });
    const ch = await openSmartCardChannel({ smartCard });
    expect(ch.protocol).toBe('t0');
    expect(bytesEqual(ch.atr.bytes, T0_CARD_ATR)).toBe(true);
    const data = Uint8Array.from({ length: 40 }, (_, i) => i);
    const r = await ch.transmit(echo(data)); // case 4 -> case 3 + 61xx + GET RESPONSE
    expect(toHex(r.subarray(0, -2), '')).toBe(toHex(data, ''));
    expect(toHex(r.subarray(-2), '')).toBe('9000');
    const transmits = smartCard.log.filter((l) => l === 'transmit').length;
    expect(transmits).toBeGreaterThanOrEqual(2);
    const g = await ch.transmit(generate(10)); // case 2 with Le 256 -> 6C0A -> resend
    expect(g.length).toBe(12);
  });

  it('card removed -> smartcard/card-removed; reader unplugged -> transport/disconnected', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A', card: createHcaLikeCard() }] });
    const ch = await openSmartCardChannel({ smartCard });
    smartCard.removeCard('A');
    await rejectsWith(ch.transmit(echo(Uint8Array.of(1))), 'smartcard/card-removed');
    expect(await ch.status()).toBe('absent');
    smartCard.removeReader('A');
    await rejectsWith(ch.transmit(echo(Uint8Array.of(1))), 'transport/disconnected');
  });

  it('card reset by another application -> smartcard/card-reset once, then usable on a new connection', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A', card: createHcaLikeCard() }] });
    const ch = await openSmartCardChannel({ smartCard });
    const first = ch.connection;
    expect(ch.resetCount).toBe(0);
    smartCard.resetCard('A');
    await rejectsWith(ch.transmit(echo(Uint8Array.of(1))), 'smartcard/card-reset');
    expect(ch.resetCount).toBe(1);
    // The old connection would answer reset-card for ever (no reconnect in the API): a new one.
    expect(toHex(await ch.transmit(echo(Uint8Array.of(7))), '')).toBe('079000');
    expect(toHex(await ch.transmit(echo(Uint8Array.of(8))), '')).toBe('089000');
    expect(ch.connection).not.toBe(first);
    expect(smartCard.log.filter((l) => l.startsWith('connect ') || l.startsWith('disconnect'))).toEqual(['connect A shared t0,t1', 'disconnect leave', 'connect A shared t0,t1']);
    expect(await ch.status()).toBe('t1');
    await ch.disconnect();
    expect(smartCard.log.at(-1)).toBe('disconnect reset');
  });

  it('after disconnect: transport/closed; disconnect is idempotent and resets by default', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A', card: createHcaLikeCard() }] });
    const ch = await openSmartCardChannel({ smartCard });
    await ch.disconnect();
    await ch.disconnect();
    expect(ch.connected).toBe(false);
    expect(smartCard.log.filter((l) => l.startsWith('disconnect'))).toEqual(['disconnect reset']);
    await rejectsWith(ch.transmit(echo(Uint8Array.of(1))), 'transport/closed');
  });

  it('an aborted signal: AbortError, nothing sent', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A', card: createHcaLikeCard() }] });
    const ch = await openSmartCardChannel({ smartCard });
    const before = smartCard.log.length;
    await rejectsWith(ch.transmit(echo(Uint8Array.of(1)), { signal: AbortSignal.abort() }), 'aborted');
    expect(smartCard.log.length).toBe(before);
  });

  it('injected platform failures map to our codes', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A', card: createHcaLikeCard() }] });
    const ch = await openSmartCardChannel({ smartCard });
    smartCard.failNext('transmit', 'unresponsive-card');
    await rejectsWith(ch.transmit(echo(Uint8Array.of(1))), 'smartcard/card-unresponsive');
    smartCard.failNext('transmit', 'server-too-busy');
    await rejectsWith(ch.transmit(echo(Uint8Array.of(1))), 'smartcard/failed');
    expect(toHex(await ch.transmit(echo(Uint8Array.of(2))), '')).toBe('029000');
  });
});

describe('SmartCardChannel.withTransaction', () => {
  it('runs the exchanges inside one transaction and ends it with "leave"', async () => {
    const card = createHcaLikeCard();
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A', card }] });
    const ch = await openSmartCardChannel({ smartCard });
    const result = await ch.withTransaction(async () => {
      const a = await ch.transmit(echo(Uint8Array.of(1)));
      const b = await ch.transmit(echo(Uint8Array.of(2)));
      return [toHex(a, ''), toHex(b, '')];
    });
    expect(result).toEqual(['019000', '029000']);
    const tail = smartCard.log.slice(smartCard.log.indexOf('beginTransaction'));
    expect(tail).toEqual(['beginTransaction', 'transmit', 'transmit', 'endTransaction leave']);
    // Usable afterwards.
    expect(toHex(await ch.transmit(echo(Uint8Array.of(3))), '')).toBe('039000');
  });

  it('a failing body: the error comes out, the API ends the transaction with "reset"', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A', card: createHcaLikeCard() }] });
    const ch = await openSmartCardChannel({ smartCard });
    await rejectsWith(
      ch.withTransaction(async () => {
        await ch.transmit(echo(Uint8Array.of(1)));
        throw new (await import('../errors.js')).ProtocolError('protocol/bad-response', 'test');
      }),
      'protocol/bad-response',
    );
    expect(smartCard.log).toContain('endTransaction reset');
    expect(toHex(await ch.transmit(echo(Uint8Array.of(3))), '')).toBe('039000');
  });

  it('a reset before the transaction: begin fails smartcard/card-reset, the next transaction runs on a new connection', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A', card: createHcaLikeCard() }] });
    const ch = await openSmartCardChannel({ smartCard });
    smartCard.resetCard('A');
    await rejectsWith(
      ch.withTransaction(async () => 1),
      'smartcard/card-reset',
    );
    expect(ch.resetCount).toBe(1);
    expect(await ch.withTransaction(async () => toHex(await ch.transmit(echo(Uint8Array.of(5))), ''))).toBe('059000');
    expect(smartCard.log.at(-1)).toBe('endTransaction leave');
  });

  it('a platform refusal to begin maps like any other', async () => {
    const smartCard = createFakeSmartCard({ readers: [{ name: 'A', card: createHcaLikeCard() }] });
    const ch = await openSmartCardChannel({ smartCard });
    smartCard.failNext('beginTransaction', 'sharing-violation');
    await rejectsWith(
      ch.withTransaction(async () => 1),
      'smartcard/sharing-violation',
    );
  });
});
