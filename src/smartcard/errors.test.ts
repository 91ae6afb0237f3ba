import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AbortError, ProtocolError, TransportError, WebCcidError } from '../errors.js';
import { isSmartCardError, smartCardErrorFrom } from './errors.js';
import { FakeSmartCardError } from '../virtual/smartcard-fake.js';
import { SMART_CARD_RESPONSE_CODES, type SmartCardResponseCode } from './types.js';

const TABLE: Array<[SmartCardResponseCode, string, typeof WebCcidError]> = [
  ['no-service', 'smartcard/no-service', TransportError],
  ['no-smartcard', 'smartcard/no-card', TransportError],
  ['not-ready', 'smartcard/failed', TransportError],
  ['not-transacted', 'smartcard/failed', TransportError],
  ['proto-mismatch', 'protocol/no-common-protocol', ProtocolError],
  ['reader-unavailable', 'transport/disconnected', TransportError],
  ['removed-card', 'smartcard/card-removed', TransportError],
  ['reset-card', 'smartcard/card-reset', TransportError],
  ['server-too-busy', 'smartcard/failed', TransportError],
  ['sharing-violation', 'smartcard/sharing-violation', TransportError],
  ['system-cancelled', 'smartcard/failed', TransportError],
  ['unknown-reader', 'smartcard/no-reader', TransportError],
  ['unpowered-card', 'smartcard/card-unresponsive', TransportError],
  ['unresponsive-card', 'smartcard/card-unresponsive', TransportError],
  ['unsupported-card', 'smartcard/unsupported-card', TransportError],
  ['unsupported-feature', 'smartcard/failed', TransportError],
];

describe('smartCardErrorFrom', () => {
  it('the table covers every response code of the spec', () => {
    expect(TABLE.map((t) => t[0]).sort()).toEqual([...SMART_CARD_RESPONSE_CODES].sort());
  });

  it.each(TABLE)('SmartCardError %s -> %s', (responseCode, code, cls) => {
    const original = new FakeSmartCardError('x', { responseCode });
    const e = smartCardErrorFrom(original, { operation: 'transmit', readerName: 'R' });
    expect(e).toBeInstanceOf(cls);
    expect(e.code).toBe(code);
    expect(e.cause).toBe(original);
    expect(e.message).toContain('"R"');
  });

  it.each([
    ['SecurityError', 'smartcard/not-allowed'],
    ['NotAllowedError', 'smartcard/permission-denied'],
    ['InvalidStateError', 'smartcard/failed'],
    ['UnknownError', 'smartcard/failed'],
    ['AbortError', 'smartcard/failed'],
  ])('DOMException %s -> %s', (name, code) => {
    const e = smartCardErrorFrom(new DOMException('m', name), { operation: 'connect' });
    expect(e).toBeInstanceOf(TransportError);
    expect(e.code).toBe(code);
  });

  it('a TypeError (SCARD_E_INVALID_PARAMETER) -> smartcard/failed', () => {
    expect(smartCardErrorFrom(new TypeError('t'), { operation: 'connect' }).code).toBe('smartcard/failed');
  });

  it('the caller’s signal fired: AbortError whatever the rejection', () => {
    const signal = AbortSignal.abort();
    const e = smartCardErrorFrom(new FakeSmartCardError('x', { responseCode: 'system-cancelled' }), { operation: 'getStatusChange', signal });
    expect(e).toBeInstanceOf(AbortError);
    expect(e.code).toBe('aborted');
  });

  it('our own errors pass through unchanged', () => {
    const ours = new ProtocolError('protocol/bad-atr', 'x');
    expect(smartCardErrorFrom(ours, { operation: 'connect' })).toBe(ours);
  });

  it('detects SmartCardError by its responseCode only', () => {
    expect(isSmartCardError({ name: 'SmartCardError', responseCode: 'no-service' })).toBe(true);
    expect(isSmartCardError({ name: 'SmartCardError', responseCode: 'bogus' })).toBe(false);
    expect(isSmartCardError({ name: 'SmartCardError' })).toBe(false);
    expect(isSmartCardError(null)).toBe(false);
  });

  it('any rejection value gives one of our errors, never a throw', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.record({ name: fc.string(), responseCode: fc.oneof(fc.string(), fc.constantFrom(...SMART_CARD_RESPONSE_CODES)) }),
        ),
        fc.boolean(),
        (value, aborted) => {
          const e = smartCardErrorFrom(value, { operation: 'x', ...(aborted ? { signal: AbortSignal.abort() } : {}) });
          expect(e).toBeInstanceOf(WebCcidError);
          if (aborted) expect(e.code).toBe('aborted');
        },
      ),
    );
  });
});
