import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { PinBlockedError, PinIncorrectError, SlotError, TransportError, WebCcidError } from '../../errors.js';
import { HcaError, ProfileUnconfirmedError, PukBlockedError, PukIncorrectError } from '../../hca/errors.js';
import { setLocale } from '../locale.js';
import { templates as enShared } from '../locales/en-shared.js';
import { templates as enAll } from '../locales/en.js';
import { DESCRIBED_CODES, describeError, detectOs, type DescribeContext } from './messages.js';
import { PukServiceError } from '../../session/puk-service.js';

const CJK = /[\u3400-\u9fff\uff00-\uffef]/;

beforeAll(() => {
  vi.stubGlobal('window', new EventTarget());
});

afterEach(async () => {
  await setLocale('zh-Hant');
});

const insecure: DescribeContext = { webUsb: { supported: false, reason: 'insecure-context' } };

describe('describeError: every code has its own message in both languages', () => {
  const generic = describeError({ code: 'zz/not-a-code' });

  it.each(DESCRIBED_CODES.map((c) => [c]))('%s', async (code) => {
    const zh = describeError({ code }, { os: 'windows' });
    expect(zh.code).toBe(code);
    expect(zh.title).toMatch(CJK);
    expect(zh.detail).toMatch(CJK);
    expect(zh.title).not.toBe(generic.title);
    await setLocale('en');
    const en = describeError({ code }, { os: 'windows' });
    expect(en.code).toBe(code);
    expect(en.title).not.toMatch(CJK);
    expect(en.detail).not.toMatch(CJK);
    expect(en.title.length).toBeGreaterThan(3);
    if (zh.action) {
      expect(en.action?.kind).toBe(zh.action.kind);
      expect(en.action?.label).not.toMatch(CJK);
    }
  });
});

describe('describeError: codes without their own message', () => {
  const generic = describeError({ code: 'zz/not-a-code' });

  it('a code that names a property of every object (constructor, toString) gets the generic message', () => {
    for (const code of ['constructor', 'tostring', 'hasownproperty']) {
      const d = describeError({ code: code === 'tostring' ? 'toString' : code });
      expect(d.title).toBe(generic.title);
      expect(d.action?.kind).toBe('retry');
    }
    expect(describeError({ code: 'constructor' }).code).toBe('constructor');
  });

  it('codes left generic on purpose still show the code for support', () => {
    for (const code of ['ccid/slot-error', 'apdu/file-not-found', 'smartcard/unavailable']) {
      const d = describeError({ code });
      expect(d.title).toBe(generic.title);
      expect(d.detail).toContain(code);
    }
  });
});

describe('describeError: the Web Smart Card route', () => {
  const generic = describeError({ code: 'zz/not-a-code' });
  it('says what the WebUSB route says for the same event, not the generic message', () => {
    const same: [string, string, DescribeContext][] = [
      ['smartcard/no-card', 'ccid/card-absent', {}],
      ['smartcard/card-removed', 'ccid/card-absent', { inFlow: true }],
      ['smartcard/no-reader', 'transport/no-reader', {}],
      ['smartcard/sharing-violation', 'transport/os-held', { os: 'chromeos' }],
      ['smartcard/card-unresponsive', 'ccid/icc-mute', {}],
      ['smartcard/card-reset', 'transport/closed', {}],
    ];
    for (const [ours, usb, context] of same) {
      const a = describeError({ code: ours }, context);
      const b = describeError({ code: usb }, context);
      expect(a.code).toBe(ours);
      expect([a.title, a.detail]).toEqual([b.title, b.detail]);
      expect(a.title).not.toBe(generic.title);
    }
  });

  it('a missing smart-card service and a refused permission have messages of their own', () => {
    for (const code of ['smartcard/no-service', 'smartcard/permission-denied', 'smartcard/not-allowed']) {
      const d = describeError({ code }, { deploymentGuideUrl: 'guide.html' });
      expect(d.title).not.toBe(generic.title);
      expect(d.action).toMatchObject({ kind: 'deployment-guide', href: 'guide.html' });
    }
  });
});

