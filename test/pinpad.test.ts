/**
 * PIN entry on the reader's keypad (PC_to_RDR_Secure) through the whole
 * stack: our CcidConnection -> virtual USB -> virtual reader with its
 * scripted keypad -> the card. The GemPC Pinpad preset is a TPDU-level
 * reader, so T=1 runs on the host and the reader builds the PIN command's
 * I-block from our prologue; the 'ideal' preset is an APDU-level reader.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { concatBytes, fromHex, toHex } from '../src/bytes.js';
import { CcidError, PinBlockedError, PinIncorrectError, SlotError, WebCcidError } from '../src/errors.js';
import { statusError } from '../src/iso7816/status.js';
import { PC_to_RDR_Secure } from '../src/ccid/messages.js';
import type { CcidConnection } from '../src/ccid/connection.js';
import type { PinBlockFormat, SecurePinModifyRequest, SecurePinVerifyRequest } from '../src/card/channel.js';
import { HCA_PROFILE } from '../src/hca/profile.js';
import { createHcaLikeCard, createVirtualHcaCard, createVirtualPinpad, type VirtualCard, type VirtualPinpad } from '../src/virtual/index.js';
import type { VirtualReaderPresetName } from '../src/virtual/index.js';
import { openStack, sw, type Stack, SELECT_HCA } from './helpers/stack.js';

const P = HCA_PROFILE;
const PIN_FORMAT: PinBlockFormat = {
  encoding: P.pin.encoding.value.encoding,
  minLength: P.pin.minLength.value,
  maxLength: P.pin.maxLength.value,
  blockLength: P.pin.encoding.value.blockLength,
  padByte: P.pin.encoding.value.padByte,
};
const PUK_FORMAT: PinBlockFormat = {
  encoding: P.puk.encoding.value.encoding,
  minLength: P.puk.length.value,
  maxLength: P.puk.length.value,
  blockLength: P.puk.encoding.value.blockLength,
  padByte: P.puk.encoding.value.padByte,
};
const PIN_REF = P.pin.reference.value;
const VERIFY: SecurePinVerifyRequest = { header: Uint8Array.of(0x00, 0x20, 0x00, PIN_REF), format: PIN_FORMAT, timeoutSeconds: 20 };
const CHANGE: SecurePinModifyRequest = { header: Uint8Array.of(0x00, 0x24, 0x00, PIN_REF), oldFormat: PIN_FORMAT, newFormat: PIN_FORMAT, confirm: true };
const UNBLOCK: SecurePinModifyRequest = { header: Uint8Array.of(0x00, 0x2c, 0x00, PIN_REF), oldFormat: PUK_FORMAT, newFormat: PIN_FORMAT, confirm: true };
const PIN_STATUS = Uint8Array.of(0x00, 0x20, 0x00, PIN_REF);

/** Every PIN / PUK keyed in these tests: none may appear in a frame the host sent, an error or a log line. */
const SECRETS = ['123456', '654321', '12345678', '87654321', '111111', '99999999', '12345', '123456789', '111112'];

/** The HCA-like card holding its PIN the way the profile encodes it (ASCII, FF-padded to 8). */
function hcaLikeCard(options: { pinTriesLeft?: number } = {}): VirtualCard {
  return createHcaLikeCard({ pin: '123456\xff\xff', ...options });
}

let stacks: Stack[] = [];
const errors: unknown[] = [];
afterEach(async () => {
  for (const s of stacks) await s.reader.close();
  stacks = [];
});

async function open(preset: VirtualReaderPresetName, card: VirtualCard, pinpad: VirtualPinpad | null = createVirtualPinpad()) {
  const s = await openStack({ preset, card, ...(preset === 'ideal' ? { pinpad: true } : {}), ...(pinpad ? { onSecure: pinpad.onSecure } : {}) });
  stacks.push(s);
  const c = await s.reader.connect(0);
  expect(sw(await c.transmit(SELECT_HCA))).toBe(0x9000);
  return { c, s, pinpad: pinpad! };
}

async function failure(p: Promise<unknown>): Promise<WebCcidError> {
  try {
    await p;
  } catch (e) {
    errors.push(e);
    expect(e).toBeInstanceOf(WebCcidError);
    return e as WebCcidError;
  }
  throw new Error('expected a failure');
}

function swOf(response: Uint8Array): number {
  return (response[response.length - 2]! << 8) | response[response.length - 1]!;
}

async function triesLeft(c: CcidConnection): Promise<number | 'ok' | 'blocked'> {
  const s = swOf(await c.transmit(PIN_STATUS));
  if (s === 0x9000) return 'ok';
  if (s === 0x6983) return 'blocked';
  expect(s & 0xfff0).toBe(0x63c0);
  return s & 0x0f;
}

const READERS: Array<{ preset: VirtualReaderPresetName; level: string }> = [
  { preset: 'gemplus-gempc-pinpad', level: 'tpdu' },
  { preset: 'ideal', level: 'extended-apdu' },
];

