/**
 * Kiosk mode (`?kiosk=1`): the on-screen PIN pad (keys >= 64 px, digits,
 * back, clear) drives the PIN fields of change PIN, unlock and bind; no driver
 * console link; the flow starts over when the card is removed and after the
 * idle time (`&idle=`); nothing typed survives a reset. axe-clean;
 * screenshots in both languages.
 */
import { expect, it } from 'vitest';
import type { Locator } from 'playwright-core';
import {
  browserSuite,
  DEMO,
  expectAccessible,
  expectNoSecrets,
  finishTab,
  HTTP_ERROR_LINE,
  press,
  scanDom,
  screenshot,
  typeInto,
  waitForSuccess,
  type Tab,
} from './harness.js';
import { insertCard, keyOnScreen, openFlow, PUBLIC_TEXT, removeCard, waitForReader, waitForTries } from './flows.js';

const NEW_PIN = '264810';
const KIOSK_VIEWPORT = { width: 1080, height: 1400 };

/** Focuses a PIN field (as a touch would) and keys `digits` on the on-screen pad. */
async function padInto(tab: Tab, testid: string, digits: string): Promise<void> {
  await tab.byTestId(testid).click();
  const pad = tab.page.locator('hca-pin-pad').locator('visible=true').first();
  await pad.locator('[data-testid="pin-key-0"]:enabled').waitFor({ state: 'visible' });
  await keyOnScreen(tab, digits, pad);
}

async function valueLength(tab: Tab, testid: string): Promise<number> {
  return tab.byTestId(testid).evaluate((el) => (el as HTMLInputElement).value.length);
}

/** Types a distinct text into every enabled, visible text field of the page (shadow roots included); returns what it typed. */
async function typeIntoEveryField(tab: Tab, tag: string): Promise<string[]> {
  const ids = await tab.page.evaluate(() => {
    const out: string[] = [];
    const walk = (root: Document | ShadowRoot): void => {
      for (const el of Array.from(root.querySelectorAll('*'))) {
        if (el instanceof HTMLInputElement && ['text', 'email', 'password'].includes(el.type) && !el.disabled && el.offsetParent !== null) {
          const id = el.getAttribute('data-testid');
          if (id) out.push(id);
        }
        if (el.shadowRoot) walk(el.shadowRoot);
      }
    };
    walk(document);
    return out;
  });
  const typed: string[] = [];
  for (const id of ids) {
    const field = tab.byTestId(id).first();
    const max = Number((await field.getAttribute('maxlength')) ?? '64');
    const text = id === 'email' ? `${tag}@example.org` : /pin|card-number/.test(id) ? '97531'.slice(0, Math.min(5, max)) + tag.length : `${tag}-${id}`.slice(0, max);
    await field.fill(text);
    typed.push(text);
  }
  return typed;
}

/** Nothing typed is left: no field value, nothing in the DOM (shadow roots too), web storage, the URL or history state. */
async function expectForgotten(tab: Tab, typed: string[], firstUrl: string): Promise<void> {
  const scan = await scanDom(tab.page);
  const leftovers = scan.fields.filter((f) => ['text', 'email', 'password'].includes(f.type) && f.value !== '');
  expect(leftovers, 'fields still holding text').toEqual([]);
  for (const t of typed) {
    expect(scan.html.includes(t), `"${t}" in the DOM`).toBe(false);
    expect(scan.other.includes(t), `"${t}" in the URL, title or web storage`).toBe(false);
  }
  expect(await tab.page.evaluate(() => history.state)).toBeNull();
  expect(tab.page.url()).toBe(firstUrl);
  expect(await tab.page.locator('[data-testid="error"], [data-testid="register-problem"], [data-testid="success"]').count()).toBe(0);
}

const SCREEN = { width: 1280, height: 800 };

/**
 * The step on screen fits a 1280 x 800 kiosk screen: the flow (main) ends above the bottom edge
 * and nothing is wider than the screen (the demo panel, a demo only, may follow below).
 */
async function expectFitsScreen(tab: Tab, label: string): Promise<void> {
  const box = await tab.page.evaluate(() => {
    window.scrollTo(0, 0);
    const main = document.querySelector('main')!.getBoundingClientRect();
    return { bottom: Math.ceil(main.bottom), width: document.documentElement.scrollWidth };
  });
  expect(box.bottom, `${label}: the flow ends at ${box.bottom} px`).toBeLessThanOrEqual(SCREEN.height);
  expect(box.width, `${label}: page width`).toBeLessThanOrEqual(SCREEN.width);
}

