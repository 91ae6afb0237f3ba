/**
 * The bind flow (bind.html, <hca-bind-card>) through the reference server's
 * challenge and verifier: register an account bound to the card (the server
 * really holds the binding: checked with GET /api/bind/binding), re-bind from
 * account management with an institution card, a version 1 card; the
 * failures: wrong card type selected (no PIN try spent), wrong PIN (tries
 * left, never retried), locked card (leads to unlock), expired certificate
 * (the server's verifier refuses), not an HCA card, no account, the card
 * already bound to another account, the card pulled out. No PIN left in the
 * page; axe-clean; screenshots in both languages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEMO,
  expectAccessible,
  expectNoSecrets,
  FLOW_TIMEOUT,
  HTTP_ERROR_LINE,
  press,
  screenshot,
  SKIP,
  START_TIMEOUT,
  startApp,
  suiteTitle,
  typeInto,
  unexpectedErrors,
  waitForError,
  waitForSuccess,
  type App,
  type Tab,
} from './harness.js';
import { inBothLanguages, openFlow, pinFieldAttributes, PUBLIC_TEXT, removeCard, unlockAction, waitForReader, waitForTries } from './flows.js';

interface ServerBinding {
  account: string;
  holderName: string;
  cardType: string;
  cardNumber?: string;
  fingerprint: string;
}

async function serverBinding(app: App, account: string): Promise<ServerBinding | undefined> {
  const res = await fetch(`${app.url}/api/bind/binding?account=${encodeURIComponent(account)}`);
  if (res.status === 404) return undefined;
  expect(res.status).toBe(200);
  return ((await res.json()) as { binding: ServerBinding }).binding;
}

async function verify(tab: Tab, type: 'personnel' | 'institution', pin: string = DEMO.pin): Promise<void> {
  await tab.byTestId(`card-type-${type}`).check();
  await typeInto(tab, 'pin', pin);
  await press(tab, 'verify');
}

/** The browser logs the server's 4xx answers as console errors (404 not-bound when the rebind page loads an account, 409, 422). */
const ALLOW_HTTP = [HTTP_ERROR_LINE];

