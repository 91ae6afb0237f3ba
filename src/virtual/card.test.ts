import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { concatBytes, fromHex, toHex } from '../bytes.js';
import { encodeApdu } from '../iso7816/apdu.js';
import { parseAtr } from '../iso7816/atr.js';
import { createHcaLikeCard, createT0Card, HCA_ATR, HCA_LIKE_LAYOUT, T0_CARD_ATR, VirtualCard, VIRTUAL_TEST_INS } from './card.js';
import { T0CardEngine } from './t0-card.js';

const L = HCA_LIKE_LAYOUT;
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

function tx(card: VirtualCard, hex: string | Uint8Array): { data: Uint8Array; sw: string } {
  const r = card.transmit(typeof hex === 'string' ? fromHex(hex) : hex);
  return { data: r.subarray(0, -2), sw: toHex(r.subarray(-2), '') };
}

function selectApp(card: VirtualCard): void {
  expect(tx(card, `00 A4 04 0C 08 ${toHex(L.aid)}`).sw).toBe('9000');
}

describe('ATRs', () => {
  it('HCA ATR: T=1 only, TA1 18, IFSC 254', () => {
    const atr = parseAtr(createHcaLikeCard().reset());
    expect(toHex(atr.bytes)).toBe('3B F9 18 00 00 81 31 FE 45 50 56 5F 4A 32 44 30 38 31 B6');
    expect(atr.protocols).toEqual([1]);
    expect(atr.fiIndex).toBe(1);
    expect(atr.diIndex).toBe(8);
    expect(atr.ifsc).toBe(254);
    expect(atr.tckValid).toBe(true);
    expect(toHex(HCA_ATR)).toBe(toHex(atr.bytes));
  });

  it('T=0 card ATR: T=0 only, TA1 13, no TCK', () => {
    const atr = parseAtr(createT0Card().reset());
    expect(atr.protocols).toEqual([0]);
    expect(atr.groups[0]?.ta).toBe(0x13);
    expect(atr.tck).toBeUndefined();
    expect(toHex(T0_CARD_ATR)).toBe(toHex(atr.bytes));
  });
});

describe('SELECT', () => {
  const table: Array<[string, string, string]> = [
    ['MF by empty data', '00 A4 00 0C', '9000'],
    ['MF by FID 3F00', '00 A4 00 0C 02 3F 00', '9000'],
    ['EF 2F02 under MF by FID', '00 A4 00 0C 02 2F 02', '9000'],
    ['DF by AID', `00 A4 04 0C 08 ${toHex(L.aid)}`, '9000'],
    ['DF by truncated AID', `00 A4 04 0C 05 ${toHex(L.aid.subarray(0, 5))}`, '9000'],
    ['unknown AID', '00 A4 04 0C 05 A0 00 00 00 63', '6A82'],
    ['path from MF', '00 A4 08 0C 04 48 43 00 11', '9000'],
    ['path to nothing', '00 A4 08 0C 04 48 43 00 99', '6A82'],
    ['child DF', '00 A4 01 0C 02 48 43', '9000'],
    ['EF that is not in the MF', '00 A4 02 0C 02 00 11', '6A82'],
    ['bad P1', '00 A4 07 0C 02 00 11', '6A86'],
    ['bad P2', '00 A4 00 03 02 3F 00', '6A86'],
    ['odd path', '00 A4 08 0C 03 48 43 00', '6A80'],
  ];
  for (const [name, apdu, sw] of table) {
    it(name, () => {
      const card = createHcaLikeCard();
      card.reset();
      expect(tx(card, apdu).sw).toBe(sw);
    });
  }

  it('returns FCP (62) or FCI (6F) with size, FID and AID', () => {
    const card = createHcaLikeCard();
    const fcp = tx(card, `00 A4 04 04 08 ${toHex(L.aid)} 00`);
    expect(fcp.sw).toBe('9000');
    expect(fcp.data[0]).toBe(0x62);
    expect(toHex(fcp.data)).toContain(`84 08 ${toHex(L.aid)}`);
    const ef = tx(card, '00 A4 02 00 02 00 11 00');
    expect(ef.data[0]).toBe(0x6f);
    expect(toHex(ef.data)).toContain('80 02 08 34'); // 2100 bytes
    expect(toHex(ef.data)).toContain('83 02 00 11');
    // Without Le: no data.
    expect(tx(card, '00 A4 02 00 02 00 11').data.length).toBe(0);
    // Parent of the DF is the MF.
    expect(tx(card, '00 A4 03 0C').sw).toBe('9000');
    expect(tx(card, '00 A4 02 0C 02 2F 02').sw).toBe('9000');
  });
});

