/**
 * Failures outside the card itself, each shown with its message and
 * data-code: no WebUSB (wrong browser, not HTTPS), a reader the browser or the
 * system will not let the page use (Chrome's protected class, held by the OS,
 * no permission: a refusing virtual reader swapped in through the page's test
 * hook), a reader that stops answering (time-out), and the unlock service's protections (wrong user codes counted down,
 * then the card number locked: this file has its own server and database
 * for that; the service's rate-limit answer and no service at all, through
 * request interception).
 */
import { expect, it } from 'vitest';
import {
  browserSuite,
  DEMO,
  expectAccessible,
  expectNoSecrets,
  finishTab,
  HTTP_ERROR_LINE,
  press,
  ROOT,
  typeInto,
  waitForError,
  type Tab,
} from './harness.js';
import { inBothLanguages, insertCard, openFlow, openPage, PUBLIC_TEXT, removeCard, waitForKeypad, waitForReader, waitForTries } from './flows.js';

/** Replaces the page's virtual reader by one that refuses the page the way `refusal` says. */
async function swapInRefusingReader(tab: Tab, refusal: 'protected-class' | 'os-held' | 'no-permission'): Promise<void> {
  const moduleUrl = `/@fs${ROOT.replace(/\/$/, '')}/src/virtual/index.ts`;
  const options = refusal === 'no-permission' ? { preset: 'castles-ezccid', accessDenied: true } : { preset: 'castles-ezccid', claimRefusal: refusal };
  // A string, so that the test runner does not rewrite the page's dynamic import.
  await tab.page.evaluate(`(async () => {
    const v = await import(${JSON.stringify(moduleUrl)});
    const env = window.webccidDemo.env;
    if (env.reader) env.usb.detach(env.reader);
    env.usb.attach(v.createVirtualReader(${JSON.stringify(options)}));
  })()`);
}

/**
 * The reader status, the steps and the PIN pad draw their icons as inline SVG: no emoji or
 * pictographic symbol, which shows as an empty box without a colour-emoji font.
 */
async function expectSvgIcons(tab: Tab): Promise<void> {
  const found = await tab.page.evaluate(() => {
    const out: { svg: number; pictographs: string[] } = { svg: 0, pictographs: [] };
    for (const tag of ['hca-reader-status', 'hca-steps', 'hca-pin-pad']) {
      for (const el of Array.from(document.querySelectorAll('*'))) {
        const roots = [el.shadowRoot].filter((r): r is ShadowRoot => r !== null);
        for (const r of roots) for (const inner of Array.from(r.querySelectorAll(tag))) {
          const root = inner.shadowRoot;
          if (!root) continue;
          out.svg += root.querySelectorAll('.icon svg, .num svg, svg').length;
          const text = root.textContent ?? '';
          const m = text.match(/[\p{Extended_Pictographic}\u2300-\u23FF\u2600-\u27BF]/gu);
          if (m) out.pictographs.push(`${tag}: ${m.join(' ')}`);
        }
      }
    }
    return out;
  });
  expect(found.pictographs).toEqual([]);
  expect(found.svg).toBeGreaterThan(0);
}

/** Submits step 1 of the unlock flow again and returns the error it ends with (a new one, not the previous). */
async function submitUserCode(tab: Tab, userCode: string): Promise<{ code: string | null; text: string }> {
  const previous = await tab.page.locator('[data-testid="error"][data-code]').elementHandles();
  await typeInto(tab, 'user-code', userCode);
  await press(tab, 'next');
  for (const h of previous) await h.waitForElementState('hidden').catch(() => undefined);
  return waitForError(tab);
}