describe.each(READERS)('pinpad on $preset ($level)', ({ preset, level }) => {
  it('reports the pinpad and verifies the PIN keyed on it', async () => {
    const { c, s, pinpad } = await open(preset, hcaLikeCard());
    expect(c.exchangeLevel).toBe(level);
    expect(c.pinpad).toEqual({ verify: true, modify: true });
    expect(await triesLeft(c)).toBe(3);
    pinpad.type('123456').enter();
    expect(toHex(await c.verifyPinSecure(VERIFY))).toBe('90 00');
    expect(await triesLeft(c)).toBe('ok');
    // ordinary APDUs still flow (T=1 sequence numbers stayed in step with the card)
    expect(sw(await c.transmit(SELECT_HCA))).toBe(0x9000);
    const secure = s.sent.filter((f) => f[0] === PC_to_RDR_Secure);
    expect(secure).toHaveLength(1);
    expect(secure[0]![10]).toBe(0x00); // bPINOperation: verify
    // bTeoPrologue: NAD PCB LEN of the I-block at TPDU level (LEN = 13: 4 + Lc + 8), zeros otherwise
    const prologue = secure[0]!.subarray(22, 25);
    if (level === 'tpdu') {
      expect([prologue[0], prologue[1]! & 0x80, prologue[2]]).toEqual([0x00, 0x00, 0x0d]);
    } else {
      expect(toHex(prologue)).toBe('00 00 00');
    }
  });

  it('a wrong PIN: the card answers 63C2 (PinIncorrectError, 2 tries left); never retried', async () => {
    const { c, s, pinpad } = await open(preset, hcaLikeCard());
    pinpad.type('654321').enter();
    const r = await c.verifyPinSecure(VERIFY);
    const e = statusError(swOf(r));
    expect(e).toBeInstanceOf(PinIncorrectError);
    expect((e as PinIncorrectError).retriesLeft).toBe(2);
    expect(s.sent.filter((f) => f[0] === PC_to_RDR_Secure)).toHaveLength(1);
    expect(await triesLeft(c)).toBe(2);
  });

  it('changes the PIN (current, new, confirmation keyed on the reader)', async () => {
    const { c, pinpad } = await open(preset, hcaLikeCard());
    pinpad.type('123456').enter().type('87654321').enter().type('87654321').enter();
    expect(toHex(await c.modifyPinSecure(CHANGE))).toBe('90 00');
    pinpad.type('123456').enter();
    expect(toHex(await c.verifyPinSecure(VERIFY))).toBe('63 C2');
    pinpad.type('87654321').enter();
    expect(toHex(await c.verifyPinSecure(VERIFY))).toBe('90 00');
  });

  it('unblocks a locked card: modify with the PUK as the current value', async () => {
    const { c, pinpad } = await open(preset, hcaLikeCard({ pinTriesLeft: 0 }));
    expect(await triesLeft(c)).toBe('blocked');
    pinpad.type('123456').enter();
    expect(statusError(swOf(await c.verifyPinSecure(VERIFY)))).toBeInstanceOf(PinBlockedError);
    // a wrong PUK spends a PUK try and reports it
    pinpad.type('99999999').enter().type('111111').enter().type('111111').enter();
    expect(toHex(await c.modifyPinSecure(UNBLOCK))).toBe('63 C9');
    pinpad.type('12345678').enter().type('111111').enter().type('111111').enter();
    expect(toHex(await c.modifyPinSecure(UNBLOCK))).toBe('90 00');
    expect(await triesLeft(c)).toBe(3);
    pinpad.type('111111').enter();
    expect(toHex(await c.verifyPinSecure(VERIFY))).toBe('90 00');
  });

  it('cancel and timeout are user events (SlotError), spend no try, and leave the connection usable', async () => {
    const { c, pinpad } = await open(preset, hcaLikeCard());
    pinpad.cancel();
    const cancelled = await failure(c.verifyPinSecure(VERIFY));
    expect(cancelled).toBeInstanceOf(SlotError);
    expect(cancelled.code).toBe('ccid/pin-cancelled');
    expect((cancelled as SlotError).bError).toBe(0xef);
    pinpad.type('123456').enter().timeout();
    const timedOut = await failure(c.modifyPinSecure(CHANGE));
    expect(timedOut.code).toBe('ccid/pin-timeout');
    expect((timedOut as SlotError).bError).toBe(0xf0);
    expect(await triesLeft(c)).toBe(3);
    pinpad.type('123456').enter();
    expect(toHex(await c.verifyPinSecure(VERIFY))).toBe('90 00');
  });

  it('a PIN of the wrong length and a confirmation mismatch are refused by the reader; the card is not asked', async () => {
    const { c, pinpad } = await open(preset, hcaLikeCard());
    pinpad.type('12345').enter();
    expect((await failure(c.verifyPinSecure(VERIFY))).code).toBe('ccid/pin-length');
    pinpad.type('123456789').enter();
    expect((await failure(c.verifyPinSecure(VERIFY))).code).toBe('ccid/pin-length');
    pinpad.type('123456').enter().type('111111').enter().type('111112').enter();
    const mismatch = await failure(c.modifyPinSecure(CHANGE));
    expect(mismatch).toBeInstanceOf(CcidError);
    expect(mismatch.code).toBe('ccid/pin-mismatch');
    expect(await triesLeft(c)).toBe(3);
    expect(sw(await c.transmit(SELECT_HCA))).toBe(0x9000);
  });

  it('no PIN or PUK in the frames the host sent, in errors or in log lines', async () => {
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => vi.spyOn(console, m));
    try {
      const { c, s, pinpad } = await open(preset, hcaLikeCard());
      pinpad.type('123456').enter();
      await c.verifyPinSecure(VERIFY);
      pinpad.type('123456').enter().type('654321').enter().type('654321').enter();
      await c.modifyPinSecure(CHANGE);
      pinpad.type('12345').enter();
      await failure(c.verifyPinSecure(VERIFY));
      const frames = s.sent.map((f) => toHex(f, ''));
      const logged = spies.flatMap((spy) => spy.mock.calls.map((args) => args.map(String).join(' ')));
      const texts = errors.map((e) => `${(e as Error).message} ${JSON.stringify(e)}`);
      for (const secret of SECRETS) {
        const hex = toHex(Uint8Array.from(secret, (ch) => ch.charCodeAt(0)), '');
        for (const f of frames) expect(f).not.toContain(hex);
        for (const t of [...logged, ...texts]) expect(t).not.toContain(secret);
      }
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });
});