describe('READ BINARY', () => {
  it('reads at offsets, short and extended Le, 6282 at the end, 6B00 beyond', () => {
    const card = createHcaLikeCard();
    selectApp(card);
    expect(tx(card, '00 A4 02 0C 02 00 11').sw).toBe('9000');
    const a = tx(card, '00 B0 00 00 00');
    expect(a.sw).toBe('9000');
    expect(a.data.length).toBe(256);
    expect(toHex(a.data.subarray(0, 4))).toBe('30 82 08 30');
    const b = tx(card, '00 B0 01 00 10');
    expect(b.data.length).toBe(16);
    const ext = tx(card, '00 B0 00 00 00 08 00');
    expect(ext.sw).toBe('9000');
    expect(ext.data.length).toBe(2048);
    // 2100 < 4096: end of file reached before Ne bytes.
    expect(tx(card, '00 B0 00 00 00 10 00').sw).toBe('6282');
    expect(tx(card, '00 B0 08 00 00 08 00').sw).toBe('6282');
    expect(tx(card, '00 B0 08 00 00 08 00').data.length).toBe(2100 - 2048);
    expect(tx(card, '00 B0 08 34 10').sw).toBe('6B00');
    expect(tx(card, '00 B0 7F 00 10').sw).toBe('6B00');
    expect(tx(card, '00 B0 00 00').sw).toBe('6700');
    expect(concatBytes(a.data, b.data).length).toBe(272);
  });

  it('reads by short EF identifier and needs a current EF', () => {
    const card = createHcaLikeCard();
    expect(tx(card, '00 B0 00 00 10').sw).toBe('6986');
    selectApp(card);
    const r = tx(card, '00 B0 81 00 00');
    expect(r.sw).toBe('6282');
    expect(new TextDecoder().decode(r.data)).toBe('VIRTUAL HOLDER|A123456789|doctor');
    const info = tx(card, '00 B0 82 00 0E');
    expect(new TextDecoder().decode(info.data)).toBe('GH000012345678');
    expect(tx(card, '00 B0 9E 00 10').sw).toBe('6A82');
  });

  it('the big signature certificate is over 2 KB and version 1 cards lack certificates 2 and 3', () => {
    const v1 = createHcaLikeCard({ version: 1 });
    selectApp(v1);
    expect(tx(v1, '00 A4 02 0C 02 00 12').sw).toBe('6A82');
    const v2 = createHcaLikeCard({ signatureCertificateSize: 3000 });
    selectApp(v2);
    expect(tx(v2, '00 A4 02 0C 02 00 12').sw).toBe('9000');
    tx(v2, '00 A4 02 0C 02 00 11');
    expect(tx(v2, '00 B0 00 00 00 0F A0').data.length).toBe(3000);
  });
});

describe('GET CHALLENGE', () => {
  it('returns Ne bytes, different each time, deterministic per seed', () => {
    const a = createHcaLikeCard({ challengeSeed: 7 });
    const b = createHcaLikeCard({ challengeSeed: 7 });
    const x = tx(a, '00 84 00 00 08');
    expect(x.sw).toBe('9000');
    expect(x.data.length).toBe(8);
    expect(toHex(tx(b, '00 84 00 00 08').data)).toBe(toHex(x.data));
    expect(toHex(tx(a, '00 84 00 00 08').data)).not.toBe(toHex(x.data));
    expect(tx(a, '00 84 00 00 00').data.length).toBe(256);
    expect(tx(a, '00 84 00 00').sw).toBe('6700');
    expect(tx(a, '00 84 01 00 08').sw).toBe('6A86');
  });
});

