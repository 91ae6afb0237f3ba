import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { fromHex, toHex } from '../bytes.js';
import { WebCcidError } from '../errors.js';
import type { PinBlockFormat } from '../card/channel.js';
import { buildPinModify, buildPinVerify, encodePinModify, encodePinVerify } from '../ccid/secure.js';
import { createVirtualPinpad, type PinpadPrompt } from './pinpad.js';
import type { SecureOutcome, SecureRequest } from './reader/index.js';

const ASCII8: PinBlockFormat = { encoding: 'ascii', minLength: 6, maxLength: 8, blockLength: 8, padByte: 0xff };
const PUK8: PinBlockFormat = { encoding: 'ascii', minLength: 8, maxLength: 8, blockLength: 8, padByte: 0xff };

const VERIFY = encodePinVerify(buildPinVerify({ header: fromHex('00 20 00 81'), format: ASCII8 }));
const CHANGE = encodePinModify(buildPinModify({ header: fromHex('00 24 00 81'), oldFormat: ASCII8, newFormat: ASCII8, confirm: true }));
const UNBLOCK = encodePinModify(buildPinModify({ header: fromHex('00 2C 00 81'), oldFormat: PUK8, newFormat: ASCII8, confirm: true }));

/** A Secure request whose card records what it got (copied: the pinpad wipes its buffer) and answers 90 00. */
function request(abData: Uint8Array, answer = fromHex('90 00')) {
  const sent: Uint8Array[] = [];
  const req: SecureRequest = {
    slot: 0,
    bBWI: 0,
    wLevelParameter: 0,
    abData,
    transmit: (apdu) => {
      sent.push(apdu.slice());
      return answer;
    },
  };
  return { req, sent };
}

function responseHex(o: SecureOutcome): string {
  if (!('response' in o)) throw new Error(`expected a response, got ${JSON.stringify(o)}`);
  return toHex(o.response);
}

