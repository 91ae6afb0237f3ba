/**
 * The home page (web/index.html): the three flows, the language switch
 * (中文 / English, remembered across pages), the link to the driver console,
 * kiosk mode hiding it. axe-clean in both languages.
 */
import { expect, it } from 'vitest';
import { browserSuite, expectAccessible, finishTab, waitForReady } from './harness.js';
import { openPage } from './flows.js';

browserSuite('browser: home page', (app) => {
  it('links the three flows and the driver console, in Traditional Chinese by default', async () => {
    const tab = await app.open('/index.html', { ready: true });
    const page = tab.page;
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-Hant');
    for (const [id, file] of [
      ['go-unlock', 'unlock.html'],
      ['go-change-pin', 'change-pin.html'],
      ['go-bind', 'bind.html'],
      ['go-driver', 'driver.html'],
    ] as const) {
      const link = tab.byTestId(id);
      await link.waitFor({ state: 'visible' });
      expect(await link.getAttribute('href')).toContain(file);
    }
    expect(await page.locator('h1').innerText()).toMatch(/醫事憑證/);
    expect(await tab.byTestId('lang-zh').getAttribute('aria-pressed')).toBe('true');
    await expectAccessible(page, 'home zh', { screenshot: 'home.zh-TW' });

    // The language switch: English now, and remembered on the next page.
    await tab.byTestId('lang-en').click();
    await expect.poll(() => page.locator('html').getAttribute('lang')).toBe('en');
    await expect.poll(() => page.locator('h1').innerText()).toMatch(/HCA card services/);
    expect(await tab.byTestId('lang-en').getAttribute('aria-pressed')).toBe('true');
    await expectAccessible(page, 'home en', { screenshot: 'home.en' });

    await tab.byTestId('go-unlock').click();
    await page.waitForURL(/unlock\.html/);
    await waitForReady(tab);
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await tab.byTestId('lang-zh').click();
    await expect.poll(() => page.locator('html').getAttribute('lang')).toBe('zh-Hant');
    await finishTab(tab);
  });

  it('hides the driver console in kiosk mode and keeps the flag on its links', async () => {
    const tab = await openPage(app, 'index.html', { kiosk: true });
    await tab.byTestId('go-unlock').waitFor({ state: 'visible' });
    expect(await tab.byTestId('go-driver').count()).toBe(0);
    expect(await tab.byTestId('nav-driver').count()).toBe(0);
    expect(await tab.byTestId('go-unlock').getAttribute('href')).toMatch(/kiosk=1/);
    await expectAccessible(tab.page, 'home kiosk');
    await finishTab(tab);
  });
});