describe('VERIFY and PIN management', () => {
  const verify = (pin: string) => encodeApdu({ cla: 0, ins: 0x20, p1: 0, p2: L.pinReference, data: ascii(pin) });

  it('counts wrong PINs down (63Cx), blocks (63C0 then 6983), resets the counter on success', () => {
    const card = createHcaLikeCard();
    selectApp(card);
    expect(tx(card, '00 20 00 81').sw).toBe('63C3');
    expect(tx(card, verify('000000')).sw).toBe('63C2');
    expect(tx(card, verify('123456')).sw).toBe('9000');
    expect(tx(card, '00 20 00 81').sw).toBe('9000');
    expect(card.triesLeft(L.pinReference)).toBe(3);
    expect(tx(card, verify('1')).sw).toBe('63C2');
    expect(tx(card, verify('2')).sw).toBe('63C1');
    expect(tx(card, verify('3')).sw).toBe('63C0');
    expect(tx(card, verify('123456')).sw).toBe('6983');
    expect(tx(card, '00 20 00 81').sw).toBe('6983');
    expect(tx(card, '00 20 00 99 02 31 32').sw).toBe('6A88');
    expect(tx(card, '00 20 01 81 02 31 32').sw).toBe('6A86');
  });

  it('security state is cleared by a reset; protected EF needs the PIN', () => {
    const card = new VirtualCard({
      atr: HCA_ATR,
      fileSystem: { type: 'df', fid: 0x3f00, children: [{ type: 'ef', fid: 0x1234, data: fromHex('01 02 03'), readPin: 1 }] },
      pins: [{ reference: 1, value: ascii('0000') }],
    });
    tx(card, '00 A4 00 0C 02 12 34');
    expect(tx(card, '00 B0 00 00 03').sw).toBe('6982');
    expect(tx(card, '00 20 00 01 04 30 30 30 30').sw).toBe('9000');
    expect(toHex(tx(card, '00 B0 00 00 03').data)).toBe('01 02 03');
    card.reset();
    tx(card, '00 A4 00 0C 02 12 34');
    expect(tx(card, '00 B0 00 00 03').sw).toBe('6982');
  });

  it('CHANGE REFERENCE DATA and RESET RETRY COUNTER with the PUK', () => {
    const card = createHcaLikeCard();
    selectApp(card);
    const change = concatBytes(ascii('123456'), ascii('654321'));
    expect(tx(card, encodeApdu({ cla: 0, ins: 0x24, p1: 0, p2: 0x81, data: change })).sw).toBe('9000');
    expect(tx(card, verify('654321')).sw).toBe('9000');
    expect(tx(card, encodeApdu({ cla: 0, ins: 0x24, p1: 0, p2: 0x81, data: concatBytes(ascii('654321'), ascii('12')) })).sw).toBe('6A80');
    for (let i = 0; i < 3; i++) tx(card, verify('999999'));
    expect(tx(card, '00 20 00 81').sw).toBe('6983');
    expect(tx(card, encodeApdu({ cla: 0, ins: 0x2c, p1: 0, p2: 0x81, data: concatBytes(ascii('00000000'), ascii('111111')) })).sw).toBe('63C9');
    expect(tx(card, encodeApdu({ cla: 0, ins: 0x2c, p1: 0, p2: 0x81, data: concatBytes(ascii('12345678'), ascii('111111')) })).sw).toBe('9000');
    expect(tx(card, '00 20 00 81').sw).toBe('63C3');
    expect(tx(card, verify('111111')).sw).toBe('9000');
    expect(tx(card, encodeApdu({ cla: 0, ins: 0x2c, p1: 1, p2: 0x81, data: ascii('12345678') })).sw).toBe('9000');
  });

  it('RESET RETRY COUNTER P1 02 (new PIN) and P1 03 (no data) need the PUK verified first', () => {
    const card = createHcaLikeCard({ pinTriesLeft: 0 });
    selectApp(card);
    const p1 = (n: number, data?: Uint8Array) => encodeApdu({ cla: 0, ins: 0x2c, p1: n, p2: 0x81, ...(data ? { data } : {}) });
    expect(tx(card, p1(2, ascii('222222'))).sw).toBe('6982');
    expect(tx(card, p1(3)).sw).toBe('6982');
    expect(tx(card, p1(4)).sw).toBe('6A86');
    expect(tx(card, encodeApdu({ cla: 0, ins: 0x20, p1: 0, p2: 0x82, data: ascii('12345678') })).sw).toBe('9000');
    expect(tx(card, p1(3, ascii('1'))).sw).toBe('6A80');
    expect(tx(card, p1(3)).sw).toBe('9000');
    expect(card.triesLeft(0x81)).toBe(3);
    expect(tx(card, p1(2)).sw).toBe('6A80');
    expect(tx(card, p1(2, ascii('22'))).sw).toBe('6A80');
    expect(tx(card, p1(2, ascii('222222'))).sw).toBe('9000');
    expect(tx(card, verify('222222')).sw).toBe('9000');
  });
});

