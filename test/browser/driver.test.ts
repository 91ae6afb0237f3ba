/**
 * The driver console (web/driver.html, formerly web/index.html): the virtual
 * reader opened and a card powered from URL parameters, an APDU sent, a
 * refusal explained, card removal seen; axe-clean in each state.
 */
import { expect, it } from 'vitest';
import { browserSuite, driverPagePath, expectAccessible, finishTab } from './harness.js';

browserSuite('browser: driver console', (app) => {
  it('opens the virtual reader, powers the HCA card and sends an APDU', async () => {
    const tab = await app.open(`${driverPagePath()}?autoconnect=1&apdu=00A4040008D158000001484341&trace=1`, { ready: true });
    const page = tab.page;
    await expect.poll(() => page.getByRole('heading', { name: 'Answer to reset (ATR)' }).isVisible()).toBe(true);
    await expect.poll(() => page.getByRole('heading', { name: 'Negotiated link' }).isVisible()).toBe(true);
    // The SELECT went out and came back with a status word (9000 on the HCA-like card).
    const sw = page.locator('#log li.apdu code.sw').first();
    await sw.waitFor({ state: 'visible' });
    expect((await sw.innerText()).replace(/\s/g, '')).toMatch(/^(90\s?00|61[0-9A-F]{2})$/i);
    // The class descriptor table and CCID frames (trace=1) are shown.
    await expect.poll(() => page.getByRole('heading', { name: 'CCID class descriptor' }).isVisible()).toBe(true);
    expect(await page.locator('#log li.frame').count()).toBeGreaterThan(0);
    await expectAccessible(page, 'driver: powered', { screenshot: 'driver-console' });
    await finishTab(tab);
  });

  it('explains Chrome’s protected-class refusal with its code and the deployment guide', async () => {
    const tab = await app.open(`${driverPagePath()}?refusal=protected-class&autoconnect=1`, { ready: true });
    const problem = tab.page.locator('.problem[role="alert"]');
    await problem.waitFor({ state: 'visible' });
    expect(await problem.innerText()).toContain('transport/protected-class');
    // The advisory itself (webccid/error-text), not the driver's compact message: the page does not register the English text.
    expect(await problem.innerText()).toContain('Run this page as an Isolated Web App');
    expect(await problem.locator('a[href*="docs/"]').count()).toBeGreaterThan(0);
    await expectAccessible(tab.page, 'driver: protected class');
    await finishTab(tab);
  });

  it('sees the card pulled out (log, slot state, button)', async () => {
    const tab = await app.open(`${driverPagePath()}?autoconnect=1`, { ready: true });
    const page = tab.page;
    await page.getByRole('heading', { name: 'Answer to reset (ATR)' }).waitFor({ state: 'visible' });
    await page.getByRole('button', { name: 'Remove card' }).click();
    await page.getByRole('button', { name: 'Insert card' }).waitFor({ state: 'visible' });
    await expect.poll(() => page.locator('#log').innerText()).toMatch(/Card removed from slot 0/);
    await expect.poll(() => page.locator('.slot-state').innerText()).toMatch(/empty/);
    await expectAccessible(page, 'driver: card removed');
    await finishTab(tab);
  });
});
