/**
 * The change-PIN flow (change-pin.html, <hca-change-pin>) on the virtual
 * reader without a pinpad: success (and the new PIN really is the PIN: changed
 * back with it), a wrong old PIN (tries left, one try spent, never retried),
 * the new PINs not matching, a locked card leading to the unlock page and
 * unlocked there, not an HCA card, the card removed while the card works,
 * the reader unplugged and plugged back. No PIN left in the page; axe-clean;
 * screenshots in both languages.
 */
import { expect, it } from 'vitest';
import {
  browserSuite,
  DEMO,
  expectAccessible,
  expectNoSecrets,
  finishTab,
  press,
  typeInto,
  waitForError,
  waitForReady,
  waitForSuccess,
  type Tab,
} from './harness.js';
import {
  announcement,
  inBothLanguages,
  openFlow,
  pinFieldAttributes,
  plugReader,
  PUBLIC_TEXT,
  removeCard,
  unlockAction,
  unplugReader,
  waitForReader,
  waitForTries,
  pinCommandsOnceSettled,
  recordCardCommands,
} from './flows.js';

const NEW_PIN = '592046';

async function changePin(tab: Tab, oldPin: string, newPin: string, confirm = newPin): Promise<void> {
  await typeInto(tab, 'old-pin', oldPin);
  await typeInto(tab, 'new-pin', newPin);
  await typeInto(tab, 'new-pin-confirm', confirm);
  await press(tab, 'submit');
}

