/**
 * Driver errors are built from a code and facts (src/errors.ts). Without the English text
 * registered (a browser page: the root entry does not register it), an error thrown by the
 * driver carries `code`, `detail` and the compact message `code (fact value, ...)`; with it
 * (webccid/node, this suite's setup), the English sentence of src/error-text.ts. `errorText`
 * gives the sentence either way. The driver core's bundle carries none of the sentences.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AbortError, CcidError, ccidMessages, CcidReader, mapUsbError, parseAtr, ProtocolError, setErrorMessageFormatter, statusError, TransportError } from '../src/index.js';
import { ERROR_TEXT, errorText, FACT_WORDS, useEnglishErrorText } from '../src/error-text-all.js';
import { englishErrorText } from '../src/error-text-all.js';
import * as driverOnly from '../src/error-text.js';
import { HcaError, PukIncorrectError, ProfileUnconfirmedError, pinStatusError, pukStatusError } from '../src/hca/errors.js';
import { secretDigits } from '../src/hca/format.js';
import { checkProfile } from '../src/hca/check-profile.js';
import { HCA_PROFILE_VALUES } from '../src/hca/profile-data.js';
import { HCA_ERROR_TEXT } from '../src/hca/error-text.js';
import { SESSION_ERROR_TEXT } from '../src/session/error-text.js';
import { COMPONENTS_ERROR_TEXT } from '../src/components/error-text.js';
import { pukServiceErrorFromResponse } from '../src/session/puk-service.js';
import { decodeT1Block } from '../src/iso7816/t1-block.js';
import { openStack, type Stack } from './helpers/stack.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('nothing was thrown');
}

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.reader.close();
  stack = undefined;
});

describe('without the English text (the browser entry)', () => {
  beforeEach(() => setErrorMessageFormatter(undefined));
  afterEach(() => useEnglishErrorText());

  it('an error from the reader carries code, detail and the compact message', async () => {
    stack = await openStack({ preset: 'ideal' });
    expect(stack.reader.slotCount).toBe(1);
    const e = await stack.reader.connect(3).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CcidError);
    expect(e).toMatchObject({ code: 'ccid/bad-slot', detail: { slot: 3, slots: 1 }, message: 'ccid/bad-slot (slot 3, slots 1)' });
    expect(errorText(e)).toBe('Slot 3 does not exist: this reader has 1 slot(s).');
  });

  it('codec errors: a truncated ATR, a short CCID frame, a short response', () => {
    const atr = thrown(() => parseAtr(Uint8Array.of(0x3b)));
    expect(atr).toBeInstanceOf(ProtocolError);
    expect(atr).toMatchObject({ code: 'protocol/bad-atr', detail: { truncatedIn: 'T0' }, message: 'protocol/bad-atr (truncatedIn T0)' });
    expect(errorText(atr)).toBe('ATR truncated in T0.');

    // RDR_to_PC_DataBlock announcing 12 data bytes and carrying 10 (CCID 1.10 §6.2: dwLength counts abData).
    const frame = Uint8Array.of(0x80, 12, 0, 0, 0, 0, 1, 0, 0, 0, ...new Array<number>(10).fill(0));
    const mismatch = thrown(() => ccidMessages.decodeResponse(frame));
    expect(mismatch).toMatchObject({
      code: 'ccid/length-mismatch',
      detail: { dwLength: 12, carried: 10 },
      message: 'ccid/length-mismatch (dwLength 12, carried 10)',
    });
    expect(errorText(mismatch)).toBe('dwLength says 12 data bytes but the frame carries 10.');
  });

  it('a status word: sw as 4 hex digits; the English text is the status-word description', () => {
    const e = statusError(0x6a82)!;
    expect(e).toMatchObject({ code: 'apdu/file-not-found', sw: 0x6a82, detail: { sw: '6A82' }, message: 'apdu/file-not-found (sw 6A82)' });
    expect(errorText(e)).toBe('File or application not found. (SW 6A82)');
  });

  it('a T=1 block problem: its name in the compact form, its words in the English text', () => {
    // NAD 00, PCB 00 (I-block), LEN 00, LRC 01: the LRC (XOR of the prologue and INF) of 00 00 00 is 00.
    const e = thrown(() => decodeT1Block(Uint8Array.of(0, 0, 0, 1), 'lrc'));
    expect(e).toBeInstanceOf(ProtocolError);
    expect(e).toMatchObject({
      code: 'protocol/t1-bad-block',
      detail: { length: 4, problem: 'wrong-edc' },
      message: 'protocol/t1-bad-block (length 4, problem wrong-edc)',
    });
    expect(errorText(e)).toBe('Bad T=1 block (4 bytes): wrong EDC.');
  });

  it("a platform refusal: the compact form names the reader; the English text is the advisory", () => {
    const device = { vendorId: 0x072f, productId: 0x90cc, productName: 'ACR38U' } as Parameters<typeof CcidReader.open>[0];
    const e = mapUsbError(new DOMException('The requested interface implements a protected class.', 'SecurityError'), {
      stage: 'claim',
      device,
      interfaceClass: 0x0b,
    });
    expect(e).toBeInstanceOf(TransportError);
    expect(e.message).toBe('transport/protected-class (reader ACR38U (072F:90CC))');
    expect(errorText(e)).toMatch(/^Chrome keeps ordinary web pages from smart-card readers \(USB class 0x0B\) such as ACR38U \(072F:90CC\)\. .*Isolated Web App/);
  });

  it('an error without facts is its code; one built from a message keeps the message', () => {
    expect(new AbortError()).toMatchObject({ code: 'aborted', detail: {}, message: 'aborted' });
    expect(errorText(new AbortError())).toBe('The operation was cancelled.');
    const own = new AbortError('PIN entry cancelled.');
    expect(own).toMatchObject({ code: 'aborted', detail: {}, message: 'PIN entry cancelled.' });
    expect(errorText(own)).toBe('PIN entry cancelled.');
  });

  it('webccid/node registers the English text when it loads', async () => {
    expect(new CcidError('ccid/slot-busy', { slot: 0 }).message).toBe('ccid/slot-busy (slot 0)');
    await import('../src/node/index.js');
    expect(new CcidError('ccid/slot-busy', { slot: 0 }).message).toBe('Slot 0 already has a command in flight.');
  });
});

describe('with the English text registered (webccid/node, this suite)', () => {
  it('the message is the sentence, and errorText returns it', async () => {
    stack = await openStack({ preset: 'ideal' });
    const e = await stack.reader.connect(3).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'ccid/bad-slot', detail: { slot: 3, slots: 1 }, message: 'Slot 3 does not exist: this reader has 1 slot(s).' });
    expect(errorText(e)).toBe((e as Error).message);
  });
});

describe('the driver core bundle', () => {
  it('carries none of the English sentences', async () => {
    const result = await build({
      entryPoints: [fileURLToPath(new URL('../bench/typical-use.ts', import.meta.url))],
      bundle: true,
      minify: true,
      splitting: true,
      format: 'esm',
      platform: 'browser',
      outdir: '/webccid-error-text',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    // What loads at start: the entry chunk and what it imports statically (the pinpad chunk is lazy).
    const outputs = result.metafile.outputs;
    const initial = new Set<string>();
    const pending = Object.keys(outputs).filter((k) => outputs[k]!.entryPoint?.endsWith('typical-use.ts'));
    for (let k = pending.pop(); k !== undefined; k = pending.pop()) {
      if (initial.has(k)) continue;
      initial.add(k);
      for (const i of outputs[k]!.imports) if (i.kind === 'import-statement') pending.push(i.path);
    }
    const code = result.outputFiles
      .filter((f) => [...initial].some((k) => f.path.endsWith(k.replace(/^.*?webccid-error-text/, ''))))
      .map((f) => f.text)
      .join('\n');
    expect(code).toContain('ccid/length-mismatch'); // the codes are there
    expect(initial.size).toBeGreaterThan(1);
    // The longest run of plain words in each template (placeholders split it).
    const fragments = Object.values(ERROR_TEXT)
      .flatMap((t) => (typeof t === 'function' ? [] : typeof t === 'string' ? [t] : t))
      .map((t) => t.split(/\{\w+\}/).sort((a, b) => b.length - a.length)[0]!)
      .concat(Object.values(FACT_WORDS).flatMap((words) => Object.values(words)))
      .filter((f) => f.length >= 16);
    expect(fragments.length).toBeGreaterThan(40);
    expect(fragments.filter((f) => code.includes(f))).toEqual([]);
  });
});

describe('the layers above the driver (src/hca, src/session, src/components)', () => {
  beforeEach(() => setErrorMessageFormatter(undefined));
  afterEach(() => useEnglishErrorText());

  it("the card's answers to the PUK: compact without the English text, the sentence from errorText", () => {
    // RESET RETRY COUNTER answered 63C2 (ISO/IEC 7816-4 §10.1.2: two tries left).
    const wrong = pukStatusError(0x63c2, new Uint8Array(0));
    expect(wrong).toBeInstanceOf(PukIncorrectError);
    expect(wrong).toMatchObject({ code: 'hca/puk-incorrect', retriesLeft: 2, detail: { retriesLeft: 2 }, message: 'hca/puk-incorrect (retriesLeft 2)' });
    expect(errorText(wrong)).toBe('Wrong PUK: 2 tries left. The PIN was not changed.');
    const unexpected = pinStatusError(0x6a88, new Uint8Array(0));
    expect(unexpected).toMatchObject({ code: 'apdu/status', detail: { sw: '6A88' }, message: 'apdu/status (sw 6A88)' });
  });

  it('a PIN of the wrong format: the facts are the rule, never the value or its length', () => {
    const pin = '12a4567';
    const e = thrown(() => secretDigits(pin, { minLength: 6, maxLength: 8, code: 'hca/bad-pin-format', what: 'PIN' }));
    expect(e).toBeInstanceOf(HcaError);
    expect(e).toMatchObject({ code: 'hca/bad-pin-format', detail: { what: 'PIN', minLength: 6, maxLength: 8, letters: false } });
    expect((e as Error).message).toBe('hca/bad-pin-format (what PIN, minLength 6, maxLength 8, letters false)');
    expect(errorText(e)).toBe('The PIN must be 6 to 8 digits (0-9).');
    expect(JSON.stringify((e as HcaError).detail)).not.toContain(pin);
    expect(Object.values((e as HcaError).detail)).not.toContain(pin.length);
  });

  it("the profile check's refusal names the profile and the card's answer, with the sentence for its reason", () => {
    const e = new ProfileUnconfirmedError({ reason: 'refused', profileId: 'tw-hca-gpki', operation: 'verify', fields: ['pin.encoding'], retriesLeft: 2, sw: 0x63c2 });
    expect(e.detail).toEqual({ reason: 'refused', operation: 'verify', profileId: 'tw-hca-gpki', retriesLeft: 2, sw: '63C2' });
    expect(errorText(e)).toBe(
      'The card refused the PIN (status 63C2). The PIN may have been right: the format of this card (profile tw-hca-gpki) is not confirmed yet. ' +
        'The card reports 2 PIN tries left. Stop here and send a field report (docs/field-test.md) so the card format can be confirmed.',
    );
    // Without the counter and the status word, the facts leave them out.
    const first = new ProfileUnconfirmedError({ reason: 'not-implementable', profileId: 'x', operation: 'unblock', fields: [] });
    expect(first.detail).toEqual({ reason: 'not-implementable', operation: 'unblock', profileId: 'x' });
    expect(errorText(first)).toMatch(/^The card profile x sends the PUK wrapped under the card vendor's keys/);
  });

  it("a caller's profile that breaks a rule: the field and the rule's name, the rule's words in English", () => {
    const profile = { ...HCA_PROFILE_VALUES, aid: { ...HCA_PROFILE_VALUES.aid, value: 'A000' } };
    const e = thrown(() => checkProfile(profile));
    expect(e).toMatchObject({ code: 'hca/bad-profile', detail: { field: 'aid', profileRule: 'aid-length' }, message: 'hca/bad-profile (field aid, profileRule aid-length)' });
    expect(errorText(e)).toBe('HCA profile field aid: an AID has 5 to 16 bytes.');
  });

  it("the PUK service's answers: the server's code and status, and the sentence", () => {
    const e = pukServiceErrorFromResponse(502, { error: 'upstream' });
    expect(e).toMatchObject({ code: 'unlock/server-error', status: 502, serverCode: 'upstream', message: 'unlock/server-error (status 502, serverCode upstream)' });
    expect(errorText(e)).toBe('The unlock service failed (HTTP 502, upstream).');
    expect(errorText(pukServiceErrorFromResponse(500, null))).toBe('The unlock service failed (HTTP 500).');
    expect(errorText(pukServiceErrorFromResponse(401, { error: 'wrong-user-code', attemptsLeft: 3 }))).toBe('The card number or the user code is wrong.');
  });

  it("webccid/error-text is every layer's table; src/error-text.ts alone (the driver console) is the driver's", () => {
    const wrong = pukStatusError(0x63c2, new Uint8Array(0));
    expect(driverOnly.errorText(wrong)).toBe('hca/puk-incorrect (retriesLeft 2)');
    expect(Object.keys(driverOnly.ERROR_TEXT).filter((c) => /^(hca|unlock|bind|smartcard|components|report)\//.test(c))).toEqual([]);
    expect(Object.keys(ERROR_TEXT).length).toBe(
      Object.keys(driverOnly.ERROR_TEXT).length + Object.keys(HCA_ERROR_TEXT).length + Object.keys(SESSION_ERROR_TEXT).length + Object.keys(COMPONENTS_ERROR_TEXT).length,
    );
    // Registering the driver's table alone: the driver's sentences, the upper layers' compact form.
    driverOnly.useEnglishErrorText();
    expect(new CcidError('ccid/slot-busy', { slot: 0 }).message).toBe('Slot 0 already has a command in flight.');
    expect(pukStatusError(0x63c1, new Uint8Array(0)).message).toBe('hca/puk-incorrect (retriesLeft 1)');
    useEnglishErrorText();
    expect(pukStatusError(0x63c1, new Uint8Array(0)).message).toBe('Wrong PUK: 1 try left. The PIN was not changed.');
  });

  it("the unlock page's modules above the driver carry none of their sentences", async () => {
    const entry = [
      "export { HcaCardBase } from './src/hca/card-base.ts';",
      "export { fetchPuk } from './src/session/puk-service.ts';",
      "export { UsbCardSession } from './src/session/card-session.ts';",
      "export { UnlockFlow } from './src/components/hca-unlock-card/unlock-flow.ts';",
    ].join('\n');
    const result = await build({
      stdin: { contents: entry, resolveDir: fileURLToPath(new URL('..', import.meta.url)), loader: 'ts' },
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
      external: ['lit', 'lit/*', '@lit/*'],
    });
    const code = result.outputFiles.map((f) => f.text).join('\n');
    expect(code).toContain('hca/puk-incorrect'); // the codes are there
    const fragments = [HCA_ERROR_TEXT, SESSION_ERROR_TEXT, COMPONENTS_ERROR_TEXT]
      .flatMap((table) => Object.entries(table))
      .flatMap(([code, t]) => (typeof t === 'function' ? [englishErrorText(code, {})!] : typeof t === 'string' ? [t] : t))
      .flatMap((t) => t.split(/\{\w+\}|\$\{[^}]*\}|undefined/))
      .filter((f) => f.length >= 24);
    expect(fragments.length).toBeGreaterThan(15);
    expect(fragments.filter((f) => code.includes(f))).toEqual([]);
  });
});