describe('describeError: the details', () => {
  it('a wrong PIN says how many tries are left, and warns on the last one', async () => {
    const two = describeError(new PinIncorrectError(0x63c2));
    expect(two).toMatchObject({ code: 'apdu/pin-incorrect', retriesLeft: 2 });
    expect(two.detail).toContain('2');
    const last = describeError(new PinIncorrectError(0x63c1));
    expect(last.retriesLeft).toBe(1);
    expect(last.detail).not.toBe(two.detail);
    await setLocale('en');
    expect(describeError(new PinIncorrectError(0x63c2)).detail).toContain('Tries left: 2');
  });

  it('a wrong PIN without a count (a { code } record) still explains, with the count from the context', () => {
    expect(describeError({ code: 'apdu/pin-incorrect' }).retriesLeft).toBeUndefined();
    expect(describeError({ code: 'apdu/pin-incorrect' }, { retriesLeft: 2 }).retriesLeft).toBe(2);
  });

  it('a blocked PIN leads to the unlock flow', () => {
    const d = describeError(new PinBlockedError(0x6983));
    expect(d.action?.kind).toBe('unlock');
    expect(d.retriesLeft).toBe(0);
  });

  it('a wrong PUK: keyed on the pinpad vs sent from the service, with the tries left', () => {
    const pad = describeError(new PukIncorrectError(0x63c5), { pinpad: true });
    const service = describeError(new PukIncorrectError(0x63c5));
    expect(pad.retriesLeft).toBe(5);
    expect(pad.detail).toContain('5');
    expect(service.detail).toContain('5');
    expect(pad.detail).not.toBe(service.detail);
    expect(pad.action?.kind).toBe('retry');
  });

  it('a blocked PUK has no action (a new card is the only way)', () => {
    expect(describeError(new PukBlockedError(0x6983)).action).toBeUndefined();
  });

  it('the PUK service: wrong user code with attempts left, locked and rate limited with the wait', async () => {
    const wrong = describeError(new PukServiceError('unlock/wrong-user-code', 'x', { status: 401, attemptsLeft: 3 }));
    expect(wrong.retriesLeft).toBe(3);
    expect(wrong.detail).toContain('3');
    expect(describeError(new PukServiceError('unlock/card-locked', 'x', { retryAfterSeconds: 86_400 })).detail).toContain('24 小時');
    expect(describeError(new PukServiceError('unlock/card-locked', 'x', { retryAfterSeconds: 90 })).detail).toContain('2 分鐘');
    expect(describeError(new PukServiceError('unlock/rate-limited', 'x', { retryAfterSeconds: 600 })).detail).toContain('10 分鐘');
    expect(describeError(new PukServiceError('unlock/rate-limited', 'x', { retryAfterSeconds: 7200 })).detail).toContain('2 小時');
    expect(describeError(new PukServiceError('unlock/rate-limited', 'x')).detail).not.toMatch(/\d/);
    await setLocale('en');
    expect(describeError(new PukServiceError('unlock/rate-limited', 'x', { retryAfterSeconds: 600 })).detail).toContain('10 min');
  });

  it('card removed: in a flow (start again) vs at rest (insert the card)', () => {
    const removed = new SlotError('ccid/card-absent', 'x', 0x42, 0xfe);
    expect(describeError(removed, { inFlow: true }).title).not.toBe(describeError(removed).title);
    const unplugged = new TransportError('transport/disconnected', 'x');
    expect(describeError(unplugged, { inFlow: true }).title).not.toBe(describeError(unplugged).title);
  });

  it('no WebUSB: not HTTPS vs wrong browser, both pointing to the deployment guide', () => {
    const e = new TransportError('transport/no-webusb', 'x');
    const a = describeError(e, insecure);
    const b = describeError(e, { webUsb: { supported: false, reason: 'unsupported-browser' }, deploymentGuideUrl: '/docs/deployment.md' });
    expect(a.title).not.toBe(b.title);
    expect(a.action?.kind).toBe('deployment-guide');
    expect(a.action?.href).toBeUndefined();
    expect(b.action?.href).toBe('/docs/deployment.md');
  });

  it('the OS holding the reader: one fix per OS', () => {
    const e = new TransportError('transport/os-held', 'x');
    const details = (['windows', 'linux', 'macos', 'chromeos', 'other'] as const).map((os) => describeError(e, { os }).detail);
    expect(new Set(details).size).toBe(5);
    expect(details[0]).toContain('Zadig');
    expect(details[1]).toContain('pcscd');
  });

  it('the protected class explains the deployment route; no permission offers the chooser', () => {
    expect(describeError(new TransportError('transport/protected-class', 'x')).action?.kind).toBe('deployment-guide');
    expect(describeError(new TransportError('transport/no-permission', 'x')).action?.kind).toBe('choose-reader');
    expect(describeError(new TransportError('transport/no-reader', 'x')).action?.kind).toBe('choose-reader');
  });

  it("the browser's own exceptions by name", () => {
    const named = (name: string) => Object.assign(new Error('x'), { name });
    expect(describeError(named('NotFoundError')).code).toBe('browser/no-device-chosen');
    expect(describeError(named('SecurityError')).code).toBe('transport/no-permission');
    expect(describeError(named('AbortError')).code).toBe('aborted');
  });

  it('anything else: the generic message shows the code for support', async () => {
    const odd = describeError(new WebCcidError('weird/thing', 'x'));
    expect(odd.code).toBe('weird/thing');
    expect(odd.detail).toContain('weird/thing');
    expect(odd.action?.kind).toBe('retry');
    expect(describeError(new Error('boom')).code).toBe('unknown');
    expect(describeError(undefined).code).toBe('unknown');
    expect(describeError('text').code).toBe('unknown');
    await setLocale('en');
    expect(describeError(new WebCcidError('weird/thing', 'x')).detail).toContain('weird/thing');
  });

  it('never shows the error message text (it may be technical); branches on code only', () => {
    const d = describeError(new HcaError('hca/not-hca-card', 'SELECT AID failed with 6A82'));
    expect(d.detail).not.toContain('6A82');
  });
});