/** No way out of the flow but its own buttons: no link (but the skip link), no language or reader switch. */
async function expectNoWayOut(tab: Tab): Promise<void> {
  const links = await tab.page.evaluate(() => {
    const out: string[] = [];
    const walk = (root: Document | ShadowRoot): void => {
      for (const el of Array.from(root.querySelectorAll('a[href]'))) {
        const href = el.getAttribute('href') ?? '';
        if (!href.startsWith('#')) out.push(href);
      }
      for (const el of Array.from(root.querySelectorAll('*'))) if (el.shadowRoot) walk(el.shadowRoot);
    };
    walk(document);
    return out;
  });
  expect(links).toEqual([]);
  for (const id of ['lang-en', 'lang-zh', 'use-real-reader', 'nav-home', 'nav-driver']) expect(await tab.byTestId(id).count(), id).toBe(0);
}

/** Types `text` on the on-screen keyboard (letters: shift as needed). */
async function keyTextOnScreen(pad: Locator, text: string): Promise<void> {
  for (const c of text) {
    const upper = /[A-Z]/.test(c);
    const shift = pad.locator('[data-testid="pin-key-shift"]');
    if (/[A-Za-z]/.test(c) && ((await shift.getAttribute('aria-pressed')) === 'true') !== upper) await shift.click();
    await pad.locator(`[data-testid="pin-key-${c}"]`).click();
  }
}

