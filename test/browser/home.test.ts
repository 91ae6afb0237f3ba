/**
 * The home page (web/index.html): the three flows, the language switch
 * (中文 / English, remembered across pages), the link to the driver console,
 * kiosk mode hiding it. axe-clean in both languages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectAccessible,
  FLOW_TIMEOUT,
  screenshot,
  SKIP,
  START_TIMEOUT,
  startApp,
  suiteTitle,
  unexpectedErrors,
  type App,
} from './harness.js';
import { openPage } from './flows.js';

describe.skipIf(SKIP)(suiteTitle('browser: home page'), { timeout: FLOW_TIMEOUT }, () => {
  let app: App;
  beforeAll(async () => {
    app = await startApp();
  }, START_TIMEOUT);
  afterAll(async () => {
    await app?.close();
  });

  it('links the three flows and the driver console, in Traditional Chinese by default', async () => {
    const tab = await app.open('/index.html');
    const page = tab.page;
    await page.locator('html[data-ready="1"]').waitFor({ state: 'attached' });
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
    await screenshot(page, 'home.zh-TW');
    await expectAccessible(page, 'home zh');

    // The language switch: English now, and remembered on the next page.
    await tab.byTestId('lang-en').click();
    await expect.poll(() => page.locator('html').getAttribute('lang')).toBe('en');
    await expect.poll(() => page.locator('h1').innerText()).toMatch(/HCA card services/);
    expect(await tab.byTestId('lang-en').getAttribute('aria-pressed')).toBe('true');
    await screenshot(page, 'home.en');
    await expectAccessible(page, 'home en');

    await tab.byTestId('go-unlock').click();
    await page.waitForURL(/unlock\.html/);
    await page.locator('html[data-ready="1"]').waitFor({ state: 'attached' });
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await tab.byTestId('lang-zh').click();
    await expect.poll(() => page.locator('html').getAttribute('lang')).toBe('zh-Hant');
    expect(unexpectedErrors(tab)).toEqual([]);
    await tab.close();
  });

  it('hides the driver console in kiosk mode and keeps the flag on its links', async () => {
    const tab = await openPage(app, 'index.html', { kiosk: true });
    await tab.byTestId('go-unlock').waitFor({ state: 'visible' });
    expect(await tab.byTestId('go-driver').count()).toBe(0);
    expect(await tab.byTestId('nav-driver').count()).toBe(0);
    expect(await tab.byTestId('go-unlock').getAttribute('href')).toMatch(/kiosk=1/);
    await expectAccessible(tab.page, 'home kiosk');
    expect(unexpectedErrors(tab)).toEqual([]);
    await tab.close();
  });
});