describe('detectOs', () => {
  it.each([
    [{ userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126' }, 'windows'],
    [{ userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/126' }, 'linux'],
    [{ userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Chrome/126' }, 'macos'],
    [{ userAgent: 'Mozilla/5.0 (X11; CrOS x86_64 15917.0.0) Chrome/126' }, 'chromeos'],
    [{ userAgent: 'Mozilla/5.0 (Linux; Android 14) Chrome/126' }, 'android'],
    [{ userAgentData: { platform: 'Windows' } }, 'windows'],
    [{}, 'other'],
    [undefined, 'other'],
  ] as const)('%j -> %s', (nav, os) => {
    expect(detectOs(nav)).toBe(os);
  });
});

describe('English templates of the shared pieces', () => {
  const dir = fileURLToPath(new URL('..', import.meta.url));
  const files = [
    'shared/messages.ts',
    'shared/pin-messages.ts',
    'shared/error-parts.ts',
    'shared/error-view.ts',
    'hca-reader-status/hca-reader-status.ts',
    'hca-pin-pad/hca-pin-pad.ts',
    'hca-steps/hca-steps.ts',
  ];
  // msg('…', { id }) or msg(str`…`, { id }): the id and the number of placeholders.
  const used = new Map<string, number>();
  for (const f of files) {
    const text = readFileSync(dir + f, 'utf8');
    for (const m of text.matchAll(/msg\(\s*(str`([^`]*)`|'[^']*')\s*,\s*\{\s*id:\s*'([^']+)'/g)) {
      const placeholders = m[2] === undefined ? 0 : (m[2].match(/\$\{/g) ?? []).length;
      used.set(m[3]!, placeholders);
    }
  }

  it('finds the ids', () => {
    expect(used.size).toBeGreaterThan(100);
  });

  it('every id used has an English template with the same placeholders, and no template is unused', () => {
    for (const [id, placeholders] of used) {
      const t = (enShared as Record<string, unknown>)[id];
      expect(t, id).toBeDefined();
      const count = typeof t === 'string' ? 0 : (t as { values: unknown[] }).values.length;
      expect(count, id).toBe(placeholders);
      if (typeof t !== 'string') {
        expect([...(t as { values: number[] }).values].sort(), id).toEqual([...Array(placeholders).keys()]);
      }
    }
    expect(Object.keys(enShared).filter((id) => !used.has(id))).toEqual([]);
  });

  it('are part of the en module', () => {
    for (const id of Object.keys(enShared)) expect((enAll as Record<string, unknown>)[id], id).toBe((enShared as Record<string, unknown>)[id]);
  });
});

describe('hca/profile-unconfirmed names what the card refused', () => {
  const refused = (operation: 'verify' | 'unblock') =>
    new ProfileUnconfirmedError({ reason: 'refused', profileId: 'p', operation, fields: operation === 'unblock' ? ['puk.encoding'] : ['pin.encoding'], retriesLeft: 9 });

  it('a refused PUK (unlock: the PUK came from the service, the holder typed none) speaks of the PUK', () => {
    const d = describeError(refused('unblock'));
    expect(d.title).toContain('解鎖碼');
    expect(d.detail).toContain('解鎖碼');
    expect(d.detail).toContain('9');
    expect(d.detail).not.toContain('您輸入的 PIN 碼');
  });

  it('a refused PIN speaks of the PIN the holder typed', () => {
    const d = describeError(refused('verify'));
    expect(d.detail).toContain('您輸入的 PIN 碼可能是正確的');
  });
});