browserSuite('browser: kiosk mode', (app) => {
  it('change PIN with the on-screen pad (large keys, back, clear) -> success (both languages)', async () => {
    const tab = await openFlow(app, 'change-pin', { state: 'normal', kiosk: true, open: { viewport: KIOSK_VIEWPORT } });
    const page = tab.page;
    await tab.byTestId('kiosk-badge').waitFor({ state: 'visible' });
    expect(await tab.byTestId('nav-driver').count()).toBe(0);
    await tab.byTestId('old-pin').click();
    const pad = page.locator('hca-pin-pad').locator('visible=true').first();
    // Every key is a large touch target.
    for (const key of ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'back', 'clear']) {
      const box = await pad.locator(`[data-testid="pin-key-${key}"]`).boundingBox();
      expect(box, `pin-key-${key}`).not.toBeNull();
      expect(Math.min(box!.width, box!.height), `pin-key-${key} size`).toBeGreaterThanOrEqual(64);
    }
    // Digits, back and clear act on the focused field.
    await keyOnScreen(tab, '99', pad);
    expect(await valueLength(tab, 'old-pin')).toBe(2);
    await pad.locator('[data-testid="pin-key-clear"]').click();
    expect(await valueLength(tab, 'old-pin')).toBe(0);
    await keyOnScreen(tab, '1234567', pad);
    await pad.locator('[data-testid="pin-key-back"]').click();
    expect(await valueLength(tab, 'old-pin')).toBe(6);
    await padInto(tab, 'new-pin', NEW_PIN);
    await padInto(tab, 'new-pin-confirm', NEW_PIN);
    await expectAccessible(page, 'kiosk change-pin', { screenshot: 'kiosk-change-pin.zh-TW' });
    await press(tab, 'submit');
    await waitForSuccess(tab);
    await waitForTries(tab, { pin: 3 });
    await expectNoSecrets(page, [NEW_PIN, DEMO.pin], PUBLIC_TEXT);
    await expectAccessible(page, 'kiosk change-pin success', { screenshot: 'kiosk-change-pin-success.zh-TW' });
    await finishTab(tab);
    // A kiosk has no language switch: its language is set in its URL (?lang=en).
    const en = await openFlow(app, 'change-pin', { state: 'normal', kiosk: true, lang: 'en', open: { viewport: KIOSK_VIEWPORT } });
    expect(await en.byTestId('kiosk-badge').innerText()).toBe('Kiosk mode');
    expect(await en.byTestId('lang-zh').count()).toBe(0);
    await padInto(en, 'old-pin', DEMO.pin);
    await padInto(en, 'new-pin', NEW_PIN);
    await padInto(en, 'new-pin-confirm', NEW_PIN);
    await press(en, 'submit');
    await waitForSuccess(en);
    await expectAccessible(en.page, 'kiosk change-pin success (en)', { screenshot: 'kiosk-change-pin-success.en' });
    await finishTab(en);
  });

  it('starts over after the idle time, and when the card is removed, keeping nothing typed', async () => {
    const tab = await openFlow(app, 'change-pin', { state: 'normal', kiosk: true, idle: 2 });
    // Idle: a half-typed PIN is wiped after 2 s without a touch.
    await padInto(tab, 'old-pin', '1234');
    expect(await valueLength(tab, 'old-pin')).toBe(4);
    await expect.poll(() => valueLength(tab, 'old-pin'), { timeout: 8_000, interval: 200 }).toBe(0);
    // After a success, the idle reset brings back the first step.
    await padInto(tab, 'old-pin', DEMO.pin);
    await padInto(tab, 'new-pin', NEW_PIN);
    await padInto(tab, 'new-pin-confirm', NEW_PIN);
    await press(tab, 'submit');
    await waitForSuccess(tab);
    await tab.byTestId('old-pin').waitFor({ state: 'visible', timeout: 8_000 });
    expect(await tab.byTestId('success').count()).toBe(0);
    // Card removal: the typed PIN is wiped at once.
    await padInto(tab, 'old-pin', NEW_PIN);
    await removeCard(tab);
    await waitForReader(tab, 'no-card');
    await expect.poll(() => valueLength(tab, 'old-pin'), { timeout: 5_000, interval: 100 }).toBe(0);
    await expectNoSecrets(tab.page, [NEW_PIN, DEMO.pin], PUBLIC_TEXT);
    await insertCard(tab);
    await waitForReader(tab, 'card');
    await finishTab(tab);
  });

  it('bind page: the idle reset and a card removal return the whole page to its first state (fields, messages, tab, URL)', async () => {
    const tab = await openFlow(app, 'bind', { state: 'normal', kiosk: true, idle: 3, query: { mode: 'register' } });
    const firstUrl = tab.page.url();
    // Everything one visitor can leave behind: every field, a message, another tab (URL and history state).
    const typed = await typeIntoEveryField(tab, 'visitor-one');
    expect(typed.length).toBeGreaterThanOrEqual(3); // account, email, PIN
    await press(tab, 'register-submit');
    await tab.byTestId('register-problem').waitFor({ state: 'visible' });
    await press(tab, 'mode-rebind');
    typed.push(...(await typeIntoEveryField(tab, 'visitor-one-rebind')));
    expect(tab.page.url()).not.toBe(firstUrl);
    // Idle: 3 s without a touch.
    await tab.byTestId('account').waitFor({ state: 'visible', timeout: 10_000 });
    await expectForgotten(tab, typed, firstUrl);

    // The card taken out: the same, at once.
    const again = await typeIntoEveryField(tab, 'visitor-two');
    await press(tab, 'register-submit');
    await tab.byTestId('register-problem').waitFor({ state: 'visible' });
    await removeCard(tab);
    await waitForReader(tab, 'no-card');
    await expect.poll(() => tab.byTestId('account').inputValue(), { timeout: 2_000 }).toBe('');
    await expectForgotten(tab, again, firstUrl);
    await insertCard(tab);
    await waitForReader(tab, 'card');
    // The rebind tab asks the server for the signed-in account's binding: 404 when there is none.
    await finishTab(tab, [HTTP_ERROR_LINE]);
  });

  it('1280 x 800: every step fits the screen, every field can be typed on the screen, no way out', async () => {
    // Unlock: card number on the numeric pad, the user code (case-sensitive letters) on the keyboard.
    const unlock = await openFlow(app, 'unlock', { state: 'locked', kiosk: true, open: { viewport: SCREEN } });
    await expectNoWayOut(unlock);
    await padInto(unlock, 'card-number', DEMO.cardNumber);
    await expectFitsScreen(unlock, 'unlock step 1 (numeric pad)');
    await unlock.byTestId('user-code').click();
    const keyboard = unlock.page.locator('hca-pin-pad').locator('visible=true').first();
    await keyboard.locator('[data-testid="pin-key-shift"]').waitFor({ state: 'visible' });
    await keyTextOnScreen(keyboard, DEMO.userCode);
    expect(await unlock.byTestId('user-code').inputValue()).toBe(DEMO.userCode);
    await expectFitsScreen(unlock, 'unlock step 1 (keyboard)');
    await screenshot(unlock.page, 'kiosk-1280-unlock-1.zh-TW');
    await press(unlock, 'next');
    await unlock.byTestId('new-pin').waitFor({ state: 'visible' });
    await padInto(unlock, 'new-pin', NEW_PIN);
    await padInto(unlock, 'new-pin-confirm', NEW_PIN);
    await expectFitsScreen(unlock, 'unlock step 2');
    await screenshot(unlock.page, 'kiosk-1280-unlock-2.zh-TW');
    await press(unlock, 'submit');
    await waitForSuccess(unlock);
    await expectFitsScreen(unlock, 'unlock done');
    await expectAccessible(unlock.page, 'kiosk 1280 unlock done');
    await unlock.close();

    // Change PIN.
    const change = await openFlow(app, 'change-pin', { state: 'normal', kiosk: true, open: { viewport: SCREEN } });
    await expectNoWayOut(change);
    await padInto(change, 'old-pin', DEMO.pin);
    await expectFitsScreen(change, 'change PIN');
    await screenshot(change.page, 'kiosk-1280-change-pin.zh-TW');
    await change.close();

    // Bind: account, password and e-mail on the page's keyboard, the PIN on the component's pad.
    const bind = await openFlow(app, 'bind', { state: 'normal', kiosk: true, query: { mode: 'register' }, open: { viewport: SCREEN } });
    await expectNoWayOut(bind);
    await bind.byTestId('account').click();
    const keys = bind.byTestId('page-keys');
    await keys.waitFor({ state: 'visible' });
    await keyTextOnScreen(keys, 'kiosk-A1');
    await bind.byTestId('password').click();
    await keyTextOnScreen(keys, 'Kiosk-pass-1');
    await bind.byTestId('email').click();
    await keyTextOnScreen(keys, 'a.b@example.org');
    expect(await bind.byTestId('account').inputValue()).toBe('kiosk-A1');
    expect(await bind.byTestId('password').inputValue()).toBe('Kiosk-pass-1');
    expect(await bind.byTestId('email').inputValue()).toBe('a.b@example.org');
    await expectFitsScreen(bind, 'bind (keyboard up)');
    await screenshot(bind.page, 'kiosk-1280-bind-keyboard.zh-TW');
    await padInto(bind, 'pin', DEMO.pin);
    expect(await bind.byTestId('page-keys').count()).toBe(0);
    await expectFitsScreen(bind, 'bind');
    await screenshot(bind.page, 'kiosk-1280-bind.zh-TW');
    await press(bind, 'verify');
    await waitForSuccess(bind, 30_000);
    await expectFitsScreen(bind, 'bind verified');
    await press(bind, 'register-submit');
    await bind.byTestId('registered').waitFor({ state: 'visible' });
    await expectFitsScreen(bind, 'bind registered');
    await expectAccessible(bind.page, 'kiosk 1280 bind registered');
    await finishTab(bind);
  });

  it('unlock in kiosk mode: card number and new PIN on the pad -> success', async () => {
    const tab = await openFlow(app, 'unlock', { state: 'locked', kiosk: true, open: { viewport: KIOSK_VIEWPORT } });
    await padInto(tab, 'card-number', DEMO.cardNumber);
    await typeInto(tab, 'user-code', DEMO.userCode);
    await press(tab, 'next');
    await tab.byTestId('new-pin').waitFor({ state: 'visible' });
    await padInto(tab, 'new-pin', NEW_PIN);
    await padInto(tab, 'new-pin-confirm', NEW_PIN);
    await expectAccessible(tab.page, 'kiosk unlock new pin', { screenshot: 'kiosk-unlock.zh-TW' });
    await press(tab, 'submit');
    expect(await waitForSuccess(tab)).toContain('變更PIN碼(解鎖卡)成功!');
    await waitForTries(tab, { pin: 3 });
    await expectNoSecrets(tab.page, [NEW_PIN, DEMO.puk], PUBLIC_TEXT);
    await finishTab(tab);
  });

  it('bind in kiosk mode: PIN on the pad -> verified', async () => {
    const tab = await openFlow(app, 'bind', { state: 'normal', kiosk: true, query: { mode: 'register' }, open: { viewport: KIOSK_VIEWPORT } });
    await typeInto(tab, 'account', 'kiosk-user');
    await tab.byTestId('card-type-personnel').check();
    await padInto(tab, 'pin', DEMO.pin);
    expect(await valueLength(tab, 'pin')).toBe(6);
    await expectAccessible(tab.page, 'kiosk bind', { screenshot: 'kiosk-bind.zh-TW' });
    await press(tab, 'verify');
    await waitForSuccess(tab, 30_000);
    await expectNoSecrets(tab.page, [DEMO.pin], PUBLIC_TEXT);
    await finishTab(tab);
  });
});
