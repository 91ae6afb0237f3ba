import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { msg } from '@lit/localize';
import { getLocale, isLocale, matchLocale, setLocale } from './locale.js';

beforeAll(() => {
  // @lit/localize announces switches on `window` (a browser global).
  vi.stubGlobal('window', new EventTarget());
});

afterEach(async () => {
  await setLocale('zh-Hant');
});

describe('locale', () => {
  it('starts in zh-Hant with the source strings', () => {
    expect(getLocale()).toBe('zh-Hant');
    expect(msg('再試一次', { id: 'err.action.retry' })).toBe('再試一次');
  });

  it('switches to English and back', async () => {
    const events: string[] = [];
    (window as unknown as EventTarget).addEventListener('lit-localize-status', (e) => events.push((e as CustomEvent<{ status: string }>).detail.status));
    await setLocale('en');
    expect(getLocale()).toBe('en');
    expect(msg('再試一次', { id: 'err.action.retry' })).toBe('Try again');
    await setLocale('zh-Hant');
    expect(getLocale()).toBe('zh-Hant');
    expect(msg('再試一次', { id: 'err.action.retry' })).toBe('再試一次');
    expect(events).toEqual(['loading', 'ready', 'loading', 'ready']);
  });

  it('an id without an English template falls back to the source', async () => {
    await setLocale('en');
    expect(msg('沒有翻譯', { id: 'test.no-such-id' })).toBe('沒有翻譯');
  });

  it('refuses an unknown locale with components/bad-locale', async () => {
    await expect(setLocale('fr' as never)).rejects.toMatchObject({ code: 'components/bad-locale' });
    expect(getLocale()).toBe('zh-Hant');
  });

  it.each([
    [['zh-TW'], 'zh-Hant'],
    [['zh-Hant-TW', 'en'], 'zh-Hant'],
    [['en-US', 'zh-TW'], 'en'],
    [['fr', 'en-GB'], 'en'],
    [['fr'], 'zh-Hant'],
    ['en', 'en'],
    [[], 'zh-Hant'],
    [undefined, 'zh-Hant'],
    [['english'], 'zh-Hant'],
  ] as const)('matchLocale(%j) = %s', (tags, expected) => {
    expect(matchLocale(tags as string | string[] | undefined)).toBe(expected);
  });

  it('isLocale', () => {
    expect(isLocale('en')).toBe(true);
    expect(isLocale('zh-Hant')).toBe(true);
    expect(isLocale('zh-TW')).toBe(false);
    expect(isLocale(1)).toBe(false);
  });
});