describe('transport-level commands', () => {
  it('a response longer than Ne answers 61xx and GET RESPONSE gives the rest', () => {
    const card = createHcaLikeCard();
    const gen = tx(card, encodeApdu({ cla: 0x80, ins: VIRTUAL_TEST_INS, p1: 0x81, p2: 0x2c, le: 256 })); // 300 bytes
    expect(gen.data.length).toBe(256);
    expect(gen.sw).toBe('612C');
    const rest = tx(card, '00 C0 00 00 2C');
    expect(rest.sw).toBe('9000');
    expect(rest.data[0]).toBe(256 & 0xff);
    expect(tx(card, '00 C0 00 00 10').sw).toBe('6985');
  });

  it('command chaining (CLA bit 0x10) and ENVELOPE', () => {
    const card = createHcaLikeCard();
    expect(tx(card, '90 EE 00 00 02 01 02').sw).toBe('9000');
    expect(tx(card, '90 EE 00 00 01 03').sw).toBe('9000');
    expect(toHex(tx(card, '80 EE 00 00 01 04 00').data)).toBe('01 02 03 04');
    expect(tx(card, '90 EE 00 00 01 01').sw).toBe('9000');
    expect(tx(card, '80 EE 01 00 01 01 00').sw).toBe('6883');
    const inner = encodeApdu({ cla: 0x80, ins: VIRTUAL_TEST_INS, p1: 0, p2: 0, data: fromHex('AA BB'), le: 256 });
    expect(tx(card, concatBytes(fromHex('10 C2 00 00'), Uint8Array.of(4), inner.subarray(0, 4))).sw).toBe('9000');
    const r = tx(card, concatBytes(fromHex('00 C2 00 00'), Uint8Array.of(inner.length - 4), inner.subarray(4)));
    expect(toHex(r.data)).toBe('AA BB');
  });

  it('test command: echo, digest, generate; and class / instruction errors', () => {
    const card = createHcaLikeCard();
    expect(toHex(tx(card, '80 EE 00 00 03 01 02 03 00').data)).toBe('01 02 03');
    expect(toHex(tx(card, '80 EE 01 00 03 01 02 03 00').data)).toBe('00 03 00');
    const g = tx(card, encodeApdu({ cla: 0x80, ins: VIRTUAL_TEST_INS, p1: 0x84, p2: 0x00, le: 65536 }));
    expect(g.data.length).toBe(1024);
    expect(g.data[1023]).toBe(0xff);
    expect(tx(card, '00 EE 00 00').sw).toBe('6D00');
    expect(tx(card, 'FF A4 00 00').sw).toBe('6E00');
    expect(tx(card, '0C A4 00 00').sw).toBe('6882');
    expect(tx(card, '00 CA 00 00 00').sw).toBe('6D00');
    expect(tx(card, '00 A4').sw).toBe('6700');
  });

  it('never throws on arbitrary APDU bytes and always answers a status word', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const card = createHcaLikeCard();
        const r = card.transmit(bytes);
        expect(r.length).toBeGreaterThanOrEqual(2);
      }),
      { numRuns: 500 },
    );
  });
});

describe('T=0 card engine', () => {
  it('maps TPDUs: 61xx for case 4, GET RESPONSE pieces, 6Cxx and the resend', () => {
    const e = new T0CardEngine(createT0Card());
    const r = (hex: string) => toHex(e.exchange(fromHex(hex))!.response);
    expect(r(`00 A4 04 00 08 ${toHex(L.aid)}`)).toMatch(/^61 /);
    const first = e.exchange(fromHex('00 C0 00 00 05'))!.response;
    expect(first.length).toBe(7);
    expect(first[5]).toBe(0x61);
    expect(r('00 C0 00 00 FF')).toMatch(/^6C /);
    r('00 A4 02 0C 02 00 01');
    expect(r('00 B0 00 00 00')).toBe('6C 20');
    expect(e.exchange(fromHex('00 B0 00 00 20'))!.response.length).toBe(0x22);
    expect(r('00 20 00 81 00')).toBe('63 C3');
    // Incomplete TPDUs leave the card waiting.
    expect(e.exchange(fromHex('00 A4 04'))).toBeNull();
    expect(e.exchange(fromHex('00 A4 04 00 08 01'))).toBeNull();
    expect(e.exchange(fromHex('00 20 00 81 06'))).toBeNull();
  });

  it('counts procedure bytes on the wire', () => {
    const e = new T0CardEngine(createT0Card());
    const x = e.exchange(fromHex('00 84 00 00 08'))!;
    expect(x.wireBytes).toBe(5 + 1 + 10);
  });
});

describe('HCA ATR with another IFSC', () => {
  it('patches TA3 and the TCK', () => {
    const atr = parseAtr(createHcaLikeCard({ ifsc: 32 }).reset());
    expect(atr.ifsc).toBe(32);
    expect(atr.tckValid).toBe(true);
    expect(atr.protocols).toEqual([1]);
  });
});
