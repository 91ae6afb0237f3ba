/**
 * The NHI page (nhi.html, <nhi-card-reader>) on the virtual reader holding the virtual NHI card:
 * the home page links it; the card is read without a PIN (name decoded from Big5, dates from ROC
 * dates); the data leaves the screen with the card; an HCA card in its place is "not an NHI
 * card"; axe-clean and screenshots in both languages.
 */
import { expect, it } from 'vitest';
import { browserSuite, expectAccessible, finishTab, waitForError } from './harness.js';
import { inBothLanguages, openPage, removeCard, setDemoState, waitForReader } from './flows.js';

browserSuite('browser: NHI card page', (app) => {
  it('the home page links the NHI page', async () => {
    const tab = await openPage(app, 'index.html');
    expect(await tab.byTestId('go-nhi').getAttribute('href')).toContain('nhi.html');
    expect(await tab.byTestId('nav-nhi').getAttribute('href')).toContain('nhi.html');
    await tab.close();
  });

  it('reads the virtual NHI card: no PIN, the holder shown, cleared when the card leaves', async () => {
    const tab = await openPage(app, 'nhi.html');
    await waitForReader(tab, 'card');
    expect(await tab.byTestId('demo-state-nhi').isChecked()).toBe(true);
    await tab.byTestId('read-nhi').click();
    await tab.byTestId('nhi-result').waitFor({ state: 'visible' });
    expect(await tab.byTestId('nhi-name').innerText()).toBe('王大明');
    expect(await tab.byTestId('nhi-card-number').innerText()).toBe('000012345678');
    expect(await tab.byTestId('nhi-id-number').innerText()).toBe('A123456789');
    expect(await tab.byTestId('nhi-birth-date').innerText()).toBe('1980-01-01');
    expect(await tab.byTestId('nhi-issue-date').innerText()).toBe('2020-06-15');
    expect(await tab.byTestId('nhi-sex').innerText()).toBe('男');
    await expect.poll(() => tab.byTestId('nhi-works').innerText()).toMatch(/讀卡機與這個驅動程式/);
    await inBothLanguages(tab, 'nhi-read', async (lang) => {
      expect(await tab.byTestId('nhi-sex').innerText()).toBe(lang === 'en' ? 'Male' : '男');
    });
    await removeCard(tab);
    await tab.byTestId('nhi-result').waitFor({ state: 'detached' });
    expect(await tab.page.locator('body').innerText()).not.toContain('A123456789');
    await finishTab(tab);
  });

  it('an HCA card in the reader: "this is not an NHI card" (nhi/not-nhi-card)', async () => {
    const tab = await openPage(app, 'nhi.html');
    await waitForReader(tab, 'card');
    await setDemoState(tab, 'normal');
    await waitForReader(tab, 'card');
    await tab.byTestId('read-nhi').click();
    const e = await waitForError(tab, 'nhi/not-nhi-card');
    expect(e.text).toMatch(/這不是健保卡/);
    expect(e.text).toContain('6A82');
    await expectAccessible(tab.page, 'nhi not-nhi', { screenshot: 'nhi-error-not-nhi.zh-TW' });
    await finishTab(tab);
  });
});