describe('virtual pinpad', () => {
  it('verify: the keyed PIN goes into the template, ASCII padded with FF', async () => {
    const pinpad = createVirtualPinpad();
    pinpad.type('123456').enter();
    const { req, sent } = request(VERIFY);
    expect(responseHex(await pinpad.onSecure(req))).toBe('90 00');
    expect(sent.map((a) => toHex(a))).toEqual(['00 20 00 81 08 31 32 33 34 35 36 FF FF']);
    expect(pinpad.pending).toBe(0);
    expect(pinpad.prompts).toEqual([
      { operation: 'verify', step: 'current', slot: 0, minLength: 6, maxLength: 8, timeoutSeconds: 30, messageIndex: 0, wLangId: 0x0409 },
    ]);
  });

  it('change with confirmation: current, new, confirm in that order', async () => {
    const pinpad = createVirtualPinpad();
    pinpad.type('123456').enter().type('87654321').enter().type('87654321').enter();
    const { req, sent } = request(CHANGE);
    expect(responseHex(await pinpad.onSecure(req))).toBe('90 00');
    expect(toHex(sent[0]!)).toBe('00 24 00 81 10 31 32 33 34 35 36 FF FF 38 37 36 35 34 33 32 31');
    expect(pinpad.prompts.map((p) => [p.step, p.messageIndex])).toEqual([
      ['current', 0],
      ['new', 1],
      ['confirm', 2],
    ]);
  });

  it('unblock: the PUK is the current value', async () => {
    const pinpad = createVirtualPinpad();
    pinpad.type('12345678').enter().type('111111').enter().type('111111').enter();
    const { req, sent } = request(UNBLOCK);
    expect(responseHex(await pinpad.onSecure(req))).toBe('90 00');
    expect(toHex(sent[0]!)).toBe('00 2C 00 81 10 31 32 33 34 35 36 37 38 31 31 31 31 31 31 FF FF');
  });

  it('user events: cancel -> cancelled, timeout -> timeout, nothing queued -> timeout; the card is not asked', async () => {
    const pinpad = createVirtualPinpad();
    pinpad.cancel().timeout();
    const a = request(VERIFY);
    expect(await pinpad.onSecure(a.req)).toEqual({ error: 'cancelled' });
    expect(await pinpad.onSecure(a.req)).toEqual({ error: 'timeout' });
    expect(await pinpad.onSecure(a.req)).toEqual({ error: 'timeout' });
    expect(a.sent).toEqual([]);
    // cancel on the confirmation step of a change
    pinpad.type('123456').enter().type('654321').enter().cancel();
    const b = request(CHANGE);
    expect(await pinpad.onSecure(b.req)).toEqual({ error: 'cancelled' });
    expect(b.sent).toEqual([]);
  });

  it('wrong length -> the reader answers 64 03 itself; the rest of the queue stays for the next command', async () => {
    const pinpad = createVirtualPinpad();
    pinpad.type('12345').enter().type('123456789').enter().type('123456').enter();
    const { req, sent } = request(VERIFY);
    expect(responseHex(await pinpad.onSecure(req))).toBe('64 03');
    expect(responseHex(await pinpad.onSecure(req))).toBe('64 03');
    expect(sent).toEqual([]);
    expect(pinpad.pending).toBe(1);
    expect(responseHex(await pinpad.onSecure(req))).toBe('90 00');
  });

  it('new PIN and confirmation differ -> 64 02, card not asked', async () => {
    const pinpad = createVirtualPinpad();
    pinpad.type('123456').enter().type('111111').enter().type('111112').enter();
    const { req, sent } = request(CHANGE);
    expect(responseHex(await pinpad.onSecure(req))).toBe('64 02');
    expect(sent).toEqual([]);
  });

  it('bad structures: undecodable -> bError 10; inapplicable -> 6B80, before anybody is asked to type', async () => {
    const pinpad = createVirtualPinpad();
    pinpad.type('123456').enter();
    expect(await pinpad.onSecure(request(fromHex('05')).req)).toEqual({ error: 'bad-parameter', offset: 10 });
    expect(await pinpad.onSecure(request(fromHex('00 1E 82')).req)).toEqual({ error: 'bad-parameter', offset: 10 });
    const tooSmall = buildPinVerify({ header: fromHex('00 20 00 81'), format: ASCII8 });
    const blockPastEnd = encodePinVerify({ ...tooSmall, abPINApdu: fromHex('00 20 00 81 04 FF FF FF FF') });
    expect(responseHex(await pinpad.onSecure(request(blockPastEnd).req))).toBe('6B 80');
    const minOverMax = encodePinVerify({ ...tooSmall, wPINMaxExtraDigit: 0x0806 });
    expect(responseHex(await pinpad.onSecure(request(minOverMax).req))).toBe('6B 80');
    expect(pinpad.pending).toBe(1);
    expect(pinpad.prompts).toEqual([]);
  });

  it('onEntry provides keys when the queue is empty (strings or bytes), with the prompt', async () => {
    const seen: PinpadPrompt[] = [];
    const answers = ['123456', Uint8Array.of(0x39, 0x39, 0x39, 0x39, 0x39, 0x39), '999999'];
    const pinpad = createVirtualPinpad({
      onEntry: async (prompt) => {
        seen.push(prompt);
        return { digits: answers.shift()! };
      },
    });
    const { req, sent } = request(CHANGE);
    expect(responseHex(await pinpad.onSecure(req))).toBe('90 00');
    expect(seen.map((p) => p.step)).toEqual(['current', 'new', 'confirm']);
    expect(toHex(sent[0]!)).toBe('00 24 00 81 10 31 32 33 34 35 36 FF FF 39 39 39 39 39 39 FF FF');
    const cancelling = createVirtualPinpad({ onEntry: () => ({ cancel: true }) });
    expect(await cancelling.onSecure(request(VERIFY).req)).toEqual({ error: 'cancelled' });
  });

  it("an unanswered prompt ends after the reader's bTimeOut, as a time-out (bError F0), and withdraws the prompt", async () => {
    const ONE_SECOND = encodePinVerify(buildPinVerify({ header: fromHex('00 20 00 81'), format: ASCII8, timeoutSeconds: 1 }));
    let signal: AbortSignal | undefined;
    const pinpad = createVirtualPinpad({
      onEntry: (_prompt, options) => {
        signal = options.signal;
        return new Promise(() => undefined); // nobody presses a key
      },
    });
    const { req, sent } = request(ONE_SECOND);
    vi.useFakeTimers();
    try {
      let outcome: unknown;
      const done = pinpad.onSecure(req).then((o) => (outcome = o));
      // On a fake clock: still waiting 1 ms before bTimeOut, a time-out at bTimeOut.
      await vi.advanceTimersByTimeAsync(999);
      expect(outcome).toBeUndefined();
      expect(signal?.aborted).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await done;
      expect(outcome).toEqual({ error: 'timeout' });
    } finally {
      vi.useRealTimers();
    }
    expect(signal?.aborted).toBe(true);
    expect(sent).toEqual([]);
  });

  it('bTimeOut 0: the reader waits its own default', async () => {
    const NO_TIMEOUT = encodePinVerify(buildPinVerify({ header: fromHex('00 20 00 81'), format: ASCII8, timeoutSeconds: 0 }));
    const pinpad = createVirtualPinpad({ defaultTimeoutSeconds: 0.2, onEntry: () => new Promise(() => undefined) });
    vi.useFakeTimers();
    try {
      let outcome: unknown;
      const done = pinpad.onSecure(request(NO_TIMEOUT).req).then((o) => (outcome = o));
      await vi.advanceTimersByTimeAsync(199);
      expect(outcome).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      await done;
      expect(outcome).toEqual({ error: 'timeout' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('keys are digits only; clear() empties the queue', () => {
    const pinpad = createVirtualPinpad();
    let caught: unknown;
    try {
      pinpad.type('12a4');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(WebCcidError);
    expect((caught as WebCcidError).code).toBe('virtual/bad-pinpad-key');
    expect((caught as Error).message).not.toContain('12a4');
    pinpad.type('123456').enter().cancel();
    expect(pinpad.pending).toBe(2);
    pinpad.clear();
    expect(pinpad.pending).toBe(0);
  });

  it('wipes the APDU buffer it sent', async () => {
    const pinpad = createVirtualPinpad();
    pinpad.type('123456').enter();
    let seen: Uint8Array | undefined;
    const req: SecureRequest = {
      slot: 0,
      bBWI: 0,
      wLevelParameter: 0,
      abData: VERIFY,
      transmit: (apdu) => {
        seen = apdu;
        return fromHex('90 00');
      },
    };
    await pinpad.onSecure(req);
    expect(seen!.every((b) => b === 0)).toBe(true);
  });

  it('property: any abData -> a response, a user event or bad-parameter; never a throw', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 60 }), fc.stringMatching(/^[0-9]{0,10}$/), async (abData, pin) => {
        const pinpad = createVirtualPinpad();
        pinpad.type(pin).enter().type(pin).enter().type(pin).enter();
        const out = await pinpad.onSecure(request(abData).req);
        expect('response' in out || 'error' in out).toBe(true);
      }),
    );
  });
});
