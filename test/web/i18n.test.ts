/**
 * The pages' own words (`pageWords`, web/app/i18n.ts): Chinese at once, the English half loaded
 * when English is chosen and in before `applyLanguage` resolves (the page is then drawn in
 * English without a Chinese word in between); a module loaded later (the demo panel's words) is
 * made ready by `englishWordsReady`.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

beforeAll(() => {
  vi.stubGlobal('window', new EventTarget());
});

afterAll(() => {
  vi.unstubAllGlobals();
});

describe('web app words', () => {
  it('the shell and the page switch together: applyLanguage resolves with the English words in', async () => {
    const { applyLanguage, words } = await import('../../web/app/i18n.js');
    const { unlockWords } = await import('../../web/app/unlock-words.js');
    const { bindWords } = await import('../../web/app/bind-words.js');
    const zhTitle = unlockWords().title;
    expect(zhTitle).toMatch(/[\u3400-\u9fff]/);
    await applyLanguage('en');
    expect(unlockWords()).toEqual((await import('../../web/app/unlock-words-en.js')).en);
    expect(bindWords()).toEqual((await import('../../web/app/bind-words-en.js')).en);
    expect(words()).toEqual((await import('../../web/app/words-en.js')).en);
    await applyLanguage('zh-Hant');
    expect(unlockWords().title).toBe(zhTitle);
  });

  it('a words module loaded after English was chosen gets its English half from englishWordsReady', async () => {
    const { applyLanguage, englishWordsReady } = await import('../../web/app/i18n.js');
    await applyLanguage('en');
    const { demoWords } = await import('../../web/app/demo-words.js');
    await englishWordsReady();
    expect(demoWords()).toEqual((await import('../../web/app/demo-words-en.js')).en);
    await applyLanguage('zh-Hant');
    expect(demoWords().cardLock).toMatch(/[\u3400-\u9fff]/);
  });
});