describe.skipIf(SKIP)(suiteTitle('browser: bind flow'), { timeout: FLOW_TIMEOUT }, () => {
  let app: App;
  beforeAll(async () => {
    app = await startApp();
  }, START_TIMEOUT);
  afterAll(async () => {
    await app?.close();
  });

  it('register: account, card type, PIN, 驗證 -> verified by the server, bound, shown (both languages)', async () => {
    const account = 'nurse-01';
    const tab = await openFlow(app, 'bind', { state: 'normal' });
    const page = tab.page;
    await inBothLanguages(tab, 'bind-1-register');
    // The card's PIN may have letters (HCA: 6 to 8 letters and digits): the text keyboard on a phone.
    expect(await pinFieldAttributes(tab, 'pin')).toEqual({ type: 'password', inputmode: 'text', autocomplete: 'off' });
    await typeInto(tab, 'account', account);
    await typeInto(tab, 'email', `${account}@example.org`);
    await verify(tab, 'personnel');
    expect(await waitForSuccess(tab, 30_000)).toContain('驗證成功');
    expect(await tab.byTestId('holder').innerText()).toContain(DEMO.holderName);
    expect((await tab.byTestId('validity').innerText()).trim()).toMatch(/\d{4}/);
    await waitForTries(tab, { pin: 3 });
    await expectNoSecrets(page, [DEMO.pin], PUBLIC_TEXT);
    await inBothLanguages(tab, 'bind-2-verified', async (lang) => {
      expect(await waitForSuccess(tab)).toContain(lang === 'zh' ? '驗證成功' : 'Verified');
    });

    // The server holds the binding the card signed for.
    const bound = await serverBinding(app, account);
    expect(bound).toMatchObject({ account, holderName: DEMO.holderName, cardType: 'personnel', cardNumber: DEMO.cardNumber });
    expect(bound?.fingerprint).toMatch(/^[0-9a-f]{64}$/i);

    await press(tab, 'register-submit');
    await tab.byTestId('registered').waitFor({ state: 'visible' });
    expect(await tab.byTestId('registered-account').innerText()).toBe(account);
    expect(await tab.byTestId('bound-holder').innerText()).toContain(DEMO.holderName);
    expect((await tab.byTestId('bound-validity').innerText()).trim()).toMatch(/\d{4}/);
    await expectNoSecrets(page, [DEMO.pin], PUBLIC_TEXT);
    await inBothLanguages(tab, 'bind-3-registered', async () => {
      await tab.byTestId('registered').waitFor({ state: 'visible' });
    });
    expect(unexpectedErrors(tab)).toEqual([]);
    await tab.close();
  });

  it('account management: re-bind with an institution card replaces the binding; then the same card for another account is refused', async () => {
    const tab = await openFlow(app, 'bind', { state: 'institution', query: { mode: 'rebind' } });
    const page = tab.page;
    await typeInto(tab, 'signed-in-account', 'clinic-01');
    await press(tab, 'switch-account');
    await tab.byTestId('no-binding').waitFor({ state: 'visible' });
    await verify(tab, 'institution');
    await waitForSuccess(tab, 30_000);
    expect(await tab.byTestId('holder').innerText()).toContain('虛擬醫院');
    await tab.byTestId('current-binding').waitFor({ state: 'visible' });
    expect(await tab.byTestId('bound-holder').innerText()).toContain('虛擬醫院');
    expect(await serverBinding(app, 'clinic-01')).toMatchObject({ cardType: 'institution', holderName: '虛擬醫院' });
    await expectAccessible(page, 'bind rebind');
    await screenshot(page, 'bind-rebind.zh-TW');

    // One account per card certificate: another account cannot take this card.
    await typeInto(tab, 'signed-in-account', 'clinic-02');
    await press(tab, 'switch-account');
    await tab.byTestId('no-binding').waitFor({ state: 'visible' });
    const restart = tab.byTestId('restart');
    if (await restart.isVisible()) await restart.click();
    await verify(tab, 'institution');
    await waitForError(tab, 'bind/already-bound', 30_000);
    expect(await serverBinding(app, 'clinic-02')).toBeUndefined();
    await expectNoSecrets(page, [DEMO.pin], PUBLIC_TEXT);
    expect(unexpectedErrors(tab, ALLOW_HTTP)).toEqual([]);
    await tab.close();
  });

  it('a version 1 card (two certificates) binds too', async () => {
    const tab = await openFlow(app, 'bind', { state: 'version1', query: { mode: 'rebind' } });
    await typeInto(tab, 'signed-in-account', 'doctor-v1');
    await press(tab, 'switch-account');
    await verify(tab, 'personnel');
    await waitForSuccess(tab, 30_000);
    expect(await serverBinding(app, 'doctor-v1')).toMatchObject({ cardType: 'personnel' });
    expect(unexpectedErrors(tab, ALLOW_HTTP)).toEqual([]);
    await tab.close();
  });

  it('the wrong card type selected: said clearly, no PIN try spent, nothing bound', async () => {
    const tab = await openFlow(app, 'bind', { state: 'normal' });
    await typeInto(tab, 'account', 'wrong-type');
    await verify(tab, 'institution');
    const err = await waitForError(tab, 'bind/wrong-card-type', 30_000);
    expect(err.text).toMatch(/醫事人員卡/);
    await waitForTries(tab, { pin: 3 });
    expect(await serverBinding(app, 'wrong-type')).toBeUndefined();
    await expectNoSecrets(tab.page, [DEMO.pin], PUBLIC_TEXT);
    await expectAccessible(tab.page, 'bind wrong type');
    await screenshot(tab.page, 'bind-error-wrong-type.zh-TW');
    expect(unexpectedErrors(tab)).toEqual([]);
    await tab.close();
  });

  it('a wrong PIN: tries left, one try spent, not retried, nothing bound', async () => {
    const tab = await openFlow(app, 'bind', { state: 'normal' });
    await typeInto(tab, 'account', 'wrong-pin');
    await verify(tab, 'personnel', '999999');
    const err = await waitForError(tab, 'apdu/pin-incorrect', 30_000);
    expect(err.text).toMatch(/2/);
    await waitForTries(tab, { pin: 2 });
    await tab.page.waitForTimeout(300);
    await waitForTries(tab, { pin: 2 });
    expect(await serverBinding(app, 'wrong-pin')).toBeUndefined();
    await expectNoSecrets(tab.page, ['999999'], PUBLIC_TEXT);
    await expectAccessible(tab.page, 'bind wrong pin');
    await screenshot(tab.page, 'bind-error-wrong-pin.zh-TW');
    expect(unexpectedErrors(tab)).toEqual([]);
    await tab.close();
  });

  it('a locked card: says so and leads to the unlock page', async () => {
    const tab = await openFlow(app, 'bind', { state: 'locked' });
    await typeInto(tab, 'account', 'locked-card');
    await verify(tab, 'personnel');
    await waitForError(tab, 'apdu/pin-blocked', 30_000);
    await unlockAction(tab).click();
    await tab.page.waitForURL(/unlock\.html/);
    await tab.byTestId('card-number').waitFor({ state: 'visible' });
    await waitForTries(tab, { pin: 0 });
    expect(unexpectedErrors(tab)).toEqual([]);
    await tab.close();
  });

  it('an expired certificate: the server’s verifier refuses it with its code', async () => {
    const tab = await openFlow(app, 'bind', { state: 'expired' });
    await typeInto(tab, 'account', 'expired-card');
    await verify(tab, 'personnel');
    const err = await waitForError(tab, undefined, 30_000);
    expect(err.code).toMatch(/expired/);
    expect(await serverBinding(app, 'expired-card')).toBeUndefined();
    await expectAccessible(tab.page, 'bind expired');
    await screenshot(tab.page, 'bind-error-expired.zh-TW');
    expect(unexpectedErrors(tab, ALLOW_HTTP)).toEqual([]);
    await tab.close();
  });

  it('not an HCA card: says so', async () => {
    const tab = await openFlow(app, 'bind', { state: 'not-hca' });
    await typeInto(tab, 'account', 'not-hca');
    await verify(tab, 'personnel');
    await waitForError(tab, 'hca/not-hca-card', 30_000);
    await expectNoSecrets(tab.page, [DEMO.pin], PUBLIC_TEXT);
    expect(unexpectedErrors(tab)).toEqual([]);
    await tab.close();
  });

  it('register without an account: the card is not bound and the page says what is missing', async () => {
    const tab = await openFlow(app, 'bind', { state: 'normal' });
    await press(tab, 'register-submit');
    await tab.byTestId('register-problem').waitFor({ state: 'visible' });
    await verify(tab, 'personnel');
    const err = await waitForError(tab, undefined, 30_000);
    expect(err.code).toMatch(/^bind\/(no-account|bad-account)$/);
    expect(await tab.byTestId('success').count()).toBe(0);
    await expectNoSecrets(tab.page, [DEMO.pin], PUBLIC_TEXT);
    await expectAccessible(tab.page, 'bind no account');
    expect(unexpectedErrors(tab, ALLOW_HTTP)).toEqual([]);
    await tab.close();
  });

  it('the card pulled out while the (slow) card signs: the message, the PIN field empty, nothing bound', async () => {
    const tab = await openFlow(app, 'bind', { state: 'slow' });
    await typeInto(tab, 'account', 'pulled-out');
    await verify(tab, 'personnel');
    await tab.byTestId('progress').waitFor({ state: 'visible' });
    await removeCard(tab);
    await waitForReader(tab, 'no-card');
    const err = await waitForError(tab, undefined, 30_000);
    expect(err.code).toMatch(/card-absent|card-removed|disconnected|not-connected|aborted/);
    await tab.byTestId('pin').waitFor({ state: 'visible' });
    expect(await serverBinding(app, 'pulled-out')).toBeUndefined();
    await expectNoSecrets(tab.page, [DEMO.pin], PUBLIC_TEXT);
    await expectAccessible(tab.page, 'bind card removed');
    expect(unexpectedErrors(tab)).toEqual([]);
    await tab.close();
  });
});