browserSuite('browser: change-PIN flow', (app) => {
  it('changes the PIN: old PIN, new PIN twice -> success; the new PIN is the card’s PIN (both languages)', async () => {
    const tab = await openFlow(app, 'change-pin', { state: 'normal' });
    const page = tab.page;
    await inBothLanguages(tab, 'change-pin-1-enter');
    await changePin(tab, DEMO.pin, NEW_PIN);
    expect(await waitForSuccess(tab)).toContain('變更PIN碼成功!');
    await waitForTries(tab, { pin: 3 });
    await expectNoSecrets(page, [NEW_PIN, DEMO.pin], PUBLIC_TEXT);
    await inBothLanguages(tab, 'change-pin-2-success', async (lang) => {
      expect(await waitForSuccess(tab)).toContain(lang === 'zh' ? '變更PIN碼成功!' : 'PIN changed!');
    });
    // The new PIN is the card's PIN now: the old one is refused, the new one changes it back.
    await press(tab, 'restart');
    await changePin(tab, DEMO.pin, '606060');
    await waitForError(tab, 'apdu/pin-incorrect');
    await waitForTries(tab, { pin: 2 });
    await changePin(tab, NEW_PIN, DEMO.pin);
    await waitForSuccess(tab);
    await waitForTries(tab, { pin: 3 });
    await expectNoSecrets(page, [NEW_PIN, DEMO.pin, '606060'], PUBLIC_TEXT);
    await finishTab(tab);
  });

  it('keyboard only, PIN fields as the contract says, steps announced politely', async () => {
    const tab = await openFlow(app, 'change-pin', { state: 'normal' });
    // The current PIN may have letters (HCA: 6 to 8 letters and digits): the text keyboard; a new PIN: digits suggested.
    expect(await pinFieldAttributes(tab, 'old-pin')).toEqual({ type: 'password', inputmode: 'text', autocomplete: 'off' });
    for (const id of ['new-pin', 'new-pin-confirm']) {
      expect(await pinFieldAttributes(tab, id), id).toEqual({ type: 'password', inputmode: 'numeric', autocomplete: 'off' });
    }
    // Tab order: old PIN -> new PIN -> confirmation; Enter submits.
    await tab.byTestId('old-pin').focus();
    await tab.page.keyboard.type(DEMO.pin);
    await tab.page.keyboard.press('Tab');
    await tab.page.keyboard.type(NEW_PIN);
    await tab.page.keyboard.press('Tab');
    await tab.page.keyboard.type(NEW_PIN);
    expect(await tab.byTestId('new-pin-confirm').evaluate((el) => el === (el.getRootNode() as ShadowRoot).activeElement)).toBe(true);
    await tab.page.keyboard.press('Enter');
    await waitForSuccess(tab);
    await expect.poll(() => announcement(tab)).toMatch(/PIN/);
    // The success message takes the focus (announced by screen readers).
    expect(await tab.byTestId('success').evaluate((el) => el === (el.getRootNode() as ShadowRoot).activeElement)).toBe(true);
    // Errors go to an assertive region.
    await press(tab, 'restart');
    await changePin(tab, '000000', NEW_PIN);
    await waitForError(tab, 'apdu/pin-incorrect');
    const live = await tab.page
      .locator('[data-testid="error"]')
      .first()
      .evaluate((el) => el.getAttribute('role') === 'alert' || el.closest('[aria-live="assertive"]') !== null);
    expect(live).toBe(true);
    await expectNoSecrets(tab.page, [NEW_PIN, DEMO.pin, '000000'], PUBLIC_TEXT);
    await finishTab(tab);
  });

  it('a wrong old PIN: the tries left, one try spent, the fields emptied', async () => {
    // The demo gives the components the virtual card's profile, its PIN format confirmed: a wrong PIN is a wrong PIN.
    const tab = await openFlow(app, 'change-pin', { state: 'normal' });
    await recordCardCommands(tab);
    await changePin(tab, '000000', NEW_PIN);
    const err = await waitForError(tab, 'apdu/pin-incorrect');
    expect(err.text).toContain('還可以再試 2 次');
    await waitForTries(tab, { pin: 2 });
    // Once the flow is over (its message shown, the card let go), the card got that one command: no retry.
    expect(await pinCommandsOnceSettled(tab)).toEqual(['CHANGE REFERENCE DATA']);
    await expectNoSecrets(tab.page, ['000000', NEW_PIN], PUBLIC_TEXT);
    await expectAccessible(tab.page, 'change-pin wrong pin', { screenshot: 'change-pin-error-wrong-pin.zh-TW' });
    // The last try is announced as such.
    await changePin(tab, '000000', NEW_PIN);
    const last = await waitForError(tab, 'apdu/pin-incorrect');
    expect(last.text).toMatch(/1/);
    await waitForTries(tab, { pin: 1 });
    await finishTab(tab);
  });

  it('a refused old PIN while the card\'s PIN format is unconfirmed (?profile=assumed): the tries left, "stop and send a report", no second try', async () => {
    // ?profile=assumed: the page treats the virtual card as a real card whose PIN format is assumed
    // (docs/hca-profile.md, "Never spend a try on a guess"): the first refusal may be a wrong format, so the page stops.
    const tab = await openFlow(app, 'change-pin', { state: 'normal', query: { profile: 'assumed' } });
    await recordCardCommands(tab);
    await changePin(tab, '000000', NEW_PIN);
    const err = await waitForError(tab, 'hca/profile-unconfirmed');
    expect(err.text).toMatch(/2/);
    await waitForTries(tab, { pin: 2 });
    // No PIN entry is offered any more; the field report is.
    expect(await tab.byTestId('old-pin').count()).toBe(0);
    expect(await tab.byTestId('submit').count()).toBe(0);
    expect(await tab.page.locator('[data-testid="error-action"][data-action="field-report"]').count()).toBe(1);
    // Once the flow is over (its message shown, the card let go), the card got that one command: no retry.
    expect(await pinCommandsOnceSettled(tab)).toEqual(['CHANGE REFERENCE DATA']);
    await expectNoSecrets(tab.page, ['000000', NEW_PIN], PUBLIC_TEXT);
    await expectAccessible(tab.page, 'change-pin refused pin, format unconfirmed', { screenshot: 'change-pin-error-profile-unconfirmed.zh-TW' });
    await finishTab(tab);
  });

  it('new PIN and confirmation differ, or the new PIN has a symbol: said at once, the card untouched', async () => {
    const tab = await openFlow(app, 'change-pin', { state: 'normal' });
    await changePin(tab, DEMO.pin, NEW_PIN, '592047');
    await waitForError(tab, 'input/pin-mismatch');
    await changePin(tab, DEMO.pin, '12-456');
    const err = await waitForError(tab, 'input/pin-bad-character');
    expect(err.text).toContain('英文字母或數字');
    await waitForTries(tab, { pin: 3 });
    await expectNoSecrets(tab.page, [NEW_PIN, '592047'], PUBLIC_TEXT);
    await expectAccessible(tab.page, 'change-pin mismatch');
    await finishTab(tab);
  });

  it('a PIN with letters (HCA cards take 6 to 8 letters and digits): set on the screen, then it is the card’s PIN', async () => {
    const LETTERS = 'Ab12cD';
    const tab = await openFlow(app, 'change-pin', { state: 'normal' });
    await changePin(tab, DEMO.pin, LETTERS);
    await waitForSuccess(tab);
    await press(tab, 'restart');
    // Case-sensitive: the lower-case spelling is a wrong PIN; the PIN as set works.
    await changePin(tab, LETTERS.toLowerCase(), NEW_PIN);
    await waitForError(tab, 'apdu/pin-incorrect');
    await changePin(tab, LETTERS, NEW_PIN);
    await waitForSuccess(tab);
    await waitForTries(tab, { pin: 3 });
    await expectNoSecrets(tab.page, [LETTERS, NEW_PIN], PUBLIC_TEXT);
    await finishTab(tab);
  });

  it('a locked card leads to the unlock page, where it is unlocked', async () => {
    const tab = await openFlow(app, 'change-pin', { state: 'locked' });
    const page = tab.page;
    const go = unlockAction(tab);
    // The flow may know before any PIN is typed (PIN status read on connect), or after a try.
    const oldPin = tab.byTestId('old-pin');
    await Promise.race([go.waitFor({ state: 'visible' }), oldPin.waitFor({ state: 'visible' })]);
    if (!(await go.isVisible())) await changePin(tab, DEMO.pin, NEW_PIN);
    const err = await waitForError(tab, 'apdu/pin-blocked');
    expect(err.text.length).toBeGreaterThan(10);
    await expectAccessible(page, 'change-pin blocked', { screenshot: 'change-pin-error-blocked.zh-TW' });
    await go.click();
    await page.waitForURL(/unlock\.html/);
    await waitForReady(tab);
    await waitForReader(tab, 'card');
    // The same (still locked) card is in the reader on the unlock page.
    await waitForTries(tab, { pin: 0 });
    await typeInto(tab, 'card-number', DEMO.cardNumber);
    await typeInto(tab, 'user-code', DEMO.userCode);
    await press(tab, 'next');
    await typeInto(tab, 'new-pin', NEW_PIN);
    await typeInto(tab, 'new-pin-confirm', NEW_PIN);
    await press(tab, 'submit');
    expect(await waitForSuccess(tab)).toContain('變更PIN碼(解鎖卡)成功!');
    await waitForTries(tab, { pin: 3 });
    await expectNoSecrets(page, [NEW_PIN, DEMO.puk], PUBLIC_TEXT);
    await finishTab(tab);
  });

  it('not an HCA card: says so', async () => {
    const tab = await openFlow(app, 'change-pin', { state: 'not-hca' });
    const oldPin = tab.byTestId('old-pin');
    const notHca = tab.page.locator('[data-testid="error"][data-code="hca/not-hca-card"]').first();
    await Promise.race([oldPin.waitFor({ state: 'visible' }), notHca.waitFor({ state: 'visible' })]);
    if (!(await notHca.isVisible())) await changePin(tab, DEMO.pin, NEW_PIN);
    const err = await waitForError(tab, 'hca/not-hca-card');
    expect(err.text.length).toBeGreaterThan(10);
    await expectNoSecrets(tab.page, [NEW_PIN], PUBLIC_TEXT);
    await expectAccessible(tab.page, 'change-pin not hca', { screenshot: 'change-pin-error-not-hca.zh-TW' });
    await finishTab(tab);
  });

  it('the card pulled out while the (slow) card works: the flow starts over with the message, nothing kept', async () => {
    const tab = await openFlow(app, 'change-pin', { state: 'slow' });
    await changePin(tab, DEMO.pin, NEW_PIN);
    // The slow card takes a few hundred ms per command: pull it out while the flow holds the card.
    await waitForReader(tab, 'busy');
    await removeCard(tab);
    await waitForReader(tab, 'no-card');
    const err = await waitForError(tab);
    expect(err.code).toMatch(/card-absent|card-removed|disconnected|not-connected/);
    await tab.byTestId('old-pin').waitFor({ state: 'visible' });
    expect(await tab.byTestId('success').count()).toBe(0);
    await expectNoSecrets(tab.page, [NEW_PIN, DEMO.pin], PUBLIC_TEXT);
    await expectAccessible(tab.page, 'change-pin card removed', { screenshot: 'change-pin-card-removed.zh-TW' });
    await finishTab(tab);
  });

  it('the reader unplugged and plugged back in: said, then the flow works again without a reload', async () => {
    const tab = await openFlow(app, 'change-pin', { state: 'normal' });
    await typeInto(tab, 'old-pin', DEMO.pin);
    await unplugReader(tab);
    await waitForReader(tab, 'no-reader');
    await expectNoSecrets(tab.page, [DEMO.pin], PUBLIC_TEXT);
    await expectAccessible(tab.page, 'change-pin reader unplugged', { screenshot: 'change-pin-reader-unplugged.zh-TW' });
    await waitForError(tab, 'transport/disconnected');
    await plugReader(tab);
    await waitForReader(tab, 'card');
    await changePin(tab, DEMO.pin, NEW_PIN);
    await waitForSuccess(tab);
    await waitForTries(tab, { pin: 3 });
    await finishTab(tab);
  });
});
