/**
 * A visit with a real reader (?reader=usb) does not download the demo stack: the virtual reader
 * and card, the test PKI and the certificate library behind it load only when the virtual reader
 * is used. Resources are read from the page's Resource Timing entries (every script and module
 * the page fetched, dynamic imports included).
 */
import { expect, it } from 'vitest';
import { browserSuite, WAIT } from './harness.js';

const DEMO_STACK = /demo-env|demo-panel|\/src\/virtual\/|x509/;
/** Other routes' code: the Web Smart Card session (no navigator.smartCard here), the kiosk keyboard, the English words. */
const OTHER_ROUTES = /\/src\/smartcard\/|smartcard-session|auto-session|hca-pin-pad|words-en|\/locales\/en/;

browserSuite('browser: real-reader visit', (app) => {
  it('unlock.html?reader=usb fetches no part of the demo stack until the virtual reader is chosen', async () => {
    const tab = await app.open('/unlock.html?reader=usb', { fresh: true, ready: true });
    const page = tab.page;
    const source = tab.byTestId('reader-source');
    await source.waitFor({ state: 'visible', timeout: WAIT });
    expect(await source.getAttribute('data-source')).toBe('usb');
    const fetched = async () => (await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name))) as string[];
    const before = await fetched();
    expect(before.some((u) => /\/src\/ccid\//.test(u))).toBe(true); // the driver did load
    expect(before.filter((u) => DEMO_STACK.test(u))).toEqual([]);
    expect(before.filter((u) => OTHER_ROUTES.test(u))).toEqual([]);

    await tab.byTestId('use-virtual-reader').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="reader-source"]')?.getAttribute('data-source') === 'virtual', null, {
      timeout: WAIT,
    });
    await page.waitForFunction(() => (window as unknown as { webccidDemo?: { env?: unknown } }).webccidDemo?.env !== undefined, null, { timeout: WAIT });
    expect((await fetched()).some((u) => /demo-env/.test(u))).toBe(true);
    await tab.close();
  });

  it('kiosk mode fetches the on-screen keyboard (and still no Web Smart Card code)', async () => {
    const tab = await app.open('/unlock.html?reader=usb&kiosk=1', { fresh: true });
    const page = tab.page;
    await page.locator('html[data-ready="1"]').waitFor({ state: 'attached', timeout: WAIT });
    await page.waitForFunction(() => customElements.get('hca-pin-pad') !== undefined, null, { timeout: WAIT });
    const urls = (await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name))) as string[];
    expect(urls.some((u) => /hca-pin-pad/.test(u))).toBe(true);
    expect(urls.filter((u) => /\/src\/smartcard\/|auto-session/.test(u))).toEqual([]);
    await tab.close();
  });
});
