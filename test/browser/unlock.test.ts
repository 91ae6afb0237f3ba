/**
 * The unlock flow (unlock.html, <hca-unlock-card>) on the virtual reader
 * without a pinpad, through the reference server's PUK endpoint: a locked card
 * unlocked with card number + user code and a new PIN typed twice (the PUK is
 * sent by the component, never shown); the failures: card number format,
 * wrong user code, PUK blocked, the server's PUK wrong for this card; the card
 * removed mid-flow. No PIN or PUK left in the page afterwards; axe-clean in
 * each main state; screenshots in both languages.
 *
 * The reference server allows 10 PUK requests per card number per 15 minutes:
 * this file makes 7 (its own server and database).
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
  typeInto,
  waitForError,
  waitForReady,
  waitForSuccess,
  type Tab,
} from './harness.js';
import {
  inBothLanguages,
  insertCard,
  openFlow,
  pinCommandsOnceSettled,
  pinFieldAttributes,
  PUBLIC_TEXT,
  recordCardCommands,
  removeCard,
  waitForReader,
  waitForTries,
} from './flows.js';

const NEW_PIN = '480913';

async function identify(tab: Tab, userCode: string = DEMO.userCode, cardNumber: string = DEMO.cardNumber): Promise<void> {
  await typeInto(tab, 'card-number', cardNumber);
  await typeInto(tab, 'user-code', userCode);
  await press(tab, 'next');
}

async function typeNewPin(tab: Tab, pin: string, confirm = pin): Promise<void> {
  await typeInto(tab, 'new-pin', pin);
  await typeInto(tab, 'new-pin-confirm', confirm);
  await press(tab, 'submit');
}

browserSuite('browser: unlock flow (no pinpad)', (app) => {
  it('the card is one card from page to page: the new PIN works on the bind page, the old one does not; the panel says so', async () => {
    const PIN = '246810';
    const tab = await openFlow(app, 'unlock', { state: 'locked' });
    expect(await tab.byTestId('demo-card-lock').getAttribute('data-lock')).toBe('pin-blocked');
    await identify(tab);
    await typeNewPin(tab, PIN);
    await waitForSuccess(tab);
    await waitForTries(tab, { pin: 3, puk: 10 });
    // The panel shows the card as it is now: usable, with the PIN the user set (never shown).
    expect(await tab.byTestId('demo-card-lock').getAttribute('data-lock')).toBe('usable');
    const data = await tab.byTestId('demo-data').innerText();
    expect(data).not.toMatch(/PIN 碼 123456/);
    expect(data).toContain('您設定的新 PIN 碼');
    // Follow the link to 憑證 IC 卡綁定 (no ?state: the same card).
    await tab.byTestId('nav-bind').click();
    await tab.page.waitForURL(/bind\.html/);
    await waitForReady(tab, 30_000);
    await waitForReader(tab, 'card');
    expect(await tab.byTestId('demo-card-lock').getAttribute('data-lock')).toBe('usable');
    await typeInto(tab, 'account', 'carried-over');
    await typeInto(tab, 'pin', DEMO.pin);
    await press(tab, 'verify');
    const wrong = await waitForError(tab, 'apdu/pin-incorrect');
    expect(wrong.text).toContain('2');
    await typeInto(tab, 'pin', PIN);
    await press(tab, 'verify');
    await waitForSuccess(tab, 30_000);
    await waitForTries(tab, { pin: 3 });
    // Between pages only: while a page is open, the card is not in web storage.
    await expectNoSecrets(tab.page, [PIN], PUBLIC_TEXT);
    await finishTab(tab);
  });

  it('unlocks a locked card: card number + user code, new PIN twice -> 變更PIN碼(解鎖卡)成功! (both languages)', async () => {
    const tab = await openFlow(app, 'unlock', { state: 'locked' });
    const page = tab.page;
    await waitForTries(tab, { pin: 0, puk: 10 });
    await inBothLanguages(tab, 'unlock-1-identify');

    await identify(tab);
    await tab.byTestId('new-pin').waitFor({ state: 'visible' });
    // A plain reader: the component sends the PUK itself; it is never shown.
    expect(await tab.byTestId('puk-display').count()).toBe(0);
    for (const id of ['new-pin', 'new-pin-confirm']) {
      expect(await pinFieldAttributes(tab, id), id).toEqual({ type: 'password', inputmode: 'numeric', autocomplete: 'off' });
    }
    await expectNoSecrets(page, [DEMO.puk], PUBLIC_TEXT);
    await inBothLanguages(tab, 'unlock-2-new-pin', async () => {
      await tab.byTestId('new-pin').waitFor({ state: 'visible' });
    });

    await typeNewPin(tab, NEW_PIN);
    const text = await waitForSuccess(tab);
    expect(text).toContain('變更PIN碼(解鎖卡)成功!');
    // The card really is unlocked: PIN tries back to 3, no PUK try spent.
    await waitForTries(tab, { pin: 3, puk: 10 });
    await expectNoSecrets(page, [NEW_PIN, DEMO.puk], PUBLIC_TEXT);
    await inBothLanguages(tab, 'unlock-3-success', async (lang) => {
      expect(await waitForSuccess(tab)).toContain(lang === 'zh' ? '變更PIN碼(解鎖卡)成功!' : 'PIN changed (card unlocked)!');
    });
    await finishTab(tab);
  });

  it('checks the card number as typed and the two new PINs before asking the server or the card', async () => {
    const tab = await openFlow(app, 'unlock', { state: 'locked' });
    // Letters in the card number.
    await typeInto(tab, 'card-number', '0000A2345678');
    await typeInto(tab, 'user-code', DEMO.userCode);
    await press(tab, 'next');
    const notDigits = await waitForError(tab);
    expect(notDigits.code).toMatch(/^input\/card-number/);
    // Too short.
    await typeInto(tab, 'card-number', '12345');
    await press(tab, 'next');
    await waitForError(tab, 'input/card-number-length');
    expect(await tab.byTestId('new-pin').count()).toBe(0);

    // A valid number (typed with its GH prefix) goes on; then the two new PINs must agree.
    await identify(tab, DEMO.userCode, `GH${DEMO.cardNumber}`);
    await tab.byTestId('new-pin').waitFor({ state: 'visible' });
    await typeNewPin(tab, NEW_PIN, '480914');
    await waitForError(tab, 'input/pin-mismatch');
    await typeNewPin(tab, '12', '12');
    const short = await waitForError(tab);
    expect(short.code).toBe('input/pin-too-short');
    // Nothing reached the card.
    await waitForTries(tab, { pin: 0, puk: 10 });
    await expectNoSecrets(tab.page, [NEW_PIN, '480914', DEMO.puk], PUBLIC_TEXT);
    await expectAccessible(tab.page, 'unlock input problems');
    await finishTab(tab);
  });

  it('says the user code is wrong (and how many attempts are left), without touching the card', async () => {
    const tab = await openFlow(app, 'unlock', { state: 'locked' });
    await identify(tab, 'demo1234'); // case sensitive
    const err = await waitForError(tab, 'unlock/wrong-user-code');
    expect(err.text).toMatch(/4/); // attemptsLeft from the server: 5 - 1
    expect(await tab.byTestId('new-pin').count()).toBe(0);
    await waitForTries(tab, { pin: 0, puk: 10 });
    await expectAccessible(tab.page, 'unlock wrong user code', { screenshot: 'unlock-error-user-code.zh-TW' });
    await finishTab(tab, [HTTP_ERROR_LINE]);
  });

  it('a card whose PUK is blocked: says it can no longer be unlocked', async () => {
    const tab = await openFlow(app, 'unlock', { state: 'puk-blocked' });
    await identify(tab);
    // Either before asking for a new PIN (status read first) or after.
    const pin = tab.byTestId('new-pin');
    const blocked = tab.page.locator('[data-testid="error"][data-code="hca/puk-blocked"]');
    await Promise.race([pin.waitFor({ state: 'visible' }), blocked.first().waitFor({ state: 'visible' })]);
    if (await pin.isVisible()) await typeNewPin(tab, NEW_PIN);
    const err = await waitForError(tab, 'hca/puk-blocked');
    expect(err.text.length).toBeGreaterThan(10);
    await expectNoSecrets(tab.page, [NEW_PIN, DEMO.puk], PUBLIC_TEXT);
    await expectAccessible(tab.page, 'unlock puk blocked', { screenshot: 'unlock-error-puk-blocked.zh-TW' });
    await finishTab(tab);
  });

  it('the server hands out a PUK that is wrong for this card: PUK tries left shown, PIN unchanged, never retried', async () => {
    const tab = await openFlow(app, 'unlock', { state: 'wrong-puk' });
    await recordCardCommands(tab);
    await waitForTries(tab, { pin: 0, puk: 10 });
    await identify(tab);
    await tab.byTestId('new-pin').waitFor({ state: 'visible' });
    await typeNewPin(tab, NEW_PIN);
    const err = await waitForError(tab, 'hca/puk-incorrect');
    expect(err.text).toMatch(/9/);
    // One PUK try spent, not more (the flow never retries by itself); the PIN stays blocked.
    await waitForTries(tab, { pin: 0, puk: 9 });
    // Once the flow is over (its message shown, the card let go), the card got that one command: no retry.
    expect(await pinCommandsOnceSettled(tab)).toEqual(['RESET RETRY COUNTER']);
    await expectNoSecrets(tab.page, [NEW_PIN, DEMO.puk], PUBLIC_TEXT);
    await expectAccessible(tab.page, 'unlock wrong puk', { screenshot: 'unlock-error-wrong-puk.zh-TW' });
    await finishTab(tab);
  });

  it('the server hands out a PUK that is wrong for this card while the format is unconfirmed (?profile=assumed): PUK tries left shown, PIN unchanged, no second try offered', async () => {
    const tab = await openFlow(app, 'unlock', { state: 'wrong-puk', query: { profile: 'assumed' } });
    await recordCardCommands(tab);
    await waitForTries(tab, { pin: 0, puk: 10 });
    await identify(tab);
    await tab.byTestId('new-pin').waitFor({ state: 'visible' });
    await typeNewPin(tab, NEW_PIN);
    const err = await waitForError(tab, 'hca/profile-unconfirmed');
    expect(err.text).toMatch(/9/);
    // The holder typed no PUK here (the service gave it): the message speaks of the PUK.
    expect(err.text).toMatch(/卡片拒絕了解鎖碼/);
    expect(await tab.byTestId('new-pin').count()).toBe(0);
    expect(await tab.page.locator('[data-testid="error-action"][data-action="field-report"]').count()).toBe(1);
    // One PUK try spent, not more (the flow never retries by itself); the PIN stays blocked.
    await waitForTries(tab, { pin: 0, puk: 9 });
    // Once the flow is over (its message shown, the card let go), the card got that one command: no retry.
    expect(await pinCommandsOnceSettled(tab)).toEqual(['RESET RETRY COUNTER']);
    await expectNoSecrets(tab.page, [NEW_PIN, DEMO.puk], PUBLIC_TEXT);
    await expectAccessible(tab.page, 'unlock wrong puk, format unconfirmed', { screenshot: 'unlock-error-profile-unconfirmed.zh-TW' });
    await finishTab(tab);
  });

  it('the card removed mid-flow: back to the first step with the message, nothing kept', async () => {
    const tab = await openFlow(app, 'unlock', { state: 'locked' });
    await identify(tab);
    await tab.byTestId('new-pin').waitFor({ state: 'visible' });
    await typeInto(tab, 'new-pin', NEW_PIN);
    await removeCard(tab);
    await waitForReader(tab, 'no-card');
    // Reset to step 1, the removal explained.
    await tab.byTestId('card-number').waitFor({ state: 'visible' });
    expect(await tab.byTestId('new-pin').count()).toBe(0);
    const err = await waitForError(tab);
    expect(err.code).toMatch(/card-absent|card-removed|disconnected/);
    await expectNoSecrets(tab.page, [NEW_PIN, DEMO.puk], PUBLIC_TEXT);
    await expectAccessible(tab.page, 'unlock card removed', { screenshot: 'unlock-card-removed.zh-TW' });
    // The card back: the flow works from the start (still locked: the removal changed nothing).
    await insertCard(tab);
    await waitForReader(tab, 'card');
    await waitForTries(tab, { pin: 0, puk: 10 });
    await finishTab(tab);
  });
});
