/**
 * The flows on a reader with a PIN pad (demo state "pinpad": the virtual
 * Gemplus GemPC Pinpad; the demo panel stands in for its keys): unlock (the
 * PUK shown, then keyed on the reader with the new PIN twice), change PIN on
 * the reader, and the reader's own outcomes: cancel key, time-out, a wrong PIN
 * keyed on the reader. No PIN or PUK typed into the page; nothing left in the
 * page afterwards (the PUK display gone after success); axe-clean.
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
  waitForSuccess,
  type Tab,
} from './harness.js';
import {
  inBothLanguages,
  keyOnReader,
  openFlow,
  pinCommandsOnceSettled,
  PUBLIC_TEXT,
  recordCardCommands,
  refuseOnReader,
  waitForTries,
} from './flows.js';

const NEW_PIN = '731904';

async function expectPinpadReader(tab: Tab): Promise<void> {
  const note = tab.page.locator('[data-testid="reader-pinpad"][data-pinpad="yes"]').first();
  await note.waitFor({ state: 'visible' });
}

browserSuite('browser: flows on a PIN-pad reader', (app) => {
  it('unlock: the PUK is shown, then PUK and new PIN keyed on the reader -> success (both languages)', async () => {
    const tab = await openFlow(app, 'unlock', { state: 'pinpad' });
    const page = tab.page;
    await expectPinpadReader(tab);
    await typeInto(tab, 'card-number', DEMO.cardNumber);
    await typeInto(tab, 'user-code', DEMO.userCode);
    await press(tab, 'next');
    const puk = tab.byTestId('puk-display');
    await puk.waitFor({ state: 'visible' });
    expect((await puk.innerText()).replace(/\s/g, '')).toBe(DEMO.puk);
    // No PIN field on the page: everything is keyed on the reader.
    expect(await tab.byTestId('new-pin').count()).toBe(0);
    await inBothLanguages(tab, 'unlock-pinpad-puk', async () => {
      expect((await puk.innerText()).replace(/\s/g, '')).toBe(DEMO.puk);
    });
    await press(tab, 'submit');
    await keyOnReader(tab, 'current', DEMO.puk);
    await keyOnReader(tab, 'new', NEW_PIN);
    await keyOnReader(tab, 'confirm', NEW_PIN);
    expect(await waitForSuccess(tab)).toContain('變更PIN碼(解鎖卡)成功!');
    await waitForTries(tab, { pin: 3, puk: 10 });
    // The PUK is not shown any more, and nothing typed is left (the reader keypad's field included).
    expect(await tab.byTestId('puk-display').count()).toBe(0);
    await expectNoSecrets(page, [DEMO.puk, NEW_PIN], PUBLIC_TEXT);
    await inBothLanguages(tab, 'unlock-pinpad-success', async (lang) => {
      expect(await waitForSuccess(tab)).toContain(lang === 'zh' ? '變更PIN碼(解鎖卡)成功!' : 'PIN changed (card unlocked)!');
    });
    await finishTab(tab);
  });

  it('change PIN on the reader: current, new, confirmation keyed there -> success; the new PIN works', async () => {
    const tab = await openFlow(app, 'change-pin', { state: 'pinpad' });
    const page = tab.page;
    await expectPinpadReader(tab);
    expect(await tab.byTestId('old-pin').count()).toBe(0);
    await expectAccessible(page, 'change-pin pinpad', { screenshot: 'change-pin-pinpad.zh-TW' });
    await press(tab, 'submit');
    await keyOnReader(tab, 'current', DEMO.pin);
    await keyOnReader(tab, 'new', NEW_PIN);
    await keyOnReader(tab, 'confirm', NEW_PIN);
    expect(await waitForSuccess(tab)).toContain('變更PIN碼成功!');
    await waitForTries(tab, { pin: 3 });
    // Change it back with the new PIN: it is the card's PIN now.
    await press(tab, 'restart');
    await press(tab, 'submit');
    await keyOnReader(tab, 'current', NEW_PIN);
    await keyOnReader(tab, 'new', DEMO.pin);
    await keyOnReader(tab, 'confirm', DEMO.pin);
    await waitForSuccess(tab);
    await expectNoSecrets(page, [NEW_PIN, DEMO.pin], PUBLIC_TEXT);
    await finishTab(tab);
  });

  it('the reader’s cancel key and time-out each get their message; the card is untouched', async () => {
    const tab = await openFlow(app, 'change-pin', { state: 'pinpad' });
    await press(tab, 'submit');
    await refuseOnReader(tab, 'current', 'cancel');
    const cancelled = await waitForError(tab, 'ccid/pin-cancelled');
    expect(cancelled.text.length).toBeGreaterThan(5);
    await expectAccessible(tab.page, 'pinpad cancelled', { screenshot: 'change-pin-pinpad-cancelled.zh-TW' });
    await press(tab, 'submit');
    await refuseOnReader(tab, 'current', 'timeout');
    const timedOut = await waitForError(tab, 'ccid/pin-timeout');
    expect(timedOut.text.length).toBeGreaterThan(5);
    await waitForTries(tab, { pin: 3 });
    await finishTab(tab);
  });

  it('a wrong PIN keyed on the reader: tries left shown, one try spent, not retried', async () => {
    const tab = await openFlow(app, 'change-pin', { state: 'pinpad' });
    await recordCardCommands(tab);
    await press(tab, 'submit');
    await keyOnReader(tab, 'current', '000000');
    await keyOnReader(tab, 'new', NEW_PIN);
    await keyOnReader(tab, 'confirm', NEW_PIN);
    const err = await waitForError(tab, 'apdu/pin-incorrect');
    expect(err.text).toContain('還可以再試 2 次');
    await waitForTries(tab, { pin: 2 });
    // Once the flow is over (its message shown, the card let go), the card got that one command: no retry.
    expect(await pinCommandsOnceSettled(tab)).toEqual(['CHANGE REFERENCE DATA']);
    await expectNoSecrets(tab.page, ['000000', NEW_PIN], PUBLIC_TEXT);
    await finishTab(tab);
  });

  it('a PIN keyed on the reader and refused while the format is unconfirmed (?profile=assumed): tries left shown, one try spent, no second try offered', async () => {
    const tab = await openFlow(app, 'change-pin', { state: 'pinpad', query: { profile: 'assumed' } });
    await recordCardCommands(tab);
    await press(tab, 'submit');
    await keyOnReader(tab, 'current', '000000');
    await keyOnReader(tab, 'new', NEW_PIN);
    await keyOnReader(tab, 'confirm', NEW_PIN);
    const err = await waitForError(tab, 'hca/profile-unconfirmed');
    expect(err.text).toMatch(/2/);
    expect(await tab.byTestId('submit').count()).toBe(0);
    await waitForTries(tab, { pin: 2 });
    // Once the flow is over (its message shown, the card let go), the card got that one command: no retry.
    expect(await pinCommandsOnceSettled(tab)).toEqual(['CHANGE REFERENCE DATA']);
    await expectNoSecrets(tab.page, ['000000', NEW_PIN], PUBLIC_TEXT);
    await finishTab(tab);
  });
});