describe('pinpad edge cases', () => {
  it('a reader without a pinpad: no `pinpad`, and the secure calls refuse without touching the reader', async () => {
    const s = await openStack({ preset: 'castles-ezccid', card: hcaLikeCard() });
    stacks.push(s);
    const c = await s.reader.connect(0);
    expect(c.pinpad).toBeUndefined();
    const e = await failure(c.verifyPinSecure(VERIFY));
    expect(e.code).toBe('ccid/pinpad-unsupported');
    expect(s.sent.some((f) => f[0] === PC_to_RDR_Secure)).toBe(false);
    expect(await triesLeft(c)).toBe(3);
  });

  it('time extensions from the reader keep a slow entry alive', async () => {
    const { c, s, pinpad } = await open('gemplus-gempc-pinpad', hcaLikeCard());
    s.device.injectFault({ kind: 'time-extension', count: 3, multiplier: 2, command: 'Secure' });
    pinpad.type('123456').enter();
    expect(toHex(await c.verifyPinSecure(VERIFY))).toBe('90 00');
    expect(s.device.stats.timeExtensions).toBeGreaterThanOrEqual(3);
  });

  it('a pinpad reader nobody types on: the reader times out', async () => {
    const { c } = await open('gemplus-gempc-pinpad', hcaLikeCard());
    expect((await failure(c.verifyPinSecure(VERIFY))).code).toBe('ccid/pin-timeout');
  });

  it('bad request formats are refused before anything is sent', async () => {
    const { c, s } = await open('gemplus-gempc-pinpad', hcaLikeCard());
    const e = await failure(c.verifyPinSecure({ ...VERIFY, format: { ...PIN_FORMAT, blockLength: 4 } }));
    expect(e.code).toBe('ccid/bad-field');
    expect(s.sent.some((f) => f[0] === PC_to_RDR_Secure)).toBe(false);
  });

  it("the virtual HCA card (H2a's, the profile exactly): verify, change, unblock on the GemPC Pinpad", async () => {
    const card = await createVirtualHcaCard({ pin: '123456', puk: '12345678' });
    const pinpad = createVirtualPinpad();
    const t = await openStack({ preset: 'gemplus-gempc-pinpad', card, onSecure: pinpad.onSecure });
    stacks.push(t);
    const c = await t.reader.connect(0);
    const aid = fromHex(P.aid.value);
    expect(sw(await c.transmit(concatBytes(Uint8Array.of(0x00, 0xa4, 0x04, 0x0c, aid.length), aid)))).toBe(0x9000);
    pinpad.type('123456').enter();
    expect(toHex(await c.verifyPinSecure(VERIFY))).toBe('90 00');
    pinpad.type('123456').enter().type('654321').enter().type('654321').enter();
    expect(toHex(await c.modifyPinSecure(CHANGE))).toBe('90 00');
    for (let i = 0; i < 3; i++) {
      pinpad.type('111111').enter();
      await c.verifyPinSecure(VERIFY);
    }
    expect(await triesLeft(c)).toBe('blocked');
    pinpad.type('12345678').enter().type('111111').enter().type('111111').enter();
    expect(toHex(await c.modifyPinSecure(UNBLOCK))).toBe('90 00');
    pinpad.type('111111').enter();
    expect(toHex(await c.verifyPinSecure(VERIFY))).toBe('90 00');
  });
});