browserSuite('browser: browser, reader and service failures', (app) => {
  it('no WebUSB in this browser: says which browsers have it (both languages)', async () => {
    const tab = await openPage(app, 'change-pin.html', { open: { initScripts: ['delete Navigator.prototype.usb;'] } });
    await tab.byTestId('use-real-reader').click();
    const err = await waitForError(tab);
    expect(err.code).toBe('transport/no-webusb');
    expect(err.text).toMatch(/Chrome|Edge/);
    await inBothLanguages(tab, 'error-no-webusb', async () => {
      await waitForError(tab, 'transport/no-webusb');
    });
    await finishTab(tab);
  });

  it('no WebUSB because the page is not served over HTTPS: says so', async () => {
    const tab = await openPage(app, 'change-pin.html', {
      open: { initScripts: ['delete Navigator.prototype.usb; Object.defineProperty(window, "isSecureContext", { get: () => false });'] },
    });
    await tab.byTestId('use-real-reader').click();
    const err = await waitForError(tab);
    expect(err.code).toMatch(/no-webusb|insecure/);
    expect(err.text).toMatch(/HTTPS/);
    await expectAccessible(tab.page, 'no webusb (http)');
    await finishTab(tab);
  });

  for (const refusal of ['protected-class', 'os-held', 'no-permission'] as const) {
    it(`a reader the page may not use (${refusal}): its own explanation`, async () => {
      const tab = await openFlow(app, 'change-pin', { state: 'normal' });
      await swapInRefusingReader(tab, refusal);
      const err = await waitForError(tab, `transport/${refusal}`);
      expect(err.text.length).toBeGreaterThan(30);
      await expectAccessible(tab.page, `reader refused: ${refusal}`, { screenshot: `error-${refusal}.zh-TW` });
      // The flow cannot go on with that reader.
      expect(await tab.byTestId('success').count()).toBe(0);
      await finishTab(tab);
    });
  }

  it('a reader that stops answering mid-operation: the time-out message, with the code for support', async () => {
    const tab = await openFlow(app, 'change-pin', { state: 'normal' });
    await typeInto(tab, 'old-pin', DEMO.pin);
    await typeInto(tab, 'new-pin', '318274');
    await typeInto(tab, 'new-pin-confirm', '318274');
    // Armed on the page's virtual reader (test hook): the next APDU gets no answer.
    await tab.page.evaluate(`window.webccidDemo.env.reader.injectFault({ kind: 'mute', command: 'XfrBlock' })`);
    await press(tab, 'submit');
    const err = await waitForError(tab, 'transport/timeout', 40_000);
    expect(err.text).toContain('transport/timeout');
    expect(await tab.byTestId('success').count()).toBe(0);
    await expectNoSecrets(tab.page, ['318274', DEMO.pin], PUBLIC_TEXT);
    await expectAccessible(tab.page, 'reader mute', { screenshot: 'error-reader-timeout.zh-TW' });
    await finishTab(tab);
  });

  it('a card taken out before 驗證: "no card in the reader" (not "removed during the operation"), gone once the card is back', async () => {
    const tab = await openFlow(app, 'bind', { state: 'normal', query: { mode: 'register' } });
    await removeCard(tab);
    await waitForReader(tab, 'no-card');
    await typeInto(tab, 'pin', DEMO.pin);
    await press(tab, 'verify');
    const err = await waitForError(tab, 'ccid/card-absent');
    expect(err.text).toContain('讀卡機中沒有卡片');
    expect(err.text).not.toContain('操作中');
    // The card orientation the status gives is the one the FAQ gives.
    const status = await tab.byTestId('reader-status').first().innerText();
    expect(status).toContain('晶片朝上');
    expect(await tab.page.locator('.faq').innerText()).toContain('晶片朝上');
    await expectSvgIcons(tab);
    await insertCard(tab);
    await waitForReader(tab, 'card');
    await expect.poll(() => tab.page.locator('[data-testid="error"][data-code="ccid/card-absent"]').count(), { timeout: 5_000 }).toBe(0);
    await expectSvgIcons(tab);
    await finishTab(tab);
  });

  it("a pinpad prompt nobody answers ends with the reader's own time-out, not \"the reader is not responding\"", async () => {
    const tab = await openFlow(app, 'bind', { state: 'pinpad', query: { mode: 'register' } });
    // bTimeOut of 6 s (the component's pinpad-timeout) instead of the default 30 s: longer than
    // the driver would allow the command without it (about 4.6 s for this card's T=1 exchange),
    // so a driver that did not wait for the reader's bTimeOut would give up first.
    await tab.page.locator('hca-bind-card').evaluate((el) => {
      (el as HTMLElement & { pinpadTimeoutSeconds?: number }).pinpadTimeoutSeconds = 6;
    });
    // The reader's log of ABORT class requests (CCID 1.1 §5.3.1): what a driver that gave up
    // waiting itself would send. A string, so that the test runner does not rewrite it.
    await tab.page.evaluate(`(() => {
      const reader = window.webccidDemo.env.reader;
      const control = reader.controlTransferOut.bind(reader);
      window.abortRequests = 0;
      reader.controlTransferOut = (setup, data) => {
        if (setup.requestType === 'class' && setup.request === 0x01) window.abortRequests++;
        return control(setup, data);
      };
    })()`);
    await press(tab, 'verify');
    await waitForKeypad(tab, 'current');
    // The end state: the flow's error. The budget (less than the reader's 30 s default) only
    // stops a hung run; what ended the command is read from the reader below.
    const err = await waitForError(tab, undefined, 15_000);
    expect(err.code).toBe('ccid/pin-timeout');
    expect(err.text).toContain('ccid/pin-timeout');
    // The reader prompted once, with the bTimeOut the component sent, and ended the command
    // itself: the driver never gave up and aborted it.
    const reader = (await tab.page.evaluate(`({
      prompts: window.webccidDemo.env.pinpad.prompts.map((p) => ({ step: p.step, timeoutSeconds: p.timeoutSeconds })),
      abortRequests: window.abortRequests,
    })`)) as { prompts: Array<{ step: string; timeoutSeconds: number }>; abortRequests: number };
    expect(reader).toEqual({ prompts: [{ step: 'current', timeoutSeconds: 6 }], abortRequests: 0 });
    expect(await tab.byTestId('reader-keypad-ok').isDisabled()).toBe(true);
    await finishTab(tab);
  });

  it('the unlock service: wrong user codes counted down, then the card number locked (even the right code refused)', async () => {
    const tab = await openFlow(app, 'unlock', { state: 'locked' });
    await typeInto(tab, 'card-number', DEMO.cardNumber);
    // 5 consecutive wrong user codes: attempts left 4, 3, 2, 1, then the card number is locked.
    for (let i = 0; i < 4; i++) {
      const err = await submitUserCode(tab, `Wrong${i}xx`);
      expect(err.code).toBe('unlock/wrong-user-code');
      expect(err.text).toContain(String(4 - i));
    }
    expect((await submitUserCode(tab, 'Wrong4xx')).code).toBe('unlock/card-locked');
    const locked = await submitUserCode(tab, DEMO.userCode);
    expect(locked.code).toBe('unlock/card-locked');
    expect(await tab.byTestId('new-pin').count()).toBe(0);
    await waitForTries(tab, { pin: 0, puk: 10 });
    await expectAccessible(tab.page, 'unlock card locked', { screenshot: 'unlock-error-service-locked.zh-TW' });
    // The demo panel's reset gives the shared demo card back: the right user code works again.
    await press(tab, 'demo-reset-card');
    expect(await tab.byTestId('demo-reset-done').innerText()).toContain('伺服器');
    await typeInto(tab, 'card-number', DEMO.cardNumber);
    await typeInto(tab, 'user-code', DEMO.userCode);
    await press(tab, 'next');
    await tab.byTestId('new-pin').waitFor({ state: 'visible' });
    await finishTab(tab, [HTTP_ERROR_LINE]);
  });

  it('the unlock service rate limiting, or out of reach: each its own message, the card untouched', async () => {
    const tab = await openFlow(app, 'unlock', { state: 'locked' });
    // The reference server's documented 429 answer (its card limit needs 10 attempts in 15 minutes).
    await tab.page.route('**/api/unlock/puk', (route) =>
      route.fulfill({
        status: 429,
        headers: { 'Retry-After': '600', 'Cache-Control': 'no-store' },
        contentType: 'application/json',
        body: JSON.stringify({ error: 'rate-limited', message: 'Too many attempts.', scope: 'card', retryAfterSeconds: 600 }),
      }),
    );
    await typeInto(tab, 'card-number', DEMO.cardNumber);
    const limited = await submitUserCode(tab, DEMO.userCode);
    expect(limited.code).toBe('unlock/rate-limited');
    expect(limited.text).toMatch(/10/); // minutes to wait
    await expectAccessible(tab.page, 'unlock rate limited');
    // The service cannot be reached at all.
    await tab.page.unroute('**/api/unlock/puk');
    await tab.page.route('**/api/unlock/puk', (route) => route.abort('connectionrefused'));
    const network = await submitUserCode(tab, DEMO.userCode);
    expect(network.code).toBe('unlock/network');
    expect(await tab.byTestId('new-pin').count()).toBe(0);
    await waitForTries(tab, { pin: 0, puk: 10 });
    await finishTab(tab, [HTTP_ERROR_LINE, /net::ERR_CONNECTION_REFUSED|Failed to load resource/]);
  });
});
